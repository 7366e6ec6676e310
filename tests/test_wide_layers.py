"""Documents of wide networks (issue 14): the picture keeps its size from 10 neurons to 10,000, and matrices, sums
and tables of a wide layer show a few entries, an ellipsis and the true size; small networks read as before."""

from __future__ import annotations

import re
import shutil
from dataclasses import replace

import numpy as np
import pytest
import sympy
from conftest import EXAMPLES, ROOT, net

import derive
from derive.engine.record import Record
from derive.present import article_steps, mathml, picture, worked_example
from derive.present.document import build
from derive.present.latex import DeriveLatexPrinter
from derive.present.pdf import compile_pdf, pdf_text
from derive.present.render import render_document
from derive.rules import symbols as sym

WIDTHS = (10, 100, 1000, 10_000)
TAGS = ("line", "polygon", "circle", "text", "rect", "tspan")


def _wide(width: int) -> derive.Network:
    """Inputs and outputs ``width`` wide, a hidden layer of 8."""
    return net((width, 8, width), ("sigmoid", "softmax"), "cross_entropy")


def _svg_counts(svg: str) -> dict[str, int]:
    return {tag: len(re.findall(rf"<{tag}[ >]", svg)) for tag in TAGS}


def _svg_size(svg: str) -> tuple[str, str]:
    found = re.search(r'<svg [^>]*width="([\d.]+)" height="([\d.]+)"', svg)
    assert found is not None
    return found.group(1), found.group(2)


def test_the_svg_has_the_same_size_and_elements_from_ten_neurons_to_ten_thousand():
    svgs = {w: picture.svg(_wide(w)) for w in WIDTHS}
    assert len({_svg_size(s) for s in svgs.values()}) == 1
    assert len({tuple(_svg_counts(s).items()) for s in svgs.values()}) == 1
    counts = _svg_counts(svgs[10_000])
    # drawn: 3 + 1 of each layer, and a +1 under the two first layers
    assert counts["circle"] == 4 + 4 + 4 + 2
    assert counts["line"] == (4 + 1) * 4 * 2  # one arrow per drawn weight, the bias's included
    for w, svg in svgs.items():
        assert len(svg) < 12_000
        assert svg.count("&#8942;") == 3  # ⋮ in every layer
        assert len(re.findall(r">8</text>", svg)) == 1
        assert len(re.findall(rf">{w}</text>", svg)) == 2  # each wide layer's true width above it
        assert f">{w}</tspan>" in svg  # the last neuron is named by its true index: x_w and a_w
        assert ">4</tspan>" not in svg  # neuron 4 is not drawn (its index appears nowhere)


def test_the_tikz_has_the_same_lines_from_ten_neurons_to_ten_thousand():
    pictures = {w: picture.tikz(_wide(w)) for w in WIDTHS}
    assert len({p.count("\n") for p in pictures.values()}) == 1
    assert len({p.count(r"\draw") for p in pictures.values()}) == 1
    for w, tikz in pictures.items():
        assert tikz.count(r"\draw") == (4 + 1) * 4 * 2
        assert tikz.count(r"{$\vdots$}") == 3
        assert tikz.count(rf"{{${w}$}}") == 2
        assert rf"x_{{{w}}}" in tikz


def test_a_layer_of_six_is_drawn_whole_and_seven_is_cut():
    six = picture.layout(net((6, 6, 3), ("sigmoid", "softmax"), "cross_entropy"))
    seven = picture.layout(net((7, 7, 3), ("sigmoid", "softmax"), "cross_entropy"))
    assert [len(layer) for layer in six.layers] == [6, 6, 3] and six.gaps == ()
    assert [[n.index for n in layer] for layer in seven.layers] == [[1, 2, 3, 7], [1, 2, 3, 7], [1, 2, 3]]
    assert [(g.layer, g.size) for g in seven.gaps] == [(0, 7), (1, 7)]
    assert six.height == pytest.approx(seven.height + 64.0 - 22.0)  # one row more, no room for the width


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_a_small_network_is_drawn_as_before(path):
    """The committed pictures of the examples (every layer at most four wide) are what is drawn now."""
    committed = (ROOT / "output" / f"{path.stem}.svg").read_text(encoding="utf-8")
    network = derive.load(path)
    assert picture.svg(network) == committed
    assert picture.layout(network).gaps == ()


