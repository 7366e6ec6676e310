"""The derivation in matrix form, built by our own rules from the element level.

Matrices and vectors are sympy ``MatrixSymbol`` objects whose name is a typed
:class:`~derive.engine.forms.Label` (kind, layer): W, b, z, a (layer 0 is the input
x), δ, the targets y; g for g(z^{(l)}) applied elementwise, g' for g'(z^{(l)}), J for
the Jacobian ∂a^{(l)}/∂z^{(l)}, ∇C for ∇_{a^{(l)}} C, and ∂C/∂W, ∂C/∂b for the
gradients. Layers may be symbolic (``l``, ``l+1``, ``L``) for the general form.
sympy is used for structure and printing only, never to differentiate matrices;
:func:`explicit` turns any of these equations into explicit matrices of
element-level expressions so that tests can confirm them against the
element-level derivation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import sympy
from sympy import HadamardProduct, Matrix, MatrixSymbol, OneMatrix, Symbol

from derive.engine.algebra import is_zero
from derive.engine.forms import Index, Kind, Layer, Size, indexed, label_of, matrix
from derive.engine.layout import is_vector, laid_out, row_expr
from derive.engine.steps import Equation
from derive.rules import regularizers
from derive.rules import symbols as sym
from derive.rules.functions import Partial

if TYPE_CHECKING:
    from derive.engine.derivation import Derivation

Dim = int | Symbol
ETA = sym.LEARNING_RATE


def _n(d: Derivation | None, layer: Layer) -> Dim:
    if isinstance(layer, int) and d is not None:
        return d.size(layer)
    return Size(layer)


def _shift(layer: Layer, by: int) -> Layer:
    if isinstance(layer, int):
        return layer + by
    return layer if by == 0 else f"{layer}{'+' if by > 0 else '-'}{abs(by)}"


def vec(kind: Kind, layer: Layer, d: Derivation | None) -> MatrixSymbol:
    return matrix(kind, layer, _n(d, layer), 1)


def a_vec(layer: Layer, d: Derivation | None) -> MatrixSymbol:
    return matrix(Kind.X, None, _n(d, 0), 1) if layer == 0 else vec(Kind.A, layer, d)


def targets(d: Derivation) -> MatrixSymbol:
    """The target vector y."""
    return matrix(Kind.Y, None, d.size(d.L), 1)


def weight(layer: Layer, d: Derivation | None, from_to: bool) -> sympy.MatrixExpr:
    """The canonical W^{(l)} (rows: layer l), written as the notation's matrix."""
    rows, cols = _n(d, layer), _n(d, _shift(layer, -1))
    if from_to:
        return matrix(Kind.W, layer, cols, rows).T
    return matrix(Kind.W, layer, rows, cols)


def _from_to(d: Derivation | None) -> bool:
    return d is not None and d.network.notation.index_order == "from_to"


def _row(d: Derivation | None) -> bool:
    return d is not None and d.network.notation.layout == "row"


@dataclass(frozen=True)
class Convention:
    """How the matrix form is written: δ's sign (+1: δ = ∂C/∂z), whether W is stored from-to (transposed), and
    whether vectors are rows (z = a W + b, :mod:`derive.engine.layout`).

    A derivation's documents use its notation's convention; the generated code
    uses derive's own (:data:`OWN`), so that one derivation serves both.
    """

    sign: int = 1
    from_to: bool = False
    row: bool = False


OWN = Convention()


def convention(d: Derivation) -> Convention:
    """The convention of ``d``'s notation."""
    return Convention(d.sign, _from_to(d), _row(d))


def _act_output(layer: Layer, d: Derivation | None) -> MatrixSymbol:
    return vec(Kind.G, layer, d)


def _act_derivative(layer: Layer, d: Derivation | None) -> MatrixSymbol:
    return vec(Kind.G_PRIME, layer, d)


def _jacobian(layer: Layer, d: Derivation | None) -> MatrixSymbol:
    return matrix(Kind.JACOBIAN, layer, _n(d, layer), _n(d, layer))


def _weight_gradient(layer: Layer, d: Derivation | None, from_to: bool) -> MatrixSymbol:
    rows, cols = _n(d, layer), _n(d, _shift(layer, -1))
    return matrix(Kind.DC_DW, layer, *((cols, rows) if from_to else (rows, cols)))


