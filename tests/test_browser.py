"""MathML in a real browser: headless Chromium lays the math out (no JavaScript math, no network).

``inspect_html`` is the reusable part: it opens an HTML file, returns what a
reader sees as text plus the boxes of every fraction and aligned table, and
saves a screenshot. The tests run it on a page built from ``derive.present.mathml``
and on every rendered document committed under ``output/``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from derive.present import mathml

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip(f"Chromium is not installed at {CHROMIUM}", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (Python package) is not installed")
pytestmark = pytest.mark.slow  # every test here drives Chromium

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = sorted(ROOT.glob("output/*.html"))
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
RAW_TEX = re.compile(r"\\[A-Za-z]+|\^\{|_\{")
PNG = b"\x89PNG\r\n\x1a\n"

# Boxes in page coordinates: numerator and denominator of every <mfrac>; for
# every <mtable>, each row and, in each row, each cell's content.
_MEASURE = """() => {
  const box = (element) => {
    const r = element.getBoundingClientRect();
    return {left: r.left + scrollX, right: r.right + scrollX, top: r.top + scrollY,
            bottom: r.bottom + scrollY, width: r.width, height: r.height};
  };
  const fractions = [...document.querySelectorAll("mfrac")].map((frac) => ({
    numerator: box(frac.children[0]),
    denominator: box(frac.children[1]),
  }));
  const tables = [...document.querySelectorAll("mtable")].map((table) => ({
    columnalign: table.getAttribute("columnalign"),
    rows: [...table.children].map((tr) => ({
      box: box(tr),
      cells: [...tr.children].map((td) => (td.firstElementChild ? box(td.firstElementChild) : null)),
    })),
  }));
  return {fractions, tables};
}"""


_RUNNING: dict[str, Any] = {}


def shared_browser() -> Any:
    """One headless Chromium for every call, started on first use: the system's, never a downloaded one."""
    if "browser" not in _RUNNING:
        playwright = sync_api.sync_playwright().start()
        _RUNNING["playwright"] = playwright
        _RUNNING["browser"] = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
    return _RUNNING["browser"]


def close_browser() -> None:
    """Stop the shared Chromium, if it was started."""
    browser = _RUNNING.pop("browser", None)
    if browser is not None:
        browser.close()
        _RUNNING.pop("playwright").stop()


@pytest.fixture(scope="module", autouse=True)
def _close_browser_after_module() -> Iterator[None]:
    yield
    close_browser()


def inspect_html(path: Path, screenshot: Path) -> dict[str, Any]:
    """Open ``path`` in headless Chromium and report what was rendered.

    Returns ``text`` (``document.body.innerText``), ``fractions`` (for every
    ``mfrac``, the ``numerator`` and ``denominator`` boxes, in page pixels with
    left/right/top/bottom/width/height), ``tables`` (for every ``mtable``, its
    ``columnalign``, its rows' boxes and their cells' content boxes) and
    ``screenshot`` (the path of the full-page PNG saved there).
    """
    page = shared_browser().new_page(viewport={"width": 1000, "height": 800})
    try:
        page.goto(Path(path).resolve().as_uri(), wait_until="load")
        page.wait_for_load_state("load")
        measured = page.evaluate(_MEASURE)
        text = page.evaluate("() => document.body.innerText")
        page.screenshot(path=str(screenshot), full_page=True)
    finally:
        page.close()
    return {"text": text, **measured, "screenshot": Path(screenshot)}


def assert_rendered(report: dict[str, Any]) -> None:
    """No TeX left for the reader, fractions stacked, table rows one below another, a real screenshot."""
    raw = sorted(set(RAW_TEX.findall(report["text"])))
    assert not raw, f"raw TeX visible on the page: {raw}"
    for fraction in report["fractions"]:
        numerator, denominator = fraction["numerator"], fraction["denominator"]
        assert numerator["height"] > 0 and denominator["height"] > 0, fraction
        assert numerator["bottom"] <= denominator["top"] + 0.5, fraction  # numerator above the bar, denominator below
    for table in report["tables"]:
        rows = [row["box"] for row in table["rows"]]
        for upper, lower in zip(rows, rows[1:], strict=False):
            assert upper["bottom"] <= lower["top"] + 0.5, table
    image = report["screenshot"].read_bytes()
    assert image.startswith(PNG) and len(image) > 1000


