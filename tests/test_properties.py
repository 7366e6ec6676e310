"""Property tests: derived gradients against sympy's own derivative and finite differences.

Architectures are drawn at random (inputs, depth, widths, activations, a valid loss,
bias on or off).  Every test uses ``derandomize=True`` so a run is reproducible.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from sympy import Rational, S

import derive
from derive import Layer, Network
from derive.check import check
from derive.check.gradients import FD_STEP, TOLERANCE
from derive.engine.algebra import constraints, is_zero
from derive.model import samples
from derive.rules import symbols as sym
from derive.rules.functions import elu, elu_step, leaky_relu, leaky_step, relu, step

ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "softmax", "identity", "elu", "silu")
KINKED = ("relu", "leaky_relu", "elu")  # ELU's derivative jumps at 0 unless α = 1
# The output activations each loss accepts.
OUTPUT_ACTIVATIONS = {
    "squared_error": ACTIVATIONS,
    "mse": ACTIVATIONS,
    "binary_cross_entropy": ("sigmoid", "softmax"),
    "cross_entropy": ("softmax", "sigmoid"),
}

COMMON = {
    "deadline": None,
    "derandomize": True,
    "database": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.filter_too_much],
}

EVAL_DIGITS = 60  # working precision of the numeric fallback of Property A
ZERO = 1e-20  # |difference| below this counts as zero in the numeric fallback
KINK_MARGIN = 1e-3  # relu/leaky_relu/elu pre-activations closer to 0 than this are avoided
POINT_TRIES = 25


# ---------------------------------------------------------------------------- strategies
def _layer(draw: st.DrawFn, units: int, activation: str) -> Layer:
    slope = draw(st.floats(0.01, 0.3)) if activation == "leaky_relu" else None
    alpha = draw(st.sampled_from([None, 0.5, 2.0])) if activation == "elu" else None
    return Layer(units, activation, slope, alpha)


@st.composite
def networks(
    draw: st.DrawFn,
    max_inputs: int = 3,
    max_depth: int = 3,
    max_units: int = 3,
    max_params: int | None = None,
    max_softmax_hidden: int | None = None,
) -> Network:
    """A random valid network.

    Excluded: a one-unit softmax output under binary_cross_entropy (its output is
    identically 1, so log(1 - a) = log 0; see test_check_survives_one_unit_softmax_bce).
    """
    loss = draw(st.sampled_from(sorted(OUTPUT_ACTIVATIONS)))
    inputs = draw(st.integers(1, max_inputs))
    depth = draw(st.integers(1, max_depth))
    layers = [
        _layer(draw, draw(st.integers(1, max_units)), draw(st.sampled_from(ACTIVATIONS))) for _ in range(depth - 1)
    ]
    output = draw(st.sampled_from(OUTPUT_ACTIVATIONS[loss]))
    min_outputs = 2 if (loss, output) == ("binary_cross_entropy", "softmax") else 1
    layers.append(_layer(draw, draw(st.integers(min_outputs, max(min_outputs, max_units))), output))
    net = Network(inputs, tuple(layers), loss, draw(st.booleans()))
    if max_params is not None:
        assume(net.parameter_count() <= max_params)
    if max_softmax_hidden is not None:
        # Each softmax hidden layer multiplies the size of earlier layers' closed forms by its width
        # (the full Jacobian), which makes Derivation.evaluate slow on wide, deep networks.
        assume(sum(layer.activation == "softmax" for layer in net.layers[:-1]) <= max_softmax_hidden)
    return net


def small_networks(max_params: int = 20) -> st.SearchStrategy[Network]:
    return networks(max_inputs=3, max_depth=3, max_units=3, max_params=max_params)


def large_networks() -> st.SearchStrategy[Network]:
    return networks(max_inputs=3, max_depth=4, max_units=6, max_softmax_hidden=1)


# ------------------------------------------------------------------------------ helpers
def _kink_free(net: Network, params: dict[str, np.ndarray], x: np.ndarray) -> bool:
    """True when no relu/leaky_relu pre-activation is within KINK_MARGIN of 0."""
    for layer, (z, _) in enumerate(samples.forward(net, params, x), start=1):
        if net.layers[layer - 1].activation in KINKED and np.min(np.abs(z)) < KINK_MARGIN:
            return False
    return True


def _smooth_point(net: Network, seed: int):
    """A seeded random point away from every relu kink, or None after POINT_TRIES draws."""
    rng = np.random.default_rng(seed)
    for _ in range(POINT_TRIES):
        params, x, y = samples.random_point(net, rng)
        if _kink_free(net, params, x):
            return params, x, y
    return None


def _exact_values(net: Network, params: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray) -> dict:
    """x, y, W and b as exact rationals (the float values, converted without rounding)."""
    values = {sym.x(j + 1): Rational(float(v)) for j, v in enumerate(x)}
    values.update({sym.y(k + 1): Rational(float(v)) for k, v in enumerate(y)})
    for layer in range(1, net.depth + 1):
        for (i, j), v in np.ndenumerate(params[f"W{layer}"]):
            values[sym.W(layer, i + 1, j + 1)] = Rational(float(v))
        if net.bias:
            for i, v in enumerate(params[f"b{layer}"]):
                values[sym.b(layer, i + 1)] = Rational(float(v))
    return values


def _resolve_kink(node: sympy.Expr) -> sympy.Expr:
    """relu/step/leaky_relu/leaky_step/elu/elu_step of a numeric (non-Number) argument, written out.

    derive's functions only evaluate themselves at a sympy Number and have no evalf,
    so e.g. relu(1/(1 + exp(-1/3))) stays unevaluated under evalf.
    """
    z = node.args[0]
    positive = bool(sympy.N(z, EVAL_DIGITS) > 0)
    if isinstance(node, relu):
        return z if positive else S.Zero
    if isinstance(node, step):
        return S.One if positive else S.Zero
    alpha = node.args[1]
    if isinstance(node, leaky_relu):
        return z if positive else alpha * z
    if isinstance(node, elu):
        return z if positive else alpha * (sympy.exp(z) - 1)
    if isinstance(node, elu_step):
        return S.One if positive else alpha * sympy.exp(z)
    return S.One if positive else alpha


def numeric_value(expr: sympy.Expr, values: dict) -> sympy.Float:
    """expr at exact values of x, y, W, b, to EVAL_DIGITS significant digits."""
    e = expr.xreplace(values)
    e = e.replace(lambda n: isinstance(n, (relu, step, leaky_relu, leaky_step, elu, elu_step)), _resolve_kink)
    value = sympy.N(e, EVAL_DIGITS)
    assert value.is_number and value.is_finite, f"could not evaluate: {str(value)[:200]}"
    return value


def assert_numerically_zero(difference: sympy.Expr, d: derive.Derivation, seed: int, points: int = 2) -> None:
    """|difference| < ZERO at ``points`` random points (targets summing to 1 where assumed)."""
    difference = difference.xreplace(constraints(d))
    rng = np.random.default_rng(seed)
    for _ in range(points):
        values = _exact_values(d.network, *samples.random_point(d.network, rng))
        value = numeric_value(difference, values)
        assert abs(value) < ZERO, f"difference {value} at {values}"


def symbolic_difference(d: derive.Derivation, name: str) -> sympy.Expr:
    """sympy's ∂C/∂(name) of the composed cost minus the derived closed form, in x, y, W, b."""
    g = d.parameter(name)
    return sympy.diff(d.composed_cost(), g.symbol) - g.closed.xreplace(d.forward_map())


