"""Why backpropagation is cheap: the multiply-adds of a forward pass, of backpropagation and of finite differences.

Counted per sample from the sizes alone, for the products of weights with activations (the bulk of the
work); activations, their derivatives, the biases and the cost add a few operations per neuron.
"""

from __future__ import annotations

from derive.model.notation import Notation
from derive.present.document_data import Eq, OpCount


def count(sizes: tuple[int, ...], bias: bool, notation: Notation = Notation()) -> OpCount:  # noqa: B008 - frozen
    """The counts for a network of these sizes (input first), with or without biases, and their equations (their
    layers written and numbered as the notation does)."""
    products = list(zip(sizes[1:], sizes[:-1], strict=True))  # (n^{(l)}, n^{(l-1)}) for l = 1 … L
    forward = sum(n * m for n, m in products)
    recursion = sum(n * m for n, m in products[1:])
    parameters = forward + (sum(sizes[1:]) if bias else 0)

    def terms(pairs: list[tuple[int, int]]) -> str:
        return " + ".join(rf"{n} \cdot {m}" for n, m in pairs) if pairs else "0"

    n, n_below = (f"n{notation.layer_script(layer)}" for layer in ("l", "l-1"))
    first, ll = notation.shown_layer(1), notation.layer_letter
    each = rf"\sum_{{{ll}={first}}}^{{L}} {n} {n_below}"
    later = rf"\sum_{{{ll}={first + 1}}}^{{L}} {n} {n_below}"
    equations = [Eq("F", "=", rf"{each} = {terms(products)} = {forward}")]
    if bias:
        with_bias = [(n, m + 1) for n, m in products]
        sum_p = rf"\sum_{{{ll}={first}}}^{{L}} {n} \left({n_below} + 1\right)"
        equations.append(Eq("P", "=", rf"{sum_p} = {terms(with_bias)} = {parameters}"))
    else:
        equations.append(Eq("P", "=", rf"F = {parameters}"))
    backward = forward + recursion
    equations.append(Eq("B", "=", rf"{each} + {later} = {forward} + {recursion} = {backward}"))
    equations.append(Eq("F + B", "=", rf"{forward} + {backward} = {forward + backward}"))
    equations.append(Eq("2 P F", "=", rf"2 \cdot {parameters} \cdot {forward} = {2 * parameters * forward}"))
    return OpCount(tuple(sizes), parameters, forward, recursion, equations)
