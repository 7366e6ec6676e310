"""A scalar-autograd network in the style of micrograd, to test with derive: a value class that records how
it was made and a backward() that applies each operation's local derivative, and a multilayer model whose
parameters() lists each neuron's weights and then its bias. Network: scalar_style.toml, 2 → 3 tanh → 1
identity with the squared error. This is our own code, written for derive's examples; ``broken=True`` gives
tanh the local derivative 1 − t instead of 1 − t².
"""

from __future__ import annotations

import math
import random


class Value:
    """A number that remembers its inputs and the derivative of itself with respect to each."""

    def __init__(self, data, parents=(), local=(), broken=False):
        self.data, self.grad = float(data), 0.0
        self._parents, self._local, self._broken = parents, local, broken

    def _wrap(self, other):
        return other if isinstance(other, Value) else Value(other, broken=self._broken)

    def __add__(self, other):
        other = self._wrap(other)
        return Value(self.data + other.data, (self, other), (1.0, 1.0), self._broken)

    __radd__ = __add__

    def __mul__(self, other):
        other = self._wrap(other)
        return Value(self.data * other.data, (self, other), (other.data, self.data), self._broken)

    __rmul__ = __mul__

    def __neg__(self):
        return self * -1.0

    def __sub__(self, other):
        return self + (-self._wrap(other))

    def __rsub__(self, other):
        return self._wrap(other) - self

    def __pow__(self, k):
        return Value(self.data**k, (self,), (k * self.data ** (k - 1),), self._broken)

    def tanh(self):
        t = math.tanh(self.data)
        return Value(t, (self,), ((1 - t) if self._broken else (1 - t * t),), self._broken)

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
            for parent, local in zip(v._parents, v._local):
                parent.grad += local * v.grad


class Neuron:
    def __init__(self, inputs, rng, tanh, broken):
        self.w = [Value(rng.uniform(-1, 1), broken=broken) for _ in range(inputs)]
        self.b = Value(0.0, broken=broken)
        self.tanh = tanh

    def __call__(self, x):
        z = sum((w * xi for w, xi in zip(self.w, x)), self.b)
        return z.tanh() if self.tanh else z

    def parameters(self):
        return [*self.w, self.b]


class Model:
    """2 → 3 tanh → 1 identity; parameters layer by layer, each neuron's weights then its bias."""

    def __init__(self, broken=False, seed=0):
        rng = random.Random(seed)
        self.layers = [
            [Neuron(2, rng, True, broken) for _ in range(3)],
            [Neuron(3, rng, False, broken)],
        ]

    def __call__(self, x):
        for layer in self.layers:
            x = [neuron(x) for neuron in layer]
        return x

    def parameters(self):
        return [p for layer in self.layers for neuron in layer for p in neuron.parameters()]
