"""A spec is untrusted input: its text reaches every document as text, and TeX stays in its directory.

A spec downloaded from a course page must not be able to copy a file of the
reader's into a PDF they then share, write files, run commands or inject
markup. Each hostile title is rendered in every format and read back: the TeX,
Markdown and HTML are parsed and must decode to the title itself; the PDFs
(marked ``slow``) must print the title literally and nothing of the files it
names. The last tests give TeX hostile input directly, as if escaping had
failed: kpathsea's paranoid file access must still refuse it.
"""

from __future__ import annotations

import re
import shutil
import socket
import tempfile
import unicodedata
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import pytest

import derive
from derive.errors import RenderError, SpecError
from derive.present import pdf, render
from derive.present.document import Document, build

slow = pytest.mark.slow

SPEC = """
inputs = 1
loss = "mse"

[[layer]]
units = 1
activation = "sigmoid"
"""

# Titles that would run TeX code if written raw. CANARY is replaced by the path (without .tex) of a
# file holding a secret, PWNED by a path beside it that must never be created.
ATTACKS = {
    "input-space": r"Net \input /etc/hostname  end",
    "input-braces": r"Net \input{/etc/passwd} end",
    "input-canary": r"Net \input{CANARY} end",
    "openin": r"Net \newread\r \openin\r=CANARY \read\r to\x \x end",
    "write18": r"Net \write18{touch PWNED} end",
    "immediate-write18": r"Net \immediate\write18{touch PWNED} end",
    "openout": r"Net \newwrite\w \immediate\openout\w=PWNED \immediate\write\w{x}\immediate\closeout\w end",
    "catcode": r"Net \catcode`\^^5c=12 \input /etc/hostname end",
    "hathat-backslash": r"Net ^^5cinput{CANARY} end",
    "hathat-xetex": r"Net ^^^^005cinput{CANARY} end",
    "def": r"Net \def\t{\input{CANARY}}\t end",
    "csname": r"Net \csname input\endcsname{CANARY} end",
    "unbalanced-close": r"Net }} \input{CANARY} {{ end",
    "unbalanced-open": r"Net {{{ end",
    "comment": r"Net % \par} \input{CANARY} end",
    "math": r"Net $\input{CANARY}$ and $$x$$ end",
    "end-document": r"Net \end{document} end",
    "specials": r"Net # & _ ~ ^ < > | \ { } $ % -- --- end",
}
# A newline, a carriage return, a form feed (LaTeX's \outer ^^L), DEL, NUL, a tab, a line separator.
CONTROL = "Net\nline two\r\f\x7f\x00\tend \u2028x"
MARKUP = r"<script>alert(1)</script> $x$ *b* _i_ `c` [x](javascript:alert(1)) ~~s~~ # | \ &lt; Title #"
HOST = socket.gethostname()
PASSWD = Path("/etc/passwd").read_text(encoding="utf-8").splitlines()[0] if Path("/etc/passwd").exists() else ""

# ------------------------------------------------------------------------------------- helpers


def toml_string(text: str) -> str:
    """``text`` as a TOML basic string: anything not printable (and quotes, backslashes) as \\u escapes."""
    body = "".join(c if c.isprintable() and c not in '"\\' else f"\\U{ord(c):08x}" for c in text)
    return f'"{body}"'


def hostile(title: str) -> derive.Network:
    """The network of a spec whose title and Chinese title are ``title``, read by derive.loads."""
    text = toml_string(title)
    return derive.loads(f'name = "hostile"\ntitle = {text}\ntitle_zh = {text}\n{SPEC}')


@dataclass(frozen=True)
class Victim:
    """A file of the reader's with a secret in it, and a path that must never be created.

    Both sit in a short directory outside any TeX run's own, so that titles naming them fit on a
    line of the PDF (an unbreakable path longer than a line runs off the page).
    """

    secret_file: Path
    secret: str
    pwned: Path


