"""No symbol means two things in one document (issue 13, "Symbol clashes").

Every seed's document is rendered as Markdown and LaTeX, in English and Chinese, and scanned:

* node letters (seed000's a … f) are never a quantity's letter too: no ``X_{c}``, ``X_{ca}`` or ``X^{(1)}`` whose
  letter X names a node (a_c, b_c and e_c were the activation, the bias and the shared error), and the prose
  names the output and the shared error with the letters the equations use;
* the weight letter is the notation's everywhere: no ``W`` in a θ or w document (``z = W a`` was);
* the Jacobian's size letters are neither the batch size's letter (m, read from the batch cost
  ``\\frac{1}{m} \\sum_{s=1}^{m}``) nor n, the neuron count n^{(l)};
* the general forms' neuron indices each count one layer, read from the document's own structure: the letter
  of δ^{(l)} in its definition counts layer l; every quantity of layer l − 1, l + 1, l or L is subscripted
  with that layer's one letter (l and L: the current letter, or one other letter for another neuron of the
  same layer, as a softmax needs); a weight W^{(l)} carries the current and the previous letter, W^{(l+1)} the
  next one; each Σ runs over the letter of the layer its bound n^{(…)} counts; ``\\max`` over neurons of
  layer l uses the current letter; the prose ("row i … neuron i") uses the current letter. Four distinct
  letters, one meaning each.

And what seed000 now prints reads back: every gradient the document prints, copied from it, is judged right
by the formula reader (``derive verify``), as is a network whose letters take x, z, a, o, b and e.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import test_glyphs as glyphs

import derive
from derive.model import spec
from derive.model.notation import Notation
from derive.present import document
from derive.present.latex import latex
from derive.present.render import render_document
from derive.rules import symbols as sym
from derive.verify.verdict import verify

EXAMPLES = Path(__file__).parent.parent / "examples"
SEEDS = ("seed000", "seed001", "seed002", "seed003", "seed004")
COMBOS = [(fmt, lang) for fmt in ("md", "tex") for lang in ("en", "zh")]

# Every node letter a 2-2-2 network can lose to a quantity: x, z, a (and its first respelling o), b, e.
CROWDED = """name = "crowded"
inputs = 2
loss = "squared_error"
bias = true
[[layer]]
units = 2
activation = "sigmoid"
[[layer]]
units = 2
activation = "sigmoid"
[notation]
weight = "w"
cost = "E"
letters = ["x", "z", "a", "o", "b", "e"]
"""

_MATH = r"(?:\$|\\\()"  # inline math opens: $ in Markdown, \( in LaTeX
_END = r"(?:\$|\\\))"
_SYMBOL = r"(?<![\\A-Za-z])"  # a letter that is not part of a command or a word
_LAYER = r"\^\{\((\d+|l|l-1|l\+1|L)\)\}"


@pytest.fixture(scope="module")
def docs() -> dict[str, tuple[derive.Derivation, document.Document, dict[tuple[str, str], str]]]:
    out = {}
    nets = {name: spec.load(EXAMPLES / f"{name}.toml") for name in SEEDS}
    nets["crowded"] = spec.loads(CROWDED)
    for name, net in nets.items():
        d = derive.derive(net)
        doc = document.build(d)
        out[name] = (d, doc, {(fmt, lang): render_document(doc, fmt, lang) for fmt, lang in COMBOS})
    return out


# ------------------------------------------------------------------ node letters
def _node_letter_clashes(text: str, letters: tuple[str, ...]) -> list[str]:
    """Quantities whose letter is a node letter: X_{c}, X_{ca} with node subscripts, or X^{(l)} with a layer."""
    pairs = {p + q for p in letters for q in letters}
    found = []
    for m in re.finditer(_SYMBOL + r"([A-Za-z])_\{([A-Za-z]+)\}", text):
        base, sub = m.groups()
        if base in letters and (sub in letters or sub in pairs):
            found.append(m.group())
    for m in re.finditer(_SYMBOL + r"([A-Za-z])" + _LAYER, text):
        if m.group(1) in letters:
            found.append(m.group())
    return found


@pytest.mark.parametrize("name", [*SEEDS, "crowded"])
def test_no_node_letter_is_also_a_quantity(name: str, docs) -> None:
    d, _, texts = docs[name]
    letters = d.network.notation.letters
    for (fmt, lang), text in texts.items():
        assert not _node_letter_clashes(text, letters), (name, fmt, lang, _node_letter_clashes(text, letters)[:5])


def test_seed000_respells_the_activation_the_bias_and_the_shared_error(docs) -> None:
    """The article's letters stay on the nodes; the activation, bias and shared error take o, β and ε."""
    _, _, texts = docs["seed000"]
    for (fmt, lang), text in texts.items():
        where = (fmt, lang)
        assert r"z_{c} &= w_{ca} x_{a} + w_{cb} x_{b} + \beta_{c}" in text, where
        assert r"o_{c} &= \sigma(z_{c})" in text, where
        assert r"\varepsilon_{c} &= \frac{w_{ec} \varepsilon_{e}}{w_{ec} + w_{ed}}" in text, where
        assert r"&= o (1 - o)" in text, where  # σ′(z) = a(1 − a) in the respelled activation
        assert not re.search(r"\\frac\{\\partial E\}\{\\partial [ab]_", text), where
        # the prose names them with the letters the equations use, and says why
        out = r"to get its output " if lang == "en" else r"得到自己的输出 "
        assert re.search(out + _MATH + "o" + _END, text), where
        err = r"error " if lang == "en" else r"误差 "
        assert re.search(err + _MATH + r"\\varepsilon" + _END, text), where
        why = r"name nodes here" if lang == "en" else r"在这里是节点的名字"
        assert why in text, where