def finite_difference(net: Network, params: dict[str, np.ndarray], x, y, name: str, h: float = FD_STEP) -> float:
    info = sym.parse_name(name)
    array = f"{info.kind}{info.layer}"
    index = (info.i - 1,) if info.j is None else (info.i - 1, info.j - 1)
    p = {k: v.copy() for k, v in params.items()}
    p[array][index] += h
    up = samples.cost(net, p, x, y)
    p[array][index] -= 2 * h
    down = samples.cost(net, p, x, y)
    return (up - down) / (2 * h)


def relative_error(estimate: float, value: float) -> float:
    """The check's own measure: |fd − derived| / max(1, |derived|)."""
    return abs(estimate - value) / max(1.0, abs(value))


# ---------------------------------------------------------------------- the strategies
@settings(max_examples=30, **COMMON)
@given(networks())
def test_strategy_draws_only_valid_networks(net: Network) -> None:
    assert 1 <= net.inputs <= 3 and 1 <= net.depth <= 3
    assert all(1 <= layer.units <= 3 for layer in net.layers)
    assert net.layers[-1].activation in OUTPUT_ACTIVATIONS[net.loss]
    for layer in net.layers:
        assert (layer.slope is not None) == (layer.activation == "leaky_relu")
        if layer.slope is not None:
            assert 0.01 <= layer.slope <= 0.3
        assert layer.alpha is None or (layer.activation == "elu" and layer.alpha in (0.5, 2.0))


