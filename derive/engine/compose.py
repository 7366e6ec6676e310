"""The engine's large expressions, built as sympy builds them but without its general machinery.

Every function here returns exactly the expression sympy's own construction would (``Mul``, ``Add``,
``xreplace``), and falls back on that construction whenever its shortcut's conditions do not hold;
``tests/test_compose.py`` compares each with sympy's, argument by argument. The shortcuts are what a
784-100-10 network needs: a product whose factors cannot combine only put in sympy's order
(``times_symbol``, ``product``), a weighted input's sum already in order (``weighted_sum``), one
neuron's expression renamed for another (``rename``), facts sympy would spend minutes finding told once
(``known_real``), and values put into an expression without evaluating its functions again
(``substitute``).

On the last: ``xreplace`` rebuilds every function application it passes through, and sympy evaluates f(arg) on
construction by asking arg's assumptions (is it zero, infinite, an integer, a multiple of iπ …). For
exp of a layer's weighted input in a 784-input network each question walks some 80,000 products, and
the composed cost of 784-100-10 took 100 s. The arguments derive substitutes are sums of products of
real symbols, which no such evaluation rewrites, so keeping the applications as they are gives the
same expression; ``tests/test_compose.py`` compares it with xreplace's for every activation and loss.
"""

from __future__ import annotations

import bisect
import functools
from collections.abc import Iterable, Mapping, Sequence

from sympy import Add, Basic, Expr, Mul, Symbol
from sympy.core.function import AppliedUndef, Function

# Facts of a weighted input Σ_j W_j a_j + b that sympy cannot decide (its terms are free real symbols): recorded
# as undecided, as sympy itself records a fact it has asked about and could not decide.
UNDECIDED = ("zero", "nonzero", "positive", "negative", "nonnegative", "nonpositive") + tuple(
    f"extended_{sign}" for sign in ("positive", "negative", "nonnegative", "nonpositive", "nonzero")
)


def known_real(expr: Expr) -> Expr:
    """expr, with sympy told what it would find out about a weighted input: real, and of no known sign.

    sympy would find that out itself by asking each of a 784-input sum's products, which it does as soon
    as an exponential of a later layer's weighted input is multiplied by anything (is its exponent zero?),
    at some 30 ms a question; told once, it answers from here. (sympy keeps an expression's known facts
    in ``_assumptions``, copied from its class's defaults the first time one is learned, as sympy's own
    property lookup does; an undecided fact is kept as None there once asked.)
    """
    if expr.is_Atom:
        return expr
    if expr._assumptions is expr.default_assumptions:
        expr._assumptions = expr.default_assumptions.copy()
    expr._assumptions.deduce_all_facts((("real", True),))
    for fact in UNDECIDED:
        expr._assumptions.setdefault(fact, None)
    return expr


_ORDER = functools.cmp_to_key(Basic.compare)


def times_symbol(value: Expr, s: Expr) -> Expr:
    """value·s, the same expression as ``Mul(value, s)``, found without Mul's general flattening.

    ∂C/∂θ is ∂C/∂z times a^{(l−1)}_j, a symbol ∂C/∂z does not have as a factor: the product only
    places s among the factors in Mul's own order, which costs a fifth of Mul(value, s). Anything
    else (a number, a factor s or a power of s) goes through Mul.
    """
    if value.is_Number or not isinstance(s, Symbol) or not value.is_commutative:
        return Mul(value, s)
    if isinstance(value, Symbol):  # two symbols (a weight and an input): one comparison places them
        if type(value) is Symbol is type(s) and value._assumptions0 == s._assumptions0 and value.name != s.name:
            order = -1 if value.name < s.name else 1  # Basic.compare of two such symbols: their names decide
        else:
            order = value.compare(s)
        return Mul(value, s) if order == 0 else Mul._from_args((value, s) if order < 0 else (s, value), True)
    factors, start, keys, bases = _factors(value)
    if s in bases:
        return Mul(value, s)
    place = start + bisect.bisect_left(keys, _ORDER(s))
    return Mul._from_args((*factors[:place], s, *factors[place:]), True)


@functools.lru_cache(maxsize=4096)
def _factors(value: Expr) -> tuple[tuple[Expr, ...], int, list[object], frozenset[Expr]]:
    """value's factors, where its coefficient ends, their order keys, and their bases (one ∂C/∂z times each
    a^{(l−1)}_j of its neuron: worked out once)."""
    factors = value.args if value.is_Mul else (value,)
    start = 1 if factors[0].is_Number else 0
    keys = [_ORDER(f) for f in factors[start:]]
    return factors, start, keys, frozenset(f.base if f.is_Pow else f for f in factors)


