"""Documents from a derivation: jinja2 templates over :mod:`derive.present.document` data."""

from __future__ import annotations

import html
import os
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import sympy

from derive import progress
from derive.engine.derivation import Derivation
from derive.errors import RenderError
from derive.files import write_atomic
from derive.model.notation import Notation
from derive.present import mathml, picture
from derive.present.document import Document, Eq, ExampleRow, build
from derive.present.document_data import check_summary
from derive.present.latex import DeriveLatexPrinter
from derive.present.pdf import compile_pdf
from derive.rules import activations, losses
from derive.templating import ENV, LANGS, add_filters

FORMATS = ("md", "tex", "html")
# Free text from a spec (a title) is escaped here, once per format, by the ``text`` macro of
# templates/format/*.j2: a spec is untrusted input, and its text must reach the reader as text.
# TeX: the ten specials, and <, >, | (which pdflatex's OT1 fonts would print as ¡, ¿, —); every
# command is a literal, so no backslash, brace or ^^ from the spec reaches TeX's input.
_TEX_TEXT = {c: "\\" + c for c in "&%$#_{}"} | {
    "\\": r"\textbackslash{}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
}
# Pairs TeX fonts join into one glyph (–, “, ”, „, ¡, ¿); an empty group between them keeps both.
_TEX_LIGATURES = frozenset({"--", "``", "''", ",,", "!`", "?`"})
# Markdown (CommonMark and GitHub's extensions): characters that open or close markup inline.
# A dollar is a character reference, not \$: GitHub's math does not reliably honour \$ outside math.
_MARKDOWN_TEXT = {c: "\\" + c for c in "\\`*_[]<>&~|#"} | {"$": "&#36;"}


def _add_filters() -> None:
    """The documents' filters: formulas as MathML, rows of equations, numbers as the LaTeX printer writes them."""
    printer = DeriveLatexPrinter()
    add_filters(
        mathml_inline=lambda tex: mathml.inline(str(tex)),
        glue_punctuation=mathml.glue_punctuation,
        mathml_rows=lambda rows: mathml.rows([(r.lhs, r.rel, r.rhs) for r in rows]),
        chained=_chained,
        factor_eq=lambda f: Eq(f.factor, "=", f.value),
        example_eq=_example_eq,
        split_cells=lambda text: str(text).split("|"),
        sci=lambda v: printer.doprint(sympy.Float(f"{float(v):.2g}", 2)),
        num=lambda v: printer.doprint(sympy.Float(f"{float(v):.6g}", 6)),
        texescape=escape_tex,
        mdescape=escape_markdown,
        htmlescape=escape_html,
        activation_words=lambda name, lang: activations.REGISTRY[name].words[lang],
        loss_words=lambda name, lang: losses.LOSSES[name].words[lang],
        check_summary=check_summary,
        max_code_error=lambda checks: max((p.code_error for p in checks), default=0.0),
        layer_tex=_layer_tex,
    )


def _layer_tex(layer: int | str, notation: dict) -> str:
    """A layer as a superscript in the document's notation (``doc.notation``): ^{(2)} or ^{2}, a number shifted
    when the input layer is numbered 1; prose writes its own layers through this, the formulas through the printer."""
    n = Notation(
        input_layer=notation["input_layer"],
        layer_marker=notation["layer_marker"],
        layer_letter=notation.get("layer_letter", "l"),
    )
    return n.layer_script(n.shown_layer(layer) if isinstance(layer, int) else layer)


def one_line(text: object) -> str:
    """``text`` with control characters and line breaks as spaces.

    A spec's text is one line of words: a newline would end a Markdown heading,
    and control characters are layout (or invalid input) to TeX and HTML.
    """
    return "".join(" " if unicodedata.category(c) in ("Cc", "Zl", "Zp") else c for c in str(text))


_TEX_RUN = 16
"""ASCII characters without a space after which TeX may break a line: a long path or word in a title
would otherwise run off the page (CJK text breaks anywhere by itself)."""


def escape_tex(text: object) -> str:
    """``text`` for TeX's text mode, typeset as written: no command, group, math or comment can start."""
    line = one_line(text)
    out = []
    run = 0
    for k, c in enumerate(line):
        out.append(_TEX_TEXT.get(c, c))
        if line[k : k + 2] in _TEX_LIGATURES:
            out.append("{}")
        run = run + 1 if c.isascii() and not c.isspace() else 0
        if run == _TEX_RUN and k + 1 < len(line):
            out.append(r"\allowbreak{}")
            run = 0
    return "".join(out)


def escape_markdown(text: object) -> str:
    """``text`` for inline Markdown, shown as written: no HTML, link, emphasis, code, math or heading mark."""
    return "".join(_MARKDOWN_TEXT.get(c, c) for c in one_line(text))


