"""What a document template receives: a derivation's parts as LaTeX strings, numbers and checks.

Plain data only; :mod:`derive.present.document` fills it from the derivation's
record and the check report, and the templates under ``templates/`` word it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from derive.check.gradients import DIGITS, CheckReport


@dataclass(frozen=True)
class Verified:
    """How one result was checked: sympy's own derivative and finite differences."""

    symbolic: str  # "exact", "digits", "skipped" or "failed"
    fd_error: float | None
    tolerance: float
    passed: bool
    digits: int = DIGITS


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


@dataclass(frozen=True)
class Vanishing:
    """Article 004's remark made exact: how much δ can shrink per layer going back."""

    layers: list[tuple[int, str, str]]  # (layer, activation LaTeX, bound on g')
    bound: Eq  # the bound on ||δ^{(1)}|| in terms of ||δ^{(L)}|| and the weights
    shrink_percent: int  # at least this much lost per layer with weights of norm 1
    measured: list[tuple[int, float, float]]  # (layer, ||δ^{(l)}||∞, bound at this point), from the example
    norm: Eq  # the weight norm in the bound: the printed matrix's largest column (to-from) or row (from-to) sum


@dataclass
class Document:
    """All a template needs, in reading order."""

    name: str
    title: str
    title_zh: str
    sizes: tuple[int, ...]
    depth: int
    loss: str
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
