"""The worked example drawn on the network: each neuron's value above it, its error term below (cs231n style).

The numbers are checked against a forward and backward pass written out here with NumPy from the spec's
own arrays (seed004: sigmoid layers, no biases, E = ½(y − ŷ)², δ with the sign of y − ŷ), not against
derive's record; the layout against the circles, the other numbers and the picture's edges.
"""

from __future__ import annotations

import tomllib
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from conftest import EXAMPLES

import derive
from derive.present import picture, render
from derive.present.picture import drawing

SVG = "{http://www.w3.org/2000/svg}"
SEED004 = next(path for path in EXAMPLES if path.stem == "seed004")
GREEN, RED = "#1a7f37", "#cf222e"


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def _by_hand() -> tuple[list[np.ndarray], dict[int, np.ndarray]]:
    """x, a⁽¹⁾, ŷ and δ⁽¹⁾, δ⁽²⁾ of seed004's example, from the TOML file's numbers."""
    spec = tomllib.loads(SEED004.read_text(encoding="utf-8"))["example"]
    x, y = np.array(spec["x"]), np.array(spec["y"])
    w1, w2 = np.array(spec["W1"]), np.array(spec["W2"])
    hidden = _sigmoid(w1 @ x)
    out = _sigmoid(w2 @ hidden)
    delta2 = (y - out) * out * (1 - out)
    delta1 = (w2.T @ delta2) * hidden * (1 - hidden)
    return [x, hidden, out], {1: delta1, 2: delta2}


def _numbers(svg: str) -> tuple[list[ET.Element], list[ET.Element]]:
    root = ET.fromstring(svg)
    texts = list(root.iter(f"{SVG}text"))
    return [t for t in texts if t.get("fill") == GREEN], [t for t in texts if t.get("fill") == RED]


def _value(text: str) -> float:
    mantissa, _, exponent = text.replace("\u2212", "-").partition("\u00d710")
    sup = str.maketrans("\u207b\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079", "-0123456789")
    return float(mantissa) * (10.0 ** int(exponent.translate(sup)) if exponent else 1.0)


def test_the_numbers_are_the_examples_values_and_error_terms(documents):
    doc = documents["seed004"]
    values, deltas = _by_hand()
    green, red = _numbers(doc.example_svg)
    expected_green = np.concatenate(values)
    expected_red = np.concatenate([deltas[1], deltas[2]])
    assert [_value(t.text) for t in green] == pytest.approx(expected_green, rel=5e-4)
    assert [_value(t.text) for t in red] == pytest.approx(expected_red, rel=5e-4)
    assert [t.text for t in green][:3] == ["0.5", "0.1", "\u22120.2"]  # the inputs as the spec writes them
    assert all(len(t.text.replace("\u2212", "").replace(".", "").lstrip("0")) <= 4 for t in green + red)


def test_each_number_sits_by_its_neuron_clear_of_the_others():
    network = derive.load(SEED004)
    values, deltas = _by_hand()
    svg = picture.example_svg(network, values, deltas)
    lay = picture.layout(network, numbered=True)
    width, height = lay.width, lay.height
    neurons = [node for layer in lay.layers for node in layer]
    green, red = _numbers(svg)
    assert len(green) == len(neurons) and len(red) == len(neurons) - network.inputs
    boxes = []
    for text in green + red:
        x, y = float(text.get("x")), float(text.get("y"))
        size = float(text.get("font-size"))
        half = 0.3 * size * len(text.text)  # generous: digits are about half an em wide
        box = (x - half, y - 0.8 * size, x + half, y + 0.25 * size)
        assert 0 <= box[0] and box[2] <= width and 0 <= box[1] and box[3] <= height, (text.text, box)
        for node in lay.nodes:  # outside every circle
            nx, ny = min(max(node.x, box[0]), box[2]), min(max(node.y, box[1]), box[3])
            assert np.hypot(nx - node.x, ny - node.y) > node.radius, (text.text, node)
        owner = min(neurons, key=lambda n: np.hypot(n.x - x, n.y - y))
        assert owner.x == x and abs(owner.y - y) < owner.radius + 2 * size  # right above or below its neuron
        assert (y < owner.y) == (text in green)  # values above, error terms below
        boxes.append(box)
    for k, a in enumerate(boxes):
        for b in boxes[k + 1 :]:
            assert min(a[2], b[2]) <= max(a[0], b[0]) or min(a[3], b[3]) <= max(a[1], b[1]), (a, b)
    assert all(float(t.get("font-size")) >= 13.0 for t in green + red)


def test_only_a_document_with_an_example_draws_it(documents):
    for stem, doc in documents.items():
        html = render.render_document(doc, "html", "en")
        has = doc.example_svg != ""
        assert has == (derive.load(next(p for p in EXAMPLES if p.stem == stem)).example is not None)
        assert html.count('<figure class="example">') == int(has), stem
        assert doc.example_svg not in render.render_document(doc, "md", "en") or not has
        assert doc.example_svg not in render.render_document(doc, "tex", "en") or not has
    zh = render.render_document(documents["seed004"], "html", "zh")
    assert "下方的红色数字是它的误差项" in zh


def test_small_numbers_are_written_with_a_power_of_ten():
    assert drawing._short(-1.5e-5) == "\u22121.5\u00d710\u207b\u2075"
    assert drawing._short(0.0123456) == "0.01235"
    assert _value(drawing._short(-1.5e-5)) == pytest.approx(-1.5e-5)