def escape_html(text: object) -> str:
    """``text`` for HTML element content or a quoted attribute (``&``, ``<``, ``>``, quotes escaped)."""
    return html.escape(one_line(text), quote=True)


def _chained(rows: list[Eq]) -> list[Eq]:
    """A left side equal to the row above is left blank, as in a chain of equalities; a right side broken
    into lines (``Eq.lines``) continues on rows of its own, with no left side and no relation."""
    out = []
    for k, r in enumerate(rows):
        same = k > 0 and r.lhs == rows[k - 1].lhs
        lines = r.lines or (r.rhs,)
        out.append(Eq("" if same else r.lhs, r.rel, lines[0], r.check, r.matrix_ok))
        out += [Eq("", "", line) for line in lines[1:]]
    return out


def _example_eq(row: ExampleRow) -> Eq:
    return Eq(row.lhs, row.rel, f"{row.formula} = {row.value}" if row.formula else row.value)


_add_filters()


def render_document(doc: Document, fmt: str, lang: str) -> str:
    """The text of one document."""
    if fmt not in FORMATS:
        raise RenderError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}")
    if lang not in LANGS:
        raise RenderError(f"unknown language {lang!r}; choose from {', '.join(LANGS)}")
    text = ENV.get_template(f"document.{fmt}.j2").render(doc=doc, lang=lang, tikz_libraries=picture.TIKZ_LIBRARIES)
    return _tidy(text)


def _tidy(text: str) -> str:
    """At most one blank line in a row, no trailing spaces, one final newline."""
    lines = [line.rstrip() for line in text.splitlines()]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip("\n") + "\n"


def render(d: Derivation, fmt: str = "md", lang: str = "en", detail: str | None = None) -> str:
    """One document for ``d`` (checked first); ``detail`` "compact" or "full" overrides the spec's."""
    return render_document(build(d, detail=detail), fmt, lang)


def file_name(name: str, fmt: str, lang: str) -> str:
    """``seed004.md`` in English, ``seed004.zh.md`` in Chinese."""
    return f"{name}.{fmt}" if lang == "en" else f"{name}.{lang}.{fmt}"


@dataclass(frozen=True)
class Written:
    """The files written, and how many checks failed in the document."""

    paths: list[Path]
    failed: int


def write(
    d: Derivation,
    out_dir: Path,
    formats: Iterable[str] = FORMATS,
    langs: Iterable[str] = ("en",),
    pdf: bool = False,
    detail: str | None = None,
) -> Written:
    """Write the documents (and the SVG picture the Markdown links to) into ``out_dir``.

    ``detail`` ("compact" or "full") overrides the spec's ``[document] detail``. Each document and PDF is a
    phase of :mod:`derive.progress` (a bar on the terminal when bars are on).
    """
    formats, langs = list(formats), list(langs)
    for fmt in formats:
        if fmt not in FORMATS:
            raise RenderError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}")
    for lang in langs:
        if lang not in LANGS:
            raise RenderError(f"unknown language {lang!r}; choose from {', '.join(LANGS)}")
    _writable(out_dir)
    doc = build(d, detail=detail)
    name = d.network.name
    texts: dict[Path, str] = {}
    for lang in langs:
        for fmt in formats:
            with progress.phase("rendering", file=file_name(name, fmt, lang)):
                texts[out_dir / file_name(name, fmt, lang)] = render_document(doc, fmt, lang)
    if "md" in formats:
        texts[out_dir / f"{name}.svg"] = doc.svg
    written = []
    for path, text in texts.items():  # everything rendered before anything is written
        _write(path, text)
        written.append(path)
    if pdf:
        for lang in langs:
            tex = out_dir / file_name(name, "tex", lang)
            if not tex.exists():  # the PDF's source is written beside it, and listed
                _write(tex, render_document(doc, "tex", lang))
                written.append(tex)
            with progress.phase("compiling", file=tex.with_suffix(".pdf").name):
                written.append(compile_pdf(tex, lang))
    return Written(written, doc.report.failed)


def _write(path: Path, text: str) -> None:
    """One document written whole, or a one-line RenderError naming it."""
    try:
        write_atomic(path, text)
    except OSError as exc:
        raise RenderError(f"{path}: cannot write ({exc.strerror or exc.__class__.__name__})") from None


def _writable(out_dir: Path) -> None:
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise RenderError(f"{out_dir}: cannot create the output directory ({err.strerror})") from None
    if not out_dir.is_dir():
        raise RenderError(f"{out_dir}: not a directory")
    if not os.access(out_dir, os.W_OK | os.X_OK):
        raise RenderError(f"{out_dir}: the output directory is not writable")


__all__ = ["FORMATS", "LANGS", "Written", "file_name", "render", "render_document", "write"]
