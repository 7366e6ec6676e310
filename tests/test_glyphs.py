"""Every macro derive's LaTeX printer emits for an activation compiles to the glyph it means, in both engines.

amssymb's ``\\mathbb`` has no digit 1: ``\\mathbb{1}`` compiled without an error and printed ⊮ in every ReLU
document. So the formulas are taken from the activation registry, through the printer (each activation's
name, its formula, its derivative written out and as g′, squared, and in its own output per neuron and as a
matrix), compiled with the document's own preamble by the engine of each language, and read back with
pdftotext. Each formula's text must hold exactly the characters an independent reading of its LaTeX
expects (a table here, from TeX's symbols to Unicode): no character of another symbol, no control or
private-use character outside a large delimiter, and no font beyond Computer/Latin Modern.

The reader of hand-written formulas (derive verify) takes derive's spelling [z > 0] and the one older
documents print, \\mathbb{1}_{>0}(z); those tests are not slow.
"""

from __future__ import annotations

import re
import subprocess
import unicodedata
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import ROOT
from sympy import Derivative, MatrixSymbol, OneMatrix, Symbol

from derive import derive, load
from derive.errors import DeriveError
from derive.model.document import DocumentOptions
from derive.present import pdf
from derive.present.latex import latex
from derive.present.render import render
from derive.rules import activations
from derive.verify import verify

slow = pytest.mark.slow

# What each command the printer may emit looks like on the page, as pdftotext gives it back.
SYMBOLS = {
    "sigma": "σ", "tanh": "tanh", "log": "log", "odot": "⊙", "circ": "◦", "le": "≤", "cdot": "·",
    "partial": "∂", "delta": "δ", "eta": "η", "nabla": "∇", "top": "⊤", "times": "×",
}  # fmt: skip
# Commands that draw nothing themselves (a delimiter or an argument follows) or only lay out.
LAYOUT = {"left", "right", "frac", "begin", "end"}
# Styled arguments: \mathbf{1} is a bold 1, \mathsf T a sans-serif T, \mathbb{1} a double-struck 1 (𝟙).
STYLED = {
    "mathbf": lambda c: c,
    "mathsf": lambda c: c,
    "mathrm": lambda c: c,
    "mathbb": lambda c: "𝟙" if c == "1" else c,
}
DELIMITERS = set("()[]{}")
_COMMAND = re.compile(
    r"\\(operatorname|begin|end)\{([^{}]*)\}|\\(mathbf|mathsf|mathrm|mathbb)\s*\{?(\w)\}?|\\([A-Za-z]+|.)"
)


def expected_glyphs(tex: str) -> set[str]:
    """The characters ``tex`` should put on the page, read from the LaTeX alone."""
    glyphs: set[str] = set()
    pos = 0
    for m in _COMMAND.finditer(tex):
        glyphs |= _plain(tex[pos : m.start()])
        pos = m.end()
        if m[1] == "operatorname":
            glyphs |= set(m[2])
        elif m[3]:
            glyphs.add(STYLED[m[3]](m[4]))
        elif m[5] is not None and m[5] not in LAYOUT and m[5] != "\\":
            if m[5] not in SYMBOLS:
                pytest.fail(f"the printer emits \\{m[5]}: add the glyph it means to SYMBOLS and look at it compiled")
            glyphs |= set(SYMBOLS[m[5]])
    return glyphs | _plain(tex[pos:])


def _plain(text: str) -> set[str]:
    text = text.replace("-", "−").replace("'", "′")
    return {c for c in text if not c.isspace() and c not in "^_{}&"}


def _junk(c: str) -> bool:
    """A character pdftotext gives for a piece of a large delimiter (TeX's cmex font has no Unicode names)."""
    return unicodedata.category(c) in ("Cc", "Co") or c == "!"


