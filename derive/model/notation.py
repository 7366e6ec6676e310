"""How the reader writes things. It changes documents and formula reading only."""

from __future__ import annotations

import re
from dataclasses import dataclass

from derive.errors import SpecError

# A node's letter is typeset in math mode (LaTeX, TikZ, MathML, SVG) and read back in formulas:
# plain ASCII letters are safe and mean the same everywhere; anything else could be markup or a command.
_LETTER = re.compile(r"[A-Za-z]{1,3}\Z")

# Each weight letter as LaTeX and as plain text (documents, formula hints; verdicts).
WEIGHT_SPELLINGS: dict[str, tuple[str, str]] = {"W": ("W", "W"), "w": ("w", "w"), "theta": (r"\theta", "θ")}

# The quantities written as one Latin letter beside a node's subscript (x_a, z_c, a_c, b_c, e_c), each with the
# spellings it takes in turn when node letters already use the one before: a node letter is never also a
# quantity's letter. The last spelling is Greek, which no node letter (ASCII only) can be.
QUANTITY_SPELLINGS: dict[str, tuple[str, ...]] = {
    "x": ("x", r"\xi"),
    "z": ("z", r"\zeta"),
    "a": ("a", "o", r"\alpha"),
    "b": ("b", r"\beta"),
    "e": ("e", r"\varepsilon"),  # the error shared back by weight (article 000's picture)
}

# The letters of the general forms' neuron indices, by the neurons they count (engine.forms.Index): each has
# one meaning in a document, and a weight is written with i and j in the order the notation reads them
# (to_from: W_{ij} into i from j, article 003; from_to: w_{ij} from i to j, article 004). k always counts
# layer l + 1 (the recursion's sum), r another neuron of layer l's own (a softmax couples them).
INDEX_LETTERS: dict[str, dict[str, str]] = {
    "to_from": {"current": "i", "previous": "j", "next": "k", "other": "r"},
    "from_to": {"current": "j", "previous": "i", "next": "k", "other": "r"},
}

# layer_marker = "index" (Bishop's PRML §5.3): in a network with one hidden layer a quantity written without a layer
# takes it from its index letter, k the output units, j the hidden units, i the inputs (δ_k, δ_j, w_{kj}, w_{ji}, x_i).
ROLE_LETTERS: dict[str, str] = {"k": "output", "j": "hidden", "i": "input"}

# The output choices written as one plain letter (a follows the activation's spelling; ŷ is decorated).
OUTPUT_LETTERS = {"y": "y", "o": "o", "p": "p"}  # p: cs231n's probabilities, the softmax output

CHOICES: dict[str, tuple[str, ...] | tuple[int, ...]] = {
    "weight": tuple(WEIGHT_SPELLINGS),
    "index_order": ("to_from", "from_to"),
    "delta": ("gradient", "error"),
    "cost": ("C", "J", "E", "L"),
    "target": ("y", "t"),
    "output": ("a", "yhat", "y", "o", "p"),
    "weight_layer": ("target", "source"),
    "input_layer": (0, 1),
    "layer_marker": ("parenthesized", "bare", "index"),
    "pre_activation": ("z", "a", "net", "h"),
    "activation": ("a", "h", "z", "o", "y"),
    "function": ("named", "g", "f", "h", "phi"),
    "layer_letter": ("l", "k"),
    "output_pre_activation": ("same", "f", "s"),  # the output layer's z as its own letter: cs231n's scores f
    "gradient_names": ("math", "code"),  # code: dW2, db2, dscores, dhidden as ∂L/∂W⁽²⁾, ∂L/∂b⁽²⁾, ∂L/∂f, ∂L/∂h
    "example_index": ("none", "i", "n", "x", "s"),  # the example's letter: cs231n's y_i, the label of example i
    "layout": ("column", "row"),
    "batch": ("mean", "sum"),  # the reader's batch cost: derive's mean (1/m) Σ_s C^{(s)}, or Bishop's sum E = Σ_n E_n
    "bias": ("separate", "unit"),  # unit: the bias as the weight w_{j0} from a unit x_0 = 1 (Bishop, Ng, Wikipedia)
}

