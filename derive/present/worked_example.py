"""The document's numbers: the spec's worked example, and the vanishing-gradient bound measured on it.

Every number comes from the record's evaluation at the sample (derive's own
float and sympy arithmetic); the finite-difference agreement quoted below the
example is the check report's. Nothing here runs generated code.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import sympy
from sympy import Basic, Matrix

from derive.engine import numbers
from derive.engine.forms import Index, Kind, Size, indexed, label_of, matrix
from derive.engine.record import Record, Sample
from derive.engine.steps import Equation
from derive.present.document_data import RELATIONS, Eq, ExampleRow, Vanishing
from derive.present.elision import WIDE, matrix_rows, shape
from derive.rules import symbols as sym

# Numbers in the worked example (and its learning rate) are rounded to this many significant digits.
SIGNIFICANT = 6

Tex = Callable[[Basic], str]


def number(value: float) -> sympy.Float:
    """A number rounded for reading, the same on every machine."""
    return sympy.Float(f"{float(value):.{SIGNIFICANT}g}", SIGNIFICANT)


def example_rows(rec: Record, sample: Sample, tex: Tex) -> list[ExampleRow]:
    """The example's givens, then z and a, the cost, δ, the gradients and one update step, layer by layer."""
    net, L = rec.network, rec.depth
    ex = net.example
    assert ex is not None
    ft = net.notation.index_order == "from_to"
    params = sample.params
    form = rec.matrix
    rows: list[ExampleRow] = []

    def shown(array: np.ndarray, weight: bool = False) -> str:
        array = np.asarray(array, dtype=float)
        if array.ndim == 1:  # a vector: a column, or a row in the row layout
            array = array.reshape((1, -1) if net.notation.layout == "row" else (-1, 1))
        if weight and ft:
            array = array.T
        rows, cols = array.shape
        if rows <= WIDE and cols <= WIDE:
            return tex(Matrix([[number(v) for v in row] for row in array]))
        # a wide one: only the entries shown become sympy numbers, written as the printer writes an elided matrix
        cells = matrix_rows(rows, cols, lambda r, c: tex(number(array[r, c])))
        body = r"\\".join(" & ".join(line) for line in cells)
        return rf"\left[\begin{{matrix}}{body}\end{{matrix}}\right]" + shape(rows, cols)

    def row(kind: str, layer: int | None, eq: Equation, value: str) -> None:
        rows.append(ExampleRow(kind, layer, tex(eq.lhs), tex(eq.rhs), value, RELATIONS[eq.relation]))

    for name in sorted(params, key=_param_order):
        info = sym.parse_name(name + ("[1,1]" if name.startswith("W") else "[1]"))
        symbol = matrix(Kind(info.kind), info.layer)
        rows.append(ExampleRow("given", info.layer, tex(symbol), "", shown(params[name], name.startswith("W"))))
    rows.append(ExampleRow("given", None, tex(rec.names.input), "", shown(ex.x)))
    rows.append(ExampleRow("given", None, tex(rec.names.target), "", shown(ex.y)))
    for layer, (z, a) in enumerate(sample.forward, start=1):
        eq_z, eq_a = form.forward[layer]
        row("z", layer, eq_z, shown(z))
        row("a", layer, eq_a, shown(a))
    rows.append(ExampleRow("cost", None, tex(sym.COST), tex(rec.cost.sample.rhs), tex(number(sample.cost))))
    row("delta", L, form.output_delta[0], shown(sample.deltas[L]))
    for layer in range(L - 1, 0, -1):
        row("delta", layer, form.recursion[layer][0], shown(sample.deltas[layer]))
    for layer in range(L, 0, -1):
        for eq in form.gradients[layer]:
            kind = "W" if label_of(eq.lhs).kind is Kind.DC_DW else "b"
            row("gradient", layer, eq, shown(sample.gradients[f"{kind}{layer}"], kind == "W"))
    decay = numbers.penalty_gradients(net, params, 1)  # the L2 penalty's ∂R/∂θ of this one sample's step
    for layer in range(1, L + 1):
        for kind in ("W", "b") if net.bias else ("W",):
            step = sample.gradients[f"{kind}{layer}"] + decay.get(f"{kind}{layer}", 0.0)
            new = params[f"{kind}{layer}"] - ex.learning_rate * step
            rules = [e for e in rec.update[layer] if label_of(e.lhs).kind is Kind(kind)]
            update = rules[-1]  # under the error-term convention, the rule in δ
            row("update", layer, update, shown(new, kind == "W"))
    return rows


