"""Compiling the generated LaTeX to PDF: engines, errors, reproducibility, committed PDFs up to date.

The compile tests are marked ``slow`` (about a second each) and are independent,
so ``pytest -n auto`` spreads them over cores when pytest-xdist is installed.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ROOT

from derive.errors import DeriveError, RenderError
from derive.present import pdf

COMMITTED_TEX = sorted((ROOT / "output").glob("*.tex"))
slow = pytest.mark.slow  # register in pyproject: markers = ["slow: ..."]

ENGLISH = r"""\documentclass{article}
\usepackage{amsmath,amssymb}
\usepackage{tikz}
\begin{document}
Backpropagation: $\delta^{l} = \left((W^{l+1})^{\mathsf{T}} \delta^{l+1}\right) \odot \sigma'(z^{l})$
and $\frac{\partial C}{\partial b^{l}} = \delta^{l}$.

\begin{tikzpicture}
  \node[draw, circle] (x) at (0, 0) {input};
  \node[draw, circle] (y) at (3, 0) {output};
  \draw[->] (x) -- (y);
\end{tikzpicture}
\end{document}
"""

CHINESE = r"""\documentclass{ctexart}
\usepackage{amsmath,amssymb}
\begin{document}
前向传播之后是反向传播：$\delta^{l} = \frac{\partial C}{\partial z^{l}}$。
\end{document}
"""

BROKEN = r"""\documentclass{article}
\begin{document}
Fine so far.
Then \nosuchmacro{} breaks it.
\end{document}
"""


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_engine_for_each_language():
    assert pdf.engine_for("en") == "pdflatex"
    assert pdf.engine_for("zh") == "xelatex"
    with pytest.raises(RenderError, match="'fr'"):
        pdf.engine_for("fr")


def test_language_from_the_file_name():
    assert pdf.language_of(Path("output/seed004.zh.tex")) == "zh"
    assert pdf.language_of(Path("output/seed004.tex")) == "en"
    assert pdf.language_of(Path("output/seed004.en.tex")) == "en"


def test_render_error_is_a_derive_error():
    assert issubclass(RenderError, DeriveError)


def test_missing_engine_names_the_package(tmp_path, monkeypatch):
    tex = write(tmp_path / "doc.zh.tex", CHINESE)
    monkeypatch.setattr(pdf.shutil, "which", lambda name: None)
    with pytest.raises(RenderError, match=r"^doc\.zh\.tex: xelatex not found; install .*texlive-xetex$"):
        pdf.compile_pdf(tex, "zh")


def test_log_problems_finds_undefined_and_missing_glyphs():
    log = "\n".join(
        [
            "LaTeX Warning: Reference `eq:1' on page 1 undefined on input line 7.",
            "Missing character: There is no 前 (U+524D) in font [lmroman10-regular]:mapping=tex-text;!",
            "Overfull \\hbox (1.0pt too wide) in paragraph at lines 3--4",
            "the derivative is undefined at 0",
        ]
    )
    assert pdf.log_problems(log) == log.splitlines()[:2]


@slow
@pytest.mark.parametrize(
    ("lang", "text", "words"),
    [
        ("en", ENGLISH, ["Backpropagation", "input", "output"]),
        ("zh", CHINESE, ["前向传播", "反向传播"]),
    ],
    ids=["pdflatex", "xelatex-ctex"],
)
def test_compiles_reproducibly_with_the_text(tmp_path, lang, text, words):
    name = "doc.zh.tex" if lang == "zh" else "doc.tex"
    tex = write(tmp_path / name, text)
    log = tmp_path / "doc.log"
    first = pdf.compile_pdf(tex, lang, log_path=log)
    assert first == tmp_path / name.replace(".tex", ".pdf")
    assert first.read_bytes().startswith(b"%PDF")
    assert pdf.log_problems(log.read_text(encoding="utf-8")) == []
    content = pdf.pdf_text(first)
    for word in words:
        assert word in content
    again = pdf.compile_pdf(tex, lang, tmp_path / "again" / "doc.pdf")
    assert again.read_bytes() == first.read_bytes(), "two compiles of one file differ"
    assert not [p for p in tmp_path.rglob("*.tmp")], "a temporary PDF was left behind"


@slow
def test_broken_document_names_file_and_error_and_leaves_no_pdf(tmp_path):
    tex = write(tmp_path / "broken.tex", BROKEN)
    log = tmp_path / "broken.log"
    with pytest.raises(RenderError) as caught:
        pdf.compile_pdf(tex, "en", log_path=log)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("broken.tex: line 4: Undefined control sequence.")
    assert "nosuchmacro" in message
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.log", "broken.tex"]
    assert "! Undefined control sequence." in log.read_text(encoding="utf-8")


@slow
def test_failed_compile_keeps_the_previous_pdf(tmp_path):
    tex = write(tmp_path / "doc.tex", ENGLISH)
    built = pdf.compile_pdf(tex, "en")
    before = built.read_bytes()
    write(tex, BROKEN)
    with pytest.raises(RenderError, match=r"^doc\.tex: line 4: "):
        pdf.compile_pdf(tex, "en")
    assert built.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["doc.pdf", "doc.tex"]


@slow
@pytest.mark.parametrize("tex", COMMITTED_TEX, ids=lambda p: p.name)
def test_committed_tex_compiles_and_its_pdf_is_current(tmp_path, tex):
    fresh = tmp_path / f"{tex.stem}.pdf"
    log = tmp_path / f"{tex.stem}.log"
    pdf.compile_pdf(tex, pdf.language_of(tex), fresh, log_path=log)
    assert pdf.log_problems(log.read_text(encoding="utf-8")) == []
    committed = tex.with_suffix(".pdf")
    if not committed.is_file():
        pytest.fail(f"output/{committed.name} is not committed; compile {tex.name} and commit the PDF")
    assert pdf.pdf_text(fresh) == pdf.pdf_text(committed), f"output/{committed.name} is stale"
