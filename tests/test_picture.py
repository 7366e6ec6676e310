"""The network picture: one layout, drawn as SVG and TikZ."""

from __future__ import annotations

import math
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from conftest import ROOT, net

import derive
from derive.present import picture
from derive.present.pdf import engine_environment
from derive.present.picture import TIKZ_LIBRARIES, Label, Run, drawing, label, layout, placement, svg, tikz

SVG = "{http://www.w3.org/2000/svg}"


def seed(n: int) -> derive.Network:
    return derive.load(ROOT / "examples" / f"seed00{n}.toml")


def labels(nodes) -> list[str]:
    return [node.label.latex for node in nodes]


def weight_labels(lay: picture.Layout) -> dict[tuple[int, int, int], str | None]:
    return {(e.layer, e.i, e.j): (e.label.latex if e.label else None) for e in lay.edges if not e.bias}


# ------------------------------------------------------------------ labels
def test_label_runs_stack_scripts():
    assert label("a^{(1)}_{2}").runs == (Run("a", 0, True), Run("2", -1, False), Run("(1)", 1, False, stack=True))
    assert label(r"\theta^{(2)}_{13}").runs == (
        Run("θ", 0, True),
        Run("13", -1, False),
        Run("(2)", 1, False, stack=True),
    )
    # The narrower script comes first; here the superscript.
    assert label("W^{(1)}_{11,12}").runs == (
        Run("W", 0, True),
        Run("(1)", 1, False),
        Run("11,12", -1, False, stack=True),
    )


def test_label_symbols():
    assert label(r"\hat{y}").runs == (Run("ŷ", 0, True),)
    assert label("w_{ca}").runs == (Run("w", 0, True), Run("ca", -1, True))
    assert label(r"\delta_{1}").runs == (Run("δ", 0, True), Run("1", -1, False))
    assert label(r"\Delta").runs == (Run("Δ", 0, False),)
    assert label("+1").runs == (Run("+1", 0, False),)
    assert label("x_{1}") == Label("x_{1}", (Run("x", 0, True), Run("1", -1, False)))
    with pytest.raises(ValueError, match="unknown command"):
        label(r"\frac{1}{2}")
    with pytest.raises(ValueError, match="inside a script"):
        label("x_{a_1}")


# ------------------------------------------------------------------ layout
@pytest.mark.parametrize("n", range(5))
def test_nodes_per_layer_left_to_right_and_centred(n):
    network = seed(n)
    lay = layout(network)
    assert tuple(len(layer) for layer in lay.layers) == network.sizes
    for l, layer in enumerate(lay.layers):
        assert [node.index for node in layer] == list(range(1, len(layer) + 1))
        assert {node.layer for node in layer} == {l}
        assert len({node.x for node in layer}) == 1
        assert [node.y for node in layer] == sorted(node.y for node in layer)
    xs = [layer[0].x for layer in lay.layers]
    assert xs == sorted(xs) and len(set(xs)) == len(xs)
    centres = {round(sum(node.y for node in layer) / len(layer), 6) for layer in lay.layers}
    assert len(centres) == 1
    kinds = [{node.kind for node in layer} for layer in lay.layers]
    assert kinds == [{"input"}, *([{"hidden"}] * (network.depth - 1)), {"output"}]


def test_node_labels_in_the_notation():
    assert [labels(layer) for layer in layout(seed(0)).layers] == [["a", "b"], ["c", "d"], ["e", "f"]]
    assert [labels(layer) for layer in layout(seed(4)).layers] == [
        ["x_{1}", "x_{2}", "x_{3}"],
        ["a^{(1)}_{1}", "a^{(1)}_{2}"],
        [r"\hat{y}"],
    ]
    assert labels(layout(seed(2)).layers[2]) == ["y_{1}", "y_{2}"]
    assert labels(layout(seed(3)).layers[1]) == [f"a^{{(1)}}_{{{i}}}" for i in range(1, 5)]


