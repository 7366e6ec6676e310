"""The generated NumPy functions (``derive.derive(net).lambdify()`` and ``derive codegen``) at the edges.

1. No NumPy warning and finite, correct values where pre-activations are huge (z = ±1000, ±800, ±50, 0),
   for every activation as hidden and output layer and every loss it goes with; references are
   computed here in plain Python floats from the closed forms, not taken from derive.
2. Gradients agree with central finite differences of ``loss`` at moderate random points.
3. A single 1-D sample is a batch of one; a batch's gradient is the mean of the per-sample gradients.
4. Bad shapes and names raise ShapeError with a one-line message naming the array and both shapes,
   in the lambdified functions and in the standalone module alike.
5. The arrays passed in are never modified.
6. The generated source is deterministic, within a process (across processes: tests/test_determinism.py).
"""

from __future__ import annotations

import contextlib
import importlib.util
import math
import re
import sys
import warnings

import numpy as np
import pytest
from conftest import ROOT

import derive
from derive.errors import ShapeError
from derive.model.samples import cost, random_batch
from derive.numeric import codegen

ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "softmax", "identity", "elu", "silu")
LOSSES = ("squared_error", "mse", "binary_cross_entropy", "cross_entropy")
LEAKY_SLOPE = 0.01  # derive's default slope, used where a Layer gives none
ELU_ALPHA = 1.0  # derive's default alpha, likewise


def option(layer: derive.Layer) -> float:
    """The layer's slope (leaky ReLU) or alpha (ELU), the default where it gives none."""
    if layer.activation == "elu":
        return ELU_ALPHA if layer.alpha is None else layer.alpha
    return LEAKY_SLOPE if layer.slope is None else layer.slope


def compatible(out: str, loss: str, outputs: int = 2) -> bool:
    """Whether derive accepts ``loss`` after an ``out`` output layer of ``outputs`` units."""
    if loss in ("binary_cross_entropy", "cross_entropy") and out not in ("sigmoid", "softmax"):
        return False
    return not (out == "softmax" and outputs == 1 and loss == "binary_cross_entropy")


OUTPUT_COMBOS = [(out, loss) for out in ACTIVATIONS for loss in LOSSES if compatible(out, loss)]

_FUNCTIONS: dict[derive.Network, object] = {}


def functions(net: derive.Network):
    """The lambdified functions of ``net``, built once per network."""
    if net not in _FUNCTIONS:
        _FUNCTIONS[net] = derive.derive(net).lambdify()
    return _FUNCTIONS[net]


@contextlib.contextmanager
def strict():
    """Any warning, and any NumPy overflow, division by zero or invalid operation, is an error.

    Underflow stays ignored (NumPy's default, and not a warning): e^-2000 rounding to 0 is the right answer.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise", under="ignore"):
            yield


# --------------------------------------------------------------------------------------------------
# A reference in plain Python floats: one sample, the closed forms of each activation and loss.


def _sigmoid(t: float) -> float:
    if t >= 0:
        return 1.0 / (1.0 + math.exp(-t))
    e = math.exp(t)
    return e / (1.0 + e)


def _softplus(t: float) -> float:
    """log(1 + e^t), never overflowing."""
    return max(t, 0.0) + math.log1p(math.exp(-abs(t)))


def _logsumexp(zs: list[float]) -> float:
    top = max(zs)
    return top + math.log(math.fsum(math.exp(z - top) for z in zs))


def _sech2(t: float) -> float:
    """tanh'(t) = sech²(t) = 4 e^{-2|t|} / (1 + e^{-2|t|})²."""
    e = math.exp(-2.0 * abs(t))
    return 4.0 * e / (1.0 + e) ** 2


def ref_activation(name: str, slope: float, z: list[float]) -> list[float]:
    if name == "sigmoid":
        return [_sigmoid(t) for t in z]
    if name == "tanh":
        return [math.tanh(t) for t in z]
    if name == "relu":
        return [t if t > 0 else 0.0 for t in z]
    if name == "leaky_relu":
        return [t if t > 0 else slope * t for t in z]
    if name == "elu":  # slope is α here
        return [t if t > 0 else slope * math.expm1(t) for t in z]
    if name == "silu":
        return [t * _sigmoid(t) for t in z]
    if name == "identity":
        return list(z)
    lse = _logsumexp(z)
    return [math.exp(t - lse) for t in z]


def ref_back(name: str, slope: float, z: list[float], a: list[float], v: list[float]) -> list[float]:
    """(∂a/∂z)ᵀ v. ReLU'(0) = 0 and LeakyReLU'(0) = slope, the one-sided convention (z > 0)."""
    if name == "sigmoid":
        return [vi * _sigmoid(t) * _sigmoid(-t) for t, vi in zip(z, v, strict=True)]
    if name == "tanh":
        return [vi * _sech2(t) for t, vi in zip(z, v, strict=True)]
    if name == "relu":
        return [vi if t > 0 else 0.0 for t, vi in zip(z, v, strict=True)]
    if name == "leaky_relu":
        return [vi if t > 0 else slope * vi for t, vi in zip(z, v, strict=True)]
    if name == "elu":  # ELU'(z) = α e^z for z ≤ 0
        return [vi if t > 0 else slope * math.exp(t) * vi for t, vi in zip(z, v, strict=True)]
    if name == "silu":  # SiLU'(z) = σ(z) + z σ(z) σ(−z)
        return [vi * (_sigmoid(t) + t * _sigmoid(t) * _sigmoid(-t)) for t, vi in zip(z, v, strict=True)]
    if name == "identity":
        return list(v)
    # softmax: ∂a_i/∂z_k = a_i (δ_ik − a_k), a symmetric Jacobian.
    dot = math.fsum(ai * vi for ai, vi in zip(a, v, strict=True))
    return [ai * (vi - dot) for ai, vi in zip(a, v, strict=True)]


