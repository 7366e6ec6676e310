"""Sections of single articles: article 001's identities of δ, article 002's one neuron and its common factor.

Each is built from the engine's record like the rest of a document, so every equation shown is derived for the
declared network (article 002's one neuron is a one-layer network of its own, derived and checked by the same
engine); the identities are confirmed against the engine's own forms while they are built.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sympy
from sympy import Basic, Expr

from derive.check.gradients import CheckReport
from derive.engine.derivation import Derivation
from derive.engine.forms import Kind, matrix
from derive.engine.record import Record
from derive.engine.steps import Equation
from derive.model.network import Network, neuron
from derive.present.document_data import (
    DOTS,
    RELATIONS,
    CommonFactor,
    Eq,
    Factor,
    Identities,
    Verified,
    Warmup,
    verified,
)
from derive.present.elision import shorten
from derive.present.latex import DeriveLatexPrinter
from derive.present.written import LINE_EM, width_em
from derive.rules import symbols as sym
from derive.rules.functions import Partial

Tex = Callable[[Basic], str]


def _same(a: Expr, b: Expr) -> bool:
    return sympy.simplify(sympy.expand(a - b)) == 0


def _verified(report: CheckReport | None, name: str) -> Verified | None:
    """How ``name``'s closed form was checked in the one neuron's ``report``."""
    if report is None:
        return None
    return verified(next((p for p in report.parameters if p.name == name), None), report.tolerance)


# ------------------------------------------------------------------ article 001
@dataclass(frozen=True)
class Instance:
    """One identity for one element: ``lhs = chain = value`` (sympy, canonical symbols)."""

    kind: str  # "weight" (∂C/∂θ = δ ∂z/∂θ) or "recursion" (δ^{(l)} = Σ δ^{(l+1)} ∂z^{(l+1)}/∂z^{(l)})
    layer: int  # derive's layer of the weight, or of the δ on the left
    lhs: Expr
    chain: Expr
    value: Expr


def identity_instances(rec: Record) -> list[Instance]:
    """Both identities at the first element of every weight matrix (output first) and every hidden layer.

    Each value is the chain-rule table's factor times δ, and equals the engine's own form (the δ form of the
    gradient, the recursion); a difference is a bug, raised here rather than printed.
    """
    L, sign = rec.depth, rec.sign
    out = []
    for layer in range(L, 0, -1):
        w, z, delta = sym.W(layer, 1, 1), sym.z(layer, 1), sym.delta(layer, 1)
        local = Partial(z, w)
        inst = Instance("weight", layer, Partial(sym.COST, w), sign * delta * local, sign * delta * rec.factor(local))
        if not _same(inst.value, rec.gradient(f"W{layer}[1,1]").delta_form):
            raise AssertionError(f"the identity for W{layer}[1,1] differs from the engine's δ form")
        out.append(inst)
    for layer in range(L - 1, 0, -1):
        z = sym.z(layer, 1)
        locals_ = [
            (sym.delta(layer + 1, i), Partial(sym.z(layer + 1, i), z)) for i in range(1, rec.size(layer + 1) + 1)
        ]
        chain = sympy.Add(*[d * f for d, f in locals_])
        value = sympy.Add(*[d * rec.factor(f) for d, f in locals_])
        inst = Instance("recursion", layer, sym.delta(layer, 1), chain, value)
        if not _same(value, rec.recursion(layer, (1,)).neurons[0].rhs):
            raise AssertionError(f"the recursion identity for δ^{ ({layer}) }_1 differs from the engine's")
        out.append(inst)
    return out


def identities(rec: Record, tex: Tex) -> Identities:
    """The two layer-level identities for any layer, then each instance for the declared network."""
    cost = tex(sym.COST)
    theta, z_next, z_here = tex(matrix(Kind.W, "l+1")), tex(matrix(Kind.Z, "l+1")), tex(matrix(Kind.Z, "l"))
    d_next, d_here = tex(matrix(Kind.DELTA, "l+1")), tex(matrix(Kind.DELTA, "l"))
    minus = "" if rec.sign > 0 else "-"
    general = [
        Eq(
            rf"\frac{{\partial {cost}}}{{\partial {theta}}}",
            "=",
            rf"{minus}{d_next} \frac{{\partial {z_next}}}{{\partial {theta}}}",
        ),
        Eq(d_here, "=", rf"{d_next} \frac{{\partial {z_next}}}{{\partial {z_here}}}"),
    ]
    a_here = tex(matrix(Kind.A, "l"))
    product = (
        rf"\left({theta}\right)^{{\mathsf T}} {a_here}"
        if rec.network.notation.index_order == "from_to"
        else f"{theta} {a_here}"
    )
    bias = f" + {tex(matrix(Kind.B, 'l+1'))}" if rec.network.bias else ""
    rows: dict[str, list[Eq]] = {"weight": [], "recursion": []}
    for inst in identity_instances(rec):
        lhs, chain, value = tex(inst.lhs), tex(inst.chain), tex(inst.value)
        if width_em(f"{lhs} = {chain} = {value}") <= LINE_EM:
            rows[inst.kind].append(Eq(lhs, "=", f"{chain} = {value}"))
        else:  # too wide for one line (a wide next layer): the value on a row of its own
            rows[inst.kind] += [Eq(lhs, "=", chain), Eq(lhs, "=", value)]
    source = rec.network.notation.weight_layer == "source"
    return Identities(general, rows["weight"], rows["recursion"], source, f"{z_next} = {product}{bias}", theta)


# ------------------------------------------------------------------ article 002
def warmup(net: Network, report: CheckReport | None) -> Warmup:
    """One neuron derived by the engine: forward, cost, the update rule first, the three-factor chain, closed forms.

    ``report`` is the neuron's check (made with the network's, :func:`derive.check.gradients.check`): building a
    document runs no generated code.
    """
    d = Derivation(neuron(net))
    rec = Record(d)
    printer = DeriveLatexPrinter(d.network)
    tex = printer.doprint

    def eq(e: Equation, v: Verified | None = None) -> Eq:
        return Eq(tex(e.lhs), RELATIONS[e.relation], tex(e.rhs), v)

    forward = [eq(e) for pair in rec.forward(1, (1,)).neurons for e in pair]
    eta = sym.LEARNING_RATE
    grads = [None if name is None else rec.gradient(name) for name in _shown(rec.parameters)]
    rules = [
        DOTS if g is None else eq(Equation(g.symbol, g.symbol - eta * Partial(sym.COST, g.symbol), "<-")) for g in grads
    ]
    first = rec.gradient(rec.parameters[0])
    lhs = Partial(sym.COST, first.symbol)
    closed = [
        DOTS if g is None else eq(Equation(Partial(sym.COST, g.symbol), g.closed), _verified(report, g.name))
        for g in grads
    ]
    multiplied = printer.ordered(rec.in_order(first.name).product)  # in the chain's order
    shown = multiplied if multiplied == tex(first.closed) else f"{multiplied} = {tex(first.closed)}"
    product = Eq(tex(lhs), "=", shown, _verified(report, first.name))
    symbols = {
        "y": tex(sym.a(1, 1)),
        "t": tex(sym.y(1)),
        "z": tex(sym.z(1, 1)),
        "w": tex(first.symbol),
        "x": tex(sym.x(1)),
        "eta": tex(eta),
        "cost": tex(sym.COST),
        "closed": tex(first.closed),
    }
    return Warmup(
        d.network.sizes,
        forward,
        Eq(tex(rec.cost.sample.lhs), "=", printer.ordered(rec.cost_in_order)),  # as textbooks write it
        rules,
        eq(Equation(lhs, first.chain)),
        [Factor(tex(f.lhs), tex(f.rhs)) for f in first.factors],
        product,
        closed,
        [DOTS if g is None else eq(g.update) for g in grads],
        symbols,
    )


def _shown(names: list[str]) -> list[str | None]:
    """One neuron's parameters as shown: its weights elided when there are many (None for ⋮), then its bias."""
    weights = [n for n in names if n.startswith("W")]
    return [*shorten(weights), *(n for n in names if not n.startswith("W"))]


