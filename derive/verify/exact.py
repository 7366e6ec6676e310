"""The exact check: whether a formula equals the derived result symbolically, tried only where it is cheap.

Separate from the numbers because it is the one stage that hands expressions to sympy's expand and cancel,
which never stop early; ``_expanded_terms`` bounds their cost before they are called. A formula up to
SYMBOLIC_OPS operations is tried.
"""

from __future__ import annotations

import math

import sympy
from sympy import Expr, Symbol
from sympy.polys.polyerrors import BasePolynomialError

from derive.engine.algebra import is_zero
from derive.engine.derivation import EXPAND_PARAMETERS, Derivation
from derive.rules import symbols as sym
from derive.verify.read import _Attempt
from derive.verify.syntax import Limits
from derive.verify.work import Work

SYMBOLIC_OPS = Limits.EXACT_OPS  # the symbolic check is tried for formulas up to this size


def _symbolically_equal(d: Derivation, attempt: _Attempt) -> bool:
    """True when every element is provably equal after substituting δ and the forward equations.

    Only tried where it is cheap for sure: small networks, and differences whose expansion over a
    common denominator stays within Limits.EXACT_TERMS terms for all elements together (expand and
    cancel never stop early, so (x_1+x_2)^{60} or a product of 200 sums would not come back). Anything
    that goes wrong inside sympy only means it is not proved, and the verdict says "numeric".
    """
    if d.network.parameter_count() > EXPAND_PARAMETERS or len(attempt.elements) > EXPAND_PARAMETERS:
        return False
    forward = d.forward_map()
    sign = attempt.reading.sign
    budget = Limits.EXACT_TERMS
    sizes = Work()
    try:
        for el in attempt.elements:
            if sizes.size(el.given) > 4 * SYMBOLIC_OPS:  # xreplace and count_ops walk every path of the tree
                return False
            deltas = {s: sign * d.dC_dz(info.layer, info.i) for s in el.given.free_symbols if (info := _delta(s))}
            given = el.given.xreplace(deltas).xreplace(forward)
            if sizes.size(given) > 4 * SYMBOLIC_OPS or sympy.count_ops(given) > SYMBOLIC_OPS:
                return False
            diff = given - el.correct.xreplace(forward)
            budget -= _expanded_terms(diff, budget)
            if budget < 0:
                return False
            if is_zero(diff, d) is True:
                continue
            rewritten = diff.rewrite(sympy.exp)
            budget -= _expanded_terms(rewritten, budget)
            if budget < 0 or is_zero(rewritten, d) is not True:
                return False
    except (TypeError, ValueError, ArithmeticError, RecursionError, NotImplementedError, BasePolynomialError):
        return False
    return True


def _expanded_terms(expr: Expr, cap: int) -> int:
    """An upper bound on the terms of ``expr`` expanded over a common denominator, or more than ``cap``.

    Function applications count as one term each (``algebra.is_zero`` replaces them by symbols first);
    a product multiplies the terms of its factors; a sum puts its fractions over the product of their
    distinct denominators (a − y of a softmax output shares one); an integer power n of t terms gives at
    most C(t+n-1, n). exp(k·u) becomes a power k of one symbol, so a large k (a polynomial of that
    degree) counts as over the cap.
    """
    over = cap + 1
    memo: dict[Expr, tuple[int, dict[Expr, int]]] = {}

    def product(counts) -> int:
        return min(over, math.prod(counts))

    def terms(e: Expr) -> tuple[int, dict[Expr, int]]:  # (numerator's terms, denominator factor → its terms)
        found = memo.get(e)
        if found is not None:
            return found
        out: tuple[int, dict[Expr, int]]
        if isinstance(e, sympy.exp):
            coeff = e.args[0].as_coeff_Mul()[0]
            out = (1, {}) if not coeff.is_Rational or abs(coeff) <= Limits.POWER else (over, {})
        elif e.is_Atom or isinstance(e, sympy.Function):
            out = (1, {})
        elif e.is_Add:
            parts = [terms(a) for a in e.args]
            den = {factor: n for _, dens in parts for factor, n in dens.items()}
            whole = product(den.values())
            numerator = sum(n * product(den[f] for f in den if f not in dens) for n, dens in parts)
            out = (min(over, numerator), den) if whole < over else (over, den)
        elif e.is_Mul:
            parts = [terms(a) for a in e.args]
            out = (product(n for n, _ in parts), {f: n for _, dens in parts for f, n in dens.items()})
        elif e.is_Pow and e.exp.is_Integer:
            n, dens = terms(e.base)
            k = abs(int(e.exp))
            if k > Limits.POWER:
                out = (over, {})
            elif e.exp > 0:
                out = (min(over, math.comb(n + k - 1, k)), {f: min(over, m**k) for f, m in dens.items()})
            else:  # 1/base^k: base's numerator expanded goes below, its denominator comes up
                out = (product(m**k for m in dens.values()), {e: min(over, math.comb(n + k - 1, k))})
        elif e.is_Pow:  # a fractional power is a symbol of its own; its base is expanded too
            n, dens = terms(e.base)
            out = (1, {}) if n * product(dens.values()) <= over else (over, {})
        else:
            out = (over, {})
        memo[e] = out
        return out

    stack = [expr]  # fill the memo from the leaves up, so deep expressions do not recurse deeply
    order: list[Expr] = []
    seen: set[Expr] = set()
    while stack:
        e = stack.pop()
        if e in seen:
            continue
        seen.add(e)
        order.append(e)
        stack.extend(e.args)
    for e in reversed(order):
        terms(e)
    n, dens = terms(expr)
    return min(over, n * product(dens.values()))


def _delta(s: Symbol):
    info = sym.parse_name(str(s))
    return info if info is not None and info.kind == "delta" else None
