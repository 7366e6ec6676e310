"""A torch model of torch_style.toml, to test with derive: one built from nn.Sequential, and one with its
own forward in which the hidden activation was forgotten. This is our own code, written for derive's
examples; torch computes the gradients, derive checks that the model is the network the spec declares.
"""

from __future__ import annotations

import torch
from torch import nn


def sequential() -> nn.Module:
    """4 → 5 tanh → 3 sigmoid, as the spec declares."""
    return nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 3), nn.Sigmoid())


class Forgetful(nn.Module):
    """The same layers, with a forward that leaves tanh out."""

    def __init__(self) -> None:
        super().__init__()
        self.hidden = nn.Linear(4, 5)
        self.out = nn.Linear(5, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.out(self.hidden(x)))
