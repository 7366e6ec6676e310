"""Products in the order the chain rule writes them: a gradient's chain, its value factor by factor, its closed form.

sympy keeps the factors of a product in its own canonical order, so ∂C/∂w printed from a sympy product reads
x a(1 − a) w … instead of from the cost back to the parameter. An ordered form keeps the written order: a
:class:`Product` of factors and a :class:`Total` of terms, with sympy expressions at the leaves. It is
built here by the same steps as the engine's own expressions (:meth:`Derivation._chain_dz`,
:meth:`Derivation.dC_dz`), and :func:`value` multiplies it out to exactly the engine's expression, so
what a document prints in this order is what the checks checked. Nothing is cancelled in an ordered
form: ∂C/∂y · ∂y/∂z stays two factors even where sympy would cancel them to y − t.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sympy
from sympy import Expr, S

from derive.engine import derivation as engine
from derive.engine.derivation import Derivation
from derive.rules import symbols as sym
from derive.rules.functions import Partial


@dataclass(frozen=True)
class Product:
    """Factors in written order (a leading number is the coefficient)."""

    factors: tuple[Ordered, ...]


@dataclass(frozen=True)
class Total:
    """Terms in written order; ``brackets`` are the ones a product puts around it, "()" or "[]"."""

    terms: tuple[Ordered, ...]
    brackets: str = "()"


Ordered = Product | Total | Expr


def product(*factors: Ordered) -> Ordered:
    """The product of ``factors`` in this order (one factor is itself; factors 1 are left out)."""
    kept = tuple(f for f in factors if not (isinstance(f, Expr) and f == S.One))
    if not kept:
        return S.One
    return kept[0] if len(kept) == 1 else Product(kept)


def total(terms: list[Ordered] | tuple[Ordered, ...]) -> Ordered:
    """The sum of ``terms`` in this order (one term is itself; terms 0 are left out)."""
    kept = tuple(t for t in terms if not (isinstance(t, Expr) and t == S.Zero))
    if not kept:
        return S.Zero
    return kept[0] if len(kept) == 1 else Total(kept)


def value(form: Ordered) -> Expr:
    """The form multiplied out by sympy: the engine's own expression."""
    if isinstance(form, Product):
        return sympy.Mul(*(value(f) for f in form.factors))
    if isinstance(form, Total):
        return sympy.Add(*(value(t) for t in form.terms))
    return form


def substitute(form: Ordered, leaf: Callable[[Expr], Ordered]) -> Ordered:
    """``form`` with every leaf replaced by ``leaf(it)``, the order kept."""
    if isinstance(form, Product):
        return product(*(substitute(f, leaf) for f in form.factors))
    if isinstance(form, Total):
        return Total(tuple(substitute(t, leaf) for t in form.terms), form.brackets)
    return leaf(form)


def leaves(form: Ordered) -> list[Expr]:
    """The leaves in written order."""
    if isinstance(form, Product):
        return [x for f in form.factors for x in leaves(f)]
    if isinstance(form, Total):
        return [x for t in form.terms for x in leaves(t)]
    return [form]


@dataclass(frozen=True)
class InOrder:
    """A parameter's ∂C/∂θ three ways, each in the chain's order: the chain of ∂ factors, the same with each
    factor replaced by its value (nothing cancelled), and the closed form (δ^{(L)} simplified where the
    loss and output activation match)."""

    chain: Ordered
    product: Ordered
    closed: Ordered


# ------------------------------------------------------------------------------- the chain
def chain_dz(d: Derivation, layer: int, i: int, budget: int = engine.CHAIN_PATHS) -> Ordered:
    """∂C/∂z^{(l)}_i as a written chain of ∂ factors, from the cost down: as ``Derivation._chain_dz``."""
    z_i = sym.z(layer, i)
    outputs = [sym.a(layer, k + 1) for k in d.network.activation(layer).coupled(i - 1, d.size(layer))]
    if layer == d.L:
        return total([product(Partial(sym.COST, a_k), Partial(a_k, z_i)) for a_k in outputs])
    expand = d._paths(layer) <= budget

    def upstream(k: int) -> Ordered:
        zk = sym.z(layer + 1, k)
        return chain_dz(d, layer + 1, k, budget) if expand else Partial(sym.COST, zk)

    def back(a_m: sympy.Symbol) -> Ordered:
        return total([product(upstream(k), Partial(sym.z(layer + 1, k), a_m)) for k in range(1, d.size(layer + 1) + 1)])

    return total([product(back(a_m), Partial(a_m, z_i)) for a_m in outputs])