def product(factors: Sequence[Expr]) -> Expr:
    """Mul(*factors), found without Mul's flattening when no two factors can combine.

    Mul rebuilds e^z from its base and exponent (e^z is the power E^z to it), which evaluates exp(z) again,
    and asks whether z is zero. Factors that are neither numbers nor products, commutative, with distinct
    bases that are not numbers are only put in Mul's order (softmax's e^{z_i} / Σ_j e^{z_j} is such a
    product); anything else goes through Mul.
    """
    bases = [f.as_base_exp()[0] for f in factors]
    simple = all(not f.is_Number and not f.is_Mul and f.is_commutative for f in factors)
    if not simple or any(b.is_Number for b in bases) or len(set(bases)) < len(bases):
        return Mul(*factors)
    return Mul._from_args(tuple(sorted(factors, key=_ORDER)), True)


def weighted_sum(products: Sequence[Expr], rest: Sequence[Expr] = ()) -> Expr:
    """Add(*products, *rest) for a weighted input's products W_j·a_j given in the order of their weights' names.

    sympy orders two products with as many factors by their first factors, and two symbols of one kind by name,
    so a list of such products each led by a distinct weight, in the order of the weights' names (also
    W_{ki} times the layer above's ∂C/∂z_k), is already in sympy's order;
    a bias goes before or after them all (sympy orders a symbol and a product by their kinds). The sum is then
    only put together, without Add's search for like terms and its sort: a 784-input layer's hundred sums
    in a fifth of the time. Anything else (fewer than two products, a product not led by a plain symbol,
    names out of order, more than one other term) goes through Add.
    """
    if len(products) < 2 or len(rest) > 1:
        return Add(*products, *rest)
    length = len(products[0].args)
    firsts = [p.args[0] if p.is_Mul and len(p.args) == length else None for p in products]
    if not all(type(f) is Symbol and f._assumptions0 == firsts[0]._assumptions0 for f in firsts):
        return Add(*products, *rest)
    names = [f.name for f in firsts]
    if any(a >= b for a, b in zip(names, names[1:], strict=False)):
        return Add(*products, *rest)
    if not rest:
        return Add._from_args(products)
    extra = rest[0]
    if not isinstance(extra, Symbol) or extra in firsts:
        return Add(*products, *rest)
    before = extra.compare(products[0]) < 0
    return Add._from_args((extra, *products) if before else (*products, extra))


def rename(expr: Expr, old: Symbol, new: Symbol) -> Expr:
    """expr with the symbol new in old's place: :func:`relabel` of one symbol."""
    return relabel(expr, {old: new})


def relabel(expr: Expr, mapping: Mapping[Symbol, Symbol]) -> Expr:
    """expr with each symbol of mapping replaced by its image: one neuron's expression made another's.

    Each node is rebuilt from its new arguments as they stand, without sympy's evaluation. That is
    xreplace's result when the relabelling changes no comparison sympy's order rests on and makes no two
    symbols one: every free symbol is a plain Symbol with the same assumptions (so sympy compares them by
    name), the images are new to expr, and sorting the free symbols by name gives the same order before
    and after. Then every Add and Mul keeps its order and nothing combines. An activation's derivative, or
    a neuron's ∂C/∂z, made once per layer and relabelled for each neuron costs a tenth of making it again.
    Anything else goes through xreplace.
    """
    free = expr.free_symbols
    mapping = {old: new for old, new in mapping.items() if old in free and old != new}
    if not mapping:
        return expr
    if not _keeps_order(free, mapping):
        return expr.xreplace(mapping)
    memo: dict[Basic, Basic] = {}

    def walk(node: Basic) -> Basic:
        if node in mapping:
            return mapping[node]
        if not node.args:
            return node
        done = memo.get(node)
        if done is None:
            args = tuple(walk(arg) for arg in node.args)
            if node.is_Add or node.is_Mul:
                done = node.func._from_args(args, node.is_commutative)
            else:
                done = node.func(*args, evaluate=False)
            memo[node] = done
        return done

    return walk(expr)


def _keeps_order(free: set[Basic], mapping: Mapping[Symbol, Symbol]) -> bool:
    """True when relabelling ``free`` by ``mapping`` leaves sympy's comparisons and distinctness as they were."""
    symbols = [*free, *mapping.values()]
    first = symbols[0]
    if not all(type(s) is Symbol and s._assumptions0 == first._assumptions0 for s in symbols):
        return False
    images = set(mapping.values())
    if len(images) < len(mapping) or images & (free - mapping.keys()):
        return False
    after = [mapping.get(s, s).name for s in sorted(free, key=lambda s: s.name)]
    return all(x < y for x, y in zip(after, after[1:], strict=False))


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
            elif node.is_Mul:
                out = product(args)
            else:
                out = node.func(*args)
        memo[node] = out
        return out

    return [walk(expr) for expr in exprs]
