"""assert_gradients on the other kinds of code people test: a torch module, an SGD step, a scalar-autograd model.

The correct code here is written independently of derive (torch's own modules, a hand-written NumPy
backprop, a small scalar-autograd Value class); each broken variant has one deliberate bug and must fail
with a message that says where its gradients came from.
"""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT

import derive
from derive import Layer, Network
from derive.adapters import adapt
from derive.model.samples import random_batch
from derive.testing import assert_gradients

TANH_SIGMOID = Network(inputs=3, layers=(Layer(4, "tanh"), Layer(2, "sigmoid")), loss="squared_error")
SOFTMAX_CE = Network(inputs=3, layers=(Layer(4, "relu"), Layer(3, "softmax")), loss="cross_entropy")
SIGMOID_BCE = Network(inputs=2, layers=(Layer(3, "tanh"), Layer(2, "sigmoid")), loss="binary_cross_entropy")


# ============================================================================ torch modules
@pytest.fixture(scope="module")
def nn():
    return pytest.importorskip("torch").nn


def test_a_correct_sequential_passes_and_is_left_as_it_was(nn):
    module = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2), nn.Sigmoid())
    before = module[0].weight.detach().clone()
    assert_gradients(TANH_SIGMOID, module)
    assert module[0].weight.dtype.is_floating_point and str(module[0].weight.dtype) == "torch.float32"
    assert bool((module[0].weight == before).all())


def test_nested_sequentials_are_read_in_order(nn):
    halves = nn.Sequential(nn.Linear(3, 4), nn.Tanh()), nn.Sequential(nn.Linear(4, 2), nn.Sigmoid())
    assert_gradients(TANH_SIGMOID, nn.Sequential(*halves))


def test_a_sequential_with_a_forward_of_its_own_is_not_read_as_a_sequence(nn):
    """Its children say tanh; its forward uses relu. Not checked as a sequence, it fails on its gradients."""

    class Rewired(nn.Sequential):
        def forward(self, x):
            return self[3](self[2](self[0](x).relu()))

    module = Rewired(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2), nn.Sigmoid())
    with pytest.raises(AssertionError, match="a forward of its own, so its activations were not checked"):
        assert_gradients(TANH_SIGMOID, module)


def test_softmax_outputs_may_be_logits_or_probabilities(nn):
    assert_gradients(SOFTMAX_CE, nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 3)))
    assert_gradients(SOFTMAX_CE, nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 3), nn.Softmax(dim=1)))
    assert_gradients(SIGMOID_BCE, nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 2)))


class TwoLayers:
    """A module with its Linear layers as attributes and a forward of its own (made an nn.Module below)."""


def _own_forward(nn, forward, sizes=(3, 4, 2), bias=True):
    torch = pytest.importorskip("torch")

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.hidden = nn.Linear(sizes[0], sizes[1], bias=bias)
            self.out = nn.Linear(sizes[1], sizes[2], bias=bias)

        def forward(self, x):
            return forward(torch, self, x)

    return Net()


def test_a_module_with_its_own_forward_passes(nn):
    module = _own_forward(nn, lambda torch, net, x: torch.sigmoid(net.out(torch.tanh(net.hidden(x)))))
    assert_gradients(TANH_SIGMOID, module)
    logits = _own_forward(nn, lambda torch, net, x: net.out(torch.relu(net.hidden(x))), sizes=(3, 4, 3))
    assert_gradients(SOFTMAX_CE, logits)
    softmax = _own_forward(nn, lambda torch, net, x: torch.softmax(net.out(torch.relu(net.hidden(x))), 1), (3, 4, 3))
    assert_gradients(SOFTMAX_CE, softmax)


