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
    letters: one letter per node, inputs first (article 000's a … f), or empty; each 1 to 3 ASCII letters.
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

    @property
    def weight_latex(self) -> str:
        """The weight letter in LaTeX: W, w or \\theta."""
        return WEIGHT_SPELLINGS[self.weight][0]

    @property
    def weight_text(self) -> str:
        """The weight letter in plain text: W, w or θ."""
        return WEIGHT_SPELLINGS[self.weight][1]

    @property
    def weight_shift(self) -> int:
        """How much lower a weight's printed layer is than derive's: 1 under ``source`` (W^{(l)} is θ^{(l−1)})."""
        return 1 if self.weight_layer == "source" else 0

    @property
    def delta_sign(self) -> int:
        """+1 when δ = ∂C/∂z, −1 under the error-term convention."""
        return 1 if self.delta == "gradient" else -1
