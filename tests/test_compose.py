"""The engine's shortcuts around sympy's general construction (derive.engine.compose) give sympy's own expressions.

Products placed among factors, weighted sums put together in order, derivatives renamed from one neuron to
another, the facts told about a weighted input, the weights made as symbols, and the forward map and
composed cost built without re-evaluating activations: each is compared here with what plain sympy builds
(Mul, Add, the activation evaluated on the sum, xreplace, Symbol), argument by argument, and each
shortcut's fall-back is exercised.
"""

from __future__ import annotations

import pytest
import sympy
from sympy import Add, Mul, Rational, Symbol, exp

from derive import Layer, Network, derive
from derive.engine.compose import known_real, times_symbol
from derive.rules import activations
from derive.rules import symbols as sym

HIDDEN = [name for name in activations.REGISTRY if activations.REGISTRY[name].elementwise] + ["softmax"]
OUTPUTS = [
    ("sigmoid", "binary_cross_entropy"),
    ("softmax", "cross_entropy"),
    ("identity", "squared_error"),
    ("tanh", "mse"),
    ("softplus", "squared_error"),
    ("relu", "mse"),
    ("leaky_relu", "squared_error"),
    ("elu", "mse"),
    ("silu", "squared_error"),
]


def networks() -> list[Network]:
    out = []
    for k, hidden in enumerate(HIDDEN):
        output, loss = OUTPUTS[k % len(OUTPUTS)]
        out.append(Network(inputs=2, layers=(Layer(3, hidden), Layer(2, output)), loss=loss, bias=k % 2 == 0))
    for output, loss in OUTPUTS:
        out.append(Network(inputs=3, layers=(Layer(2, "tanh"), Layer(2, output)), loss=loss))
    return out


def plain_forward(net: Network) -> dict[Symbol, sympy.Expr]:
    """The forward pass as plain sympy builds it: Mul, Add, and each activation evaluated on its sum."""
    values: dict[Symbol, sympy.Expr] = {}
    prev: list[sympy.Expr] = [sym.x(j) for j in range(1, net.inputs + 1)]
    for layer in range(1, net.depth + 1):
        zs = []
        for i in range(1, net.sizes[layer] + 1):
            total = sympy.S.Zero
            for j in range(1, len(prev) + 1):
                total = total + sym.W(layer, i, j) * prev[j - 1]
            if net.bias:
                total = total + sym.b(layer, i)
            zs.append(total)
        outs = net.activation(layer).values(zs)
        for i, (z, a) in enumerate(zip(zs, outs, strict=True), start=1):
            values[sym.z(layer, i)], values[sym.a(layer, i)] = z, a
        prev = outs
    return values


@pytest.mark.parametrize("net", networks(), ids=lambda n: "-".join(l.activation for l in n.layers) + "-" + n.loss)
def test_forward_map_and_composed_cost_are_sympys_own(net: Network) -> None:
    d = derive(net)
    reference = plain_forward(net)
    forward = d.forward_map()
    assert set(forward) == set(reference)
    for symbol, value in reference.items():
        assert forward[symbol] == value, symbol
        assert forward[symbol].args == value.args
    cost = net.loss_def.formula(d.a_vec(d.L), d.y_vec())
    assert d.composed_cost() == cost.xreplace(reference)


def test_composed_cost_differentiates_like_the_derived_gradient() -> None:
    """sympy's derivative of the composed cost equals the closed form with the forward map put in."""
    net = Network(inputs=2, layers=(Layer(2, "sigmoid"), Layer(2, "softmax")), loss="cross_entropy")
    d = derive(net)
    cost = d.composed_cost()
    point = {s: Rational(k + 2, 7 + k) for k, s in enumerate(sorted(cost.free_symbols, key=str))}
    ys = d.y_vec()
    point[ys[0]], point[ys[1]] = Rational(1, 3), Rational(2, 3)
    for name in d.parameters():
        layer, i, j = d.resolve(name)
        direct = sympy.diff(cost, sym.parameter_symbol(layer, i, j)).xreplace(point)
        derived = d.gradient(name, "closed").xreplace(d.forward_map()).xreplace(point)
        assert abs(sympy.N(direct - derived, 30)) < 1e-25, name