def test_the_example_picture_puts_each_drawn_neurons_own_numbers_on_it():
    network = net((10, 2), ("sigmoid",), "binary_cross_entropy")
    x = np.array([0.5, -0.25, 0.125, 70.0, 80.0, 90.0, 110.0, 120.0, 130.0, -3.5])
    svg = picture.example_svg(network, [x, np.array([0.75, 0.5])], {1: np.array([0.0625, -0.5])})
    for shown in ("0.5", "\u22120.25", "0.125", "\u22123.5", "0.75", "0.0625"):  # x1, x2, x3, x10, a, δ
        assert f">{shown}</text>" in svg
    for hidden in ("70", "80", "90", "110", "120", "130"):  # x4 … x9
        assert f">{hidden}</text>" not in svg


def test_a_long_sum_is_written_with_its_first_terms_an_ellipsis_and_its_last():
    printer = DeriveLatexPrinter()
    z = sympy.Add(*[sym.W(1, 1, j) * sym.x(j) for j in range(1, 785)], sym.b(1, 1))
    expected = (
        r"W^{(1)}_{11} x_{1} + W^{(1)}_{12} x_{2} + W^{(1)}_{13} x_{3} + \cdots + W^{(1)}_{1,784} x_{784} + b^{(1)}_{1}"
    )
    assert printer.doprint(z) == expected
    eight = sympy.Add(*[sym.x(j) for j in range(1, 9)])
    assert printer.doprint(eight) == " + ".join(f"x_{{{j}}}" for j in range(1, 9))


def test_a_wide_matrix_shows_its_corners_and_its_true_size():
    printer = DeriveLatexPrinter()
    m = sympy.Matrix(100, 784, lambda i, j: sym.W(1, i + 1, j + 1))
    text = printer.doprint(m)
    assert text.endswith(r"\end{matrix}\right]_{100 \times 784}")
    rows = text.split(r"\begin{matrix}")[1].split(r"\end{matrix}")[0].split(r"\\")
    assert len(rows) == 5 and all(len(r.split("&")) == 5 for r in rows)
    assert rows[3].split(" & ") == [r"\vdots"] * 3 + [r"\ddots", r"\vdots"]
    assert rows[4].split(" & ")[4].strip() == r"W^{(1)}_{100,784}"
    small = printer.doprint(sympy.Matrix(6, 6, lambda i, j: i * 6 + j))
    assert r"\cdots" not in small and r"\times" not in small and small.count(r"\\") == 5


def test_numbers_printed_as_numpy_prints_them_keep_the_corners_and_the_size():
    array = 1 + np.arange(10 * 784, dtype=float).reshape(10, 784) / 10_000
    text = article_steps.printed_matrix(array)
    assert text.endswith(r"\right]_{10 \times 784}")
    assert r"\cdots" in text and r"\vdots" in text
    first, last = text.split(r"\\")[0].split(" & "), text.split(r"\\")[-1].split(" & ")
    assert first[1:4] == ["1.0001", "1.0002", r"\cdots"]
    assert last[-1].startswith("1.7839")  # 1 + 7839/10000, the last entry
    assert article_steps.printed_matrix(np.eye(2)) == r"\left[\begin{matrix}1 & 0\\0 & 1\end{matrix}\right]"


@pytest.fixture(scope="module")
def wide_document():
    """A 10-100-10 network with a worked example, every section that shows a layer's width asked for."""
    rng = np.random.default_rng(14)
    sizes = (10, 100, 10)
    network = net(sizes, ("sigmoid", "softmax"), "cross_entropy")
    params = {}
    for layer in (1, 2):
        params[f"W{layer}"] = np.round(rng.uniform(-0.5, 0.5, (sizes[layer], sizes[layer - 1])), 2)
        params[f"b{layer}"] = np.round(rng.uniform(-0.5, 0.5, sizes[layer]), 2)
    x = np.round(rng.uniform(-1, 1, 10), 2)
    y = np.eye(10)[0]
    sections = ("network", "forward", "backward", "gradients", "example", "sharing", "elementwise_update")
    network = replace(
        network,
        name="wide",
        example=derive.Example(x, y, params, 0.1),
        document=derive.DocumentOptions(sections=sections, appendix=("verification",)),
    )
    return build(derive.derive(network)), params, x


