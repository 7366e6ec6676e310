"""Deciding whether an expression is zero, without an unbounded ``simplify``."""

from __future__ import annotations

import sympy
from sympy import Expr, S

from .derivation import Derivation

# cancel() on an expression larger than this is not attempted.
CANCEL_OPS = 4000


def constraints(d: Derivation) -> dict[sympy.Symbol, Expr]:
    """Substitutions that encode the derivation's assumptions (Σ_k y_k = 1)."""
    if not d.needs_distribution():
        return {}
    ys = d.y_vec()
    return {ys[-1]: S.One - sum(ys[:-1], S.Zero)}


def is_zero(expr: Expr, d: Derivation | None = None) -> bool | None:
    """True when provably zero by expansion or cancellation, None when undecided."""
    if d is not None:
        expr = expr.xreplace(constraints(d))
    if expr == 0 or sympy.expand(expr) == 0:
        return True
    if sympy.count_ops(expr) <= CANCEL_OPS and sympy.cancel(sympy.together(expr)) == 0:
        return True
    return None
