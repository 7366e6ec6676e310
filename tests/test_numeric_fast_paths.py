"""The generated module's fast paths: one sample on 1-D arrays, and δ = a − y for targets that sum to one.

Every value is compared with a backprop written here (NumPy, the textbook way), with the pure-Python
reference of tests/test_numeric_stability.py, or with finite differences of the generated loss; and each
path is shown to be the one taken (or not taken) by replacing the module's own function with a spy.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import net
from test_numeric_stability import ref_sample, strict

import derive
from derive import Layer, Network
from derive.model.samples import random_batch

SIG_SOFTMAX_CE = net((3, 4, 2), ("sigmoid", "softmax"), "cross_entropy")
MNIST_LIKE = net((20, 8, 5), ("sigmoid", "softmax"), "cross_entropy")
# Outputs that must not take the softmax/cross-entropy δ: the loss or the activation differs.
OTHERS = [
    net((3, 4, 2), ("tanh", "sigmoid"), "cross_entropy"),
    net((3, 4, 3), ("relu", "softmax"), "binary_cross_entropy"),
    net((3, 4, 2), ("sigmoid", "softmax"), "squared_error"),
    net((3, 4, 2), ("sigmoid", "sigmoid"), "binary_cross_entropy"),
    net((3, 4, 2), ("leaky_relu", "identity"), "mse", bias=False),
]
OTHER_IDS = ["sigmoid-ce", "softmax-bce", "softmax-se", "sigmoid-bce", "identity-mse-nobias"]


def hand_backprop(params, x, y):
    """Sigmoid → softmax with cross-entropy, J = (1/m) Σ C, for any targets: δ⁽²⁾ = a Σₖ yₖ − y."""
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    m = x.shape[0]
    a1 = 1.0 / (1.0 + np.exp(-(x @ W1.T + b1)))
    z2 = a1 @ W2.T + b2
    e = np.exp(z2 - z2.max(axis=1, keepdims=True))
    a2 = e / e.sum(axis=1, keepdims=True)
    d2 = (a2 * y.sum(axis=1, keepdims=True) - y) / m
    d1 = (d2 @ W2) * a1 * (1 - a1)
    return {"W1": d1.T @ x, "b1": d1.sum(0), "W2": d2.T @ a1, "b2": d2.sum(0)}


def finite_differences(fn, params, x, y, h=1e-6):
    """Central differences of the generated loss, element by element."""
    out = {}
    for name, value in params.items():
        grad = np.zeros_like(value)
        for index in np.ndindex(value.shape):
            up, down = {k: v.copy() for k, v in params.items()}, {k: v.copy() for k, v in params.items()}
            up[name][index] += h
            down[name][index] -= h
            grad[index] = (fn.loss(up, x, y) - fn.loss(down, x, y)) / (2 * h)
        out[name] = grad
    return out


def spy(monkeypatch, fn, name):
    """Replace the generated module's ``name`` by a wrapper that counts its calls."""
    namespace = fn.gradients.__globals__
    original, calls = namespace[name], []

    def counted(*args, **kwargs):
        calls.append(args)
        return original(*args, **kwargs)

    monkeypatch.setitem(namespace, name, counted)
    return calls


def assert_same(got, want, rtol=1e-12, atol=1e-15):
    assert sorted(got) == sorted(want)
    for name, value in want.items():
        assert got[name].shape == value.shape, name
        np.testing.assert_allclose(got[name], value, rtol=rtol, atol=atol, err_msg=name)


# ------------------------------------------------------------------ one sample on 1-D arrays
@pytest.mark.parametrize("network", [SIG_SOFTMAX_CE, MNIST_LIKE], ids=["3-4-2", "20-8-5"])
def test_a_batch_of_one_takes_the_one_sample_path_and_matches_a_hand_backprop(network, monkeypatch):
    fn = derive.derive(network).lambdify()
    calls = spy(monkeypatch, fn, "_gradients_of_one")
    params, x, y = random_batch(network, np.random.default_rng(1), 1)
    got = fn.gradients(params, x, y)
    assert len(calls) == 1
    assert_same(got, hand_backprop(params, x, y))
    np.testing.assert_allclose(got["W1"], finite_differences(fn, params, x, y)["W1"], rtol=1e-6, atol=1e-9)
    # A batch of two is the batch path.
    params, x, y = random_batch(network, np.random.default_rng(2), 2)
    assert_same(fn.gradients(params, x, y), hand_backprop(params, x, y))
    assert len(calls) == 1


def test_a_1d_sample_is_read_without_the_checked_path_and_gives_the_batch_of_one(monkeypatch):
    fn = derive.derive(SIG_SOFTMAX_CE).lambdify()
    params, x, y = random_batch(SIG_SOFTMAX_CE, np.random.default_rng(3), 1)

    def refuse(*args):
        raise AssertionError("a 1-D sample of the right shapes went through _checked")

    monkeypatch.setitem(fn.gradients.__globals__, "_checked", refuse)
    one = fn.gradients(params, x[0], y[0])
    assert_same(one, hand_backprop(params, x, y))
    assert fn.forward(params, x[0]).shape == (2,)
    np.testing.assert_array_equal(fn.forward(params, x[0]), fn.forward(params, x)[0])
    assert fn.loss(params, x[0], y[0]) == fn.loss(params, x, y)


