"""The derivation's content: forward pass, δ, chains, simplifications, matrix form."""

from __future__ import annotations

import numpy as np
import pytest
import sympy
from conftest import net
from sympy import Rational, S

import derive
from derive.check.gradients import _locate
from derive.engine import matrixform
from derive.engine.algebra import is_zero
from derive.engine.forms import Kind, Size, matrix
from derive.engine.steps import Equation
from derive.model import samples
from derive.rules import symbols as sym
from derive.rules.functions import Partial, sigmoid, step


def test_forward_neuron_is_the_weighted_sum_then_activation():
    d = derive.derive(net((2, 3, 1), ("tanh", "sigmoid"), "squared_error"))
    z_eq, a_eq = d.forward_neuron(1, 2)
    assert z_eq.lhs == sym.z(1, 2)
    assert z_eq.rhs == sym.W(1, 2, 1) * sym.x(1) + sym.W(1, 2, 2) * sym.x(2) + sym.b(1, 2)
    assert a_eq.rhs == sympy.tanh(sym.z(1, 2))
    z_eq, a_eq = d.forward_neuron(2, 1)
    assert z_eq.rhs == sum(sym.W(2, 1, j) * sym.a(1, j) for j in (1, 2, 3)) + sym.b(2, 1)
    assert a_eq.rhs == sigmoid(sym.z(2, 1))


def test_softmax_forward_is_normalised_exponentials():
    d = derive.derive(net((2, 3), ("softmax",), "cross_entropy", bias=False))
    _, a_eq = d.forward_neuron(1, 2)
    zs = [sym.z(1, k) for k in (1, 2, 3)]
    assert a_eq.rhs == sympy.exp(zs[1]) / sum(sympy.exp(v) for v in zs)
    assert d.forward_neuron(1, 1)[0].rhs == sym.W(1, 1, 1) * sym.x(1) + sym.W(1, 1, 2) * sym.x(2)


def test_cost_per_sample_and_batch():
    d = derive.derive(net((1, 2), ("identity",), "mse"))
    a1, a2, y1, y2 = sym.a(1, 1), sym.a(1, 2), sym.y(1), sym.y(2)
    assert (d.cost() - ((y1 - a1) ** 2 + (y2 - a2) ** 2) / 2).expand() == 0
    batch = d.cost_steps()[1].equations[0].rhs
    m = sympy.Symbol("m", positive=True, integer=True)
    assert batch.has(sympy.Sum) and batch.has(m)


def test_softmax_with_cross_entropy_gives_exactly_a_minus_y():
    d = derive.derive(net((3, 4, 2), ("relu", "softmax"), "cross_entropy"))
    for i in (1, 2):
        assert d.dC_dz(2, i) == sym.a(2, i) - sym.y(i)
    # The unsimplified chain is a − y only when the targets sum to one.
    raw = d.output_dC_dz_unsimplified(1)
    assert sympy.expand(raw - (sym.a(2, 1) - sym.y(1))) != 0
    assert is_zero(raw - (sym.a(2, 1) - sym.y(1)), d)
    step_ = [s for s in d.simplifications() if s.kind == "simplify.softmax_cross_entropy"][0]
    assert step_.condition.lhs == sym.y(1) + sym.y(2) and step_.condition.rhs == 1


def test_sigmoid_with_binary_cross_entropy_gives_a_minus_y():
    d = derive.derive(net((2, 2, 2), ("sigmoid", "sigmoid"), "binary_cross_entropy"))
    assert d.dC_dz(2, 2) == sym.a(2, 2) - sym.y(2)
    raw = d.output_dC_dz_unsimplified(2)
    assert sympy.cancel(raw - (sym.a(2, 2) - sym.y(2))) == 0


