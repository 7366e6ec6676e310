"""The backward pass at one sample point, in float64, with room for a mistake in one layer.

The common mistakes of :mod:`derive.verify.mistakes` are values of this pass with one thing changed (an
activation derivative left out, the sum over the next layer cut to one term); it is its own module
because it is numbers only (numpy), shared by every mistake and every element at the point.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from sympy import Symbol

from derive.engine.derivation import Derivation
from derive.rules import symbols as sym
from derive.rules.floats import evaluate

weight_symbol = functools.cache(sym.W)  # sym.W without sympy's lookup each time (the loops are long)


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
            [sum(values[weight_symbol(layer + 1, k, i)] * above[k - 1] for k in rows) for i in self._neurons(layer)]
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
