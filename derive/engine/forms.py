"""The matrix form's names as typed objects: a kind and a layer, never a string to parse back.

Every vector and matrix of :mod:`derive.engine.matrixform` is a sympy ``MatrixSymbol`` whose name is a
:class:`Label` (kind, layer); a size n^{(l)} of a symbolic layer is a :class:`Size`; article 001's
per-neuron statements index an ``IndexedBase`` whose label is a :class:`Label`. Printers and the code
planner read ``kind`` and ``layer`` (:func:`label_of`); the name string (``W(2)``, ``dC/dW(l)``,
``n(l+1)``) exists only because sympy orders, compares and prints with it, and it is made from the
fields, never read back.
"""

from __future__ import annotations

from enum import Enum

import sympy
from sympy import MatrixSymbol, Symbol
from sympy.core.symbol import Str

Layer = int | str  # a number, or a symbolic layer: "l", "l+1", "l-1", "L"


class Kind(Enum):
    """What a vector or matrix of the matrix form is; the value is how its name starts."""

    X = "x"  # the input, a^{(0)}
    Y = "y"  # the targets
    A = "a"
    Z = "z"
    B = "b"
    W = "W"
    DELTA = "delta"
    G = "g"  # g(z^{(l)}), the activation applied to the layer
    G_PRIME = "g'"  # g'(z^{(l)}) elementwise
    JACOBIAN = "J"  # ∂a^{(l)}/∂z^{(l)} for an activation that is not elementwise
    NABLA_C = "nablaC"  # ∇_{a^{(l)}} C
    DC_DW = "dC/dW"
    DC_DB = "dC/db"
    DJ_DW = "dJ/dW"  # the batch objective's gradient, with an L2 penalty: (1/m) Σ_s ∂C^{(s)}/∂W + ∂R/∂W
    DJ_DB = "dJ/db"


class Label(Str):
    """A kind and a layer (None for x and y), standing as a sympy name."""

    __slots__ = ("kind", "layer")
    kind: Kind
    layer: Layer | None

    def __new__(cls, kind: Kind, layer: Layer | None = None) -> Label:
        obj = super().__new__(cls, kind.value if layer is None else f"{kind.value}({layer})")
        obj.kind = kind
        obj.layer = layer
        return obj

    def __getnewargs__(self) -> tuple[Kind, Layer | None]:
        return (self.kind, self.layer)


class Size(Symbol):
    """n^{(l)}, the number of neurons of a symbolic layer."""

    __slots__ = ("layer",)
    layer: Layer

    def __new__(cls, layer: Layer) -> Size:
        obj = super().__new__(cls, f"n({layer})", positive=True, integer=True)
        obj.layer = layer
        return obj

    def __getnewargs_ex__(self) -> tuple[tuple[Layer], dict]:
        return ((self.layer,), {})


class Index(Symbol):
    """A neuron index of the general forms, named by the neurons it counts, never by a letter.

    ``current``: layer l's (or L's) own neuron, whose δ is stated; ``previous``: a neuron of layer l − 1, where a
    weight comes from; ``next``: a neuron of layer l + 1, summed over in the recursion; ``other``: another
    neuron of l's own layer (a softmax couples them). The printer gives each role one letter for a whole document.
    """

    __slots__ = ("role",)
    role: str
    ROLES = ("current", "previous", "next", "other")

    def __new__(cls, role: str) -> Index:
        if role not in cls.ROLES:
            raise ValueError(f"no index role {role!r}")
        obj = super().__new__(cls, f"index({role})", positive=True, integer=True)
        obj.role = role
        return obj

    def __getnewargs_ex__(self) -> tuple[tuple[str], dict]:
        return ((self.role,), {})


class SquaredNorms(Symbol):
    """Σ_l ‖W^{(l)}‖² (with ``biases``, + ‖b^{(l)}‖²): the sum of squares an L2 penalty scales, as one name."""

    __slots__ = ("biases",)
    biases: bool

    def __new__(cls, biases: bool) -> SquaredNorms:
        obj = super().__new__(cls, f"norms({'W,b' if biases else 'W'})", positive=True)
        obj.biases = biases
        return obj

    def __getnewargs_ex__(self) -> tuple[tuple[bool], dict]:
        return ((self.biases,), {})


def matrix(kind: Kind, layer: Layer | None = None, rows: int | Symbol = 1, cols: int | Symbol = 1) -> MatrixSymbol:
    """The vector or matrix ``kind`` of ``layer``, of the given shape (1×1 when only its name is printed)."""
    return MatrixSymbol(Label(kind, layer), rows, cols)


def indexed(kind: Kind, layer: Layer, *index: Symbol) -> sympy.Indexed:
    """One entry of ``kind``'s vector or matrix of ``layer``, such as z^{(l)}_j."""
    return sympy.IndexedBase(Label(kind, layer))[index]


def label_of(expr: sympy.Basic) -> Label | None:
    """The Label of a matrix-form MatrixSymbol, IndexedBase or Indexed; None for anything else."""
    if isinstance(expr, sympy.Indexed):
        expr = expr.base
    if isinstance(expr, sympy.IndexedBase):
        found = expr.label
    elif isinstance(expr, MatrixSymbol):
        found = expr.args[0]
    else:
        return None
    return found if isinstance(found, Label) else None
