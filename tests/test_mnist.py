"""The MNIST-sized example (examples/mnist.toml, 784-100-10): checked, rendered to PDF in both languages, small.

Issue 14: its check took a minute, its PDF could not be built (the picture was ten metres tall), its SVG
was 11 MB. The sizes asserted here are what a reader's files should be whatever the layer widths: the
picture draws a handful of neurons per layer, and sums and matrices are elided.
"""

from __future__ import annotations

import re
import subprocess

import pytest
from conftest import ROOT
from inprocess import run_cli

import derive
from derive.check import check

MNIST = ROOT / "examples" / "mnist.toml"
PARAMETERS = 784 * 100 + 100 + 100 * 10 + 10


def test_every_gradient_of_the_mnist_network_checks() -> None:
    report = check(derive.derive(derive.load(MNIST)), points=1, use_torch=False)
    assert len(report.parameters) == PARAMETERS == 79_510
    assert report.failed == 0
    sampled = [p for p in report.parameters if p.fd_error is not None]
    assert 3_000 <= len(sampled) <= 4_000  # finite differences on a seeded sample, the rest by the other columns
    assert all(p.symbolic == "skipped" for p in report.parameters)


@pytest.mark.slow
def test_the_mnist_network_renders_to_pdf_in_both_languages(tmp_path) -> None:
    done = run_cli("render", str(MNIST), "-o", str(tmp_path), "--format", "md,tex,html,pdf", "--lang", "en,zh")
    assert done.returncode == 0, done.stderr
    for lang in ("", ".zh"):
        pdf = tmp_path / f"mnist{lang}.pdf"
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
        pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
        assert 6 <= pages <= 16, (lang, pages)
        assert (tmp_path / f"mnist{lang}.html").stat().st_size < 600_000
        assert (tmp_path / f"mnist{lang}.md").stat().st_size < 100_000
    svg = (tmp_path / "mnist.svg").read_text(encoding="utf-8")
    assert len(svg) < 20_000 and svg.count("<line") < 100  # 78,400 arrows before
    for width in ("784", "100", "10"):
        assert f">{width}<" in svg  # each cut layer says how wide it is