def vanishing(rec: Record, sample: Sample | None, tex: Tex) -> Vanishing | None:
    """Article 004's remark made exact for squashing hidden layers, measured at the example when there is one.

    With derive's W^{(l+1)} (a row per neuron of layer l + 1), δ^{(l)}_i = g′(z^{(l)}_i) Σ_k W^{(l+1)}_{ki} δ^{(l+1)}_k,
    so ‖δ^{(l)}‖∞ ≤ max g′ · max_i Σ_k |W^{(l+1)}_{ki}| · ‖δ^{(l+1)}‖∞: the largest column sum of W, its induced
    1-norm ‖W‖₁ = ‖Wᵀ‖∞. The matrix a from-to document prints is Wᵀ, whose largest row sum is that same number, its
    induced ∞-norm; the norm is named for the matrix printed.
    """
    net, L = rec.network, rec.depth
    squashing = [layer for layer in range(1, L) if net.activation(layer).squashing]
    if not squashing:
        return None
    which = r"\infty" if net.notation.index_order == "from_to" else "{1}"

    def norm(expr: Basic, which: str) -> sympy.Symbol:  # one symbol, so the printer keeps it whole in products
        return sympy.Symbol(rf"\lVert {tex(expr)}\rVert_{which}")

    layers = []
    bound: Basic = norm(rec.names.layers[L].delta, r"\infty")
    for layer in range(L - 1, 0, -1):
        act = net.activation(layer)
        b = act.derivative_bound
        layers.append((layer, act.latex, tex(b)))
        bound = b * norm(matrix(Kind.W, layer + 1), which) * bound
    measured = []
    if sample is not None:
        upper = float(np.abs(sample.deltas[L]).max())
        measured.append((L, upper, upper))
        for layer in range(L - 1, 0, -1):
            col_sums = np.abs(sample.params[f"W{layer + 1}"]).sum(axis=0).max()
            upper = float(net.activation(layer).derivative_bound) * float(col_sums) * upper
            actual = float(np.abs(sample.deltas[layer]).max())
            measured.append((layer, actual, upper))
    per_layer = min(float(net.activation(layer).derivative_bound) for layer in squashing)
    first = norm(rec.names.layers[1].delta, r"\infty")
    i, k = Index("current"), Index("next")  # a neuron of layer l, of layer l + 1
    sums = sympy.Sum(sympy.Abs(indexed(Kind.W, "l+1", k, i)), (k, 1, Size("l+1")))  # printed w_{ik} when from-to
    return Vanishing(
        list(reversed(layers)),
        Eq(tex(first), r"\le", tex(bound)),
        round(100 * (1 - per_layer)),
        measured,
        Eq(tex(norm(matrix(Kind.W, "l+1"), which)), "=", rf"\max_{{{tex(i)}}} {tex(sums)}"),
        cumulative(rec),
    )


def cumulative(rec: Record) -> list[tuple[int, str, str]]:
    """The least share of the error term lost by each layer through the activations' derivatives alone.

    δ^{(L)} carries g'(z^{(L)}) unless the loss cancels it (δ^{(L)} = a − y); each hidden layer adds its own g'.
    With weights of norm at most 1, |δ^{(l)}| ≤ Π max g' · |error|, so at least 1 − Π max g' of it is lost: for
    sigmoid layers 1 − 0.25^k after k of them. Layers where that share is 0 are left out.
    """
    net, L = rec.network, rec.depth
    out = []
    bounds: list[sympy.Expr] = []
    for layer in range(L, 0, -1):
        act = net.activation(layer)
        if act.derivative_bound is None or not act.elementwise:
            break
        if layer < L or not rec.output_element.matching:
            bounds.append(act.derivative_bound)
        product = sympy.Mul(*bounds)
        if not bounds or not product < 1:
            continue
        base = {_decimal(b) for b in bounds}
        factors = f"{base.pop()}^{{{len(bounds)}}}" if len(base) == 1 else r" \cdot ".join(_decimal(b) for b in bounds)
        text = f"1 - {factors}" if len(bounds) > 1 else f"1 - {_decimal(bounds[0])}"
        out.append((layer, text, _decimal(100 * (1 - product))))
    return out


def _decimal(value: sympy.Expr) -> str:
    """An exact rational as a short decimal: 1/4 → 0.25, 375/4 → 93.75."""
    return f"{float(value):.12g}"


def _param_order(name: str) -> tuple[int, bool]:
    return int(name[1:]), name[0] != "W"
