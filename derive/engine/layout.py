"""The row-vector layout (cs231n's z = a W + b): the matrix form's equations with every vector a 1 × n row.

The column layout's equations are derived once (:mod:`derive.engine.matrixform`); in the row layout a vector's
equation is the transpose of its column form (zᵀ = aᵀ Wᵀ + bᵀ, with W written as the notation orients it), and a
matrix's keeps its side as it is (∂C/∂W = a δᵀ, in × out under from-to). Either way each column vector v is then
written as a row r, its 1 × n MatrixSymbol of the same Label: vᵀ becomes r and v becomes rᵀ, so a^{(l−1)} δᵀ
reads (a^{(l−1)})ᵀ δ. The names (their kind and layer) never change, only their shapes and the products' order.
"""

from __future__ import annotations

import sympy
from sympy import DiagMatrix, MatrixSymbol, Transpose

from derive.engine.forms import Kind, label_of
from derive.engine.steps import Equation

# The kinds that are matrices in either layout; every other kind of the matrix form is a vector.
MATRICES = frozenset({Kind.W, Kind.JACOBIAN, Kind.DC_DW, Kind.DJ_DW})


def is_vector(m: sympy.Basic) -> bool:
    """Whether a matrix-form MatrixSymbol is a vector (a, z, δ, b, g′, ∇C, ∂C/∂b, …), not a weight-shaped matrix."""
    label = label_of(m)
    return label is not None and label.kind not in MATRICES


def _rows(expr: sympy.Basic) -> sympy.Basic:
    """``expr`` with each column vector v written as its row r: vᵀ → r, v → rᵀ."""
    mapping: dict[sympy.Basic, sympy.Basic] = {}
    for m in expr.atoms(MatrixSymbol):
        if is_vector(m) and m.cols == 1:
            r = MatrixSymbol(m.args[0], 1, m.rows)
            mapping[Transpose(m)] = r
            mapping[DiagMatrix(m)] = DiagMatrix(r)  # softmax's diag(a) − a aᵀ: diag(a) − aᵀ a
            mapping[m] = Transpose(r)
    return expr.xreplace(mapping)


def row_expr(expr: sympy.Basic) -> sympy.Basic:
    """A vector-valued expression of the column layout, in the row layout: W^T δ → δ W^T (δ a row)."""
    return _rows(sympy.transpose(expr))


def row_equation(eq: Equation) -> Equation:
    """One equation of the column layout in the row layout: a vector's transposed, a matrix's sides kept."""
    if is_vector(eq.lhs):
        return Equation(row_expr(eq.lhs), row_expr(eq.rhs), eq.relation)
    return Equation(_rows(eq.lhs), _rows(eq.rhs), eq.relation)


def laid_out(eqs: tuple[Equation, ...], row: bool) -> tuple[Equation, ...]:
    """The equations in the row layout when ``row``, else as they are."""
    return tuple(row_equation(e) for e in eqs) if row else eqs