def _outer(layer: Layer, d: Derivation | None, from_to: bool) -> sympy.MatrixExpr:
    delta, a_prev = vec(Kind.DELTA, layer, d), a_vec(_shift(layer, -1), d)
    return a_prev * delta.T if from_to else delta * a_prev.T


def backprop_in(layer: Layer, d: Derivation | None, conv: Convention | None = None) -> sympy.MatrixExpr:
    """(W^{(l+1)})^T δ^{(l+1)} in the notation's orientation and layout, or ``conv``'s (δ W^T in rows)."""
    c = conv if conv is not None else (convention(d) if d is not None else OWN)
    back = _back(layer, d, c.from_to)
    return row_expr(back) if c.row else back


def _back(layer: Layer, d: Derivation | None, from_to: bool) -> sympy.MatrixExpr:
    return weight(_shift(layer, 1), d, from_to).T * vec(Kind.DELTA, _shift(layer, 1), d)


def _through(layer: Layer, d: Derivation | None, inner: sympy.MatrixExpr, jacobian: bool) -> sympy.MatrixExpr:
    """``inner`` taken back through layer l's activation: J^T inner with the Jacobian, else inner ⊙ g'."""
    if jacobian:
        return _jacobian(layer, d).T * inner
    return HadamardProduct(inner, _act_derivative(layer, d))


def _through_activation(layer: int, d: Derivation, inner: sympy.MatrixExpr) -> sympy.MatrixExpr:
    return _through(layer, d, inner, not d.network.activation(layer).elementwise)


def general_coupling(d: Derivation) -> tuple[bool, bool]:
    """Whether the general forms go through the Jacobian: (the output layer L, the hidden layers l < L).

    True where a layer-valued activation (a_i depending on every z_k) is the output, or among the hidden
    layers. The Jacobian form holds for every activation (for an elementwise one ∂a/∂z is the diagonal
    matrix of g'), the ⊙ g' form only for elementwise ones.
    """
    acts = [d.network.activation(layer) for layer in range(1, d.L + 1)]
    return not acts[-1].elementwise, not all(act.elementwise for act in acts[:-1])


def forward(d: Derivation, layer: int, conv: Convention | None = None) -> tuple[Equation, ...]:
    """z^{(l)} = W^{(l)} a^{(l−1)} + b^{(l)} and a^{(l)} = g(z^{(l)})."""
    c = conv or convention(d)
    rhs = weight(layer, d, c.from_to) * a_vec(layer - 1, d)
    if d.network.bias:
        rhs = rhs + vec(Kind.B, layer, d)
    return laid_out((Equation(vec(Kind.Z, layer, d), rhs), Equation(a_vec(layer, d), _act_output(layer, d))), c.row)


def output_delta(d: Derivation, conv: Convention | None = None) -> tuple[Equation, ...]:
    """δ^{(L)} = ±∇_a C ⊙ g'(z^{(L)}) (or ±J^T ∇_a C), then a − y where it simplifies."""
    c = conv or convention(d)
    L, sign = d.L, c.sign
    grad = vec(Kind.NABLA_C, L, d)
    general = _through_activation(L, d, grad)
    eqs = [Equation(vec(Kind.DELTA, L, d), sign * general)]
    act = d.network.activation(L)
    if not act.elementwise:
        eqs.append(Equation(_jacobian(L, d), act.jacobian_matrix(a_vec(L, d))))
    if d.output_matching():
        diff = a_vec(L, d) - targets(d)
        eqs.append(Equation(vec(Kind.DELTA, L, d), diff if sign > 0 else -diff))
    return laid_out(tuple(eqs), c.row)


def recursion(d: Derivation, layer: int, conv: Convention | None = None) -> tuple[Equation, ...]:
    """δ^{(l)} = ((W^{(l+1)})^T δ^{(l+1)}) ⊙ g'(z^{(l)}), with the Jacobian for a layer-valued activation."""
    c = conv or convention(d)
    eqs = [Equation(vec(Kind.DELTA, layer, d), _through_activation(layer, d, _back(layer, d, c.from_to)))]
    act = d.network.activation(layer)
    if not act.elementwise:
        eqs.append(Equation(_jacobian(layer, d), act.jacobian_matrix(a_vec(layer, d))))
    return laid_out(tuple(eqs), c.row)


