"""The gradients a typical mistake in hand-written backprop gives, at a batch: one registry entry each.

A :class:`Pass` holds one batch's forward arrays and the pieces of its backward pass (the output δ, each
layer's g′(z), ∂C/∂a of the outputs), computed once; :meth:`Pass.backward` is that pass with one thing
changed. A :class:`Mistake` is a code (the verifier's, :mod:`derive.verify.mistakes`, where it has one),
its English words and a function of the pass → every version of the mistake it can make in this
network, each with its gradients. :func:`recognised` names those that your arrays equal; it serves
:func:`derive.testing.assert_gradients` (the generated pytest file has the table and the ratio hints,
not these, which need the derivation).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import sympy

from derive.engine import numbers
from derive.engine.derivation import Derivation
from derive.numeric.codeplan import layer_text
from derive.rules import regularizers
from derive.rules import symbols as sym
from derive.rules.floats import evaluate
from derive.rules.targets import one_hot

Arrays = dict[str, np.ndarray]
# Multiply-adds the versions of the mistakes may take in all (a pass costs m × the number of weights): a few
# hundred passes of an MNIST-sized network, a handful of a deep wide one, then the rest are not tried.
BUDGET = 200_000_000
_A, _Z = sympy.Symbol("a", real=True), sympy.Symbol("z", real=True)


class Pass:
    """One batch: z and a of every layer, the derived δ's, and the pieces a mistaken pass is made of."""

    def __init__(self, d: Derivation, params: Mapping[str, np.ndarray], x: np.ndarray, y: np.ndarray) -> None:
        self.d, self.net, self.L = d, d.network, d.L
        y = np.asarray(y)
        if y.ndim == 1 and np.issubdtype(y.dtype, np.integer):  # integer labels: their one-hot rows
            y = one_hot(y, self.net.outputs)
        self.params = {name: np.asarray(value, dtype=float) for name, value in params.items()}
        self.x, self.y = np.atleast_2d(np.asarray(x, dtype=float)), np.atleast_2d(np.asarray(y, dtype=float))
        self.numbers = numbers.at_batch(d, self.params, self.x, self.y)
        self.m = self.x.shape[0]
        self.cost = self.m * sum(w.size for name, w in self.params.items() if name.startswith("W"))
        self._slopes: dict[tuple[int, bool], np.ndarray] = {}

    @property
    def z(self) -> dict[int, np.ndarray]:
        return self.numbers.z

    @property
    def a(self) -> dict[int, np.ndarray]:
        return self.numbers.a

    @cached_property
    def gradients(self) -> Arrays:
        """The derived ∂J/∂θ."""
        return self.numbers.gradients

    def elementwise(self, layer: int) -> bool:
        return self.net.activation(layer).elementwise

    @property
    def matching(self) -> bool:
        """Whether δ of the outputs is a − y (the loss cancels the output activation's derivative)."""
        return self.d.output_matching()

    def slope(self, layer: int, at_output: bool = False) -> np.ndarray:
        """g′(z⁽ˡ⁾) of an element-wise layer, (m, n); ``at_output``: g′ taken at a⁽ˡ⁾ instead of z⁽ˡ⁾."""
        key = (layer, at_output)
        if key not in self._slopes:
            act = self.net.activation(layer)
            z, a = self.z[layer], self.a[layer]
            if at_output:
                formula = act.derivative(_Z)
                value = np.vectorize(lambda v: evaluate(formula, {_Z: v}))(a)
            else:
                formula = act.local_derivative(_A, _Z)
                value = np.vectorize(lambda u, v: evaluate(formula, {_A: u, _Z: v}))(a, z)
            self._slopes[key] = np.asarray(value, dtype=float)
        return self._slopes[key]

    @cached_property
    def top(self) -> np.ndarray:
        """∂C/∂a of the outputs, (m, outputs): δ⁽ᴸ⁾ before the output activation's derivative."""
        L, n = self.L, self.net.outputs
        exprs = [self.d.dC_da(k) for k in range(1, n + 1)]
        out = np.empty((self.m, n))
        for s in range(self.m):
            values = {sym.a(L, i + 1): float(self.a[L][s, i]) for i in range(n)}
            values |= {sym.z(L, i + 1): float(self.z[L][s, i]) for i in range(n)}
            values |= {sym.y(k + 1): float(self.y[s, k]) for k in range(self.y.shape[1])}
            out[s] = [evaluate(e, values) for e in exprs]
        return out

    def backward(
        self,
        delta: np.ndarray | None = None,
        slopes: Mapping[int, np.ndarray] | None = None,
        weights: Mapping[int, np.ndarray] | None = None,
        scales: Mapping[int, float] | None = None,
    ) -> Arrays:
        """∂J/∂θ by a backward pass with δ⁽ᴸ⁾ = ``delta``, g′(z⁽ˡ⁾) replaced by ``slopes[l]``, W⁽ˡ⁾ of the
        recursion by ``weights[l]`` and layer l's gradients multiplied by ``scales[l]`` (each where given)."""
        slopes, weights, scales = slopes or {}, weights or {}, scales or {}
        dz = {self.L: self.numbers.dC_dz[self.L] if delta is None else delta}
        for layer in range(self.L - 1, 0, -1):
            v = dz[layer + 1] @ weights.get(layer + 1, self.params[f"W{layer + 1}"])
            act = self.net.activation(layer)
            if layer in slopes:
                dz[layer] = v * slopes[layer]
            elif act.elementwise:
                dz[layer] = v * self.slope(layer)
            else:
                dz[layer] = np.array([act.back(a, row) for a, row in zip(self.a[layer], v, strict=True)])
        out: Arrays = {}
        for layer in range(1, self.L + 1):
            scale = scales.get(layer, 1.0)
            out[f"W{layer}"] = scale * dz[layer].T @ self.a[layer - 1] / self.m
            if self.net.bias:
                out[f"b{layer}"] = scale * dz[layer].mean(axis=0)
        return out

    def g(self, layer: int) -> str:
        """g′(z⁽ˡ⁾) as the message writes it: σ′(z⁽¹⁾)."""
        return f"{self.net.activation(layer).text}′({layer_text('z', layer)})"


