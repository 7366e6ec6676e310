"""The correct form a wrong verdict shows: the derived result for what the formula is about, in the reader's notation.

For one element its closed form (and its expansion when short); for a whole layer or a general layer l the matrix
form, as a document under the same notation writes it (rows or columns, the penalty's term with a regularised spec),
written only where that form holds for the layer. Every line it prints reads back as right (tests/test_verify_latex).
"""

from __future__ import annotations

from sympy import Symbol

from derive.engine import matrixform
from derive.engine.derivation import Derivation
from derive.engine.forms import Kind, matrix
from derive.present.latex import latex
from derive.rules import regularizers
from derive.rules import symbols as sym
from derive.rules.functions import Partial
from derive.verify.read import _Attempt
from derive.verify.reading_refs import Target
from derive.verify.syntax import Limits


def correct_latex(d: Derivation, target: Target) -> str:
    """The derived result for the target, in the notation, as LaTeX (lhs = forms …)."""

    net = d.network
    ref = target.ref

    def show(*exprs) -> str:
        return " = ".join(latex(e, net) for e in exprs)

    if ref.index is None:  # the one equation of the matrix form asked for, not the whole form
        conv = matrixform.convention(d)
        if ref.kind in ("W", "b"):
            eq = matrixform.gradients(d, ref.layer, conv)[0 if ref.kind == "W" else 1]
            if target.objective and d.network.regularized(ref.kind):  # ∂J/∂W = ∂C/∂W + coefficient · W
                sides = _penalized_matrix(d, eq, ref.kind, ref.layer)
            else:
                sides = _sides(eq)
            if target.what == "grad":
                return show(*sides)
            named = latex(matrix(Kind.W if ref.kind == "W" else Kind.B, ref.layer), net)
            return rf"\Delta {named} = " + show(*(-sym.LEARNING_RATE * side for side in sides))
        if ref.kind == "delta":
            if ref.layer == d.L:
                return show(*_sides(matrixform.output_delta(d, conv)[-1]))
            return show(*_sides(matrixform.recursion(d, ref.layer, conv)[0]))
        return _by_vector(d, ref.kind, ref.layer, conv)
    layer, i = ref.layer, ref.index[0]
    closed = closed_form_fits(d, layer)  # else the δ form alone
    if ref.kind == "delta":
        forms = [d.delta_closed(layer, i)] if closed else []
        if layer == d.L:
            return show(sym.delta(layer, i), *forms)
        if _recursion_fits(d, layer):
            return show(sym.delta(layer, i), d.delta_recursion(layer, i).rhs, *forms)
        return show(*_sides(matrixform.recursion(d, layer, matrixform.convention(d))[0]))  # Σ_k over a wide layer
    if ref.kind in ("W", "b"):
        name = sym.parameter_name(layer, i, ref.index[1] if ref.kind == "W" else None)
        lhs = Partial(sym.COST, sym.parameter_symbol(layer, i, ref.index[1] if ref.kind == "W" else None))
        forms = [d.gradient(name, "delta"), *([d.gradient(name, "closed")] if closed else [])]
        if target.objective:  # the gradient of J = (1/m) Σ C + R: ∂C/∂θ + ∂R/∂θ
            lhs = Partial(Symbol("J", real=True), lhs.args[1])
            forms = [form + d.penalty_gradient(name) for form in forms]
        if target.what == "update":  # Δθ = −η ∂J/∂θ = …, which reads back as the update it states
            update = rf"\Delta {latex(lhs.args[1], net)} = "
            return update + show(-sym.LEARNING_RATE * lhs, *(-sym.LEARNING_RATE * f for f in forms))
        return show(lhs, *forms)
    if ref.kind == "z":
        forms = [d.dC_dz(layer, i)] if closed else []
        return show(Partial(sym.COST, sym.z(layer, i)), d.sign * sym.delta(layer, i), *forms)
    return ""