def ref_loss(loss: str, out: str, z: list[float], a: list[float], y: list[float]) -> float:
    n = len(z)
    if loss == "squared_error":
        return 0.5 * math.fsum((yk - ak) ** 2 for ak, yk in zip(a, y, strict=True))
    if loss == "mse":
        return math.fsum((yk - ak) ** 2 for ak, yk in zip(a, y, strict=True)) / n
    if out == "sigmoid":
        # log σ(z) = −softplus(−z), log(1 − σ(z)) = −softplus(z)
        if loss == "binary_cross_entropy":
            return math.fsum(yk * _softplus(-zk) + (1 - yk) * _softplus(zk) for zk, yk in zip(z, y, strict=True))
        return math.fsum(yk * _softplus(-zk) for zk, yk in zip(z, y, strict=True))
    lse = _logsumexp(z)
    if loss == "cross_entropy":
        return -math.fsum(yk * (zk - lse) for zk, yk in zip(z, y, strict=True))
    if n == 2:
        # a = (σ(u), σ(−u)) with u = z1 − z2: C = p softplus(−u) + q softplus(u), p = 1 + y1 − y2, q = 1 − y1 + y2
        u = z[0] - z[1]
        return (1 + y[0] - y[1]) * _softplus(-u) + (1 - y[0] + y[1]) * _softplus(u)
    terms = []
    for k in range(n):
        others = _logsumexp([z[j] for j in range(n) if j != k])
        terms.append(y[k] * (z[k] - lse) + (1 - y[k]) * (others - lse))
    return -math.fsum(terms)


def ref_output_delta(loss: str, out: str, slope: float, z, a, y) -> list[float] | None:
    """δ = ∂C/∂z of the output layer in closed form (None: saturated softmax with BCE, over 2 outputs)."""
    n = len(z)
    if loss == "squared_error":
        return ref_back(out, slope, z, a, [ak - yk for ak, yk in zip(a, y, strict=True)])
    if loss == "mse":
        return ref_back(out, slope, z, a, [2.0 * (ak - yk) / n for ak, yk in zip(a, y, strict=True)])
    if out == "sigmoid":
        if loss == "binary_cross_entropy":
            return [_sigmoid(zk) - yk for zk, yk in zip(z, y, strict=True)]
        return [-yk * _sigmoid(-zk) for zk, yk in zip(z, y, strict=True)]
    if loss == "cross_entropy":
        total = math.fsum(y)
        return [ak * total - yk for ak, yk in zip(a, y, strict=True)]
    if n == 2:
        d = 2.0 * _sigmoid(z[0] - z[1]) - (1 + y[0] - y[1])
        return [d, -d]
    if any(not 1e-12 < ak < 1 - 1e-12 for ak in a):
        return None  # no closed form here for a saturated softmax with more than 2 outputs
    g = [-yk / ak + (1 - yk) / (1 - ak) for ak, yk in zip(a, y, strict=True)]
    return ref_back(out, slope, z, a, g)


def ref_sample(net: derive.Network, params: dict, x: list[float], y: list[float]):
    """(output, C, gradients or None) of one sample, by the textbook forward pass and backpropagation."""
    acts = [(layer.activation, option(layer)) for layer in net.layers]
    a_prev, zs, as_ = list(x), [], [list(x)]
    for layer, (act, slope) in enumerate(acts, start=1):
        W = np.asarray(params[f"W{layer}"]).tolist()
        b = np.asarray(params[f"b{layer}"]).tolist() if net.bias else [0.0] * len(W)
        z = [math.fsum(w * ap for w, ap in zip(row, a_prev, strict=True)) + bi for row, bi in zip(W, b, strict=True)]
        a_prev = ref_activation(act, slope, z)
        zs.append(z)
        as_.append(a_prev)
    out, slope = acts[-1]
    c = ref_loss(net.loss, out, zs[-1], a_prev, y)
    delta = ref_output_delta(net.loss, out, slope, zs[-1], a_prev, y)
    if delta is None:
        return a_prev, c, None
    grads = {}
    for layer in range(net.depth, 0, -1):
        grads[f"W{layer}"] = np.array([[d * ap for ap in as_[layer - 1]] for d in delta])
        if net.bias:
            grads[f"b{layer}"] = np.array(delta)
        if layer > 1:
            W = np.asarray(params[f"W{layer}"]).tolist()
            v = [math.fsum(W[i][j] * delta[i] for i in range(len(delta))) for j in range(len(W[0]))]
            act, s = acts[layer - 2]
            delta = ref_back(act, s, zs[layer - 2], as_[layer - 1], v)
    return a_prev, c, grads


def assert_finite(forward, loss, grads) -> None:
    assert np.all(np.isfinite(forward)), forward
    assert math.isfinite(loss), loss
    for name, g in grads.items():
        assert np.all(np.isfinite(g)), (name, g)