Found = Iterator[tuple[dict[str, object], Arrays]]  # (the words' fields, the gradients) of each version


@dataclass(frozen=True)
class Mistake:
    """A typical mistake: its code, its words (en, with the fields of each version) and its versions."""

    code: str
    words: str
    versions: Callable[[Pass], Found]


def _missing_derivative(p: Pass) -> Found:
    """g′(z⁽ˡ⁾) of an element-wise hidden layer left out; the output's, where the loss does not cancel it."""
    for layer in range(1, p.L):
        if p.elementwise(layer):
            yield {"g": p.g(layer), "layer": layer}, p.backward(slopes={layer: np.ones_like(p.z[layer])})
    if not p.matching:
        yield {"g": p.g(p.L), "layer": p.L}, p.backward(delta=p.top)


def _extra_derivative(p: Pass) -> Found:
    """δ⁽ᴸ⁾ = (a − y) ⊙ g′(z⁽ᴸ⁾) where the loss cancels g′ (softmax: a ⊙ (1 − a))."""
    if p.matching:
        L = p.L
        if p.elementwise(L):
            slope, text = p.slope(L), p.g(L)
        else:
            slope, a = p.a[L] * (1 - p.a[L]), layer_text("a", L)
            text = f"{a} ⊙ (1 − {a})"
        yield {"g": text, "delta": layer_text("δ", L)}, p.backward(delta=p.numbers.dC_dz[L] * slope)


def _a_minus_y(p: Pass) -> Found:
    """δ⁽ᴸ⁾ = a − y for a loss and output that do not give it."""
    if not p.matching:
        yield {"layer": p.L, "delta": layer_text("δ", p.L)}, p.backward(delta=p.a[p.L] - p.y)


def _transposed(p: Pass) -> Found:
    """W⁽ˡ⁺¹⁾ where its transpose belongs in the recursion (square weights only: other shapes would not fit)."""
    for layer in range(1, p.L):
        w = p.params[f"W{layer + 1}"]
        if w.shape[0] == w.shape[1]:
            fields = {"W": layer_text("W", layer + 1), "delta": layer_text("δ", layer)}
            fields["above"] = layer_text("δ", layer + 1)
            yield fields, p.backward(weights={layer + 1: w.T})


def _wrong_layer_derivative(p: Pass) -> Found:
    """g′ of another layer of the same width where the layer's own belongs."""
    own = [layer for layer in range(1, p.L + 1) if p.elementwise(layer) and (layer < p.L or not p.matching)]
    for layer in own:
        for other in range(1, p.L + 1):
            if other != layer and p.elementwise(other) and p.z[other].shape == p.z[layer].shape:
                slope = p.slope(other)
                found = p.backward(delta=p.top * slope) if layer == p.L else p.backward(slopes={layer: slope})
                yield {"g": p.g(layer), "other": p.g(other)}, found


def _derivative_of_output(p: Pass) -> Found:
    """g′(a⁽ˡ⁾) for g′(z⁽ˡ⁾): the derivative applied to the activation's output (sigmoid_prime(a))."""
    for layer in range(1, p.L + 1):
        if p.elementwise(layer) and (layer < p.L or not p.matching):
            slope = p.slope(layer, at_output=True)
            found = p.backward(delta=p.top * slope) if layer == p.L else p.backward(slopes={layer: slope})
            text = f"{p.net.activation(layer).text}′({layer_text('a', layer)})"
            yield {"g": p.g(layer), "wrong": text}, found


