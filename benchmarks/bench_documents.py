"""Documents of wide networks (issue 14): figures, measured in one run (prints; not a test).

Run as ``python benchmarks/bench_documents.py [--no-pdf]``; a few minutes on two cores, most of it the check.

1. The picture of a network whose layers are 10, 100, 1000 and 10,000 wide: the SVG's bytes and elements and the
   TikZ's lines stay the same (before issue 14, 784-100-10 drew 78,400 arrows: an 11.4 MB SVG and 80,000 TikZ
   lines, and the PDF did not build).
2. ``derive render`` of 784-100-10 (sigmoid, softmax, cross-entropy) phase by phase: deriving and checking (the
   engine's and the check's work), building the document, writing each format, compiling the PDF; each file's
   size, and the share of the whole that the documents take. Issue 14's goal is 20 s for md, tex, html and pdf.
"""

from __future__ import annotations

import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

import derive
from derive.check.gradients import check
from derive.present import picture
from derive.present.document import build
from derive.present.pdf import compile_pdf, engine_for
from derive.present.render import render_document

WIDTHS = (10, 100, 1000, 10_000)
MNIST = (784, 100, 10)


def network(sizes: tuple[int, ...]) -> derive.Network:
    layers = (derive.Layer(sizes[1], "sigmoid"), derive.Layer(sizes[2], "softmax"))
    return derive.Network(sizes[0], layers, "cross_entropy", name="mnist")


def pictures() -> None:
    print("picture of w-8-w             SVG bytes   <line>   <circle>   TikZ lines   time")
    for w in WIDTHS:
        start = time.perf_counter()
        svg, tikz = picture.svg(network((w, 8, w))), picture.tikz(network((w, 8, w)))
        took = time.perf_counter() - start
        lines, circles = len(re.findall(r"<line ", svg)), len(re.findall(r"<circle ", svg))
        figures = f"{len(svg):>10,}   {lines:>6}   {circles:>8}   {tikz.count(chr(10)):>10}"
        print(f"  w = {w:>6}              {figures}   {took * 1e3:5.0f} ms")


def render(pdf: bool) -> None:
    d = derive.derive(network(MNIST))
    phases: list[tuple[str, float]] = []
    start = time.perf_counter()
    report = check(d, use_torch=False)
    phases.append(("deriving and checking (engine, check)", time.perf_counter() - start))
    start = time.perf_counter()
    doc = build(d, report=report)
    phases.append(("building the document", time.perf_counter() - start))
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        sizes = {"mnist.svg": len(doc.svg.encode())}
        for fmt in ("md", "tex", "html"):
            start = time.perf_counter()
            text = render_document(doc, fmt, "en")
            (out / f"mnist.{fmt}").write_text(text, encoding="utf-8")
            phases.append((f"writing mnist.{fmt}", time.perf_counter() - start))
            sizes[f"mnist.{fmt}"] = len(text.encode())
        if pdf and shutil.which(engine_for("en")) is not None:
            start = time.perf_counter()
            path = compile_pdf(out / "mnist.tex", "en")
            phases.append(("compiling mnist.pdf", time.perf_counter() - start))
            sizes["mnist.pdf"] = path.stat().st_size
    total = sum(t for _, t in phases)
    documents = sum(t for name, t in phases if not name.startswith("deriving"))
    print("\nrender 784-100-10 --format md,tex,html" + (",pdf" if pdf else ""))
    for name, took in phases:
        print(f"  {name:<40} {took:7.2f} s")
    print(f"  {'total':<40} {total:7.2f} s   (goal 20 s; the documents' share {documents:.2f} s)")
    for name, size in sizes.items():
        print(f"  {name:<12} {size:>10,} bytes")


def main() -> None:
    pictures()
    render(pdf="--no-pdf" not in sys.argv)


if __name__ == "__main__":
    main()
