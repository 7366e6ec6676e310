"""A scalar-autograd model (micrograd-style) as a gradients function: its own values' backward().

A model is callable on one sample (a list of floats) and returns its output value, or a list of them;
``model.parameters()`` lists values with ``.data`` and ``.grad``, in layer order, and within a layer neuron
by neuron, each neuron's weights then its bias (micrograd's order). derive sets each ``.data`` from its
seeded W and b, zeroes every ``.grad``, builds J = (Σₛ Cₛ)·(1/m) from the model's outputs with the values'
own operations and calls ``J.backward()``: the model's forward and its values' local derivatives are what
is tested.

Cₛ is the spec's loss, built from the values' +, *, ** and their exp() and log() methods by walking the
loss's sympy formula; when the values lack one, pass ``loss=``: a function (outputs, targets) → Cₛ of one
sample (a list of output values and a list of floats). As a torch module may, a model may return logits
where the spec's loss needs outputs in (0, 1): a probe of 64 samples decides (see
:mod:`derive.adapters.torch_module`) and derive applies the output activation from its formula too (not with
``loss=``, which receives the model's outputs as they are).
"""

from __future__ import annotations

import functools
import math
import operator
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import sympy

from derive.adapters.base import Adapted, targets
from derive.errors import DeriveError
from derive.model import samples
from derive.model.network import Network

PROBE_SAMPLES = 64


def is_model(thing: object) -> bool:
    """Whether ``thing`` looks like a scalar-autograd model: callable, with parameters() having .data and .grad."""
    if not callable(thing) or not callable(getattr(thing, "parameters", None)):
        return False
    try:
        params = list(thing.parameters())
    except Exception:  # noqa: BLE001 - not a model of this kind
        return False
    return bool(params) and all(hasattr(p, "data") and hasattr(p, "grad") for p in params)


def _fail(text: str) -> AssertionError:
    return AssertionError(f"scalar-autograd model: {text}")


