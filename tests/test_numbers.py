"""The engine's NumPy numbers (derive.engine.numbers) are each parameter's closed form at the sample.

The reference substitutes the sample's values into every closed form one at a time, with sympy, and
averages over the batch; a second reference is central finite differences of the cost written here
in NumPy. Neither shares code with the arrays under test.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import net

from derive import derive
from derive.engine import numbers
from derive.model.samples import random_batch, sample_values
from derive.rules import symbols as sym

NETWORKS = {
    "sigmoid-softmax-ce": net([3, 4, 3], ["sigmoid", "softmax"], "cross_entropy"),
    "tanh-sigmoid-bce": net([2, 3, 2], ["tanh", "sigmoid"], "binary_cross_entropy"),
    "relu-identity-se": net([3, 3, 2], ["relu", "identity"], "squared_error"),
    "softmax-hidden": net([2, 3, 2], ["softmax", "tanh"], "mse"),
    "softmax-se": net([2, 2, 3], ["leaky_relu", "softmax"], "squared_error", bias=False),
    "deep-softplus": net([2, 3, 3, 2], ["softplus", "tanh", "sigmoid"], "binary_cross_entropy"),
    "deep-elu-silu": net([2, 3, 3, 2], ["elu", "silu", "sigmoid"], "binary_cross_entropy"),
}


def by_closed_forms(d, params, x, y) -> dict[str, float]:
    """Each parameter's closed form with the sample's values put in by sympy, averaged over the batch."""
    out = {}
    points = [sample_values(d.network, params, xs, ys) for xs, ys in zip(x, y, strict=True)]
    for name in d.parameters():
        closed = d.gradient(name, "closed")
        out[name] = float(np.mean([float(closed.xreplace(values)) for values in points]))
    return out


def array_entry(grads: dict[str, np.ndarray], name: str) -> float:
    info = sym.parse_name(name)
    array = grads[f"{info.kind}{info.layer}"]
    return float(array[info.i - 1, info.j - 1] if info.j is not None else array[info.i - 1])


@pytest.mark.parametrize("key", NETWORKS)
def test_arrays_are_the_closed_forms_at_the_batch(key: str) -> None:
    network = NETWORKS[key]
    d = derive(network)
    params, x, y = random_batch(network, np.random.default_rng(7), 3)
    got = numbers.at_batch(d, params, x, y)
    expected = by_closed_forms(d, params, x, y)
    for name, value in expected.items():
        assert array_entry(got.gradients, name) == pytest.approx(value, rel=1e-12, abs=1e-14), name
    for array, shape in network.shapes().items():
        assert got.gradients[array].shape == shape


def numpy_cost(network, params, x, y) -> float:
    """The batch mean cost, written out here for the four networks' losses and activations."""
    funcs = {
        "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
        "tanh": np.tanh,
        "relu": lambda z: np.maximum(z, 0),
        "identity": lambda z: z,
        "softmax": lambda z: np.exp(z) / np.exp(z).sum(axis=1, keepdims=True),
    }
    a = x
    for layer, spec in enumerate(network.layers, start=1):
        a = funcs[spec.activation](a @ params[f"W{layer}"].T + params[f"b{layer}"])
    costs = {
        "cross_entropy": lambda: -(y * np.log(a)).sum(axis=1),
        "binary_cross_entropy": lambda: -(y * np.log(a) + (1 - y) * np.log(1 - a)).sum(axis=1),
        "squared_error": lambda: 0.5 * ((a - y) ** 2).sum(axis=1),
    }
    return float(costs[network.loss]().mean())


@pytest.mark.parametrize("key", ["sigmoid-softmax-ce", "tanh-sigmoid-bce", "relu-identity-se"])
def test_arrays_agree_with_finite_differences(key: str) -> None:
    network = NETWORKS[key]
    params, x, y = random_batch(network, np.random.default_rng(3), 4)
    grads = numbers.at_batch(derive(network), params, x, y).gradients
    h = 1e-6
    for array, value in params.items():
        for index in np.ndindex(value.shape):
            up, down = {k: v.copy() for k, v in params.items()}, {k: v.copy() for k, v in params.items()}
            up[array][index] += h
            down[array][index] -= h
            fd = (numpy_cost(network, up, x, y) - numpy_cost(network, down, x, y)) / (2 * h)
            assert grads[array][index] == pytest.approx(fd, abs=1e-7), (array, index)


def test_a_wide_network_at_sampled_parameters() -> None:
    """60 inputs, 40 sigmoid, 5 softmax: a seeded sample of parameters against their closed forms."""
    network = net([60, 40, 5], ["sigmoid", "softmax"], "cross_entropy")
    d = derive(network)
    params, x, y = random_batch(network, np.random.default_rng(11), 2)
    grads = numbers.at_batch(d, params, x, y).gradients
    points = [sample_values(network, params, xs, ys) for xs, ys in zip(x, y, strict=True)]
    names = np.random.default_rng(5).choice(d.parameters(), 40, replace=False)
    for name in names:
        closed = d.gradient(str(name), "closed")
        value = np.mean([float(closed.xreplace(values)) for values in points])
        assert array_entry(grads, str(name)) == pytest.approx(value, rel=1e-12, abs=1e-14), name


def test_one_sample_checks_its_inputs() -> None:
    network = NETWORKS["sigmoid-softmax-ce"]
    d = derive(network)
    params, x, y = random_batch(network, np.random.default_rng(1), 1)
    assert d.evaluate_all(params, x[0], y[0])["W2[3,4]"] == pytest.approx(
        float(d.gradient("W2[3,4]", "closed").xreplace(sample_values(network, params, x[0], y[0]))), rel=1e-12
    )
    with pytest.raises(Exception, match="y: .*sum to 1"):
        numbers.at_sample(d, params, x[0], np.array([0.5, 0.5, 0.5]))
    with pytest.raises(Exception, match="x: has shape"):
        numbers.at_sample(d, params, np.zeros(4), y[0])
