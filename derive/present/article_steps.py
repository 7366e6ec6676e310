"""The articles' own steps: Jacobians, the score h, the backward pass layer by layer, the procedures, Δw element-wise.

Every equation here is taken from the record (the engine's element level or its matrix form), so that what a
document prints is what the checks confirmed; only the names change where an article writes them differently
(∂J/∂a^{(l)} for ∇_{a^{(l)}} J, the score h for the output a^{(L)}, Δw for −η ∂C/∂w).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import sympy
from sympy import Basic

from derive import progress
from derive.engine.forms import Kind, indexed, label_of, matrix
from derive.engine.record import Record, Sample
from derive.engine.steps import Equation
from derive.present.document_data import Document, Eq
from derive.present.elision import WIDE, kept, matrix_rows, shape
from derive.rules import symbols as sym
from derive.rules.functions import Partial


@dataclass(frozen=True)
class LayerStep:
    """One step of the backward pass walked layer by layer (article 003's order).

    kind: "output" (δ^{(L)}), "gradients" (∂C/∂W^{(l)}, ∂C/∂b^{(l)}), "back" (∂C/∂a^{(l)} from the layer above),
    "delta" (δ^{(l)} from ∂C/∂a^{(l)}).
    """

    kind: str
    layer: int
    equations: tuple[Equation, ...]


def jacobians(rec: Record) -> list[tuple[int, Equation]]:
    """Each layer's ∂a^{(l)}/∂z^{(l)}, entry by entry; of a wide layer, only the entries its printed matrix shows
    (the rows and columns :func:`derive.present.elision.kept` keeps), each ∂a_i/∂z_k valued by the chain rule's
    table, the rest left empty (the printer never reaches them)."""
    out = []
    for layer in range(1, rec.depth + 1):
        n = rec.size(layer)
        if n <= WIDE:
            out.append((layer, rec.jacobian(layer)))
            continue
        shown = [k for k in kept(n) if k is not None]
        entries = {(i, k): rec.factor(Partial(sym.a(layer, i + 1), sym.z(layer, k + 1))) for i in shown for k in shown}
        out.append((layer, Equation(matrix(Kind.JACOBIAN, layer, n, n), sympy.SparseMatrix(n, n, entries))))
    return out


def jacobian_definition() -> tuple[tuple[str, str], ...]:
    """A map y = f(x) from R^q to R^p (p and q, since m is a batch's size): its Jacobian and the chain rule.

    These two are definitions and the theorem every step below instantiates, written once with letters that no
    other quantity of the document uses.
    """
    entry = r"\frac{{\partial y_{{{0}}}}}{{\partial x_{{{1}}}}}"
    rows = [[entry.format(1, 1), r"\cdots", entry.format(1, "q")], [r"\vdots", r"\ddots", r"\vdots"]]
    rows.append([entry.format("p", 1), r"\cdots", entry.format("p", "q")])
    body = r"\\".join(" & ".join(row) for row in rows)
    return (
        (r"\frac{\partial y}{\partial x}", rf"\left[\begin{{matrix}}{body}\end{{matrix}}\right]"),
        (r"\frac{\partial y}{\partial x}", r"\frac{\partial y}{\partial u} \frac{\partial u}{\partial x}"),
    )


def chain_example(rec: Record) -> tuple[Basic, Basic, tuple[Basic, ...]] | None:
    """a^{(2)} as a function of z^{(1)}: ∂a^{(2)}/∂z^{(1)} = ∂a^{(2)}/∂z^{(2)} · W^{(2)} · ∂a^{(1)}/∂z^{(1)}.

    Returns (a^{(2)}, z^{(1)}, the three factors as matrices); None for a single-layer network.
    """
    if rec.depth < 2:
        return None
    n1, n2 = rec.size(1), rec.size(2)
    ft = rec.network.notation.index_order == "from_to"
    w = matrix(Kind.W, 2, n1, n2).T if ft else matrix(Kind.W, 2, n2, n1)
    factors = (matrix(Kind.JACOBIAN, 2, n2, n2), w, matrix(Kind.JACOBIAN, 1, n1, n1))
    return rec.names.layers[2].a, rec.names.layers[1].z, factors


def grad_a(rec: Record, layer: int) -> sympy.MatrixSymbol:
    """∂C/∂a^{(l)} as the matrix form names it (∇_{a^{(l)}} C), a row in the row layout."""
    n = rec.size(layer)
    return matrix(Kind.NABLA_C, layer, *((1, n) if rec.matrix.convention.row else (n, 1)))


def layerwise(rec: Record) -> list[LayerStep]:
    """δ^{(L)}; then for l = L, …, 1: the gradients of layer l, ∂C/∂a^{(l−1)} and δ^{(l−1)} (while l > 1)."""
    form, L = rec.matrix, rec.depth
    out = [LayerStep("output", L, form.output_delta)]
    for layer in range(L, 0, -1):
        out.append(LayerStep("gradients", layer, form.gradients[layer]))
        if layer == 1:
            break
        below = layer - 1
        inner = form.backprop_in[below]
        back = grad_a(rec, below)
        first, *rest = form.recursion[below]
        delta = Equation(first.lhs, first.rhs.xreplace({inner: back}))
        out.append(LayerStep("back", below, (Equation(back, inner),)))
        out.append(LayerStep("delta", below, (delta, *rest)))
    return out


def score(rec: Record) -> tuple[Equation, ...]:
    """The output named as the score h (article 003): h = a^{(L)} = g(z^{(L)}), h_k, and the cost in h."""
    L = rec.depth
    n = rec.size(L)
    h = sympy.MatrixSymbol("h", n, 1)
    hs = {sym.a(L, k): sympy.Symbol(f"h_{k}") for k in range(1, n + 1)}
    names = rec.names.layers[L]
    a_eq = rec.forward(L).matrix[1]
    first = rec.forward(L, (1,)).neurons[0][1]
    return (
        Equation(h, names.a, ":="),
        Equation(h, a_eq.rhs),
        Equation(hs[sym.a(L, 1)], first.rhs),
        Equation(sym.COST, rec.cost.sample.rhs.xreplace(hs)),
    )


def procedures(rec: Record) -> tuple[list[tuple[str, int | None, tuple[Equation, ...]]], list]:
    """The forward and the backward procedure as steps: (kind, layer, equations), from the matrix form."""
    form, L = rec.matrix, rec.depth
    forward: list[tuple[str, int | None, tuple[Equation, ...]]] = [
        ("layer", layer, form.forward[layer]) for layer in range(1, L + 1)
    ]
    forward.append(("cost", None, (rec.cost.sample,)))
    # layer by layer from the output, as the article walks back: a layer's δ, then at once its gradients
    backward: list[tuple[str, int | None, tuple[Equation, ...]]] = [("output", L, (form.output_delta[-1],))]
    backward.append(("gradients", L, form.gradients[L]))
    for layer in range(L - 1, 0, -1):
        backward += [("hidden", layer, (form.recursion[layer][0],)), ("gradients", layer, form.gradients[layer])]
    steps = [e for layer in range(1, L + 1) for e in rec.update[layer] if _by_gradient(e)]
    backward.append(("update", None, tuple(steps)))
    return forward, backward


def _by_gradient(e: Equation) -> bool:
    """W ← W − η ∂C/∂W (not the error-term convention's second form of the same step)."""
    kinds = {getattr(label_of(m), "kind", None) for m in e.rhs.atoms(sympy.MatrixSymbol)}
    return bool(kinds & {Kind.DC_DW, Kind.DC_DB, Kind.DJ_DW, Kind.DJ_DB})


# ------------------------------------------------------- Δw element by element (article 004)
@dataclass(frozen=True)
class Change:
    """Δθ = −η ∂C/∂θ of one weight, written with δ: the weight and the right side."""

    name: str
    weight: Basic
    rhs: Basic


def general_change(rec: Record) -> tuple[Basic, Basic, Basic]:
    """Δw^{(1)}_{ij} for symbolic i (the input it comes from) and j (the neuron it leads to): (w_{ij}, ∓η, δ_j).

    The right side reads (∓η) δ^{(1)}_j x_i, in the article's order.
    """
    i, j = sympy.symbols("i j", integer=True, positive=True)
    return indexed(Kind.W, 1, j, i), -rec.sign * sym.LEARNING_RATE, indexed(Kind.DELTA, 1, j)


def changes(rec: Record) -> list[tuple[int, list[Change]]]:
    """Every weight's Δw = −η ∂C/∂w, layer by layer from the output back, in the notation's sign of δ; of a wide
    layer, only the weights its printed matrix shows (:func:`derive.present.elision.kept` rows and columns)."""
    out = []
    ft = rec.network.notation.index_order == "from_to"
    for layer in range(rec.depth, 0, -1):
        rows, cols = kept(rec.size(layer)), kept(rec.size(layer - 1))
        names = [sym.parameter_name(layer, i + 1, j + 1) for i in rows if i is not None for j in cols if j is not None]
        if ft:  # w_{ij} from i to j: row by row of the printed matrix
            names.sort(key=lambda n: (sym.parse_name(n).j, sym.parse_name(n).i))
        items = []
        for name in progress.track(names, "gradients"):
            g = rec.gradient(name)
            items.append(Change(name, g.symbol, -sym.LEARNING_RATE * g.delta_form))
        out.append((layer, items))
    return out


def change_matrix(rec: Record, layer: int, items: list[Change]) -> sympy.Matrix:
    """Layer l's Δw laid out as the notation prints W^{(l)}: from-to, a row per neuron the weight comes from."""
    ft = rec.network.notation.index_order == "from_to"
    to, come = rec.size(layer), rec.size(layer - 1)
    out = sympy.zeros(*((come, to) if ft else (to, come)))
    for change in items:
        info = sym.parse_name(change.name)  # W^{(l)}[i, j]: to neuron i from neuron j
        assert info is not None and info.j is not None
        out[(info.j - 1, info.i - 1) if ft else (info.i - 1, info.j - 1)] = change.rhs
    return out


def change_values(rec: Record, sample: Sample, learning_rate: float) -> dict[int, np.ndarray]:
    """Δw of every weight array at the sample, −η ∂C/∂W, shaped as the notation prints W (from-to: transposed)."""
    ft = rec.network.notation.index_order == "from_to"
    out = {}
    for layer in range(1, rec.depth + 1):
        delta = -learning_rate * sample.gradients[f"W{layer}"]
        out[layer] = delta.T if ft else delta
    return out


_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?")


def numpy_printed(array: np.ndarray) -> list[list[str]]:
    """The entries as NumPy prints the array (its default precision and notation), row by row."""
    array = np.atleast_2d(array)
    text = np.array2string(array, threshold=array.size + 1)  # every entry, not NumPy's summary of a large array
    tokens = _NUMBER.findall(text)
    assert len(tokens) == array.size, (text, tokens)
    cols = array.shape[1]
    return [tokens[r * cols : (r + 1) * cols] for r in range(array.shape[0])]


def number_tex(token: str) -> str:
    """One NumPy-printed number as LaTeX: 1.77e-04 → 1.77 \\times 10^{-4}."""
    if "e" not in token:
        return token.rstrip(".") if token.endswith(".") else token
    mantissa, exponent = token.split("e")
    return rf"{mantissa} \times 10^{{{int(exponent)}}}"


def printed_matrix(array: np.ndarray) -> str:
    """A matrix of NumPy-printed numbers in LaTeX (a wide one elided, :mod:`derive.present.elision`)."""
    rows = numpy_printed(array)
    cells = matrix_rows(len(rows), len(rows[0]), lambda r, c: number_tex(rows[r][c]))
    body = r"\\".join(" & ".join(row) for row in cells)
    return rf"\left[\begin{{matrix}}{body}\end{{matrix}}\right]" + shape(len(rows), len(rows[0]))


__all__ = [
    "Change",
    "chain_example",
    "general_change",
    "jacobian_definition",
    "LayerStep",
    "change_matrix",
    "change_values",
    "changes",
    "jacobians",
    "layerwise",
    "numpy_printed",
    "printed_matrix",
    "procedures",
    "score",
]


# ------------------------------------------------------------ into the document
def fill(
    doc: Document,
    rec: Record,
    tex: Callable[[Basic], str],
    eq: Callable[[Equation], Eq],
    sample: Sample | None = None,
) -> None:
    """Article 003's and 004's steps into ``doc``, for the sections the spec asks for, printed by ``tex``/``eq``;
    ``sample``: the numbers at the spec's worked example (``rec.at``), computed once by the caller."""
    net = rec.network
    asked = set(net.document.sections) | set(net.document.appendix)

    def layer_eqs(eqs: tuple[Equation, ...]) -> list[Eq]:
        return _layer_eqs(rec, eqs, tex, eq)

    if "jacobian" in asked:
        doc.jacobian_definition = [Eq(lhs, "=", rhs) for lhs, rhs in jacobian_definition()]
        doc.jacobians = [(layer, eq(e)) for layer, e in jacobians(rec)]
        chain = chain_example(rec)
        if chain is not None:
            a, z, factors = chain
            lhs = tex(Partial(a, z))
            written = [
                Partial(a, rec.names.layers[2].z),
                Partial(rec.names.layers[2].z, rec.names.layers[1].a),
            ]
            written.append(Partial(rec.names.layers[1].a, z))
            doc.jacobian_chain = [
                Eq(lhs, "=", " ".join(tex(f) for f in written)),
                Eq(lhs, "=", tex(sympy.MatMul(*factors))),
            ]
    if "score" in asked:
        doc.score = [eq(e) for e in score(rec)]
        doc.score_in_forward = "forward" in net.document.sections and "score" in net.document.sections
    if "layerwise" in asked:
        doc.layerwise = [(s.kind, s.layer, layer_eqs(s.equations)) for s in layerwise(rec)]
    if "procedures" in asked:
        forward, backward = procedures(rec)
        doc.procedure_forward = [(kind, layer, layer_eqs(eqs)) for kind, layer, eqs in forward]
        doc.procedure_backward = [(kind, layer, layer_eqs(eqs)) for kind, layer, eqs in backward]
    if "elementwise_update" in asked:
        weight, rate, delta = general_change(rec)
        doc.change_general = Eq(r"\Delta " + tex(weight), "=", f"{tex(rate)} {tex(delta)} x_{{i}}")
        ex = net.example
        if ex is not None and sample is not None:
            values = change_values(rec, sample, ex.learning_rate)
            doc.change_values = [
                (layer, Eq(r"\Delta " + tex(matrix(Kind.W, layer)), "=", printed_matrix(v)))
                for layer, v in sorted(values.items(), reverse=True)
            ]
        numbers = dict(doc.change_values)
        for layer, items in changes(rec):
            lhs = r"\Delta " + tex(matrix(Kind.W, layer))
            entries = Eq(lhs, "=", tex(change_matrix(rec, layer, items)))
            doc.changes.append((layer, [entries] + ([numbers[layer]] if layer in numbers else [])))


def _layer_eqs(
    rec: Record, eqs: tuple[Equation, ...], tex: Callable[[Basic], str], eq: Callable[[Equation], Eq]
) -> list[Eq]:
    """Equations of the matrix form, with ∇_{a^{(l)}} C written ∂C/∂a^{(l)} as article 003 does."""
    out = []
    for e in eqs:
        shown = eq(e)
        for m in sorted(e.lhs.atoms(sympy.MatrixSymbol) | e.rhs.atoms(sympy.MatrixSymbol), key=str):
            label = label_of(m)
            if label is not None and label.kind is Kind.NABLA_C:
                a = rec.names.layers[label.layer].a
                grad, part = tex(m), tex(Partial(sym.COST, a))
                rows = (shown.lhs.replace(grad, part), shown.rel, shown.rhs.replace(grad, part))
                shown = Eq(*rows, shown.check, shown.matrix_ok)
        out.append(shown)
    return out
