"""A picture's layout: where the neurons, bias nodes, arrows and weight labels go.

Layers run left to right, each column centred vertically, with a ``+1`` bias node under every non-output
layer when the network has biases, and one arrow per weight, labelled with the weight's name on small
networks. A layer wider than ``WIDE`` neurons is drawn as its first ``FIRST_DRAWN`` neurons, a vertical
ellipsis and its last neuron, with its width written above the column (a :class:`Gap`), so that a picture
has the same size from ten neurons to ten thousand. Coordinates are SVG user units (px), y pointing down.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from derive.model.network import Network
from derive.present import elision
from derive.present.latex import latex
from derive.present.picture.labels import Label, label, label_width
from derive.rules import symbols as sym

COLUMN = 140.0  # px between layer columns
COLUMN_LABELLED = 190.0  # px between columns when the weights are labelled
ROW = 64.0  # px between neurons of a column
ROW_LABELLED = 70.0  # px between neurons when the weights are labelled
RADIUS = 19.0  # neuron radius
BIAS_RADIUS = 12.0  # bias node radius
MARGIN = 12.0  # empty border around the drawing
ROW_NUMBERED = 100.0  # px between neurons when each carries two numbers, one above and one below
NUMBER_ROOM = 22.0  # px kept above the top neuron and below the bottom one for those numbers
MAX_LABELLED_EDGES = 12  # weights are named only on networks with at most this many weights
WEIGHT_FONT = 13.0  # px in SVG (10.4 px at MIN_SCALE); TikZ sets \scriptsize, narrower, in the same box
ARROW_LENGTH = 8.0  # px
WIDE = elision.WIDE  # a layer with more neurons than this is drawn truncated, as its matrices are written
FIRST_DRAWN = elision.FIRST  # neurons drawn at the top of a truncated layer, before the ellipsis and the last neuron
SIZE_FONT = 13.0  # px: the width written above a truncated layer
SIZE_ROOM = 22.0  # px kept above the columns for that width


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
class Gap:
    """Where a truncated layer's neurons are left out: a vertical ellipsis at (x, y), and the layer's
    ``size`` written centred at (x, size_y)."""

    layer: int
    size: int
    x: float
    y: float
    size_y: float


def drawn(n: int) -> tuple[int, ...]:
    """The neurons drawn of a layer of ``n``: all up to ``WIDE``, else the first ``FIRST_DRAWN`` and the last."""
    return tuple(range(1, n + 1)) if n <= WIDE else (*range(1, FIRST_DRAWN + 1), n)


def _slots(n: int) -> tuple[int, ...]:
    """The row (1, 2, …) of each drawn neuron; a truncated layer keeps row ``FIRST_DRAWN + 1`` for the ellipsis."""
    return tuple(range(1, n + 1)) if n <= WIDE else (*range(1, FIRST_DRAWN + 1), FIRST_DRAWN + 2)


@dataclass(frozen=True)
class Layout:
    """Where everything goes; the drawing spans (0, 0) to (width, height), y down.

    layers: the neurons drawn of layers 0 … L, top to bottom. biases: the bias node
    of each layer 0 … L − 1, or none without biases. edges: by layer, then target
    neuron i, then source j with the bias (j = 0) first, between drawn neurons.
    gaps: one per truncated layer.
    """

    width: float
    height: float
    layers: tuple[tuple[Node, ...], ...]
    biases: tuple[Node, ...]
    edges: tuple[Edge, ...]
    gaps: tuple[Gap, ...] = ()

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


def layout(network: Network, numbered: bool = False) -> Layout:
    """Place the network's neurons, bias nodes, arrows and weight labels.

    ``numbered``: room for a number above and below every neuron (the worked example's values and error
    terms) instead of the weights' names.
    """
    sizes = network.sizes
    labelled = not numbered and sum(a * b for a, b in zip(sizes, sizes[1:], strict=False)) <= MAX_LABELLED_EDGES
    column, row = (COLUMN_LABELLED, ROW_LABELLED) if labelled else (COLUMN, ROW_NUMBERED if numbered else ROW)
    # Column centres at y = 0 first; shifted into place once the extent is known.
    raw: list[list[tuple[float, float]]] = []
    raw_bias: list[tuple[float, float]] = []
    raw_gaps: list[tuple[int, float, float]] = []
    for l, n in enumerate(sizes):
        x = MARGIN + RADIUS + l * column
        rows = len(_slots(n)) + (n > WIDE)
        ys = [(s - (rows + 1) / 2) * row for s in _slots(n)]
        raw.append([(x, y) for y in ys])
        if n > WIDE:
            raw_gaps.append((l, x, (FIRST_DRAWN + 1 - (rows + 1) / 2) * row))
        if network.bias and l < network.depth:
            raw_bias.append((x, ys[-1] + row * 0.9))
    room = NUMBER_ROOM if numbered else 0.0
    top = min(y for col in raw for _, y in col) - RADIUS - room - (SIZE_ROOM if raw_gaps else 0.0)
    bottom = max(y for col in raw for _, y in col) + RADIUS + room
    if raw_bias:
        bottom = max(bottom, max(y for _, y in raw_bias) + BIAS_RADIUS)
    shift = MARGIN - top
    layers = tuple(
        tuple(
            Node(l, i, _kind(network, l), x, y + shift, RADIUS, _node_label(network, l, i))
            for i, (x, y) in zip(drawn(sizes[l]), col, strict=True)
        )
        for l, col in enumerate(raw)
    )
    gaps = tuple(Gap(l, sizes[l], x, y + shift, MARGIN + SIZE_ROOM / 2) for l, x, y in raw_gaps)
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
    return Layout(width, bottom + shift + MARGIN, layers, biases, tuple(edges), gaps)


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


def label_box(lab: Label, x: float, y: float, size: float = WEIGHT_FONT, pad: float = 0.0) -> _Box:
    """The estimated box (x0, y0, x1, y1) of ``lab`` centred at (x, y), grown by ``pad``."""
    half_w = label_width(lab, size) / 2 + pad
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
            box = label_box(edge.label, x, y)
            cost = 1000.0 * sum(_hits_circle(box, node) for node in nodes)
            cost += sum((5.0 if other.bias else 20.0) * _crosses(box, other) for n, other in enumerate(edges) if n != k)
            cost += 30.0 * abs(t - _PREFERRED[(edge.i - 1) % 2])
            choices.append((cost, x, y, label_box(edge.label, x, y, pad=LABEL_GAP / 2)))
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
