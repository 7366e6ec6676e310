"""Article 003's own steps in seed003's document: the Jacobian, the score h, the layer-by-layer backward pass with
∂J/∂a^{(1)} as a step of its own, and the forward and backward procedures as numbered lists (issue 13).

Every printed equation is instantiated for TestNet (3-4-2, ReLU, softmax, cross-entropy) and compared here with
NumPy computed independently (finite differences of a forward pass written in this file) at seeded points.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import sympy

import derive
from derive.engine import matrixform
from derive.engine.forms import Kind, label_of
from derive.engine.record import Record
from derive.model.samples import random_point, sample_values
from derive.present import article_steps
from derive.present.document import build
from derive.present.latex import DeriveLatexPrinter
from derive.rules import symbols as sym

SPEC = Path(__file__).resolve().parent.parent / "examples" / "seed003.toml"

BODY = {
    "en": [
        "The network",
        "The chain rule for vectors and the Jacobian matrix",
        "Forward pass",
        "Backward pass, layer by layer",
        "Any layer: the four equations",
        "The two procedures",
        "Why backpropagation is cheap",
        "A remark on the inputs",
        "Exercises",
        "Appendix",
    ],
    "zh": [
        "网络结构",
        "向量的链式法则与雅可比矩阵",
        "前向传播",
        "逐层反向传播",
        None,
        "两个步骤清单",
        "反向传播为什么快",
        "关于输入的说明",
        "练习",
        "附录",
    ],
}
# The backward pass in the article's order: δ^{(2)}, the output weights, ∂J/∂a^{(1)}, δ^{(1)}, the hidden weights.
LAYERWISE = {
    "en": [
        "The output layer's input $z^{(2)}$",
        "The weights and biases of layer 2",
        "The output $a^{(1)}$ of hidden layer 1",
        "The input $z^{(1)}$ of hidden layer 1",
        "The weights and biases of layer 1",
    ],
    "zh": [
        "输出层的输入向量 $z^{(2)}$",
        "第 2 层的权重和偏置",
        "第 1 层（隐藏层）的输出向量 $a^{(1)}$",
        "第 1 层（隐藏层）的输入向量 $z^{(1)}$",
        "第 1 层的权重和偏置",
    ],
}


@pytest.fixture(scope="module")
def testnet():
    net = derive.load(SPEC)
    d = derive.derive(net)
    return net, d, Record(d)


@pytest.fixture(scope="module")
def md(testnet):
    _, d, _ = testnet
    return {lang: d.render("md", lang) for lang in ("en", "zh")}


@pytest.fixture(scope="module")
def doc(testnet):
    return build(testnet[1])


def _headings(text: str) -> list[tuple[int, str]]:
    return [(len(m.group(1)), m.group(2).strip()) for m in re.finditer(r"^(#+) (.+)$", text, re.MULTILINE)]


# ------------------------------------------------------------------ NumPy, independently
def _softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum()


def _relu(z):
    return np.maximum(z, 0.0)


def _cost_from_a1(a1, params, y):
    return float(-(y * np.log(_softmax(params["W2"] @ a1 + params["b2"]))).sum())


def _cost(params, x, y):
    return _cost_from_a1(_relu(params["W1"] @ x + params["b1"]), params, y)


def _fd(f, v, h=1e-6):
    """Central differences of a scalar function of an array, entry by entry."""
    out = np.zeros_like(v, dtype=float)
    for idx in np.ndindex(*v.shape):
        up, down = v.copy(), v.copy()
        up[idx] += h
        down[idx] -= h
        out[idx] = (f(up) - f(down)) / (2 * h)
    return out


def _points(net, count=4):
    rng = np.random.default_rng(2024)
    out = []
    while len(out) < count:
        params, x, y = random_point(net, rng)
        z1 = params["W1"] @ x + params["b1"]
        if np.abs(z1).min() > 1e-3:  # away from ReLU's kink, where finite differences are fair
            out.append((params, x, y))
    return out


def _numeric(params, x, y) -> dict:
    """Each step's numbers by central finite differences of the cost written above, independently of derive."""
    a1 = _relu(params["W1"] @ x + params["b1"])
    z1 = params["W1"] @ x + params["b1"]
    return {
        ("delta", 2): _fd(lambda v: float(-(y * np.log(_softmax(v))).sum()), params["W2"] @ a1 + params["b2"]),
        ("W", 2): _fd(lambda v: _cost(params | {"W2": v}, x, y), params["W2"]),
        ("b", 2): _fd(lambda v: _cost(params | {"b2": v}, x, y), params["b2"]),
        ("back", 1): _fd(lambda v: _cost_from_a1(v, params, y), a1),
        ("delta", 1): _fd(lambda v: _cost_from_a1(_relu(v), params, y), z1),
        ("W", 1): _fd(lambda v: _cost(params | {"W1": v}, x, y), params["W1"]),
        ("b", 1): _fd(lambda v: _cost(params | {"b1": v}, x, y), params["b1"]),
    }


