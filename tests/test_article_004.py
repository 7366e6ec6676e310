"""Article 004's own steps in seed004's document: Δw_ij = η δ_j x_i element by element, the worked example's Δw as
the article prints them, and "at least 75% … 93.75%" for this network (issue 13).

The numbers are computed here with the article's own NumPy exercise and compared with what the document prints.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import derive
from derive.engine.record import Record
from derive.model.samples import sample_values
from derive.present import article_steps
from derive.present.document import build
from derive.present.worked_example import cumulative
from derive.rules import symbols as sym

SPEC = Path(__file__).resolve().parent.parent / "examples" / "seed004.toml"

# What the article's exercise prints (NumPy's default format), copied from the article's output.
ARTICLE_HIDDEN_OUTPUT = "[0.00804047 0.00555918]"
ARTICLE_INPUT_HIDDEN = [
    ["1.77005547e-04", "-5.11178506e-04"],
    ["3.54011093e-05", "-1.02235701e-04"],
    ["-7.08022187e-05", "2.04471402e-04"],
]
BODY = {
    "en": [
        "The network",
        "Forward pass",
        "Backward pass",
        "The gradient of every weight",
        "Any layer: the three equations",
        "A worked example with numbers",
        "Why the error term fades in deep sigmoid networks",
        "The weight steps, element by element",
        "Appendix",
    ],
    "zh": ["网络结构", "前向传播", "数值算例", "深层 sigmoid 网络中误差项为何逐层衰减", "逐个元素的权重更新量", "附录"],
}


def _article():
    """The article's exercise: Δw hidden→output and input→hidden (from-to: inputs × hidden)."""

    def sigmoid(v):
        return 1 / (1 + np.exp(-v))

    x = np.array([0.5, 0.1, -0.2])
    target, learnrate = 0.6, 0.5
    w_ih = np.array([[0.5, -0.6], [0.1, -0.2], [0.1, 0.7]])
    w_ho = np.array([0.1, -0.3])
    hidden = sigmoid(x @ w_ih)
    out = sigmoid(hidden @ w_ho)
    out_term = (target - out) * out * (1 - out)
    hidden_term = w_ho * out_term * hidden * (1 - hidden)
    return learnrate * out_term * hidden, learnrate * hidden_term * x[:, None]


@pytest.fixture(scope="module")
def article():
    net = derive.load(SPEC)
    d = derive.derive(net)
    return net, d, Record(d)


@pytest.fixture(scope="module")
def md(article):
    return {lang: article[1].render("md", lang) for lang in ("en", "zh")}


@pytest.fixture(scope="module")
def doc(article):
    return build(article[1])


def _headings(text: str) -> list[tuple[int, str]]:
    return [(len(m.group(1)), m.group(2).strip()) for m in re.finditer(r"^(#+) (.+)$", text, re.MULTILINE)]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_sections_follow_the_article(md, lang):
    top = [t for level, t in _headings(md[lang]) if level == 2]
    assert [t for t in top if t in BODY[lang]] == BODY[lang]
    # Δw element by element comes after the vanishing remark, as the article's NumPy part follows it
    assert top.index(BODY[lang][-3]) < top.index(BODY[lang][-2])


def test_the_spec_lists_the_new_section():
    net = derive.load(SPEC)
    assert net.document.sections[-3:-1] == ("vanishing", "elementwise_update")


# ------------------------------------------------------------------ Δw_ij = η δ_j x_i
def test_the_general_step_reads_as_the_article(doc, md):
    assert (doc.change_general.lhs, doc.change_general.rhs) == (r"\Delta w^{(1)}_{ij}", r"\eta \delta^{(1)}_{j} x_{i}")
    for lang in ("en", "zh"):
        assert r"\Delta w^{(1)}_{ij} = \eta \delta^{(1)}_{j} x_{i}" in md[lang]


def test_every_element_in_from_to_order(doc, md):
    """Δw^{(l)} entry by entry, laid out as the article's arrays: a row per neuron the weight comes from."""
    layers = dict(doc.changes)
    hidden = r"\\".join(" & ".join(rf"\eta \delta^{{(1)}}_{{{j}}} x_{{{i}}}" for j in (1, 2)) for i in (1, 2, 3))
    output = r"\\".join(rf"\eta \delta^{{(2)}}_{{1}} a^{{(1)}}_{{{j}}}" for j in (1, 2))
    assert [(e.lhs, e.rhs) for e in layers[1][:1]] == [
        (r"\Delta w^{(1)}", rf"\left[\begin{{matrix}}{hidden}\end{{matrix}}\right]")
    ]
    assert [(e.lhs, e.rhs) for e in layers[2][:1]] == [
        (r"\Delta w^{(2)}", rf"\left[\begin{{matrix}}{output}\end{{matrix}}\right]")
    ]
    # each followed by its values at the example, in one chain; the output layer first, as the article
    assert [layer for layer, _ in doc.changes] == [2, 1]
    values = dict(doc.change_values)
    assert layers[1][1] == values[1] and layers[2][1] == values[2]
    for lang in ("en", "zh"):
        assert layers[1][0].rhs + " \\\\\n &= " + values[1].rhs in md[lang]