def test_sigmoid_layers_show_a_one_minus_a():
    d = derive.derive(net((2, 2, 1), ("sigmoid", "sigmoid"), "squared_error"))
    a1, a2 = sym.a(1, 1), sym.a(2, 1)
    g = d.parameter("W1[1,2]")
    expected = (a2 - sym.y(1)) * a2 * (1 - a2) * sym.W(2, 1, 1) * a1 * (1 - a1) * sym.x(2)
    assert g.closed == expected
    assert d.jacobian_entry(1, 1, 1) == a1 * (1 - a1)
    simp = [s for s in d.simplifications() if s.kind == "simplify.sigmoid"][0]
    a = sympy.Symbol("a", real=True)
    assert simp.equations[-1].rhs == a * (1 - a)


@pytest.mark.parametrize(
    ("act", "expected"),
    [("tanh", lambda a, z: 1 - a**2), ("relu", lambda a, z: step(z)), ("identity", lambda a, z: S.One)],
)
def test_other_activation_derivatives(act, expected):
    d = derive.derive(net((1, 2, 1), (act, "identity"), "squared_error"))
    assert d.jacobian_entry(1, 2, 2) == expected(sym.a(1, 2), sym.z(1, 2))
    assert d.jacobian_entry(1, 2, 1) == 0


def test_mse_brings_two_over_n():
    d = derive.derive(net((1, 3), ("identity",), "mse"))
    assert d.dC_dz(1, 2) == Rational(2, 3) * (sym.a(1, 2) - sym.y(2))


def test_leaky_relu_slope_is_exact():
    layers = (derive.Layer(2, "leaky_relu", 0.2), derive.Layer(1, "identity"))
    d = derive.derive(derive.Network(1, layers, "squared_error"))
    deriv = d.jacobian_entry(1, 1, 1)
    assert deriv.args[1] == Rational(1, 5)
    assert deriv.xreplace({sym.z(1, 1): sympy.Float(-1.0)}) == Rational(1, 5)
    assert deriv.xreplace({sym.z(1, 1): sympy.Float(1.0)}) == 1


def test_chain_for_the_input_layer_weight_is_longer_and_ordered():
    """Article 000: two paths through the outputs e and f, in chain order."""
    d = derive.derive(net((2, 2, 2), ("sigmoid", "sigmoid"), "squared_error"))
    out = d.parameter("W2[1,1]").chain
    assert out == Partial(sym.COST, sym.a(2, 1)) * Partial(sym.a(2, 1), sym.z(2, 1)) * Partial(
        sym.z(2, 1), sym.W(2, 1, 1)
    )
    chain = d.parameter("W1[1,1]").chain
    paths, *tail = chain.args
    assert isinstance(paths, sympy.Add) and len(paths.args) == 2
    assert tail == [Partial(sym.a(1, 1), sym.z(1, 1)), Partial(sym.z(1, 1), sym.W(1, 1, 1))]
    for path in paths.args:
        factors = path.args
        assert factors[0].args[0] == sym.COST and factors[-1].args == (factors[-1].args[0], sym.a(1, 1))
    g = d.parameter("W1[1,1]")
    assert sympy.expand(g.chain_value - g.closed) == 0
    values = {f.lhs: f.rhs for f in g.factors}
    assert values[Partial(sym.z(2, 2), sym.a(1, 1))] == sym.W(2, 2, 1)
    assert values[Partial(sym.z(1, 1), sym.W(1, 1, 1))] == sym.x(1)


def test_chain_stops_at_the_next_delta_for_wide_networks():
    d = derive.derive(net((2, 20, 20, 2), ("tanh", "tanh", "sigmoid"), "squared_error"))
    chain = d.parameter("W1[3,1]").chain
    assert chain.has(Partial(sym.COST, sym.z(2, 7)))
    assert not chain.has(Partial(sym.COST, sym.a(3, 1)))


def test_delta_recursion_scalar_form():
    d = derive.derive(net((2, 3, 2), ("tanh", "sigmoid"), "squared_error"))
    eq = d.delta_recursion(1, 3)
    a = sym.a(1, 3)
    assert eq.rhs == (sym.W(2, 1, 3) * sym.delta(2, 1) + sym.W(2, 2, 3) * sym.delta(2, 2)) * (1 - a**2)
    assert d.delta_definition(1, 3).rhs == Partial(sym.COST, sym.z(1, 3))


