"""A two-layer network laid out as the deeplearning.ai course helpers lay it out, to test with derive:
samples are columns (X of shape (n_x, m)), biases (n, 1), parameters W1 (n_h, n_x) as derive stores them,
and the gradients come back as dW1, db1, dW2, db2. Network: dlai_style.toml, 3 → 4 relu → 1 sigmoid with
binary cross-entropy. This is our own code, written for derive's examples.
"""

from __future__ import annotations

import numpy as np


def backward(params, X, Y, db_mean=True):
    """The gradients of the mean binary cross-entropy, keyed dW1, db1, dW2, db2."""
    m = X.shape[1]
    Z1 = params["W1"] @ X + params["b1"]
    A1 = np.maximum(0, Z1)
    A2 = 1 / (1 + np.exp(-(params["W2"] @ A1 + params["b2"])))
    dZ2 = A2 - Y
    dZ1 = (params["W2"].T @ dZ2) * (Z1 > 0)
    scale = 1 / m if db_mean else 1
    return {
        "dW1": dZ1 @ X.T / m,
        "db1": dZ1.sum(axis=1, keepdims=True) * scale,
        "dW2": dZ2 @ A1.T / m,
        "db2": dZ2.sum(axis=1, keepdims=True) * scale,
    }


def backward_db_summed(params, X, Y):
    """The biases' gradients summed over the batch, not averaged."""
    return backward(params, X, Y, db_mean=False)


NAMES = {"dW1": "W1", "db1": "b1", "dW2": "W2", "db2": "b2"}
