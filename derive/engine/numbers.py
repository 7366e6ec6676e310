"""The derivation's numbers at a batch of samples, as NumPy arrays: ∂C/∂z per layer and every gradient.

The recursion is the engine's own (``Derivation._back``: the next layer's ∂C/∂z through the weights,
then the engine's Jacobian entries), and its top is the engine's expression for ∂C/∂z^{(L)}_i, all
evaluated in float64 sample by sample, so a wrong entry or output δ shows in these numbers. What
changes is the arithmetic: Σ_k W_{ki} v_k
for all i at once is one product with the weight array, and ∂C/∂W^{(l)}_{ij} = ∂C/∂z^{(l)}_i a^{(l−1)}_j
(the rule ``chain._cost_parameter`` with ``chain._z_w``) for every i and j is one outer product. A
784-100-10 network has 79,510 gradients; writing each weight as a sympy number at every sample and
substituting it took seconds per sample, this takes milliseconds. The symbolic check (small networks)
confirms every closed form is this product; ``tests/test_numbers.py`` compares these numbers with
each parameter's closed form substituted one by one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from sympy import Expr, Symbol

from derive.model import samples
from derive.model.network import Network
from derive.rules import regularizers
from derive.rules import symbols as sym
from derive.rules.floats import evaluate


class Derivation(Protocol):
    """What the numbers read of a derivation (:class:`derive.engine.derivation.Derivation`, which uses them)."""

    network: Network
    L: int

    def size(self, layer: int) -> int: ...

    def dC_dz(self, layer: int, i: int) -> Expr: ...  # noqa: N802

    def jacobian_entry(self, layer: int, i: int, k: int) -> Expr: ...


@dataclass(frozen=True)
class Numbers:
    """One batch of m samples: z and a of each layer (m, units; layer 0 is x), ∂C/∂z by layer, and ∂J/∂θ.

    ``gradients`` are the batch means (the gradients of J = (1/m) Σ C), shaped like the parameters.
    """

    z: dict[int, np.ndarray]
    a: dict[int, np.ndarray]
    dC_dz: dict[int, np.ndarray]  # noqa: N815 - the articles' letters
    gradients: dict[str, np.ndarray]


def at_batch(d: Derivation, params: Mapping[str, np.ndarray], x: np.ndarray, y: np.ndarray) -> Numbers:
    """∂C/∂z and ∂J/∂θ of J = (1/m) Σ C at a batch x (m, inputs), y (m, outputs); parameters already checked by
    the caller. With an L2 penalty, :func:`penalty_gradients` gives the term ∂R/∂θ to add."""
    net, L = d.network, d.L
    x, y = np.atleast_2d(np.asarray(x, dtype=float)), np.atleast_2d(np.asarray(y, dtype=float))
    z: dict[int, np.ndarray] = {}
    a: dict[int, np.ndarray] = {0: x}
    for layer, (zl, al) in enumerate(samples.forward(net, params, x), start=1):
        z[layer], a[layer] = zl, al
    dz = {L: _output(d, z[L], a[L], y)}  # the output layer's Jacobian is inside the engine's ∂C/∂z^{(L)}
    for layer in range(L - 1, 0, -1):
        dz[layer] = _through(d, layer, z[layer], a[layer], dz[layer + 1] @ params[f"W{layer + 1}"])
    m = x.shape[0]
    gradients: dict[str, np.ndarray] = {}
    for layer in range(1, L + 1):
        gradients[f"W{layer}"] = dz[layer].T @ a[layer - 1] / m
        if net.bias:
            gradients[f"b{layer}"] = dz[layer].mean(axis=0)
    return Numbers(z, a, dz, gradients)


def penalty_gradients(net: Network, params: Mapping[str, np.ndarray], m: int) -> dict[str, np.ndarray]:
    """∂R/∂θ of the spec's L2 penalty for a batch of m (the form's coefficient times each regularised array),
    by array; arrays outside the penalty, and every array without one, are absent."""
    reg = net.regularization
    if reg is None:
        return {}
    coefficient = regularizers.value(reg.rule.coefficient(regularizers.LAMBDA, regularizers.BATCH), reg.l2, m)
    return {
        array: coefficient * np.asarray(params[array], dtype=float) for array in net.shapes() if reg.covers(array[0])
    }


def _output(d: Derivation, z: np.ndarray, a: np.ndarray, y: np.ndarray) -> np.ndarray:
    """∂C/∂z^{(L)}_i: the engine's own expression for each output neuron, at each sample."""
    L, n = d.L, d.size(d.L)
    exprs = [d.dC_dz(L, i) for i in range(1, n + 1)]
    targets = [sym.y(k) for k in range(1, y.shape[1] + 1)]
    out = np.empty(z.shape)
    for s in range(z.shape[0]):
        values = _layer_values(L, z[s], a[s])
        values.update(zip(targets, y[s].tolist(), strict=True))
        out[s] = [evaluate(e, values) for e in exprs]
    return out


def _layer_values(layer: int, z: np.ndarray, a: np.ndarray) -> dict[Symbol, float]:
    n = z.shape[0]
    names = [sym.z(layer, i) for i in range(1, n + 1)] + [sym.a(layer, i) for i in range(1, n + 1)]
    return dict(zip(names, [*z.tolist(), *a.tolist()], strict=True))


def _through(d: Derivation, layer: int, z: np.ndarray, a: np.ndarray, v: np.ndarray) -> np.ndarray:
    """∂C/∂z of a hidden layer from ∂C/∂a (v): through the engine's Jacobian entries, at each sample.

    Element-wise, only the diagonal ∂a_i/∂z_i is evaluated (the engine writes the rest as 0); for
    softmax every entry, and ∂C/∂z_i = Σ_m ∂a_m/∂z_i v_m.
    """
    n = d.size(layer)
    elementwise = d.network.activation(layer).elementwise
    if elementwise:
        entries = [d.jacobian_entry(layer, i, i) for i in range(1, n + 1)]
    else:
        entries = [d.jacobian_entry(layer, m, i) for m in range(1, n + 1) for i in range(1, n + 1)]
    out = np.empty(v.shape)
    for s in range(v.shape[0]):
        values = _layer_values(layer, z[s], a[s])
        numbers = np.array([evaluate(e, values) for e in entries])
        out[s] = v[s] * numbers if elementwise else numbers.reshape(n, n).T @ v[s]
    return out


def at_sample(d: Derivation, params: Mapping[str, np.ndarray], x: np.ndarray, y: np.ndarray) -> Numbers:
    """The numbers of one sample, with the same checks of shapes and targets as a document's example."""
    return at_batch(d, *samples.checked_sample(d.network, params, x, y))
