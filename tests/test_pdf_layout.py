"""The PDF's page layout: a book's line length, displays that stay whole and with the line that introduces
them, a table of contents and bookmarks, page numbers without a running head, the picture's caption, and the
same bytes from the same source.

The fast tests read the generated LaTeX; the slow ones compile seed000 (sigmoid, biases, an appendix) in
both languages and read the PDF back: its text page by page (pdftotext), its outline (the bookmarks, parsed
from the PDF's objects), and, from the log, the page of each display and of the line before it.
"""

from __future__ import annotations

import re
import subprocess
import zlib
from pathlib import Path

import pytest

from derive.present import pdf

slow = pytest.mark.slow

DOC = "seed000"
LANGS = ("en", "zh")
TEX = {lang: f"{DOC}.tex" if lang == "en" else f"{DOC}.{lang}.tex" for lang in LANGS}
CONTENTS = {"en": "Contents", "zh": "目录"}
APPENDIX = {"en": "Appendix", "zh": "附录"}
CAPTION = {
    "en": "a node marked +1 is a constant input 1, and the dashed arrows from it are the biases",
    "zh": "标着 +1 的结点是恒为 1 的输入，从它出发的虚线箭头代表偏置",
}
# Each display, in a copy of the document compiled only here, writes to the log (\write-1, at shipout) the page of
# the line just before it (P) and its own page (D); the copy's pages are the document's.
PROBE = r"""
\makeatletter
\let\deriveprobed\derivedisplay
\newcount\deriveprobes
\renewcommand{\derivedisplay}[1]{\global\advance\deriveprobes 1
  \edef\deriveprobe##1{\noexpand\write-1{derive-probe ##1 \the\deriveprobes\space\noexpand\thepage}}%
  \deriveprobe P\deriveprobed{#1\deriveprobe D}}
\makeatother
"""


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


# ------------------------------------------------------------------------------------------ the LaTeX
@pytest.mark.parametrize("lang", LANGS)
def test_displays_are_boxes_that_do_not_break(rendered, lang):
    tex = rendered[TEX[lang]]
    body = tex.split(r"\begin{document}")[1]
    assert r"\allowdisplaybreaks" not in tex
    for environment in ("align", "align*", "equation", "equation*", "gather", "gather*", "multline*"):
        assert rf"\begin{{{environment}}}" not in body
    assert r"\[" not in body and "$$" not in body
    assert body.count(r"\derivedisplay{") > 20
    # no page break above a display, none inside it, and an overwide one centred on the page
    preamble = tex.split(r"\begin{document}")[0]
    definition = preamble[preamble.index(r"\newcommand{\derivedisplay}") :]
    assert r"\par\nopagebreak" in definition and r"\makebox[\linewidth]" in definition


@pytest.mark.parametrize("lang", LANGS)
def test_preamble_asks_for_bookmarks_page_numbers_and_a_book_measure(rendered, lang):
    preamble = rendered[TEX[lang]].split(r"\begin{document}")[0]
    assert re.search(r"\\usepackage\[[^]]*bookmarks=true[^]]*\]\{hyperref\}", preamble)
    assert r"\pagestyle{plain}" in preamble
    assert "textwidth=12.4cm" in preamble
    assert r"\tableofcontents" in preamble  # printed by the first \section


def test_caption_explains_the_bias_node_only_when_there_are_biases(rendered):
    for lang in LANGS:
        assert CAPTION[lang] in rendered[TEX[lang]]
        no_bias = rendered["seed004.tex" if lang == "en" else "seed004.zh.tex"]
        caption = re.search(r"\\end\{tikzpicture\}\s*\\medskip\s*\{\\small (.*?)\\par\}\s*\\end\{minipage\}", no_bias)
        assert caption, "the picture and its caption in one box"
        assert "+1" not in caption.group(1) and "+1" not in CAPTION[lang].split("+1")[0]


# ------------------------------------------------------------------------------------------ the PDF
@pytest.fixture(scope="module")
def built(rendered, tmp_path_factory) -> dict[str, dict]:
    """Per language: the PDF's bytes, its pages' text, its bookmarks, the probes' pages, and a second build."""
    out = {}
    for lang in LANGS:
        work = tmp_path_factory.mktemp(f"layout-{lang}")
        tex = rendered[TEX[lang]]
        source = work / TEX[lang]
        source.write_text(tex, encoding="utf-8")
        first = pdf.compile_pdf(source, lang, work / "first.pdf").read_bytes()
        second = pdf.compile_pdf(source, lang, work / "second.pdf").read_bytes()
        probed = work / "probed" / TEX[lang]
        probed.parent.mkdir()
        probed.write_text(tex.replace(r"\begin{document}", PROBE + r"\begin{document}", 1), encoding="utf-8")
        log = work / "probed.log"
        pdf.compile_pdf(probed, lang, log_path=log)
        pages = pdf.pdf_text(work / "first.pdf").split("\f")
        out[lang] = {
            "bytes": first,
            "again": second,
            "pages": [page for page in pages if page.strip()],
            "outline": outline(first),
            "probes": probes(log.read_text(encoding="utf-8")),
            "probed_pages": probed_page_count(probed.with_suffix(".pdf")),
        }
    return out