def test_weighted_inputs_are_known_real_and_stay_equal() -> None:
    x, w = sym.x(1), sym.W(1, 1, 1)
    z = known_real(Add(w * x, sym.b(1, 1)))
    assert z.is_real is True and z.is_finite is True
    assert z == Add(sym.b(1, 1), Mul(x, w))


A, B, C = sym.a(1, 1), sym.a(1, 2), sym.W(2, 1, 1)


@pytest.mark.parametrize(
    "value",
    [
        A,
        Rational(3, 2),
        sympy.Float(0.25),
        A * B,
        -2 * A * (1 - A) * C,
        A * (1 - A) * (C * (sym.a(2, 1) - sym.y(1)) + sym.W(2, 2, 1) * (sym.a(2, 2) - sym.y(2))),
        sym.a(2, 1) - sym.y(1),
        exp(A) / (exp(A) + exp(B)),
        sym.x(2) ** 2 * A,  # a power of the symbol itself: Mul must merge it
        sym.x(2) * A,  # the symbol itself as a factor
    ],
)
@pytest.mark.parametrize("s", [sym.x(1), sym.x(2), sym.x(10), sym.a(0, 3), sym.W(1, 1, 1)])
def test_times_symbol_is_mul(value: sympy.Expr, s: Symbol) -> None:
    product = times_symbol(value, s)
    expected = Mul(value, s)
    assert product == expected
    assert product.args == expected.args
    assert hash(product) == hash(expected)


def test_every_closed_form_is_delta_times_its_input(example: Network) -> None:
    """∂C/∂W_ij = ∂C/∂z_i · a_j and ∂C/∂b_i = ∂C/∂z_i, built by Mul here, for every parameter of the seeds."""
    d = derive(example)
    for param in d.parameters():
        layer, i, j = d.resolve(param)
        local = sym.a(layer - 1, j) if j is not None else sympy.S.One
        expected = Mul(d.dC_dz(layer, i), local)
        got = d.gradient(param, "closed")
        assert got == expected and got.args == expected.args, param


@pytest.mark.parametrize(
    "factors",
    [
        (exp(A), 1 / (exp(A) + exp(B))),
        (exp(B), 1 / (exp(A) + exp(B))),
        (C, exp(A)),
        (exp(A), exp(B)),  # two powers of e: Mul merges them
        (A, A**2),  # the same base
        (Rational(2), A),  # a number
        (A * B, C),  # a product inside
        (sympy.sqrt(2), A),  # a number's power
        (1 - A, A, sym.y(1) - A),
    ],
)
def test_product_is_mul(factors: tuple[sympy.Expr, ...]) -> None:
    from derive.engine.compose import product

    got, expected = product(factors), Mul(*factors)
    assert got == expected and got.args == expected.args


def test_the_facts_told_about_a_weighted_input_are_sympys_own() -> None:
    """Real, and every sign fact undecided: what sympy itself answers for a fresh, equal sum."""
    from derive.engine.compose import UNDECIDED

    terms = [sym.W(1, 1, j) * sym.x(j) for j in range(1, 4)]
    told = known_real(Add(*terms, sym.b(1, 1)))
    sympy.core.cache.clear_cache()  # so that the sum below is a new object, with nothing told
    fresh = Add(*[Mul(sym.W(1, 1, j), sym.x(j)) for j in range(1, 4)], sym.b(1, 1))
    assert fresh == told and fresh is not told
    for fact in ("real", "finite", "complex", *UNDECIDED):
        assert getattr(told, f"is_{fact}") == getattr(fresh, f"is_{fact}"), fact


