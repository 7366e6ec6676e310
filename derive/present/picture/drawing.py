"""A picture drawn: the layout as SVG and as TikZ, through ``picture.svg.j2`` and ``picture.tikz.j2``.

Both draw the same :class:`~derive.present.picture.placement.Layout`; TikZ uses 1 px = 0.02 cm, y up.
The numbers reach the templates through the filters ``px``, ``cm``, ``hex`` and ``rgb255``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from derive.model.network import Network
from derive.present.picture.labels import SCRIPT, SUBSCRIPT_DROP, SUPERSCRIPT_RISE, Label, stacking
from derive.present.picture.placement import (
    ARROW_LENGTH,
    SIZE_FONT,
    WEIGHT_FONT,
    Edge,
    Layout,
    Node,
    label_box,
    layout,
)
from derive.templating import ENV, add_filters

TIKZ_LIBRARIES: tuple[str, ...] = ("arrows.meta",)
"""TikZ libraries the picture needs: ``\\usetikzlibrary{arrows.meta}`` in the preamble."""

NODE_FONT = 16.0  # px; TikZ \normalsize
BIAS_FONT = 13.0  # px; TikZ \scriptsize
MIN_SCALE = 0.8
"""An SVG inlined in HTML shrinks to fit a narrow page, but never below this fraction of its size (it scrolls
instead): at 0.8 the smallest label (13 px) is still 10.4 px on the screen."""
BASELINE = 0.3  # em below a label's centre
ARROW_WIDTH = 6.0  # px
CM_PER_PX = 0.02

EDGE_WIDTH = 1.0  # px, arrows and the bias circles
NODE_WIDTH = 1.4  # px, neuron circles
DASH = (4.0, 3.0)  # px on, px off: bias arrows
HALO_WIDTH = 3.0  # px of white outline around weight labels, should a glyph stick out of its box
COLOURS: dict[str, tuple[int, int, int]] = {"edge": (51, 51, 51), "bias": (140, 140, 140), "node": (0, 0, 0)}
NUMBER_FONT = 13.0  # px: the worked example's numbers on the picture
NUMBER_GAP = 5.0  # px between a neuron's circle and its numbers
NUMBER_DIGITS = 4  # significant digits of those numbers
NUMBER_COLOURS: dict[str, tuple[int, int, int]] = {"value": (26, 127, 55), "delta": (207, 34, 46)}
FILLS: dict[str, tuple[int, int, int]] = {
    "input": (232, 240, 250),
    "hidden": (255, 255, 255),
    "output": (252, 238, 224),
    "bias": (240, 240, 240),
}


def _fixed(value: float, places: int) -> str:
    """Fixed decimals without a negative zero."""
    return f"{round(value, places) + 0.0:.{places}f}"


def _px(value: float) -> str:
    return _fixed(value, 2)


def _cm(value: float) -> str:
    return _fixed(value * CM_PER_PX, 3)


def _hex(rgb: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def _rgb255(rgb: tuple[int, int, int]) -> str:
    return "{{rgb,255:red,{};green,{};blue,{}}}".format(*rgb)


add_filters(px=_px, cm=_cm, hex=_hex, rgb255=_rgb255)


_STYLE = {
    "colours": COLOURS,
    "fills": FILLS,
    "arrow_length": ARROW_LENGTH,
    "arrow_width": ARROW_WIDTH,
    "edge_width": EDGE_WIDTH,
    "node_width": NODE_WIDTH,
    "dash": DASH,
}


@dataclass(frozen=True)
class _Tspan:
    """One SVG ``<tspan>``: text, relative shifts and size in px, style."""

    text: str
    dx: float
    dy: float
    size: float
    italic: bool


def _tspans(lab: Label, size: float) -> tuple[_Tspan, ...]:
    """The SVG runs of ``lab`` at base size ``size`` px, each shifted relative to the one before."""
    out = []
    offset = 0.0
    for run, dx in zip(lab.runs, stacking(lab, size), strict=True):
        target = {1: -SUPERSCRIPT_RISE, 0: 0.0, -1: SUBSCRIPT_DROP}[run.level] * size
        out.append(_Tspan(run.text, dx, target - offset, size * (SCRIPT if run.level else 1.0), run.italic))
        offset = target
    return tuple(out)


def _arrow(edge: Edge) -> tuple[tuple[float, float], tuple[tuple[float, float], ...]]:
    """The shaft's end (short of the tip) and the head's three corners."""
    dx, dy = edge.x2 - edge.x1, edge.y2 - edge.y1
    length = math.hypot(dx, dy)
    ux, uy = dx / length, dy / length
    bx, by = edge.x2 - ARROW_LENGTH * ux, edge.y2 - ARROW_LENGTH * uy
    half = ARROW_WIDTH / 2
    head = ((edge.x2, edge.y2), (bx - half * uy, by + half * ux), (bx + half * uy, by - half * ux))
    return (edge.x2 - (ARROW_LENGTH - 1.0) * ux, edge.y2 - (ARROW_LENGTH - 1.0) * uy), head


def svg(network: Network) -> str:
    """The picture as an SVG document.

    The same text serves as a standalone ``.svg`` file and inlined in HTML: it
    has no XML declaration, no ids, no ``<style>`` (presentation attributes
    only), no scripts and no external references, so several pictures can share
    a page without clashing.
    """
    return _render_svg(layout(network))


def example_svg(network: Network, values: list[np.ndarray], deltas: dict[int, np.ndarray]) -> str:
    """The picture with a worked example's numbers on it, as cs231n draws its circuits.

    ``values``: the input x, then each layer's output a⁽¹⁾ … a⁽ᴸ⁾, written in green above each neuron;
    ``deltas``: each layer's error term δ⁽ˡ⁾ (l ≥ 1), in red below. Weights are not named (the first
    picture names them), which leaves the room around the neurons to the numbers.
    """
    lay = layout(network, numbered=True)
    numbers = []
    for layer, nodes in enumerate(lay.layers):
        layer_values = np.asarray(values[layer], dtype=float).ravel()
        numbers += [_number(node, layer_values[node.index - 1], "value") for node in nodes]
        if layer in deltas:
            layer_deltas = np.asarray(deltas[layer], dtype=float).ravel()
            numbers += [_number(node, layer_deltas[node.index - 1], "delta") for node in nodes]
    return _render_svg(lay, numbers)


def _number(node: Node, value: float, kind: str) -> tuple[float, float, str, tuple[int, int, int]]:
    """One number beside a neuron: (x, baseline y, text, colour); a value above the circle, a δ below."""
    text = _short(value)
    if kind == "value":
        y = node.y - node.radius - NUMBER_GAP - 0.2 * NUMBER_FONT  # the descent below the baseline
    else:
        y = node.y + node.radius + NUMBER_GAP + 0.75 * NUMBER_FONT  # the height of a digit
    return (node.x, y, text, NUMBER_COLOURS[kind])


_SUPERSCRIPT = str.maketrans("-0123456789", "\u207b\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079")


def _short(value: float) -> str:
    """``value`` to NUMBER_DIGITS significant digits, with a true minus sign and 1.5×10⁻⁵ for small ones."""
    text = f"{float(value):.{NUMBER_DIGITS}g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}\u00d710{str(int(exponent)).translate(_SUPERSCRIPT)}"
    return text.replace("-", "\u2212")


def _render_svg(lay: Layout, numbers: list[tuple[float, float, str, tuple[int, int, int]]] | None = None) -> str:
    arrows = [_arrow(edge) for edge in lay.edges]
    nodes = []
    for node in lay.nodes:
        size = BIAS_FONT if node.kind == "bias" else NODE_FONT
        nodes.append((node, node.y + BASELINE * size, _tspans(node.label, size)))
    weights = [
        (
            label_box(edge.label, edge.label_x, edge.label_y, pad=1.0),
            edge.label_y + BASELINE * WEIGHT_FONT,
            _tspans(edge.label, WEIGHT_FONT),
        )
        for edge in lay.edges
        if edge.label is not None and edge.label_x is not None and edge.label_y is not None
    ]
    return ENV.get_template("picture.svg.j2").render(
        layout=lay,
        edges=list(zip(lay.edges, arrows, strict=True)),
        nodes=nodes,
        weights=weights,
        weight_font=WEIGHT_FONT,
        numbers=numbers or [],
        number_font=NUMBER_FONT,
        min_width=lay.width * MIN_SCALE,
        halo_width=HALO_WIDTH,
        ellipsis_font=NODE_FONT,
        size_font=SIZE_FONT,
        **_STYLE,
    )


def tikz(network: Network) -> str:
    """The picture as a ``tikzpicture``; needs ``\\usepackage{tikz}`` and the libraries in ``TIKZ_LIBRARIES``."""
    return _render_tikz(layout(network))


def _render_tikz(lay: Layout) -> str:
    return ENV.get_template("picture.tikz.j2").render(layout=lay, **_STYLE)