def activation_derivative(d: Derivation, layer: int, conv: Convention | None = None) -> tuple[Equation, ...]:
    """g'(z^{(l)}) in the layer's output where the activation allows it."""
    own = d.network.activation(layer).derivative_in_output_matrix
    if own is None:
        return ()
    eq = Equation(_act_derivative(layer, d), own(a_vec(layer, d), OneMatrix(d.size(layer), 1)))
    return laid_out((eq,), (conv or convention(d)).row)


def gradients(d: Derivation, layer: int, conv: Convention | None = None) -> tuple[Equation, ...]:
    """∂C/∂W^{(l)} = ±δ^{(l)} (a^{(l−1)})^T and ∂C/∂b^{(l)} = ±δ^{(l)}."""
    c = conv or convention(d)
    ft = c.from_to
    eqs = [Equation(_weight_gradient(layer, d, ft), c.sign * _outer(layer, d, ft))]
    if d.network.bias:
        eqs.append(Equation(vec(Kind.DC_DB, layer, d), c.sign * vec(Kind.DELTA, layer, d)))
    return laid_out(tuple(eqs), c.row)


def update(d: Derivation, layer: int) -> tuple[Equation, ...]:
    """W ← W − η ∂C/∂W (gradient δ) or W ← W + η δ a^T (error-term δ); same for b.

    With an L2 penalty a regularised parameter steps against ∂J/∂W instead (∂J/∂W = ∂C/∂W + ∂R/∂W, the
    penalty's weight decay), and the error-term form gains −η ∂R/∂W: W ← W + η δ a^T − η λ W for ``half``.
    """
    ft = _from_to(d)
    w = matrix(Kind.W, layer, *((d.size(layer - 1), d.size(layer)) if ft else (d.size(layer), d.size(layer - 1))))
    reg = d.network.regularization
    coefficient = reg.rule.coefficient(regularizers.LAMBDA, regularizers.BATCH) if reg is not None else None
    gradient = _objective_gradient if coefficient is not None else _weight_gradient
    eqs = [Equation(w, w - ETA * gradient(layer, d, ft), "<-")]
    if d.sign < 0:
        eqs.append(Equation(w, _decayed(w, ETA * _outer(layer, d, ft), coefficient), "<-"))
    if d.network.bias:
        b = vec(Kind.B, layer, d)
        covered = coefficient is not None and reg.covers("b")
        eqs.append(Equation(b, b - ETA * vec(Kind.DJ_DB if reg is not None else Kind.DC_DB, layer, d), "<-"))
        if d.sign < 0:
            eqs.append(
                Equation(b, _decayed(b, ETA * vec(Kind.DELTA, layer, d), coefficient if covered else None), "<-")
            )
    return laid_out(tuple(eqs), _row(d))


def _objective_gradient(layer: Layer, d: Derivation | None, from_to: bool) -> MatrixSymbol:
    """∂J/∂W^{(l)}, shaped as the notation's matrix (as :func:`_weight_gradient`)."""
    rows, cols = _n(d, layer), _n(d, _shift(layer, -1))
    return matrix(Kind.DJ_DW, layer, *((cols, rows) if from_to else (rows, cols)))


def _decayed(p: sympy.MatrixExpr, step: sympy.MatrixExpr, coefficient: sympy.Expr | None) -> sympy.MatrixExpr:
    """p + step, and − η coefficient · p with a penalty, kept in that order (sympy would collect p's terms)."""
    if coefficient is None:
        return p + step
    return sympy.MatAdd(p, step, -ETA * coefficient * p, evaluate=False)