def _value(expr, d, values) -> np.ndarray:
    """An equation side of the matrix form, expanded to elements by the engine and evaluated at ``values``."""
    m = matrixform.explicit(expr, d)
    return np.array([[float(v.xreplace(values)) for v in row] for row in m.tolist()])


# -------------------------------------------------------------------- the document's order
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_sections_follow_the_article(md, lang):
    heads = _headings(md[lang])
    top = [t for level, t in heads if level == 2]
    expected = [h for h in BODY[lang] if h is not None]
    assert [t for t in top if t in expected] == expected
    assert len(top) == len(BODY[lang])
    # the score h inside the forward pass, before the cost; no per-parameter "backward" sections
    sub = [t for _, t in heads]
    score, cost = ("The score", "The cost") if lang == "en" else ("评分", "代价函数")
    forward = sub.index(BODY[lang][2])
    assert forward < sub.index(score) < sub.index(cost) < sub.index(BODY[lang][3])
    # the backward pass walks back in the article's order
    steps = [t for t in sub if t in LAYERWISE[lang]]
    assert steps == LAYERWISE[lang]


def test_the_spec_lists_the_new_sections():
    net = derive.load(SPEC)
    assert net.document.sections == (
        "network",
        "jacobian",
        "forward",
        "score",
        "layerwise",
        "general",
        "procedures",
        "cost",
        "inputs",
        "exercises",
    )


@pytest.mark.parametrize("fmt, opening", [("md", "1. "), ("html", "<ol>"), ("tex", r"\begin{enumerate}")])
def test_the_procedures_are_two_numbered_lists(testnet, fmt, opening):
    _, d, _ = testnet
    for lang in ("en", "zh"):
        text = d.render(fmt, lang)
        part = text[text.index("The two procedures" if lang == "en" else "两个步骤清单") :]
        if fmt == "md":
            items = re.findall(r"^1\. ", part.split("\n## ")[0], re.MULTILINE)
            assert len(items) == 3 + 5  # forward: 2 layers and the cost; backward: δ2, δ1, 2 × gradients, update
        else:
            assert part.count(opening) >= 2


# -------------------------------------------------------------------- the Jacobian
def test_jacobian_letters_do_not_clash_with_the_batch_size(md, doc):
    assert r"p \times q" in md["en"] and r"p \times q" in md["zh"]
    assert "m \\times n" not in md["en"].split("## The network")[0]
    jac = md["en"][md["en"].index("## The chain rule for vectors") : md["en"].index("## Forward pass")]
    assert "m \\times n" not in jac and "$m$ counts the samples of a batch" in jac
    assert doc.jacobian_definition[0].rhs.count(r"\frac{\partial y_{") == 4


def test_each_layers_jacobian_equals_numpy(testnet, doc, md):
    net, d, rec = testnet
    printer = DeriveLatexPrinter(net)
    for params, x, y in _points(net):
        values = sample_values(net, params, x, y)
        z1 = params["W1"] @ x + params["b1"]
        z2 = params["W2"] @ _relu(z1) + params["b2"]
        numeric = {1: _fd_jac(_relu, z1), 2: _fd_jac(_softmax, z2)}
        for layer in (1, 2):
            eq = rec.jacobian(layer)
            printed = np.array([[float(v.xreplace(values)) for v in row] for row in eq.rhs.tolist()])
            np.testing.assert_allclose(printed, numeric[layer], atol=1e-8)
    for layer, eq in doc.jacobians:
        engine = rec.jacobian(layer)
        assert (eq.lhs, eq.rhs) == (printer.doprint(engine.lhs), printer.doprint(engine.rhs))
        assert eq.rhs in md["en"] and eq.rhs in md["zh"]