def test_the_one_sample_results_are_fresh_arrays():
    """∂J/∂b is δ itself on the one-sample path: it must not be an input, nor share memory with ∂J/∂W."""
    fn = derive.derive(SIG_SOFTMAX_CE).lambdify()
    params, x, y = random_batch(SIG_SOFTMAX_CE, np.random.default_rng(4), 1)
    got = fn.gradients(params, x[0], y[0])
    arrays = [*params.values(), x, y]
    for name, value in got.items():
        assert not any(np.shares_memory(value, other) for other in arrays), name
        assert not any(np.shares_memory(value, got[other]) for other in got if other != name), name


@pytest.mark.parametrize("network", OTHERS, ids=OTHER_IDS)
def test_one_sample_path_of_other_networks_matches_the_plain_python_reference(network):
    fn = derive.derive(network).lambdify()
    params, x, y = random_batch(network, np.random.default_rng(5), 1)
    _, _, want = ref_sample(network, params, x[0].tolist(), y[0].tolist())
    for xs, ys in ((x, y), (x[0], y[0])):
        with strict():
            got = fn.gradients(params, xs, ys)
        assert_same(got, want, rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("z", [(1000.0, -1000.0), (-800.0, 800.0), (0.0, 750.0)])
def test_one_sample_path_at_huge_z_warns_of_nothing(z):
    """Hidden z of ±1000: the 1-D path uses the same safe helpers as the batch path."""
    network = net((1, 2, 3), ("sigmoid", "softmax"), "cross_entropy")
    fn = derive.derive(network).lambdify()
    params = {
        "W1": np.array(z).reshape(2, 1),
        "b1": np.zeros(2),
        "W2": np.array([[900.0, -900.0], [0.5, 0.25], [-700.0, 700.0]]),
        "b2": np.zeros(3),
    }
    x, y = np.array([1.0]), np.array([0.0, 1.0, 0.0])
    with strict():
        got = fn.gradients(params, x, y)
    _, _, want = ref_sample(network, params, x.tolist(), y.tolist())
    assert_same(got, want, rtol=1e-9, atol=1e-12)


# ----------------------------------------------------------- δ = a − y when Σₖ yₖ = 1
def test_softmax_cross_entropy_writes_its_delta_through_the_one_helper():
    source = derive.derive(SIG_SOFTMAX_CE).lambdify().source
    assert "D2 = _softmax_ce_delta(A2, Y)\n    D2 /= m" in source
    assert "d2 = _softmax_ce_delta(a2, y)" in source


@pytest.mark.parametrize("shape", [(3,), (4, 3)])
def test_the_delta_helper_is_a_minus_y_exactly_when_the_targets_sum_to_one(shape):
    delta = derive.derive(SIG_SOFTMAX_CE).lambdify().gradients.__globals__["_softmax_ce_delta"]
    rng = np.random.default_rng(6)
    a = rng.dirichlet(np.ones(3), shape[:-1] or None)
    one_hot = np.eye(3)[rng.integers(0, 3, shape[:-1] or None)]
    np.testing.assert_array_equal(delta(a, one_hot), a - one_hot)
    # Targets summing to 2 (a sample counted twice): a Σy − y, which a − y is not.
    doubled = 2 * one_hot
    np.testing.assert_allclose(delta(a, doubled), 2 * a - doubled, rtol=1e-15, atol=1e-16)
    assert not np.allclose(delta(a, doubled), a - doubled)


class Recording(np.ndarray):
    """An array that records the ufuncs applied to it."""

    seen: list[str] = []

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        Recording.seen.append(ufunc.__name__)
        plain = [np.asarray(v) if isinstance(v, Recording) else v for v in inputs]
        return getattr(ufunc, method)(*plain, **kwargs)


@pytest.mark.parametrize("shape", [(3,), (4, 3)])
def test_the_delta_helper_skips_the_product_with_the_sums_only_when_they_are_one(shape):
    delta = derive.derive(SIG_SOFTMAX_CE).lambdify().gradients.__globals__["_softmax_ce_delta"]
    rng = np.random.default_rng(12)
    a = rng.dirichlet(np.ones(3), shape[:-1] or None).view(Recording)
    one_hot = np.eye(3)[rng.integers(0, 3, shape[:-1] or None)]
    for y, product in ((one_hot, False), (2 * one_hot, True), (np.full(shape, 0.3), True)):
        Recording.seen = []
        delta(a, y)
        assert ("multiply" in Recording.seen) is product, (y, Recording.seen)


@pytest.mark.parametrize("m", [1, 6])
def test_targets_that_do_not_sum_to_one_get_the_general_delta(m):
    fn = derive.derive(SIG_SOFTMAX_CE).lambdify()
    params, x, _ = random_batch(SIG_SOFTMAX_CE, np.random.default_rng(7), m)
    rng = np.random.default_rng(8)
    y = rng.uniform(0.0, 1.0, (m, 2))  # sums from 0 to 2
    y[0] = (0.25, 0.5)
    want = hand_backprop(params, x, y)
    assert_same(fn.gradients(params, x, y), want)
    fd = finite_differences(fn, params, x, y)
    for name in want:
        np.testing.assert_allclose(want[name], fd[name], rtol=1e-6, atol=1e-9, err_msg=name)
    # The textbook a − y would be wrong here.
    one_hot_form = hand_backprop(params, x, y / y.sum(axis=1, keepdims=True))
    assert not np.allclose(one_hot_form["b2"], want["b2"])


@pytest.mark.parametrize("m", [1, 5])
def test_one_hot_targets_give_the_textbook_gradients(m):
    fn = derive.derive(SIG_SOFTMAX_CE).lambdify()
    params, x, _ = random_batch(SIG_SOFTMAX_CE, np.random.default_rng(9), m)
    y = np.eye(2)[np.random.default_rng(10).integers(0, 2, m)]
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    a1 = 1.0 / (1.0 + np.exp(-(x @ W1.T + b1)))
    z2 = a1 @ W2.T + b2
    a2 = np.exp(z2) / np.exp(z2).sum(axis=1, keepdims=True)
    d2 = (a2 - y) / m  # the textbook δ, without Σₖ yₖ
    d1 = (d2 @ W2) * a1 * (1 - a1)
    want = {"W1": d1.T @ x, "b1": d1.sum(0), "W2": d2.T @ a1, "b2": d2.sum(0)}
    assert_same(fn.gradients(params, x, y), want)


@pytest.mark.parametrize("network", OTHERS, ids=OTHER_IDS)
def test_other_losses_and_outputs_do_not_take_the_softmax_cross_entropy_delta(network):
    fn = derive.derive(network).lambdify()
    assert "_softmax_ce_delta" not in fn.source
    for m in (1, 3):
        params, x, y = random_batch(network, np.random.default_rng(11 + m), m)
        want = {name: np.zeros_like(value) for name, value in params.items()}
        for xs, ys in zip(x, y, strict=True):
            _, _, one = ref_sample(network, params, xs.tolist(), ys.tolist())
            for name, value in one.items():
                want[name] += value / m
        assert_same(fn.gradients(params, x, y), want, rtol=1e-10, atol=1e-13)


# ----------------------------------------------------------- in place where a new array is made
def test_a_batch_adds_biases_and_scales_deltas_in_place_and_sums_wide_layers_transposed():
    """Z = X Wᵀ then Z += b, D = D Wᵀ... then D *= g′, D⁽ᴸ⁾ /= m: no second array of the batch's size; a layer of
    many inputs sums δ aᵀ as (Aᵀ D)ᵀ. The numbers are a hand-written backprop's."""
    network = Network(120, (Layer(30, "tanh"), Layer(4, "relu"), Layer(3, "softmax")), "cross_entropy")
    fn = derive.derive(network).lambdify()
    source = fn.source
    assert "    Z1 = X @ W1.T\n    Z1 += b1\n" in source and "    D2 = D3 @ W3\n    D2 *= " in source
    assert "    D3 /= m\n" in source
    assert "dW1 = (X.T @ D1).T" in source and "dW2 = D2.T @ A1" in source  # 120 inputs to 30 units; 30 to 4
    rng = np.random.default_rng(3)
    params = {name: rng.uniform(-0.5, 0.5, shape) for name, shape in network.shapes().items()}
    x, y = rng.uniform(-1, 1, (9, 120)), rng.dirichlet(np.ones(3), 9)
    kept = {name: value.copy() for name, value in params.items()}, x.copy(), y.copy()
    got = fn.gradients(params, x, y)
    m = x.shape[0]
    a1 = np.tanh(x @ params["W1"].T + params["b1"])
    z2 = a1 @ params["W2"].T + params["b2"]
    a2 = np.maximum(z2, 0)
    z3 = a2 @ params["W3"].T + params["b3"]
    p = np.exp(z3 - z3.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    d3 = (p * y.sum(1, keepdims=True) - y) / m
    d2 = (d3 @ params["W3"]) * (z2 > 0)
    d1 = (d2 @ params["W2"]) * (1 - a1**2)
    want = {"W1": d1.T @ x, "b1": d1.sum(0), "W2": d2.T @ a1, "b2": d2.sum(0), "W3": d3.T @ a2, "b3": d3.sum(0)}
    for name, value in want.items():
        np.testing.assert_allclose(got[name], value, rtol=1e-11, atol=1e-14, err_msg=name)
    for before, after in zip(kept, (params, x, y), strict=True):  # nothing the caller passed is changed
        if isinstance(before, dict):
            assert all(np.array_equal(before[k], after[k]) for k in before)
        else:
            assert np.array_equal(before, after)
