"""The one table of chain-factor rules (derive.engine.chain) and the typed names of the matrix form.

Every rule is checked against sympy's own differentiation of the network's equations composed by this
test (its own activations, not derive's); a rule broken on purpose must change the engine's chains and
the verifier's verdicts together, since both value a factor by the table; and the matrix form's
vectors and matrices carry their kind and layer as fields that printers read, never as names to parse.
"""

from __future__ import annotations

import pickle
import re

import numpy as np
import pytest
import sympy
from conftest import net
from sympy import MatrixSymbol

import derive
from derive.engine import chain, forms, matrixform
from derive.engine.chain import COST, Element
from derive.engine.forms import Kind, Label, Size, label_of, matrix
from derive.numeric import codeplan, matrixcode
from derive.present import latex as latex_module
from derive.present.latex import latex
from derive.rules import symbols as sym
from derive.rules.functions import Partial
from derive.verify import verify

# The activations written out here, so that sympy differentiates formulas derive did not write.
_OWN = {
    "sigmoid": lambda zs: [1 / (1 + sympy.exp(-z)) for z in zs],
    "tanh": lambda zs: [sympy.tanh(z) for z in zs],
    "identity": lambda zs: list(zs),
    "softmax": lambda zs: [sympy.exp(z) / sympy.Add(*(sympy.exp(u) for u in zs)) for z in zs],
}

NETS = {
    # a softmax hidden layer: ∂a/∂z is a full Jacobian, ∂z/∂z a sum over it
    "softmax-tanh-sigmoid": ((2, 3, 2, 2), ("softmax", "tanh", "sigmoid"), "squared_error"),
    # softmax output with cross-entropy: δ^{(L)} simplifies to a − y when Σ y = 1
    "sigmoid-softmax": ((3, 2, 3), ("sigmoid", "softmax"), "cross_entropy"),
}


def _z(layer: int, units: int, prev: list[sympy.Expr]) -> list[sympy.Expr]:
    """z^{(l)} = W^{(l)} prev + b^{(l)} for a layer of ``units`` neurons, written here."""
    cols = range(1, len(prev) + 1)
    return [sympy.Add(*(sym.W(layer, i, j) * prev[j - 1] for j in cols), sym.b(layer, i)) for i in range(1, units + 1)]


class _Net:
    """One network's equations composed by the test, and a sample point where every symbol has a number."""

    def __init__(self, key: str) -> None:
        sizes, acts, loss = NETS[key]
        self.network = net(sizes, acts, loss)
        self.d = derive.derive(self.network)
        self.sizes, self.acts, self.L = sizes, acts, len(sizes) - 1
        rng = np.random.default_rng(7)
        values: dict[sympy.Symbol, sympy.Expr] = {}
        for symbol in self._inputs():
            values[symbol] = sympy.Float(rng.uniform(-1, 1))
        ys = rng.uniform(0.1, 1, sizes[-1])
        ys = ys / ys.sum()  # targets that sum to 1, as cross-entropy's simplification assumes
        values |= {sym.y(k): sympy.Float(v) for k, v in enumerate(ys, start=1)}
        prev = [values[sym.x(j)] for j in range(1, sizes[0] + 1)]
        for layer in range(1, self.L + 1):
            zs = [z.xreplace(values) for z in _z(layer, sizes[layer], prev)]
            outs = [sympy.N(a) for a in _OWN[acts[layer - 1]](zs)]
            values |= {sym.z(layer, i): zi for i, zi in enumerate(zs, start=1)}
            values |= {sym.a(layer, i): ai for i, ai in enumerate(outs, start=1)}
            prev = outs
        self.values = values

    def _inputs(self) -> list[sympy.Symbol]:
        out = [sym.x(j) for j in range(1, self.sizes[0] + 1)]
        for layer in range(1, self.L + 1):
            out += [
                sym.W(layer, i, j) for i in range(1, self.sizes[layer] + 1) for j in range(1, self.sizes[layer - 1] + 1)
            ]
            out += [sym.b(layer, i) for i in range(1, self.sizes[layer] + 1)]
        return out

    def cost_from(self, layer: int, prev: list[sympy.Expr]) -> sympy.Expr:
        """C written from the outputs ``prev`` of ``layer`` upwards."""
        for above in range(layer + 1, self.L + 1):
            prev = _OWN[self.acts[above - 1]](_z(above, self.sizes[above], prev))
        ys = [sym.y(k) for k in range(1, self.sizes[-1] + 1)]
        return self.network.loss_def.formula(prev, ys)

    def layer(self, kind: str, layer: int) -> list[sympy.Symbol]:
        make = {"a": sym.a, "z": sym.z}[kind]
        return [make(layer, i) for i in range(1, self.sizes[layer] + 1)]

    def number(self, expr: sympy.Expr) -> float:
        return float(sympy.N(sympy.sympify(expr).xreplace(self.values)))