def emitted() -> list[str]:
    """Each formula the printer writes for an activation, from the registry: nothing listed by hand."""
    z, a = Symbol("z"), Symbol("a")
    vector = MatrixSymbol("a", 3, 1)
    out: list[str] = []
    for act in activations.REGISTRY.values():
        out.append(act.latex)
        if act.elementwise:
            for expr in (act.formula(z), act.derivative(z), Derivative(act.formula(z), z), act.derivative(z) ** 2):
                out.append(latex(expr))
            if act.derivative_in_output is not None:
                out.append(latex(act.derivative_in_output(a)))
            if act.derivative_in_output_matrix is not None:
                out.append(latex(act.derivative_in_output_matrix(vector, OneMatrix(3, 1))))
        else:
            out.append(latex(act.jacobian_matrix(vector)))
    return list(dict.fromkeys(out))


def test_the_step_is_printed_with_plain_glyphs() -> None:
    """ReLU′ is the Iverson bracket [z > 0], with no blackboard-bold digit that amssymb cannot draw."""
    step = latex(activations.RELU.derivative(Symbol("z")))
    assert step == r"\left[z > 0\right]"  # \left[: a bare [ after a matrix row break is its spacing
    assert expected_glyphs(step) == {"[", "z", ">", "0", "]"}
    assert not any(r"\mathbb" in tex for tex in emitted())


def test_the_reading_of_the_latex_knows_the_old_indicator() -> None:
    assert expected_glyphs(r"\mathbb{1}_{>0}\left(z\right)") == {"𝟙", ">", "0", "(", "z", ")"}
    assert expected_glyphs(r"\mathbf{1} - a^{\circ {2}}") == {"1", "−", "a", "◦", "2"}


# ------------------------------------------------------------------------------ compiled
def compile_pages(tmp_path: Path, lang: str, formulas: list[str]) -> tuple[list[str], str, str]:
    """Each formula on a page of its own under the document's preamble: the pages' text, the fonts, the log."""
    preamble = render(derive(load(ROOT / "examples" / "seed003.toml")), "tex", lang).split(r"\begin{document}")[0]
    pages = "\n".join(rf"\[{tex}\]\newpage" for tex in formulas)
    name = "glyphs.zh.tex" if lang == "zh" else "glyphs.tex"
    source = tmp_path / name
    source.write_text(preamble + "\\pagestyle{empty}\n\\begin{document}\n" + pages + "\n\\end{document}\n", "utf-8")
    log = tmp_path / "glyphs.log"
    built = pdf.compile_pdf(source, lang, log_path=log)
    text = subprocess.run(["pdftotext", str(built), "-"], capture_output=True, text=True, check=True).stdout
    fonts = subprocess.run(["pdffonts", str(built)], capture_output=True, text=True, check=True).stdout
    return text.split("\f")[: len(formulas)], fonts, log.read_text(encoding="utf-8")


def glyph_problems(tex: str, page: str) -> list[str]:
    """What is wrong with the glyphs pdftotext read from the page of ``tex``."""
    wanted = expected_glyphs(tex)
    if r"\begin{cases}" in tex:
        wanted |= {"{"}  # the brace of cases: one glyph at some sizes, pieces (not named) at others
    seen = {c for c in page if not c.isspace()}
    junk = {c for c in seen if _junk(c)}
    problems = []
    if junk and not re.search(r"\\left|\\begin\{cases\}", tex):
        problems.append(f"control or private-use characters {sorted(junk)!r} with no large delimiter")
    if seen - junk - wanted:
        problems.append(f"glyphs that are not the formula's: {sorted(seen - junk - wanted)!r}")
    if wanted - DELIMITERS - seen:  # a large delimiter is drawn from pieces pdftotext cannot name
        problems.append(f"glyphs missing: {sorted(wanted - DELIMITERS - seen)!r}")
    return problems


FONTS = re.compile(r"^[A-Z]{6}\+(CM(R|MI|SY|EX|BX|SS)\d+|LM(Roman|Sans)\w*-Regular-Identity-H)\s", re.MULTILINE)