def test_a_network_without_biases(nn):
    net = Network(inputs=3, layers=(Layer(4, "tanh"), Layer(2, "identity")), loss="mse", bias=False)
    assert_gradients(net, nn.Sequential(nn.Linear(3, 4, bias=False), nn.Tanh(), nn.Linear(4, 2, bias=False)))
    with pytest.raises(AssertionError, match=r"^torch module: Linear layer 1 has a bias, the spec's layers have none$"):
        assert_gradients(net, nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2, bias=False)))


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (
            lambda nn: nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2), nn.Sigmoid()),
            "after Linear layer 1 it applies ReLU(), not the spec's tanh",
        ),
        (
            lambda nn: nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)),
            "after Linear layer 2 it applies nothing, not the spec's sigmoid",
        ),
        (
            lambda nn: nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 2), nn.Sigmoid()),
            "Linear layer 1 maps 3 → 5, the spec's layer 1 3 → 4",
        ),
        (
            lambda nn: nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 4), nn.Tanh(), nn.Linear(4, 2)),
            "it has 3 Linear layers, the spec 2 layers",
        ),
        (
            lambda nn: nn.Sequential(nn.Linear(3, 4), nn.LayerNorm(4), nn.Tanh(), nn.Linear(4, 2), nn.Sigmoid()),
            "it has a parameter '1.weight' outside its Linear layers",
        ),
        (
            lambda nn: nn.Sequential(nn.Tanh(), nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2), nn.Sigmoid()),
            "it starts with Tanh(), not with a Linear layer",
        ),
    ],
    ids=["activation", "missing-output-activation", "width", "depth", "extra-parameters", "no-linear-first"],
)
def test_a_module_of_another_structure_gets_one_line(nn, build, message):
    with pytest.raises(AssertionError) as info:
        assert_gradients(TANH_SIGMOID, build(nn))
    text = str(info.value)
    assert text.startswith("torch module: " + message) and "\n" not in text


def test_a_leaky_relu_of_another_slope_is_seen(nn):
    net = Network(inputs=3, layers=(Layer(4, "leaky_relu", slope=0.1), Layer(2, "identity")), loss="mse")
    assert_gradients(net, nn.Sequential(nn.Linear(3, 4), nn.LeakyReLU(0.1), nn.Linear(4, 2)))
    with pytest.raises(AssertionError, match=re.escape("LeakyReLU(negative_slope=0.01), not the spec's leaky_relu")):
        assert_gradients(net, nn.Sequential(nn.Linear(3, 4), nn.LeakyReLU(), nn.Linear(4, 2)))


def test_a_forward_with_a_bug_fails(nn):
    detached = _own_forward(nn, lambda torch, net, x: torch.sigmoid(net.out(torch.tanh(net.hidden(x)).detach())))
    with pytest.raises(AssertionError) as info:
        assert_gradients(TANH_SIGMOID, detached)
    text = str(info.value)
    assert text.startswith("W1[1,1]: yours 0.0, derived ")
    assert "torch autograd's .grad, in float64, of the spec's squared_error of your Net's outputs" in text
    assert "a forward of its own, so its activations were not checked" in text
    assert "no gradient reached W1, b1 (.grad None: detached from the graph?)" in text

    doubled = _own_forward(nn, lambda torch, net, x: 2 * torch.sigmoid(net.out(torch.tanh(net.hidden(x)))))
    with pytest.raises(AssertionError, match="outputs \\(read as the network's output a⁽ᴸ⁾;"):
        assert_gradients(TANH_SIGMOID, doubled)


def test_logits_are_said_to_be_logits(nn):
    """A module of its own returning logits (its hidden relu forgotten) is read as such and the message says so."""
    with pytest.raises(AssertionError) as info:
        assert_gradients(SOFTMAX_CE, _own_forward(nn, lambda torch, net, x: net.out(net.hidden(x)), (3, 4, 3)))
    assert "(read as logits z⁽ᴸ⁾, the spec's softmax applied by derive; a forward of its own" in str(info.value)


def test_step_and_loss_go_with_their_kinds(nn):
    module = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2), nn.Sigmoid())
    with pytest.raises(derive.DeriveError, match="step= takes a function step"):
        assert_gradients(TANH_SIGMOID, module, step=0.1)
    with pytest.raises(derive.DeriveError, match="loss= is for a scalar-autograd model"):
        assert_gradients(TANH_SIGMOID, backprop, loss=lambda a, y: a)


def test_loss_is_only_for_scalar_models(nn):
    with pytest.raises(derive.DeriveError, match="loss= is for a scalar-autograd model"):
        assert_gradients(TANH_SIGMOID, nn.Sequential(nn.Linear(3, 4), nn.Tanh()), loss=lambda a, y: a)


# ============================================================================ one SGD step
def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def backprop(params, x, y):
    """∂J/∂θ of the 3-4-2 tanh/sigmoid net with squared error, written out by hand (rows are samples)."""
    z1 = x @ params["W1"].T + params["b1"]
    a1 = np.tanh(z1)
    a2 = _sigmoid(a1 @ params["W2"].T + params["b2"])
    d2 = (a2 - y) * a2 * (1 - a2) / len(x)
    d1 = (d2 @ params["W2"]) * (1 - a1**2)
    return {"W1": d1.T @ x, "b1": d1.sum(0), "W2": d2.T @ a1, "b2": d2.sum(0)}