def _sympy_value(n: _Net, f: Element, v: Element) -> sympy.Expr:
    """∂f/∂v by sympy's diff of the equations composed here."""
    target = _symbol(v)
    if f.kind == "C":
        if v.kind in ("W", "b"):
            return sympy.diff(n.cost_from(0, n.layer("a", 0)), target)
        if v.kind == "a":
            return sympy.diff(n.cost_from(v.layer, n.layer("a", v.layer)), target)
        outs = _OWN[n.acts[v.layer - 1]](n.layer("z", v.layer))
        return sympy.diff(n.cost_from(v.layer, outs), target)
    if f.kind == "a":  # a^{(l)}_i as a function of z^{(l)}
        return sympy.diff(_OWN[n.acts[f.layer - 1]](n.layer("z", f.layer))[f.i - 1], target)
    prev = n.layer("a", f.layer - 1)
    if v.kind == "z":  # z^{(l)}_i through a^{(l−1)} = g(z^{(l−1)})
        prev = _OWN[n.acts[v.layer - 1]](n.layer("z", v.layer))
    return sympy.diff(_z(f.layer, n.sizes[f.layer], prev)[f.i - 1], target)


def _symbol(e: Element) -> sympy.Symbol:
    if e.kind == "W":
        return sym.W(e.layer, e.i, e.j)
    return {"a": sym.a, "z": sym.z, "b": sym.b}[e.kind](e.layer, e.i)


def _cases(n: _Net) -> list[tuple[Element, Element]]:
    """Every factor backpropagation writes on the network, zeros included (∂z_1/∂W_{2j}, ∂z_1/∂b_2)."""
    sizes, L = n.sizes, n.L
    out: list[tuple[Element, Element]] = []
    for layer in range(1, L + 1):
        units, below = range(1, sizes[layer] + 1), range(1, sizes[layer - 1] + 1)
        params = [Element("W", layer, r, c) for r in units for c in below] + [Element("b", layer, r) for r in units]
        out += [(COST, p) for p in params]
        out += [(COST, Element("z", layer, i)) for i in units]
        out += [(COST, Element("a", layer, i)) for i in units]
        for i in units:
            f = Element("z", layer, i)
            out += [(f, p) for p in params]
            out += [(f, Element("a", layer - 1, k)) for k in below]
            out += [(Element("a", layer, i), Element("z", layer, k)) for k in units]
            if layer > 1:
                out += [(f, Element("z", layer - 1, k)) for k in below]
    out += [(COST, Element("a", 0, j)) for j in range(1, sizes[0] + 1)]  # ∂C/∂x
    return out


@pytest.mark.parametrize("key", NETS)
def test_every_rule_gives_what_sympy_differentiation_gives(key: str) -> None:
    n = _Net(key)
    covered = set()
    for f, v in _cases(n):
        value = chain.factor(n.d, f, v)
        assert value is not None, (f, v)
        expected = _sympy_value(n, f, v)
        assert n.number(value) == pytest.approx(n.number(expected), rel=1e-9, abs=1e-12), (f, v, value)
        covered.add((f.kind, v.kind))
    assert covered == set(chain.RULES)  # no rule of the table goes untested


