"""The common mistakes of hand-derived backpropagation, one small definition each.

Each mistake gives, for one element of what is being verified (a weight's
∂C/∂w, a bias's, a δ) at one numeric point, the value a person who made that
mistake would have written. A formula that matches one of these values at
every checked point and element is diagnosed with that mistake.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from sympy import Symbol

from . import symbols as sym
from .derivation import Derivation
from .floats import evaluate
from .reading import Target

Key = tuple  # (code, *data), the same across elements for one consistent mistake


@dataclass(frozen=True)
class Point:
    """One numeric point: every symbol's value and ∂C/∂z of every neuron (gradient sign)."""

    values: Mapping[Symbol, float]
    dz: Mapping[tuple[int, int], float]


class _Numbers:
    """The backward pass at one point, with room for a mistake in one layer."""

    def __init__(self, d: Derivation, point: Point) -> None:
        self.d, self.p = d, point

    def derivative(self, layer: int, i: int) -> float | None:
        """g'(z^{(l)}_i), or None for softmax (not element-wise)."""
        if not self.d.network.activation(layer).elementwise:
            return None
        return evaluate(self.d.jacobian_entry(layer, i, i), self.p.values)

    def back(self, layer: int, i: int, dz: Callable[[int, int], float] | None = None) -> float:
        """∂C/∂a^{(l)}_i: what δ is before the activation's derivative."""
        d, values = self.d, self.p.values
        if layer == d.L:
            return evaluate(d.dC_da(i), values)
        up = dz or (lambda q, k: self.p.dz[(q, k)])
        n = d.size(layer + 1)
        return sum(values[sym.W(layer + 1, k, i)] * up(layer + 1, k) for k in range(1, n + 1))

    def dz_without(self, skip: int, down_to: int) -> dict[tuple[int, int], float]:
        """∂C/∂z with layer ``skip``'s activation derivative left out, down to layer ``down_to``."""
        out: dict[tuple[int, int], float] = {}
        for i in range(1, self.d.size(skip) + 1):
            out[(skip, i)] = self.back(skip, i)
        for layer in range(skip - 1, down_to - 1, -1):
            for i in range(1, self.d.size(layer) + 1):
                g = self.derivative(layer, i)
                if g is None:
                    return {}
                out[(layer, i)] = g * self.back(layer, i, lambda q, k: out[(q, k)])
        return out


def _scale_and_local(target: Target, values: Mapping[Symbol, float], sign: int) -> tuple[float, float] | None:
    """The factors around ∂C/∂z: value = scale · ∂C/∂z_i · local."""
    ref = target.ref
    if ref.kind not in ("W", "b", "z", "delta") or ref.index is None:
        return None
    local = values[sym.a(ref.layer - 1, ref.index[1])] if ref.kind == "W" else 1.0
    scale = {"grad": 1.0, "delta": float(sign), "update": -values[sym.LEARNING_RATE]}[target.what]
    return scale, local


def alternatives(d: Derivation, target: Target, point: Point, sign: int, correct: float) -> Iterator[tuple[Key, float]]:
    """(mistake, the value it gives) for one element at one point."""
    yield ("sign",), -correct
    yield ("factor_two", "double"), 2 * correct
    yield ("factor_two", "half"), correct / 2
    factors = _scale_and_local(target, point.values, sign)
    if factors is None:
        return
    scale, local = factors
    ref = target.ref
    layer, i = ref.layer, ref.index[0]
    nums = _Numbers(d, point)
    own = nums.derivative(layer, i)
    back = nums.back(layer, i)
    if ref.kind == "W":
        j = ref.index[1]
        if i <= d.size(layer - 1) and j <= d.size(layer):
            yield ("transposed",), scale * point.dz[(layer, j)] * point.values[sym.a(layer - 1, i)]
    # a missing activation derivative, in this layer or one above it
    for skip in range(layer, d.L + 1):
        if skip == d.L and d.output_matching():
            continue
        dz = nums.dz_without(skip, layer)
        if dz:
            yield ("missing_derivative", skip), scale * dz[(layer, i)] * local
    if layer == d.L and d.output_matching():  # σ'(z) kept, or softmax's a(1 − a) for the Jacobian
        a_i = point.values[sym.a(layer, i)]
        extra = own if own is not None else a_i * (1 - a_i)
        yield ("extra_derivative", layer), scale * point.dz[(layer, i)] * extra * local
    if own is None:
        return
    if layer < d.L:  # one term of Σ_k W_{ki} δ_k instead of the sum
        for k in range(1, d.size(layer + 1) + 1):
            term = own * point.values[sym.W(layer + 1, k, i)] * point.dz[(layer + 1, k)]
            yield ("missing_sum", k), scale * term * local
        if i <= d.size(layer + 1):
            term = own * point.values[sym.W(layer + 1, i, i)] * point.dz[(layer + 1, i)]
            yield ("missing_sum", "="), scale * term * local
    if layer == d.L and d.output_matching():  # a − y has no activation derivative to misplace
        return
    for other in range(1, d.L + 1):
        if other == layer or not d.network.activation(other).elementwise:
            continue
        for k in range(1, d.size(other) + 1):
            value = scale * back * nums.derivative(other, k) * local
            yield ("wrong_layer_derivative", other, k), value
            if k == i:
                yield ("wrong_layer_derivative", other, "="), value