def test_weights_are_sympys_own_symbols() -> None:
    """A weight is made without sympy's Symbol(): every attribute sympy compares, hashes or asks is the same."""
    w, s = sym.W(3, 2, 7), Symbol("W3[2,7]", real=True)
    assert type(w) is Symbol and w == s and hash(w) == hash(s) and w.name == s.name
    assert w._assumptions0 == s._assumptions0 and w.assumptions0 == s.assumptions0
    known = [{k: v for k, v in x._assumptions.items() if v is not None} for x in (w, s)]  # None: asked, undecided
    assert w._assumptions_orig == s._assumptions_orig and known[0] == known[1]
    for fact in ("real", "finite", "complex", "commutative", "zero", "positive", "integer", "nonnegative"):
        assert getattr(w, f"is_{fact}") == getattr(s, f"is_{fact}"), fact
    assert sympy.srepr(w) == sympy.srepr(s) and Mul(w, 2).args == Mul(s, 2).args
    assert sym.W(3, 2, 7) is w  # made once


@pytest.mark.parametrize(
    ("made", "name"),
    [
        (lambda: sym.x(3), "x[3]"),
        (lambda: sym.y(12), "y[12]"),
        (lambda: sym.b(2, 5), "b2[5]"),
        (lambda: sym.z(3, 1), "z3[1]"),
        (lambda: sym.a(4, 10), "a4[10]"),
        (lambda: sym.a(0, 2), "x[2]"),
        (lambda: sym.delta(1, 2), "delta1[2]"),
        (lambda: sym.error(2, 1), "e2[1]"),
    ],
)
def test_every_quantity_is_sympys_own_real_symbol(made, name: str) -> None:
    got, s = made(), Symbol(name, real=True)
    assert type(got) is Symbol and got == s and hash(got) == hash(s) and sympy.srepr(got) == sympy.srepr(s)
    assert got._assumptions0 == s._assumptions0 and got.is_real and got.is_positive is None
    assert made() is got


def _output_deltas(network: Network, shortcut: bool) -> list[sympy.Expr]:
    d = derive(network)
    if not shortcut:
        d._alike = lambda layer: False  # every neuron built on its own
    return [d.dC_dz(d.L, i) for i in range(1, network.outputs + 1)]


@pytest.mark.parametrize("net", networks(), ids=lambda n: f"{n.layers[0].activation}-{n.layers[-1].activation}")
def test_output_deltas_relabelled_from_neuron_one_are_built_ones(net: Network) -> None:
    wide = Network(inputs=2, layers=(*net.layers[:-1], Layer(11, net.layers[-1].activation)), loss=net.loss)
    for network in (net, wide):
        got, built = _output_deltas(network, True), _output_deltas(network, False)
        assert [sympy.srepr(e) for e in got] == [sympy.srepr(e) for e in built]


def test_output_deltas_are_the_losss_derivative() -> None:
    """Independently of the engine: ∂C/∂z_i = ∂C/∂a_i g'(z_i), from sympy's diff of the loss's formula."""
    network = Network(inputs=2, layers=(Layer(2, "tanh"), Layer(12, "sigmoid")), loss="binary_cross_entropy")
    d = derive(network)
    a, y = [sym.a(2, i) for i in range(1, 13)], [sym.y(i) for i in range(1, 13)]
    cost = -Add(*(yi * sympy.log(ai) + (1 - yi) * sympy.log(1 - ai) for ai, yi in zip(a, y, strict=True)))
    for i in (1, 2, 10, 11, 12):
        expected = sympy.diff(cost, a[i - 1]) * a[i - 1] * (1 - a[i - 1])
        assert sympy.simplify(d.dC_dz(2, i) - expected) == 0, i


def test_relabel_is_xreplace_or_falls_back() -> None:
    from derive.engine.compose import relabel

    a, y, w = sym.a(3, 1), sym.y(1), sym.W(4, 2, 1)
    template = 2 * (a - y) * a * (1 - a) + w * exp(-a) / (1 + y)
    for i in (2, 9, 10, 11):
        mapping = {a: sym.a(3, i), y: sym.y(i), w: sym.W(4, 2, i)}
        assert sympy.srepr(relabel(template, mapping)) == sympy.srepr(template.xreplace(mapping))
    # A relabelling that changes the names' order, or makes two symbols one, goes through xreplace.
    swapped = {a: sym.y(7), y: sym.a(3, 7)}
    assert sympy.srepr(relabel(template, swapped)) == sympy.srepr(template.xreplace(swapped))
    merged = {a: y}
    assert relabel(template, merged) == template.xreplace(merged)


