"""The vocabulary of reading a formula: what a name stands for (Ref, Target), the reading, and its errors.

Separate from :mod:`derive.verify.reading` so that the verifier, :mod:`derive.verify.mistakes` and the parts of the
Reader can share these small types without importing the Reader itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from sympy import Expr, Matrix

from derive.engine.chain import Element
from derive.model.notation import Notation
from derive.verify.syntax import FormulaError, fail

Value = Expr | Matrix


class ReadError(FormulaError):
    """A name the network does not have, or an index or layer out of range."""


class LayerRangeError(ReadError):
    """A layer outside 1 … L (a free layer l takes only the values where everything exists)."""


class IndexRangeError(ReadError):
    """An index out of range; ``letter`` (a bare index letter, else None) ran to a value that ``name`` (as
    written) with ``size`` entries does not have. The verifier tells a parameter's letter that clashes so."""

    letter: str | None = None
    name: str = ""
    size: int = 0


class FormulaShapeError(FormulaError):
    """Vectors and matrices of a formula whose shapes do not fit together.

    A reading error pointing at a character, not :class:`derive.errors.ShapeError` (a NumPy array of
    the wrong shape given to generated code).
    """


class FreeIndexError(FormulaError):
    """An index letter that nothing binds (no Σ over it, not named in the parameter)."""

    def __init__(self, message: str, letter: str, layer: bool = False) -> None:
        super().__init__(message)
        self.letter = letter
        self.layer = layer


class Probe:
    """Stands for an index letter while its range is found: it records each position's size."""

    def __init__(self, letter: str) -> None:
        self.letter = letter
        self.sizes: list[tuple[int, str]] = []
        self.roles: list[tuple[str | None, str]] = []  # each position's role for the bias unit (bias_unit.INPUT …)

    def size(self, text: str, pos: int) -> int:
        found = {n for n, _ in self.sizes}
        if len(found) != 1:
            where = "; ".join(f"1…{n} in {w}" for n, w in self.sizes) or "no subscript"
            raise fail(text, pos, f"the range of {self.letter} is not clear ({where})")
        return found.pop()


@dataclass(frozen=True)
class Reading:
    """The notation a formula is read in, and how weight layers are numbered.

    ``weight_shift`` 1 reads θ^{(l)} as the weights leaving layer l (article 001's
    θ^l with z^{l+1} = θ^l a^l), which derive calls W^{(l+1)}; left out, it is the notation's own
    (``weight_layer``).
    """

    notation: Notation
    weight_shift: int = None  # type: ignore[assignment] - filled from the notation

    def __post_init__(self) -> None:
        if self.weight_shift is None:
            object.__setattr__(self, "weight_shift", self.notation.weight_shift)

    @property
    def sign(self) -> int:
        return self.notation.delta_sign


@dataclass(frozen=True)
class Ref:
    """A canonical quantity: kind W, b, z, a (layer 0 is x), y or delta; index None for all of it."""

    kind: str
    layer: int | None
    index: tuple[int, ...] | None

    @property
    def element(self) -> Element:
        """This one quantity (index given) as the chain-rule table names it."""
        return Element(self.kind, self.layer, *self.index)

    @property
    def differentiated(self) -> Element:
        """What ∂C/∂(this) differentiates by: the quantity itself, or for δ its z (δ is ±∂C/∂z)."""
        return Element("z" if self.kind == "delta" else self.kind, self.layer, *self.index)

    @property
    def name(self) -> str:
        layer = "" if self.layer is None else str(self.layer)
        kind = "x" if self.kind == "a" and self.layer == 0 else self.kind
        layer = "" if kind in ("x", "y") else layer
        if self.index is None:
            return f"{kind}{layer}"
        return f"{kind}{layer}[{','.join(map(str, self.index))}]"


@dataclass(frozen=True)
class Target:
    """What a formula gives: ``grad`` ∂C/∂ref, ``delta`` δ itself, or ``update`` Δθ = −η ∂C/∂θ.

    ``objective``: with an L2 penalty, the gradient of J = (1/m) Σ C + R at one sample, ∂C/∂θ + ∂R/∂θ (and
    the update −η of it): asked for by a left side ∂J/∂θ (J not the notation's letter for C) or by λ in the
    formula."""

    what: str
    ref: Ref
    objective: bool = False

    @property
    def name(self) -> str:
        return ("Delta " if self.what == "update" else "") + self.ref.name
