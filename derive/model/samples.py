"""Numbers for the checks: a NumPy forward pass and cost, and symbol values.

Parameters are a dict of float arrays named like the parameters: ``W<l>`` of
shape (units of l, units of l−1) and ``b<l>`` of shape (units of l,).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from sympy import Float, Symbol

from derive.errors import DeriveError
from derive.model.network import Network
from derive.rules import symbols as sym
from derive.rules.targets import as_labels, one_hot


def check_params(net: Network, params: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The parameters as float arrays, or an error naming the parameter and both shapes."""
    out: dict[str, np.ndarray] = {}
    for name, shape in net.shapes().items():
        if name not in params:
            raise DeriveError(f"params: {name} is missing (expected shape {shape})")
        arr = np.asarray(params[name], dtype=float)
        if arr.shape != shape:
            raise DeriveError(f"params: {name} has shape {arr.shape}, expected {shape}")
        out[name] = arr
    extra = sorted(set(params) - set(out))
    if extra:
        raise DeriveError(f"params: unknown parameter array {extra[0]!r} (known: {', '.join(out)})")
    return out


def check_vector(label: str, value: np.ndarray, size: int) -> np.ndarray:
    arr = np.asarray(value, dtype=float).reshape(-1) if np.ndim(value) <= 1 else np.asarray(value, float)
    if arr.shape != (size,):
        raise DeriveError(f"{label}: has shape {np.shape(value)}, expected ({size},)")
    return arr


def forward(net: Network, params: Mapping[str, np.ndarray], x: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """(z, a) of every layer for the sample or batch x (last axis: the inputs)."""
    a = np.asarray(x, dtype=float)
    out = []
    for layer in range(1, net.depth + 1):
        z = a @ params[f"W{layer}"].T
        if net.bias:
            z = z + params[f"b{layer}"]
        a = net.activation(layer).numpy(z)
        out.append((z, a))
    return out


def cost(net: Network, params: Mapping[str, np.ndarray], x: np.ndarray, y: np.ndarray) -> float:
    """C for one sample (or the mean over a batch)."""
    a = forward(net, params, x)[-1][1]
    return float(np.mean(net.loss_def.numpy(a, np.asarray(y, dtype=float))))


def target_problem(net: Network, y: np.ndarray) -> str | None:
    """Why targets ``y`` do not fit the derivation (softmax with cross-entropy needs a sum of 1; declared
    one-hot targets are one 1 and zeros), or None."""
    kind = net.target_kind
    if kind.one_hot and not (np.all((y == 0) | (y == 1)) and np.count_nonzero(y) == 1):
        return f"targets = {kind.name!r} declares one-hot targets (one 1, the rest 0); got {np.round(y, 12).tolist()}"
    if net.layers[-1].activation in net.loss_def.needs_distribution and abs(y.sum() - 1) > 1e-9:
        return (
            f"{net.loss} with a {net.layers[-1].activation} output is derived for targets that sum to 1;"
            f" these sum to {y.sum():.12g}"
        )
    return None


def checked_sample(
    net: Network, params: Mapping[str, np.ndarray], x: np.ndarray, y: np.ndarray
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """The parameters, x and y of one sample as float arrays, or an error naming the shape or target at fault."""
    p = check_params(net, params)
    xv = check_vector("x", x, net.inputs)
    if net.target_kind.labels and np.ndim(y) == 0:
        y = _label(net, y)
    yv = check_vector("y", y, net.outputs)
    problem = target_problem(net, yv)
    if problem:
        raise DeriveError(f"y: {problem}")
    return p, xv, yv


def _label(net: Network, y: object) -> np.ndarray:
    """One sample's class label (0-based) as its one-hot target row."""
    if isinstance(y, bool) or not isinstance(y, (int, np.integer)) or not 0 <= y < net.outputs:
        raise DeriveError(f"y: a class label from 0 to {net.outputs - 1} was expected, got {y!r}")
    return one_hot(np.array([y]), net.outputs)[0]


def sample_values(net: Network, params: Mapping[str, np.ndarray], x: np.ndarray, y: np.ndarray) -> dict[Symbol, Float]:
    """Every canonical symbol's value at one sample: x, y, W, b, z and a."""
    p, xv, yv = checked_sample(net, params, x, y)
    values: dict[Symbol, Float] = {}
    values.update({sym.x(j + 1): Float(v) for j, v in enumerate(xv)})
    values.update({sym.y(k + 1): Float(v) for k, v in enumerate(yv)})
    for layer in range(1, net.depth + 1):
        w = p[f"W{layer}"]
        for (i, j), v in np.ndenumerate(w):
            values[sym.W(layer, i + 1, j + 1)] = Float(v)
        if net.bias:
            for i, v in enumerate(p[f"b{layer}"]):
                values[sym.b(layer, i + 1)] = Float(v)
    for layer, (z, a) in enumerate(forward(net, p, xv), start=1):
        for i in range(z.shape[0]):
            values[sym.z(layer, i + 1)] = Float(z[i])
            values[sym.a(layer, i + 1)] = Float(a[i])
    return values


def random_point(net: Network, rng: np.random.Generator, scale: float = 1.0):
    """Seeded random parameters, one input and one target the loss accepts."""
    params, x, y = random_batch(net, rng, 1, scale)
    return params, x[0], y[0]


def random_batch(net: Network, rng: np.random.Generator, m: int, scale: float = 1.0):
    """Seeded random parameters, and m inputs (m, inputs) and targets (m, outputs) of the network's kind
    (one-hot rows for labels: the numbers derive computes with)."""
    params = {name: rng.uniform(-scale, scale, shape) for name, shape in net.shapes().items()}
    x = rng.uniform(-1, 1, (m, net.inputs))
    return params, x, net.target_kind.draw(rng, m, net.outputs)


def as_given(net: Network, y: np.ndarray) -> np.ndarray:
    """Targets as the network's code takes them: one-hot rows as their class labels when it takes labels."""
    return as_labels(y) if net.target_kind.labels else y