def probed_page_count(path: Path) -> int:
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", info, re.MULTILINE).group(1))


def probes(log: str) -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = {}
    for kind, number, page in re.findall(r"derive-probe ([PD]) (\d+) (\d+)", log):
        found.setdefault(number, {})[kind] = page
    return found


def pdf_objects(data: bytes) -> dict[int, bytes]:
    """Each object's body by number, those inside object streams included (enough for the outline)."""
    found: dict[int, bytes] = {}
    for match in re.finditer(rb"(\d+) 0 obj(.*?)endobj", data, re.DOTALL):
        number, body = int(match.group(1)), match.group(2)
        found[number] = body
        stream = re.search(rb"stream\r?\n(.*)endstream", body, re.DOTALL)
        if stream and re.search(rb"/Type\s*/ObjStm", body[: stream.start()]):
            content = zlib.decompressobj().decompress(stream.group(1))
            first = int(re.search(rb"/First\s+(\d+)", body[: stream.start()]).group(1))
            header = [int(v) for v in content[:first].split()]
            numbers, offsets = header[0::2], [first + v for v in header[1::2]] + [len(content)]
            for k, inner in enumerate(numbers):
                found[inner] = content[offsets[k] : offsets[k + 1]]
    return found


def outline(data: bytes) -> list[tuple[int, str]]:
    """The bookmarks as (depth, title) in reading order, walking the PDF's outline tree."""
    objects = pdf_objects(data)

    def ref(body: bytes, key: bytes) -> int | None:
        found = re.search(rb"/" + key + rb"\s+(\d+)\s+0\s+R", body)
        return int(found.group(1)) if found else None

    def title(body: bytes) -> str:
        direct = re.search(rb"/Title\s*(<[0-9A-Fa-f]*>|\((?:\\.|[^\\)])*\))", body, re.DOTALL)
        token = direct.group(1) if direct else objects[ref(body, b"Title")].strip()
        return pdf_string(token).strip()

    catalog = next(body for body in objects.values() if re.search(rb"/Type\s*/Catalog", body))
    root = ref(catalog, b"Outlines")
    assert root is not None, "the PDF has no outline"
    items: list[tuple[int, str]] = []

    def walk(number: int | None, depth: int) -> None:
        while number is not None:
            body = objects[number]
            items.append((depth, title(body)))
            walk(ref(body, b"First"), depth + 1)
            number = ref(body, b"Next")

    walk(ref(objects[root], b"First"), 0)
    return items


def pdf_string(token: bytes) -> str:
    if token.startswith(b"<"):
        raw = bytes.fromhex(token[1:-1].decode("ascii"))
    else:
        escapes = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}

        def unescape(m: re.Match[bytes]) -> bytes:
            code = m.group(1)
            return bytes([int(code, 8)]) if code[:1].isdigit() else escapes.get(code, code)

        raw = re.sub(rb"\\([0-7]{1,3}|.)", unescape, token[1:-1], flags=re.DOTALL)
    if raw.startswith(b"\xfe\xff"):
        return raw[2:].decode("utf-16-be")
    return raw.decode("latin-1")


def headings(tex: str) -> list[str]:
    """The section and subsection titles of the LaTeX source, in order."""
    body = tex.split(r"\begin{document}")[1]
    return re.findall(r"^\\(?:sub)?section\{(.*)\}\s*$", body, re.MULTILINE)


def plain(title: str) -> str:
    """A heading as the PDF shows it: its inline math unwrapped."""
    return squeeze(re.sub(r"\\\(|\\\)", "", title))


def contents(pages: list[str], lang: str) -> tuple[dict[str, int], list[str]]:
    """The contents on page 1 as {number and title, squeezed: page}, and the pages without the contents."""
    lines = pages[0].splitlines()
    start = next(k for k, line in enumerate(lines) if line.strip() == CONTENTS[lang])
    blank = [not line.strip() for line in lines] + [True]
    end = next(k for k in range(start + 1, len(lines)) if blank[k] and blank[k + 1])  # ends at two blank lines
    entries, pending = {}, ""
    for line in lines[start + 1 : end]:
        if line.strip() in ("", APPENDIX[lang]):
            continue
        pending += line
        found = re.fullmatch(r"(.*?)\s+(\d+)\s*", pending)
        if found:  # an entry ends with its page; a long title wraps onto the next line
            entries[squeeze(found.group(1))] = int(found.group(2))
            pending = ""
    assert not pending
    return entries, ["\n".join(lines[:start] + lines[end:])] + pages[1:]


def page_of(pages: list[str], heading: str) -> int:
    """The 1-based page that prints ``heading`` (number and title, squeezed), however its lines wrap."""
    found = [number for number, page in enumerate(pages, start=1) if heading in squeeze(page)]
    assert found, f"heading {heading!r} not found"
    return found[0]


