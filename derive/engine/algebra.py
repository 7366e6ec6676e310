"""Deciding whether an expression is zero, without an unbounded ``simplify``."""

from __future__ import annotations

import sympy
from sympy import Add, Expr, S

from derive.engine.derivation import Derivation

# cancel() on an expression larger than this is not attempted.
CANCEL_OPS = 4000


def constraints(d: Derivation) -> dict[sympy.Symbol, Expr]:
    """Substitutions that encode the derivation's assumptions (Σ_k y_k = 1)."""
    if not d.needs_distribution():
        return {}
    ys = d.y_vec()
    return {ys[-1]: S.One - Add(*ys[:-1])}


def is_zero(expr: Expr, d: Derivation | None = None) -> bool | None:
    """True when provably zero, None when undecided.

    Every function application (σ(…), exp(…), tanh(…), …) is first replaced
    by a fresh symbol, outermost first; a rational function of independent
    symbols that cancels to zero is zero for every value of those
    applications, so a True here is a proof. The rewriting keeps sympy from
    expanding exponentials of sums, which is what makes direct expansion slow.
    """
    if d is not None:
        expr = expr.xreplace(constraints(d))
    if expr == 0:
        return True
    flat = expr.xreplace(_generators(expr))
    if sympy.expand(flat) == 0:
        return True
    if sympy.count_ops(flat) <= CANCEL_OPS and sympy.cancel(sympy.together(flat)) == 0:
        return True
    return None


def _rational_content(arg: Expr) -> tuple[sympy.Rational, Expr]:
    """arg = c·u with c rational and u's sign fixed, so exp(2u), exp(−u) share u."""
    coeff, base = arg.primitive() if arg.is_Add else arg.as_coeff_Mul()
    if not coeff.is_Rational:
        return S.One, arg
    if base.could_extract_minus_sign():
        coeff, base = -coeff, -base
    return coeff, base


def _generators(expr: Expr) -> dict[Expr, Expr]:
    """A fresh symbol for each function application; exp(k·u) becomes t_u**k."""
    names: dict[Expr, sympy.Dummy] = {}
    out: dict[Expr, Expr] = {}
    for f in expr.atoms(sympy.Function):
        if isinstance(f, sympy.exp):
            coeff, base = _rational_content(f.args[0])
            if coeff != 0:
                out[f] = names.setdefault(sympy.exp(base), sympy.Dummy()) ** coeff
                continue
        out[f] = names.setdefault(f, sympy.Dummy())
    return out