# --------------------------------------------------------------------------------------------------
# 1. Numerical stability at huge pre-activations.

EXTREME = (1000.0, -1000.0, 800.0, -800.0, 50.0, -50.0, 0.0)
PAIRS = (
    (1000.0, -1000.0),
    (-1000.0, 1000.0),
    (1000.0, 1000.0),
    (-1000.0, -1000.0),
    (800.0, -800.0),
    (1000.0, 0.0),
    (0.0, -800.0),
    (50.0, -50.0),
    (-50.0, 50.0),
    (0.75, -1.25),
    (0.0, 0.0),
)
TARGETS = {
    "real": ((0.0, 1.0), (-0.5, 2.0), (0.3, -0.7)),
    "unit": ((0.0, 1.0), (1.0, 0.0), (0.5, 0.25), (1.0, 1.0)),
    "distribution": ((0.0, 1.0), (1.0, 0.0), (0.3, 0.7)),
}


TARGET_KIND = {"squared_error": "real", "mse": "real", "binary_cross_entropy": "unit", "cross_entropy": "distribution"}


def targets(loss: str, outputs: int) -> list[tuple[float, ...]]:
    """Targets the loss accepts: any reals, each in [0, 1], or a distribution (one output: y = 1)."""
    kind = TARGET_KIND[loss]
    if outputs == 2:
        return list(TARGETS[kind])
    return [(1.0,)] if kind == "distribution" else [(t[0],) for t in TARGETS[kind]]


def gradient_checked(out: str, loss: str, z) -> bool:
    """Softmax with BCE is only required to stay finite when saturated; elsewhere every value is compared."""
    return not (out == "softmax" and loss == "binary_cross_entropy" and max(abs(t) for t in z) > 5)


def check_against_reference(net, params, x, y, z_out) -> None:
    f = functions(net)
    out = net.layers[-1].activation
    with strict():
        a = f.forward(params, x)
        c = f.loss(params, x, y)
        g = f.gradients(params, x, y)
    assert_finite(a, c, g)
    ref_a, ref_c, ref_g = ref_sample(net, params, x[0].tolist(), y[0].tolist())
    where = f"{net.layers} {net.loss} x={x.tolist()} y={y.tolist()} z_out={z_out}"
    np.testing.assert_allclose(a[0], ref_a, rtol=1e-12, atol=1e-15, err_msg=f"forward, {where}")
    # Written in z (softplus(z) − y z, z − logsumexp z), C is exact to the rounding of z itself: a few ulp of |z|.
    ulp_z = 4 * np.finfo(float).eps * (1 + max(abs(t) for t in z_out))
    assert c == pytest.approx(ref_c, rel=1e-12, abs=max(1e-15, ulp_z)), f"loss, {where}"
    assert set(g) == set(params)
    if ref_g is not None and gradient_checked(out, net.loss, z_out):
        for name, ref in ref_g.items():
            np.testing.assert_allclose(g[name], ref, rtol=1e-9, atol=1e-12, err_msg=f"∂J/∂{name}, {where}")


@pytest.mark.parametrize(("out", "loss"), OUTPUT_COMBOS, ids=[f"{o}-{lo}" for o, lo in OUTPUT_COMBOS])
@pytest.mark.parametrize("outputs", [1, 2])
def test_output_layer_at_huge_z(out, loss, outputs):
    """One layer, x = 1, W = the wanted z, b = 0: the output's z is exactly ±1000, ±800, ±50 or 0."""
    if not compatible(out, loss, outputs):  # a one-unit softmax with BCE: log(1 − a) = log 0 always
        with pytest.raises(derive.SpecError, match="binary_cross_entropy"):
            derive.Network(1, (derive.Layer(outputs, out),), loss)
        return
    net = derive.Network(1, (derive.Layer(outputs, out),), loss)
    cases = [(v,) for v in EXTREME] if outputs == 1 else PAIRS
    x = np.array([[1.0]])
    for z in cases:
        params = {"W1": np.array(z).reshape(outputs, 1), "b1": np.zeros(outputs)}
        for y in targets(loss, outputs):
            check_against_reference(net, params, x, np.array([y]), z)


HIDDEN = ACTIVATIONS
W2 = np.array([[0.5, -0.25], [-0.75, 0.125]])
B2 = np.array([0.1, -0.2])


@pytest.mark.parametrize("hidden", HIDDEN)
@pytest.mark.parametrize(("out", "loss"), OUTPUT_COMBOS, ids=[f"{o}-{lo}" for o, lo in OUTPUT_COMBOS])
def test_hidden_layer_at_huge_z(hidden, out, loss):
    """Two layers: the hidden z is exactly one of the pairs (±1000, ±800, …); the output z follows from it."""
    net = derive.Network(1, (derive.Layer(2, hidden), derive.Layer(2, out)), loss)
    x = np.array([[1.0]])
    for z in PAIRS:
        params = {"W1": np.array(z).reshape(2, 1), "b1": np.zeros(2), "W2": W2.copy(), "b2": B2.copy()}
        a1 = ref_activation(hidden, option(derive.Layer(2, hidden)), list(z))
        z_out = [math.fsum(w * ai for w, ai in zip(row, a1, strict=True)) + bi for row, bi in zip(W2, B2, strict=True)]
        for y in targets(loss, 2):
            check_against_reference(net, params, x, np.array([y]), z_out)


