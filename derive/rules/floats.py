"""Evaluating a sympy expression in float64, safely.

sympy's own evaluation works in arbitrary precision, so a hostile formula such
as e^{e^{e^{e^{z}}}} could run for a very long time. Here every operation is
one float64 operation: overflow gives ±inf, an undefined value gives nan, and
nothing is ever slow. The functions activations are built from (σ, ReLU, …) are evaluated by
their registry entries' float64 faces (:func:`derive.rules.activations.written`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import sympy
from sympy import Basic, Symbol

from derive.rules import activations

INF = math.inf


def _exp(u: float) -> float:
    try:
        return math.exp(u)
    except OverflowError:
        return INF


def _log(u: float) -> float:
    if u > 0:
        return math.log(u)
    return -INF if u == 0 else math.nan


def _power(base: float, exp: float) -> float:
    try:
        out = base**exp
    except OverflowError:
        return INF
    except ZeroDivisionError:
        return math.nan
    return out.real if isinstance(out, complex) and out.imag == 0 else (math.nan if isinstance(out, complex) else out)


_UNARY: dict[type, Callable[[float], float]] = {
    sympy.exp: _exp,
    sympy.log: _log,
    sympy.tanh: math.tanh,
    sympy.Abs: abs,
}


def evaluate(expr: Basic, values: Mapping[Symbol, float]) -> float:
    """expr at the given symbol values, in float64; KeyError names a symbol without a value."""
    if expr.is_Number or expr is sympy.E or expr is sympy.pi:
        return float(expr)
    if isinstance(expr, Symbol):
        return float(values[expr])
    args = expr.args
    if expr.is_Add:
        return sum(evaluate(a, values) for a in args)
    if expr.is_Mul:
        out = 1.0
        for a in args:
            out *= evaluate(a, values)
        return out
    if expr.is_Pow:
        return _power(evaluate(args[0], values), evaluate(args[1], values))
    fn = _UNARY.get(type(expr))
    if fn is not None:
        return fn(evaluate(args[0], values))
    written = activations.written(type(expr))
    if written is not None:
        return written.float64(*(evaluate(a, values) for a in args))
    if isinstance(expr, sympy.Max):
        return max(evaluate(a, values) for a in args)
    raise TypeError(f"cannot evaluate {type(expr).__name__}")
