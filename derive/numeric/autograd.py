"""PyTorch's autograd in float64, as an independent check of the derived gradients (optional).

Only used when torch is installed (:data:`derive.about.TORCH_INSTALL`). The
network is written again here with torch's own functions, so that nothing of
derive's NumPy code or derivation is shared with it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from derive.model.network import Network


def version() -> str | None:
    """torch's version, or None when it is not installed."""
    try:
        import torch
    except ImportError:
        return None
    return str(torch.__version__)


def _activations(torch) -> dict[str, Callable]:
    return {
        "sigmoid": lambda z, slope: torch.sigmoid(z),
        "tanh": lambda z, slope: torch.tanh(z),
        "relu": lambda z, slope: torch.relu(z),
        "leaky_relu": lambda z, slope: torch.nn.functional.leaky_relu(z, slope),
        "identity": lambda z, slope: z,
        "softmax": lambda z, slope: torch.softmax(z, dim=1),
    }


def _losses(torch) -> dict[str, Callable]:
    return {
        "squared_error": lambda a, y: 0.5 * ((y - a) ** 2).sum(dim=1),
        "mse": lambda a, y: ((y - a) ** 2).mean(dim=1),
        "binary_cross_entropy": lambda a, y: -(y * torch.log(a) + (1 - y) * torch.log(1 - a)).sum(dim=1),
        "cross_entropy": lambda a, y: -(y * torch.log(a)).sum(dim=1),
    }


def gradients(net: Network, params: Mapping[str, np.ndarray], x: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    """∂J/∂θ of J = (1/m) Σ C for a batch x (m, inputs), y (m, outputs), by torch autograd in float64."""
    import torch

    leaves = {name: torch.tensor(np.asarray(v, dtype=np.float64), requires_grad=True) for name, v in params.items()}
    acts = _activations(torch)
    a = torch.tensor(np.asarray(x, dtype=np.float64))
    for layer, spec in enumerate(net.layers, start=1):
        z = a @ leaves[f"W{layer}"].T
        if net.bias:
            z = z + leaves[f"b{layer}"]
        a = acts[spec.activation](z, float(net.activation(layer).options.get("slope", 0)))
    cost = _losses(torch)[net.loss](a, torch.tensor(np.asarray(y, dtype=np.float64))).mean()
    cost.backward()
    return {name: leaf.grad.numpy().copy() for name, leaf in leaves.items()}