def _products(layer: int, order: list[int], inputs) -> list[sympy.Expr]:
    return [Mul(sym.W(layer, 1, j), inputs(j)) for j in order]


@pytest.mark.parametrize(
    ("products", "rest"),
    [
        (_products(1, sorted(range(1, 13), key=lambda j: f"{j}]"), sym.x), [sym.b(1, 1)]),  # the weights' order
        (_products(1, sorted(range(1, 13), key=lambda j: f"{j}]"), sym.x), []),
        (_products(1, list(range(1, 13)), sym.x), [sym.b(1, 1)]),  # 1, 2, …, 10: not the names' order
        (_products(2, [1, 2, 3], lambda j: sympy.Function("sigma")(sym.z(1, j))), [sym.b(2, 1)]),
        (_products(1, [1, 2], sym.x), [sym.b(1, 1), sym.b(1, 2)]),
        (_products(1, [1], sym.x), [sym.b(1, 1)]),
        ([2 * sym.W(1, 1, 1) * sym.x(1), sym.W(1, 1, 2) * sym.x(2)], []),  # a coefficient
        ([sym.W(1, 1, 1) * sym.x(1), sym.W(1, 1, 1) * sym.x(2)], []),  # one weight twice
        (_products(1, [1, 2], sym.x), [sym.W(1, 1, 3)]),
        (_products(1, [1, 2], sym.x), [Rational(1, 2)]),
        # the recursion's W_{k1} times the layer above's ∂C/∂z_k: longer products, led by the weight
        ([Mul(sym.W(2, k, 1), sym.a(2, k), 1 - sym.a(2, k), sym.a(2, k) - sym.y(k)) for k in (1, 10, 11, 2)], []),
        ([Mul(sym.W(2, k, 1), sym.a(2, k), 1 - sym.a(2, k)) for k in (1, 2)] + [sym.W(2, 3, 1) * sym.a(2, 3)], []),
    ],
)
def test_weighted_sum_is_add(products: list[sympy.Expr], rest: list[sympy.Expr]) -> None:
    from derive.engine.compose import weighted_sum

    got, expected = weighted_sum(products, rest), Add(*products, *rest)
    assert got == expected and got.args == expected.args


@pytest.mark.parametrize(
    "activation", [name for name in activations.REGISTRY if activations.REGISTRY[name].elementwise]
)
def test_every_slope_is_the_activations_own(activation: str) -> None:
    """g'(z_i), made once per layer and renamed for each neuron, is what the registry makes for that neuron."""
    network = Network(inputs=2, layers=(Layer(12, activation), Layer(3, activation)), loss="squared_error")
    d = derive(network)
    act = network.activation(1)
    for layer in (1, 2):
        for i in range(1, network.sizes[layer] + 1):
            expected = act.local_derivative(sym.a(layer, i), sym.z(layer, i))
            got = d.jacobian_entry(layer, i, i)
            assert got == expected and sympy.srepr(got) == sympy.srepr(expected), (layer, i)
        assert d.jacobian_entry(layer, 1, 2) == 0


def test_rename_keeps_sympys_order_or_falls_back() -> None:
    from derive.engine.compose import rename

    t = sym.a(1, 0)
    template = 3 * t * (1 - t) ** 2 + exp(-t) / (1 + t)
    for i in (1, 2, 9, 10, 11):
        new = sym.a(4, i)
        assert sympy.srepr(rename(template, t, new)) == sympy.srepr(template.xreplace({t: new}))
    two = t * sym.z(1, 0)  # two symbols: renaming one goes through xreplace
    assert rename(two, t, sym.a(2, 3)) == sym.a(2, 3) * sym.z(1, 0)