def test_in_delta_writes_dC_dz_as_signed_delta_and_keeps_the_rest() -> None:
    d = derive.derive(net((2, 2, 1), ("tanh", "sigmoid"), "squared_error", delta="error"))
    terms = chain.InDelta(d, -1)
    assert chain.factor(terms, COST, Element("z", 1, 2)) == -sym.delta(1, 2)
    assert chain.factor(terms, COST, Element("W", 1, 2, 1)) == -sym.delta(1, 2) * sym.x(1)
    assert chain.factor(terms, COST, Element("a", 2, 1)) == d.dC_da(1)
    expected = -sym.W(2, 1, 2) * sym.delta(2, 1)
    assert chain.factor(terms, COST, Element("a", 1, 2)) == expected


def test_factors_outside_backpropagation_have_no_rule_and_the_identity_is_one() -> None:
    d = derive.derive(net((2, 2, 2, 1), ("sigmoid", "sigmoid", "sigmoid"), "squared_error"))
    assert chain.factor(d, Element("z", 3, 1), Element("W", 1, 1, 1)) is None
    assert chain.factor(d, Element("a", 2, 1), Element("z", 1, 1)) is None
    assert chain.factor(d, Element("z", 2, 1), Element("z", 2, 2)) is None
    assert chain.factor(d, Element("z", 2, 1), Element("z", 2, 1)) == 1
    assert chain.element(sym.x(2)) == Element("a", 0, 2) and chain.element(sym.COST) == COST


def _doubled(rule: chain.Rule) -> chain.Rule:
    def broken(t: chain.Terms, f: Element, v: Element) -> sympy.Expr | None:
        value = rule(t, f, v)
        return None if value is None else 2 * value

    return broken


W212 = r"\frac{\partial C}{\partial W^{(2)}_{12}} = "


def test_a_broken_rule_changes_the_engine_and_the_verifier_alike(monkeypatch: pytest.MonkeyPatch) -> None:
    network = net((2, 2, 1), ("sigmoid", "sigmoid"), "squared_error")
    right, twice = W212 + r"\delta^{(2)}_1 a^{(1)}_2", W212 + r"2 \delta^{(2)}_1 a^{(1)}_2"
    written = W212 + r"\delta^{(2)}_1 \frac{\partial z^{(2)}_1}{\partial W^{(2)}_{12}}"
    d = derive.derive(network)
    factor = Partial(sym.z(2, 1), sym.W(2, 1, 2))
    assert d.factor_value(factor) == sym.a(1, 2)
    assert verify(d, None, right) and not verify(d, None, twice) and verify(d, None, written)
    closed = d.gradient("W2[1,2]", "closed")

    monkeypatch.setitem(chain.RULES, ("z", "W"), _doubled(chain.RULES[("z", "W")]))
    broken = derive.derive(network)
    assert broken.factor_value(factor) == 2 * sym.a(1, 2)
    chain_factors = {eq.lhs: eq.rhs for eq in broken.parameter("W2[1,2]").factors}
    assert chain_factors[factor] == 2 * sym.a(1, 2)
    assert sympy.expand(broken.gradient("W2[1,2]", "closed") - 2 * closed) == 0
    # The verifier reads ∂C/∂W through the same rule: the right formula is now "wrong", the doubled "right",
    # and a formula written with the factor ∂z/∂W agrees either way, both sides valued by the one table.
    assert not verify(broken, None, right) and verify(broken, None, twice) and verify(broken, None, written)


def test_a_broken_jacobian_rule_changes_the_engine_chain_and_the_reader_factor(monkeypatch: pytest.MonkeyPatch) -> None:
    network = net((2, 2, 1), ("tanh", "sigmoid"), "squared_error")
    formula = r"\delta^{(1)}_2 = \frac{\partial a^{(1)}_2}{\partial z^{(1)}_2} W^{(2)}_{12} \delta^{(2)}_1"
    factor = Partial(sym.a(1, 2), sym.z(1, 2))
    assert verify(derive.derive(network), None, formula)

    monkeypatch.setitem(chain.RULES, ("a", "z"), _doubled(chain.RULES[("a", "z")]))
    broken = derive.derive(network)
    chain_factors = {eq.lhs: eq.rhs for eq in broken.parameter("W1[2,1]").factors}
    assert chain_factors[factor] == 2 * (1 - sym.a(1, 2) ** 2)
    verdict = verify(broken, None, formula)  # δ itself comes from the recursion; the written factor doubled
    assert not verdict and "factor_two" in verdict.codes


