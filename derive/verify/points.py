"""The sample points and their float64 numbers: the formula's value and the derived value of each element.

Separate from the reading and the exact check because everything here is numpy and float64, never sympy
arithmetic: a wide or deep network has too many weights and paths for sympy to evaluate within a second.
Values agree when they are within RTOL (relative) or ATOL (absolute).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable
from dataclasses import dataclass, replace

import numpy as np
import sympy
from sympy import Expr, Symbol

from derive.engine import chain
from derive.engine.derivation import Derivation
from derive.model.samples import forward, random_point
from derive.rules import regularizers
from derive.rules import symbols as sym
from derive.rules.floats import evaluate
from derive.verify.backward import Point
from derive.verify.read import _Attempt
from derive.verify.reading_refs import Target

RTOL = 1e-8
ATOL = 1e-12


def _points(d: Derivation, rng: np.random.Generator, count: int) -> list[Point]:
    """Seeded parameters, input and target, with every z and a from the forward pass, ∂C/∂z and η.

    The values are float64 from the start (as ``numeric.sample_values`` computes them, without making a
    sympy Float of each), and a weight's or bias's value is looked up only when something asks for it:
    a 100-100-100 network has 20000 weights, and making a symbol for each took longer than the rest.
    """
    net, sizes = d.network, d.network.sizes
    names = {"x": [sym.x(j) for j in range(1, net.inputs + 1)], "y": [sym.y(k) for k in range(1, net.outputs + 1)]}
    for layer in range(1, d.L + 1):
        names[f"z{layer}"] = [sym.z(layer, i) for i in range(1, sizes[layer] + 1)]
        names[f"a{layer}"] = [sym.a(layer, i) for i in range(1, sizes[layer] + 1)]
    # g'(z) of each element-wise layer, made once in a stand-in a and z (as Derivation.jacobian_entry writes
    # it), and ∂C/∂a of the outputs, made once for all points: a 100-layer network has 3000 neurons
    a_, z_ = sympy.Dummy("a", real=True), sympy.Dummy("z", real=True)
    slopes = {
        layer: net.activation(layer).local_derivative(a_, z_)
        for layer in range(1, d.L + 1)
        if net.activation(layer).elementwise
    }
    top = [d.dC_da(i) for i in range(1, sizes[d.L] + 1)]
    out = []
    for _ in range(count):
        params, x, y = random_point(net, rng)
        arrays = {"x": x, "y": y}
        for layer, (z, a) in enumerate(forward(net, params, x), start=1):
            arrays[f"z{layer}"], arrays[f"a{layer}"] = z, a
        values = _Values({name: np.asarray(array, dtype=float) for name, array in params.items()})
        for key, symbols in names.items():
            values.update(zip(symbols, np.asarray(arrays[key], dtype=float).reshape(-1).tolist(), strict=True))
        values[sym.LEARNING_RATE] = float(rng.uniform(0.05, 1.0))
        if net.regularization is not None:  # λ and m drawn too, so that a wrong factor shows at any λ
            values[regularizers.LAMBDA] = float(rng.uniform(0.05, 1.0))
            values[regularizers.BATCH] = float(rng.integers(2, 10))
        weights = {layer: values.params[f"W{layer}"] for layer in range(1, d.L + 1)}
        slope = {}
        for layer, g in slopes.items():
            pairs = zip(arrays[f"a{layer}"].tolist(), arrays[f"z{layer}"].tolist(), strict=True)
            slope[layer] = np.array([evaluate(g, {a_: a, z_: z}) for a, z in pairs])
        outputs = {layer: np.asarray(arrays[f"a{layer}"], dtype=float) for layer in range(1, d.L + 1)}
        top_values = np.array([evaluate(e, values) for e in top])
        dz = _dz_numbers(d, values, outputs, weights, slope, top_values)
        out.append(Point(values, dz, weights, slope, top_values))
    return out


class _Values(dict):
    """Symbol values of one point; a weight's or bias's is read from its array the first time it is asked for.

    Copies (the point with δ added, once per reading) share what has been read, in ``cache``.
    """

    def __init__(self, params: dict[str, np.ndarray], *args, cache: dict[Symbol, float] | None = None) -> None:
        super().__init__(*args)
        self.params = params
        self.cache: dict[Symbol, float] = {} if cache is None else cache

    def __missing__(self, key: Symbol) -> float:
        value = self.cache.get(key)
        if value is None:
            value = self.cache[key] = self._read(key)
        self[key] = value
        return value

    def _read(self, key: Symbol) -> float:
        info = sym.parse_name(key.name) if isinstance(key, Symbol) else None
        if info is None or info.kind not in ("W", "b") or f"{info.kind}{info.layer}" not in self.params:
            raise KeyError(key)
        array = self.params[f"{info.kind}{info.layer}"]
        index = (info.i - 1, info.j - 1) if info.kind == "W" else (info.i - 1,)
        if any(not 0 <= k < n for k, n in zip(index, array.shape, strict=True)):
            raise KeyError(key)
        return float(array[index])

    def copy(self) -> _Values:
        return _Values(self.params, self, cache=self.cache)


def _dz_numbers(
    d: Derivation,
    values: dict[Symbol, float],
    outputs: dict[int, np.ndarray],
    weights: dict[int, np.ndarray],
    slopes: dict[int, np.ndarray],
    top: np.ndarray,
) -> dict[tuple[int, int], float]:
    """∂C/∂z of every neuron in float64: the recursion of ``Derivation._back``, in NumPy, for one point.

    Layer by layer: Σ_k W_{km} ∂C/∂z_k is one product with the weight array; an element-wise layer
    multiplies by g'(z) (``slopes``); a layer-valued one by its Jacobian's transpose (softmax's, with
    entries a_m(δ_{mi} − a_i), gives a_i (v_i − Σ_m a_m v_m)). The outputs start from ∂C/∂a (``top``), or
    from the simplified a − y where the loss and the output match. A 1024-wide softmax costs a million
    Jacobian entries written out; here it costs a product.
    """
    L = d.L

    def through(layer: int, v: np.ndarray) -> np.ndarray:  # ∂C/∂z of the layer from ∂C/∂a
        if layer in slopes:
            return v * slopes[layer]
        return d.network.activation(layer).back(outputs[layer], v)  # Jᵀ v of a layer-valued activation

    if d.output_matching():
        dz = np.array([evaluate(d.dC_dz(L, i), values) for i in range(1, d.size(L) + 1)])
    else:
        dz = through(L, top)
    out = {(L, i): float(v) for i, v in enumerate(dz, start=1)}
    for layer in range(L - 1, 0, -1):
        dz = through(layer, weights[layer + 1].T @ dz)
        out.update({(layer, i): float(v) for i, v in enumerate(dz, start=1)})
    return out


_delta_symbol = functools.cache(sym.delta)  # sym.delta without sympy's lookup: a 100-layer network has 3000


def _with_delta(point: Point, sign: int) -> Point:
    """The point with δ^{(l)}_i = sign · ∂C/∂z^{(l)}_i."""
    values = point.values.copy()
    for (layer, i), v in point.dz.items():
        values[_delta_symbol(layer, i)] = sign * v
    return replace(point, values=values)


def close(a: float, b: float) -> bool:
    """Equal within the tolerance (both finite)."""
    if not (math.isfinite(a) and math.isfinite(b)):
        return False
    return abs(a - b) <= ATOL + RTOL * max(abs(a), abs(b))


def _evaluate(expr: Expr, values: dict[Symbol, float]) -> float:
    """The formula's value in float64; nan where it has none (sympy's ∞, a complex number, 1/0).

    Building refuses what is undefined for every input, so this is for values that are undefined only
    at the point, which the verdict reports as such, never as a traceback.
    """
    try:
        return evaluate(expr, values)
    except (TypeError, ValueError, ArithmeticError):
        return math.nan


@dataclass(frozen=True)
class _AtPoint:
    """The chain-rule table's terms at one point, all float64: ∂C/∂z from the point's recursion.

    So the derived value of an element is its rule in :mod:`derive.engine.chain` computed with numbers,
    never its closed form, which for a deep network repeats every path through the layers.
    """

    d: Derivation
    point: Point
    zero: float = 0.0
    one: float = 1.0

    @property
    def L(self) -> int:  # noqa: N802 - the articles' letter
        return self.d.L

    def size(self, layer: int) -> int:
        return self.d.size(layer)

    def dC_da(self, k: int) -> float:  # noqa: N802
        return evaluate(self.d.dC_da(k), self.point.values)

    def dC_dz(self, layer: int, i: int) -> float:  # noqa: N802
        return self.point.dz[(layer, i)]

    def jacobian_entry(self, layer: int, i: int, k: int) -> float:
        return evaluate(self.d.jacobian_entry(layer, i, k), self.point.values)

    def weight(self, layer: int, i: int, j: int) -> float:
        return self.point.values[sym.W(layer, i, j)]

    def output(self, layer: int, j: int) -> float:
        return self.point.values[sym.a(layer, j)]

    def total(self, terms: Iterable[float]) -> float:
        return math.fsum(terms)

    def times(self, value: float, local: float) -> float:
        return value * local


def _correct_number(d: Derivation, target: Target, point: Point, sign: int) -> float:
    """The derived value of one element at a point (δ is valued as ∂C/∂z)."""
    values = point.values
    grad = chain.factor(_AtPoint(d, point), chain.COST, target.ref.differentiated)
    if target.objective and target.ref.kind in ("W", "b") and target.ref.index is not None:  # + ∂R/∂θ
        penalty = d.penalty_gradient(sym.parameter_name(target.ref.layer, *target.ref.index))
        grad += _evaluate(penalty, values) if penalty != 0 else 0.0
    if target.what == "delta":
        return sign * grad
    if target.what == "update":
        return -values[sym.LEARNING_RATE] * grad
    return grad


def _numbers(d: Derivation, attempt: _Attempt, pts: list[Point], p: int) -> list[tuple[float, float]]:
    """(formula's value, correct value) of every element at point p, computed once per attempt and point."""
    found = attempt.numbers.get(p)
    if found is None:
        sign = attempt.reading.sign
        point = _with_delta(pts[p], sign)
        found = [
            (_evaluate(el.given, point.values), _correct_number(d, el.target, point, sign)) for el in attempt.elements
        ]
        attempt.numbers[p] = found
    return found


def _first_mismatch(d: Derivation, attempt: _Attempt, pts: list[Point]) -> tuple[int, int, float, float] | None:
    """(point, element, formula's value, correct value) where they first differ, or None."""
    for p in range(len(pts)):
        for e, (given, correct) in enumerate(_numbers(d, attempt, pts, p)):
            if not close(given, correct):
                return p, e, given, correct
    return None
