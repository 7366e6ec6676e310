"""The derivation's record: its equations hold, its parts cost only what they show, and rendering reads it.

The reference values here are computed by the test itself: the network is
composed with plain sympy (exp, tanh, log) and differentiated by sympy, never
through derive's engine.
"""

from __future__ import annotations

import builtins
import dataclasses
from pathlib import Path

import numpy as np
import pytest
import sympy
from conftest import EXAMPLES, net

import derive
from derive.check.gradients import check, finite_difference_errors
from derive.cli import main
from derive.engine import derivation
from derive.engine.record import Record
from derive.model.notation import Notation
from derive.numeric import codegen, codeplan, lambdified
from derive.present import document, render
from derive.rules import symbols as sym
from derive.rules.functions import Partial

DIGITS = 30
ACTIVATIONS = {
    "sigmoid": lambda zs: [1 / (1 + sympy.exp(-z)) for z in zs],
    "tanh": lambda zs: [sympy.tanh(z) for z in zs],
    "identity": lambda zs: list(zs),
    "softmax": lambda zs: [sympy.exp(z) / sum(sympy.exp(w) for w in zs) for z in zs],
}
LOSSES = {
    "squared_error": lambda a, y: sum((yk - ak) ** 2 for ak, yk in zip(a, y, strict=True)) / 2,
    "cross_entropy": lambda a, y: -sum(yk * sympy.log(ak) for ak, yk in zip(a, y, strict=True)),
}
NETWORKS = {
    "sigmoid-squared": net((2, 2, 1), ("sigmoid", "sigmoid"), "squared_error"),
    "tanh-softmax-error-from-to": net(
        (2, 3, 2), ("tanh", "softmax"), "cross_entropy", delta="error", index_order="from_to"
    ),
    "deep-no-bias": net((2, 2, 2, 1), ("tanh", "sigmoid", "identity"), "squared_error", bias=False, delta="error"),
}


def _cost_from(network, layer: int):
    """C composed from the weighted sums z of ``layer`` (layer 0: from the inputs x), in plain sympy."""
    sizes = network.sizes
    if layer == 0:
        outs = [sym.x(j) for j in range(1, sizes[0] + 1)]
    else:
        outs = ACTIVATIONS[network.activation(layer).name]([sym.z(layer, i) for i in range(1, sizes[layer] + 1)])
    for above in range(layer + 1, network.depth + 1):
        zs = []
        for i in range(1, sizes[above] + 1):
            total = sum(sym.W(above, i, j) * outs[j - 1] for j in range(1, sizes[above - 1] + 1))
            zs.append(total + sym.b(above, i) if network.bias else total)
        outs = ACTIVATIONS[network.activation(above).name](zs)
    return LOSSES[network.loss](outs, [sym.y(k) for k in range(1, network.outputs + 1)])


def _point(network, seed: int):
    """Random parameters, x and y (summing to 1), and every z and a at them (by the test), to 40 digits."""
    rng = np.random.default_rng(seed)

    def number(value: float) -> sympy.Float:
        return sympy.Float(sympy.Rational(round(value * 1000), 1000), 40)

    values = {}
    for name, shape in network.shapes().items():
        for index in np.ndindex(*shape):
            values[sym.parameter_symbol(int(name[1:]), *(k + 1 for k in index))] = number(rng.uniform(-1, 1))
    for j in range(1, network.inputs + 1):
        values[sym.x(j)] = number(rng.uniform(-1, 1))
    ys = [number(v) for v in rng.dirichlet(np.ones(network.outputs))[:-1]]
    for k, v in enumerate([*ys, 1 - sum(ys)], start=1):
        values[sym.y(k)] = sympy.Float(v, 40)
    outs = [values[sym.x(j)] for j in range(1, network.inputs + 1)]
    for layer in range(1, network.depth + 1):
        zs = []
        for i in range(1, network.sizes[layer] + 1):
            total = sum(values[sym.W(layer, i, j)] * outs[j - 1] for j in range(1, len(outs) + 1))
            zs.append(total + values[sym.b(layer, i)] if network.bias else total)
        outs = ACTIVATIONS[network.activation(layer).name](zs)
        for i, (z, a) in enumerate(zip(zs, outs, strict=True), start=1):
            values[sym.z(layer, i)], values[sym.a(layer, i)] = z, a
    return values


