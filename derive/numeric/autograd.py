"""PyTorch's autograd in float64, as an independent check of the derived gradients (optional).

Only used when torch is installed (:data:`derive.about.TORCH_INSTALL`). The
network is written again here with torch's own functions (each activation's and
loss's ``torch`` face in the registry), so that nothing of derive's NumPy code or
derivation is shared with it.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from derive.model.network import Network
from derive.rules import regularizers


def version() -> str | None:
    """torch's version, or None when it is not installed."""
    try:
        import torch
    except ImportError:
        return None
    return str(torch.__version__)


def gradients(net: Network, params: Mapping[str, np.ndarray], x: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    """∂J/∂θ of J = (1/m) Σ C (+ the L2 penalty R) for a batch x (m, inputs), y (m, outputs), by torch autograd
    in float64."""
    import torch

    leaves = {name: torch.tensor(np.asarray(v, dtype=np.float64), requires_grad=True) for name, v in params.items()}
    a = torch.tensor(np.asarray(x, dtype=np.float64))
    for layer in range(1, net.depth + 1):
        z = a @ leaves[f"W{layer}"].T
        if net.bias:
            z = z + leaves[f"b{layer}"]
        a = net.activation(layer).torch(torch, z)
    cost = net.loss_def.torch(torch, a, torch.tensor(np.asarray(y, dtype=np.float64))).mean()
    reg = net.regularization
    if reg is not None:  # + R = scale · Σ θ², the form's penalty written again with torch's sums
        scale = regularizers.value(reg.rule.scale(regularizers.LAMBDA, regularizers.BATCH), reg.l2, a.shape[0])
        cost = cost + scale * sum((leaf**2).sum() for name, leaf in leaves.items() if reg.covers(name[0]))
    cost.backward()
    return {name: leaf.grad.numpy().copy() for name, leaf in leaves.items()}
