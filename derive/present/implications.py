"""What the key equations imply for the declared activations and loss: where a factor g′ is zero or close to it.

Read from each activation's registry entry (its derivative and its formula evaluated at a negative z and far
out on both sides) and from the loss's matching simplification, never from an activation's name; the
documents say it in a sentence after the output error term, the recursion and the weight gradients.
"""

from __future__ import annotations

from collections.abc import Callable

import sympy
from sympy import Basic

from derive.engine.record import Record
from derive.present.document_data import Flat, Implications
from derive.rules import floats

Tex = Callable[[Basic], str]

# g′ at |z| = FAR below FLAT counts as saturated: a sigmoid's is 4·10⁻¹⁸ there, a leaky ReLU's slope is not.
FAR = 40.0
FLAT = 1e-9
_Z = sympy.Symbol("z", real=True)


def _range_end(value: float) -> str | None:
    return None if value in (float("inf"), float("-inf")) else f"{value:g}"


def flat(rec: Record, layer: int, tex: Tex) -> Flat | None:
    """Where layer ``layer``'s g′ vanishes; None for an activation of the whole layer (it has no g′ of one z)."""
    act = rec.network.activation(layer)
    if not act.elementwise:
        return None

    def derivative(v: float) -> float:
        return floats.evaluate(act.derivative(_Z), {_Z: v})

    def value(v: float) -> float:
        return floats.evaluate(act.formula(_Z), {_Z: v})

    dead = derivative(-1.0) == 0.0 and derivative(-FAR) == 0.0 and value(-1.0) == 0.0
    bound = act.derivative_bound
    small = bound is not None and bound.is_number and bool(bound < 1)
    low, high = act.output_range
    return Flat(
        layer,
        act.name,
        act.latex,
        low=not dead and abs(derivative(-FAR)) < FLAT,
        high=abs(derivative(FAR)) < FLAT,
        dead=dead,
        bound=tex(bound) if small else None,
        output_range=(_range_end(low), _range_end(high)),
    )


def implications(rec: Record, tex: Tex) -> Implications:
    """The output layer's g′ unless the loss cancels it, each hidden layer's, and whether a hidden output can be 0."""
    L = rec.depth
    cancelled = rec.output_element.matching
    hidden = [f for layer in range(1, L) if (f := flat(rec, layer, tex)) is not None]
    return Implications(
        output=None if cancelled else flat(rec, L, tex),
        cancelled=cancelled,
        hidden=hidden,
        zero_outputs=any(f.dead for f in hidden),
    )