def _value(expr, values) -> sympy.Float:
    return sympy.N(sympy.sympify(expr).xreplace(values), DIGITS)


def _same(left, right) -> bool:
    return abs(left - right) <= sympy.Float(10) ** (-(DIGITS - 8)) * max(1, abs(right))


@pytest.fixture(params=list(NETWORKS), scope="module")
def case(request):
    network = NETWORKS[request.param]
    return network, Record(derive.derive(network)), [_point(network, seed) for seed in (1, 2)]


def test_closed_forms_and_chains_equal_sympys_derivative_of_the_composed_cost(case):
    network, rec, points = case
    cost = _cost_from(network, 0)
    assert set(rec.parameters) == {
        sym.parameter_name(int(n[1:]), *(k + 1 for k in index))
        for n, shape in network.shapes().items()
        for index in np.ndindex(*shape)
    }
    for name in rec.parameters:
        g = rec.gradient(name)
        direct = sympy.diff(cost, g.symbol)
        for values in points:
            expected = _value(direct, values)
            assert _same(_value(g.closed, values), expected), name
            assert _same(_value(g.chain_value, values), expected), name
            factors = {f.lhs: f.rhs for f in g.factors}
            assert set(factors) == {p for p in sympy.preorder_traversal(g.chain) if isinstance(p, Partial)}
            assert _same(_value(g.chain.xreplace(factors), values), expected), name


def test_delta_equations_equal_sympys_derivative_in_z(case):
    """δ^{(l)} = ±∂C/∂z^{(l)}: the output δ's forms, and each recursion with the layer above's δ filled in."""
    network, rec, points = case
    L, sign = network.depth, network.notation.delta_sign
    for values in points:
        dz = {
            (layer, i): _value(sympy.diff(_cost_from(network, layer), sym.z(layer, i)), values)
            for layer in range(1, L + 1)
            for i in range(1, network.sizes[layer] + 1)
        }
        for i, eqs in enumerate(rec.output_delta().neurons, start=1):
            assert eqs[0].lhs == sym.delta(L, i)
            for eq in eqs[1:]:  # the first is the chain of ∂ factors
                assert _same(_value(eq.rhs, values), sign * dz[(L, i)])
        for layer in range(L - 1, 0, -1):
            above = {sym.delta(layer + 1, k): sign * dz[(layer + 1, k)] for k in range(1, network.sizes[layer + 1] + 1)}
            part = rec.recursion(layer)
            for i, eq in enumerate(part.neurons, start=1):
                assert eq.lhs == sym.delta(layer, i)
                assert _same(_value(eq.rhs.xreplace(above), values), sign * dz[(layer, i)])
            link, local = part.factors
            assert link.rhs == sym.W(layer + 1, 1, 1)
            a_of_z = ACTIVATIONS[network.activation(layer).name](
                [sym.z(layer, i) for i in range(1, network.sizes[layer] + 1)]
            )[0]
            assert _same(_value(local.rhs, values), _value(sympy.diff(a_of_z, sym.z(layer, 1)), values))


def test_forward_equations_are_the_weighted_sums(case):
    network, rec, points = case
    for layer in range(1, network.depth + 1):
        part = rec.forward(layer)
        assert len(part.neurons) == network.sizes[layer]
        for i, (z_eq, a_eq) in enumerate(part.neurons, start=1):
            total = sum(sym.W(layer, i, j) * sym.a(layer - 1, j) for j in range(1, network.sizes[layer - 1] + 1))
            assert z_eq.lhs == sym.z(layer, i) and a_eq.lhs == sym.a(layer, i)
            assert sympy.expand(z_eq.rhs - (total + sym.b(layer, i) if network.bias else total)) == 0
            for values in points:
                assert _same(_value(a_eq.rhs, values), values[sym.a(layer, i)])


