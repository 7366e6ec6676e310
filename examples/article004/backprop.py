"""Article 004's NumPy exercise, written again as a function, and tested with derive.

The article trains a 3-2-1 network without biases, sigmoid in both layers and
the cost E = ½(y − ŷ)², on one sample. Its arrays run from-to: the input→hidden
weights are a (3, 2) array (row = input, column = hidden unit) and the
hidden→output weights a vector of 2. It computes error terms δ with the sign of
y − ŷ and the weight steps Δw = η δ a, which are −η ∂E/∂w.

`weight_steps` does that for one sample, the way the exercise asks for it.
`gradients` adapts it to the interface derive tests: params named W1 (2, 3) and
W2 (1, 2) (rows = the neuron the weight leads into), a batch of samples, and
∂J/∂θ of the batch mean J = (1/m) Σ E. `gradients_with_a_mistake` is the same
with the most common slip of this exercise: the hidden error term without the
hidden layer's σ'(z) = h(1 − h).

The test next to this file, test_backprop.py, was written by
    derive codegen examples/seed004.toml --pytest --function backprop:gradients
"""

from __future__ import annotations

import numpy as np


def logistic(v: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-v))


def weight_steps(
    x: np.ndarray,
    target: float,
    w_in_hidden: np.ndarray,
    w_hidden_out: np.ndarray,
    rate: float,
    hidden_slope: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """(Δ input→hidden weights (3, 2), Δ hidden→output weights (2,)) for one sample."""
    h = logistic(x @ w_in_hidden)  # hidden outputs
    y_hat = logistic(h @ w_hidden_out)  # the network's output
    out_term = (target - y_hat) * y_hat * (1.0 - y_hat)  # δ of the output, sign of y − ŷ
    hidden_term = w_hidden_out * out_term  # sent back along each hidden→output weight ...
    if hidden_slope:
        hidden_term = hidden_term * h * (1.0 - h)  # ... times σ'(z) of the hidden unit
    return rate * np.outer(x, hidden_term), rate * out_term * h


def _batch_gradients(params: dict, x: np.ndarray, y: np.ndarray, hidden_slope: bool) -> dict[str, np.ndarray]:
    w_in_hidden = params["W1"].T  # derive's W1 is (hidden, inputs); the exercise's is (inputs, hidden)
    w_hidden_out = params["W2"][0]
    d_in_hidden = np.zeros_like(w_in_hidden)
    d_hidden_out = np.zeros_like(w_hidden_out)
    for sample, target in zip(x, y[:, 0], strict=True):
        step_ih, step_ho = weight_steps(sample, target, w_in_hidden, w_hidden_out, 1.0, hidden_slope)
        d_in_hidden -= step_ih  # a step with rate 1 is −∂E/∂w
        d_hidden_out -= step_ho
    m = len(x)
    return {"W1": d_in_hidden.T / m, "W2": d_hidden_out[None, :] / m}


def gradients(params: dict, x: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    """∂J/∂θ of J = (1/m) Σ E, from the exercise's weight steps."""
    return _batch_gradients(params, x, y, hidden_slope=True)


def gradients_with_a_mistake(params: dict, x: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    """The same, with σ'(z) left out of the hidden error term."""
    return _batch_gradients(params, x, y, hidden_slope=False)


if __name__ == "__main__":
    # The exercise's own numbers: x, the target, the learning rate and both weight arrays.
    x = np.array([0.5, 0.1, -0.2])
    w_in_hidden = np.array([[0.5, -0.6], [0.1, -0.2], [0.1, 0.7]])
    w_hidden_out = np.array([0.1, -0.3])
    step_ih, step_ho = weight_steps(x, 0.6, w_in_hidden, w_hidden_out, 0.5)
    print("Δ hidden→output:", step_ho)
    print("Δ input→hidden:\n", step_ih)