@slow
@pytest.mark.parametrize("lang", LANGS)
def test_bookmarks_are_the_numbered_headings_with_a_lettered_appendix(built, rendered, lang):
    items = built[lang]["outline"]
    body = rendered[TEX[lang]].split(r"\begin{document}")[1]
    assert body.count("\\appendix") == 1
    main, appendix = (
        re.findall(r"^\\(section|subsection)\{(.*)\}\s*$", part, re.MULTILINE) for part in body.split("\\appendix")
    )
    assert main and appendix
    level = {"section": 0, "subsection": 1}
    # the appendix's bookmark holds its sections, one level down
    wanted = [(level[kind], plain(t)) for kind, t in main] + [(0, APPENDIX[lang])]
    wanted += [(level[kind] + 1, plain(t)) for kind, t in appendix]
    assert [(depth, squeeze(t.split(None, 1)[-1])) for depth, t in items] == wanted
    numbers = [t.split()[0] for depth, t in items if depth == 0][:-1]
    assert numbers == [str(k) for k in range(1, len(numbers) + 1)]
    letters = [t.split()[0] for depth, t in items[len(main) + 1 :] if depth == 1]
    assert letters == list("ABCDEFGH"[: len(letters)])


@slow
@pytest.mark.parametrize("lang", LANGS)
def test_contents_on_the_first_page_name_the_pages_of_the_sections(built, lang):
    entries, pages = contents(built[lang]["pages"], lang)
    items = built[lang]["outline"]
    split = items.index((0, APPENDIX[lang]))
    sections = [t for depth, t in items[:split] if depth == 0] + [t for depth, t in items[split + 1 :] if depth == 1]
    assert list(entries) == [squeeze(t) for t in sections]
    assert APPENDIX[lang] in [line.strip() for line in built[lang]["pages"][0].splitlines()]  # its line, no page
    for entry, page in entries.items():  # settled: each entry names the page its heading is on
        assert page == page_of(pages, entry), entry


@slow
@pytest.mark.parametrize("lang", LANGS)
def test_no_running_head_only_page_numbers(built, documents, lang):
    pages = built[lang]["pages"]
    title = documents[DOC].title_zh if lang == "zh" else documents[DOC].title
    lines = [line.strip() for line in pages[0].splitlines() if line.strip()]
    assert squeeze(title).startswith(squeeze(lines[0]))  # page 1 begins with the title: no header above it
    for number, page in enumerate(pages, start=1):
        lines = [line.strip() for line in page.splitlines() if line.strip()]
        assert lines[-1] == str(number)  # the page number at the foot
        assert not re.search(rf"\s{{3,}}{number}$", lines[0])  # no header: a title and the page number
    text = "\n".join(pages)
    assert "SIGMOID" not in text and "sigmoid" in text.lower()


@slow
@pytest.mark.parametrize("lang", LANGS)
def test_caption_is_printed_under_the_picture(built, lang):
    assert squeeze(CAPTION[lang]) in squeeze("".join(built[lang]["pages"]))


def full_lines(pages: list[str]) -> list[str]:
    """Lines of running prose that are not a paragraph's last: flush left, no column gaps, followed by prose."""

    def prose(line: str) -> bool:
        return bool(line) and not line[0].isspace() and len(line) > 20 and not re.search(r"\S\s{3,}\S", line)

    out = []
    for page in pages:
        lines = page.splitlines()
        out += [line for line, after in zip(lines, lines[1:], strict=False) if prose(line) and prose(after)]
    return out


@slow
def test_lines_are_as_long_as_a_books(built):
    english = full_lines(built["en"]["pages"])
    assert len(english) > 50
    average = sum(len(line.rstrip()) for line in english) / len(english)
    assert 60 <= average <= 85, average
    chinese = [line for line in full_lines(built["zh"]["pages"]) if len(re.findall(r"[\u4e00-\u9fff]", line)) > 15]
    assert len(chinese) > 10
    hanzi = sum(len(re.findall(r"[\u3000-\u30ff\u4e00-\u9fff\uff00-\uffef]", line)) for line in chinese)
    assert 26 <= hanzi / len(chinese) <= 40, hanzi / len(chinese)


@slow
@pytest.mark.parametrize("lang", LANGS)
def test_each_display_is_on_the_page_of_the_line_before_it(built, rendered, lang):
    found = built[lang]["probes"]
    assert len(found) == rendered[TEX[lang]].split(r"\begin{document}")[1].count(r"\derivedisplay{")
    assert built[lang]["probed_pages"] == len(built[lang]["pages"])  # the probes moved nothing
    split = {number: pages for number, pages in found.items() if pages["P"] != pages["D"]}
    assert split == {}


@slow
@pytest.mark.parametrize("lang", LANGS)
def test_no_page_ends_with_a_heading(built, rendered, lang):
    wanted = {plain(h) for h in headings(rendered[TEX[lang]])}
    for number, page in enumerate(built[lang]["pages"], start=1):
        lines = [squeeze(line) for line in page.splitlines() if line.strip()][:-1]  # the page number aside
        last = re.sub(r"^[0-9A-Z](\.\d+)*", "", lines[-1])
        assert last not in wanted, f"page {number} ends with the heading {last}"


@slow
@pytest.mark.parametrize("lang", LANGS)
def test_two_builds_are_byte_identical(built, lang):
    assert built[lang]["bytes"] == built[lang]["again"]
