"""MathML for the HTML output: structure of the converted LaTeX, and every string derive prints."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from derive.present import mathml

NBSP = "\u00a0"


def parse(markup: str) -> ET.Element:
    """The MathML as an element tree (fails the test if it is not well-formed XML)."""
    return ET.fromstring(markup)


def text(element: ET.Element) -> str:
    """All text below ``element``, in document order."""
    return "".join(element.itertext())


def only(root: ET.Element, tag: str) -> ET.Element:
    """The single ``tag`` element below ``root``."""
    found = list(root.iter(tag))
    assert len(found) == 1, f"expected one <{tag}>, found {len(found)}"
    return found[0]


def tokens(element: ET.Element) -> list[tuple[str, str]]:
    """(tag, text) of every token element below ``element``, in order."""
    return [(e.tag, e.text or "") for e in element.iter() if e.tag in ("mi", "mn", "mo", "mtext")]


# ------------------------------------------------------------------ structure
def test_inline_and_block_roots():
    assert mathml.inline("x") == "<math><mrow><mi>x</mi></mrow></math>"
    assert mathml.block("x") == '<math display="block"><mrow><mi>x</mi></mrow></math>'


def test_fraction_numerator_first_denominator_second():
    frac = only(parse(mathml.inline(r"\frac{a}{b}")), "mfrac")
    assert [text(child) for child in frac] == ["a", "b"]


def test_partial_derivative_with_layer_and_indices():
    frac = only(parse(mathml.block(r"\frac{\partial E}{\partial w^{(2)}_{11}}")), "mfrac")
    numerator, denominator = frac
    assert tokens(numerator) == [("mo", "∂"), ("mi", "E")]
    scripts = only(denominator, "msubsup")
    assert [text(child) for child in scripts] == ["w", "11", "(2)"]  # base, subscript, superscript
    assert [e.get("stretchy") for e in scripts[2].iter("mo")] == ["false", "false"]


def test_sub_and_superscripts():
    root = parse(mathml.inline(r"x_{1} + e^{- z}"))
    sub, sup = only(root, "msub"), only(root, "msup")
    assert [text(c) for c in sub] == ["x", "1"]
    assert [text(c) for c in sup] == ["e", "−z"]
    assert tokens(sup[1]) == [("mo", "−"), ("mi", "z")]


def test_hat_is_an_accent_over_the_base():
    mover = only(parse(mathml.inline(r"\nabla_{\hat{y}} E")), "mover")
    assert mover.get("accent") == "true"
    assert [text(c) for c in mover] == ["y", "^"]


def test_prime_follows_the_base_instead_of_a_superscript():
    root = parse(mathml.inline(r"\sigma'\left(z\right)"))
    assert not list(root.iter("msup"))
    assert tokens(root)[:2] == [("mi", "σ"), ("mo", "′")]
    assert "'" not in text(root)
    # what follows the prime stays a superscript; a subscript comes after the prime
    squared = only(parse(mathml.inline(r"\sigma'^{2}")), "msup")
    assert [text(c) for c in squared] == ["σ′", "2"]
    indexed = only(parse(mathml.inline(r"g''_{1}")), "msub")
    assert [text(c) for c in indexed] == ["g″", "1"]


def test_left_right_fences_stretch_only_around_tall_content():
    flat = [e for e in parse(mathml.inline(r"\sigma\left(z^{(1)}_{2}\right)")).iter("mo") if e.get("fence")]
    assert [(e.text, e.get("form"), e.get("stretchy")) for e in flat] == [
        ("(", "prefix", "false"),
        (")", "postfix", "false"),
    ]
    tall = [e for e in parse(mathml.inline(r"\left(\frac{a}{b}\right)^{2}")).iter("mo") if e.get("fence")]
    assert [(e.text, e.get("stretchy")) for e in tall] == [("(", "true"), (")", "true")]


def test_transpose_is_an_upright_sans_serif_t():
    msups = list(parse(mathml.inline(r"\left(w^{(2)}\right)^{\mathsf T}")).iter("msup"))
    assert [text(m[1]) for m in msups] == ["𝖳", "(2)"]  # the transpose, then w^{(2)} inside its base
    assert text(msups[0][0]) == "(w(2))"
    assert tokens(msups[0][1]) == [("mi", "𝖳")]  # U+1D5B3: needs no mathvariant, which Chromium ignores


def test_hadamard_product_and_gradient():
    root = parse(mathml.inline(r"\sigma'\left(z^{(2)}\right) \odot \nabla_{a^{(2)}} C"))
    assert ("mo", "⊙") in tokens(root)
    nabla = only(root, "msub")
    assert tokens(nabla[0]) == [("mo", "∇")]


def test_operator_names_are_upright_identifiers():
    for tex, name in ((r"\operatorname{diag}\left(x\right)", "diag"), (r"\operatorname{ReLU}'\left(z\right)", "ReLU")):
        root = parse(mathml.inline(tex))
        assert tokens(root)[0] == ("mi", name)
    assert tokens(parse(mathml.inline(r"\log{\left(y_{1} \right)}")))[0] == ("mi", "log")
    d, x = parse(mathml.inline(r"\mathrm{d}x")).iter("mi")
    assert [(e.text, e.get("mathvariant")) for e in (d, x)] == [("d", "normal"), ("x", None)]
    leaky = only(parse(mathml.inline(r"\operatorname{LeakyReLU}_{0.1}\left(z\right)")), "msub")
    assert tokens(leaky) == [("mi", "LeakyReLU"), ("mn", "0.1")]


def test_thin_space_before_an_operator_name_after_a_variable():
    root = parse(mathml.inline(r"- t_{1} \log{\left(y_{1} \right)}"))
    row = root[0]
    assert [e.tag for e in row][:4] == ["mo", "msub", "mspace", "mi"]
    assert row[2].get("width") == mathml.THIN_SPACE


def test_double_struck_and_bold_characters():
    step = only(parse(mathml.inline(r"\mathbb{1}_{>0}\left(z\right)")), "msub")
    assert [text(c) for c in step] == ["𝟙", ">0"]
    assert [(e.get("lspace"), e.get("rspace")) for e in step[1].iter("mo")] == [("0", "0")]  # TeX script style
    assert "ℝ" in text(parse(mathml.inline(r"\mathbb{R}^{2\times 3}")))
    assert text(parse(mathml.inline(r"\mathbf{1}"))) == "𝟏"
    for tex in (r"\mathsf T", r"\mathbb{1}", r"\mathbf{1}", r"\boldsymbol{\delta}"):
        assert all(e.get("mathvariant") in (None, "normal") for e in parse(mathml.inline(tex)).iter()), tex


def test_cases_table_is_left_aligned():
    root = parse(mathml.inline(r"\left(\begin{cases} 1 & z > 0 \\ 0.1 & z \le 0 \end{cases}\right)"))
    table = only(root, "mtable")
    assert [[text(td) for td in tr] for tr in table] == [["1", "z>0"], ["0.1", "z≤0"]]
    for td in table.iter("mtd"):
        assert td.get("columnalign") == "left"
        assert td.get("style") == "text-align: -webkit-left"
    assert [e.get("stretchy") for e in root.iter("mo") if e.text in "()"] == ["true", "true"]


def test_numeric_matrix():
    root = parse(mathml.block(r"\begin{pmatrix} 0.6652 & -0.2 \\ 1.2\times 10^{-3} & 3 \end{pmatrix}"))
    table = only(root, "mtable")
    assert [[tokens(td) for td in tr] for tr in table] == [
        [[("mn", "0.6652")], [("mo", "−"), ("mn", "0.2")]],
        [[("mn", "1.2"), ("mo", "×"), ("mn", "10"), ("mo", "−"), ("mn", "3")], [("mn", "3")]],
    ]
    assert [text(c) for c in only(root, "msup")] == ["10", "−3"]
    assert tokens(root)[0] == ("mo", "(") and tokens(root)[-1] == ("mo", ")")


def test_relations_and_symbols():
    got = tokens(parse(mathml.inline(r"a := b \le c \cdot d \approx e \in f \times g")))
    assert [t for tag, t in got if tag == "mo"] == ["≔", "≤", "·", "≈", "∈", "×"]
    assert tokens(parse(mathml.inline(r"\eta \theta \delta"))) == [("mi", "η"), ("mi", "θ"), ("mi", "δ")]


def test_text_spaces_and_escapes():
    root = parse(mathml.inline(r"\max\left(0, z\right) \quad \text{for every layer } l"))
    assert tokens(root)[0] == ("mi", "max")
    assert only(root, "mspace").get("width") == "1em"
    assert only(root, "mtext").text == f"for{NBSP}every{NBSP}layer{NBSP}"
    # latex2mathml's own serialiser would emit a raw "<" and "&" here
    assert only(parse(mathml.inline(r"\text{a < b \& 10\%}")), "mtext").text == f"a{NBSP}<{NBSP}b{NBSP}&{NBSP}10%"


def test_big_operators_take_movable_limits():
    product = only(parse(mathml.block(r"\prod_{l=1}^{L} x")), "munderover")
    assert [text(c) for c in product] == ["∏", "l=1", "L"]
    assert product[0].get("movablelimits") == "true"
    maximum = only(parse(mathml.block(r"\max_{z} \sigma'\left(z\right)")), "munder")
    assert [text(c) for c in maximum] == ["max", "z"]
    assert maximum[0].get("movablelimits") == "true"
    integral = only(parse(mathml.block(r"\int_{0}^{1} x")), "msubsup")  # TeX sets integral limits at the side
    assert text(integral[0]) == "∫"


def test_text_and_display_fractions():
    for tex, display in ((r"\tfrac{1}{2}", "false"), (r"\dfrac{1}{2}", "true")):
        style = only(parse(mathml.inline(tex)), "mstyle")
        assert style.get("displaystyle") == display
        assert [text(c) for c in only(style, "mfrac")] == ["1", "2"]


def test_sign_after_an_operator_is_a_prefix_sign():
    root = parse(mathml.inline(r"\left(- \hat{y} + y\right)^{2}"))
    signs = [(e.text, e.get("form")) for e in root.iter("mo") if e.text in ("−", "+")]
    assert signs == [("−", "prefix"), ("+", None)]


def test_output_is_byte_for_byte_stable():
    got = mathml.inline(r"\sigma'\left(z\right) \odot \mathbb{1}_{>0}")
    assert got == (
        "<math><mrow><mrow><mrow><mi>σ</mi><mo>′</mo></mrow></mrow>"
        '<mrow><mo stretchy="false" fence="true" form="prefix">(</mo><mi>z</mi>'
        '<mo stretchy="false" fence="true" form="postfix">)</mo></mrow><mo>⊙</mo>'
        '<msub><mrow><mn>𝟙</mn></mrow><mrow><mo lspace="0" rspace="0">&gt;</mo><mn>0</mn></mrow></msub></mrow></math>'
    )
    assert mathml.inline(r"\sigma'\left(z\right) \odot \mathbb{1}_{>0}") == got


# ----------------------------------------------------------------------- rows
def test_rows_is_a_three_column_table():
    markup = mathml.rows(
        [
            (
                r"\delta^{(1)}",
                "=",
                r"\left(\left(W^{(2)}\right)^{\mathsf T} \delta^{(2)}\right) \odot g'\left(z\right)",
            ),
            (r"\delta^{(2)}_{1}", ":=", r"\frac{\partial C}{\partial z^{(2)}_{1}}"),
            ("W^{(1)}", r"\leftarrow", r"W^{(1)} - \eta \frac{\partial C}{\partial W^{(1)}}"),
            ("b^{(1)}", "<-", "b^{(1)}"),
            ("", r"\approx", "0.6652"),
        ]
    )
    assert "aligned" not in markup
    root = parse(markup)
    assert (root.tag, root.get("display")) == ("math", "block")
    table = root[0]
    assert table.tag == "mtable"
    assert (table.get("columnalign"), table.get("displaystyle")) == ("right center left", "true")
    assert len(table) == 5
    for tr in table:
        assert tr.tag == "mtr" and [td.tag for td in tr] == ["mtd", "mtd", "mtd"]
        assert [td.get("columnalign") for td in tr] == ["right", "center", "left"]
        assert [td.get("style").split(";")[0] for td in tr] == [
            "text-align: -webkit-right",
            "text-align: -webkit-center",
            "text-align: -webkit-left",
        ]
    assert [text(tr[1]) for tr in table] == ["=", "≔", "←", "←", "≈"]
    assert [text(tr[0]) for tr in table] == ["δ(1)", "δ1(2)", "W(1)", "b(1)", ""]
    assert len(table[4][0]) == 0  # an empty left side is an empty cell
    relation = only(table[0][1], "mo")
    assert (relation.get("lspace"), relation.get("rspace")) == ("0", "0")  # the cell's padding spaces it
    assert mathml.THICK_SPACE in table[0][1].get("style")
    assert only(table[1][2], "mfrac") is not None


def test_rows_needs_equations():
    with pytest.raises(ValueError, match="at least one"):
        mathml.rows([])


# --------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    "tex",
    [r"\frac{a}", r"\foo x", r"\left( x", "}", "a & b", r"\begin{pmatrix} 1", "x^", r"\operatorname*{max}"],
)
def test_bad_latex_raises_value_error_naming_it(tex):
    with pytest.raises(ValueError) as caught:
        mathml.inline(tex)
    assert repr(tex) in str(caught.value)


def test_empty_latex_raises():
    with pytest.raises(ValueError, match="empty"):
        mathml.block("  ")


def test_bad_cell_in_rows_raises():
    with pytest.raises(ValueError, match=r"\\\\foo"):
        mathml.rows([("a", "=", r"\foo")])


# ------------------------------------------------- everything derive prints
# `derived` (conftest.py): every string derive prints for the examples and two more networks.
def assert_clean(root: ET.Element, source: str) -> None:
    """No raw TeX (a backslash or an apostrophe prime) in any text, no style left to ``mathvariant``."""
    for element in root.iter():
        for chunk in (element.text, element.tail):
            assert chunk is None or ("\\" not in chunk and "'" not in chunk), (source, chunk)
        assert element.get("mathvariant") in (None, "normal"), source
    assert all(len(frac) == 2 for frac in root.iter("mfrac")), source


def test_every_string_of_every_example_converts(derived):
    strings, groups = derived
    covered = "".join(strings)
    for construct in (
        r"\frac",
        r"\hat",
        r"\mathsf T",
        r"\odot",
        r"\nabla",
        r"\operatorname{ReLU}",
        r"\left[z > 0\right]",
    ):
        assert construct in covered, construct
    for construct in (r"\begin{cases}", r"\sum_{s=1}^{m}", r"\log", r"\eta", r"\theta", r"\tanh", "e^{"):
        assert construct in covered, construct
    assert len(strings) > 1000
    for tex in sorted(set(strings)):
        for markup in (mathml.inline(tex), mathml.block(tex)):
            assert "aligned" not in markup
            assert_clean(parse(markup), tex)
    for group in groups:
        markup = mathml.rows(group)
        assert "aligned" not in markup
        root = parse(markup)
        assert_clean(root, str(group))
        assert [len(tr) for tr in root[0]] == [3] * len(group)


@pytest.mark.parametrize("tex", [r"\lVert W \rVert - 1", r"|x| - 1", r"(x) - 1", r"\lceil x \rceil - 1"])
def test_a_sign_after_a_closing_fence_is_binary(tex: str) -> None:
    """‖W‖ − 1 subtracts: the minus after a closing fence is not a prefix sign (no form="prefix")."""
    markup = mathml.inline(tex)
    assert "<mo>−</mo>" in markup and 'form="prefix"' not in markup, markup


def test_a_sign_after_an_opening_fence_is_a_prefix() -> None:
    assert '<mo form="prefix">−</mo>' in mathml.inline(r"\lVert - x \rVert")


def test_a_sign_after_an_opening_bar_is_a_prefix_and_after_a_closing_bar_binary() -> None:
    assert "<mo>‖</mo><mo>−</mo>" in mathml.inline(r"\lVert W \rVert - \lVert V \rVert")
    assert '<mo>‖</mo><mo form="prefix">−</mo><mi>V</mi>' in mathml.inline(r"\lVert W \rVert - \lVert - V \rVert")