def test_the_wide_document_elides_its_hundred_wide_matrices(wide_document):
    doc, params, x = wide_document
    md = render_document(doc, "md", "en")
    assert md.count(r"_{100 \times 10}") >= 1  # W^{(1)} given, and its gradient and update
    assert r"_{10 \times 100}" in md
    assert max(len(line) for line in md.splitlines()) < 2500
    # the hidden layer's values at the example, computed here: the first three and the last of 100
    a1 = 1 / (1 + np.exp(-(params["W1"] @ x + params["b1"])))
    row = next(r for r in doc.example if r.kind == "a" and r.layer == 1)
    entries = row.value.split(r"\begin{matrix}")[1].split(r"\end{matrix}")[0].split(r"\\")
    assert len(entries) == 5 and entries[3].strip() == r"\vdots"
    for k, entry in zip((0, 1, 2, 99), (0, 1, 2, 4), strict=True):
        assert float(entries[entry].replace(r" \cdot 10^", "e").replace("{", "").replace("}", "")) == pytest.approx(
            a1[k], rel=1e-5
        )
    assert row.value.endswith(r"_{100 \times 1}")


def test_the_wide_document_says_how_the_picture_is_cut(wide_document):
    doc, _, _ = wide_document
    assert doc.picture_cut == (picture.WIDE, picture.FIRST_DRAWN)
    assert "A layer of more than 6 neurons is drawn as its first 3" in render_document(doc, "md", "en")
    assert "超过 6 个神经元的层只画出前 3 个" in render_document(doc, "md", "zh")


def test_the_wide_document_says_what_its_ellipses_leave_out(wide_document):
    doc, _, _ = wide_document
    en, zh = render_document(doc, "md", "en"), render_document(doc, "md", "zh")
    assert "A sum of more than 8 terms is written with its first 3 terms" in en
    assert "超过 8 项的求和只写出前 3 项" in zh
    for text in (en, zh):
        assert r"\left[\cdots\right]_{100 \times 10}" in text  # W^{(1)}'s shape, rows the 100 neurons it leads to


def test_the_weight_steps_of_a_wide_layer_derive_only_the_weights_shown():
    rec = Record(derive.derive(_wide_small := net((3, 20, 2), ("sigmoid", "softmax"), "cross_entropy")))
    assert _wide_small.sizes == (3, 20, 2)
    shown = dict(article_steps.changes(rec))
    assert len(shown[1]) == 4 * 3  # rows 1, 2, 3 and 20 of W^{(1)}, every one of its 3 columns
    assert len(shown[2]) == 2 * 4  # both rows of W^{(2)}, columns 1, 2, 3 and 20
    assert [c.name for c in shown[2]][:4] == ["W2[1,1]", "W2[1,2]", "W2[1,3]", "W2[1,20]"]


def test_a_sign_after_an_ellipsis_stays_binary_in_mathml():
    """TeX sets a + ⋯ + b with ⋯ as an inner atom: the sign after it is binary, not a prefix minus or plus."""
    out = mathml.inline(r"a + \cdots + b - \cdots - c")
    assert 'form="prefix"' not in out
    assert out.count("<mo>⋯</mo>") == 2


def test_the_sharing_of_a_wide_layer_writes_its_denominators_as_sums(wide_document):
    doc, _, _ = wide_document
    assert len(doc.sharing) == 6  # e_1 … e_6 of the hidden layer
    first = doc.sharing[0].rhs
    assert first.count(r"\sum_{r=1}^{100}") == 5  # ten outputs: three, ⋯, the last two
    assert r"\cdots" in first and r"W^{(2)}_{10,1} e^{(2)}_{10}" in first