def test_the_crowded_network_takes_greek_letters(docs) -> None:
    """x, z, a, o, b and e all name nodes: the input is ξ, the weighted input ζ, the activation α, the bias β."""
    d, _, texts = docs["crowded"]
    n = d.network.notation
    assert [n.spelled(q) for q in "xzabe"] == [r"\xi", r"\zeta", r"\alpha", r"\beta", r"\varepsilon"]
    text = texts[("md", "en")]
    # nodes x, z are inputs; a, o hidden; b, e outputs
    assert r"\zeta_{a} &= w_{ax} \xi_{x} + w_{az} \xi_{z} + \beta_{a}" in text
    assert r"\alpha_{a} &= \sigma(\zeta_{a})" in text


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "zh"], ids=["pdflatex", "xelatex-ctex"])
def test_the_respellings_compile_to_their_glyphs(tmp_path: Path, lang: str, monkeypatch) -> None:
    """ξ, ζ, α, β and ε as the printer writes them, compiled under the document's preamble (tests/test_glyphs.py)."""
    greek = {"xi": "ξ", "zeta": "ζ", "alpha": "α", "beta": "β", "varepsilon": "ε"}
    monkeypatch.setattr(glyphs, "SYMBOLS", {**glyphs.SYMBOLS, **greek})
    net = spec.loads(CROWDED)
    formulas = [latex(e, net) for e in (sym.x(1), sym.z(1, 1), sym.a(1, 1), sym.b(1, 1), sym.error(1, 1))]
    assert [f.split("_")[0] for f in formulas] == [rf"\{name}" for name in greek]
    pages, _, log = glyphs.compile_pages(tmp_path, lang, formulas)
    assert glyphs.pdf.log_problems(log) == []
    problems = {
        tex: found for tex, page in zip(formulas, pages, strict=True) if (found := glyphs.glyph_problems(tex, page))
    }
    assert problems == {}


def test_a_node_letter_cannot_be_a_letter_with_a_meaning_of_its_own() -> None:
    """The weight's, target's, cost's and output's letters, and the general forms' indices, are not node letters."""
    for kwargs, taken in (
        ({"weight": "w", "letters": ("a", "w")}, "the weight"),
        ({"target": "t", "letters": ("t", "b")}, "the target"),
        ({"cost": "E", "letters": ("E", "b")}, "the cost"),
        ({"output": "o", "letters": ("o", "b")}, "the output"),
        ({"letters": ("a", "k")}, "a neuron index"),
        ({"index_order": "from_to", "letters": ("r", "b")}, "a neuron index"),
    ):
        with pytest.raises(derive.SpecError, match=f"notation.letters: '.*' already names {taken}"):
            Notation(**kwargs)
    assert Notation(letters=("a", "o", "b")).spelled("a") == r"\alpha"  # o too names a node: the last spelling