def general(d: Derivation) -> tuple[Equation, ...]:
    """The backprop equations for a symbolic layer l as matrices, true for ``d``'s activations (∂C/∂b with biases only).

    δ^{(L)} = ±∇_a C ⊙ g'(z^{(L)}) and δ^{(l)} = ((W^{(l+1)})^T δ^{(l+1)}) ⊙ g'(z^{(l)}) hold only for
    elementwise activations; where a layer-valued one (softmax) is the output, or among the hidden
    layers, that equation is written with the Jacobian: ±(∂a/∂z)^T ∇_a C, (∂a/∂z)^T (W^T δ).
    """
    ft = _from_to(d)
    s = d.sign
    out_coupled, hidden_coupled = general_coupling(d)
    grad = vec(Kind.NABLA_C, "L", None)
    back = weight("l+1", None, ft).T * vec(Kind.DELTA, "l+1", None)
    eqs = [
        Equation(vec(Kind.DELTA, "L", None), s * _through("L", None, grad, out_coupled)),
        Equation(vec(Kind.DELTA, "l", None), _through("l", None, back, hidden_coupled)),
    ]
    if d.network.bias:
        eqs.append(Equation(vec(Kind.DC_DB, "l", None), s * vec(Kind.DELTA, "l", None)))
    eqs.append(Equation(_weight_gradient("l", None, ft), s * _outer("l", None, ft)))
    return laid_out(tuple(eqs), _row(d))


# ------------------------------------------------------------------ explicit
def explicit(expr: sympy.Basic, d: Derivation) -> Matrix:
    """A concrete matrix equation side as an explicit matrix of element-level expressions."""
    mapping = {m: _explicit_symbol(m, d) for m in expr.atoms(MatrixSymbol)}
    out = expr.xreplace(mapping)
    if isinstance(out, sympy.MatrixBase):
        return Matrix(out)
    return Matrix(out.doit().as_explicit())


def _explicit_symbol(m: MatrixSymbol, d: Derivation) -> Matrix:
    label = label_of(m)
    assert label is not None, m
    column = _explicit_column(m, d)
    return column.T if is_vector(m) and m.shape != column.shape else column  # a row of the row layout


def _explicit_column(m: MatrixSymbol, d: Derivation) -> Matrix:
    label = label_of(m)
    kind, layer = label.kind, label.layer
    ft = _from_to(d)
    if kind is Kind.X:
        return Matrix(d.a_vec(0))
    if kind is Kind.Y:
        return Matrix(d.y_vec())
    n = d.size(layer)
    rows = range(1, n + 1)
    if kind is Kind.NABLA_C:
        return Matrix([d.dC_da(k) for k in rows])
    if kind is Kind.A:
        return Matrix([sym.a(layer, i) for i in rows])
    if kind is Kind.Z:  # z is a name for the weighted sum: check the sum itself
        return Matrix([d.forward_neuron(layer, i)[0].rhs for i in rows])
    if kind is Kind.B:
        return Matrix([sym.b(layer, i) for i in rows])
    if kind is Kind.DELTA:
        return Matrix([d.delta_closed(layer, i) for i in rows])
    if kind is Kind.G:
        act = d.network.activation(layer)
        return Matrix(act.values(d.z_vec(layer)))
    if kind is Kind.G_PRIME:
        return Matrix([d.jacobian_entry(layer, i, i) for i in rows])
    if kind is Kind.JACOBIAN:
        return Matrix(n, n, lambda i, k: d.jacobian_entry(layer, i + 1, k + 1))
    if kind in (Kind.W, Kind.DC_DW):
        cols = d.size(layer - 1)
        if kind is Kind.W:
            w = Matrix(n, cols, lambda i, j: sym.W(layer, i + 1, j + 1))
        else:
            w = Matrix(n, cols, lambda i, j: d.dC_dz(layer, i + 1) * sym.a(layer - 1, j + 1))
        return w.T if ft else w
    if kind is Kind.DC_DB:
        return Matrix([d.dC_dz(layer, i) for i in rows])
    raise AssertionError(f"no explicit value for {m}")


def holds(eq: Equation, d: Derivation) -> bool:
    """True when an equation of concrete matrices holds entry by entry."""
    if eq.relation != "=":
        return True

    lhs, rhs = explicit(eq.lhs, d), explicit(eq.rhs, d)
    return lhs.shape == rhs.shape and all(is_zero(v, d) for v in (lhs - rhs))


