"""Canonical sympy symbols of a network and their names.

Names are fixed and 1-based: ``x[j]``, ``y[k]``, ``W2[i,j]``, ``b2[i]``, ``z2[i]``,
``a2[i]``, ``delta2[i]``, the cost ``C`` and the learning rate ``eta``. The reader's
notation only changes how a printer writes them, never these names.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from sympy import Symbol

_NAME = re.compile(r"^(?P<kind>x|y|W|b|z|a|delta|e)(?P<layer>\d*)\[(?P<i>\d+)(?:,(?P<j>\d+))?\]$")

COST = Symbol("C", real=True)
LEARNING_RATE = Symbol("eta", positive=True)


def x(j: int) -> Symbol:
    """Input j."""
    return Symbol(f"x[{j}]", real=True)


def y(k: int) -> Symbol:
    """Target k."""
    return Symbol(f"y[{k}]", real=True)


@functools.cache
def W(layer: int, i: int, j: int) -> Symbol:  # noqa: N802 - the articles' letter
    """Weight from neuron j of layer-1 to neuron i of layer.

    Kept here once made: a 784-100-10 network has 79,400 weights, and sympy's own cache of symbols holds
    a thousand. Made by ``Symbol.__xnew__``, which ``Symbol(name, real=True)`` calls on a miss of that
    cache: the same symbol (equal, with the same hash and assumptions) in 60% of the time.
    """
    return Symbol.__xnew__(Symbol, f"W{layer}[{i},{j}]", real=True)


def b(layer: int, i: int) -> Symbol:
    """Bias of neuron i of layer."""
    return Symbol(f"b{layer}[{i}]", real=True)


def z(layer: int, i: int) -> Symbol:
    """Weighted input of neuron i of layer."""
    return Symbol(f"z{layer}[{i}]", real=True)


def a(layer: int, i: int) -> Symbol:
    """Output of neuron i of layer; layer 0 is the input x."""
    return x(i) if layer == 0 else Symbol(f"a{layer}[{i}]", real=True)


def delta(layer: int, i: int) -> Symbol:
    """δ of neuron i of layer, in the notation's sign."""
    return Symbol(f"delta{layer}[{i}]", real=True)


def error(layer: int, i: int) -> Symbol:
    """The error of neuron i when the output error is shared back by weight (article 000's picture)."""
    return Symbol(f"e{layer}[{i}]", real=True)


@dataclass(frozen=True)
class SymbolInfo:
    """What a canonical name stands for."""

    kind: str
    layer: int | None
    i: int
    j: int | None = None


def parse_name(name: str) -> SymbolInfo | None:
    """Read a canonical name such as ``W2[1,3]``; None when it is not one."""
    m = _NAME.match(name)
    if m is None:
        return None
    kind, layer, j = m["kind"], m["layer"], m["j"]
    has_layer = kind in ("W", "b", "z", "a", "delta", "e")
    if has_layer != bool(layer) or (kind == "W") != (j is not None):
        return None
    return SymbolInfo(kind, int(layer) if layer else None, int(m["i"]), int(j) if j else None)


def parameter_name(layer: int, i: int, j: int | None = None) -> str:
    """``W<l>[i,j]`` when j is given, else ``b<l>[i]``."""
    return f"W{layer}[{i},{j}]" if j is not None else f"b{layer}[{i}]"


def parameter_symbol(layer: int, i: int, j: int | None = None) -> Symbol:
    """``W<l>[i,j]`` when j is given, else ``b<l>[i]``, as a symbol."""
    return W(layer, i, j) if j is not None else b(layer, i)