@pytest.mark.parametrize("name", ["seed000", "crowded"])
def test_what_the_document_prints_reads_back_right(name: str, docs) -> None:
    """Each gradient's product and δ form, copied from the document, is right for derive verify."""
    d, doc, texts = docs[name]
    formulas = []
    for _, grads, _, matrix in doc.gradients:
        for g in grads:
            formulas += [f"{g.product.lhs} = {g.product.rhs}", f"{g.product.lhs} = {g.delta_form.rhs}"]
        formulas += [f"{eq.lhs} = {eq.rhs}" for eq in matrix]
    for row in doc.output_delta:
        if row.lhs:
            formulas.append(f"{row.lhs} = {row.rhs}")
    table = {f"{eq.lhs} = {eq.rhs}": symbol for rows in doc.gradient_table.values() for symbol, eq in rows}
    formulas += list(table)  # the compact table prints the parameter's symbol beside its gradient
    assert len(formulas) > 20
    for formula in formulas:
        lhs, rhs = formula.split(" = ", 1)
        shown = table.get(formula, lhs)
        assert shown in texts[("md", "en")] and rhs in texts[("md", "en")], formula  # as printed
        verdict = verify(d, None, formula)
        assert verdict.right, (formula, verdict.text())


# --------------------------------------------------------------- weight letter
@pytest.mark.parametrize("name", SEEDS)
def test_the_weight_letter_is_the_notations_everywhere(name: str, docs) -> None:
    d, _, texts = docs[name]
    letter = d.network.notation.weight_latex
    for (fmt, lang), text in texts.items():
        if letter != "W":
            assert not re.search(_SYMBOL + r"W(?![A-Za-z])", _math(text, fmt)), (name, fmt, lang)
        # a layer's product, in the notation's weight letter (and with its bias where there is one)
        product = re.search(
            r"z\^\{\(l\)\} = (\\theta|w|W)\^\{\(l(?:-1)?\)\} ", text
        )  # θ^{(l-1)}: numbered by the layer it leaves
        if d.network.notation.index_order == "to_from":
            assert product and product.group(1) == letter, (name, fmt, lang)
        assert not re.search(r"z = W", text), (name, fmt, lang)


def _math(text: str, fmt: str) -> str:
    """The math of a document: inline and display, without the prose around it."""
    inline = r"\$([^$]+)\$" if fmt == "md" else r"\\\((.+?)\\\)"
    display = r"```math\n(.*?)```" if fmt == "md" else r"\\begin\{(?:aligned|equation\*?)\}(.*?)\\end\{"
    return "\n".join(re.findall(inline, text) + re.findall(display, text, re.S))


# ------------------------------------------------------------- Jacobian sizes
@pytest.mark.parametrize("name", SEEDS)
def test_the_jacobian_sizes_are_not_the_batch_size(name: str, docs) -> None:
    _, _, texts = docs[name]
    for (fmt, lang), text in texts.items():
        batch = re.search(r"\\frac\{1\}\{(\w)\} \\sum_\{s=1\}\^\{(\w)\}", text)
        assert batch and batch.group(1) == batch.group(2), (name, fmt, lang)
        sizes = re.findall(_SYMBOL + r"([a-z]) \\times ([a-z])(?![A-Za-z])", text)
        assert sizes, (name, fmt, lang)  # the chain rule's Jacobian, p × q
        for rows, cols in sizes:
            assert rows != cols, (name, fmt, lang)
            assert not {rows, cols} & {batch.group(1), "n"}, (name, fmt, lang, rows, cols)