def test_other_shapes():
    one = layout(net((2, 1), ("sigmoid",), "squared_error", bias=False))
    assert [[node.kind for node in layer] for layer in one.layers] == [["input", "input"], ["output"]]
    assert [labels(layer) for layer in one.layers] == [["x_{1}", "x_{2}"], ["a^{(1)}_{1}"]]
    assert weight_labels(one) == {(1, 1, 1): "W^{(1)}_{11}", (1, 1, 2): "W^{(1)}_{12}"}
    wide = layout(net((12, 11, 1), ("tanh", "identity"), "squared_error", output="yhat"))
    assert labels(wide.layers[1])[-1] == "a^{(1)}_{11}" and labels(wide.layers[2]) == [r"\hat{y}"]
    # 12 and 11 are wider than six: neurons 1, 2, 3 and the last are drawn, with the bias (tests/test_wide_layers.py)
    assert len(wide.edges) == (4 + 1) * 4 + (4 + 1) * 1 and all(e.label is None for e in wide.edges)
    assert wide.width > one.width and wide.height > one.height
    lettered = layout(net((1, 1), ("sigmoid",), "squared_error", output="yhat", letters=("p", "q")))
    assert [labels(layer) for layer in lettered.layers] == [["p"], ["q"]]
    assert weight_labels(lettered) == {(1, 1, 1): "W_{qp}"}


@pytest.mark.parametrize("n", range(5))
def test_edge_count_and_bias_nodes(n):
    network = seed(n)
    lay = layout(network)
    sizes = network.sizes
    weights = sum(sizes[l] * sizes[l - 1] for l in range(1, len(sizes)))
    assert sum(not e.bias for e in lay.edges) == weights
    assert sum(e.bias for e in lay.edges) == (sum(sizes[1:]) if network.bias else 0)
    assert sorted((e.layer, e.i, e.j) for e in lay.edges if not e.bias) == sorted(
        (l, i, j) for l in range(1, len(sizes)) for i in range(1, sizes[l] + 1) for j in range(1, sizes[l - 1] + 1)
    )
    if network.bias:
        assert [(b.layer, b.index, b.kind, b.label.latex) for b in lay.biases] == [
            (l, 0, "bias", "+1") for l in range(network.depth)
        ]
        for b in lay.biases:
            column = lay.layers[b.layer]
            assert b.x == column[0].x and b.y > column[-1].y
    else:
        assert lay.biases == ()
    assert all(e.label is None for e in lay.edges if e.bias)


def test_weight_labels_on_small_networks_only():
    # seed000: the letters of the printer, w_{to from} (w_{cb}: into c from b).
    assert weight_labels(layout(seed(0))) == {
        (1, 1, 1): "w_{ca}",
        (1, 1, 2): "w_{cb}",
        (1, 2, 1): "w_{da}",
        (1, 2, 2): "w_{db}",
        (2, 1, 1): "w_{ec}",
        (2, 1, 2): "w_{ed}",
        (2, 2, 1): "w_{fc}",
        (2, 2, 2): "w_{fd}",
    }
    # seed004 writes from-to: the arrow from input 1 to hidden 2 is w^{(1)}_{12}.
    lab4 = weight_labels(layout(seed(4)))
    assert lab4[(1, 2, 1)] == "w^{(1)}_{12}"
    assert lab4[(1, 1, 2)] == "w^{(1)}_{21}"
    assert lab4[(2, 1, 2)] == "w^{(2)}_{21}"
    assert (
        weight_labels(layout(seed(1)))[(2, 1, 3)] == r"\theta^{(1)}_{13}"
    )  # 12 weights: still labelled (θ by the layer it leaves)
    assert set(weight_labels(layout(seed(3))).values()) == {None}  # 20 weights: none


