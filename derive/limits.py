"""How large a network each verb takes: checked on the sizes alone, before anything is built.

The symbolic verbs build one expression per neuron and per parameter, so their cost grows with the
network; codegen writes the same lines whatever the sizes, so it takes far larger networks. A network
itself may be as large as the loosest verb allows. The README's "Limits" table shows these numbers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from .errors import SpecError


@dataclass(frozen=True)
class Limit:
    """The largest network a verb takes: units in any layer (the inputs too), layers, parameters."""

    units: int
    layers: int
    parameters: int


SYMBOLIC = Limit(units=1024, layers=100, parameters=100_000)
"""grad, check, render and verify: 784-100-10 (79,510 parameters) fits."""

LIMITS: dict[str, Limit] = {
    "grad": SYMBOLIC,
    "check": SYMBOLIC,
    "render": SYMBOLIC,
    "verify": SYMBOLIC,
    "codegen": Limit(units=100_000, layers=1000, parameters=100_000_000),
}

NETWORK = Limit(
    units=max(limit.units for limit in LIMITS.values()),
    layers=max(limit.layers for limit in LIMITS.values()),
    parameters=max(limit.parameters for limit in LIMITS.values()),
)
"""What any network may have: the loosest verb's limits."""


def parameter_count(sizes: Sequence[int], bias: bool) -> int:
    """Weights and biases of a network with these layer sizes, in exact integers (no overflow)."""
    return sum(math.prod(pair) + (pair[0] if bias else 0) for pair in zip(sizes[1:], sizes[:-1], strict=True))


def enforce(sizes: Sequence[int], bias: bool, verb: str | None = None) -> None:
    """Raise a one-line SpecError when the network is over ``verb``'s limits (or any network's, for None)."""
    limit, who = (LIMITS[verb], f"derive {verb}'s") if verb else (NETWORK, "derive's")
    for layer, units in enumerate(sizes):
        if units > limit.units:
            key = "inputs" if layer == 0 else f"layer[{layer}].units"
            raise SpecError(f"{key}: {units:,} units is over {who} limit of {limit.units:,} per layer")
    if len(sizes) - 1 > limit.layers:
        raise SpecError(f"layer: {len(sizes) - 1:,} layers is over {who} limit of {limit.layers:,}")
    count = parameter_count(sizes, bias)
    if count > limit.parameters:
        raise SpecError(f"layer: {count:,} parameters is over {who} limit of {limit.parameters:,}")