@pytest.fixture
def victim():
    where = Path(tempfile.mkdtemp(prefix="dv"))
    secret = "CANARYSECRET7f3a9c"
    (where / "s.tex").write_text(f"{secret}\n", encoding="utf-8")
    yield Victim(where / "s.tex", secret, where / "p")
    shutil.rmtree(where)


def attack(name: str, victim: Victim) -> str:
    return ATTACKS[name].replace("CANARY", str(victim.secret_file.with_suffix(""))).replace("PWNED", str(victim.pwned))


def doc_for(title: str) -> Document:
    net = hostile(title)
    assert net.title == title == net.title_zh  # TOML read it back exactly
    return build(derive.derive(net))


def one_line(text: str) -> str:
    """What every format shows of a title: control characters and line breaks become spaces."""
    return "".join(" " if unicodedata.category(c) in ("Cc", "Zl", "Zp") else c for c in text)


# A title in TeX's text mode may hold only these: named characters, escaped specials, empty groups
# (which break ligatures such as --), \allowbreak{} in long words, and characters that are not special.
_TEX_TOKEN = re.compile(
    r"\\(?P<named>textbackslash|textasciitilde|textasciicircum|textless|textgreater|textbar)\{\}"
    r"|\\(?P<escaped>[{}$&#%_])|(?P<group>\{\})|(?P<allowbreak>\\allowbreak\{\})"
    r"|(?P<plain>[^\\{}$&#%^_~\x00-\x1f\x7f])"
)
_TEX_NAMED = {
    "textbackslash": "\\",
    "textasciitilde": "~",
    "textasciicircum": "^",
    "textless": "<",
    "textgreater": ">",
    "textbar": "|",
}


def tex_title(tex: str) -> str:
    """The title of a rendered .tex, decoded; fails on anything TeX would read as more than text."""
    line = next(line for line in tex.splitlines() if line.startswith(r"{\LARGE\bfseries\raggedright "))
    assert line.endswith(r"\par}"), line
    content = line[len(r"{\LARGE\bfseries\raggedright ") : -len(r"\par}")]
    out, pos = [], 0
    while pos < len(content):
        m = _TEX_TOKEN.match(content, pos)
        assert m, f"TeX markup from the title at {content[pos : pos + 30]!r}"
        out.append(_TEX_NAMED.get(m["named"], "") if m["named"] else m["escaped"] or m["plain"] or "")
        pos = m.end()
    return "".join(out)


# Inline Markdown: a backslash escape of ASCII punctuation, the one character reference derive writes
# ($, which GitHub would read as math), or a character that opens no markup.
_MD_TOKEN = re.compile(r"\\(?P<escaped>[!-/:-@\[-`{-~])|(?P<dollar>&#36;)|(?P<plain>[^\\`*_\[\]<>&~|#$\n])")


def markdown_title(md: str) -> str:
    """The title of a rendered Markdown document, decoded as CommonMark would; fails on unescaped markup."""
    line = md.splitlines()[0]
    assert line.startswith("# "), line
    assert md.splitlines()[1] == "", "the heading must stay one line"
    out, pos, content = [], 0, line[2:]
    while pos < len(content):
        m = _MD_TOKEN.match(content, pos)
        assert m, f"Markdown markup from the title at {content[pos : pos + 30]!r}"
        out.append(m["escaped"] or ("$" if m["dollar"] else m["plain"]))
        pos = m.end()
    return "".join(out)