def test_one_neuron_and_the_common_factor_list_a_few_of_many_weights():
    """Article 002's sections on a 12-12-1 network: of 12 weights, the first three, ⋮, the twelfth, then the bias."""
    network = replace(
        net((12, 12, 1), ("sigmoid", "sigmoid"), "binary_cross_entropy"),
        document=derive.DocumentOptions(sections=("warmup", "common_factor", "network"), appendix=()),
    )
    doc = build(derive.derive(network))
    names = [r"W^{(1)}_{11}", r"W^{(1)}_{12}", r"W^{(1)}_{13}", None, r"W^{(1)}_{1,12}", r"b^{(1)}_{1}"]
    for rows in (doc.warmup.closed, doc.warmup.updates, doc.warmup.rules):
        assert len(rows) == 6
        assert rows[3].lhs == r"\vdots" and rows[3].rhs == ""
        for row, name in zip(rows, names, strict=True):
            assert name is None or name in row.lhs
    for rows in (doc.common_factor.closed, doc.common_factor.delta_forms):
        assert len(rows) == 6 and rows[3].lhs == r"\vdots"
        assert r"W^{(2)}_{1,12}" in rows[4].lhs and r"b^{(2)}_{1}" in rows[5].lhs
    for lang in ("en", "zh"):
        for fmt in ("md", "tex", "html"):
            text = render_document(doc, fmt, lang)
            assert ("⋮" if fmt == "html" else r"\vdots") in text


def test_a_wide_jacobian_is_printed_as_the_whole_one_would_be():
    """∂a/∂z of wide layers, built only where the printed matrix shows it, prints as the record's whole matrix."""
    rec = Record(derive.derive(net((3, 8, 9), ("tanh", "softmax"), "cross_entropy")))
    printer = DeriveLatexPrinter(rec.network)
    for layer, shown in article_steps.jacobians(rec):
        whole = rec.jacobian(layer)
        assert printer.doprint(shown.rhs) == printer.doprint(whole.rhs)
        assert shown.lhs == whole.lhs and shown.rhs.shape == whole.rhs.shape
        assert sympy.simplify(shown.rhs[8 if layer == 2 else 7, 0] - whole.rhs[-1, 0]) == 0


def test_a_wide_example_matrix_reads_as_the_printer_writes_any_wide_matrix(wide_document):
    """The worked example's W^{(1)} (100 × 10, only its corners made into numbers) equals the printer's own
    rendering of the whole matrix of rounded numbers."""
    doc, params, _ = wide_document
    given = next(r for r in doc.example if r.kind == "given" and r.value.endswith(r"_{100 \times 10}"))
    whole = sympy.Matrix([[worked_example.number(v) for v in row] for row in params["W1"]])
    assert given.value == DeriveLatexPrinter().doprint(whole)


def test_an_identity_too_wide_for_a_line_puts_its_value_on_a_row_of_its_own():
    network = replace(
        net((3, 10, 10), ("sigmoid", "softmax"), "cross_entropy"),
        document=derive.DocumentOptions(sections=("identities",), appendix=()),
    )
    ids = build(derive.derive(network)).identities
    assert [r.lhs for r in ids.recursion] == [r"\delta^{(1)}_{1}"] * 2  # δ = Σ δ ∂z/∂z, then = its value
    chain, value = ids.recursion[0].rhs, ids.recursion[1].rhs
    assert r"\frac{\partial z^{(2)}_{10}}{\partial z^{(1)}_{1}}" in chain and r"\cdots" in chain
    assert r"\partial" not in value and r"W^{(2)}_{10,1}" in value
    assert len(ids.weights) == 2  # ∂C/∂W = δ ∂z/∂W = δ a, one line each


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_pdf_of_a_wide_network_builds_with_its_picture_cut(wide_document, tmp_path, lang):
    """The PDF of 10-100-10 compiles (784-100-10's did not: its picture was ten metres tall), its picture a
    few neurons high with the widths written above, and its log reports no box too large."""
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    doc, _, _ = wide_document
    tex = tmp_path / ("wide.tex" if lang == "en" else "wide.zh.tex")
    tex.write_text(render_document(doc, "tex", lang), encoding="utf-8")
    log = tmp_path / "wide.log"
    text = pdf_text(compile_pdf(tex, lang, log_path=log))
    assert "Dimension too large" not in log.read_text(encoding="utf-8", errors="replace")
    assert re.search(r"\b10\s+100\s+10\b", text)  # the three widths above the picture's columns
    assert ("A layer of more than 6 neurons" if lang == "en" else "超过 6 个神经元的层") in text