@pytest.mark.parametrize("n", [0, 1, 2, 4])
def test_weight_labels_sit_on_their_arrows_apart(n):
    lay = layout(seed(n))
    boxes = []
    for e in lay.edges:
        if e.label is None:
            continue
        # on the arrow, in the half nearer the source
        t = (e.label_x - e.x1) / (e.x2 - e.x1)
        assert 0.05 < t <= 0.6 + 1e-9  # the last place tried is 0.6, up to rounding
        assert e.label_y == pytest.approx(e.y1 + t * (e.y2 - e.y1))
        box = placement.label_box(e.label, e.label_x, e.label_y)
        assert not any(placement._hits_circle(box, node) for node in lay.nodes)
        boxes.append(box)
    for k, a in enumerate(boxes):
        for b in boxes[k + 1 :]:
            assert placement._overlap(a, b) == 0.0


@pytest.mark.parametrize("n", range(5))
def test_arrows_end_on_circle_borders(n):
    lay = layout(seed(n))
    nodes = {(node.layer, node.index): node for node in lay.nodes}
    for e in lay.edges:
        source, target = nodes[(e.layer - 1, e.j)], nodes[(e.layer, e.i)]
        assert math.hypot(e.x1 - source.x, e.y1 - source.y) == pytest.approx(source.radius)
        assert math.hypot(e.x2 - target.x, e.y2 - target.y) == pytest.approx(target.radius)