def test_softmax_hidden_layer_uses_the_full_jacobian():
    d = derive.derive(net((2, 2, 1), ("softmax", "identity"), "squared_error"))
    eq = d.delta_recursion(1, 1)
    a1, a2 = sym.a(1, 1), sym.a(1, 2)
    w, dl = sym.W(2, 1, 1), sym.delta(2, 1)
    w2 = sym.W(2, 1, 2)
    assert sympy.expand(eq.rhs - (a1 * (1 - a1) * w * dl - a2 * a1 * w2 * dl)) == 0
    rec = matrixform.recursion(d, 1)
    assert any(isinstance(e.lhs, sympy.MatrixSymbol) and e.lhs.name == "J(1)" for e in rec)


NETS = [
    ((2, 2, 2), ("sigmoid", "sigmoid"), "squared_error", True, {}),
    ((3, 4, 2), ("relu", "softmax"), "cross_entropy", True, {}),
    ((3, 2, 1), ("sigmoid", "sigmoid"), "squared_error", False, {"index_order": "from_to", "delta": "error"}),
    ((2, 3, 2, 2), ("softmax", "tanh", "softmax"), "mse", True, {}),
    ((2, 2, 2), ("tanh", "sigmoid"), "binary_cross_entropy", True, {"weight": "theta"}),
]


@pytest.mark.parametrize("spec", NETS, ids=lambda s: "-".join(map(str, s[0])) + "-" + s[2])
def test_every_concrete_matrix_equation_holds_entry_by_entry(spec):
    sizes, acts, loss, bias, notation = spec
    d = derive.derive(net(sizes, acts, loss, bias, **notation))
    eqs = list(matrixform.output_delta(d))
    for layer in range(1, d.L + 1):
        eqs += matrixform.forward(d, layer)[:1]
        eqs += matrixform.gradients(d, layer) + matrixform.activation_derivative(d, layer)
        if layer < d.L:
            eqs += matrixform.recursion(d, layer)
    checked = [eq for eq in eqs if eq.relation == "="]
    assert len(checked) >= 2 * d.L
    for eq in checked:
        assert matrixform.holds(eq, d), eq


def test_matrix_check_detects_a_wrong_equation():
    d = derive.derive(net((2, 3, 2), ("sigmoid", "sigmoid"), "squared_error"))
    right = matrixform.recursion(d, 1)[0]
    wrong = Equation(
        right.lhs,
        sympy.HadamardProduct(
            matrixform.weight(2, d, False).T * matrixform.vec(Kind.DELTA, 2, d),
            sympy.OneMatrix(3, 1),
        ),
    )
    assert matrixform.holds(right, d)
    assert not matrixform.holds(wrong, d)


def test_from_to_notation_transposes_the_written_matrices_only():
    base = net((3, 2, 1), ("sigmoid", "sigmoid"), "squared_error", False)
    other = net((3, 2, 1), ("sigmoid", "sigmoid"), "squared_error", False, index_order="from_to", weight="theta")
    d1, d2 = derive.derive(base), derive.derive(other)
    for name in d1.parameters():
        assert d1.gradient(name, "closed") == d2.gradient(name, "closed")
    z = matrixform.forward(d2, 1)[0].rhs
    assert isinstance(z.args[0], sympy.Transpose) or any(isinstance(a, sympy.Transpose) for a in z.args)
    grad = matrixform.gradients(d2, 1)[0]
    assert grad.lhs.shape == (3, 2)


def test_error_convention_flips_delta_but_not_the_gradient():
    plain = derive.derive(net((2, 2, 1), ("sigmoid", "sigmoid"), "squared_error"))
    error = derive.derive(net((2, 2, 1), ("sigmoid", "sigmoid"), "squared_error", delta="error"))
    assert error.delta_closed(1, 2) == -plain.delta_closed(1, 2)
    assert error.gradient("W1[2,1]", "closed") == plain.gradient("W1[2,1]", "closed")
    assert error.delta_definition(2, 1).rhs == -Partial(sym.COST, sym.z(2, 1))


