"""Canonical sympy symbols of a network and their names.

Names are fixed and 1-based: ``x[j]``, ``y[k]``, ``W2[i,j]``, ``b2[i]``, ``z2[i]``,
``a2[i]``, ``delta2[i]``, the cost ``C`` and the learning rate ``eta``. The reader's
notation only changes how a printer writes them, never these names.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from sympy import Expr, Symbol

_NAME = re.compile(r"^(?P<kind>x|y|W|b|z|a|delta|e)(?P<layer>\d*)\[(?P<i>\d+)(?:,(?P<j>\d+))?\]$")

COST = Symbol("C", real=True)
LEARNING_RATE = Symbol("eta", positive=True)


# What Symbol(name, real=True) works out from real=True: the facts it implies (one knowledge base that sympy's
# real symbols share, as sympy caches it), and the sorted assumptions a symbol is compared and hashed by.
_REAL_FACTS, _REAL_GIVEN, _REAL_ASSUMED = Symbol._canonical_assumptions(real=True)
_REAL_SORTED = tuple(sorted(_REAL_ASSUMED.items()))


def _real_symbol(name: str) -> Symbol:
    """``Symbol(name, real=True)`` as sympy 1.14's ``Symbol.__xnew__`` makes it on a miss of sympy's symbol
    cache, without sorting the same assumptions again for every symbol: the 79,400 weights of a 784-100-10
    network in a third of the time. ``tests/test_compose.py`` compares every attribute with sympy's own
    symbol, so a sympy that makes symbols otherwise fails there."""
    obj = Expr.__new__(Symbol)
    obj.name = name
    obj._assumptions = _REAL_FACTS
    obj._assumptions_orig = _REAL_GIVEN
    obj._assumptions0 = _REAL_SORTED
    return obj


@functools.cache
def x(j: int) -> Symbol:
    """Input j."""
    return _real_symbol(f"x[{j}]")


@functools.cache
def y(k: int) -> Symbol:
    """Target k."""
    return _real_symbol(f"y[{k}]")


@functools.cache
def W(layer: int, i: int, j: int) -> Symbol:  # noqa: N802 - the articles' letter
    """Weight from neuron j of layer-1 to neuron i of layer.

    Kept here once made: a 784-100-10 network has 79,400 weights, and sympy's own cache of symbols holds
    a thousand.
    """
    return _real_symbol(f"W{layer}[{i},{j}]")


@functools.cache
def b(layer: int, i: int) -> Symbol:
    """Bias of neuron i of layer."""
    return _real_symbol(f"b{layer}[{i}]")


@functools.cache
def z(layer: int, i: int) -> Symbol:
    """Weighted input of neuron i of layer."""
    return _real_symbol(f"z{layer}[{i}]")


@functools.cache
def a(layer: int, i: int) -> Symbol:
    """Output of neuron i of layer; layer 0 is the input x."""
    return x(i) if layer == 0 else _real_symbol(f"a{layer}[{i}]")


@functools.cache
def delta(layer: int, i: int) -> Symbol:
    """δ of neuron i of layer, in the notation's sign."""
    return _real_symbol(f"delta{layer}[{i}]")


@functools.cache
def error(layer: int, i: int) -> Symbol:
    """The error of neuron i when the output error is shared back by weight (article 000's picture)."""
    return _real_symbol(f"e{layer}[{i}]")


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