def test_huge_z_batch_mixed_with_moderate_rows():
    """A batch mixing saturated and moderate samples: each sample's gradient survives the mean."""
    net = derive.Network(1, (derive.Layer(1, "sigmoid"),), "binary_cross_entropy")
    f = functions(net)
    x = np.array([[1000.0], [-1000.0], [0.0], [2.0]])
    y = np.array([[0.0], [1.0], [1.0], [0.5]])
    params = {"W1": np.array([[1.0]]), "b1": np.array([0.0])}
    with strict():
        c = f.loss(params, x, y)
        g = f.gradients(params, x, y)
    # C per sample: softplus(z) − y z = 1000, 1000, log 2, softplus(2) − 1
    expected_c = (1000.0 + 1000.0 + math.log(2) + (_softplus(2.0) - 1.0)) / 4
    assert c == pytest.approx(expected_c, rel=1e-14)
    # δ = σ(z) − y = 1, −1, −1/2, σ(2) − 1/2; ∂J/∂W = mean(δ x), ∂J/∂b = mean(δ)
    deltas = [1.0, -1.0, -0.5, _sigmoid(2.0) - 0.5]
    assert g["b1"][0] == pytest.approx(sum(deltas) / 4, rel=1e-14)
    assert g["W1"][0, 0] == pytest.approx((1000.0 + 1000.0 + 0.0 + 2.0 * deltas[3]) / 4, rel=1e-14)


def test_known_values_at_saturation():
    """The closed-form values named in the brief, each worked out by hand."""
    one = np.array([[1.0]])
    # σ(±1000): exactly 1 and 0 (to 1e-300).
    sig = functions(derive.Network(1, (derive.Layer(2, "sigmoid"),), "squared_error"))
    with strict():
        a = sig.forward({"W1": np.array([[1000.0], [-1000.0]]), "b1": np.zeros(2)}, one)
    assert abs(a[0, 0] - 1.0) <= 1e-300 and abs(a[0, 1]) <= 1e-300, a

    # BCE with a sigmoid output, z = 1000, y = 0: C = softplus(1000) − 0 = 1000.
    bce = functions(derive.Network(1, (derive.Layer(1, "sigmoid"),), "binary_cross_entropy"))
    params = {"W1": np.array([[1000.0]]), "b1": np.zeros(1)}
    with strict():
        c = bce.loss(params, one, np.array([[0.0]]))
        g = bce.gradients(params, one, np.array([[0.0]]))
    assert c == pytest.approx(1000.0, rel=1e-15)
    assert g["b1"][0] == 1.0 and g["W1"][0, 0] == 1.0  # δ = σ(1000) − 0 = 1, exactly

    # z = −1000, y = 1: C = softplus(−1000) + 1000 = 1000, δ = σ(−1000) − 1 = −1 exactly, ∂J/∂W = δ x = −1.
    params = {"W1": np.array([[-1000.0]]), "b1": np.zeros(1)}
    with strict():
        c = bce.loss(params, one, np.array([[1.0]]))
        g = bce.gradients(params, one, np.array([[1.0]]))
    assert c == pytest.approx(1000.0, rel=1e-15)
    assert g["b1"][0] == -1.0 and g["W1"][0, 0] == -1.0

    # Cross-entropy with softmax, logits (1000, 0), y = (0, 1): C = −(0 − logsumexp) = 1000 + log(1 + e^-1000) = 1000.
    ce = functions(derive.Network(1, (derive.Layer(2, "softmax"),), "cross_entropy"))
    params = {"W1": np.array([[1000.0], [0.0]]), "b1": np.zeros(2)}
    with strict():
        c = ce.loss(params, one, np.array([[0.0, 1.0]]))
        g = ce.gradients(params, one, np.array([[0.0, 1.0]]))
    assert c == pytest.approx(1000.0, rel=1e-15)
    np.testing.assert_array_equal(g["b1"], [1.0, -1.0])  # δ = a − y = (1, 0) − (0, 1)

    # softmax(1000, 1000) = (1/2, 1/2) exactly, and C = log 2 for either one-hot target.
    params = {"W1": np.array([[1000.0], [1000.0]]), "b1": np.zeros(2)}
    with strict():
        a = ce.forward(params, one)
        c = ce.loss(params, one, np.array([[1.0, 0.0]]))
    np.testing.assert_array_equal(a, [[0.5, 0.5]])
    assert c == pytest.approx(math.log(2), rel=1e-15)

    # Sigmoid with cross-entropy, z = −1000, y = 1: C = softplus(1000) = 1000, δ = −y (1 − σ(z)) = −1.
    sce = functions(derive.Network(1, (derive.Layer(1, "sigmoid"),), "cross_entropy"))
    params = {"W1": np.array([[-1000.0]]), "b1": np.zeros(1)}
    with strict():
        c = sce.loss(params, one, np.array([[1.0]]))
        g = sce.gradients(params, one, np.array([[1.0]]))
    assert c == pytest.approx(1000.0, rel=1e-15)
    assert g["b1"][0] == -1.0