def test_every_element_equals_the_articles_numpy(article):
    """Each printed Δw = η δ_j x_i, evaluated by derive at the example, equals the article's NumPy step."""
    net, d, rec = article
    ex = net.example
    values = sample_values(net, ex.params, ex.x, ex.y)
    hidden_output, input_hidden = _article()
    for layer, items in article_steps.changes(rec):
        deltas = {sym.delta(layer, k): d.delta_closed(layer, k) for k in range(1, rec.size(layer) + 1)}
        for change in items:
            value = float(change.rhs.xreplace(deltas).xreplace(values | {sym.LEARNING_RATE: ex.learning_rate}))
            info = sym.parse_name(change.name)  # canonical W^{(l)}[i, j]: from neuron j of layer l − 1 to neuron i
            expected = hidden_output[info.j - 1] if layer == 2 else input_hidden[info.j - 1, info.i - 1]
            assert value == pytest.approx(expected, rel=1e-12, abs=1e-15), change.name
            # and −η ∂E/∂w from the engine's own numbers at the example
            assert value == pytest.approx(-ex.learning_rate * d.evaluate(change.name, ex.params, ex.x, ex.y), abs=1e-15)


def test_the_values_are_printed_as_the_article_prints_them(doc, md):
    hidden_output, input_hidden = _article()
    assert np.array2string(hidden_output) == ARTICLE_HIDDEN_OUTPUT
    assert article_steps.numpy_printed(input_hidden) == ARTICLE_INPUT_HIDDEN
    values = dict(doc.change_values)
    assert values[2].rhs == r"\left[\begin{matrix}0.00804047\\0.00555918\end{matrix}\right]"
    tokens = re.findall(r"(-?[\d.]+)(?: \\times 10\^\{(-?\d+)\})?", values[1].rhs)
    printed = np.array([float(m) * 10 ** int(e) if e else float(m) for m, e in tokens]).reshape(3, 2)
    # to 8 significant digits, against NumPy computed here
    np.testing.assert_allclose(printed, input_hidden, rtol=5e-9, atol=0)
    np.testing.assert_allclose([0.00804047, 0.00555918], hidden_output, rtol=0, atol=5e-9)
    for lang in ("en", "zh"):
        assert r"1.77005547 \times 10^{-4} & -5.11178506 \times 10^{-4}" in md[lang]
        assert r"-7.08022187 \times 10^{-5} & 2.04471402 \times 10^{-4}" in md[lang]
        assert r"0.00804047\\0.00555918" in md[lang]


# ---------------------------------------------------------------- at least 75% … 93.75%
def test_the_shares_lost_follow_the_depth(article, doc, md):
    _, _, rec = article
    shares = cumulative(rec)
    expected = [(rec.depth - k + 1, 100 * (1 - 0.25**k)) for k in range(1, rec.depth + 1)]
    assert [(layer, float(percent)) for layer, _, percent in shares] == expected
    assert [percent for _, _, percent in shares] == ["75", "93.75"]
    assert doc.vanishing.cumulative == shares
    assert [share for _, share, _ in shares] == ["1 - 0.25", "1 - 0.25^{2}"]
    en = md["en"]
    assert "at least\n$75\\%$ of the output error ($1 - 0.25$)" in en
    assert "$93.75\\%$ ($1 - 0.25^{2}$) on its way to $\\delta^{(1)}$" in en
    assert "时至少减少 $75\\%$（$1 - 0.25$）" in md["zh"] and "时至少减少 $93.75\\%$（$1 - 0.25^{2}$）" in md["zh"]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_percent_sign_survives_latex(article, lang):
    """In TeX a bare % starts a comment and would cut the sentence off."""
    tex = article[1].render("tex", lang)
    assert r"\(75\%\)" in tex and r"\(93.75\%\)" in tex
    body = tex.split(r"\begin{document}")[1]
    # a % ending a line is a deliberate comment (it swallows the line break); one inside a line would cut it
    assert not re.search(r"(?<!\\)%(?!$)", body, re.MULTILINE)


def test_a_deeper_sigmoid_network_loses_more():
    """Three sigmoid layers and the squared error: 75%, 93.75%, 98.4375% (1 − 0.25^k)."""
    layers = (derive.Layer(2, "sigmoid"), derive.Layer(2, "sigmoid"), derive.Layer(1, "sigmoid"))
    rec = Record(derive.derive(derive.Network(2, layers, "squared_error", name="deep")))
    assert [(layer, float(p)) for layer, _, p in cumulative(rec)] == [
        (3 - k + 1, 100 * (1 - 0.25**k)) for k in (1, 2, 3)
    ]


def test_a_cancelling_loss_starts_at_the_hidden_layer():
    """Sigmoid with binary cross-entropy: δ^{(L)} = a − y carries no σ′, so the output layer loses nothing."""
    layers = (derive.Layer(2, "sigmoid"), derive.Layer(1, "sigmoid"))
    rec = Record(derive.derive(derive.Network(2, layers, "binary_cross_entropy", name="bce")))
    assert [(layer, p) for layer, _, p in cumulative(rec)] == [(1, "75")]
