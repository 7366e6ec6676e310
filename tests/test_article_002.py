"""Article 002's own steps: one neuron first, the update rule before any derivative, δ found as a common factor.

The single neuron's gradient is computed here independently (sympy's diff of the article's logistic cost through
σ), the output neuron's common factor by differentiating the composed two-layer cost, and the documents are read
as a reader would: the headings in the article's order, the rule printed before the first derivative.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import sympy

from derive import load
from derive.engine.derivation import Derivation
from derive.engine.record import Record
from derive.model.network import neuron
from derive.present.document import build
from derive.present.render import render_document
from derive.rules import symbols as sym

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "examples" / "seed002.toml"

# The article's order: one neuron (forward, cost, rule, chain rule), the network, its forward pass, the common
# factor δ of the last layer, the earlier layer through δ, the backward phase as an algorithm.
HEADINGS = {
    "en": [
        "# One neuron first",
        "# Forward pass and cost",
        "# The update rule",
        "# The chain rule in three factors",
        "# The network",
        "# Forward pass",
        "# A factor every output gradient shares",
        "# Backward pass",
        "# Passing the error term back",
        "# Gradient descent",
    ],
    "zh": [
        "# 先看一个神经元",
        "# 前向传播与代价函数",
        "# 更新规则",
        "# 链式法则：三个因子",
        "# 网络结构",
        "# 前向传播",
        "# 输出层梯度的公共因子",
        "# 反向传播",
        "# 误差项的反向传递",
        "# 梯度下降",
    ],
}


@pytest.fixture(scope="module")
def doc():
    return build(Derivation(load(SPEC)))


@pytest.fixture(scope="module")
def md(doc) -> dict[str, str]:
    return {lang: render_document(doc, "md", lang) for lang in ("en", "zh")}


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_sections_come_in_the_articles_order(md: dict[str, str], lang: str) -> None:
    titles = [line.lstrip("#").strip() for line in md[lang].splitlines() if line.startswith("#")]
    place = 0
    for wanted in HEADINGS[lang]:
        title = wanted.lstrip("# ")
        later = [k for k, t in enumerate(titles) if t == title and k > place]
        assert later, (title, titles)
        place = later[0]
    assert titles[1] == HEADINGS[lang][0].lstrip("# ")  # after the title, the neuron comes first


def test_the_spec_keeps_the_articles_cost_letter(doc) -> None:
    assert load(SPEC).notation.cost == "J"
    assert doc.cost.lhs == "J" and doc.warmup.cost.lhs == "J"
    assert doc.symbols["cost"] == "J"


def _independent_neuron() -> tuple[sympy.Expr, dict[str, sympy.Symbol]]:
    """J(θ1, θ2, b) of one sigmoid neuron and the article's logistic cost, written here from scratch."""
    w1, w2, b, x1, x2, t = sympy.symbols("w1 w2 b x1 x2 t", real=True)
    z = w1 * x1 + w2 * x2 + b
    y = 1 / (1 + sympy.exp(-z))
    cost = -t * sympy.log(y) - (1 - t) * sympy.log(1 - y)
    return cost, {"w1": w1, "w2": w2, "b": b, "x1": x1, "x2": x2, "t": t, "y": y}


def test_the_neurons_closed_form_is_y_minus_t_times_x() -> None:
    """sympy's own derivative of the composed logistic cost is (y − t)x, and so is the engine's closed form."""
    cost, s = _independent_neuron()
    y = s["y"]
    for var, factor in ((s["w1"], s["x1"]), (s["w2"], s["x2"]), (s["b"], 1)):
        assert sympy.simplify(sympy.diff(cost, var) - (y - s["t"]) * factor) == 0
    d = Derivation(neuron(load(SPEC)))
    rng = random.Random(2)
    for name, var, factor in (("W1[1,1]", s["w1"], s["x1"]), ("W1[1,2]", s["w2"], s["x2"]), ("b1[1]", s["b"], 1)):
        closed = d.parameter(name).closed
        assert closed.free_symbols <= {sym.a(1, 1), sym.y(1), sym.x(1), sym.x(2)}
        for _ in range(3):
            point = {k: rng.uniform(-2, 2) for k in ("w1", "w2", "b", "x1", "x2")} | {"t": rng.choice([0.0, 1.0])}
            values = {s[k]: v for k, v in point.items()}
            y_value = float(y.subs(values))
            engine = closed.subs(
                {sym.a(1, 1): y_value, sym.y(1): point["t"], sym.x(1): point["x1"], sym.x(2): point["x2"]}
            )
            independent = float(sympy.diff(cost, var).subs(values))
            assert float(engine) == pytest.approx(independent, rel=1e-12, abs=1e-12)
            assert independent == pytest.approx((y_value - point["t"]) * float(sympy.sympify(factor).subs(values)))


