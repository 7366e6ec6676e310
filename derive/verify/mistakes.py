"""The common mistakes of hand-derived backpropagation, one small definition each.

Each mistake gives, for one element of what is being verified (a weight's
∂C/∂w, a bias's, a δ) at one numeric point, the value a person who made that
mistake would have written. A formula that matches one of these values at
every checked point and element is diagnosed with that mistake.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass

import numpy as np
from sympy import Symbol

from derive.engine.derivation import Derivation
from derive.rules import symbols as sym
from derive.rules.floats import evaluate
from derive.verify.reading_refs import Target

Key = tuple  # (code, *data), the same across elements for one consistent mistake
_weight_symbol = functools.cache(sym.W)  # sym.W without sympy's lookup each time (the loops are long)


@dataclass(frozen=True)
class Point:
    """One numeric point: every symbol's value and ∂C/∂z of every neuron (gradient sign).

    ``weights``, when given, are the weight arrays by layer (W<l> of shape (units of l, units of l−1)),
    so that a backward pass is one product per layer instead of a loop over every weight; ``slopes``
    g'(z) of each element-wise layer and ``top`` ∂C/∂a of the outputs, when given, save evaluating them
    again for every Backward.
    """

    values: Mapping[Symbol, float]
    dz: Mapping[tuple[int, int], float]
    weights: Mapping[int, np.ndarray] | None = None
    slopes: Mapping[int, np.ndarray] | None = None
    top: np.ndarray | None = None


class Backward:
    """The backward pass at one point, with room for a mistake in one layer; every number computed once.

    The verifier makes one per point and asks it about every element, so the cost of the diagnoses grows
    with the network once, not once per element; with the point's weight arrays, a layer is one product
    (a 1024-wide layer has a million weights, a 100-layer network a hundred backward passes to try).
    """

    def __init__(self, d: Derivation, point: Point) -> None:
        self.d, self.point = d, point
        self.sizes = d.network.sizes  # computed on each access: once here
        self._derivatives: dict[int, np.ndarray | None] = {}
        self._backs: dict[int, np.ndarray] = {}
        self._without: dict[int, tuple[dict[int, np.ndarray], int]] = {}

    def derivatives(self, layer: int) -> np.ndarray | None:
        """g'(z^{(l)}_i) of every neuron of the layer, or None for softmax (not element-wise)."""
        if layer not in self._derivatives:
            d, slopes = self.d, self.point.slopes
            if slopes is not None and layer in slopes:
                self._derivatives[layer] = slopes[layer]
            elif not d.network.activation(layer).elementwise:
                self._derivatives[layer] = None
            else:
                values = self.point.values
                entries = [evaluate(d.jacobian_entry(layer, i, i), values) for i in self._neurons(layer)]
                self._derivatives[layer] = np.array(entries)
        return self._derivatives[layer]

    def derivative(self, layer: int, i: int) -> float | None:
        """g'(z^{(l)}_i), or None for softmax (not element-wise)."""
        found = self.derivatives(layer)
        return None if found is None else float(found[i - 1])

    def back(self, layer: int, i: int) -> float:
        """∂C/∂a^{(l)}_i: what δ is before the activation's derivative."""
        if layer not in self._backs:
            dz = self.point.dz
            above = None if layer == self.d.L else np.array([dz[(layer + 1, k)] for k in self._neurons(layer + 1)])
            self._backs[layer] = self._sum_back(layer, above)
        return float(self._backs[layer][i - 1])

    def _neurons(self, layer: int) -> range:
        return range(1, self.sizes[layer] + 1)

    def _sum_back(self, layer: int, above: np.ndarray | None) -> np.ndarray:
        """Σ_k W^{(l+1)}_{ki} above_k for every neuron i of the layer (∂C/∂a of the outputs at the top)."""
        d, values, weights = self.d, self.point.values, self.point.weights
        if layer == d.L:
            if self.point.top is not None:
                return self.point.top
            return np.array([evaluate(d.dC_da(i), values) for i in self._neurons(layer)])
        assert above is not None
        if weights is not None:
            return weights[layer + 1].T @ above
        rows = self._neurons(layer + 1)
        return np.array(
            [sum(values[_weight_symbol(layer + 1, k, i)] * above[k - 1] for k in rows) for i in self._neurons(layer)]
        )

    def dz_without(self, skip: int, down_to: int) -> dict[int, np.ndarray] | None:
        """∂C/∂z by layer with layer ``skip``'s activation derivative left out, down to ``down_to``.

        None when a softmax layer is in the way. Computed once per ``skip`` all the way down (or to the
        first softmax layer, where it stops).
        """
        if skip not in self._without:
            out = {skip: np.array([self.back(skip, i) for i in self._neurons(skip)])}
            lowest = skip
            for layer in range(skip - 1, 0, -1):
                derivatives = self.derivatives(layer)
                if derivatives is None:
                    break
                out[layer] = derivatives * self._sum_back(layer, out[layer + 1])
                lowest = layer
            self._without[skip] = (out, lowest)
        out, lowest = self._without[skip]
        return out if lowest <= down_to else None


