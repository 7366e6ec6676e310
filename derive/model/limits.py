"""How large a network each verb takes: checked on the sizes alone, before anything is built.

The symbolic verbs build one expression per neuron and per parameter, so their cost grows with the
network; codegen writes the same lines whatever the sizes, so it takes far larger networks. A network
itself may be as large as the loosest verb allows. The README's "Limits" table shows these numbers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from derive.errors import SpecError


@dataclass(frozen=True)
class Limit:
    """The largest network a verb takes: units in any layer (the inputs too), layers, parameters, and
    chain-rule paths from a first-layer neuron to the cost (None: any).

    The paths are the terms of a first-layer gradient's closed form: a product of the widths above, so
    ten layers of two units give 512 and a 20-100-100-10 softmax network 10,000. Printing a closed form
    costs time in their number, so the verbs that print closed forms bound it; the δ form does not grow.
    """

    units: int
    layers: int
    parameters: int
    paths: int | None = None


SYMBOLIC = Limit(units=1024, layers=100, parameters=100_000)
"""check and verify: 784-100-10 (79,510 parameters) fits; both work from δ, numbers and bounded formulas."""

LIMITS: dict[str, Limit] = {
    "grad": Limit(units=1024, layers=100, parameters=100_000, paths=4096),  # not for --form delta
    "check": SYMBOLIC,
    "render": Limit(units=1024, layers=100, parameters=100_000, paths=1000),  # a closed form for every layer
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


def paths(sizes: Sequence[int], jacobian_output: bool) -> int:
    """Chain-rule paths from a first-layer neuron to the cost; a softmax output adds its Jacobian's sum."""
    return math.prod(sizes[2:]) * (sizes[-1] if jacobian_output else 1)


def enforce(sizes: Sequence[int], bias: bool, verb: str | None = None, jacobian_output: bool | None = None) -> None:
    """Raise a one-line SpecError when the network is over ``verb``'s limits (or any network's, for None).

    ``jacobian_output`` (the output layer is softmax) is needed for the paths; None skips that limit.
    """
    limit = LIMITS[verb] if verb else NETWORK

    def over(value: str, limit_text: str) -> str:
        whose = (
            f"derive {verb}'s limit of {limit_text}"
            if verb
            else f"the limit of {limit_text} (no derive verb takes more)"
        )
        return f"{value} is over {whose}"

    for layer, units in enumerate(sizes):
        if units > limit.units:
            key = "inputs" if layer == 0 else f"layer[{layer}].units"
            raise SpecError(f"{key}: {over(f'{units:,} units', f'{limit.units:,} per layer')}")
    if len(sizes) - 1 > limit.layers:
        raise SpecError(f"layer: {over(f'{len(sizes) - 1:,} layers', f'{limit.layers:,}')}")
    count = parameter_count(sizes, bias)
    if count > limit.parameters:
        raise SpecError(f"layer: {over(f'{count:,} parameters', f'{limit.parameters:,}')}")
    if limit.paths is not None and jacobian_output is not None:
        found = paths(sizes, jacobian_output)
        if found > limit.paths:
            raise SpecError(
                f"layer: a first-layer gradient's closed form has {found:,} chain-rule paths, over derive {verb}'s"
                f" limit of {limit.paths:,} (derive check, verify and codegen take this network)"
            )
