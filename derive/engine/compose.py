"""Substituting values into an expression without re-evaluating its functions.

``xreplace`` rebuilds every function application it passes through, and sympy evaluates f(arg) on
construction by asking arg's assumptions (is it zero, infinite, an integer, a multiple of iπ …). For
exp of a layer's weighted input in a 784-input network each question walks some 80,000 products, and
the composed cost of 784-100-10 took 100 s. The arguments derive substitutes are sums of products of
real symbols, which no such evaluation rewrites, so keeping the applications as they are gives the
same expression; ``tests/test_compose.py`` compares it with xreplace's for every activation and loss.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sympy import Basic, Expr
from sympy.core.function import AppliedUndef, Function


def known_real(expr: Expr) -> Expr:
    """expr, with sympy told that it is real: a weighted input, a sum of products of real numbers.

    sympy would find that out itself by asking each of a 784-input sum's products, which it does as
    soon as an exponential of a later layer's weighted input is multiplied by anything; told once, it
    answers from here. (sympy keeps an expression's known facts in ``_assumptions``, copied from its
    class's defaults the first time one is learned, as sympy's own property lookup does.)
    """
    if expr.is_Atom:
        return expr
    if expr._assumptions is expr.default_assumptions:
        expr._assumptions = expr.default_assumptions.copy()
    expr._assumptions.deduce_all_facts((("real", True),))
    return expr


def substitute(exprs: Iterable[Expr], values: Mapping[Basic, Expr]) -> list[Expr]:
    """Each expression with ``values`` put in for its symbols, function applications left unevaluated.

    Shared subexpressions are substituted once (the whole list shares one memo), so a softmax's
    denominator is built once for all its outputs.
    """
    memo: dict[Basic, Basic] = {}

    def walk(node: Basic) -> Basic:
        found = memo.get(node)
        if found is not None:
            return found
        if node in values:
            out = values[node]
        elif not node.args:
            out = node
        else:
            args = tuple(walk(arg) for arg in node.args)
            if args == node.args:
                out = node
            elif isinstance(node, Function) and not isinstance(node, AppliedUndef):
                out = node.func(*args, evaluate=False)
            else:
                out = node.func(*args)
        memo[node] = out
        return out

    return [walk(expr) for expr in exprs]
