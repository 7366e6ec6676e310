"""The vanishing-gradient bound names the norm of the matrix it prints (issue 13).

With derive's W^{(l+1)} (a row per neuron of layer l + 1), δ^{(l)}_i = g′(z_i) Σ_k W_{ki} δ^{(l+1)}_k, so
‖δ^{(l)}‖∞ ≤ max g′ · ‖Wᵀ‖∞ ‖δ^{(l+1)}‖∞ and ‖Wᵀ‖∞ = ‖W‖₁, the largest column sum of W. A to-from document
prints W itself: the norm is its 1-norm, a column sum. A from-to document prints w = Wᵀ: the same number is
the ∞-norm of w, a row sum. Here the printed matrix is read back from the document, its named norm taken with
NumPy, and the bound recomputed by a forward and backward pass written out independently.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from conftest import ROOT

import derive
from derive.present import render
from derive.present.document import build

# Canonical arrays (rows: the layer's neurons). W2's column sums (1.4, 2.3, 0.6) and row sums (2.6, 1.7) differ,
# and so do W3's (0.9, 1.2) and (2.1): naming the wrong norm would give another number.
W1 = [[0.4, -0.3], [0.2, 0.6], [-0.5, 0.1]]
W2 = [[0.5, -2.0, 0.1], [0.9, 0.3, -0.5]]
W3 = [[-0.9, 1.2]]
B1, B2, B3 = [0.1, -0.2, 0.05], [0.3, -0.1], [0.2]
X, Y = [0.3, -0.7], [0.8]


def spec(order: str) -> str:
    return f"""\
name = "norms"
inputs = 2
loss = "squared_error"
bias = true

[[layer]]
units = 3
activation = "sigmoid"

[[layer]]
units = 2
activation = "tanh"

[[layer]]
units = 1
activation = "sigmoid"

[notation]
weight = "w"
index_order = "{order}"