def test_sample_numbers_are_the_composed_costs(case):
    network, rec, points = case
    values = points[0]
    params = {
        name: np.array(
            [
                float(values[sym.parameter_symbol(int(name[1:]), *(k + 1 for k in index))])
                for index in np.ndindex(*shape)
            ]
        ).reshape(shape)
        for name, shape in network.shapes().items()
    }
    x = np.array([float(values[sym.x(j)]) for j in range(1, network.inputs + 1)])
    y = np.array([float(values[sym.y(k)]) for k in range(1, network.outputs + 1)])
    sample = rec.at(params, x, y)
    cost = _cost_from(network, 0)
    assert sample.cost == pytest.approx(float(_value(cost, values)), rel=1e-12)
    for name in rec.parameters:
        info = sym.parse_name(name)
        index = (info.i - 1,) if info.j is None else (info.i - 1, info.j - 1)
        expected = float(_value(sympy.diff(cost, sym.parameter_symbol(info.layer, info.i, info.j)), values))
        assert sample.gradients[f"{info.kind}{info.layer}"][index] == pytest.approx(expected, rel=1e-9, abs=1e-12)
    sign = network.notation.delta_sign
    for layer in range(1, network.depth + 1):
        for i in range(1, network.sizes[layer] + 1):
            expected = sign * float(_value(sympy.diff(_cost_from(network, layer), sym.z(layer, i)), values))
            assert sample.deltas[layer][i - 1] == pytest.approx(expected, rel=1e-9, abs=1e-12)
        z, a = sample.forward[layer - 1]
        assert a == pytest.approx([float(values[sym.a(layer, i)]) for i in range(1, network.sizes[layer] + 1)])


def test_own_matrix_form_is_the_default_notations_whatever_the_notation():
    """Generated code reads δ = ∂C/∂z and W by rows from the same derivation that a document in δ = −∂C/∂z reads."""
    network = NETWORKS["tanh-softmax-error-from-to"]
    own = Record(derive.derive(network)).own_matrix
    default = Record(derive.derive(dataclasses.replace(network, notation=Notation()))).matrix
    assert own == default
    assert Record(derive.derive(network)).matrix != own  # the notation's own form differs in sign and orientation


def test_plan_from_a_derivation_is_the_plan_from_its_network():
    for network in NETWORKS.values():
        from_derivation = codeplan.plan(derive.derive(network))
        from_network = codeplan.plan(dataclasses.replace(network, notation=Notation()))
        assert dataclasses.replace(from_derivation, network=None) == dataclasses.replace(from_network, network=None)
        assert codegen.module_source(from_derivation) == codegen.module_source(from_network)


def test_a_part_of_a_wide_network_derives_only_what_it_shows(monkeypatch):
    network = net((40, 40, 40, 3), ("sigmoid", "tanh", "softmax"), "cross_entropy")
    built: list[tuple] = []
    real_parameter = derivation.Derivation._build_parameter
    real_forward = derivation.Derivation.forward_neuron

    def parameter(self, *args):
        built.append(("parameter", *args))
        return real_parameter(self, *args)

    def forward(self, *args):
        built.append(("forward", *args))
        return real_forward(self, *args)

    monkeypatch.setattr(derivation.Derivation, "_build_parameter", parameter)
    monkeypatch.setattr(derivation.Derivation, "forward_neuron", forward)
    rec = Record(derive.derive(network))
    assert len(rec.parameters) == network.parameter_count() == 40 * 41 * 2 + 3 * 41
    part = rec.forward(2, (1, 40))
    assert [eq.lhs for pair in part.neurons for eq in pair] == [sym.z(2, 1), sym.a(2, 1), sym.z(2, 40), sym.a(2, 40)]
    grads = rec.gradients(2, ["W2[1,1]", "b2[1]", "W1[1,1]"])
    assert [g.name for g in grads.parameters] == ["W2[1,1]", "b2[1]"]
    assert built == [("forward", 2, 1), ("forward", 2, 40), ("parameter", 2, 1, 1), ("parameter", 2, 1, None)]


