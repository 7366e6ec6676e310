"""The HTML documents on a phone (390 px wide) and on a desktop (1024 px), laid out by headless Chromium.

Every example's document, in English and in Chinese, is rendered into a temporary folder and opened at
390 × 844 and at 1024 × 844. On the phone the page never scrolls sideways: whatever is wider than the
screen (a long formula, a wide table) sits in a box of its own that scrolls (``overflow-x: auto``) and
shows it, with a shadow at the edge where more is hidden; the picture's labels and the inline fractions
are at least 10 px on the screen. On the desktop nothing needs to scroll and the picture keeps its size.

Full-page screenshots at both widths go to a folder under the test's temporary directory and, when the
environment variable ``DERIVE_SCREENSHOTS`` names a directory, there too, for a person to look at.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_browser import PNG, close_browser, shared_browser

from derive.present import render
from derive.present.picture.drawing import MIN_SCALE

pytestmark = pytest.mark.slow  # every test here drives Chromium

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1024, "height": 844}
SMALLEST = 10.0  # px on the screen: a picture label, an inline fraction's numerator and denominator
SCRIPT = 0.7  # a sub- or superscript's size relative to its base, in the picture as in TeX
STEMS = ("seed000", "seed001", "seed002", "seed003", "seed004")
CASES = [(stem, lang) for stem in STEMS for lang in render.LANGS]

# What a reader of the page at the current width meets, measured in the page itself.
_MEASURE = """() => {
  const width = document.documentElement.clientWidth;
  const style = (element) => getComputedStyle(element);
  const scrolls = (element) => ["auto", "scroll"].includes(style(element).overflowX);
  // the nearest ancestor that scrolls sideways on its own (the page itself does not count)
  const scroller = (element) => {
    for (let up = element.parentElement; up && up !== document.body; up = up.parentElement) {
      if (scrolls(up)) return up;
    }
    return null;
  };
  const name = (element) => element.tagName.toLowerCase() + (element.className && typeof element.className === "string"
    ? "." + element.className.split(" ").join(".") : "") + " «" + (element.textContent || "").trim().slice(0, 40) + "»";
  const sticking = [];  // elements past the screen's edges and in no scrolling box
  for (const element of document.body.querySelectorAll("*")) {
    const r = element.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    if ((r.right > width + 0.5 || r.left < -0.5) && scroller(element) === null) sticking.push(name(element));
  }
  // boxes that do scroll: each fits the screen, and its background draws the edge shadows
  const scrollers = [...document.body.querySelectorAll("*")]
    .filter((element) => scrolls(element) && element.scrollWidth > element.clientWidth + 1)
    .map((element) => {
      const r = element.getBoundingClientRect(), s = style(element);
      return {name: name(element), left: r.left, right: r.right, image: s.backgroundImage,
              attachment: s.backgroundAttachment, overflowY: s.overflowY};
    });
  // every run of every picture label: its font size in the SVG times the picture's scale on the screen
  const labels = [];
  const pictures = [];
  for (const svg of document.querySelectorAll("figure svg")) {
    const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
    pictures.push({scale, width: svg.getBoundingClientRect().width, natural: svg.viewBox.baseVal.width});
    for (const text of svg.querySelectorAll("text")) {
      const parts = text.querySelector("tspan") ? [...text.querySelectorAll("tspan")] : [text];
      const runs = parts.map((t) => parseFloat(style(t).fontSize) * scale);
      labels.push({text: text.textContent, base: Math.max(...runs), smallest: Math.min(...runs),
                   height: text.getBoundingClientRect().height});
    }
  }
  // fractions set inline in the text (in a paragraph, list item, table cell or aside; not a display)
  const fractions = [...document.querySelectorAll("mfrac")]
    .filter((frac) => frac.closest(".display") === null)
    .map((frac) => ({text: frac.textContent,
                     sizes: [...frac.children].map((part) => parseFloat(style(part).fontSize))}));
  // closing punctuation right after an inline formula: on the formula's line, never alone at the next one's start
  const orphans = [];
  for (const math of document.querySelectorAll("math:not([display=block])")) {
    const next = math.nextSibling;
    if (!next || next.nodeType !== Node.TEXT_NODE || !/^[)\\].,;:!?）。，、；：！？]/.test(next.data)) continue;
    const range = document.createRange();
    range.setStart(next, 0);
    range.setEnd(next, 1);
    const mark = range.getBoundingClientRect(), formula = math.getBoundingClientRect();
    if (mark.top >= formula.bottom - 1 || mark.left < formula.right - 1) {
      orphans.push(math.textContent + next.data.slice(0, 2));
    }
  }
  // a box that scrolls sideways hides what sticks out above or below it: nothing may
  const clipped = [...document.body.querySelectorAll(".scroll")]
    .filter((element) => element.scrollHeight > element.clientHeight + 0.5).map(name);
  return {scrollWidth: document.documentElement.scrollWidth, clientWidth: width, sticking, scrollers, labels,
          pictures, fractions, orphans, clipped};
}"""


@pytest.fixture(scope="module", autouse=True)
def _close_browser_after_module() -> Iterator[None]:
    yield
    close_browser()


@pytest.fixture(scope="module")
def pages(documents, tmp_path_factory) -> dict[tuple[str, str], Path]:
    """Each example's HTML document in each language, written to a temporary folder."""
    folder = tmp_path_factory.mktemp("phone-html")
    out = {}
    for stem, lang in CASES:
        path = folder / render.file_name(stem, "html", lang)
        path.write_text(render.render_document(documents[stem], "html", lang), encoding="utf-8")
        out[stem, lang] = path
    return out


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory) -> list[Path]:
    """Where screenshots go: a temporary folder and, if ``DERIVE_SCREENSHOTS`` is set, that directory."""
    folders = [tmp_path_factory.mktemp("phone-screenshots")]
    if os.environ.get("DERIVE_SCREENSHOTS"):
        folders.append(Path(os.environ["DERIVE_SCREENSHOTS"]))
        folders[-1].mkdir(parents=True, exist_ok=True)
    return folders