def common_factor(rec: Record, tex: Tex, check_of: Callable[[str], Verified | None]) -> CommonFactor | None:
    """The output neuron 1's gradients, their shared factor ∂C/∂z (confirmed to divide each), and δ named for it."""
    L = rec.depth
    names = [n for n in rec.parameters if sym.parse_name(n).layer == L and sym.parse_name(n).i == 1]
    shown = [None if n is None else rec.gradient(n) for n in _shown(names)]
    grads = [g for g in shown if g is not None]
    shared = rec.output_element.wrt_z  # ∂C/∂z^{(L)}_1
    z = sym.z(L, 1)
    for g in grads:
        if not _same(g.closed, shared * rec.factor(Partial(z, g.symbol))):
            raise AssertionError(f"{g.name}'s gradient is not ∂C/∂z^{(L)}_1 times ∂z/∂{g.name}")
    definition = rec.delta_definition
    delta = Eq(tex(definition.lhs), ":=", f"{tex(definition.rhs)} = {tex(rec.sign * shared)}")
    return CommonFactor(
        L,
        [
            DOTS if g is None else Eq(tex(Partial(sym.COST, g.symbol)), "=", tex(g.closed), check_of(g.name))
            for g in shown
        ],
        tex(shared),
        delta,
        [DOTS if g is None else Eq(tex(Partial(sym.COST, g.symbol)), "=", tex(g.delta_form)) for g in shown],
    )