# The letters of the quantities a notation may name otherwise, as LaTeX (net is a word, upright as Wikipedia prints it)
LETTER_LATEX = {"net": r"\mathrm{net}", "phi": r"\varphi"}  # φ: Wikipedia's activation function
# What each letter means in derive's own notation, where it has a meaning: a letter the notation gives another
# meaning is read under the notation, and the verdict says so (never a silent misreading).
DEFAULT_MEANINGS = {"a": "activation", "z": "pre_activation", "h": "pre_activation", "o": "output", "y": "target"}


@dataclass(frozen=True)
class Notation:
    """The reader's notation.

    weight: the weight letter (W, w or θ). index_order: ``to_from`` writes
    W_{ij} for the weight into neuron i from neuron j of the layer below
    (article 003); ``from_to`` writes it w_{ji} (article 004). delta:
    ``gradient`` means δ = ∂C/∂z; ``error`` means the error term δ = −∂C/∂z,
    with the sign of y − ŷ (article 004). cost: the cost's letter. target: the
    target's letter. output: how the network's output a^{(L)} is written.
    letters: one letter per node, inputs first (article 000's a … f), or empty; each 1 to 3 ASCII letters,
    none of them the weight's, the target's, the cost's, the output's or a general form's index letter. A
    quantity whose letter names a node is spelled otherwise (:meth:`spelled`: the activation a as o, the bias
    b as β).
    weight_layer: which layer a weight matrix is numbered by. ``target`` (derive's own) names it by the
    layer it feeds, W^{(l)} from layer l − 1 to layer l; ``source`` by the layer it leaves, θ^{(l)} from
    layer l to layer l + 1, so that z^{(l+1)} = θ^{(l)} a^{(l)} (article 001). Only the printed and read
    layer of a weight changes: the canonical name W1[i,j] is the same, and biases keep their neuron's layer.
    input_layer: the number of the input layer, 0 (derive's own: x = a^{(0)}) or 1 (Nielsen, Ng: a^1 = x, and the
    output of a net of three layers is a^{(3)}). Every layer number a reader sees, in documents and in formulas, is
    shifted by it; derive's own names (W1, a1[2]) and the symbolic L (the output layer) are not.
    layer_marker: how a layer is written on a name: ``parenthesized`` a^{(l)}, or ``bare`` a^l (Nielsen), where a
    superscript on a, z, w, b or δ is always its layer, never a power; or ``index`` (Bishop): a name written without a
    layer takes it from its index letter (ROLE_LETTERS: δ_k an output unit's, δ_j a hidden unit's, w_{kj} into the
    output from the hidden layer), in a network with one hidden layer only; a written layer is read as parenthesized.
    pre_activation, activation: the letters of a neuron's weighted input z (z, a, net or h) and of its output a
    (a, h, z, o or y): Goodfellow's a and h, Bishop's a and z, Wikipedia's net and o. No two quantities share a
    letter. function: the letter of the activation function where a formula writes it generically: ``named``
    (derive's own: each activation by its name, g for a general layer), g, f, h (Bishop's h'(a_j)) or phi (Wikipedia's
    φ(net_j), written \\varphi; \\phi is read too).
    layer_letter: the letter of a general layer, l (derive's own: W^{(l)}, a^{(l-1)}) or k (Goodfellow's W^{(k)},
    h^{(k-1)}); the general forms' index letter for the layer above (k) then becomes p.
    output_pre_activation: the output layer's pre-activation letter, ``same`` as the hidden layers' or its own, f or s
    (cs231n's scores f_k, whose softmax is p_k with output = "p"). gradient_names: ``math`` writes gradients
    ∂L/∂W^{(2)}; ``code`` also reads cs231n's code names dW2 (dW_2), db2, dscores, dprobs and dhidden (dh) as
    ∂L/∂W^{(2)}, ∂L/∂b^{(2)}, ∂L/∂f, ∂L/∂p and ∂L/∂h, the hidden layer's activation. example_index: the letter
    of the example in a formula about one example (cs231n's i: y_i is its class label, as in 𝟙(y_i = k)), or none.
    layout: how vectors are written in the matrix form: ``column`` (derive's own: a^{(l)} is n × 1, z = W a + b) or
    ``row`` (cs231n, and code with a sample per row: a^{(l)} is 1 × n, z = a W + b, ∂C/∂W = aᵀ δ). The weight matrix
    keeps the orientation ``index_order`` gives it (from-to: in × out, as cs231n stores it), so W_{ij} and the
    matrix W agree; only how things are written and read changes, never a name or the mathematics.
    batch: what the reader's batch cost means in a batch statement: ``mean`` (derive's own objective, (1/m) Σ_s
    C^{(s)}) or ``sum`` (Bishop's E = Σ_n E_n, m times derive's objective, its L2 penalty m times too); derive's
    objective, its numbers and its code stay the mean.
    bias: ``separate`` (derive's own: z = W a + b) or ``unit`` (Bishop's w_{j0} with x_0 = 1, Ng's bias unit a_0 = 1
    and Θ's column 0, Wikipedia's constant neuron): a weight with input index 0 is the bias b_j, an activation with
    index 0 (x_0, z_0, a^{(l)}_0, o_0) is 1, a sum over the layer below written without bounds starts at 0, and a
    weight matrix times the layer below's activations, Θ^{(l)} a^{(l)}, is [b | W][1; a] = W a + b; a formula that
    writes the bias itself (b, w_{j0}) keeps it there. Only reading and writing change, never a name or the mathematics.
    """

    weight: str = "W"
    index_order: str = "to_from"
    delta: str = "gradient"
    cost: str = "C"
    target: str = "y"
    output: str = "a"
    letters: tuple[str, ...] = ()
    weight_layer: str = "target"
    input_layer: int = 0
    layer_marker: str = "parenthesized"
    pre_activation: str = "z"
    activation: str = "a"
    function: str = "named"
    layer_letter: str = "l"
    output_pre_activation: str = "same"
    gradient_names: str = "math"
    example_index: str = "none"
    layout: str = "column"
    batch: str = "mean"
    bias: str = "separate"

    def __post_init__(self) -> None:
        for key, allowed in CHOICES.items():
            value = getattr(self, key)
            if isinstance(value, bool) or value not in allowed:
                raise SpecError(f"notation.{key}: {value!r} is not one of {', '.join(map(str, allowed))}")
        for k, letter in enumerate(self.letters, start=1):
            if not (isinstance(letter, str) and _LETTER.match(letter)):
                raise SpecError(f"notation.letters[{k}]: {letter!r} must be 1 to 3 ASCII letters (a-z, A-Z)")
        if self.output == "y" and self.target == "y":
            raise SpecError('notation.output: "y" needs another target letter (target = "t")')
        self._check_letters()
        if len(set(self.letters)) != len(self.letters):
            raise SpecError("notation.letters: each node needs its own letter")
        # Letters with a meaning of their own: a node's letter would stand beside them, as a subscript like an index.
        taken = {self.weight_text: "the weight", self.target: "the target", self.cost: "the cost"}
        taken |= {OUTPUT_LETTERS[self.output]: "the output"} if self.output in OUTPUT_LETTERS else {}
        taken |= (
            {self.output_pre_activation: "the output's pre-activation"} if self.output_pre_activation != "same" else {}
        )
        taken |= {i: "a neuron index of the general forms" for i in INDEX_LETTERS[self.index_order].values()}
        for letter in self.letters:
            if letter in taken:
                raise SpecError(f"notation.letters: {letter!r} already names {taken[letter]}; give the node another")

    def _check_letters(self) -> None:
        """Two quantities never share a letter: the pre-activation, the activation, its function and the target."""
        named = [("pre_activation", self.pre_activation), ("activation", self.activation)]
        named += [("function", self.function), ("target", self.target)]
        if self.output_pre_activation != "same":
            named.append(("output_pre_activation", self.output_pre_activation))
        seen: dict[str, str] = {}
        for key, letter in named:
            if letter in seen:
                raise SpecError(f"notation.{key}: {letter!r} is already the letter of notation.{seen[letter]}")
            seen[letter] = key

    def meaning(self, letter: str) -> str | None:
        """What a letter of the quantities means in this notation (pre_activation, activation, function), or None."""
        own = {self.pre_activation: "pre_activation", self.activation: "activation"}
        if self.function != "named":
            own[self.function] = "function"
        return own.get(letter)

    @property
    def function_letters(self) -> tuple[str, ...]:
        """The letters a formula writes the activation function with generically: f, g and the notation's own."""
        return ("f", "g") if self.function == "named" else tuple(dict.fromkeys(("f", "g", self.function)))

    @property
    def function_latex(self) -> str:
        """The letter of a general layer's activation function: g unless the notation names it f or h."""
        return "g" if self.function == "named" else LETTER_LATEX.get(self.function, self.function)

    @property
    def weight_latex(self) -> str:
        """The weight letter in LaTeX: W, w or \\theta."""
        return WEIGHT_SPELLINGS[self.weight][0]

    @property
    def weight_text(self) -> str:
        """The weight letter in plain text: W, w or θ."""
        return WEIGHT_SPELLINGS[self.weight][1]

    def spelled(self, quantity: str) -> str:
        """How a quantity of QUANTITY_SPELLINGS is written in LaTeX: its first spelling no node letter uses."""
        spellings = QUANTITY_SPELLINGS[quantity]
        own = {"z": self.pre_activation, "a": self.activation}
        if quantity in own:  # the notation's letter first; never the other quantity's
            other = own["a" if quantity == "z" else "z"]
            first = LETTER_LATEX.get(own[quantity], own[quantity])
            spellings = (first, *(s for s in spellings if s not in (own[quantity], other)))
        return next((s for s in spellings if s not in self.letters), spellings[-1])

    def index_letter(self, role: str) -> str:
        """The letter of a general form's neuron index of this role (current, previous, next, other)."""
        letter = INDEX_LETTERS[self.index_order][role]
        return "p" if letter == self.layer_letter else letter

    @property
    def weight_shift(self) -> int:
        """How much lower a weight's printed layer is than derive's: 1 under ``source`` (W^{(l)} is θ^{(l−1)})."""
        return 1 if self.weight_layer == "source" else 0

    def shown_layer(self, layer: int) -> int:
        """A layer as the reader numbers it: derive's layer l is l + 1 when the input layer is numbered 1."""
        return layer + self.input_layer

    def role_layer(self, letter: str, layers: int) -> int | None:
        """The layer an index letter names under the ``index`` marker (k → 2, j → 1, i → 0 with two layers), or None."""
        role = ROLE_LETTERS.get(letter) if self.layer_marker == "index" and layers == 2 else None
        return None if role is None else {"output": 2, "hidden": 1, "input": 0}[role]

    def layer_script(self, layer: object) -> str:
        """A layer as a superscript in LaTeX: ^{(2)}, or ^{2} under the bare marker (already shifted); a general
        layer (l, l+1) in the notation's layer letter."""
        if isinstance(layer, str):
            layer = re.sub(r"(?<![A-Za-z\\])l(?![A-Za-z])", self.layer_letter, layer)
        return f"^{{{layer}}}" if self.layer_marker == "bare" else f"^{{({layer})}}"

    @property
    def delta_sign(self) -> int:
        """+1 when δ = ∂C/∂z, −1 under the error-term convention."""
        return 1 if self.delta == "gradient" else -1