def general_index(d: Derivation) -> tuple[Equation, ...]:
    """Article 001's statements for a symbolic layer l, neuron by neuron, true for ``d``'s activations.

    δ^{(l)}_j := ±∂C/∂z^{(l)}_j; ∂C/∂W^{(l)}_{jp} = ∂C/∂z^{(l)}_j ∂z^{(l)}_j/∂W^{(l)}_{jp} = ±δ^{(l)}_j a^{(l−1)}_p;
    ∂C/∂b^{(l)}_j = ±δ^{(l)}_j (only when the network has biases); δ^{(L)}_j = ±∂C/∂a^{(L)}_j g'(z^{(L)}_j);
    δ^{(l)}_j = Σ_k ∂C/∂z^{(l+1)}_k ∂z^{(l+1)}_k/∂a^{(l)}_j ∂a^{(l)}_j/∂z^{(l)}_j
              = (Σ_k W^{(l+1)}_{kj} δ^{(l+1)}_k) g'(z^{(l)}_j).
    Where a layer-valued activation (softmax) couples the output layer, or a hidden layer, a_i depends on
    every z_j of its layer, and those two statements sum over the layer's outputs instead:
    δ^{(L)}_j = ±Σ_i ∂a^{(L)}_i/∂z^{(L)}_j ∂C/∂a^{(L)}_i and
    δ^{(l)}_j = Σ_i ∂a^{(l)}_i/∂z^{(l)}_j Σ_k W^{(l+1)}_{ki} δ^{(l+1)}_k.
    Here j, p, k and i are :class:`Index` symbols, named for the neurons they count (j of layer l, p of
    l − 1, k of l + 1, i another of layer l); the printer gives each its letter in the reader's notation.
    """
    j, prev, k, i = Index("current"), Index("previous"), Index("next"), Index("other")

    s, cost = d.sign, sym.COST
    out_coupled, hidden_coupled = general_coupling(d)
    z_l, z_next, a_l = indexed(Kind.Z, "l", j), indexed(Kind.Z, "l+1", k), indexed(Kind.A, "l", j)
    w_l = indexed(Kind.W, "l", j, prev)
    n_next = _n(None, "l+1")
    if out_coupled:
        a_out, z_out = indexed(Kind.A, "L", i), indexed(Kind.Z, "L", j)
        output = sympy.Sum(Partial(a_out, z_out) * Partial(cost, a_out), (i, 1, _n(None, "L")))
    else:
        output = Partial(cost, indexed(Kind.A, "L", j)) * indexed(Kind.G_PRIME, "L", j)
    if hidden_coupled:
        a_i = indexed(Kind.A, "l", i)
        to_cost = sympy.Sum(Partial(cost, z_next) * Partial(z_next, a_i), (k, 1, n_next))
        chain_back = sympy.Sum(to_cost * Partial(a_i, z_l), (i, 1, _n(None, "l")))
        weighted = sympy.Sum(indexed(Kind.W, "l+1", k, i) * indexed(Kind.DELTA, "l+1", k), (k, 1, n_next))
        back = sympy.Sum(Partial(a_i, z_l) * weighted, (i, 1, _n(None, "l")))
    else:
        chain_back = sympy.Sum(Partial(cost, z_next) * Partial(z_next, a_l) * Partial(a_l, z_l), (k, 1, n_next))
        weighted = sympy.Sum(indexed(Kind.W, "l+1", k, j) * indexed(Kind.DELTA, "l+1", k), (k, 1, n_next))
        back = weighted * indexed(Kind.G_PRIME, "l", j)
    bias = (Equation(Partial(cost, indexed(Kind.B, "l", j)), s * indexed(Kind.DELTA, "l", j)),)
    return (
        Equation(indexed(Kind.DELTA, "l", j), s * Partial(cost, z_l), ":="),
        Equation(Partial(cost, w_l), Partial(cost, z_l) * Partial(z_l, w_l)),
        Equation(Partial(cost, w_l), s * indexed(Kind.DELTA, "l", j) * indexed(Kind.A, "l-1", prev)),
        *(bias if d.network.bias else ()),
        Equation(indexed(Kind.DELTA, "L", j), s * output),
        Equation(indexed(Kind.DELTA, "l", j), s * chain_back),
        Equation(indexed(Kind.DELTA, "l", j), back),
    )