def _fd_jac(f, z, h=1e-6):
    cols = []
    for k in range(z.size):
        e = np.zeros_like(z)
        e[k] = h
        cols.append((f(z + e) - f(z - e)) / (2 * h))
    return np.array(cols).T


def test_the_chain_through_the_layers_equals_numpy(testnet, doc, md):
    """∂a^{(2)}/∂z^{(1)} = ∂a^{(2)}/∂z^{(2)} W^{(2)} ∂a^{(1)}/∂z^{(1)}: 2 × 2 times 2 × 4 times 4 × 4."""
    net, d, rec = testnet
    a, z, factors = article_steps.chain_example(rec)
    assert [f.shape for f in factors] == [(2, 2), (2, 4), (4, 4)]
    for params, x, y in _points(net):
        values = sample_values(net, params, x, y)
        product = _value(sympy.MatMul(*factors), d, values)
        z1 = params["W1"] @ x + params["b1"]
        numeric = _fd_jac(lambda v, p=params: _softmax(p["W2"] @ _relu(v) + p["b2"]), z1)
        np.testing.assert_allclose(product, numeric, atol=1e-8)
    assert [e.rhs for e in doc.jacobian_chain][1] in md["en"]


# ------------------------------------------------------------------------ the score h
def test_the_score_is_the_softmax_output_and_the_cost_is_written_in_it(testnet, doc, md):
    net, d, rec = testnet
    h, definition, h1, cost = article_steps.score(rec)
    assert definition.rhs == rec.matrix.forward[2][1].rhs  # h = softmax(z^{(2)}), the forward pass's a^{(2)}
    assert h1.rhs == rec.forward(2, (1,)).neurons[0][1].rhs
    back = {sympy.Symbol(f"h_{k}"): sym.a(2, k) for k in (1, 2)}
    assert sympy.simplify(cost.rhs.xreplace(back) - rec.cost.sample.rhs) == 0
    for params, x, y in _points(net, 2):
        z2 = params["W2"] @ _relu(params["W1"] @ x + params["b1"]) + params["b2"]
        hv = _softmax(z2)
        value = float(cost.rhs.xreplace({sympy.Symbol(f"h_{k}"): hv[k - 1] for k in (1, 2)} | _y(y)))
        assert value == pytest.approx(_cost(params, x, y), abs=1e-12)
    for lang in ("en", "zh"):
        assert r"h &:= a^{(2)}" in md[lang]
        assert r"- y_{1} \log h_{1} - y_{2} \log h_{2}" in md[lang]
    assert [e.lhs for e in doc.score][:1] == ["h"]


def _y(y):
    return {sym.y(k + 1): float(v) for k, v in enumerate(y)}


# ---------------------------------------------------------------- the backward pass, layer by layer
def test_the_layerwise_steps_are_in_the_articles_order(testnet):
    _, _, rec = testnet
    steps = article_steps.layerwise(rec)
    assert [(s.kind, s.layer) for s in steps] == [
        ("output", 2),
        ("gradients", 2),
        ("back", 1),
        ("delta", 1),
        ("gradients", 1),
    ]