# ------------------------------------------------------------------ typed names
def _all_matrix_equations(d: derive.Derivation) -> list[sympy.Basic]:
    sides = []
    eqs = [*matrixform.output_delta(d), *matrixform.general(d), *matrixform.general_index(d)]
    for layer in range(1, d.L + 1):
        eqs += [*matrixform.forward(d, layer), *matrixform.gradients(d, layer), *matrixform.update(d, layer)]
        eqs += matrixform.activation_derivative(d, layer)
        if layer < d.L:
            eqs += matrixform.recursion(d, layer)
    for eq in eqs:
        sides += [eq.lhs, eq.rhs]
    return sides


@pytest.mark.parametrize("key", NETS)
def test_every_matrix_form_name_carries_its_kind_and_layer(key: str) -> None:
    d = _Net(key).d
    seen: set[tuple[Kind, object]] = set()
    for side in _all_matrix_equations(d):
        for m in side.atoms(MatrixSymbol) | side.atoms(sympy.Indexed):
            label = label_of(m)
            assert isinstance(label, Label), m
            assert (label.layer is None) == (label.kind in (Kind.X, Kind.Y))
            assert isinstance(label.layer, int | str | type(None))
            assert Label(label.kind, label.layer) == label
            seen.add((label.kind, label.layer))
        for s in side.atoms(sympy.Symbol):
            if isinstance(s, Size):
                assert isinstance(s.layer, str)  # sizes are symbolic only for a symbolic layer
    assert {kind for kind, _ in seen} >= {Kind.X, Kind.W, Kind.Z, Kind.DELTA, Kind.DC_DW, Kind.NABLA_C, Kind.G_PRIME}
    assert (Kind.DELTA, "l+1") in seen and (Kind.W, 1) in seen


def test_labels_and_sizes_keep_their_fields_through_pickle_and_sympy_rebuilds() -> None:
    m = matrix(Kind.DC_DW, "l", Size("l"), Size("l-1"))
    for copy in (pickle.loads(pickle.dumps(m)), m.doit(), m.xreplace({Size("l"): 3})):
        assert label_of(copy).kind is Kind.DC_DW and label_of(copy).layer == "l"
    size = pickle.loads(pickle.dumps(Size("l+1")))
    assert size.layer == "l+1" and size.is_positive and size.is_integer


def test_printers_read_fields_not_names() -> None:
    n = net((2, 3, 2), ("tanh", "sigmoid"), "squared_error", weight="theta")
    # a plain MatrixSymbol that only looks like the matrix form's is not read back as one
    assert latex(MatrixSymbol("W(2)", 1, 1), n) == "W(2)"
    assert latex(matrix(Kind.W, 2), n) == r"\theta^{(2)}"
    assert latex(matrix(Kind.DC_DB, "l"), n) == r"\frac{\partial C}{\partial b^{(l)}}"
    assert latex(matrix(Kind.G_PRIME, 1), n) == r"\tanh'(z^{(1)})"
    assert latex(matrix(Kind.JACOBIAN, 2), n) == r"\frac{\partial a^{(2)}}{\partial z^{(2)}}"
    assert latex(forms.indexed(Kind.DELTA, "l+1", sympy.Symbol("k")), n) == r"\delta^{(l+1)}_{k}"
    assert latex(Size("l+1"), n) == "n^{(l+1)}"
    assert latex(sympy.Symbol("n(l+1)"), n) != "n^{(l+1)}"
    for module in (matrixform, latex_module, codeplan, matrixcode, forms):
        patterns = [v for v in vars(module).values() if isinstance(v, re.Pattern)]
        assert patterns == [], module.__name__
    assert not hasattr(matrixform, "NAME")