def test_softmax_binary_cross_entropy_saturated_is_finite():
    """Softmax with BCE at extreme z, 2 and 3 outputs, as a hidden-free and a hidden net: finite, no warnings."""
    for net in (
        derive.Network(1, (derive.Layer(3, "softmax"),), "binary_cross_entropy"),
        derive.Network(1, (derive.Layer(2, "relu"), derive.Layer(3, "softmax")), "binary_cross_entropy"),
    ):
        f = functions(net)
        for z in ((1000.0, -1000.0, 0.0), (-1000.0, -1000.0, 1000.0), (800.0, 800.0, -800.0), (50.0, -50.0, 0.0)):
            params = {name: np.ones(shape) for name, shape in net.shapes().items()}
            if net.depth == 1:
                params["W1"] = np.array(z).reshape(3, 1)
                params["b1"] = np.zeros(3)
            else:
                params["W1"] = np.array([[1000.0], [-1000.0]])
                params["W2"] = np.array([[z[0] / 1000, 0.0], [z[1] / 1000, 0.0], [z[2] / 1000, 0.0]])
            for y in ((0.0, 1.0, 0.0), (0.5, 0.5, 0.0), (1.0, 1.0, 1.0), (0.25, 0.0, 0.75)):
                with strict():
                    a = f.forward(params, np.array([[1.0]]))
                    c = f.loss(params, np.array([[1.0]]), np.array([y]))
                    g = f.gradients(params, np.array([[1.0]]), np.array([y]))
                assert_finite(a, c, g)
                assert c >= 0.0


@pytest.mark.parametrize("gap", [10.0, 20.0, 30.0, 36.0, 40.0])
def test_softmax_binary_cross_entropy_gradient_for_confident_logits(gap):
    """Two softmax outputs with BCE at logits (gap/2, −gap/2): not saturated, so δ must be right.

    With a = (s, 1 − s), s = σ(u), u = z1 − z2, C = p softplus(−u) + q softplus(u) (p = 1 + y1 − y2, q = 2 − p),
    so δ1 = ∂C/∂z1 = 2s − p and δ2 = −δ1 (a softmax δ always sums to 0).
    """
    f = functions(derive.Network(1, (derive.Layer(2, "softmax"),), "binary_cross_entropy"))
    params = {"W1": np.array([[gap / 2], [-gap / 2]]), "b1": np.zeros(2)}
    for y in ((0.5, 0.5), (0.0, 1.0), (1.0, 0.0), (0.25, 0.5)):
        d1 = 2.0 * _sigmoid(gap) - (1 + y[0] - y[1])
        with strict():
            g = f.gradients(params, np.array([[1.0]]), np.array([y]))["b1"]
        err = np.abs(g - [d1, -d1]) / max(1.0, abs(d1))
        assert err.max() <= 1e-6, f"logits ({gap / 2}, {-gap / 2}), y={y}: ∂J/∂b1 = {g.tolist()}, expected {[d1, -d1]}"


# --------------------------------------------------------------------------------------------------
# 2. Gradients against central finite differences of the loss.


def L(units, activation, slope=None, alpha=None):
    return derive.Layer(units, activation, slope, alpha)


FD_NETS = {
    "3layer-tanh-leaky0.3-softmax-ce": derive.Network(
        3, (L(4, "tanh"), L(3, "leaky_relu", 0.3), L(2, "softmax")), "cross_entropy"
    ),
    "3layer-relu-sigmoid-sigmoid1-bce": derive.Network(
        2, (L(3, "relu"), L(3, "sigmoid"), L(1, "sigmoid")), "binary_cross_entropy"
    ),
    "3layer-nobias-identity-relu-softmax3-bce": derive.Network(
        2, (L(3, "identity"), L(4, "relu"), L(3, "softmax")), "binary_cross_entropy", bias=False
    ),
    "nobias-sigmoid-identity-se": derive.Network(3, (L(4, "sigmoid"), L(2, "identity")), "squared_error", bias=False),
    "leaky0.3-tanh1-mse": derive.Network(4, (L(5, "leaky_relu", 0.3), L(1, "tanh")), "mse"),
    "leaky-default-relu-se": derive.Network(3, (L(3, "leaky_relu"), L(2, "relu")), "squared_error"),
    "softmax-hidden-sigmoid-ce": derive.Network(3, (L(3, "softmax"), L(2, "sigmoid")), "cross_entropy"),
    "tanh-sigmoid3-mse": derive.Network(2, (L(3, "tanh"), L(3, "sigmoid")), "mse"),
    "nobias-identity1-mse": derive.Network(2, (L(1, "identity"),), "mse", bias=False),
    "relu-softmax2-mse": derive.Network(2, (L(3, "relu"), L(2, "softmax")), "mse"),
    "relu-softmax3-mse": derive.Network(2, (L(3, "relu"), L(3, "softmax")), "mse"),
    "tanh-softmax3-se": derive.Network(2, (L(3, "tanh"), L(3, "softmax")), "squared_error"),
    "sigmoid-softmax1-ce": derive.Network(2, (L(3, "sigmoid"), L(1, "softmax")), "cross_entropy"),
    "relu1layer-se": derive.Network(3, (L(2, "relu"),), "squared_error"),
    "elu0.5-silu-tanh1-se": derive.Network(3, (L(4, "elu", alpha=0.5), L(3, "silu"), L(1, "tanh")), "squared_error"),
    "silu-elu2-mse": derive.Network(2, (L(3, "silu"), L(2, "elu", alpha=2.0)), "mse"),
    "elu-default-sigmoid-bce": derive.Network(2, (L(3, "elu"), L(2, "sigmoid")), "binary_cross_entropy"),
}