class ScalarModel(Adapted):
    def __init__(self, model: object, net: Network, loss: Callable | None) -> None:
        super().__init__(net)
        if loss is not None and not callable(loss):
            raise DeriveError(f"assert_gradients: loss= must be a function (outputs, targets) → C, got {loss!r}")
        self.model = model
        self.kind = type(model).__name__
        self.loss = loss
        self.values = list(model.parameters())
        self.value_type = type(self.values[0]).__name__
        expected = sum(int(np.prod(shape)) for shape in net.shapes().values())
        if len(self.values) != expected:
            raise _fail(f"it has {len(self.values)} parameters, the spec's network {expected}")
        _check_layers(model, net)
        self.zs = sympy.symbols(f"z1:{net.outputs + 1}", real=True)
        self.ys = sympy.symbols(f"y1:{net.outputs + 1}", real=True)
        act = net.activation(net.depth)
        self.activated = act.values(self.zs)
        self.cost = net.loss_def.formula(self.zs, self.ys)
        self.logits = loss is None and self._probe_logits()

    def _load(self, params: Mapping[str, np.ndarray]) -> None:
        flat = []
        for layer in range(1, self.net.depth + 1):
            w = np.asarray(params[f"W{layer}"], dtype=np.float64)
            for i in range(w.shape[0]):
                flat += [float(v) for v in w[i]]
                if self.net.bias:
                    flat.append(float(np.asarray(params[f"b{layer}"], dtype=np.float64).reshape(-1)[i]))
        for value, number in zip(self.values, flat, strict=True):
            value.data = number
            value.grad = 0.0

    def _outputs(self, row: np.ndarray) -> list:
        out = self.model([float(v) for v in row])
        outs = list(out) if isinstance(out, (list, tuple)) else [out]
        if len(outs) != self.net.outputs:
            raise _fail(f"it returned {len(outs)} outputs for a sample, the spec's network has {self.net.outputs}")
        return outs

    def _probe_logits(self) -> bool:
        if self.net.loss_def.output_activations is None:
            return False
        act = self.net.activation(self.net.depth)
        params, x, _ = samples.random_batch(self.net, np.random.default_rng(0), PROBE_SAMPLES)
        self._load(params)
        out = np.array([[float(v.data) for v in self._outputs(row)] for row in x])
        low, high = act.output_range
        inside = bool(np.all((out > low) & (out < high)))
        if not act.elementwise:
            inside = inside and bool(np.allclose(out.sum(axis=1), 1.0, rtol=0.0, atol=1e-9))
        return not inside

    def _sample_cost(self, outs: list, targets: Sequence[float]):
        if self.loss is not None:
            return self.loss(outs, [float(t) for t in targets])
        env: dict[sympy.Symbol, object] = dict(zip(self.ys, (float(t) for t in targets), strict=True))
        if self.logits:
            z = dict(zip(self.zs, outs, strict=True))
            env.update({zk: self._build(ak, z) for zk, ak in zip(self.zs, self.activated, strict=True)})
        else:
            env.update(zip(self.zs, outs, strict=True))
        return self._build(self.cost, env)

    def _build(self, expr: sympy.Expr, env: Mapping[sympy.Symbol, object]):
        """``expr`` evaluated with the values' own operations (float where no value is involved)."""
        if expr in env:
            return env[expr]
        if expr.is_Number:
            return float(expr)
        args = [self._build(arg, env) for arg in expr.args]
        if isinstance(expr, (sympy.Add, sympy.Mul)):
            # Values first, so that value + float uses the value's own operation.
            args.sort(key=lambda v: isinstance(v, float))
            return functools.reduce(operator.add if isinstance(expr, sympy.Add) else operator.mul, args)
        if isinstance(expr, sympy.Pow) and expr.exp.is_Number:
            return args[0] ** (int(expr.exp) if expr.exp.is_Integer else float(expr.exp))
        if isinstance(expr, (sympy.exp, sympy.log)):
            method = type(expr).__name__
            if isinstance(args[0], float):
                return getattr(math, method)(args[0])
            if not callable(getattr(args[0], method, None)):
                raise DeriveError(
                    f"assert_gradients: your {self.value_type} has no {method}(), which derive needs to build the"
                    f" spec's {self.net.loss} from your outputs: pass loss=, a function (outputs, targets) → C of one"
                    " sample"
                )
            return getattr(args[0], method)()
        raise DeriveError(f"assert_gradients: cannot build {expr} from your values: pass loss=")

    def gradients(self, params: Mapping[str, np.ndarray], x: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
        self._load(params)
        y = targets(y, self.net.outputs)
        costs = [self._sample_cost(self._outputs(row), target) for row, target in zip(x, y, strict=True)]
        total = functools.reduce(operator.add, costs)
        if not callable(getattr(total, "backward", None)):
            raise _fail(f"the cost of the batch is a {type(total).__name__} with no backward()")
        (total * (1.0 / len(x))).backward()
        grads = iter(float(v.grad) for v in self.values)
        out: dict[str, np.ndarray] = {}
        for layer in range(1, self.net.depth + 1):
            n, fan_in = self.net.sizes[layer], self.net.sizes[layer - 1]
            w, b = np.zeros((n, fan_in)), np.zeros(n)
            for i in range(n):
                w[i] = [next(grads) for _ in range(fan_in)]
                if self.net.bias:
                    b[i] = next(grads)
            out[f"W{layer}"] = w
            if self.net.bias:
                out[f"b{layer}"] = b
        return out

    def about(self) -> str:
        act = self.net.activation(self.net.depth)
        if self.loss is not None:
            cost = "your loss="
        elif self.logits:
            cost = f"the spec's {self.net.loss} of the spec's {act.name} of its outputs (read as logits z⁽ᴸ⁾)"
        else:
            cost = f"the spec's {self.net.loss} of its outputs"
        return (
            f"yours is the .grad of your {self.kind}'s parameters after backward() of {cost}, averaged over the"
            f" batch by its {self.value_type}'s own + and *; parameters taken in layer order, neuron by neuron,"
            " each neuron's weights then its bias"
        )


def _check_layers(model: object, net: Network) -> None:
    """Widths where the model shows them, micrograd-style: ``layers``, each with ``neurons``, each with ``w``."""
    layers = getattr(model, "layers", None)
    if not isinstance(layers, (list, tuple)):
        return
    if len(layers) != net.depth:
        raise _fail(f"it has {len(layers)} layers, the spec {net.depth}")
    for number, layer in enumerate(layers, start=1):
        neurons = getattr(layer, "neurons", None)
        if not isinstance(neurons, (list, tuple)):
            continue
        if len(neurons) != net.sizes[number]:
            raise _fail(f"its layer {number} has {len(neurons)} neurons, the spec's {net.sizes[number]}")
        for neuron in neurons:
            w = getattr(neuron, "w", None)
            if isinstance(w, (list, tuple)) and len(w) != net.sizes[number - 1]:
                raise _fail(
                    f"a neuron of its layer {number} has {len(w)} weights, the spec's layer {number}"
                    f" has {net.sizes[number - 1]} inputs"
                )
