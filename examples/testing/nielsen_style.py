"""A sigmoid network written the way Nielsen's book lays it out, to test with derive.

Samples are columns: a batch x has shape (inputs, m) and y shape (outputs, m); biases are column vectors
(units, 1); the function returns the gradients as a list in layer order, W1, b1, W2, b2, …; the cost is
the batch mean of ½‖a − y‖². This is our own code, written for derive's examples
(``nielsen_style.toml`` declares the same network).
"""

from __future__ import annotations

import numpy as np


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def backprop(params, x, y, hidden_derivative=True):
    """∂J/∂θ of J = (1/m) Σ ½‖a − y‖², for column samples and (n, 1) biases, as a list in layer order."""
    weights = [params[f"W{l}"] for l in (1, 2)]
    biases = [params[f"b{l}"] for l in (1, 2)]
    m = x.shape[1]
    activation, activations, zs = x, [x], []
    for w, b in zip(weights, biases):
        z = w @ activation + b
        zs.append(z)
        activation = _sigmoid(z)
        activations.append(activation)
    delta = (activations[-1] - y) * _sigmoid(zs[-1]) * (1 - _sigmoid(zs[-1])) / m
    nabla = [None] * 4
    nabla[2], nabla[3] = delta @ activations[-2].T, delta.sum(axis=1, keepdims=True)
    slope = _sigmoid(zs[-2]) * (1 - _sigmoid(zs[-2])) if hidden_derivative else 1.0
    delta = (weights[1].T @ delta) * slope
    nabla[0], nabla[1] = delta @ activations[0].T, delta.sum(axis=1, keepdims=True)
    return nabla


def backprop_without_hidden_derivative(params, x, y):
    """The hidden error term without σ′(z⁽¹⁾): the derivative of the activation forgotten."""
    return backprop(params, x, y, hidden_derivative=False)