def test_a_correct_step_in_place_or_returned_passes():
    def in_place(params, x, y):
        for name, g in backprop(params, x, y).items():
            params[name] -= 0.1 * g

    def returned(params, x, y):
        return {name: params[name] - 0.01 * g for name, g in backprop(params, x, y).items()}

    def tiny(params, x, y):
        for name, g in backprop(params, x, y).items():
            params[name] -= 1e-6 * g

    assert_gradients(TANH_SIGMOID, in_place, step=0.1)
    assert_gradients(TANH_SIGMOID, returned, step=0.01)
    assert_gradients(TANH_SIGMOID, tiny, step=1e-6)  # float64: the step's rounding, ~1e-9 here, is allowed for


def test_derive_testing_works_without_torch(tmp_path):
    """Plain functions and SGD steps never import torch: a Python where it cannot be imported runs them."""
    (tmp_path / "torch.py").write_text("raise ImportError('no torch here')\n", encoding="utf-8")
    code = (
        "import sys, numpy as np\n"
        "from derive import Layer, Network\n"
        "from derive.testing import assert_gradients\n"
        "import test_adapters as t\n"
        "assert_gradients(t.TANH_SIGMOID, t.backprop)\n"
        "assert_gradients(t.TANH_SIGMOID, lambda p, x, y: {k: p[k] - 0.1 * g for k, g in t.backprop(p, x, y).items()},"
        " step=0.1)\n"
        "assert_gradients(t.TANH_SIGMOID, t.MLP(3, [4, 2], ['tanh', 'sigmoid']), batches=(2,))\n"
        "assert 'torch' not in sys.modules or sys.modules['torch'] is None\n"
    )
    path = os.pathsep.join([str(tmp_path), str(ROOT), str(ROOT / "tests")])
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "PYTHONPATH": path},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def test_a_step_in_float32_passes_and_its_bug_still_shows():
    """float32's rounding, ε|θ|/lr ≈ 1e-6, is allowed; a gradient m times too large is not."""

    def float32(scale):
        def step(params, x, y):
            g = backprop(params, x, y)
            return {
                k: params[k].astype(np.float32) - np.float32(0.1) * (scale(len(x)) * g[k]).astype(np.float32) for k in g
            }

        return step

    assert_gradients(TANH_SIGMOID, float32(lambda m: 1), step=0.1)
    with pytest.raises(AssertionError, match="one SGD step of lr 0.1"):
        assert_gradients(TANH_SIGMOID, float32(lambda m: m), step=0.1)


def test_a_step_without_the_mean_fails_naming_the_step():
    def summed(params, x, y):
        for name, g in backprop(params, x, y).items():
            params[name] -= 0.1 * len(x) * g  # the 1/m forgotten

    with pytest.raises(AssertionError) as info:
        assert_gradients(TANH_SIGMOID, summed, step=0.1)
    text = str(info.value)
    assert "(seed 0, batch of 4;" in text  # a batch of 1 cannot tell
    assert "m = 4 times the derived value" in text
    assert "yours was recovered from one SGD step of lr 0.1, as (θ before − θ after)/0.1" in text


def test_a_step_of_another_learning_rate_or_none_at_all():
    def twice(params, x, y):
        for name, g in backprop(params, x, y).items():
            params[name] -= 0.2 * g

    with pytest.raises(AssertionError, match="(?s)twice the derived value.*a learning rate other than 0.1"):
        assert_gradients(TANH_SIGMOID, twice, step=0.1)
    with pytest.raises(AssertionError, match="your step changed no parameter"):
        assert_gradients(TANH_SIGMOID, lambda params, x, y: None, step=0.1)
    for bad in (0, -0.1, float("nan"), "0.1", True):
        with pytest.raises(derive.DeriveError, match="step= must be the learning rate"):
            assert_gradients(TANH_SIGMOID, backprop, step=bad)


