"""What a document template receives: a derivation's parts as LaTeX strings, numbers and checks.

Plain data only; :mod:`derive.present.document` fills it from the derivation's
record and the check report, and the templates under ``templates/`` word it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from derive.check.gradients import DIGITS, CheckReport, ParameterCheck

RELATIONS = {"=": "=", ":=": ":=", "<-": r"\leftarrow"}
"""An Equation's relation as LaTeX: an update w ← w − η ∂C/∂w is not an equality."""


@dataclass(frozen=True)
class Verified:
    """How one result was checked: sympy's own derivative and finite differences."""

    symbolic: str  # "exact", "digits", "skipped" or "failed"
    fd_error: float | None
    tolerance: float
    passed: bool
    digits: int = DIGITS


def verified(p: ParameterCheck | None, tolerance: float) -> Verified | None:
    """How one parameter's closed form was checked (None when it was not)."""
    return None if p is None else Verified(p.symbolic, p.fd_error, tolerance, p.passed)


@dataclass(frozen=True)
class CheckSummary:
    """A group of parameters' checks counted once in Python (a 784-100-10 network has 79,510 of them): how many,
    whether all passed, how many sympy found exact, equal to 30 digits or different, whether it skipped them all,
    and the largest finite-difference error (None when none was sampled)."""

    count: int
    passed: bool
    exact: int
    digits: int
    failed: int
    skipped: bool
    fd_max: float | None


def check_summary(items: list[ParameterCheck]) -> CheckSummary:
    """The summary of one group of checks."""
    counts = {"exact": 0, "digits": 0, "failed": 0, "skipped": 0}
    fd: list[float] = []
    passed = True
    for p in items:
        counts[p.symbolic] = counts.get(p.symbolic, 0) + 1
        passed = passed and p.passed
        if p.fd_error is not None:
            fd.append(p.fd_error)
    skipped = counts["skipped"] == len(items)
    return CheckSummary(
        len(items), passed, counts["exact"], counts["digits"], counts["failed"], skipped, max(fd, default=None)
    )


@dataclass(frozen=True)
class Eq:
    """One displayed equation; ``check`` when derive verified it."""

    lhs: str
    rel: str
    rhs: str
    check: Verified | None = None
    matrix_ok: bool | None = None
    # The right side broken into lines where it is too wide for one (in a block of several rows), else empty.
    lines: tuple[str, ...] = ()


DOTS = Eq(r"\vdots", "", "")
"""The row that stands for the rows left out of a long list of equations (a wide layer's parameters)."""


@dataclass(frozen=True)
class Penalty:
    """What a document shows of the spec's L2 penalty, as LaTeX."""

    form: str  # the registry's name: half, plain, half_over_m
    biases: bool  # whether the biases are in the penalty
    lam: str  # λ
    l2: Eq  # λ = its value
    penalty: Eq  # R = scale (‖W^{(1)}‖² + …)
    coefficient: str  # ∂R/∂θ's factor of θ: λ, 2λ or λ/m
    step: list[Eq]  # ∂R/∂W^{(l)}_{ij} = coefficient · W^{(l)}_{ij} (and ∂R/∂b^{(l)}_i)
    gradient: list[Eq]  # ∂J/∂W^{(l)}_{ij} = (1/m) Σ_s ∂C^{(s)}/∂W^{(l)}_{ij} + coefficient · W^{(l)}_{ij} (and b)
    matrix: dict[int, list[Eq]]  # by layer: ∂J/∂W^{(l)} = (1/m) Σ_s ∂C^{(s)}/∂W^{(l)} + coefficient · W^{(l)}
    decay: list[Eq]  # by layer: W^{(l)} ← (1 − η · coefficient) W^{(l)} − η (1/m) Σ_s ∂C^{(s)}/∂W^{(l)}


@dataclass(frozen=True)
class Factor:
    """One factor of a chain rule and its value."""

    factor: str
    value: str