def _summed(p: Pass) -> Found:
    """One layer's gradients summed over the batch instead of averaged."""
    if p.m > 1:
        for layer in range(1, p.L + 1):
            yield {"layer": layer, "m": p.m}, p.backward(scales={layer: float(p.m)})


def _penalty(p: Pass) -> Found:
    """The L2 penalty's term ∂R/∂θ left out, halved or doubled (reg·W for the 2·reg·W of R = reg·ΣW²)."""
    reg = p.net.regularization
    if reg is None:
        return
    term = numbers.penalty_gradients(p.net, p.params, p.m)
    coefficient = sympy.sstr(reg.rule.coefficient(regularizers.LAMBDA, regularizers.BATCH))
    coefficient = coefficient.replace("lambda", "λ").replace("*", "")
    coefficient = f"({coefficient})" if "/" in coefficient else coefficient
    for factor, how in ((0.0, "left out"), (0.5, "halved"), (2.0, "doubled")):
        found = {
            name: value + (factor - 1.0) * term[name] if name in term else value for name, value in p.gradients.items()
        }
        yield {"how": how, "coefficient": coefficient, "form": reg.form}, found


MISTAKES: tuple[Mistake, ...] = (
    Mistake(
        "missing_derivative",
        "yours equals the derived gradient without {g}: the derivative of layer {layer}'s activation is missing",
        _missing_derivative,
    ),
    Mistake(
        "extra_derivative",
        "yours equals the derived gradient with an extra {g} in {delta}: with this loss the output's derivative"
        " cancels, leaving a − y",
        _extra_derivative,
    ),
    Mistake(
        "a_minus_y",
        "yours equals the derived gradient with {delta} = a − y: that shortcut holds only for a loss matched to"
        " the output activation (cross-entropy after softmax or sigmoid)",
        _a_minus_y,
    ),
    Mistake(
        "transposed",
        "yours equals the derived gradient with {W} where its transpose belongs: {delta} needs {W}ᵀ {above}"
        " (a square W fits either way round, so nothing failed)",
        _transposed,
    ),
    Mistake(
        "wrong_layer_derivative",
        "yours equals the derived gradient with {other} where {g} belongs: the derivative of the wrong layer",
        _wrong_layer_derivative,
    ),
    Mistake(
        "derivative_of_output",
        "yours equals the derived gradient with {wrong} where {g} belongs: the derivative taken at the"
        " activation's output instead of its input",
        _derivative_of_output,
    ),
    Mistake(
        "penalty",
        "yours equals the derived gradient with the L2 penalty's term {how}: with form {form}, ∂R/∂W is {coefficient}W",
        _penalty,
    ),
    Mistake(
        "summed",
        "yours equals the derived gradient with layer {layer}'s gradients summed over the batch instead of"
        " averaged (not divided by m = {m})",
        _summed,
    ),
)


def _same(one: Mapping[str, np.ndarray], other: Mapping[str, np.ndarray], rtol: float, atol: float) -> bool:
    return all(np.allclose(one[name], other[name], rtol=rtol, atol=atol) for name in other)


def recognised(
    d: Derivation,
    params: Mapping[str, np.ndarray],
    x: np.ndarray,
    y: np.ndarray,
    yours: Mapping[str, np.ndarray],
    rtol: float = 1e-6,
    atol: float = 1e-9,
    budget: int = BUDGET,
    derived: Mapping[str, np.ndarray] | None = None,
) -> list[str]:
    """A line for every version of a registered mistake whose gradients your arrays (derive's layout) equal.

    A version that gives the derived gradients themselves at this batch is passed over: it says nothing.
    With ``derived`` (the gradients you are compared with), a version is the change the mistake makes,
    added to them: so a term of the cost this pass does not build (a penalty on the weights) is kept.
    Versions are tried until they have cost :data:`BUDGET` multiply-adds; a line says when some were not.
    """
    p = Pass(d, params, x, y)
    base = p.gradients if derived is None else derived
    lines, spent = [], 0
    for mistake in MISTAKES:
        for fields, found in mistake.versions(p):
            if _same(found, p.gradients, rtol, atol):
                continue
            found = {name: base[name] + (value - p.gradients[name]) for name, value in found.items()}
            if _same(yours, found, rtol, atol):
                lines.append("hint: " + mistake.words.format(**fields))
            spent += p.cost
            if spent > budget:
                return [*lines, "hint: not every typical mistake was tried (the network is large)"]
    return lines