_SEEN: dict[tuple[Path, int], dict[str, Any]] = {}


def look(path: Path, viewport: dict[str, int], folders: list[Path]) -> dict[str, Any]:
    """Open ``path`` at ``viewport``, measure it and save a full-page screenshot into each of ``folders``.

    Once per page and width: the tests that read the same page share the measurement.
    """
    key = (path, viewport["width"])
    if key not in _SEEN:
        _SEEN[key] = _look(path, viewport, folders)
    return _SEEN[key]


def _look(path: Path, viewport: dict[str, int], folders: list[Path]) -> dict[str, Any]:
    page = shared_browser().new_page(viewport=viewport)
    try:
        page.goto(path.resolve().as_uri(), wait_until="load")
        measured = page.evaluate(_MEASURE)
        shot = folders[0] / f"{path.stem}-{viewport['width']}.png"
        page.screenshot(path=str(shot), full_page=True)
        for folder in folders[1:]:
            shutil.copyfile(shot, folder / shot.name)
    finally:
        page.close()
    assert shot.read_bytes().startswith(PNG)
    return measured


@pytest.mark.parametrize(("stem", "lang"), CASES, ids=lambda v: v)
def test_phone_page_never_scrolls_sideways(stem, lang, pages, screenshots) -> None:
    seen = look(pages[stem, lang], PHONE, screenshots)
    assert seen["scrollWidth"] <= PHONE["width"], seen["sticking"][:10]
    assert not seen["sticking"], seen["sticking"][:10]
    for box in seen["scrollers"]:
        # a box that scrolls lies within the screen, scrolls sideways only, and shows it: page-coloured
        # covers that move with the content (local) over two shadows fixed at its edges (scroll)
        assert -0.5 <= box["left"] and box["right"] <= PHONE["width"] + 0.5, box
        assert box["overflowY"] == "hidden", box
        assert box["image"].count("gradient(") == 4, box
        assert box["attachment"].startswith("local, local, scroll, scroll"), box
    assert not seen["clipped"], seen["clipped"]
    assert not seen["orphans"], seen["orphans"]  # no line starts with the ")" or 「。」 of a formula
    if stem == "seed003":  # its long chains and the notation table do not fit a phone; they scroll in place
        assert seen["scrollers"]


@pytest.mark.parametrize(("stem", "lang"), CASES, ids=lambda v: v)
def test_phone_labels_and_inline_fractions_are_readable(stem, lang, pages, screenshots) -> None:
    seen = look(pages[stem, lang], PHONE, screenshots)
    assert len(seen["pictures"]) == (2 if stem == "seed004" else 1)  # the network, and its worked example
    for picture in seen["pictures"]:
        assert picture["scale"] >= MIN_SCALE - 1e-6, picture
        assert picture["width"] <= PHONE["width"], picture
    assert seen["labels"]
    for label in seen["labels"]:
        assert label["base"] >= SMALLEST, label  # the letter or number itself
        assert label["smallest"] >= SCRIPT * SMALLEST - 1e-6, label  # its scripts, in TeX's proportion
        assert label["height"] >= SMALLEST, label
    assert seen["fractions"], "every document sets some fraction inline"
    for fraction in seen["fractions"]:
        assert min(fraction["sizes"]) >= SMALLEST, fraction


@pytest.mark.parametrize(("stem", "lang"), CASES, ids=lambda v: v)
def test_desktop_page_keeps_its_layout(stem, lang, pages, screenshots) -> None:
    seen = look(pages[stem, lang], DESKTOP, screenshots)
    assert seen["scrollWidth"] <= DESKTOP["width"]
    assert not seen["sticking"], seen["sticking"][:10]
    assert not seen["clipped"], seen["clipped"]
    for picture in seen["pictures"]:
        assert picture["scale"] == pytest.approx(1.0), picture  # drawn at its own size
    wide = [box["name"] for box in seen["scrollers"] if "display" not in box["name"]]
    assert not wide, wide  # every table fits the text column
    for label in seen["labels"]:
        assert label["base"] >= 12.0, label


_MEASURE_PROSE = """() => {
  // characters per line of each long paragraph: its width over the mean width of its own characters
  const canvas = document.createElement("canvas").getContext("2d");
  return Array.from(document.querySelectorAll("main p")).filter(p => p.textContent.length > 200).map(p => {
    const style = getComputedStyle(p);
    canvas.font = `${style.fontSize} ${style.fontFamily}`;
    const text = p.textContent.replace(/\\s+/g, " ");
    return p.getBoundingClientRect().width / (canvas.measureText(text).width / text.length);
  });
}"""


@pytest.mark.parametrize(("stem", "lang"), CASES, ids=lambda v: v)
def test_desktop_prose_has_the_measure_of_a_book(stem, lang, pages) -> None:
    """About 75 characters a line in English (30 to 45 in Chinese) at 1024 px, not the 95 of the whole column."""
    page = shared_browser().new_page(viewport=DESKTOP)
    try:
        page.goto(pages[stem, lang].resolve().as_uri(), wait_until="load")
        per_line = page.evaluate(_MEASURE_PROSE)
    finally:
        page.close()
    assert per_line
    low, high = (60, 85) if lang == "en" else (28, 45)
    assert all(low <= n <= high for n in per_line), [round(n) for n in per_line]