def dC_dz(d: Derivation, layer: int, i: int, memo: dict[tuple[int, int], Ordered] | None = None) -> Ordered:
    """∂C/∂z^{(l)}_i in a, z, weights and targets, as ``Derivation.dC_dz`` builds it, in the chain's order:
    the layer above's ∂C/∂z, the weight, the activation's derivative. ``memo`` keeps each neuron's form."""
    memo = {} if memo is None else memo
    if (layer, i) not in memo:
        memo[(layer, i)] = _dC_dz(d, layer, i, memo)
    return memo[(layer, i)]


def _dC_dz(d: Derivation, layer: int, i: int, memo: dict[tuple[int, int], Ordered]) -> Ordered:
    if layer == d.L:
        if d.output_matching():
            match = d.network.loss_def.matching[d.network.layers[-1].activation]
            return match(sym.a(layer, i), sym.y(i))
        outputs = d.network.activation(layer).coupled(i - 1, d.size(layer))
        return total([product(d.dC_da(k + 1), d.jacobian_entry(layer, k + 1, i)) for k in outputs])
    outputs = d.network.activation(layer).coupled(i - 1, d.size(layer))

    def back(m: int) -> Ordered:
        above = range(1, d.size(layer + 1) + 1)
        return total([product(dC_dz(d, layer + 1, k, memo), sym.W(layer + 1, k, m)) for k in above])

    return total([product(back(m + 1), d.jacobian_entry(layer, m + 1, i)) for m in outputs])


def gradient(d: Derivation, name: str, memo: dict[tuple[int, int], Ordered] | None = None) -> InOrder:
    """The chain, the product of the factors' values and the closed form of one weight or bias, in order."""
    layer, i, j = d.resolve(name)
    p = sym.parameter_symbol(layer, i, j)
    chain = product(chain_dz(d, layer, i), Partial(sym.z(layer, i), p))
    local = d.factor_value(Partial(sym.z(layer, i), p))
    return InOrder(chain, substitute(chain, _valued(d, memo)), product(dC_dz(d, layer, i, memo), local))


def output_delta(d: Derivation, i: int) -> InOrder:
    """δ^{(L)}_i (in the notation's sign) as its chain, its factors' product and its simplified form."""
    sign = S(d.sign)
    chain = chain_dz(d, d.L, i)
    return InOrder(
        product(sign, chain),
        product(sign, substitute(chain, _valued(d))),
        product(sign, dC_dz(d, d.L, i)),
    )


def _valued(d: Derivation, memo: dict[tuple[int, int], Ordered] | None = None) -> Callable[[Expr], Ordered]:
    """Each ∂ factor replaced by its value; ∂C/∂z (where a long chain stops at the next layer) in order too."""
    memo = {} if memo is None else memo

    def leaf(expr: Expr) -> Ordered:
        if not isinstance(expr, Partial):
            return expr
        f, v = expr.args
        if f == sym.COST and (info := sym.parse_name(v.name)) is not None and info.kind == "z":
            return dC_dz(d, info.layer, info.i, memo)
        return d.factor_value(expr)

    return leaf


# -------------------------------------------------------------------------------- the cost
def cost(d: Derivation) -> Ordered:
    """C as the textbooks write it, a coefficient times one bracketed sum over the outputs,
    −[t log y + (1 − t) log(1 − y)], ½[(y₁ − a₁)² + (y₂ − a₂)²]; the loss's sympy formula where it says no more."""
    loss = d.network.loss_def
    if loss.written is None:
        return d.cost()
    coefficient, terms = loss.written(d.a_vec(d.L), d.y_vec())
    return product(coefficient, Total(tuple(terms), "[]"))
