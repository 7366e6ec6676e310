"""The documents' prose (issue 13, "Prose"): mathematics in the body, true remarks, counts that add up.

- The body speaks of the mathematics: the tool's name appears only in the appendix (how each result was
  checked) and in the exercises' command lines, in English and in Chinese.
- The section "cost" prints operation counts that are recounted here from the sizes alone.
- The sentences on what the equations imply appear exactly where they are true for the declared
  activations and loss: saturation slows a sigmoid output under squared error, not a softmax or sigmoid
  output under cross-entropy; a ReLU neuron that is off passes nothing back.
- A section borrowed from another article says so when it is in the appendix.
- The Chinese reads as a teacher writes it (no 「沿用所依据原文的约定」, 「百分之」).
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from conftest import EXAMPLES, net

import derive
from derive.present.document import build
from derive.present.implications import FAR
from derive.present.render import render_document
from derive.rules import activations

LANGS = {"en": ("{}.md", "## Appendix"), "zh": ("{}.zh.md", "## 附录")}
TOOL = re.compile(r"(?<![A-Za-z])derive(?![A-Za-z])", re.IGNORECASE)


def _md(rendered, stem, lang):
    return rendered[LANGS[lang][0].format(stem)]


def _body(md, lang):
    """The text before the appendix, without the exercises' command lines (code blocks)."""
    body = md.split(LANGS[lang][1])[0]
    return re.sub(r"```sh\n.*?```", "", body, flags=re.S)


# ------------------------------------------------------------------------- the body is mathematics
@pytest.mark.parametrize("lang", LANGS)
def test_the_body_does_not_speak_of_the_tool(rendered, lang):
    for path in EXAMPLES:
        md = _md(rendered, path.stem, lang)
        assert not TOOL.findall(_body(md, lang)), (path.stem, lang)
        assert TOOL.search(md.split(LANGS[lang][1])[1])  # the appendix says how the results were checked
        assert "checked twice by derive" not in md and "两重检验" not in md


def test_the_intro_points_to_the_appendix_for_the_checks(rendered):
    for path in EXAMPLES:
        intro_en = _md(rendered, path.stem, "en").split("\n## ")[0]
        intro_zh = _md(rendered, path.stem, "zh").split("\n## ")[0]
        assert "How each result was checked is described in the appendix." in intro_en
        assert "各结果的检验方法见附录。" in intro_zh
        assert "article" not in intro_en.splitlines()[0].lower()  # the title


def test_the_appendix_says_the_results_were_checked_twice(rendered):
    for path in EXAMPLES:
        assert "Each gradient was checked twice" in _md(rendered, path.stem, "en")
        assert "每个梯度都经过双重检验" in _md(rendered, path.stem, "zh")


def test_chinese_without_translationese(rendered):
    for path in EXAMPLES:
        zh = _md(rendered, path.stem, "zh")
        for phrase in ("沿用所依据原文的约定", "百分之", "两重", "过于冗长"):
            assert phrase not in zh, (path.stem, phrase)
    assert "至少要衰减 75%" in _md(rendered, "seed004", "zh")
    assert "至少要衰减 75\\%" in rendered["seed004.zh.tex"]  # not a TeX comment


def test_the_documents_do_not_refer_to_an_article(rendered):
    """A document follows its spec; "the article" means nothing to a reader of a spec of their own."""
    for path in EXAMPLES:
        assert "article" not in _md(rendered, path.stem, "en").lower()
        assert "原文" not in _md(rendered, path.stem, "zh")


# ----------------------------------------------------------------------------- borrowed sections
ADDITION = {"en": "This section is an addition", "zh": "本节是补充内容"}


@pytest.mark.parametrize("lang", LANGS)
def test_borrowed_sections_in_the_appendix_say_they_are_additions(documents, rendered, lang):
    for path in EXAMPLES:
        doc, md = documents[path.stem], _md(rendered, path.stem, lang)
        borrowed = [key for key in doc.appendix if key in ("sharing", "vanishing", "inputs")]
        body, appendix = md.split(LANGS[lang][1])
        assert ADDITION[lang] not in body
        assert appendix.count(ADDITION[lang]) == len(borrowed), (path.stem, borrowed)
    # seed003's own article has the remark on the inputs: in its body, and no addition
    assert "inputs" in documents["seed003"].sections