def test_parameters_are_listed_in_order_and_without_biases_when_off():
    d = derive.derive(net((2, 2, 1), ("sigmoid", "sigmoid"), "squared_error"))
    assert d.parameters() == [
        "W1[1,1]",
        "W1[1,2]",
        "W1[2,1]",
        "W1[2,2]",
        "b1[1]",
        "b1[2]",
        "W2[1,1]",
        "W2[1,2]",
        "b2[1]",
    ]
    d = derive.derive(net((2, 2, 1), ("sigmoid", "sigmoid"), "squared_error", bias=False))
    assert len(d.parameters()) == 6 and not any(p.startswith("b") for p in d.parameters())


def test_gradient_forms():
    d = derive.derive(net((1, 1), ("sigmoid",), "squared_error"))
    w, b, x, y = sym.W(1, 1, 1), sym.b(1, 1), sym.x(1), sym.y(1)
    s = sigmoid(w * x + b)
    assert d.gradient("W1[1,1]", "expanded") == (s - y) * s * (1 - s) * x
    assert d.gradient("W1[1,1]") == d.gradient("W1[1, 1]", "expanded")
    assert d.gradient("W1[1,1]", "delta") == sym.delta(1, 1) * x
    assert d.gradient("b1[1]", "closed") == (sym.a(1, 1) - y) * sym.a(1, 1) * (1 - sym.a(1, 1))


def test_evaluate_matches_finite_differences_and_checks_shapes():
    n = net((3, 4, 2), ("tanh", "softmax"), "cross_entropy")
    d = derive.derive(n)
    rng = np.random.default_rng(5)
    params, x, y = samples.random_point(n, rng)
    h = 1e-6
    for name in ("W1[2,3]", "b1[4]", "W2[2,1]"):
        array, index = _locate(name)
        up = {k: v.copy() for k, v in params.items()}
        up[array][index] += h
        down = {k: v.copy() for k, v in params.items()}
        down[array][index] -= h
        fd = (samples.cost(n, up, x, y) - samples.cost(n, down, x, y)) / (2 * h)
        assert d.evaluate(name, params, x, y) == pytest.approx(fd, abs=1e-8)
    bad = dict(params, W1=params["W1"].T)
    with pytest.raises(derive.DeriveError, match=r"W1 has shape \(3, 4\), expected \(4, 3\)"):
        d.evaluate("W1[1,1]", bad, x, y)
    with pytest.raises(derive.DeriveError, match="sum to 1"):
        d.evaluate("W1[1,1]", params, x, np.array([1.0, 1.0]))


def test_general_form_has_the_four_equations():
    d = derive.derive(net((2, 2, 2), ("sigmoid", "sigmoid"), "squared_error"))
    eqs = matrixform.general(d)
    names = [str(e.lhs.name) if isinstance(e.lhs, sympy.MatrixSymbol) else str(e.lhs) for e in eqs]
    assert names == ["delta(L)", "delta(l)", "dC/db(l)", "dC/dW(l)"]
    assert eqs[1].rhs.has(matrix(Kind.DELTA, "l+1", Size("l+1"), 1))


def test_steps_cover_the_derivation_in_order():
    d = derive.derive(net((2, 2, 2), ("sigmoid", "sigmoid"), "squared_error"))
    kinds = [s.kind for s in d.steps()]
    order = [
        "forward.neuron",
        "forward.matrix",
        "cost.sample",
        "cost.batch",
        "delta.definition",
        "simplify.sigmoid",
        "delta.output",
        "delta.recursion",
        "gradient.parameter",
        "gradient.matrix",
        "general",
        "update",
    ]
    positions = [kinds.index(k) for k in order]
    assert positions == sorted(positions)
    assert kinds.count("gradient.parameter") == len(d.parameters())
