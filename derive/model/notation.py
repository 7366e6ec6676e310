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

# The output choices written as one plain letter (a follows the activation's spelling; ŷ is decorated).
OUTPUT_LETTERS = {"y": "y", "o": "o"}

CHOICES: dict[str, tuple[str, ...]] = {
    "weight": tuple(WEIGHT_SPELLINGS),
    "index_order": ("to_from", "from_to"),
    "delta": ("gradient", "error"),
    "cost": ("C", "J", "E", "L"),
    "target": ("y", "t"),
    "output": ("a", "yhat", "y", "o"),
    "weight_layer": ("target", "source"),
}


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
    """

    weight: str = "W"
    index_order: str = "to_from"
    delta: str = "gradient"
    cost: str = "C"
    target: str = "y"
    output: str = "a"
    letters: tuple[str, ...] = ()
    weight_layer: str = "target"

    def __post_init__(self) -> None:
        for key, allowed in CHOICES.items():
            value = getattr(self, key)
            if value not in allowed:
                raise SpecError(f"notation.{key}: {value!r} is not one of {', '.join(allowed)}")
        for k, letter in enumerate(self.letters, start=1):
            if not (isinstance(letter, str) and _LETTER.match(letter)):
                raise SpecError(f"notation.letters[{k}]: {letter!r} must be 1 to 3 ASCII letters (a-z, A-Z)")
        if self.output == "y" and self.target == "y":
            raise SpecError('notation.output: "y" needs another target letter (target = "t")')
        if len(set(self.letters)) != len(self.letters):
            raise SpecError("notation.letters: each node needs its own letter")
        # Letters with a meaning of their own: a node's letter would stand beside them, as a subscript like an index.
        taken = {self.weight_text: "the weight", self.target: "the target", self.cost: "the cost"}
        taken |= {OUTPUT_LETTERS[self.output]: "the output"} if self.output in OUTPUT_LETTERS else {}
        taken |= {i: "a neuron index of the general forms" for i in INDEX_LETTERS[self.index_order].values()}
        for letter in self.letters:
            if letter in taken:
                raise SpecError(f"notation.letters: {letter!r} already names {taken[letter]}; give the node another")

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
        return next((s for s in spellings if s not in self.letters), spellings[-1])

    def index_letter(self, role: str) -> str:
        """The letter of a general form's neuron index of this role (current, previous, next, other)."""
        return INDEX_LETTERS[self.index_order][role]

    @property
    def weight_shift(self) -> int:
        """How much lower a weight's printed layer is than derive's: 1 under ``source`` (W^{(l)} is θ^{(l−1)})."""
        return 1 if self.weight_layer == "source" else 0

    @property
    def delta_sign(self) -> int:
        """+1 when δ = ∂C/∂z, −1 under the error-term convention."""
        return 1 if self.delta == "gradient" else -1