# ------------------------------------------------------------------- indices
def _layer_indices(text: str) -> dict[str, set[str]]:
    """For each symbolic layer (l − 1, l, l + 1, L), the letters that subscript its quantities (weights aside)."""
    found: dict[str, set[str]] = {}
    for m in re.finditer(r"(?:\\delta|" + _SYMBOL + r"[a-zA-Z])" + _LAYER + r"_\{([a-z])\}", text):
        found.setdefault(m.group(1), set()).add(m.group(2))
    return found


def _weights(text: str) -> dict[str, set[tuple[str, str]]]:
    found: dict[str, set[tuple[str, str]]] = {}
    for m in re.finditer(r"(?:\\theta|(?<![\\A-Za-z])[wW])" + _LAYER + r"_\{([a-z])([a-z])\}", text):
        found.setdefault(m.group(1), set()).add((m.group(2), m.group(3)))
    return found


@pytest.mark.parametrize("name", SEEDS)
def test_each_index_letter_counts_one_layer(name: str, docs) -> None:
    d, _, texts = docs[name]
    n = d.network.notation
    for (fmt, lang), text in texts.items():
        where = (name, fmt, lang)
        current = re.search(r"\\delta\^\{\(l\)\}_\{([a-z])\} :=", text).group(1)
        used = _layer_indices(text)
        (previous,) = used["l-1"]
        (nxt,) = used["l+1"]
        own = used["l"] | used.get("L", set())
        assert current in own, where
        others = own - {current}
        assert len(others) <= 1, (where, others)  # at most one letter for another neuron of the same layer
        letters = [current, previous, nxt, *others]
        assert len(set(letters)) == len(letters), (where, letters)  # four letters, one meaning each
        # and they are the notation's
        assert (current, previous, nxt) == tuple(n.index_letter(r) for r in ("current", "previous", "next")), where
        assert others <= {n.index_letter("other")}, where
        # weights: W^{(l)} joins the current and the previous neuron, W^{(l+1)} the next and one of layer l
        order = (lambda to, frm: (to, frm)) if n.index_order == "to_from" else (lambda to, frm: (frm, to))
        weights = _weights(text)
        # numbered by the layer it leaves (article 001), derive's W^{(l)} is printed θ^{(l-1)}
        printed = {"l": "l-1", "l+1": "l"} if n.weight_layer == "source" else {"l": "l", "l+1": "l+1"}
        assert weights[printed["l"]] == {order(current, previous)}, where
        assert weights.get(printed["l+1"], set()) <= {order(nxt, j) for j in (current, *others)}, where
        # each sum runs over the letter of the layer its bound counts
        for letter, bound in re.findall(r"\\sum_\{([a-z])=1\}\^\{n\^\{\(([lL][^)]*)\)\}\}", text):
            expected = {"l-1": {previous}, "l+1": {nxt}, "l": others, "L": others}[bound]
            assert letter in expected, (where, letter, bound)
        # max over the neurons of layer l (the vanishing bound, the worked example) uses the current letter
        for letter in re.findall(r"\\max_\{?([a-z])\}?", text):
            assert letter == current, (where, letter)
        # the prose speaks of neuron i of layer l with the same letter
        for pattern in (
            r"row {m} of a weight matrix holds the weights into neuron {m}",
            r"(?:row|column) {m} holds the weights leaving neuron {m}",
            r"权重矩阵的第 {m} 行就是汇入该层第 {m} 个神经元",
            r"第 {m} (?:行|列)是从第 " + _MATH + "l" + _END + r" 层第 {m} 个神经元",
        ):
            for pair in re.findall(pattern.format(m=_MATH + r"([a-z])" + _END), text):
                assert set(pair) == {current}, (where, pattern, pair)


def test_the_softmax_prose_uses_the_current_and_the_other_letter(docs) -> None:
    d, _, texts = docs["seed003"]
    n = d.network.notation
    i, r = n.index_letter("current"), n.index_letter("other")
    for (fmt, lang), text in texts.items():
        m, e = _MATH, _END
        assert re.search(f"{m}a_{r}{e}" + r"[^$]*?" + f"{m}z_{i}{e}", text), (fmt, lang)
        assert f"\\partial a_{r} / \\partial z_{i}" in text, (fmt, lang)
        assert "a_k" not in text and "z_j" not in text, (fmt, lang)