# --------------------------------------------------------------------- SVG
def _floats(text: str) -> list[float]:
    return [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", text)]


@pytest.mark.parametrize("n", range(5))
def test_svg_parses_and_stays_in_its_view_box(n):
    network = seed(n)
    text = svg(network)
    assert text == svg(network)
    assert not text.startswith("<?xml") and text.endswith("</svg>\n")
    root = ET.fromstring(text)
    assert root.tag == f"{SVG}svg"
    width, height = float(root.get("width")), float(root.get("height"))
    assert _floats(root.get("viewBox")) == [0.0, 0.0, width, height]
    assert root.get("viewBox") == f"0 0 {root.get('width')} {root.get('height')}"
    lay = layout(network)
    assert (width, height) == (round(lay.width, 2), round(lay.height, 2))
    everything = list(root.iter())
    assert not [el for el in everything if el.tag in (f"{SVG}script", f"{SVG}style", f"{SVG}image", f"{SVG}use")]
    assert not [k for el in everything for k in el.attrib if "href" in k or k == "id" or k.startswith("on")]
    circles = root.findall(f".//{SVG}circle")
    assert len(circles) == len(lay.nodes)
    assert len(root.findall(f".//{SVG}line")) == len(lay.edges)
    for c in circles:
        x, y, r = (float(c.get(k)) for k in ("cx", "cy", "r"))
        assert r <= x <= width - r and r <= y <= height - r
    for el in root.iter(f"{SVG}line"):
        assert all(0 <= float(el.get(k)) <= width for k in ("x1", "x2"))
        assert all(0 <= float(el.get(k)) <= height for k in ("y1", "y2"))
    for el in root.iter(f"{SVG}polygon"):
        xy = _floats(el.get("points"))
        assert all(0 <= x <= width for x in xy[::2]) and all(0 <= y <= height for y in xy[1::2])
    for el in root.iter(f"{SVG}text"):
        assert 0 < float(el.get("x")) < width and 0 < float(el.get("y")) < height
    # every number is written with fixed decimals
    numbers = re.findall(r'\s(?:x|y|x1|y1|x2|y2|cx|cy|r|dx|dy|width|height|font-size|stroke-width)="([^"]*)"', text)
    assert numbers and all(re.fullmatch(r"-?\d+\.\d\d", v) for v in numbers)


def _texts(root: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]


def test_svg_text_and_scripts():
    root = ET.fromstring(svg(seed(4)))
    texts = _texts(root)
    assert "ŷ" in texts and "x1" in texts and "a2(1)" in texts
    assert "w12(1)" in texts  # w^{(1)}_{12}: subscript first, superscript stacked over it
    assert "+1" not in texts  # no biases in article 004
    node = next(t for t in root.iter(f"{SVG}text") if "".join(t.itertext()) == "a2(1)")
    base, sub, sup = node.findall(f"{SVG}tspan")
    assert (base.text, base.get("font-style"), base.get("font-size")) == ("a", "italic", "16.00")
    assert (sub.text, sub.get("dy"), sub.get("font-size"), sub.get("font-style")) == ("2", "4.00", "11.20", None)
    assert sup.text == "(1)" and float(sup.get("dy")) == pytest.approx(-(0.42 + 0.25) * 16, abs=0.01)
    assert float(sup.get("dx")) < 0  # moves back over the subscript
    texts0 = _texts(ET.fromstring(svg(seed(0))))
    assert set("abcdef") <= set(texts0) and "wcb" in texts0 and texts0.count("+1") == 2
    assert "θ13(1)" in _texts(ET.fromstring(svg(seed(1))))  # seed001 numbers θ by the layer it leaves
    texts3 = _texts(ET.fromstring(svg(seed(3))))
    assert not any(t.startswith("W") for t in texts3) and texts3.count("+1") == 2


def test_svg_escapes_text():
    node = picture.Node(0, 1, "input", 40.0, 40.0, 19.0, Label("?", (Run("<&>", 0, True),)))
    text = drawing._render_svg(picture.Layout(80.0, 80.0, ((node,),), (), ()))
    assert ">&lt;&amp;&gt;</tspan>" in text
    assert ET.fromstring(text).find(f".//{SVG}tspan").text == "<&>"
    raw = picture.Node(0, 1, "input", 40.0, 40.0, 19.0, Label("<&>", ()))  # TikZ is not escaped
    assert "{$<&>$}" in drawing._render_tikz(picture.Layout(80.0, 80.0, ((raw,),), (), ()))


# -------------------------------------------------------------------- TikZ
def test_tikz_draws_the_layout():
    text = tikz(seed(0))
    assert text == tikz(seed(0))
    assert text.startswith(r"\begin{tikzpicture}") and text.endswith("\\end{tikzpicture}\n")
    assert TIKZ_LIBRARIES == ("arrows.meta",)
    lay = layout(seed(0))
    assert text.count("circle[radius=") == len(lay.nodes) == 8
    assert text.count(r"\draw[arrow]") == 8 and text.count(r"\draw[bias arrow]") == 4
    assert r"\node[weight] at (" in text and "{$w_{cb}$};" in text
    assert "{$c$};" in text and "{$+1$};" in text
    # the same coordinates as the SVG: 1 px = 0.02 cm, y up
    c = lay.layers[1][0]
    assert f"\\path[hidden] ({c.x * 0.02:.3f}, {(lay.height - c.y) * 0.02:.3f}) circle[radius=0.380cm];" in text
    text4 = tikz(seed(4))
    assert "{$\\hat{y}$};" in text4 and "+1" not in text4 and "{$w^{(1)}_{12}$};" in text4
    assert "weight" not in tikz(seed(3)).split("]\n", 1)[1]


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["pdflatex", "xelatex"])
def test_tikz_compiles(engine, tmp_path: Path):
    if shutil.which(engine) is None:
        pytest.skip(f"{engine} is not installed")
    pictures = "\n".join(tikz(seed(n)) for n in range(5))
    libraries = "".join(f"\\usetikzlibrary{{{name}}}\n" for name in TIKZ_LIBRARIES)
    doc = f"\\documentclass{{article}}\n\\usepackage{{tikz}}\n{libraries}"
    doc += f"\\begin{{document}}\n{pictures}\\end{{document}}\n"
    (tmp_path / "pic.tex").write_text(doc, encoding="utf-8")
    run = subprocess.run(
        [engine, "-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape", "pic.tex"],
        cwd=tmp_path,
        env=engine_environment(),  # as derive runs TeX: no reading or writing outside tmp_path
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stdout[-2000:]
    assert (tmp_path / "pic.pdf").stat().st_size > 1000