# ------------------------------------------- Property A: closed form == sympy.diff exactly
@settings(max_examples=25, **COMMON)
@given(small_networks(), st.integers(0, 2**32 - 1))
@example(Network(2, (Layer(2, "softmax"), Layer(2, "relu"), Layer(2, "softmax")), "binary_cross_entropy", False), 0)
@example(Network(1, (Layer(2, "tanh"), Layer(2, "leaky_relu", 0.3), Layer(2, "sigmoid")), "cross_entropy"), 0)
def test_closed_form_equals_sympy_derivative_of_composed_cost(net: Network, seed: int) -> None:
    d = derive.derive(net)
    for name in d.parameters():
        difference = symbolic_difference(d, name)
        if is_zero(difference, d) is None:  # undecided: evaluate with many digits instead
            assert_numerically_zero(difference, d, seed)


@pytest.mark.parametrize(
    "net",
    [
        Network(2, (Layer(2, "softmax"), Layer(2, "relu"), Layer(1, "sigmoid")), "binary_cross_entropy", False),
        Network(1, (Layer(2, "tanh"), Layer(2, "leaky_relu", 0.2), Layer(2, "softmax")), "cross_entropy", False),
    ],
    ids=["softmax-relu-sigmoid-bce", "tanh-leaky-softmax-ce"],
)
def test_numeric_fallback_of_property_a(net: Network) -> None:
    """The fallback of Property A (rarely reached) works, kinks after a nonlinear layer included.

    It accepts every true derivative and rejects a closed form that is off by a factor.
    """
    d = derive.derive(net)
    for name in d.parameters():
        assert_numerically_zero(symbolic_difference(d, name), d, seed=1)
    name = d.parameters()[0]
    g = d.parameter(name)
    wrong = sympy.diff(d.composed_cost(), g.symbol) - Rational(3, 2) * g.closed.xreplace(d.forward_map())
    with pytest.raises(AssertionError, match="difference"):
        assert_numerically_zero(wrong, d, seed=1)


# ------------------------------------- Property B: closed form == finite differences (larger)
@settings(max_examples=15, **COMMON)
@given(large_networks(), st.integers(0, 2**32 - 1))
@example(Network(3, (Layer(6, "softmax"), Layer(6, "leaky_relu", 0.05), Layer(5, "relu"), Layer(4, "tanh")), "mse"), 0)
@example(Network(3, (Layer(6, "tanh"), Layer(6, "relu"), Layer(6, "softmax")), "binary_cross_entropy", False), 1)
def test_closed_form_matches_finite_differences(net: Network, seed: int) -> None:
    point = _smooth_point(net, seed)
    assume(point is not None)
    params, x, y = point
    d = derive.derive(net)
    errors = {}
    for name in d.parameters():
        errors[name] = relative_error(finite_difference(net, params, x, y, name), d.evaluate(name, params, x, y))
    worst = max(errors, key=errors.get)
    assert errors[worst] <= TOLERANCE, f"{worst}: error {errors[worst]:.3g}"


