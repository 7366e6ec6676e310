"""Training code that only applies a step, θ ← θ − lr ∂J/∂θ, to test with derive (``step=`` the learning
rate: derive recovers the gradient as (θ before − θ after)/lr). Network: sgd_style.toml, 3 → 4 sigmoid → 2
sigmoid with binary cross-entropy. This is our own code, written for derive's examples.
"""

from __future__ import annotations

import numpy as np

LEARNING_RATE = 0.1


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def sgd_step(params, x, y, lr=LEARNING_RATE, mean=True):
    """One step of gradient descent on the batch mean of binary cross-entropy, in place."""
    m = x.shape[0]
    a1 = _sigmoid(x @ params["W1"].T + params["b1"])
    a2 = _sigmoid(a1 @ params["W2"].T + params["b2"])
    d2 = (a2 - y) / (m if mean else 1)  # σ′ cancels the cost's denominator
    d1 = (d2 @ params["W2"]) * a1 * (1 - a1)
    params["W2"] -= lr * d2.T @ a1
    params["b2"] -= lr * d2.sum(axis=0)
    params["W1"] -= lr * d1.T @ x
    params["b1"] -= lr * d1.sum(axis=0)


def sgd_step_summed(params, x, y, lr=LEARNING_RATE):
    """The step with the batch's gradients summed, not averaged: m times too long a step."""
    sgd_step(params, x, y, lr, mean=False)
