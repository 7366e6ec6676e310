"""The picture of a network: one layout, drawn as SVG and as TikZ.

``layout`` places the neurons (layers left to right, each column centred
vertically), a ``+1`` bias node under every non-output layer when the network
has biases, and one arrow per weight, labelled with the weight's name on small
networks. ``svg`` and ``tikz`` draw that same layout through the templates
``picture.svg.j2`` and ``picture.tikz.j2``. Pictures hold no words, only
mathematical names, so they suit documents in any language.

Coordinates are SVG user units (px), y pointing down; TikZ uses 1 px = 0.02 cm.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from derive.model.network import Network
from derive.paths import TEMPLATES
from derive.present.latex import latex
from derive.rules import symbols as sym

TIKZ_LIBRARIES: tuple[str, ...] = ("arrows.meta",)
"""TikZ libraries the picture needs: ``\\usetikzlibrary{arrows.meta}`` in the preamble."""

COLUMN = 140.0  # px between layer columns
COLUMN_LABELLED = 190.0  # px between columns when the weights are labelled
ROW = 64.0  # px between neurons of a column
ROW_LABELLED = 70.0  # px between neurons when the weights are labelled
RADIUS = 19.0  # neuron radius
BIAS_RADIUS = 12.0  # bias node radius
MARGIN = 12.0  # empty border around the drawing
MAX_LABELLED_EDGES = 12  # weights are named only on networks with at most this many weights
NODE_FONT = 16.0  # px; TikZ \normalsize
WEIGHT_FONT = 12.0  # px; TikZ \scriptsize
BIAS_FONT = 11.0  # px; TikZ \scriptsize
SCRIPT = 0.7  # script size relative to the base
SUPERSCRIPT_RISE = 0.42  # em of the base size
SUBSCRIPT_DROP = 0.25  # em of the base size
BASELINE = 0.3  # em below a label's centre
ARROW_LENGTH = 8.0  # px
ARROW_WIDTH = 6.0  # px
CM_PER_PX = 0.02

EDGE_WIDTH = 1.0  # px, arrows and the bias circles
NODE_WIDTH = 1.4  # px, neuron circles
DASH = (4.0, 3.0)  # px on, px off: bias arrows
HALO_WIDTH = 3.0  # px of white outline around weight labels, should a glyph stick out of its box
COLOURS: dict[str, tuple[int, int, int]] = {"edge": (51, 51, 51), "bias": (140, 140, 140), "node": (0, 0, 0)}
FILLS: dict[str, tuple[int, int, int]] = {
    "input": (232, 240, 250),
    "hidden": (255, 255, 255),
    "output": (252, 238, 224),
    "bias": (240, 240, 240),
}


# --------------------------------------------------------------------- labels
@dataclass(frozen=True)
class Run:
    """A piece of label text set in one style.

    level: 0 on the baseline, 1 superscript, −1 subscript. stack: the run
    starts where the previous script started, so a superscript sits over its
    subscript as in TeX.
    """

    text: str
    level: int = 0
    italic: bool = False
    stack: bool = False


@dataclass(frozen=True)
class Label:
    """A label as LaTeX math (for TikZ) and as styled runs (for SVG)."""

    latex: str
    runs: tuple[Run, ...]


_TOKEN = re.compile(r"\\[A-Za-z]+|\\.|[{}^_]|\S")
_GREEK_VARIANTS = {
    "epsilon": "\u03f5",
    "varepsilon": "\u03b5",
    "vartheta": "\u03d1",
    "phi": "\u03d5",
    "varphi": "\u03c6",
    "varrho": "\u03f1",
    "varsigma": "\u03c2",
    "varpi": "\u03d6",
}
_ACCENTS = {"hat": "\u0302", "bar": "\u0304", "tilde": "\u0303", "dot": "\u0307", "vec": "\u20d7"}
_SPACES = {r"\,", r"\;", r"\:", r"\!", r"\ ", r"\quad"}


def _greek(name: str) -> str | None:
    if name in _GREEK_VARIANTS:
        return _GREEK_VARIANTS[name]
    case = "CAPITAL" if name[0].isupper() else "SMALL"
    try:
        return unicodedata.lookup(f"GREEK {case} LETTER {name.upper()}")
    except KeyError:
        return None


def _italic(char: str) -> bool:
    """Math italic as TeX sets it: Latin letters and lowercase Greek."""
    if not char.isalpha():
        return False
    base = unicodedata.normalize("NFD", char)[0]
    return base.isascii() or base.islower()


class _LabelParser:
    """Reads the small LaTeX of node and weight names: letters, digits, ^, _, \\hat, Greek."""

    def __init__(self, tex: str) -> None:
        self.tex = tex
        self.tokens = _TOKEN.findall(tex)
        self.pos = 0

    def error(self, what: str) -> ValueError:
        return ValueError(f"picture label {self.tex!r}: {what}")

    def take(self) -> str:
        if self.pos >= len(self.tokens):
            raise self.error("ends too early")
        self.pos += 1
        return self.tokens[self.pos - 1]

    def atom(self) -> str:
        """One character, command or braced group, as plain text."""
        token = self.take()
        if token == "{":
            out = []
            while self.pos < len(self.tokens) and self.tokens[self.pos] != "}":
                if self.tokens[self.pos] in "^_":
                    raise self.error("scripts inside a script are not supported")
                out.append(self.atom())
            self.take()
            return "".join(out)
        if token in ("}", "^", "_"):
            raise self.error(f"unexpected {token!r}")
        if not token.startswith("\\"):
            return token
        if token in _SPACES:
            return " "
        name = token[1:]
        if name in _ACCENTS:
            return unicodedata.normalize("NFC", self.atom() + _ACCENTS[name])
        if name in ("mathrm", "mathit", "text", "operatorname"):
            return self.atom()
        letter = _greek(name)
        if letter is None:
            raise self.error(f"unknown command {token}")
        return letter

    def runs(self) -> tuple[Run, ...]:
        pieces: list[Run] = []
        while self.pos < len(self.tokens):
            pieces.extend(_styled(self.atom(), 0))
            scripts: dict[str, str] = {}
            while self.pos < len(self.tokens) and self.tokens[self.pos] in "^_":
                mark = self.take()
                if mark in scripts:
                    raise self.error(f"double {mark}")
                scripts[mark] = self.atom()
            groups = [(text, 1 if mark == "^" else -1) for mark, text in scripts.items()]
            # The narrower script goes first, so stacking the second one over it
            # moves back by the smaller (better estimated) width.
            groups.sort(key=lambda g: (_width(g[0]), g[1]))
            for n, (text, level) in enumerate(groups):
                styled = _styled(text, level)
                if n == 1:
                    styled[0] = Run(styled[0].text, level, styled[0].italic, stack=True)
                pieces.extend(styled)
        return tuple(_merge(pieces))


def _styled(text: str, level: int) -> list[Run]:
    return _merge([Run(char, level, _italic(char)) for char in text])


def _merge(runs: list[Run]) -> list[Run]:
    out: list[Run] = []
    for run in runs:
        last = out[-1] if out else None
        if last is not None and not run.stack and (last.level, last.italic) == (run.level, run.italic):
            out[-1] = Run(last.text + run.text, last.level, last.italic, last.stack)
        else:
            out.append(run)
    return out


def label(tex: str) -> Label:
    """A label from simple LaTeX such as ``a^{(1)}_{2}``, ``\\hat{y}`` or ``\\theta_{12}``."""
    return Label(tex, _LabelParser(tex).runs())


def _char_width(char: str) -> float:
    """A generous advance width in em (about DejaVu Serif's, wider than Times), so boxes hold the text."""
    if char in "()":
        return 0.4
    if char in "ijlft.,;:'|! ":
        return 0.34
    if char in "mwMW":
        return 0.86
    if char.isupper():
        return 0.74
    if char in "+=−":
        return 0.84
    if char.isdigit():
        return 0.64
    return 0.6


def _width(text: str) -> float:
    return sum(_char_width(c) for c in text)


def _label_width(lab: Label, size: float) -> float:
    """Estimated width in px of ``lab`` set at ``size`` px, with stacked scripts."""
    total = 0.0
    for run, dx in zip(lab.runs, _stacking(lab, size), strict=True):
        total += dx + _width(run.text) * size * (SCRIPT if run.level else 1.0)
    return total


def _stacking(lab: Label, size: float) -> list[float]:
    """Each run's move back, in px: the width of the script group a stacked run sits over.

    The narrower group comes first (see ``_LabelParser.runs``), so the stacked
    group ends at the label's right edge.
    """
    out = []
    group = 0.0
    for run in lab.runs:
        out.append(-group if run.stack else 0.0)
        if run.stack or not run.level:
            group = 0.0
        if run.level:
            group += _width(run.text) * size * SCRIPT
    return out


# --------------------------------------------------------------------- layout
@dataclass(frozen=True)
class Node:
    """A neuron (index 1, 2, … of its layer; layer 0 holds the inputs) or a bias node (index 0).

    kind: ``input``, ``hidden``, ``output`` or ``bias``; a bias node of layer l
    feeds layer l + 1.
    """

    layer: int
    index: int
    kind: str
    x: float
    y: float
    radius: float
    label: Label


@dataclass(frozen=True)
class Edge:
    """The arrow of one weight: from neuron j of layer l − 1 to neuron i of layer l.

    j = 0 is the bias node. (x1, y1) and (x2, y2) lie on the two circles'
    borders. The weight label, when there is one, is centred at (label_x, label_y).
    """

    layer: int
    i: int
    j: int
    x1: float
    y1: float
    x2: float
    y2: float
    label: Label | None = None
    label_x: float | None = None
    label_y: float | None = None

    @property
    def bias(self) -> bool:
        return self.j == 0


@dataclass(frozen=True)
class Layout:
    """Where everything goes; the drawing spans (0, 0) to (width, height), y down.

    layers: the neurons of layers 0 … L, top to bottom. biases: the bias node of
    each layer 0 … L − 1, or none without biases. edges: by layer, then target
    neuron i, then source j with the bias (j = 0) first.
    """

    width: float
    height: float
    layers: tuple[tuple[Node, ...], ...]
    biases: tuple[Node, ...]
    edges: tuple[Edge, ...]

    @property
    def nodes(self) -> tuple[Node, ...]:
        """Every node: the neurons layer by layer, then the bias nodes."""
        return (*(node for layer in self.layers for node in layer), *self.biases)


def _node_label(network: Network, layer: int, i: int) -> Label:
    letters = network.notation.letters
    if letters:
        return label(letters[sum(network.sizes[:layer]) + i - 1])
    return label(latex(sym.a(layer, i), network))


def _kind(network: Network, layer: int) -> str:
    return "input" if layer == 0 else "output" if layer == network.depth else "hidden"


def layout(network: Network) -> Layout:
    """Place the network's neurons, bias nodes, arrows and weight labels."""
    sizes = network.sizes
    labelled = sum(a * b for a, b in zip(sizes, sizes[1:], strict=False)) <= MAX_LABELLED_EDGES
    column, row = (COLUMN_LABELLED, ROW_LABELLED) if labelled else (COLUMN, ROW)
    # Column centres at y = 0 first; shifted into place once the extent is known.
    raw: list[list[tuple[float, float]]] = []
    raw_bias: list[tuple[float, float]] = []
    for l, n in enumerate(sizes):
        x = MARGIN + RADIUS + l * column
        ys = [(i - (n + 1) / 2) * row for i in range(1, n + 1)]
        raw.append([(x, y) for y in ys])
        if network.bias and l < network.depth:
            raw_bias.append((x, ys[-1] + row * 0.9))
    top = min(y for col in raw for _, y in col) - RADIUS
    bottom = max(y for col in raw for _, y in col) + RADIUS
    if raw_bias:
        bottom = max(bottom, max(y for _, y in raw_bias) + BIAS_RADIUS)
    shift = MARGIN - top
    layers = tuple(
        tuple(
            Node(l, i, _kind(network, l), x, y + shift, RADIUS, _node_label(network, l, i))
            for i, (x, y) in enumerate(col, start=1)
        )
        for l, col in enumerate(raw)
    )
    biases = tuple(Node(l, 0, "bias", x, y + shift, BIAS_RADIUS, label("+1")) for l, (x, y) in enumerate(raw_bias))
    edges = []
    for l in range(1, network.depth + 1):
        sources = ((biases[l - 1],) if network.bias else ()) + layers[l - 1]
        for target in layers[l]:
            for source in sources:
                weight = None
                if labelled and source.index:
                    weight = label(latex(sym.W(l, target.index, source.index), network))
                edges.append(_edge(l, source, target, weight))
    if labelled:
        edges = _place_labels(edges, [*(n for layer in layers for n in layer), *biases])
    width = 2 * (MARGIN + RADIUS) + network.depth * column
    return Layout(width, bottom + shift + MARGIN, layers, biases, tuple(edges))


def _edge(l: int, source: Node, target: Node, weight: Label | None) -> Edge:
    dx, dy = target.x - source.x, target.y - source.y
    length = math.hypot(dx, dy)
    ux, uy = dx / length, dy / length
    return Edge(
        l,
        target.index,
        source.index,
        source.x + source.radius * ux,
        source.y + source.radius * uy,
        target.x - target.radius * ux,
        target.y - target.radius * uy,
        weight,
    )


# ------------------------------------------------------------ label placement
_Box = tuple[float, float, float, float]  # x0, y0, x1, y1


def _label_box(lab: Label, x: float, y: float, size: float = WEIGHT_FONT, pad: float = 0.0) -> _Box:
    """The estimated box (x0, y0, x1, y1) of ``lab`` centred at (x, y), grown by ``pad``."""
    half_w = _label_width(lab, size) / 2 + pad
    half_h = size * 0.7 + pad
    return (x - half_w, y - half_h, x + half_w, y + half_h)


def _overlap(a: _Box, b: _Box) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    return w * h if w > 0 and h > 0 else 0.0


def _hits_circle(box: _Box, node: Node) -> bool:
    nx = min(max(node.x, box[0]), box[2])
    ny = min(max(node.y, box[1]), box[3])
    return math.hypot(nx - node.x, ny - node.y) < node.radius + ARROW_LENGTH


def _crosses(box: _Box, e: Edge) -> bool:
    """Whether segment e passes through box (Liang–Barsky clipping)."""
    t0, t1 = 0.0, 1.0
    dx, dy = e.x2 - e.x1, e.y2 - e.y1
    for p, q in ((-dx, e.x1 - box[0]), (dx, box[2] - e.x1), (-dy, e.y1 - box[1]), (dy, box[3] - e.y1)):
        if p == 0:
            if q < 0:
                return False
        else:
            r = q / p
            if p < 0:
                t0 = max(t0, r)
            else:
                t1 = min(t1, r)
    return t0 < t1


_FRACTIONS = tuple(0.1 + 0.025 * k for k in range(21))  # 0.1 … 0.6 along the arrow: the source half
_PREFERRED = (0.22, 0.38)  # near the source end, alternating between odd and even targets
LABEL_GAP = 6.0  # px kept free between two weight labels


def _place_labels(edges: list[Edge], nodes: list[Node]) -> list[Edge]:
    """Put each weight label on its arrow where it overlaps nothing and crosses the fewest other arrows.

    Each label tries fractions along the half of its arrow nearer the source,
    where arrows fan out. Overlapping another label or a circle costs most,
    covering another arrow less (a dashed bias arrow least); arrows into odd
    and even neurons prefer different fractions, so labels from one source do
    not stand side by side. A greedy pass places the labels in order, then each
    label in turn moves to its best place given the others until none moves.
    Deterministic.
    """
    todo = [k for k, edge in enumerate(edges) if edge.label is not None]
    options: list[list[tuple[float, float, float, _Box]]] = []  # own cost, x, y, box
    for k in todo:
        edge = edges[k]
        assert edge.label is not None
        choices = []
        for t in _FRACTIONS:
            x = edge.x1 + t * (edge.x2 - edge.x1)
            y = edge.y1 + t * (edge.y2 - edge.y1)
            box = _label_box(edge.label, x, y)
            cost = 1000.0 * sum(_hits_circle(box, node) for node in nodes)
            cost += sum((5.0 if other.bias else 20.0) * _crosses(box, other) for n, other in enumerate(edges) if n != k)
            cost += 30.0 * abs(t - _PREFERRED[(edge.i - 1) % 2])
            choices.append((cost, x, y, _label_box(edge.label, x, y, pad=LABEL_GAP / 2)))
        options.append(choices)

    chosen: list[int | None] = [None] * len(todo)

    def best(m: int) -> int:
        def cost(c: int) -> float:
            own, _, _, box = options[m][c]
            others = (options[n][choice][3] for n, choice in enumerate(chosen) if n != m and choice is not None)
            return own + 1000.0 * sum(_overlap(box, other) for other in others)

        current = chosen[m]
        top = current if current is not None else 0
        top_cost = cost(top)
        for c in range(len(options[m])):
            c_cost = cost(c)
            if c_cost < top_cost - 1e-9:
                top, top_cost = c, c_cost
        return top

    for m in range(len(todo)):
        chosen[m] = best(m)
    for _ in range(20):
        moved = False
        for m in range(len(todo)):
            c = best(m)
            moved = moved or c != chosen[m]
            chosen[m] = c
        if not moved:
            break

    out = list(edges)
    for m, k in enumerate(todo):
        e = edges[k]
        choice = chosen[m]
        assert choice is not None
        _, x, y, _ = options[m][choice]
        out[k] = Edge(e.layer, e.i, e.j, e.x1, e.y1, e.x2, e.y2, e.label, x, y)
    return out


# ------------------------------------------------------------------- drawing
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


_ENV = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(enabled_extensions=("svg.j2",), default_for_string=False, default=False),
    keep_trailing_newline=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_ENV.filters.update(px=_px, cm=_cm, hex=_hex, rgb255=_rgb255)


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
    for run, dx in zip(lab.runs, _stacking(lab, size), strict=True):
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


def _render_svg(lay: Layout) -> str:
    arrows = [_arrow(edge) for edge in lay.edges]
    nodes = []
    for node in lay.nodes:
        size = BIAS_FONT if node.kind == "bias" else NODE_FONT
        nodes.append((node, node.y + BASELINE * size, _tspans(node.label, size)))
    weights = [
        (
            _label_box(edge.label, edge.label_x, edge.label_y, pad=1.0),
            edge.label_y + BASELINE * WEIGHT_FONT,
            _tspans(edge.label, WEIGHT_FONT),
        )
        for edge in lay.edges
        if edge.label is not None and edge.label_x is not None and edge.label_y is not None
    ]
    return _ENV.get_template("picture.svg.j2").render(
        layout=lay,
        edges=list(zip(lay.edges, arrows, strict=True)),
        nodes=nodes,
        weights=weights,
        weight_font=WEIGHT_FONT,
        halo_width=HALO_WIDTH,
        **_STYLE,
    )


def tikz(network: Network) -> str:
    """The picture as a ``tikzpicture``; needs ``\\usepackage{tikz}`` and the libraries in ``TIKZ_LIBRARIES``."""
    lay = layout(network)
    return _ENV.get_template("picture.tikz.j2").render(layout=lay, **_STYLE)