@dataclass(frozen=True)
class Gradient:
    """Everything shown for one weight or bias."""

    name: str
    symbol: str
    is_bias: bool
    chain: Eq
    factors: list[Factor]
    product: Eq
    delta_form: Eq
    closed: Eq | None
    check: Verified | None


@dataclass(frozen=True)
class LayerRow:
    """One row of the notation table."""

    layer: int
    units: int
    activation: str
    activation_latex: str
    weight: str
    weight_shape: str
    bias: str | None
    z: str
    a: str
    delta: str


@dataclass(frozen=True)
class Recursion:
    """δ of one hidden layer from the next: per neuron, its named factors, in matrix form."""

    layer: int
    z: str
    eqs: list[Eq]
    factors: list[Factor]
    matrix: list[Eq]


@dataclass(frozen=True)
class ExampleRow:
    """One line of the worked example: the quantity, its formula, its value."""

    kind: str
    layer: int | None
    lhs: str
    formula: str
    value: str
    rel: str = "="  # LaTeX of the relation: the update step's is ←


@dataclass(frozen=True)
class Vanishing:
    """Article 004's remark made exact: how much δ can shrink per layer going back."""

    layers: list[tuple[int, str, str]]  # (layer, activation LaTeX, bound on g')
    bound: Eq  # the bound on ||δ^{(1)}|| in terms of ||δ^{(L)}|| and the weights
    shrink_percent: int  # at least this much lost per layer with weights of norm 1
    measured: list[tuple[int, float, float]]  # (layer, ||δ^{(l)}||∞, bound at this point), from the example
    norm: Eq  # the weight norm in the bound: the printed matrix's largest column (to-from) or row (from-to) sum
    # With weights of norm at most 1, the share of the error term lost by layer l at the least, the derivatives'
    # bounds alone: (layer, "1 - 0.25^{2}", "93.75"), from the output back (article 004's 75% and 93.75%).
    cumulative: list[tuple[int, str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class OpCount:
    """Multiply-adds of one sample for the declared sizes: a forward pass, backpropagation, finite differences.

    Only the products of weights with activations are counted (the bulk of the work); activations, their
    derivatives, the biases and the cost add a few operations per neuron.
    """

    sizes: tuple[int, ...]  # n^{(0)}, …, n^{(L)}
    parameters: int  # P: every weight, and every bias where the network has them
    forward: int  # F = Σ_l n^{(l)} n^{(l-1)}: one multiply-add per weight
    recursion: int  # δ^{(l)} from δ^{(l+1)} through the transposed weights, l = L−1 … 1: Σ_{l≥2} n^{(l)} n^{(l-1)}
    equations: list[Eq]  # F, P, B, F + B and 2PF, written out for this network

    @property
    def backward(self) -> int:
        """B: the weight gradients δ_j a_k (one multiplication per weight, F) and the recursion; at most 2F."""
        return self.forward + self.recursion

    @property
    def backprop(self) -> int:
        """One forward and one backward pass."""
        return self.forward + self.backward

    @property
    def central(self) -> int:
        """Central finite differences, (C(θ + h) − C(θ − h))/2h for each parameter: 2P forward passes."""
        return 2 * self.parameters * self.forward

    @property
    def one_sided(self) -> int:
        """One-sided finite differences, (C(θ + h) − C(θ))/h: P + 1 forward passes."""
        return (self.parameters + 1) * self.forward

    @property
    def ratio(self) -> int:
        """How many times backpropagation's work central finite differences take, rounded."""
        return round(self.central / self.backprop)


@dataclass(frozen=True)
class Exercise:
    """One exercise whose answer ``derive verify`` checks: what to write, and a right answer (not printed)."""

    kind: str  # "output delta", "hidden delta" or "weight"
    param: str  # the canonical name ``derive verify`` takes: delta2[1], W1[1,1]
    symbol: str  # LaTeX of the quantity in the reader's notation
    answer: str  # LaTeX of a right answer, in the reader's notation (the derivation's own form)
    layer: int
    named: str = ""  # LaTeX of what ``param`` names (δ, or the weight), so that the reader can map the two


@dataclass(frozen=True)
class Flat:
    """Where a layer's activation derivative g′ is zero or close to it, read from its registry entry."""

    layer: int
    activation: str  # the registry name (for its words)
    latex: str  # g, as the formulas write it
    low: bool  # g′(z) → 0 as z → −∞ (saturated below)
    high: bool  # g′(z) → 0 as z → +∞ (saturated above)
    dead: bool  # g′(z) = 0 exactly for z < 0, and g(z) = 0 there
    bound: str | None  # LaTeX of the largest g′ where it is below 1 (¼ for the sigmoid)
    output_range: tuple[str | None, str | None]  # the ends of its range (None where unbounded), as LaTeX

    @property
    def slows(self) -> bool:
        return self.low or self.high or self.dead


@dataclass(frozen=True)
class Implications:
    """What the key equations imply for the declared activations and loss (Nielsen's reading of them)."""

    output: Flat | None  # the output layer's g′ inside δ^{(L)}; None where the loss cancels it or it couples the layer
    cancelled: bool  # the loss's matching simplification leaves δ^{(L)} = a − y: no slowdown from saturation
    hidden: list[Flat]  # hidden layers, first to last
    zero_outputs: bool  # some hidden activation outputs exactly 0 (a ReLU neuron that is off)


@dataclass
class Document:
    """All a template needs, in reading order."""

    name: str
    title: str
    title_zh: str
    sizes: tuple[int, ...]
    depth: int
    loss: str
    targets: str  # the kind of targets (rules.targets): one-hot ones and labels are said in the cost's section
    activations: list[str]
    bias: bool
    notation: dict[str, object]
    symbols: dict[str, str]
    parameter_count: int
    layers: list[LayerRow]
    svg: str
    tikz: str
    forward_neurons: list[tuple[int, list[Eq], bool]]  # (layer, equations, all neurons shown)
    forward_matrix: list[tuple[int, list[Eq]]]
    cost: Eq
    batch_cost: Eq
    delta_general: Eq
    simplifications: list[tuple[str, list[Eq], Eq | None]]
    output_delta: list[Eq]
    output_delta_matrix: list[Eq]
    sharing: list[Eq]
    recursion: list[Recursion]
    gradients: list[tuple[int, list[Gradient], bool, list[Eq]]]
    general_index: list[Eq]
    general: list[Eq]
    updates: list[Eq]
    report: CheckReport
    check_groups: list[tuple[str, list]]
    matrix_checks: list[tuple[str, int | None, bool]]
    example: list[ExampleRow] = field(default_factory=list)
    example_check: float | None = None
    learning_rate: str | None = None
    vanishing: Vanishing | None = None
    # The activations (names, in layer order) that couple a layer, so that the general forms use the Jacobian.
    layer_valued: list[str] = field(default_factory=list)
    # The sections of the body and of the appendix, in order (keys of derive.model.document.SECTIONS), those
    # that have something to show; and the detail of the gradients ("compact" or "full").
    sections: list[str] = field(default_factory=list)
    appendix: list[str] = field(default_factory=list)
    detail: str = "compact"
    # Why backprop is cheap for these sizes (section "cost"), the exercises (section "exercises") with their
    # spec's file name for the command line, and what the key equations imply (sentences after them).
    op_count: OpCount | None = None
    exercises: list[Exercise] = field(default_factory=list)
    spec_file: str = ""
    implications: Implications | None = None
    # Article 003's and 004's own steps (derive.present.article_steps), filled when a spec's [document] asks for them.
    jacobian_definition: list[Eq] = field(default_factory=list)  # ∂y/∂x of y = f(x), p × q; the chain rule
    jacobians: list[tuple[int, Eq]] = field(default_factory=list)  # (layer, ∂a/∂z = its entries)
    jacobian_chain: list[Eq] = field(default_factory=list)  # ∂a^{(2)}/∂z^{(1)} through layer 2, as factors
    score: list[Eq] = field(default_factory=list)  # h := a^{(L)}, h = g(z^{(L)}), h_1 = …, the cost in h
    score_in_forward: bool = False  # shown inside the forward pass, before the cost
    layerwise: list[tuple[str, int, list[Eq]]] = field(default_factory=list)  # (kind, layer, equations)
    procedure_forward: list[tuple[str, int | None, list[Eq]]] = field(default_factory=list)
    procedure_backward: list[tuple[str, int | None, list[Eq]]] = field(default_factory=list)
    change_general: Eq | None = None  # Δw_{ij} = η δ_j x_i
    changes: list[tuple[int, list[Eq]]] = field(default_factory=list)  # Δw^{(l)} entry by entry (= its values), from L
    change_values: list[tuple[int, Eq]] = field(default_factory=list)  # Δw at the example, as NumPy prints it
    # Compact detail on a small network: by layer, the parameters not derived in full (their symbol, and their
    # gradient ∂C/∂w = δ a in the δ form), in the order of the record's parameters.
    gradient_table: dict[int, list[tuple[str, Eq]]] = field(default_factory=dict)
    # The picture again with the worked example's numbers on it (SVG; "" without an example).
    example_svg: str = ""
    # When the picture truncates a layer: (the widest layer drawn whole, the neurons drawn before the ellipsis).
    picture_cut: tuple[int, int] | None = None
    # The spec's L2 penalty (derive.present.regularization): R, ∂R/∂θ, ∂J/∂θ, the weight decay; None without one.
    penalty: Penalty | None = None
    # When a layer is wide enough for its sums and matrices to be elided: derive.present.elision's numbers by name
    # (wide, first, long_sum, sum_last), for the sentence that says so.
    elision: dict[str, int] | None = None
    # Sections of single articles (article 001's identities, article 002's one neuron and its common factor).
    identities: Identities | None = None
    warmup: Warmup | None = None
    common_factor: CommonFactor | None = None


@dataclass(frozen=True)
class Identities:
    """Article 001's one idea: the two layer-level identities of δ, then each instantiated for the network.

    ``general`` states ∂C/∂θ and the recursion for any layer in the notation's numbering; ``weights`` holds one
    instance per weight matrix (its first weight: ∂C/∂θ_{11} = δ_1 ∂z_1/∂θ_{11} = δ_1 a_1), output first;
    ``recursion`` one per hidden layer (δ_1 = Σ_i δ_i ∂z_i/∂z_1 = …). ``source``: weights are numbered by the
    layer they leave (θ^{(l)} from layer l to layer l + 1).
    """

    general: list[Eq]
    weights: list[Eq]
    recursion: list[Eq]
    source: bool
    forward: str  # z^{(l+1)} = θ^{(l)} a^{(l)} (+ b^{(l+1)}) in the notation, for the prose
    theta: str  # the weights between layers l and l + 1, θ^{(l)} (or W^{(l+1)})


@dataclass(frozen=True)
class Warmup:
    """Article 002's start: one sigmoid neuron (logistic regression) derived by the same engine.

    The update rule comes before anything derived; then the chain rule in three factors for one weight, its
    product, and the closed forms of every parameter (each checked on the one-neuron network).
    """

    sizes: tuple[int, ...]
    forward: list[Eq]
    cost: Eq
    rules: list[Eq]
    chain: Eq
    factors: list[Factor]
    product: Eq
    closed: list[Eq]
    updates: list[Eq]
    symbols: dict[str, str]


@dataclass(frozen=True)
class CommonFactor:
    """Article 002's discovery: the gradients of one output neuron's parameters share a factor, named δ."""

    layer: int
    closed: list[Eq]  # the closed forms of the neuron's weights (and bias)
    factor: str  # the shared factor, ∂C/∂z of that neuron
    delta: Eq  # δ := ∂C/∂z = the shared factor
    delta_forms: list[Eq]  # the same gradients written with δ
