"""The chain rule's factors: one rule per (numerator kind, denominator kind), and nothing else says them.

A factor ∂f/∂v of backpropagation is valued here for everyone who needs one: the engine, when it writes
a gradient's chain and replaces each factor by its value (:meth:`Derivation.factor_value`), the formula
reader, when a user writes ∂a/∂z, ∂z/∂w or ∂C/∂θ (:meth:`derive.verify.reading.Reader.partial`), and the
verifier's float64 check of an element at a sample point. A rule reads the network only through
:class:`Terms`, so the reader can ask for ∂C/∂θ in δ (:class:`InDelta`) instead of writing ∂C/∂z out
through every layer above, and the sample points can give numbers where the engine gives symbols
(:class:`Symbolic` writes W, a, 0, 1 and Σ in sympy).

Quantities are :class:`Element` values (kind, layer, indices); the input x is layer 0 of ``a``. A rule
gives None where the factor is not one of backpropagation's (∂z^{(3)}/∂W^{(1)}, ∂a^{(2)}/∂z^{(1)}): the
engine never asks for one, the reader refuses it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import NamedTuple, Protocol

from sympy import Add, Expr, Mul, S, Symbol

from derive.engine.compose import product, times_symbol
from derive.rules import symbols as sym


class Terms(Protocol):
    """What a rule reads: sizes, ∂C/∂a^{(L)}, ∂C/∂z, the activation's Jacobian, and W, a, 0, 1 and Σ.

    The last five are sympy (:class:`Symbolic`) for the engine and the reader, float64 at a sample point.
    """

    L: int
    zero: Expr
    one: Expr

    def size(self, layer: int) -> int: ...

    def dC_da(self, k: int) -> Expr: ...  # noqa: N802 - the articles' letters

    def dC_dz(self, layer: int, i: int) -> Expr: ...  # noqa: N802

    def jacobian_entry(self, layer: int, i: int, k: int) -> Expr: ...

    def weight(self, layer: int, i: int, j: int) -> Expr: ...

    def output(self, layer: int, j: int) -> Expr: ...

    def total(self, terms: Iterable[Expr]) -> Expr: ...

    def times(self, value: Expr, local: Expr) -> Expr: ...


_A = functools.cache(sym.a)


class Symbolic:
    """W, a, 0, 1 and Σ of the rules written in sympy: a mixin of every symbolic :class:`Terms`."""

    zero: Expr = S.Zero
    one: Expr = S.One

    def weight(self, layer: int, i: int, j: int) -> Expr:
        return sym.W(layer, i, j)

    def output(self, layer: int, j: int) -> Expr:
        return _A(layer, j)

    def total(self, terms: Iterable[Expr]) -> Expr:
        return Add(*terms)

    def times(self, value: Expr, local: Expr) -> Expr:
        if value is S.One or local is S.One:
            return local if value is S.One else value
        if isinstance(local, Symbol):
            return times_symbol(value, local)
        return product([*Mul.make_args(value), *Mul.make_args(local)])


class Element(NamedTuple):
    """One scalar quantity of the network: kind C (the cost), a (layer 0 is x), z, W, b, y or delta.

    A named tuple rather than a dataclass: the engine makes two for every gradient it writes.
    """

    kind: str
    layer: int | None = None
    i: int = 0
    j: int | None = None


COST = Element("C")


def element(symbol: Symbol) -> Element:
    """The Element a canonical symbol (``C``, ``x[1]``, ``W2[1,3]`` …) stands for."""
    if symbol == sym.COST:
        return COST
    info = sym.parse_name(symbol.name)
    if info is None:
        raise ValueError(f"{symbol} is not a quantity of the network")
    if info.kind == "x":
        return Element("a", 0, info.i)
    return Element(info.kind, info.layer, info.i, info.j)


def parameter(layer: int, i: int, j: int | None = None) -> Element:
    """W^{(l)}_{ij} when j is given, else b^{(l)}_i."""
    return Element("W", layer, i, j) if j is not None else Element("b", layer, i)


# ---------------------------------------------------------------------- rules
def _cost_a(t: Terms, f: Element, v: Element) -> Expr:
    """∂C/∂a^{(L)}_k from the loss; below the output, Σ_k ∂C/∂z^{(l+1)}_k ∂z^{(l+1)}_k/∂a^{(l)}_i."""
    if v.layer == t.L:
        return t.dC_da(v.i)
    above = range(1, t.size(v.layer + 1) + 1)
    return t.total(factor(t, Element("z", v.layer + 1, k), v) * t.dC_dz(v.layer + 1, k) for k in above)


def _cost_z(t: Terms, f: Element, v: Element) -> Expr:
    """∂C/∂z^{(l)}_i, the derivation's own (δ in the gradient's sign)."""
    return t.dC_dz(v.layer, v.i)


def _cost_parameter(t: Terms, f: Element, v: Element) -> Expr:
    """∂C/∂θ = ∂C/∂z^{(l)}_i ∂z^{(l)}_i/∂θ: the parameter enters only its own neuron's weighted input."""
    return t.times(t.dC_dz(v.layer, v.i), factor(t, Element("z", v.layer, v.i), v))