@dataclass(frozen=True)
class Preset:
    """A source's notation as one bundle of options: ``[notation] preset = name`` sets them, any key beside it wins.

    ``options``: the Notation fields it sets. ``missing``: what of the source's notation no option expresses yet,
    named as the options it would need (the README's table of presets lists them).
    """

    name: str
    source: str
    options: tuple[tuple[str, object], ...]
    missing: tuple[str, ...] = ()


PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset(
            "nielsen",
            "Nielsen, Neural Networks and Deep Learning, ch. 2",
            (("weight", "w"), ("index_order", "to_from"), ("input_layer", 1), ("layer_marker", "bare"))
            + (("cost", "C"), ("delta", "gradient")),
        ),
        Preset(
            "ng",
            "Ng, Machine Learning (Coursera)",
            (("weight", "theta"), ("weight_layer", "source"), ("input_layer", 1), ("cost", "J"), ("delta", "gradient"))
            + (("bias", "unit"),),
        ),
        Preset(
            "goodfellow",
            "Goodfellow, Bengio, Courville, Deep Learning, §6.5",
            (("weight", "W"), ("index_order", "to_from"), ("cost", "L"), ("output", "yhat"), ("delta", "gradient"))
            + (("pre_activation", "a"), ("activation", "h"), ("function", "f"), ("layer_letter", "k")),
        ),
        Preset(
            "bishop",
            "Bishop, Pattern Recognition and Machine Learning, §5.3",
            (("weight", "w"), ("index_order", "to_from"), ("cost", "E"), ("target", "t"), ("output", "y"))
            + (("delta", "gradient"), ("pre_activation", "a"), ("activation", "z"), ("function", "h"))
            + (("layer_marker", "index"), ("batch", "sum"), ("bias", "unit")),
        ),
        Preset(
            "cs231n",
            "Stanford CS231n notes",
            (("weight", "W"), ("index_order", "from_to"), ("cost", "L"), ("delta", "gradient"))
            + (("activation", "h"), ("output_pre_activation", "f"), ("output", "p"), ("gradient_names", "code"))
            + (("example_index", "i"), ("layout", "row")),
        ),
        Preset(
            "wikipedia",
            'Wikipedia, "Backpropagation"',
            (("weight", "w"), ("index_order", "from_to"), ("cost", "E"), ("target", "t"), ("output", "o"))
            + (("delta", "gradient"), ("pre_activation", "net"), ("activation", "o"), ("function", "phi"))
            + (("bias", "unit"),),
        ),
        Preset(
            "article000",
            "derive's article 000",
            (("weight", "w"), ("cost", "E")),
            ("the node letters, which depend on the network (`letters`)",),
        ),
        Preset("article001", "derive's article 001", (("weight", "theta"), ("weight_layer", "source"))),
        Preset(
            "article002",
            "derive's article 002",
            (("weight", "theta"), ("target", "t"), ("output", "y"), ("cost", "J")),
        ),
        Preset("article003", "derive's article 003", (("cost", "J"),)),
        Preset(
            "article004",
            "derive's article 004",
            (("weight", "w"), ("index_order", "from_to"), ("delta", "error"), ("cost", "E"), ("output", "yhat")),
        ),
    )
}


def with_preset(values: dict[str, object]) -> dict[str, object]:
    """A notation table's values with its ``preset`` expanded: the preset's options, then every key beside it."""
    if "preset" not in values:
        return values
    rest = {k: v for k, v in values.items() if k != "preset"}
    name = values["preset"]
    if name not in PRESETS:
        raise SpecError(f"notation.preset: {name!r} is not one of {', '.join(PRESETS)}")
    return {**dict(PRESETS[name].options), **rest}