@slow
@pytest.mark.parametrize("lang", ["en", "zh"], ids=["pdflatex", "xelatex-ctex"])
def test_every_emitted_macro_compiles_to_its_glyph(tmp_path: Path, lang: str) -> None:
    formulas = emitted()
    pages, fonts, log = compile_pages(tmp_path, lang, formulas)
    assert pdf.log_problems(log) == []
    assert len(pages) == len(formulas)
    problems = {tex: found for tex, page in zip(formulas, pages, strict=True) if (found := glyph_problems(tex, page))}
    assert problems == {}
    listed = [line for line in fonts.splitlines()[2:] if line.strip()]
    assert listed and all(FONTS.match(line) for line in listed), fonts


@slow
def test_the_check_catches_the_old_indicator(tmp_path: Path) -> None:
    """amssymb's \\mathbb{1} compiles without a word in the log, and the page shows ⊮ where 𝟙 was meant."""
    old = r"\mathbb{1}_{>0}\left(z\right)"
    pages, fonts, log = compile_pages(tmp_path, "en", [old])
    assert pdf.log_problems(log) == []
    assert glyph_problems(old, pages[0]) == ["glyphs that are not the formula's: ['⊮']", "glyphs missing: ['𝟙']"]
    assert "MSBM10" in fonts


# ------------------------------------------------------------------------ read back
RELU_NET = load(ROOT / "examples" / "seed003.toml")
SUM = r"\left(W^{(2)}_{11} \delta^{(2)}_{1} + W^{(2)}_{21} \delta^{(2)}_{2}\right)"


@pytest.mark.parametrize(
    "step",
    [
        r"[z^{(1)}_{1} > 0]",  # as derive prints it now
        r"\left[z^{(1)}_{1}>0\right]",
        r"\mathbb{1}_{>0}\left(z^{(1)}_{1}\right)",  # as derive printed it before
        r"\mathbb{1}_{>0}(z^{(1)}_{1})",
    ],
)
def test_verify_reads_both_spellings_of_the_step(step: str) -> None:
    assert verify(RELU_NET, None, rf"\delta^{{(1)}}_{{1}} = {SUM} {step}").right


def test_the_step_is_read_as_the_step() -> None:
    """Not as a bracket or a one: with the step of another unit's input the formula is wrong."""
    assert not verify(RELU_NET, None, rf"\delta^{{(1)}}_{{1}} = {SUM} \left[z^{{(1)}}_{{2}} > 0\right]").right
    assert not verify(RELU_NET, None, rf"\delta^{{(1)}}_{{1}} = {SUM}").right


def test_every_line_derive_prints_for_a_relu_layer_verifies() -> None:
    """The δ rows of the hidden ReLU layer, as the document prints them, are read back as right."""
    # with the default sections: seed003's own walk back layer by layer prints δ^{(1)} in matrix form only
    tex = render(derive(replace(RELU_NET, document=DocumentOptions())), "tex", "en")
    rows = re.findall(r"^(\\delta\^\{\(1\)\}_\{\d\}) &= (.*?)(?: \\\\)?$", tex, re.MULTILINE)
    rows = [row for row in rows if "[z^{(1)}" in row[1]]
    assert {lhs for lhs, _ in rows} == {rf"\delta^{{(1)}}_{{{j}}}" for j in range(1, 5)}
    for lhs, rhs in rows:
        assert verify(RELU_NET, None, f"{lhs} = {rhs}").right, rhs


@pytest.mark.parametrize(
    "formula", [r"\left[z^{(1)}_{1} > 1\right]", r"\left[z^{(1)}_{1} \ge 0\right]", r"z^{(1)}_{1} > 0"]
)
def test_other_comparisons_are_refused(formula: str) -> None:
    with pytest.raises(DeriveError, match="^formula: "):
        verify(RELU_NET, None, rf"\delta^{{(1)}}_{{1}} = {SUM} {formula}")