def _by_vector(d: Derivation, kind: str, layer: int, conv: matrixform.Convention) -> str:
    """∂C/∂z^{(l)} (Goodfellow's ∇_{a^{(k)}} J) as ±δ^{(l)}'s matrix form, and ∂C/∂a^{(l)} of a hidden layer as
    ±(W^{(l+1)})^T δ^{(l+1)}, in the notation; "" for anything else (the output's ∂C/∂a, which is ∇_a C)."""
    net = d.network
    if kind == "z":
        eqs = matrixform.output_delta(d, conv) if layer == d.L else matrixform.recursion(d, layer, conv)
        delta = matrixform.vec(Kind.DELTA, layer, d)
        forms = [d.sign * eq.rhs for eq in eqs if eq.lhs == delta]
    elif kind == "a" and 0 < layer < d.L:
        forms = [d.sign * matrixform.backprop_in(layer, d, conv)]
    else:
        return ""
    lhs = Partial(sym.COST, matrixform.vec(Kind.Z if kind == "z" else Kind.A, layer, d))
    return " = ".join(latex(e, net) for e in (lhs, *forms))


def general_latex(d: Derivation, attempt: _Attempt) -> str:
    """The derived result for a general-layer target (a free layer letter l), in the layer l: the general form of
    the matrix form or of the element level; "" where there is none (an update, a gradient of J, z)."""
    target = attempt.first
    if attempt.layer_letter is None or target is None or target.what == "update" or target.objective:
        return ""
    kind, whole = target.ref.kind, target.ref.index is None
    layers = {el.target.ref.layer for el in attempt.elements}
    if kind == "b" and not d.network.bias:
        return ""
    if whole:  # δ^{(L)}, δ^{(l)}, [∂C/∂b], ∂C/∂W
        eqs = matrixform.general(d)
        chosen = {"delta": eqs[0] if layers == {d.L} else eqs[1], "b": eqs[2], "W": eqs[-1]}.get(kind)
    else:  # δ := ∂C/∂z, ∂C/∂W (chain), ∂C/∂W, [∂C/∂b], δ^{(L)}, δ^{(l)} (chain), δ^{(l)}
        eqs = matrixform.general_index(d)
        chosen = {"delta": eqs[-3] if layers == {d.L} else eqs[-1], "b": eqs[3], "W": eqs[2]}.get(kind)
    if chosen is None:
        return ""
    return " = ".join(latex(side, d.network) for side in _sides(chosen))


def _penalized_matrix(d: Derivation, eq, kind: str, layer: int) -> tuple:
    """∂J/∂W^{(l)} = ∂C/∂W^{(l)}'s matrix form + the penalty's coefficient times W^{(l)} (or b^{(l)})."""
    reg = d.network.regularization
    coefficient = reg.rule.coefficient(regularizers.LAMBDA, regularizers.BATCH)
    param = matrix(Kind(kind), layer, *eq.lhs.shape)
    return matrix(Kind.DJ_DW if kind == "W" else Kind.DJ_DB, layer, *eq.lhs.shape), eq.rhs + coefficient * param


def _recursion_fits(d: Derivation, layer: int) -> bool:
    """Whether δ^{(l)}_i = Σ_k W_{ki} δ_k g'(z_i) stays within Limits.CLOSED_FORM operations (a 1024-wide
    layer above makes it 1024 terms long, and sympy takes seconds to build it one term at a time)."""
    per_neuron = 1 if d.network.activation(layer).elementwise else d.size(layer)
    return 4 * d.size(layer + 1) * per_neuron <= Limits.CLOSED_FORM


def closed_form_fits(d: Derivation, layer: int) -> bool:
    """Whether ∂C/∂z of a neuron of ``layer``, written out, stays within Limits.CLOSED_FORM operations.

    It repeats every path from the neuron to the outputs (a 20-wide network 8 layers deep has 20^7 of
    them), so it is estimated from the widths before it is built: building it costs a sympy operation
    per weight above the layer, printing it one per operation of every path.
    """
    size = 4 * (1 if d.output_matching() or d.network.activation(d.L).elementwise else d.size(d.L))
    for m in range(d.L - 1, max(layer, 1) - 1, -1):
        size = d.size(m + 1) * (size + 3) * (1 if d.network.activation(m).elementwise else d.size(m))
        if size > Limits.CLOSED_FORM:
            return False
    return size <= Limits.CLOSED_FORM


def _sides(eq) -> tuple:
    return eq.lhs, eq.rhs