# ============================================================================ a scalar-autograd model
class Value:
    """A scalar and its gradient, with the local derivative of each operation (our own, for these tests)."""

    def __init__(self, data, parents=(), back=None):
        self.data, self.grad, self._parents, self._back = float(data), 0.0, parents, back

    def _wrap(self, other):
        return other if isinstance(other, Value) else type(self)(other)

    def _node(self, data, parents, locals_):
        """A new value; ``locals_`` are ∂out/∂parent, each parent's grad gains out.grad times its own."""
        out = type(self)(data, parents)

        def back():
            for parent, local in zip(parents, locals_, strict=True):
                parent.grad += local * out.grad

        out._back = back
        return out

    def __add__(self, other):
        other = self._wrap(other)
        return self._node(self.data + other.data, (self, other), (1.0, 1.0))

    def __mul__(self, other):
        other = self._wrap(other)
        return self._node(self.data * other.data, (self, other), (other.data, self.data))

    def __pow__(self, k):
        return self._node(self.data**k, (self,), (k * self.data ** (k - 1),))

    def exp(self):
        e = math.exp(self.data)
        return self._node(e, (self,), (e,))

    def log(self):
        return self._node(math.log(self.data), (self,), (1.0 / self.data,))

    def tanh(self):
        t = math.tanh(self.data)
        return self._node(t, (self,), (self.tanh_slope(t),))

    def tanh_slope(self, t):
        return 1.0 - t * t

    def relu(self):
        return self._node(max(self.data, 0.0), (self,), (1.0 if self.data > 0 else 0.0,))

    def sigmoid(self):
        s = 1.0 / (1.0 + math.exp(-self.data))
        return self._node(s, (self,), (s * (1.0 - s),))

    __radd__ = __add__
    __rmul__ = __mul__

    def __neg__(self):
        return self * -1.0

    def __sub__(self, other):
        return self + (-self._wrap(other))

    def __rsub__(self, other):
        return self._wrap(other) - self

    def __truediv__(self, other):
        return self * self._wrap(other) ** -1

    def backward(self):
        order, seen = [], set()

        def visit(v):
            if id(v) not in seen:
                seen.add(id(v))
                for p in v._parents:
                    visit(p)
                order.append(v)

        visit(self)
        self.grad = 1.0
        for v in reversed(order):
            if v._back is not None:
                v._back()


class WrongTanh(Value):
    """tanh′ written as 1 − t instead of 1 − t²."""

    def tanh_slope(self, t):
        return 1.0 - t


class NoLog(Value):
    log = None


class Neuron:
    def __init__(self, inputs, activation, value=Value):
        self.w = [value(0.0) for _ in range(inputs)]
        self.b = value(0.0)
        self.activation = activation

    def __call__(self, x):
        z = sum((wi * xi for wi, xi in zip(self.w, x, strict=True)), self.b)
        return getattr(z, self.activation)() if self.activation else z

    def parameters(self):
        return [*self.w, self.b]


class MLP:
    """Layers of neurons; parameters layer by layer, neuron by neuron, weights then bias (as micrograd)."""

    def __init__(self, inputs, widths, activations, value=Value):
        sizes = [inputs, *widths]
        self.layers = [[Neuron(sizes[i], act, value) for _ in range(sizes[i + 1])] for i, act in enumerate(activations)]

    def __call__(self, x):
        for layer in self.layers:
            x = [neuron(x) for neuron in layer]
        return x[0] if len(x) == 1 else x

    def parameters(self):
        return [p for layer in self.layers for neuron in layer for p in neuron.parameters()]


def test_a_correct_scalar_model_passes():
    assert_gradients(TANH_SIGMOID, MLP(3, [4, 2], ["tanh", "sigmoid"]), batches=(1, 4))
    assert_gradients(SIGMOID_BCE, MLP(2, [3, 2], ["tanh", "sigmoid"]), batches=(1, 4))
    one = Network(inputs=2, layers=(Layer(3, "relu"), Layer(1, "identity")), loss="mse")
    assert_gradients(one, MLP(2, [3, 1], ["relu", None]), batches=(1, 4))


def test_a_scalar_model_returning_logits_gets_the_spec_softmax():
    model = MLP(3, [4, 3], ["relu", None])
    assert_gradients(SOFTMAX_CE, model, batches=(1, 4))
    with pytest.raises(AssertionError, match=re.escape("the spec's softmax of its outputs (read as logits z⁽ᴸ⁾)")):
        assert_gradients(SOFTMAX_CE, MLP(3, [4, 3], ["tanh", None]), batches=(1, 4))


def test_a_wrong_local_derivative_fails():
    with pytest.raises(AssertionError) as info:
        assert_gradients(TANH_SIGMOID, MLP(3, [4, 2], ["tanh", "sigmoid"], value=WrongTanh), batches=(1, 4))
    text = str(info.value)
    assert text.startswith("W1[")
    assert "yours is the .grad of your MLP's parameters after backward() of the spec's squared_error" in text


