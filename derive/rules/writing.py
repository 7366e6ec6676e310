"""Pieces the activation entries are written with: LaTeX and code fragments, float64 and NumPy forms, exact options.

None names an activation: :mod:`derive.rules.activations` puts them together into its entries.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from fractions import Fraction

import numpy as np
from sympy import Add, Expr, Rational, exp

from derive.rules.faces import applied

Array = np.ndarray


# ------------------------------------------------------------------------------ LaTeX and code
def applied_as(head: str) -> Callable[..., str]:
    """LaTeX of a function written as its name applied to one argument: \\sigma^{2}(z)."""
    return lambda z, exp="": applied(f"{head}{exp}", z)


def subscript(alpha: str) -> str:
    """An option as a function's subscript in LaTeX, ``_{\\frac{1}{2}}``; nothing for 1 (ELU's default α)."""
    return "" if alpha == "1" else f"_{{{alpha}}}"


def alpha_e_z(z: str, alpha: str) -> str:
    """α e^z in LaTeX (ELU's derivative for z ≤ 0): e^z for α = 1 and 0 for α = 0."""
    return "0" if alpha == "0" else ("" if alpha == "1" else f"{alpha} ") + f"e^{{{z}}}"


def times(alpha: str) -> str:
    """A number written as a factor in code, ``0.5 * ``; nothing for 1."""
    return "" if alpha == "1.0" else f"{alpha} * "


def exact(value: float) -> Rational:
    """A spec's number as the exact rational its decimal digits say (0.1 is 1/10, not the nearest float)."""
    frac = Fraction(repr(float(value)))
    return Rational(frac.numerator, frac.denominator)


# ---------------------------------------------------------------------------- float64 and NumPy
def sigmoid64(u: float) -> float:
    if u >= 0:
        return 1.0 / (1.0 + math.exp(-u))
    e = math.exp(u)
    return e / (1.0 + e)


def np_sigmoid(z: Array) -> Array:
    ez = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + ez), ez / (1 + ez))


def np_softmax(z: Array) -> Array:
    e = np.exp(z - np.max(z, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)


def softmax_values(zs: Sequence[Expr]) -> list[Expr]:
    total = Add(*(exp(zi) for zi in zs))
    return [exp(zi) / total for zi in zs]
