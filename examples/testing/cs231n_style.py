"""A two-layer classifier written the way the CS231n assignments lay it out, to test with derive.

Weights are stored (inputs, outputs), so a batch X of shape (m, D) goes forward as X @ W1 + b1; the targets
are integer class labels y of shape (m,); the loss is the batch mean of softmax cross-entropy plus
reg · (ΣW1² + ΣW2²), so each weight's gradient gains 2 · reg · W. This is our own code, written for
derive's examples (``cs231n_style.toml`` declares the same network).

    derive check examples/testing/cs231n_style.toml
    python -m pytest examples/testing
"""

from __future__ import annotations

import numpy as np

REG = 0.05  # the spec's [regularization] l2


def gradients(params, X, y, reg=REG):
    """∂J/∂θ of J = mean cross-entropy + reg·ΣW², for weights stored (in, out) and integer labels."""
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    m = X.shape[0]
    hidden = np.maximum(0, X @ W1 + b1)
    scores = hidden @ W2 + b2
    scores -= scores.max(axis=1, keepdims=True)
    probs = np.exp(scores)
    probs /= probs.sum(axis=1, keepdims=True)
    dscores = probs
    dscores[np.arange(m), y] -= 1
    dscores /= m
    dW2 = hidden.T @ dscores + 2 * reg * W2
    db2 = dscores.sum(axis=0)
    dhidden = dscores @ W2.T
    dhidden[hidden <= 0] = 0
    dW1 = X.T @ dhidden + 2 * reg * W1
    db1 = dhidden.sum(axis=0)
    return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}


def gradients_reg_without_2(params, X, y, reg=REG):
    """The most common regularisation bug: the derivative of reg·W² written as reg·W."""
    grads = gradients(params, X, y, reg=0.0)
    grads["W1"] += reg * params["W1"]
    grads["W2"] += reg * params["W2"]
    return grads


def gradients_summed(params, X, y, reg=REG):
    """The scores' gradient not divided by the batch size: every data term m times too large."""
    m = X.shape[0]
    grads = gradients(params, X, y, reg=0.0)
    return {
        name: m * value + (2 * reg * params[name] if name.startswith("W") else 0.0) for name, value in grads.items()
    }