# ------------------------------------------------------ Property C: check() reports 0 failed
@settings(max_examples=15, **COMMON)
@given(small_networks(max_params=16), st.integers(0, 1000))
def test_check_reports_no_failures(net: Network, seed: int) -> None:
    report = check(derive.derive(net), points=2, seed=seed)
    assert report.failed == 0, [(p.name, p.symbolic, p.fd_error) for p in report.parameters if not p.passed]
    assert report.passed == len(report.parameters) + len(report.matrix)
    assert {p.symbolic for p in report.parameters} <= {"exact", "digits"}


# ------------------------------------------------------------------- the checks can fail
SIGMOID_NET = Network(2, (Layer(2, "sigmoid"), Layer(1, "sigmoid")), "squared_error")


@pytest.mark.parametrize(
    "net",
    [
        SIGMOID_NET,
        Network(2, (Layer(3, "relu"), Layer(2, "softmax")), "cross_entropy"),
        Network(2, (Layer(2, "sigmoid"), Layer(1, "relu")), "squared_error"),
        Network(2, (Layer(2, "tanh"), Layer(2, "leaky_relu", 0.1), Layer(1, "sigmoid")), "mse"),
    ],
    ids=["sigmoid-sigmoid", "relu-softmax", "sigmoid-relu", "tanh-leaky-sigmoid"],
)
def test_check_fails_when_output_delta_is_doubled(monkeypatch: pytest.MonkeyPatch, net: Network) -> None:
    d = derive.derive(net)
    right = d.dC_dz

    def doubled(layer: int, i: int) -> sympy.Expr:
        value = right(layer, i)
        return 2 * value if layer == d.L else value

    monkeypatch.setattr(d, "dC_dz", doubled)  # before any gradient is built (they are cached)
    report = check(d)
    assert report.failed > 0
    # The output δ feeds every gradient, so every parameter fails the symbolic check ...
    for p in report.parameters:
        assert (p.passed, p.symbolic) == (False, "failed")
    # ... and finite differences (a relu unit that is off at every sample point has a zero gradient).
    fd = [p.fd_error for p in report.parameters]
    assert max(fd) > TOLERANCE
    if net is SIGMOID_NET:
        assert min(fd) > TOLERANCE
    # Property A's test sees it too.
    difference = symbolic_difference(d, d.parameters()[0])
    assert is_zero(difference, d) is not True
    with pytest.raises(AssertionError):
        assert_numerically_zero(difference, d, seed=0)


def test_check_fails_when_hidden_activation_derivative_is_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    d = derive.derive(SIGMOID_NET)
    right = d.jacobian_entry

    def without_sigmoid_prime(layer: int, i: int, k: int) -> sympy.Expr:
        if layer == 1:
            return S.One if i == k else S.Zero  # σ'(z) dropped in the hidden layer
        return right(layer, i, k)

    monkeypatch.setattr(d, "jacobian_entry", without_sigmoid_prime)
    report = check(d)
    assert report.failed > 0
    by_layer = {1: [], 2: []}
    for p in report.parameters:
        by_layer[sym.parse_name(p.name).layer].append(p)
    for p in by_layer[1]:
        assert (p.passed, p.symbolic) == (False, "failed")
        assert p.fd_error > TOLERANCE
    for p in by_layer[2]:  # the output layer's gradients do not use layer 1's σ'
        assert (p.passed, p.symbolic) == (True, "exact")
        assert p.fd_error <= TOLERANCE


# -------------------------------------------------------------------- bugs in derive.check
def test_check_numeric_fallback_handles_relu_after_softmax(monkeypatch: pytest.MonkeyPatch) -> None:
    import derive.check.gradients

    # is_zero gives up (returns None) on large expressions; force that here on a small network.
    monkeypatch.setattr(derive.check.gradients, "is_zero", lambda expr, d=None: None)
    net = Network(2, (Layer(2, "softmax"), Layer(1, "relu")), "squared_error", False)
    report = check(derive.derive(net))
    assert report.failed == 0
    assert {p.symbolic for p in report.parameters} == {"digits"}


def test_one_unit_softmax_with_bce_is_rejected() -> None:
    with pytest.raises(derive.SpecError, match="one-unit softmax output is always 1"):
        Network(2, (Layer(1, "softmax"),), "binary_cross_entropy")
