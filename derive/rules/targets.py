"""What a network's targets y are: the kinds a spec's ``targets`` key names, one definition each.

A loss fixes the widest kind it is derived for (squared error any real y, binary cross-entropy y in
[0, 1], cross-entropy a distribution); a spec may declare a narrower kind, and then derive draws its
check samples from that kind and the generated code may rely on it: one-hot rows sum to exactly 1, so a
softmax output's δ is a − y with no sum to take. ``labels`` are the same one-hot targets handed over
as class indices, an integer array of shape (m,), 0-based as NumPy indexes (label c means y_{c+1} = 1).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

Array = np.ndarray


@dataclass(frozen=True)
class Targets:
    """One kind of targets.

    ``within``: the loss target kinds this kind is a case of (a spec may declare it for such a loss);
    ``one_hot``: every row is one 1 and zeros, so it sums to exactly 1; ``labels``: handed to code as
    class indices; ``draw(rng, m, n)``: m seeded target rows of n outputs (one-hot rows for labels).
    """

    name: str
    within: tuple[str, ...]
    draw: Callable[[np.random.Generator, int, int], Array]
    one_hot: bool = False
    labels: bool = False


def _classes(rng: np.random.Generator, m: int, n: int) -> Array:
    return np.eye(n)[rng.integers(0, n, m)]


REAL = Targets("real", ("real",), lambda rng, m, n: rng.uniform(-1, 1, (m, n)))
UNIT = Targets("unit", ("real", "unit"), lambda rng, m, n: rng.uniform(0, 1, (m, n)))
DISTRIBUTION = Targets("distribution", ("real", "unit", "distribution"), lambda rng, m, n: rng.dirichlet(np.ones(n), m))
ONE_HOT = Targets("one_hot", DISTRIBUTION.within, _classes, one_hot=True)
LABELS = Targets("labels", DISTRIBUTION.within, _classes, one_hot=True, labels=True)

REGISTRY: dict[str, Targets] = {t.name: t for t in (REAL, UNIT, DISTRIBUTION, ONE_HOT, LABELS)}


def one_hot(labels: Array, n: int) -> Array:
    """Integer class labels (m,), 0-based, as one-hot rows (m, n)."""
    return np.eye(n)[np.asarray(labels)]


def as_labels(y: Array) -> Array:
    """One-hot rows (m, n) as their class labels (m,), 0-based."""
    return np.asarray(y).argmax(axis=-1)
