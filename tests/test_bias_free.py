"""A network without biases: its documents print no bias, in any format or language (issue 13).

seed004 (from-to weights, error-term δ) and a small bias-free sigmoid network in derive's own notation are
rendered to md, tex and html in English and Chinese; no bias symbol (b^{(l)}, ∂E/∂b, a MathML b), no bias
word, no bias column, no bias check row may appear. seed003, with biases, still has all of them.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import ROOT

import derive
from derive.cli import main
from derive.engine import matrixform

FILES = ("md", "zh.md", "tex", "zh.tex", "html", "zh.html")
SMALL = """\
name = "plain"
inputs = 2
loss = "squared_error"
bias = false

[[layer]]
units = 2
activation = "sigmoid"

[[layer]]
units = 1
activation = "sigmoid"
"""
# What would show a bias: its symbol in LaTeX (b^{(1)}, b^{(l)}_{j}, \partial b), in MathML (<mi>b</mi>), its words.
BIAS_MARKS = (
    re.compile(r"\bb\^\{\("),
    re.compile(r"\\partial b"),
    re.compile(r"<mi>b</mi>"),
    re.compile(r"bias", re.IGNORECASE),
    re.compile("偏置"),
)


def _render(spec: Path, out: Path) -> dict[str, str]:
    assert main(["render", str(spec), "-o", str(out), "--lang", "en,zh", "--format", "md,tex,html", "--quiet"]) == 0
    return {suffix: (out / f"{spec.stem}.{suffix}").read_text(encoding="utf-8") for suffix in FILES}


@pytest.fixture(scope="module")
def bias_free(tmp_path_factory) -> dict[str, dict[str, str]]:
    out = tmp_path_factory.mktemp("bias_free")
    small = out / "plain.toml"
    small.write_text(SMALL, encoding="utf-8")
    return {
        "seed004": _render(ROOT / "examples" / "seed004.toml", out / "seed004"),
        "plain": _render(small, out / "plain"),
    }


@pytest.fixture(scope="module")
def with_bias(tmp_path_factory) -> dict[str, str]:
    return _render(ROOT / "examples" / "seed003.toml", tmp_path_factory.mktemp("with_bias"))


def _marks(text: str) -> list[str]:
    return [m.group(0) for pattern in BIAS_MARKS for m in pattern.finditer(text)]


@pytest.mark.parametrize("name", ["seed004", "plain"])
@pytest.mark.parametrize("suffix", FILES)
def test_no_bias_is_printed_without_biases(bias_free, name, suffix):
    text = bias_free[name][suffix]
    assert _marks(text) == [], f"{name}.{suffix}: {_marks(text)[:5]}"


@pytest.mark.parametrize("suffix", FILES)
def test_a_network_with_biases_still_prints_them(with_bias, suffix):
    text = with_bias[suffix]
    symbol = r"<mi>b</mi>" if suffix.endswith("html") else r"b^{("
    assert symbol in text
    assert ("偏置" if suffix.startswith("zh") else "bias") in text
    if not suffix.endswith("html"):
        assert r"\partial b^{(l)}" in text  # the general forms: ∂J/∂b^{(l)}_j and ∂J/∂b^{(l)}


@pytest.mark.parametrize("name", ["seed004", "plain"])
def test_the_notation_table_has_no_bias_column(bias_free, with_bias, name):
    """Seven columns without biases (layer, neurons, weights, z, a, g, δ), eight with them."""
    header = next(line for line in bias_free[name]["md"].splitlines() if line.startswith("| layer |"))
    assert header.count("|") - 1 == 7
    header = next(line for line in with_bias["md"].splitlines() if line.startswith("| layer |"))
    assert header.count("|") - 1 == 8 and "| bias |" in header
    assert r"\begin{tabular}{lllllll}" in bias_free[name]["tex"]
    assert r"\begin{tabular}{llllllll}" in with_bias["tex"]


def test_the_general_forms_are_three_without_biases(bias_free, with_bias):
    text = bias_free["seed004"]["md"]
    assert "## Any layer: the three equations" in text and "four" not in text
    assert "## 任意一层：三个基本方程" in bias_free["seed004"]["zh.md"]
    assert "## Any layer: the four equations" in with_bias["md"]
    assert "## 任意一层：四个基本方程" in with_bias["zh.md"]
    # the checks table: weight gradients only
    # the appendix's check of the layer's gradients in matrix form names ∂E/∂w alone, and ∂J/∂W with ∂J/∂b
    for suffix in ("md", "zh.md"):
        assert "| $\\partial E/\\partial w^{(1)}$ |" in bias_free["seed004"][suffix]
        assert "| $\\partial J/\\partial W^{(1)},\\ \\partial J/\\partial b^{(1)}$ |" in with_bias[suffix]


def test_the_engine_general_forms_follow_the_bias_flag():
    spec = derive.load(ROOT / "examples" / "seed004.toml")
    d = derive.derive(spec)
    names = [str(e.lhs.name) for e in matrixform.general(d)]
    assert names == ["delta(L)", "delta(l)", "dC/dW(l)"]
    index = matrixform.general_index(d)
    assert len(index) == 6 and not any("b" in str(e.lhs) for e in index)
    biased = derive.derive(derive.load(ROOT / "examples" / "seed003.toml"))
    assert [str(e.lhs.name) for e in matrixform.general(biased)] == ["delta(L)", "delta(l)", "dC/db(l)", "dC/dW(l)"]
    assert len(matrixform.general_index(biased)) == 7