def _scale_and_local(target: Target, values: Mapping[Symbol, float], sign: int) -> tuple[float, float] | None:
    """The factors around ∂C/∂z: value = scale · ∂C/∂z_i · local."""
    ref = target.ref
    if ref.kind not in ("W", "b", "z", "delta") or ref.index is None:
        return None
    local = values[sym.a(ref.layer - 1, ref.index[1])] if ref.kind == "W" else 1.0
    scale = {"grad": 1.0, "delta": float(sign), "update": -values[sym.LEARNING_RATE]}[target.what]
    return scale, local


def alternatives(
    d: Derivation,
    target: Target,
    point: Point,
    sign: int,
    correct: float,
    nums: Backward | None = None,
    only: Collection[Key] | None = None,
) -> Iterator[tuple[Key, float]]:
    """(mistake, the value it gives) for one element at one point.

    ``nums`` is the point's Backward, to share it between elements; ``only``, when given, are the only
    mistakes still worth computing (those that fitted every element so far), which skips the loops over
    the neurons of every layer once they cannot fit.
    """
    codes = None if only is None else {key[0] for key in only}
    yield ("sign",), -correct
    yield ("factor_two", "double"), 2 * correct
    yield ("factor_two", "half"), correct / 2
    factors = _scale_and_local(target, point.values, sign)
    if factors is None:
        return
    scale, local = factors
    ref = target.ref
    layer, i = ref.layer, ref.index[0]
    nums = nums if nums is not None and nums.point is point else Backward(d, point)
    sizes = nums.sizes
    own = nums.derivative(layer, i)
    back = nums.back(layer, i)
    if ref.kind == "W":
        j = ref.index[1]
        if i <= sizes[layer - 1] and j <= sizes[layer]:
            yield ("transposed",), scale * point.dz[(layer, j)] * point.values[sym.a(layer - 1, i)]
    # a missing activation derivative, in this layer or one above it
    for skip in range(layer, d.L + 1):
        if skip == d.L and d.output_matching():
            continue
        if only is not None and ("missing_derivative", skip) not in only:
            continue
        dz = nums.dz_without(skip, layer)
        if dz is not None:
            yield ("missing_derivative", skip), scale * float(dz[layer][i - 1]) * local
    if layer == d.L and d.output_matching():  # σ'(z) kept, or softmax's a(1 − a) for the Jacobian
        a_i = point.values[sym.a(layer, i)]
        extra = own if own is not None else a_i * (1 - a_i)
        yield ("extra_derivative", layer), scale * point.dz[(layer, i)] * extra * local
    if own is None:
        return
    if layer < d.L and (codes is None or "missing_sum" in codes):  # one term of Σ_k W_{ki} δ_k, not the sum
        every = range(1, sizes[layer + 1] + 1)
        for k in every if only is None else [key[1] for key in only if key[0] == "missing_sum" and key[1] != "="]:
            term = own * point.values[_weight_symbol(layer + 1, k, i)] * point.dz[(layer + 1, k)]
            yield ("missing_sum", k), scale * term * local
        if i <= sizes[layer + 1] and (only is None or ("missing_sum", "=") in only):
            term = own * point.values[_weight_symbol(layer + 1, i, i)] * point.dz[(layer + 1, i)]
            yield ("missing_sum", "="), scale * term * local
    if layer == d.L and d.output_matching():  # a − y has no activation derivative to misplace
        return
    if codes is not None and "wrong_layer_derivative" not in codes:
        return
    pairs = [(other, k) for other in range(1, d.L + 1) for k in range(1, sizes[other] + 1)]
    if only is not None:  # those that fitted so far; (other, "=") is neuron i of that layer
        pairs = [(key[1], i if key[2] == "=" else key[2]) for key in only if key[0] == "wrong_layer_derivative"]
    for other, k in dict.fromkeys(pairs):
        if other == layer or k > sizes[other] or nums.derivatives(other) is None:
            continue
        value = scale * back * nums.derivative(other, k) * local
        yield ("wrong_layer_derivative", other, k), value
        if k == i:
            yield ("wrong_layer_derivative", other, "="), value