def _zs(net, params, x):
    """Every layer's z for the batch, by a plain NumPy forward pass of this file's own."""
    a, out = x, []
    for layer, spec in enumerate(net.layers, start=1):
        z = a @ params[f"W{layer}"].T + (params[f"b{layer}"] if net.bias else 0.0)
        a = np.array([ref_activation(spec.activation, option(spec), row) for row in z.tolist()])
        out.append(z)
    return out


def moderate_point(net, seed: int, m: int, any_targets: bool = False):
    """random_batch, redrawn until no z is within 1e-3 of a ReLU kink (0)."""
    rng = np.random.default_rng(seed)
    for _ in range(200):
        params, x, y = random_batch(net, rng, m)
        if any_targets:
            y = rng.uniform(0, 1, y.shape)
        if all(np.min(np.abs(z)) >= 1e-3 for z in _zs(net, params, x)):
            return params, x, y
    raise AssertionError("no point away from the kinks")


def finite_differences(f, params, x, y, h=1e-6):
    out = {}
    for name, value in params.items():
        fd = np.zeros_like(value)
        for index in np.ndindex(value.shape):
            shifted = {k: v.copy() for k, v in params.items()}
            shifted[name][index] = value[index] + h
            up = f.loss(shifted, x, y)
            shifted[name][index] = value[index] - h
            down = f.loss(shifted, x, y)
            fd[index] = (up - down) / (2 * h)
        out[name] = fd
    return out


@pytest.mark.parametrize("m", [1, 5])
@pytest.mark.parametrize("name", list(FD_NETS))
def test_gradients_match_finite_differences(name, m):
    net = FD_NETS[name]
    f = functions(net)
    for seed in (0, 1):
        params, x, y = moderate_point(net, seed, m)
        with strict():
            g = f.gradients(params, x, y)
            # the loss itself agrees with derive's independent per-sample cost
            assert f.loss(params, x, y) == pytest.approx(cost(net, params, x, y), rel=1e-12, abs=1e-14)
        fd = finite_differences(f, params, x, y)
        assert set(g) == set(params)
        for key in params:
            assert g[key].shape == params[key].shape
            err = np.abs(g[key] - fd[key]) / np.maximum(1.0, np.abs(g[key]))
            assert err.max() <= 1e-6, f"{name} m={m} seed={seed} ∂J/∂{key}: {g[key].tolist()} vs FD {fd[key].tolist()}"


@pytest.mark.parametrize("m", [1, 5])
def test_softmax_cross_entropy_gradients_for_targets_not_summing_to_one(m):
    """The output δ of softmax with CE is written a Σy − y, exact for any targets."""
    net = FD_NETS["3layer-tanh-leaky0.3-softmax-ce"]
    f = functions(net)
    params, x, y = moderate_point(net, 7, m, any_targets=True)
    assert not np.allclose(y.sum(axis=1), 1.0)
    g = f.gradients(params, x, y)
    fd = finite_differences(f, params, x, y)
    for key in params:
        np.testing.assert_array_less(np.abs(g[key] - fd[key]) / np.maximum(1.0, np.abs(g[key])), 1e-6)


@pytest.mark.parametrize("name", list(FD_NETS))
def test_gradients_match_reference_backprop_at_moderate_points(name):
    """The same gradients from this file's plain-Python backpropagation, for one sample."""
    net = FD_NETS[name]
    f = functions(net)
    params, x, y = moderate_point(net, 3, 1)
    a, ref_c, ref_g = ref_sample(net, params, x[0].tolist(), y[0].tolist())
    assert ref_g is not None
    np.testing.assert_allclose(f.forward(params, x)[0], a, rtol=1e-12, atol=1e-15)
    assert f.loss(params, x, y) == pytest.approx(ref_c, rel=1e-12, abs=1e-14)
    g = f.gradients(params, x, y)
    for key, ref in ref_g.items():
        np.testing.assert_allclose(g[key], ref, rtol=1e-10, atol=1e-13, err_msg=f"{name} ∂J/∂{key}")


# --------------------------------------------------------------------------------------------------
# 3. One 1-D sample is a batch of one; a batch's gradient is the mean of its samples'.


@pytest.mark.parametrize("name", list(FD_NETS))
def test_single_sample_and_batch_mean(name):
    net = FD_NETS[name]
    f = functions(net)
    params, x, y = moderate_point(net, 11, 5)
    a1 = f.forward(params, x[0])
    assert a1.shape == (net.outputs,)
    np.testing.assert_array_equal(a1, f.forward(params, x[:1])[0])
    np.testing.assert_allclose(f.forward(params, x)[0], a1, rtol=1e-14, atol=1e-16)  # BLAS may round apart
    assert f.loss(params, x[0], y[0]) == f.loss(params, x[:1], y[:1])
    g1 = f.gradients(params, x[0], y[0])
    gb = f.gradients(params, x[:1], y[:1])
    for key, shape in net.shapes().items():
        assert g1[key].shape == shape and gb[key].shape == shape
        np.testing.assert_array_equal(g1[key], gb[key])

    per_sample = [f.gradients(params, x[s], y[s]) for s in range(5)]
    batch = f.gradients(params, x, y)
    for key in params:
        mean = np.mean([g[key] for g in per_sample], axis=0)
        np.testing.assert_allclose(batch[key], mean, rtol=1e-12, atol=1e-15, err_msg=key)
    losses = [f.loss(params, x[s], y[s]) for s in range(5)]
    assert f.loss(params, x, y) == pytest.approx(np.mean(losses), rel=1e-13)
    outs = np.array([f.forward(params, x[s]) for s in range(5)])
    np.testing.assert_allclose(f.forward(params, x), outs, rtol=1e-14, atol=1e-16)


