"""What every adapter gives ``assert_gradients``: a gradients function, its tolerance, and what it did."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from derive.model.network import Network
from derive.rules.targets import one_hot


class Adapted:
    """A user's object seen as ``gradients(params, x, y) -> dict`` of ∂J/∂θ, J = (1/m) Σ C, in derive's layout."""

    def __init__(self, net: Network) -> None:
        self.net = net
        self.names = list(net.shapes())

    def gradients(self, params: Mapping[str, np.ndarray], x: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
        raise NotImplementedError

    def tolerance(self, rtol: float, atol: float) -> tuple[float, float]:
        """The tolerance of the last call's comparison (an SGD step widens atol by its rounding)."""
        return rtol, atol

    def about(self) -> str:
        """One line for a failure message: where the compared gradients came from."""
        raise NotImplementedError


def targets(y: np.ndarray, outputs: int) -> np.ndarray:
    """y as (m, outputs) floats: integer class labels of shape (m,) become one-hot rows."""
    y = np.asarray(y)
    if y.ndim == 1 and np.issubdtype(y.dtype, np.integer):
        return one_hot(y, outputs)
    return np.asarray(y, dtype=np.float64)


def layer_names(layer: int, bias: bool) -> tuple[str, ...]:
    """The parameter arrays of layer ``layer`` (1-based): W<l>, and b<l> with biases."""
    return (f"W{layer}", f"b{layer}") if bias else (f"W{layer}",)