def test_the_warmup_prints_the_three_factors_and_the_closed_form(doc) -> None:
    u = doc.warmup
    assert u is not None and u.sizes == (2, 1)
    assert u.chain.rhs.count(r"\frac{\partial") == 3  # ∂J/∂y · ∂y/∂z · ∂z/∂θ
    assert [f.factor for f in u.factors] == [
        r"\frac{\partial J}{\partial y}",
        r"\frac{\partial y}{\partial z^{(1)}_{1}}",
        r"\frac{\partial z^{(1)}_{1}}{\partial \theta^{(1)}_{11}}",
    ]
    assert u.product.rhs.endswith(r"= (y - t) x_{1}")
    assert [e.rhs for e in u.closed] == [r"(y - t) x_{1}", r"(y - t) x_{2}", "y - t"]
    assert all(e.check is not None and e.check.passed for e in u.closed)


# The first update rule, and the first derivative derived (∂J/∂y, the chain's first factor), in each format.
RULE = {
    "md": r"\theta^{(1)}_{11} - \eta \frac{\partial J}{\partial \theta^{(1)}_{11}}",
    "tex": r"\theta^{(1)}_{11} - \eta \frac{\partial J}{\partial \theta^{(1)}_{11}}",
    "html": '<mo lspace="0" rspace="0">←</mo>',
}
DERIVED = {
    "md": r"\frac{\partial J}{\partial y} &=",
    "tex": r"\frac{\partial J}{\partial y} &=",
    "html": "<mfrac><mrow><mo>∂</mo><mi>J</mi></mrow><mrow><mo>∂</mo><mi>y</mi></mrow></mfrac>",
}


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("fmt", ["md", "tex", "html"])
def test_the_update_rule_is_printed_before_anything_is_derived(doc, fmt: str, lang: str) -> None:
    text = render_document(doc, fmt, lang)
    rule, derived = text.find(RULE[fmt]), text.find(DERIVED[fmt])
    closed = text.find(r"(y - t) x_{1}") if fmt != "html" else derived
    assert 0 <= rule < derived <= closed


def _two_layer_cost() -> tuple[sympy.Expr, dict]:
    """The article's 2-2-2 network with its logistic cost summed over the outputs, written here from scratch."""
    x = sympy.symbols("x1:3", real=True)
    t = sympy.symbols("t1:3", real=True)
    w1 = sympy.Matrix(2, 2, sympy.symbols("u11 u12 u21 u22", real=True))
    b1 = sympy.Matrix(sympy.symbols("c1:3", real=True))
    w2 = sympy.Matrix(2, 2, sympy.symbols("v11 v12 v21 v22", real=True))
    b2 = sympy.Matrix(sympy.symbols("e1:3", real=True))

    def sig(v: sympy.Matrix) -> sympy.Matrix:
        return v.applyfunc(lambda q: 1 / (1 + sympy.exp(-q)))

    a1 = sig(w1 * sympy.Matrix(x) + b1)
    y = sig(w2 * a1 + b2)
    cost = sum(-t[k] * sympy.log(y[k]) - (1 - t[k]) * sympy.log(1 - y[k]) for k in range(2))
    return cost, {"x": x, "t": t, "w1": w1, "b1": b1, "w2": w2, "b2": b2, "a1": a1, "y": y}


def test_the_common_factor_divides_every_output_gradient(doc) -> None:
    """∂J/∂θ^{(2)}_{1j} / a^{(1)}_j and ∂J/∂b^{(2)}_1 are all y_1 − t_1 (the printed factor), numerically."""
    c = doc.common_factor
    assert c is not None and c.factor == "y_{1} - t_{1}"
    assert c.delta.lhs == r"\delta^{(2)}_{1}" and c.delta.rhs.endswith("= y_{1} - t_{1}")
    assert [e.rhs for e in c.delta_forms] == [
        r"\delta^{(2)}_{1} a^{(1)}_{1}",
        r"\delta^{(2)}_{1} a^{(1)}_{2}",
        r"\delta^{(2)}_{1}",
    ]
    cost, s = _two_layer_cost()
    rng = random.Random(5)
    symbols = [*s["x"], *s["t"], *s["w1"], *s["b1"], *s["w2"], *s["b2"]]
    values = {q: rng.uniform(-1.5, 1.5) for q in symbols} | {s["t"][0]: 1.0, s["t"][1]: 0.0}
    y1 = float(s["y"][0].subs(values))
    shared = y1 - 1.0
    for j in range(2):
        grad = float(sympy.diff(cost, s["w2"][0, j]).subs(values))
        assert grad / float(s["a1"][j].subs(values)) == pytest.approx(shared, rel=1e-10)
    assert float(sympy.diff(cost, s["b2"][0]).subs(values)) == pytest.approx(shared, rel=1e-10)


def test_the_common_factor_is_named_before_the_backward_pass(md: dict[str, str]) -> None:
    for lang, text in md.items():
        named = text.find(r"\delta^{(2)}_{1} := \frac{\partial J}{\partial z^{(2)}_{1}}")
        backward = text.find("\n## " + ("Backward pass" if lang == "en" else "反向传播") + "\n")
        assert 0 <= named < backward, lang


def test_the_warmup_network_is_built_from_the_declared_one() -> None:
    net = load(SPEC)
    one = neuron(net)
    assert one.sizes == (net.inputs, 1) and one.loss == net.loss and one.bias == net.bias
    assert one.notation.cost == "J" and one.notation.weight == "theta" and one.notation.target == "t"
    rec = Record(Derivation(one))
    assert rec.gradient("W1[1,1]").chain.args  # the three factors come from the engine's chain