def _a_z(t: Terms, f: Element, v: Element) -> Expr | None:
    """∂a^{(l)}_i/∂z^{(l)}_k: the activation's Jacobian (diagonal g'(z_i) when elementwise)."""
    return t.jacobian_entry(f.layer, f.i, v.i) if v.layer == f.layer else None


def _z_a(t: Terms, f: Element, v: Element) -> Expr | None:
    """∂z^{(l)}_i/∂a^{(l−1)}_k = W^{(l)}_{ik}."""
    return t.weight(f.layer, f.i, v.i) if v.layer == f.layer - 1 else None


def _z_w(t: Terms, f: Element, v: Element) -> Expr | None:
    """∂z^{(l)}_i/∂W^{(l)}_{jk} = a^{(l−1)}_k when j = i, else 0."""
    if v.layer != f.layer:
        return None
    return t.output(f.layer - 1, v.j) if v.i == f.i else t.zero


def _z_b(t: Terms, f: Element, v: Element) -> Expr | None:
    """∂z^{(l)}_i/∂b^{(l)}_k = 1 when k = i, else 0."""
    if v.layer != f.layer:
        return None
    return t.one if v.i == f.i else t.zero


def _z_z(t: Terms, f: Element, v: Element) -> Expr | None:
    """∂z^{(l)}_i/∂z^{(l−1)}_k = Σ_m ∂z^{(l)}_i/∂a^{(l−1)}_m ∂a^{(l−1)}_m/∂z^{(l−1)}_k."""
    if v.layer != f.layer - 1:
        return None
    n = t.size(v.layer)
    return t.total(
        factor(t, f, Element("a", v.layer, m)) * factor(t, Element("a", v.layer, m), v) for m in range(1, n + 1)
    )


Rule = Callable[[Terms, Element, Element], Expr | None]

RULES: dict[tuple[str, str], Rule] = {
    ("C", "a"): _cost_a,
    ("C", "z"): _cost_z,
    ("C", "W"): _cost_parameter,
    ("C", "b"): _cost_parameter,
    ("a", "z"): _a_z,
    ("z", "a"): _z_a,
    ("z", "W"): _z_w,
    ("z", "b"): _z_b,
    ("z", "z"): _z_z,
}


def factor(t: Terms, f: Element, v: Element) -> Expr | None:
    """The value of ∂f/∂v by its rule (1 for ∂v/∂v); None when backpropagation has no such factor."""
    rule = RULES.get((f.kind, v.kind))
    value = rule(t, f, v) if rule is not None else None
    if value is None and f == v:
        return t.one
    return value


@dataclass(frozen=True)
class InDelta(Symbolic):
    """The terms of ``d`` with ∂C/∂z^{(l)}_i written as ±δ^{(l)}_i (``sign`` the notation's δ sign).

    How the reader values a user's ∂C/∂θ: the same numbers once δ is substituted, without writing
    ∂C/∂z out through every layer above (for a 50-wide layer, thousands of sympy operations).
    """

    d: Terms
    sign: int

    @property
    def L(self) -> int:  # noqa: N802
        return self.d.L

    def size(self, layer: int) -> int:
        return self.d.size(layer)

    def dC_da(self, k: int) -> Expr:  # noqa: N802
        return self.d.dC_da(k)

    def dC_dz(self, layer: int, i: int) -> Expr:  # noqa: N802
        return self.sign * sym.delta(layer, i)

    def jacobian_entry(self, layer: int, i: int, k: int) -> Expr:
        return self.d.jacobian_entry(layer, i, k)
