"""A derivation, a gradient and a verdict in a notebook: a short repr, and math in the reader's notation."""

from __future__ import annotations

import html
import tomllib
from pathlib import Path

import pytest
from conftest import EXAMPLES

import derive
from derive.verify import verify


def expected_summary(path) -> str:
    """Read from the TOML by hand: name, sizes, activations, loss, parameter count."""
    spec = tomllib.loads(path.read_text(encoding="utf-8"))
    sizes = [spec["inputs"], *(layer["units"] for layer in spec["layer"])]
    bias = spec.get("bias", True)
    count = sum(n * m + (n if bias else 0) for m, n in zip(sizes, sizes[1:], strict=False))
    acts = "/".join(layer["activation"] for layer in spec["layer"])
    return f"{spec['name']}: {'-'.join(map(str, sizes))}, {acts}, {spec['loss']}, {count} parameters"


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_reprs_are_one_short_line(path) -> None:
    d = derive.derive(derive.load(path))
    assert repr(d) == f"<Derivation {expected_summary(path)}>"
    for name in d.parameters():
        text = repr(d.parameter(name))
        assert text.startswith(f"<Gradient {name}: ") and "\n" not in text and len(text) <= 100, text


def test_a_gradient_shows_in_the_readers_notation() -> None:
    # seed003 writes W^{(l)}_{ij} into neuron i from neuron j; seed004 writes w^{(l)}_{ij} from i to j.
    to_from = derive.derive(derive.load("examples/seed003.toml")).parameter("W2[1,2]")._repr_latex_()
    from_to = derive.derive(derive.load("examples/seed004.toml")).parameter("W2[1,2]")._repr_latex_()
    assert r"\partial W^{(2)}_{12}" in to_from and r"\partial w^{(2)}_{21}" in from_to
    for shown in (to_from, from_to):
        assert shown.startswith("$$\\begin{aligned}") and shown.endswith("\\end{aligned}$$")
        assert "W2[" not in shown and shown.count(r"\\") == 2  # the chain, the δ form, the closed form


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_a_derivation_shows_its_matrix_equations(path) -> None:
    net = derive.load(path)
    d = derive.derive(net)
    shown = d._repr_markdown_()
    assert shown.startswith(f"**{expected_summary(path)}**")
    rows = 1 + (net.depth - 1) + net.depth * (2 if net.bias else 1)  # δ^{(L)}, hidden δ's, ∂/∂W and ∂/∂b
    assert d._repr_latex_().count(r"\\") == rows - 1
    for layer in range(1, net.depth + 1):
        assert rf"\delta^{{({layer})}}" in shown
    assert "delta" not in shown.replace(r"\delta", "")


def test_a_verdict_shows_right_or_wrong_and_the_correct_form() -> None:
    net = derive.load("examples/seed004.toml")
    wrong = verify(net, "delta2", r"(\hat y - y)")
    assert repr(wrong) == r"<Verdict wrong: delta2 = (\hat y - y); sign, missing_derivative>"
    shown = wrong._repr_markdown_()
    assert shown.startswith("**wrong**") and f"$${wrong.correct}$$" in shown and "why:" in shown
    right = verify(net, "delta2", r"(y - \hat y)\hat y(1-\hat y)")
    assert repr(right).startswith("<Verdict right: delta2 = ") and right._repr_markdown_().startswith("**right**")


def test_html_shows_mathml_in_the_readers_notation() -> None:
    # Jupyter prefers text/html: it must hold MathML (no MathJax needed), never derive's names like W2[1,2].
    to_from = derive.derive(derive.load("examples/seed003.toml"))
    from_to = derive.derive(derive.load("examples/seed004.toml"))
    sub = "<msubsup><mi>{}</mi><mrow><mn>{}</mn></mrow>"
    assert sub.format("W", "12") in to_from.parameter("W2[1,2]")._repr_html_()
    assert sub.format("w", "21") in from_to.parameter("W2[1,2]")._repr_html_()
    for d in (to_from, from_to):
        page = d._repr_html_()
        assert page.startswith(f"<p><b>{expected_summary(Path(f'examples/{d.network.name}.toml'))}</b></p>")
        # δ at the output, the hidden δ's, ∂/∂W and ∂/∂b of every layer: one table row each.
        rows = 1 + (d.L - 1) + d.L * (2 if d.network.bias else 1)
        assert page.count("<mtr>") == rows and "W2[" not in page and "delta" not in page


def test_a_verdict_shows_itself_as_html() -> None:
    wrong = verify(derive.load("examples/seed004.toml"), "delta2", r"(\hat y - y)")
    shown = wrong._repr_html_()
    assert shown.startswith('<p><b>wrong</b></p>\n<math display="block">')
    assert f"<pre>{html.escape(wrong.text())}</pre>" in shown and "why:" in shown