class _Html(HTMLParser):
    """Start tags, attribute values and the text of <title> and <h1>, as a browser would read them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.values: list[str] = []
        self.texts: dict[str, str] = {"title": "", "h1": ""}
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.values.extend(v or "" for _, v in attrs)
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self.open and self.open[-1] == tag:
            self.open.pop()

    def handle_data(self, data: str) -> None:
        if self.open and self.open[-1] in self.texts:
            self.texts[self.open[-1]] += data


def squash(text: str) -> str:
    """``text`` without white space, and without the hyphens TeX adds where it breaks a word across lines."""
    return re.sub(r"\s+", "", re.sub(r"-[ \t]*\n", "", text))


def as_printed(title: str, lang: str) -> str:
    """The title as pdftotext reads it back from derive's PDF, without white space.

    Both engines set quotes typographically (` ' " as ‘ ’ ”). pdflatex's OT1 fonts draw ^ and ~ as
    the accents ˆ and ˜ and an underscore as a rule, which pdftotext reads as ˆ, ˜ and nothing;
    xelatex's Unicode fonts print all three as they are.
    """
    text = squash(one_line(title)).replace("`", "‘").replace("'", "’").replace('"', "”")
    if lang == "en":
        text = text.replace("^", "ˆ").replace("~", "˜").replace("_", "")
    return text


def compile_document(doc: Document, lang: str, where: Path) -> str:
    """Render ``doc`` as LaTeX, compile it with derive.present.pdf and return the PDF's text."""
    tex = where / render.file_name("hostile", "tex", lang)
    tex.write_text(render.render_document(doc, "tex", lang), encoding="utf-8")
    log = where / f"hostile.{lang}.log"
    out = pdf.compile_pdf(tex, lang, log_path=log)
    assert pdf.log_problems(log.read_text(encoding="utf-8")) == []
    return pdf.pdf_text(out)


# ------------------------------------------------------------------------------ the documents


@pytest.mark.parametrize("name", ATTACKS)
def test_tex_holds_the_title_only_as_text(name, victim):
    title = attack(name, victim)
    doc = doc_for(title)
    for lang in render.LANGS:
        tex = render.render_document(doc, "tex", lang)
        assert tex_title(tex) == title
        bare = tex.replace(r"\textbackslash{}", "")
        for command in ("input", "write", "openin", "openout", "immediate", "catcode", "def", "csname", "read"):
            assert "\\" + command not in bare, command
        assert "^^" not in tex and not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", tex)
        assert tex.count(r"\begin{document}") == tex.count(r"\end{document}") == 1


@pytest.mark.parametrize("name", ATTACKS)
def test_markdown_html_and_svg_hold_the_title_only_as_text(name, victim):
    title = attack(name, victim)
    doc = doc_for(title)
    plain = doc_for("Plain")
    for lang in render.LANGS:
        assert markdown_title(render.render_document(doc, "md", lang)) == title
        page = _Html()
        page.feed(render.render_document(doc, "html", lang))
        assert page.texts == {"title": title, "h1": title}
        assert page.tags == _tags(plain, lang)  # no element from the title
    assert doc.svg == plain.svg  # the picture holds no text from the spec
    ET.fromstring(doc.svg)


def _tags(doc: Document, lang: str) -> list[str]:
    page = _Html()
    page.feed(render.render_document(doc, "html", lang))
    return page.tags


def test_markup_and_control_characters_show_as_text():
    """<script>, $…$, emphasis, code, links, #, |, newlines: literal text in every format."""
    for text in (MARKUP, CONTROL):
        doc = doc_for(text)
        shown = one_line(text)
        md = render.render_document(doc, "md", "en")
        assert markdown_title(md) == shown
        assert "<script>" not in md and "$" not in md.splitlines()[0]
        html = render.render_document(doc, "html", "en")
        page = _Html()
        page.feed(html)
        assert page.texts == {"title": shown, "h1": shown}
        assert "script" not in page.tags and not any("javascript" in v for v in page.values)
        assert tex_title(render.render_document(doc, "tex", "en")) == shown
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in render.escape_html(MARKUP)
    assert render.escape_markdown("# a | b") == r"\# a \| b"
    assert render.escape_markdown("[x](javascript:y)") == r"\[x\](javascript:y)"
    assert render.escape_markdown("$x$ `c` *b* _i_ <b>") == r"&#36;x&#36; \`c\` \*b\* \_i\_ \<b\>"


def test_tex_escapes_every_special_character():
    assert render.escape_tex("\\ { } $ & # ^ _ % ~") == (
        r"\textbackslash{} \{ \} \$ \& \# \textasciicircum{} \_ \% \textasciitilde{}"
    )
    assert render.escape_tex("< > |") == r"\textless{} \textgreater{} \textbar{}"
    assert render.escape_tex("a--b ``q'' ,,") == "a-{}-b `{}`q'{}' ,{},"  # no – “ ” „ ligatures
    assert render.escape_tex("a\nb\tc\x0cd\x7fe\x00f") == "a b c d e f"
    assert render.escape_tex("Backpropagation (article 003): 反向传播") == "Backpropagation (article 003): 反向传播"


def test_plain_titles_are_unchanged():
    """The example specs' titles need no escaping: output/ stays byte for byte what it was."""
    for path in sorted((Path(__file__).resolve().parent.parent / "examples").glob("seed*.toml")):
        net = derive.load(path)
        for title in (net.title, net.title_zh):
            assert render.escape_tex(title) == render.escape_markdown(title) == render.escape_html(title) == title


@pytest.mark.parametrize("letter", ["\\input", "a}", "$", "<b>", "α", "é", "a1", "abcd", "", " "])
def test_node_letters_are_plain_ascii_letters(letter):
    """Node letters are typeset in math mode, TikZ nodes and SVG: only 1 to 3 ASCII letters are accepted."""
    spec = SPEC + f'\n[notation]\nletters = ["a", {toml_string(letter)}]\n'
    with pytest.raises(SpecError, match=r"^<spec>: notation\.letters\[2\]: .* must be 1 to 3 ASCII letters") as e:
        derive.loads(spec)
    assert "\n" not in str(e.value)
    with pytest.raises(SpecError, match=r"^notation\.letters\[1\]: "):
        derive.Notation(letters=(letter,))
    ok = derive.loads(SPEC + '\n[notation]\nletters = ["abc", "Z"]\n')
    assert ok.notation.letters == ("abc", "Z")


@pytest.mark.parametrize("name", ["seed\n", "seed\r", "a b", "../x", ".x", "a/b", "x](javascript:y)", "\\input", "é"])
def test_name_is_a_plain_file_stem(name):
    """The name becomes file names and the Markdown's link to the picture: letters, digits, _ - . only."""
    with pytest.raises(SpecError, match=r"^<spec>: name: .* cannot be a file name") as e:
        derive.loads(f"name = {toml_string(name)}{SPEC}")
    assert "\n" not in str(e.value)
    assert derive.loads(f'name = "seed_0.a-b"{SPEC}').name == "seed_0.a-b"


# ------------------------------------------------------------------------------------ the PDFs


@slow
@pytest.mark.parametrize("lang", render.LANGS)
@pytest.mark.parametrize("name", ATTACKS)
def test_pdf_prints_the_title_and_nothing_it_names(name, lang, victim, tmp_path):
    title = attack(name, victim)
    text = compile_document(doc_for(title), lang, tmp_path)
    assert as_printed(title, lang) in squash(text)
    assert victim.secret not in text
    assert f"Net{HOST}end" not in squash(text)
    if PASSWD:
        assert PASSWD not in text
    assert sorted(p.name for p in victim.secret_file.parent.iterdir()) == ["s.tex"]


@slow
@pytest.mark.parametrize("lang", render.LANGS)
def test_pdf_prints_control_characters_as_spaces(lang, tmp_path):
    text = compile_document(doc_for(CONTROL), lang, tmp_path)
    assert "Net line two end x" in re.sub(r" +", " ", text)


# ---------------------------------------------------------------------- TeX's own file access


def test_engine_environment_is_paranoid():
    env = pdf.engine_environment(
        {
            "PATH": "/usr/bin",
            "openin_any": "a",
            "openout_any": "a",
            "openin_any_pdflatex": "a",
            "openin_any.xelatex": "a",
            "openout_any_xelatex": "a",
            "TEXMFOUTPUT": "/",
        }
    )
    assert env["openin_any"] == "p" and env["openout_any"] == "p" and env["TEXMFOUTPUT"] == ""
    assert sorted(k for k in env if "_any" in k) == ["openin_any", "openout_any"]
    assert env["PATH"] == "/usr/bin" and env["SOURCE_DATE_EPOCH"] == "0"
    default = pdf.engine_environment()
    assert (default["openin_any"], default["openout_any"], default["TEXMFOUTPUT"]) == ("p", "p", "")


def _raw(body: str, lang: str) -> str:
    cls = "ctexart" if lang == "zh" else "article"
    return f"\\documentclass{{{cls}}}\n\\begin{{document}}\n{body}\n\\end{{document}}\n"


def _tex_file(where: Path, lang: str, body: str) -> Path:
    tex = where / ("raw.zh.tex" if lang == "zh" else "raw.tex")
    tex.write_text(_raw(body, lang), encoding="utf-8")
    return tex


@slow
@pytest.mark.parametrize("lang", render.LANGS)
def test_raw_input_outside_the_directory_fails(lang, victim, tmp_path, monkeypatch):
    """``\\input`` of an absolute path (written into the .tex by hand) is refused, and the run fails."""
    where = tmp_path / "doc"
    where.mkdir()
    for target in (str(victim.secret_file), "/etc/hostname", "../" * 12 + "etc/hostname"):
        tex = _tex_file(where, lang, f"Host: [\\input{{{target}}}] end.")
        with pytest.raises(RenderError, match=r"not found"):
            pdf.compile_pdf(tex, lang)
        assert not tex.with_suffix(".pdf").exists()
    # The same file with TeX Live's default (openin_any=a) prints the secret: the attack is real here.
    monkeypatch.setitem(pdf._ENV, "openin_any", "a")
    tex = _tex_file(where, lang, f"Host: [\\input{{{victim.secret_file}}}] end.")
    assert victim.secret in pdf.pdf_text(pdf.compile_pdf(tex, lang))


@slow
@pytest.mark.parametrize("lang", render.LANGS)
def test_raw_openin_reads_nothing(lang, victim, tmp_path):
    body = f"\\newread\\r \\openin\\r={victim.secret_file} \\ifeof\\r NOTREAD\\else \\read\\r to\\x READ:\\x\\fi"
    text = pdf.pdf_text(pdf.compile_pdf(_tex_file(tmp_path, lang, body), lang))
    assert "NOTREAD" in text and victim.secret not in text


@slow
@pytest.mark.parametrize("lang", render.LANGS)
def test_raw_openout_and_write18_create_nothing(lang, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    shell = outside / "shell"
    tex = _tex_file(tmp_path, lang, f"\\immediate\\write18{{touch {shell}}}shell done.")
    assert "shell done" in pdf.pdf_text(pdf.compile_pdf(tex, lang))
    written = outside / "written.tex"
    body = f"\\newwrite\\w \\immediate\\openout\\w={written} \\immediate\\write\\w{{x}}\\immediate\\closeout\\w"
    with pytest.raises(RenderError, match="can't write on file"):
        pdf.compile_pdf(_tex_file(tmp_path, lang, body), lang)
    assert sorted(p.name for p in outside.iterdir()) == []


@slow
@pytest.mark.parametrize("lang", render.LANGS)
def test_a_long_word_in_a_title_breaks_instead_of_running_off_the_page(lang, tmp_path):
    """Without a place to break, TeX sets a 150-letter word past the margin and the page cuts it off."""
    title = "Net /very/long/" + "abcdefghij" * 15 + "/path end"
    text = compile_document(doc_for(title), lang, tmp_path)
    assert squash(title) in squash(text)
