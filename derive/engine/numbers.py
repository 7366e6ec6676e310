"""The derivation's numbers at a batch of samples, as NumPy arrays: ∂C/∂z per layer and every gradient.

The recursion is the engine's own (``Derivation._back``: the next layer's ∂C/∂z through the weights,
then the activation's Jacobian), and the top of it is the engine's expression for ∂C/∂z^{(L)}_i or
∂C/∂a^{(L)}_k, evaluated in float64 sample by sample. What changes is the arithmetic: Σ_k W_{ki} v_k
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
import sympy
from sympy import Expr, Symbol

from derive.errors import DeriveError
from derive.model import samples
from derive.model.network import Network
from derive.rules import symbols as sym
from derive.rules.floats import evaluate


class Derivation(Protocol):
    """What the numbers read of a derivation (:class:`derive.engine.derivation.Derivation`, which uses them)."""

    network: Network
    L: int

    def size(self, layer: int) -> int: ...

    def output_matching(self) -> bool: ...

    def dC_dz(self, layer: int, i: int) -> Expr: ...  # noqa: N802

    def dC_da(self, k: int) -> Expr: ...  # noqa: N802


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
    """∂C/∂z and ∂J/∂θ at a batch x (m, inputs), y (m, outputs); parameters already checked by the caller."""
    net, L = d.network, d.L
    x, y = np.atleast_2d(np.asarray(x, dtype=float)), np.atleast_2d(np.asarray(y, dtype=float))
    z: dict[int, np.ndarray] = {}
    a: dict[int, np.ndarray] = {0: x}
    for layer, (zl, al) in enumerate(samples.forward(net, params, x), start=1):
        z[layer], a[layer] = zl, al
    dz = {L: _output(d, z[L], a[L], y)}
    for layer in range(L - 1, 0, -1):
        dz[layer] = _through(d, layer, z[layer], a[layer], dz[layer + 1] @ params[f"W{layer + 1}"])
    m = x.shape[0]
    gradients: dict[str, np.ndarray] = {}
    for layer in range(1, L + 1):
        gradients[f"W{layer}"] = dz[layer].T @ a[layer - 1] / m
        if net.bias:
            gradients[f"b{layer}"] = dz[layer].mean(axis=0)
    return Numbers(z, a, dz, gradients)


def _output(d: Derivation, z: np.ndarray, a: np.ndarray, y: np.ndarray) -> np.ndarray:
    """∂C/∂z^{(L)}: the engine's simplified form where the loss matches the output, else Jᵀ ∂C/∂a."""
    L, n = d.L, d.size(d.L)
    if d.output_matching():
        exprs = [d.dC_dz(L, i) for i in range(1, n + 1)]
        return _rows(exprs, L, z, a, y)
    top = _rows([d.dC_da(k) for k in range(1, n + 1)], L, z, a, y)
    return _through(d, L, z, a, top)


def _rows(exprs: list[sympy.Expr], layer: int, z: np.ndarray, a: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Each expression (in the layer's a and z and the targets) at each sample, in float64."""
    n, outputs = z.shape[1], y.shape[1]
    names: list[Symbol] = [sym.z(layer, i) for i in range(1, n + 1)] + [sym.a(layer, i) for i in range(1, n + 1)]
    names += [sym.y(k) for k in range(1, outputs + 1)]
    out = np.empty((z.shape[0], len(exprs)))
    for s in range(z.shape[0]):
        values = dict(zip(names, [*z[s].tolist(), *a[s].tolist(), *y[s].tolist()], strict=True))
        out[s] = [evaluate(e, values) for e in exprs]
    return out


def _through(d: Derivation, layer: int, z: np.ndarray, a: np.ndarray, v: np.ndarray) -> np.ndarray:
    """∂C/∂z of a layer from ∂C/∂a (v): times g'(z) element-wise, or Jᵀ v for softmax, sample by sample."""
    act = d.network.activation(layer)
    if not act.elementwise:
        return np.array([act.back(a[s], v[s]) for s in range(v.shape[0])])
    a_, z_ = sympy.Dummy("a", real=True), sympy.Dummy("z", real=True)
    slope = act.local_derivative(a_, z_)
    pairs = zip(a.ravel().tolist(), z.ravel().tolist(), strict=True)
    slopes = np.array([evaluate(slope, {a_: ai, z_: zi}) for ai, zi in pairs])
    return v * slopes.reshape(v.shape)


def at_sample(d: Derivation, params: Mapping[str, np.ndarray], x: np.ndarray, y: np.ndarray) -> Numbers:
    """The numbers of one sample, with the same checks of shapes and targets as a document's example."""
    net = d.network
    p = samples.check_params(net, params)
    xv = samples.check_vector("x", x, net.inputs)
    yv = samples.check_vector("y", y, net.outputs)
    problem = samples.target_problem(net, yv)
    if problem:
        raise DeriveError(f"y: {problem}")
    return at_batch(d, p, xv, yv)
