"""A torch model of torch_style.toml, to test with derive: one built from nn.Sequential as the spec declares,
one with the wrong hidden activation, and one whose own forward detaches the hidden layer from the graph.
This is our own code, written for derive's examples; torch computes the gradients, derive checks that the
model is the network the spec declares and that autograd's gradients are the derived ones.
"""

from __future__ import annotations

import torch
from torch import nn


def sequential() -> nn.Module:
    """4 → 5 tanh → 3 sigmoid, as the spec declares."""
    return nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 3), nn.Sigmoid())


def wrong_activation() -> nn.Module:
    """The same, with ReLU where the spec has tanh."""
    return nn.Sequential(nn.Linear(4, 5), nn.ReLU(), nn.Linear(5, 3), nn.Sigmoid())


class Detached(nn.Module):
    """The same layers, with a forward that cuts the hidden layer out of the graph (.detach())."""

    def __init__(self) -> None:
        super().__init__()
        self.hidden = nn.Linear(4, 5)
        self.out = nn.Linear(5, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.out(torch.tanh(self.hidden(x)).detach()))