# ---------------------------------------------------------------------------- operation counts
def _counts(sizes, bias):
    """F, P, B and 2PF of one sample, recounted from the sizes: every weight once, every layer walked."""
    forward = weights = recursion = 0
    for layer in range(1, len(sizes)):
        for _ in range(sizes[layer]):
            for _ in range(sizes[layer - 1]):
                forward += 1  # z_i += W_ij a_j
                weights += 1
                if layer >= 2:
                    recursion += 1  # (Wᵀδ)_j += W_ij δ_i
    parameters = weights + (sum(sizes[1:]) if bias else 0)
    backward = weights + recursion  # ∂C/∂W_ij = δ_i a_j, then the recursion
    return forward, parameters, backward, 2 * parameters * forward


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_cost_numbers_are_the_counts_of_the_sizes(documents, rendered, path):
    doc = documents[path.stem]
    forward, parameters, backward, central = _counts(doc.sizes, doc.bias)
    c = doc.op_count
    assert (c.forward, c.parameters, c.backward, c.central) == (forward, parameters, backward, central)
    assert parameters == doc.parameter_count == len(derive.derive(derive.load(path)).parameters())
    assert c.backprop == forward + backward and 2 * forward <= c.backprop <= 3 * forward
    assert c.one_sided == (parameters + 1) * forward
    en, zh = _md(rendered, path.stem, "en"), _md(rendered, path.stem, "zh")
    products = " + ".join(f"{n} \\cdot {m}" for n, m in zip(doc.sizes[1:], doc.sizes[:-1], strict=True))
    for md in (en, zh):
        assert f"F &= \\sum_{{l=1}}^{{L}} n^{{(l)}} n^{{(l-1)}} = {products} = {forward}" in md
        assert f"2 P F &= 2 \\cdot {parameters} \\cdot {forward} = {central}" in md
        assert f"F + B &= {forward} + {backward} = {forward + backward}" in md
    both = forward + backward
    ratio = round(central / both)
    words = " ".join(en.split())
    assert f"about {ratio} times as much as backpropagation ({central} multiply-adds against {both})" in words
    assert f"约为反向传播的 {ratio} 倍（{central} 次乘加对 {both} 次）" in zh


def test_cost_numbers_of_a_deeper_network_without_biases():
    network = net((4, 5, 3, 2), ["tanh", "relu", "identity"], "mse", bias=False)
    doc = build(derive.derive(network))
    forward, parameters, backward, central = _counts((4, 5, 3, 2), False)
    assert (forward, parameters, backward) == (20 + 15 + 6, 41, 41 + 15 + 6)
    c = doc.op_count
    assert (c.forward, c.parameters, c.backward, c.central) == (forward, parameters, backward, central)
    md = render_document(doc, "md", "en")
    assert f"P &= F = {parameters}" in md and "the biases" not in md.split("## Why backpropagation is cheap")[1]


# ------------------------------------------------------------------ what the equations imply
SLOW_OUTPUT = {"en": "makes learning slow where it is close to 0", "zh": "接近 0 时学习就慢"}
CANCELLED = {"en": "No derivative of the output activation is left", "zh": "这个误差项里不再含有输出层激活函数的导数"}
DEAD_OUTPUT = {"en": "wherever an output neuron's weighted input is negative", "zh": "输出神经元的加权输入为负时"}
DEAD_HIDDEN = {"en": "passes nothing back at all", "zh": "什么也传不回去"}
OFF_WEIGHT = {"en": "does not change at all for that sample", "zh": "该权重在这个样本上根本不变"}
SATURATED_HIDDEN = {"en": "a saturated neuron (weighted input far from 0)", "zh": "饱和的神经元（加权输入远离 0）"}
QUARTER = {"en": "passes back more than $\\frac{1}{4}$", "zh": "加权和的 $\\frac{1}{4}$"}
SLOW_WEIGHT = {"en": "therefore learns slowly", "zh": "这个权重学得慢"}