# ------------------------------------------------------------------ the page
INLINE = r"\sigma'\left(z\right) = \sigma\left(z\right) \left(1 - \sigma\left(z\right)\right)"
DISPLAY = r"\frac{\partial E}{\partial w^{(2)}_{11}} = \delta^{(2)}_{1} a^{(1)}_{1}"
ROWS = [
    (r"\delta^{(2)}", "=", r"- \sigma'\left(z^{(2)}\right) \odot \nabla_{\hat{y}} E"),
    (
        r"\delta^{(1)}",
        "=",
        r"\left(\left(w^{(2)}\right)^{\mathsf T} \delta^{(2)}\right) \odot \sigma'\left(z^{(1)}\right)",
    ),
    (r"\delta^{(l)}_{j}", ":=", r"- \frac{\partial E}{\partial z^{(l)}_{j}}"),
    (r"\operatorname{ReLU}'\left(z\right)", "=", r"\left[z > 0\right]"),
    (r"w^{(1)}", "<-", r"w^{(1)} - \eta \frac{\partial E}{\partial w^{(1)}}"),
]
MORE = [
    r"J = \frac{\sum_{s=1}^{m} {C}_{s}}{m} \approx 1.2\times 10^{-3}",
    r"W^{(1)} = \begin{pmatrix} 0.6652 & -0.2 \\ 0.1 & 0.7 \end{pmatrix} \in \mathbb{R}^{2\times 3}",
    r"\left(\begin{cases} 1 & z > 0 \\ 0.1 & z \le 0 \end{cases}\right) \quad \text{for every unit}",
]


def page_html() -> str:
    body = [
        f"<p>For the sigmoid, {mathml.inline(INLINE)}, so the gradient of one weight is</p>",
        mathml.block(DISPLAY),
        "<p>and backpropagation is the group</p>",
        mathml.rows(ROWS),
        *(mathml.block(tex) for tex in MORE),
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>MathML check</title>'
        "<style>body { font-size: 22px; margin: 1em; }</style></head>\n<body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )


def test_mathml_page_renders(tmp_path: Path) -> None:
    page = tmp_path / "mathml.html"
    page.write_text(page_html(), encoding="utf-8")
    report = inspect_html(page, tmp_path / "mathml.png")
    assert_rendered(report)
    text = re.sub(r"\s", "", report["text"])  # innerText puts each MathML token on its own line
    for visible in ("𝜎′(𝑧)", "⊙", "𝖳", "∇", "[𝑧>0]", "≔", "←", "ReLU′(𝑧)", "0.6652", "foreveryunit"):
        assert visible in text, visible  # single-letter identifiers render as mathematical italics (𝜎, 𝑧)
    assert "'" not in text
    assert len(report["fractions"]) == 4  # the display equation, two in the group, and J's
    # the group is one table: 5 rows of 3 cells, left sides ending at one x, right sides starting at one x
    (group,) = [t for t in report["tables"] if t["columnalign"] == "right center left"]
    assert [len(row["cells"]) for row in group["rows"]] == [3] * len(ROWS)
    lhs_right = {round(row["cells"][0]["right"]) for row in group["rows"]}
    rhs_left = {round(row["cells"][2]["left"]) for row in group["rows"]}
    assert len(lhs_right) == 1 and len(rhs_left) == 1, (lhs_right, rhs_left)
    relation_centres = {round((row["cells"][1]["left"] + row["cells"][1]["right"]) / 2) for row in group["rows"]}
    assert len(relation_centres) == 1, relation_centres
    # measuring is repeatable: a second look at the same page gives the same boxes and text
    again = inspect_html(page, tmp_path / "again.png")
    assert again["fractions"] == report["fractions"] and again["text"] == report["text"]


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: path.name)
def test_committed_document_renders(document: Path, tmp_path: Path) -> None:
    report = inspect_html(document, tmp_path / f"{document.stem}.png")
    assert_rendered(report)