def test_a_value_without_log_needs_loss():
    with pytest.raises(
        derive.DeriveError, match=r"your NoLog has no log\(\), which derive needs to build the spec's cross_entropy"
    ):
        assert_gradients(SOFTMAX_CE, MLP(3, [4, 3], ["relu", None], value=NoLog), batches=(1,))

    def cross_entropy(logits, targets):
        """−Σ y log softmax(z) = log Σ exp z − Σ y z, for targets that sum to one."""
        e = [z.exp() for z in logits]
        return sum(e[1:], e[0]).log() - sum((t * z for t, z in zip(targets, logits, strict=True)), Value(0.0))

    model = MLP(3, [4, 3], ["relu", None])
    assert_gradients(SOFTMAX_CE, model, loss=cross_entropy, batches=(1, 4))
    with pytest.raises(AssertionError, match=r"backward\(\) of your loss="):
        assert_gradients(SOFTMAX_CE, model, loss=lambda z, t: cross_entropy(z, t) * 2.0, batches=(1,))


class Layered(MLP):
    """micrograd's shape: layers with ``neurons``, neurons with ``w``."""

    class Layer:
        def __init__(self, neurons):
            self.neurons = neurons

    def __init__(self, inputs, widths, activations):
        super().__init__(inputs, widths, activations)
        self.layers = [self.Layer(layer) for layer in self.layers]

    def __call__(self, x):
        for layer in self.layers:
            x = [neuron(x) for neuron in layer.neurons]
        return x

    def parameters(self):
        return [p for layer in self.layers for neuron in layer.neurons for p in neuron.parameters()]


def test_a_scalar_model_of_another_size():
    assert_gradients(TANH_SIGMOID, Layered(3, [4, 2], ["tanh", "sigmoid"]), batches=(2,))
    with pytest.raises(AssertionError, match="^scalar-autograd model: it has 32 parameters, the spec's network 26$"):
        assert_gradients(TANH_SIGMOID, MLP(3, [5, 2], ["tanh", "sigmoid"]))
    # 3-1-5-2 has 26 parameters too: its layers tell.
    with pytest.raises(AssertionError, match="^scalar-autograd model: it has 3 layers, the spec 2$"):
        assert_gradients(TANH_SIGMOID, Layered(3, [1, 5, 2], ["tanh", "tanh", "sigmoid"]))


# ============================================================================ class labels
def test_integer_labels_reach_the_loss_as_one_hot_rows(nn):
    """With targets given as class labels of shape (m,), the torch and scalar adapters use one-hot rows."""
    params, x, _ = random_batch(SOFTMAX_CE, np.random.default_rng(5), 4)
    labels = np.array([2, 0, 1, 2])
    one_hot = np.eye(3)[labels]
    for thing in (nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 3)), MLP(3, [4, 3], ["relu", None])):
        adapted = adapt(thing, SOFTMAX_CE)
        by_labels, by_rows = adapted.gradients(params, x, labels), adapted.gradients(params, x, one_hot)
        for name, g in by_rows.items():
            np.testing.assert_allclose(by_labels[name], g, rtol=1e-12, atol=1e-15)
        expected = derive.derive(SOFTMAX_CE).lambdify().gradients(params, x, one_hot)
        for name, g in expected.items():
            np.testing.assert_allclose(by_rows[name], g, rtol=1e-9, atol=1e-12)


def test_torch_modules_with_elu_and_silu_are_read_by_their_values() -> None:
    torch = pytest.importorskip("torch")
    nn = torch.nn
    for act, module in (("elu", nn.ELU()), ("silu", nn.SiLU())):
        net = Network(3, (Layer(4, act), Layer(2, "identity")), "squared_error")
        assert_gradients(net, nn.Sequential(nn.Linear(3, 4), module, nn.Linear(4, 2)))
    half = Network(3, (Layer(4, "elu", alpha=0.5), Layer(2, "identity")), "squared_error")
    assert_gradients(half, nn.Sequential(nn.Linear(3, 4), nn.ELU(alpha=0.5), nn.Linear(4, 2)))
    with pytest.raises(AssertionError, match=r"it applies ELU\(alpha=1.0\), not the spec's elu \(alpha 1/2\)"):
        assert_gradients(half, nn.Sequential(nn.Linear(3, 4), nn.ELU(), nn.Linear(4, 2)))