def test_single_sample_from_lists():
    """Plain Python lists for one sample go through the checked path and give the same numbers."""
    net = FD_NETS["3layer-tanh-leaky0.3-softmax-ce"]
    f = functions(net)
    params, x, y = moderate_point(net, 5, 1)
    listed = {k: v.tolist() for k, v in params.items()}
    np.testing.assert_array_equal(f.forward(listed, x[0].tolist()), f.forward(params, x)[0])
    g = f.gradients(listed, x[0].tolist(), y[0].tolist())
    for key, value in f.gradients(params, x, y).items():
        np.testing.assert_array_equal(g[key], value)


# --------------------------------------------------------------------------------------------------
# 4. Shape errors, in the lambdified functions and in the standalone module.

ERR_NET = derive.Network(3, (L(4, "relu"), L(2, "softmax")), "cross_entropy", name="errnet")


def _good():
    params, x, y = random_batch(ERR_NET, np.random.default_rng(0), 5)
    return params, x, y


def _without(params, key):
    return {k: v for k, v in params.items() if k != key}


# (id, how to break the good inputs, which functions see it, substrings of the message)
ERROR_CASES = [
    ("missing-b2", lambda p, x, y: (_without(p, "b2"), x, y), "flg", ["params: b2 is missing", "(2,)"]),
    ("missing-W1", lambda p, x, y: (_without(p, "W1"), x, y), "flg", ["params: W1 is missing", "(4, 3)"]),
    (
        "extra-W3",
        lambda p, x, y: ({**p, "W3": np.zeros((2, 2))}, x, y),
        "flg",
        ["params: unknown parameter array 'W3'", "W1", "b2"],
    ),
    (
        "transposed-W1",
        lambda p, x, y: ({**p, "W1": p["W1"].T.copy()}, x, y),
        "flg",
        ["params: W1 has shape (3, 4), expected (4, 3)"],
    ),
    (
        "transposed-W2",
        lambda p, x, y: ({**p, "W2": p["W2"].T.copy()}, x, y),
        "flg",
        ["params: W2 has shape (4, 2), expected (2, 4)"],
    ),
    (
        "b1-as-row",
        lambda p, x, y: ({**p, "b1": p["b1"].reshape(1, 4)}, x, y),
        "flg",
        ["params: b1 has shape (1, 4), expected (4,)"],
    ),
    ("x-wrong-width", lambda p, x, y: (p, np.zeros((5, 2)), y), "flg", ["x: has shape (5, 2)", "(m, 3)"]),
    ("x-1d-wrong-width", lambda p, x, y: (p, np.zeros(4), y[0]), "flg", ["x: has shape (4,)", "(m, 3)", "(3,)"]),
    ("x-3d", lambda p, x, y: (p, x.reshape(5, 1, 3), y), "flg", ["x: has shape (5, 1, 3)", "(m, 3)"]),
    ("x-empty", lambda p, x, y: (p, np.zeros((0, 3)), np.zeros((0, 2))), "flg", ["x: has shape (0, 3)", "m >= 1"]),
    ("y-wrong-rows", lambda p, x, y: (p, x, y[:4]), "lg", ["y: has shape (4, 2)", "expected (5, 2)", "(5, 3)"]),
    (
        "y-wrong-columns",
        lambda p, x, y: (p, x, np.zeros((5, 3))),
        "lg",
        ["y: has shape (5, 3)", "expected (5, 2)", "x of shape (5, 3)"],
    ),
    ("y-1d-with-2d-x", lambda p, x, y: (p, x, y[0]), "lg", ["y: has shape (2,)", "expected (5, 2)"]),
    ("y-2d-with-1d-x", lambda p, x, y: (p, x[0], y[:1]), "lg", ["y: has shape (1, 2)", "expected (2,)"]),
    ("params-list", lambda p, x, y: (list(p.values()), x, y), "flg", ["params: expected a dict", "W1", "list"]),
    ("params-none", lambda p, x, y: (None, x, y), "flg", ["params: expected a dict", "NoneType"]),
]


def _calls(module, which, params, x, y):
    table = {
        "f": lambda: module.forward(params, x),
        "l": lambda: module.loss(params, x, y),
        "g": lambda: module.gradients(params, x, y),
    }
    return [(key, table[key]) for key in which]


def _message(call, error_type) -> str:
    with pytest.raises(error_type) as info:
        call()
    assert type(info.value).__name__ == "ShapeError"
    text = str(info.value)
    assert "\n" not in text and text.strip() == text and text, repr(text)
    return text