def test_a_large_document_derives_only_the_parameters_it_shows(monkeypatch):
    network = net((6, 7, 5, 2), ("sigmoid", "tanh", "identity"), "squared_error")
    d = derive.derive(network)
    report = check(d, points=1, symbolic=False, use_torch=False)
    built = []
    real = derivation.Derivation._build_parameter
    monkeypatch.setattr(
        derivation.Derivation, "_build_parameter", lambda self, *args: built.append(args) or real(self, *args)
    )
    doc = document.build(d, report)
    assert network.parameter_count() > document.PARAMETERS_SHOWN
    assert sorted(built, key=str) == sorted(
        [(layer, 1, 1) for layer in (1, 2, 3)] + [(layer, 1, None) for layer in (1, 2, 3)], key=str
    )
    assert [len(grads) for _, grads, _, _ in doc.gradients] == [2, 2, 2]


@pytest.fixture
def derivations_made(monkeypatch):
    """A list that grows by one for every Derivation constructed (the api's subclass included)."""
    made: list[object] = []
    real = derivation.Derivation.__init__

    def counting(self, network):
        made.append(network)
        real(self, network)

    monkeypatch.setattr(derivation.Derivation, "__init__", counting)
    return made


def test_rendering_makes_one_derivation(derivations_made, tmp_path: Path):
    spec = EXAMPLES[-1]  # seed004: the error-term notation, written from-to, and a worked example
    assert (
        main(["render", str(spec), "-o", str(tmp_path), "--format", "md,tex,html", "--lang", "en,zh", "--quiet"]) == 0
    )
    assert len(derivations_made) == 1
    derivations_made.clear()
    derive.derive(derive.load(spec)).render("md")
    assert len(derivations_made) == 1


def test_numeric_code_makes_one_derivation(derivations_made):
    network = derive.load(EXAMPLES[-1])
    derive.derive(network).lambdify()
    assert len(derivations_made) == 1
    codegen.module_source(network)
    assert len(derivations_made) == 2


@pytest.fixture
def generated_code_forbidden(monkeypatch):
    """Compiling derive's generated module, or making its functions, fails from here on."""
    real_compile = builtins.compile

    def guarded(source, filename, *args, **kwargs):
        if str(filename).startswith("<derive: generated"):
            raise AssertionError(f"generated code compiled: {filename}")
        return real_compile(source, filename, *args, **kwargs)

    def refused(*args, **kwargs):
        raise AssertionError("generated code made while rendering")

    monkeypatch.setattr(builtins, "compile", guarded)
    monkeypatch.setattr(lambdified.NumericFunctions, "__init__", refused)
    monkeypatch.setattr(codeplan, "plan", refused)


@pytest.fixture(scope="module")
def checked():
    """Every example's derivation and its check report (which runs the generated code: that is the check)."""
    out = {}
    for spec in EXAMPLES:
        d = derive.derive(derive.load(spec))
        out[spec.stem] = (d, check(d, use_torch=False))
    return out


def test_rendering_runs_no_generated_code(checked, generated_code_forbidden):
    for name, (d, report) in checked.items():
        doc = document.build(d, report)
        for fmt in render.FORMATS:
            for lang in render.LANGS:
                text = render.render_document(doc, fmt, lang)
                assert text == (Path(__file__).parent.parent / "output" / render.file_name(name, fmt, lang)).read_text(
                    encoding="utf-8"
                )


def test_the_example_check_is_the_reports(checked):
    """The worked example's finite differences come from the check, at the example's own numbers."""
    for d, report in checked.values():
        ex = d.network.example
        if ex is None:
            assert report.example_fd_error is None
            continue
        errors = finite_difference_errors(d, ex.params, ex.x, ex.y)
        assert report.example_fd_error == max(errors.values())
        assert 0 <= report.example_fd_error <= report.tolerance
        assert document.build(d, report).example_check == report.example_fd_error


def test_a_render_compiles_the_generated_module_once_for_its_check(monkeypatch):
    made = []
    real = lambdified.NumericFunctions.__init__

    def counting(self, source):
        made.append(source)
        real(self, source)

    monkeypatch.setattr(lambdified.NumericFunctions, "__init__", counting)
    d = derive.derive(derive.load(EXAMPLES[-1]))
    d.render("md")
    assert made == [d]