def test_each_printed_matrix_step_equals_numpy(testnet):
    """δ^{(2)}; ∂J/∂W^{(2)} = δ^{(2)} a^{(1)T}; ∂J/∂a^{(1)} = W^{(2)T} δ^{(2)}; δ^{(1)} = ∂J/∂a^{(1)} ⊙ g′(z^{(1)}).

    Then ∂J/∂W^{(1)}: each against finite differences of a NumPy forward pass and the engine's numbers at the point.
    """
    net, d, rec = testnet
    steps = article_steps.layerwise(rec)
    back = next(s for s in steps if s.kind == "back").equations[0]
    assert label_of(back.lhs).kind is Kind.NABLA_C and back.lhs.shape == (4, 1)
    for params, x, y in _points(net):
        values = sample_values(net, params, x, y)
        sample = rec.at(params, x, y)
        numeric = _numeric(params, x, y)
        engine = {
            ("delta", 2): sample.deltas[2],
            ("W", 2): sample.gradients["W2"],
            ("b", 2): sample.gradients["b2"],
            ("back", 1): params["W2"].T @ sample.deltas[2],
            ("delta", 1): sample.deltas[1],
            ("W", 1): sample.gradients["W1"],
            ("b", 1): sample.gradients["b1"],
        }
        for step in steps:
            for eq in step.equations:
                kind = label_of(eq.lhs).kind
                if kind is Kind.JACOBIAN:
                    continue
                key = {
                    Kind.DELTA: ("delta", step.layer),
                    Kind.DC_DW: ("W", step.layer),
                    Kind.DC_DB: ("b", step.layer),
                    Kind.NABLA_C: ("back", step.layer),
                }[kind]
                rhs = eq.rhs.xreplace({back.lhs: back.rhs})  # ∂J/∂a^{(1)} is the step printed above it
                printed = _value(rhs, d, values).reshape(np.shape(numeric[key]))
                np.testing.assert_allclose(printed, numeric[key], atol=1e-7, err_msg=str(eq))
                np.testing.assert_allclose(printed, engine[key], atol=1e-12, err_msg=str(eq))


def test_every_layerwise_equation_holds_entry_by_entry(testnet):
    _, d, rec = testnet
    steps = article_steps.layerwise(rec)
    back = next(s for s in steps if s.kind == "back").equations[0]
    for step in steps:
        for eq in step.equations:
            if step.kind == "back":
                continue  # its left side is what the right side defines; checked numerically above
            assert matrixform.holds(type(eq)(eq.lhs, eq.rhs.xreplace({back.lhs: back.rhs})), d), eq


def test_the_printed_steps_are_the_checked_ones(testnet, doc, md):
    net, _, rec = testnet
    printer = DeriveLatexPrinter(net)
    ours = article_steps.layerwise(rec)
    assert [(k, layer) for k, layer, _ in doc.layerwise] == [(s.kind, s.layer) for s in ours]
    expected = {
        ("gradients", 2): [r"\delta^{(2)} (a^{(1)})^{\mathsf T}", r"\delta^{(2)}"],
        ("back", 1): [r"(W^{(2)})^{\mathsf T} \delta^{(2)}"],
        ("delta", 1): [r"\frac{\partial J}{\partial a^{(1)}} \odot \operatorname{ReLU}'(z^{(1)})"],
        ("gradients", 1): [r"\delta^{(1)} x^{\mathsf T}", r"\delta^{(1)}"],
    }
    renamed = {rf"\nabla_{{a^{{({k})}}}} J": rf"\frac{{\partial J}}{{\partial a^{{({k})}}}}" for k in (1, 2)}

    def written(expr):
        text = printer.doprint(expr)
        for old, new in renamed.items():
            text = text.replace(old, new)
        return text

    for (kind, layer, eqs), step in zip(doc.layerwise, ours, strict=True):
        assert [(e.lhs, e.rhs) for e in eqs] == [(written(e.lhs), written(e.rhs)) for e in step.equations]
        for eq in eqs:
            for lang in ("en", "zh"):
                assert eq.rhs in md[lang]
        if (kind, layer) in expected:
            assert [e.rhs for e in eqs] == expected[(kind, layer)]
    assert doc.layerwise[2][2][0].lhs == r"\frac{\partial J}{\partial a^{(1)}}"


def test_procedures_print_the_checked_matrix_form(testnet, doc):
    net, d, rec = testnet
    forward, backward = article_steps.procedures(rec)
    assert [k for k, _, _ in forward] == ["layer", "layer", "cost"]
    assert [(k, layer) for k, layer, _ in backward] == [
        ("output", 2),
        ("gradients", 2),
        ("hidden", 1),
        ("gradients", 1),
        ("update", None),
    ]
    for _, _, eqs in forward[:-1] + backward[:-1]:
        for eq in eqs:
            if label_of(eq.lhs).kind is not Kind.A:  # a = g(z) names the activation's values
                assert matrixform.holds(eq, d), eq
    updates = backward[-1][2]
    assert len(updates) == 4 and all(e.relation == "<-" for e in updates)
    assert len(doc.procedure_backward[-1][2]) == 4