[example]
x = {X}
y = {Y}
W1 = {W1}
b1 = {B1}
W2 = {W2}
b2 = {B2}
W3 = {W3}
b3 = {B3}
"""


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-z))


def by_hand() -> dict[int, np.ndarray]:
    """δ of every layer for the example: sigmoid, tanh, sigmoid; C = ½ Σ (y − a)²."""
    x, y = np.array(X), np.array(Y)
    z1 = np.array(W1) @ x + B1
    a1 = sigmoid(z1)
    z2 = np.array(W2) @ a1 + B2
    a2 = np.tanh(z2)
    z3 = np.array(W3) @ a2 + B3
    a3 = sigmoid(z3)
    d3 = (a3 - y) * a3 * (1 - a3)
    d2 = (np.array(W3).T @ d3) * (1 - a2**2)
    d1 = (np.array(W2).T @ d2) * a1 * (1 - a1)
    return {1: d1, 2: d2, 3: d3}


def printed(tex: str) -> np.ndarray:
    """A matrix as the document prints it, \\left[\\begin{matrix}a & b\\\\c & d\\end{matrix}\\right], read back."""
    body = re.fullmatch(r"\\left\[\\begin\{matrix\}(.*)\\end\{matrix\}\\right\]", tex).group(1)
    return np.array([[float(v) for v in row.split("&")] for row in body.split(r"\\")])


@pytest.fixture(scope="module", params=["to_from", "from_to"])
def case(request):
    doc = build(derive.derive(derive.loads(spec(request.param))))
    return request.param, doc


def test_the_norm_named_is_the_printed_matrix_s_and_gives_the_number(case):
    order, doc = case
    v = doc.vanishing
    ord_, sub = (np.inf, r"\infty") if order == "from_to" else (1, "{1}")
    # the bound names, for each layer passed, the norm of the printed matrix in this layout
    norms = rf"\lVert w^{{(2)}}\rVert_{sub} \lVert w^{{(3)}}\rVert_{sub}"
    assert v.bound.rhs == rf"\frac{{1}}{{4}} \lVert \delta^{{(3)}}\rVert_\infty {norms}"  # ¼ from σ′, 1 from tanh′
    assert v.layers == [(1, r"\sigma", r"\frac{1}{4}"), (2, r"\tanh", "1")]
    shown = {r.layer: printed(r.value) for r in doc.example if r.kind == "given" and r.lhs.startswith("w^")}
    for layer, canonical in ((2, W2), (3, W3)):
        w = np.array(canonical)
        assert np.array_equal(shown[layer], w.T if order == "from_to" else w)  # the matrix the reader sees
    # the named norm of the printed matrix is the largest column abs sum of derive's W (= ‖Wᵀ‖∞)
    named = {layer: np.linalg.norm(shown[layer], ord_) for layer in (2, 3)}
    assert named[2] == pytest.approx(2.3) == pytest.approx(np.abs(np.array(W2)).sum(axis=0).max())
    assert named[3] == pytest.approx(1.2) == pytest.approx(np.abs(np.array(W3)).sum(axis=0).max())
    # and the numbers printed: max |δ| of each layer, and the bound g′max · named norm · the bound above
    deltas = by_hand()
    (l3, d3, u3), (l2, d2, u2), (l1, d1, u1) = v.measured
    assert (l3, l2, l1) == (3, 2, 1)
    assert d3 == pytest.approx(np.abs(deltas[3]).max(), rel=1e-12) == pytest.approx(u3, rel=1e-12)
    assert d2 == pytest.approx(np.abs(deltas[2]).max(), rel=1e-12)
    assert d1 == pytest.approx(np.abs(deltas[1]).max(), rel=1e-12)
    assert u2 == pytest.approx(1.0 * named[3] * d3, rel=1e-12)
    assert u1 == pytest.approx(0.25 * named[2] * u2, rel=1e-12)
    assert d2 <= u2 and d1 <= u1


def test_the_definition_sums_the_printed_rows_or_columns(case):
    order, doc = case
    norm = doc.vanishing.norm
    if order == "from_to":  # w_{jk} from neuron j of layer l: the sum over the second index, a row of w
        assert norm.lhs == r"\lVert w^{(l+1)}\rVert_\infty"
        assert norm.rhs == r"\max_{j} \sum_{k=1}^{n^{(l+1)}} \left|{w^{(l+1)}_{jk}}\right|"
    else:  # W_{ki} into neuron k: the sum over the first index, a column of W
        assert norm.lhs == r"\lVert w^{(l+1)}\rVert_{1}"
        assert norm.rhs == r"\max_{i} \sum_{k=1}^{n^{(l+1)}} \left|{w^{(l+1)}_{ki}}\right|"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_words_match_the_layout(case, lang):
    order, doc = case
    text = render.render_document(doc, "md", lang)
    words = {
        ("from_to", "en"): "largest row sum of absolute weights",
        ("to_from", "en"): "largest column sum of absolute weights",
        ("from_to", "zh"): "权重绝对值的最大行和",
        ("to_from", "zh"): "权重绝对值的最大列和",
    }
    assert words[order, lang] in text
    other = "to_from" if order == "from_to" else "from_to"
    assert words[other, lang] not in text
    induced = r"$\infty$" if order == "from_to" else "$1$"
    assert (f"induced {induced}-norm" if lang == "en" else f"诱导 {induced}-范数") in text
    assert r"\lVert W \rVert_1" not in text  # the old name, in no letter of the document's


def test_seed004_names_the_row_sum_of_its_printed_w():
    """The article's network: w^{(2)} = [0.1, −0.3]ᵀ printed as a column; its ∞-norm is 0.3, its 1-norm 0.4."""
    doc = build(derive.derive(derive.load(ROOT / "examples" / "seed004.toml")))
    v = doc.vanishing
    assert v.bound.rhs.endswith(r"\lVert w^{(2)}\rVert_\infty")
    w2 = next(printed(r.value) for r in doc.example if r.kind == "given" and r.lhs == "w^{(2)}")
    assert w2.shape == (2, 1)
    assert np.linalg.norm(w2, np.inf) == pytest.approx(0.3) and np.linalg.norm(w2, 1) == pytest.approx(0.4)
    (_, d2, _), (_, _, bound) = v.measured
    assert bound == pytest.approx(0.25 * np.linalg.norm(w2, np.inf) * d2, rel=1e-12)