@pytest.fixture(scope="module")
def standalone(tmp_path_factory):
    """The module ``derive codegen`` writes for ERR_NET, imported from a file with derive unimportable."""
    source = codegen.module_source(ERR_NET)
    path = tmp_path_factory.mktemp("codegen") / "errnet_grads.py"
    path.write_text(source, encoding="utf-8")
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(sys.modules, "derive", None)  # any `import derive…` inside would fail
        spec = importlib.util.spec_from_file_location("errnet_grads", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(("case", "breaker", "which", "parts"), ERROR_CASES, ids=[c[0] for c in ERROR_CASES])
def test_shape_errors(case, breaker, which, parts, standalone):
    f = functions(ERR_NET)
    params, x, y = breaker(*_good())
    assert issubclass(standalone.ShapeError, ValueError)
    for key, call in _calls(f, which, params, x, y):
        text = _message(call, ShapeError)
        for part in parts:
            assert part in text, f"{case} ({key}): {part!r} not in {text!r}"
        mine = _message(dict(_calls(standalone, which, params, x, y))[key], standalone.ShapeError)
        assert mine == text, f"{case} ({key}): standalone says {mine!r}, lambdified {text!r}"


def test_shape_error_is_derive_error_and_value_error():
    assert issubclass(ShapeError, derive.DeriveError) and issubclass(ShapeError, ValueError)
    params, x, y = _good()
    with pytest.raises(ValueError):
        functions(ERR_NET).gradients({**params, "W1": params["W1"].T}, x, y)
    with pytest.raises(derive.DeriveError):
        functions(ERR_NET).loss(_without(params, "b1"), x, y)


def test_nested_lists_are_converted(standalone):
    f = functions(ERR_NET)
    params, x, y = _good()
    listed = {**params, "W1": params["W1"].tolist()}
    for module in (f, standalone):
        np.testing.assert_array_equal(module.forward(listed, x), f.forward(params, x))
        assert module.loss(listed, x, y) == f.loss(params, x, y)
        g = module.gradients(listed, x, y)
        for key, value in f.gradients(params, x, y).items():
            assert g[key].shape == value.shape
            np.testing.assert_array_equal(g[key], value)
    # everything as lists, and integer inputs, are converted to float64 too
    all_lists = {k: v.tolist() for k, v in params.items()}
    g = f.gradients(all_lists, x.tolist(), y.tolist())
    for key, value in f.gradients(params, x, y).items():
        np.testing.assert_array_equal(g[key], value)
    xi = np.array([[1, 0, -1], [2, 1, 0]])
    np.testing.assert_array_equal(f.forward(params, xi), f.forward(params, xi.astype(float)))


def test_standalone_module_imports_without_derive_and_matches_exactly(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "derive", None)
    for k, (name, net) in enumerate(FD_NETS.items()):
        source = codegen.module_source(net)
        assert not re.search(r"^\s*(import|from)\s+derive\b", source, re.MULTILINE), name
        assert "import numpy as np" in source
        path = tmp_path / f"grads_{k}.py"
        path.write_text(source, encoding="utf-8")
        spec = importlib.util.spec_from_file_location(f"grads_{k}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        assert issubclass(module.ShapeError, ValueError)
        f = functions(net)
        for m in (1, 4):
            params, x, y = moderate_point(net, 20 + m, m)
            np.testing.assert_array_equal(module.forward(params, x), f.forward(params, x))
            assert module.loss(params, x, y) == f.loss(params, x, y)
            mine, theirs = module.gradients(params, x, y), f.gradients(params, x, y)
            assert list(mine) == list(theirs) == list(net.shapes())
            for key in theirs:
                assert np.array_equal(mine[key], theirs[key]), (name, key)


# --------------------------------------------------------------------------------------------------
# 5. The arrays passed in are left as they were.


@pytest.mark.parametrize("name", ["3layer-tanh-leaky0.3-softmax-ce", "nobias-identity1-mse", "relu1layer-se"])
def test_inputs_are_not_modified(name):
    net = FD_NETS[name]
    f = functions(net)
    params, x, y = moderate_point(net, 13, 4)
    for p, xs, ys in (
        (params, x, y),
        (params, x[0], y[0]),
        ({k: v.astype(np.float32) for k, v in params.items()}, x, y),
    ):
        before = ({k: v.copy() for k, v in p.items()}, xs.copy(), ys.copy())
        a = f.forward(p, xs)
        c = f.loss(p, xs, ys)
        g = f.gradients(p, xs, ys)
        for k in p:
            np.testing.assert_array_equal(p[k], before[0][k])
            assert p[k].dtype == before[0][k].dtype
        np.testing.assert_array_equal(xs, before[1])
        np.testing.assert_array_equal(ys, before[2])
        assert math.isfinite(c)
        # the results are fresh arrays: writing into them leaves the inputs alone
        for value in (a, *g.values()):
            for arr in (xs, ys, *p.values()):
                assert not np.shares_memory(value, arr)
        a[...] = 123.0
        for value in g.values():
            value[...] = 456.0
        for k in p:
            np.testing.assert_array_equal(p[k], before[0][k])
        np.testing.assert_array_equal(xs, before[1])


# --------------------------------------------------------------------------------------------------
# 6. Determinism of the generated source.


def test_module_source_is_deterministic():
    """Within a process; across processes with different hash seeds, tests/test_determinism.py compares
    every example's generated module and pytest file."""
    spec = ROOT / "examples" / "seed003.toml"
    net = derive.load(spec)
    first = codegen.module_source(net)
    assert codegen.module_source(net) == first
    assert codegen.module_source(derive.load(spec)) == first