# Example: (output saturates under its loss, output cancelled by the loss, hidden layer ReLU)
EXPECTED = {
    "seed000": (True, False, False),  # sigmoid, squared error
    "seed001": (True, False, False),  # sigmoid, squared error
    "seed002": (False, True, False),  # sigmoid, binary cross-entropy
    "seed003": (False, True, True),  # ReLU, then softmax with cross-entropy
    "seed004": (True, False, False),  # sigmoid, squared error
}


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("stem", EXPECTED)
def test_implications_appear_only_where_true(rendered, stem, lang):
    slow, cancelled, relu = EXPECTED[stem]
    body = _body(_md(rendered, stem, lang), lang)
    assert (SLOW_OUTPUT[lang] in body) == slow
    assert (CANCELLED[lang] in body) == cancelled
    assert (DEAD_HIDDEN[lang] in body) == relu and (OFF_WEIGHT[lang] in body) == relu
    assert (SATURATED_HIDDEN[lang] in body) == (QUARTER[lang] in body) == (not relu)  # sigmoid hidden layers
    assert DEAD_OUTPUT[lang] not in body
    assert SLOW_WEIGHT[lang] in body  # a gradient is δ times the incoming output, whatever the activation


def test_the_output_delta_is_the_error_itself_where_the_loss_cancels(documents):
    """The cancellation sentence stands after δ^{(L)} = a − y: the printed form has no activation derivative."""
    for stem, (_, cancelled, _) in EXPECTED.items():
        last = documents[stem].output_delta[-1].rhs
        assert (last.count(" - ") == 1 and "\\left(" not in last) == cancelled, (stem, last)


def test_implications_of_other_activations():
    """tanh saturates at −1 and 1 (g′ ≤ 1: no quarter); an identity output says nothing; a ReLU output is dead."""
    tanh = build(derive.derive(net((2, 3, 1), ["tanh", "identity"], "mse")))
    md = render_document(tanh, "md", "en")
    assert SATURATED_HIDDEN["en"] in md and QUARTER["en"] not in md and "\\frac{1}{4}" not in md
    assert SLOW_OUTPUT["en"] not in md and CANCELLED["en"] not in md and DEAD_OUTPUT["en"] not in md
    relu_out = build(derive.derive(net((2, 2, 1), ["tanh", "relu"], "mse")))
    md = render_document(relu_out, "md", "en")
    assert DEAD_OUTPUT["en"] in md and SLOW_OUTPUT["en"] not in md
    tanh_out = build(derive.derive(net((2, 2, 1), ["relu", "tanh"], "mse")))
    md = render_document(tanh_out, "md", "zh")
    assert "输出接近 $-1$ 或 $1$" in md and DEAD_HIDDEN["zh"] in md
    leaky = build(derive.derive(net((2, 2, 1), ["leaky_relu", "softplus"], "mse")))
    md = render_document(leaky, "md", "en")
    # leaky ReLU's g′ is never 0 or close to it; softplus flattens only far below 0, where it outputs 0
    assert DEAD_HIDDEN["en"] not in md and SATURATED_HIDDEN["en"] not in md
    assert "(its weighted input far below 0, its output near $0$)" in md


@pytest.mark.parametrize("act", [a for a in activations.REGISTRY.values() if a.elementwise], ids=lambda a: a.name)
def test_flat_regions_agree_with_the_numpy_face(act):
    """Where the documents say g′ vanishes, a numerical derivative of the registry's NumPy face agrees."""
    network = net((2, 2, 1), [act.name, "sigmoid"], "squared_error")
    flat = build(derive.derive(network)).implications.hidden[0]
    h = 1e-6

    def slope(z):
        return float((act.numpy(np.array([z + h])) - act.numpy(np.array([z - h])))[0] / (2 * h))

    assert flat.low == (abs(slope(-FAR)) < 1e-6 and slope(-1.0) != 0.0)
    assert flat.high == (abs(slope(FAR)) < 1e-6)
    assert flat.dead == (slope(-1.0) == 0.0 and float(act.numpy(np.array([-1.0]))[0]) == 0.0)
