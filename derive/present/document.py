"""A document's data from a derivation's record and its check report.

Python decides *what* is shown (which equations, in which order, how many on a
large network); the templates under ``templates/`` decide how it reads. The
derivation is read only through its :class:`~derive.engine.record.Record`, and
the numbers the document checks come from the :class:`CheckReport`: building a
document derives nothing twice and runs no generated code.
"""

from __future__ import annotations

from functools import cached_property

import sympy
from sympy import Basic

from derive import progress
from derive.check.gradients import CheckReport, check
from derive.engine import ordered
from derive.engine.derivation import Derivation
from derive.engine.forms import Index, Kind, indexed, matrix
from derive.engine.record import Record, Sample
from derive.engine.steps import Equation, ParameterGradient
from derive.errors import RenderError
from derive.model.document import DETAILS
from derive.present import article_steps, articles, elision, picture
from derive.present.document_data import (
    RELATIONS,
    Document,
    Eq,
    ExampleRow,
    Factor,
    Gradient,
    LayerRow,
    Recursion,
    Vanishing,
    Verified,
    verified,
)
from derive.present.elision import LONG_SUM
from derive.present.exercises import exercises
from derive.present.implications import implications
from derive.present.latex import DeriveLatexPrinter
from derive.present.op_count import count
from derive.present.regularization import penalty
from derive.present.worked_example import example_rows, number, vanishing
from derive.rules import symbols as sym
from derive.rules.functions import Partial

# Every neuron's forward equations are written out up to this many units in a layer.
NEURONS_SHOWN = 6
# Every parameter's chain rule is written out up to this many parameters.
PARAMETERS_SHOWN = 40


class _Builder:
    def __init__(self, rec: Record, report: CheckReport, detail: str) -> None:
        self.rec = rec
        self.net = rec.network
        self.detail = detail
        self.L = rec.depth
        self.printer = DeriveLatexPrinter(self.net)
        self.report = report
        self.checks = {p.name: p for p in report.parameters}
        self.matrix_checks = {(kind, layer): ok for kind, layer, ok in report.matrix}
        self._forms: dict[str, ordered.Ordered] = {}  # printed products and closed forms, for breaking lines

    def tex(self, expr: Basic) -> str:
        return self.printer.doprint(expr)

    def eq(self, e: Equation, check: Verified | None = None, matrix_ok: bool | None = None) -> Eq:
        return Eq(self.tex(e.lhs), RELATIONS[e.relation], self.tex(e.rhs), check, matrix_ok)

    def eqs(self, eqs: tuple[Equation, ...] | list[Equation], matrix: tuple[str, int | None] | None = None) -> list[Eq]:
        """Equations for display; ``matrix`` names the matrix check (kind, layer) that confirmed them."""
        ok = self.matrix_checks.get(matrix) if matrix else None
        return [self.eq(e, matrix_ok=ok) for e in eqs]

    def verified(self, name: str) -> Verified | None:
        return verified(self.checks.get(name), self.report.tolerance)

    # ------------------------------------------------------------ the network
    def layers(self) -> list[LayerRow]:
        rows = []
        ft = self.net.notation.index_order == "from_to"
        for names in self.rec.names.layers[1:]:
            layer = names.layer
            n, m = self.rec.size(layer), self.rec.size(layer - 1)
            shape = sympy.Symbol(f"{m} \\times {n}" if ft else f"{n} \\times {m}")
            act = self.net.activation(layer)
            rows.append(
                LayerRow(
                    layer,
                    n,
                    act.name,
                    act.latex,
                    self.tex(matrix(Kind.W, layer)),
                    rf"\mathbb{{R}}^{{{shape}}}",
                    self.tex(names.bias) if names.bias is not None else None,
                    self.tex(names.z),
                    self.tex(names.a),
                    self.tex(names.delta),
                )
            )
        return rows

    def symbols(self) -> dict[str, str]:
        """Names the prose needs, in the reader's notation."""
        L, names = self.L, self.rec.names
        return {
            "cost": self.net.notation.cost,
            "x": self.tex(names.input),
            "y": self.tex(names.target),
            "x1": self.tex(sym.x(1)),
            "output": self.tex(names.layers[L].a),
            "w_first": self.tex(sym.W(1, 1, 1)),
            "w_last": self.tex(sym.W(L, 1, 1)),
            "deltaL": self.tex(names.layers[L].delta),
            "z_l": self.tex(names.z_general),
            "eta": self.tex(sym.LEARNING_RATE),
            "w_first_matrix": self.tex(matrix(Kind.W, 1)),
            "w_leaving_l": self.tex(matrix(Kind.W, "l+1")),  # the weights from layer l to layer l + 1
            **self.letters(),
        }

    def letters(self) -> dict[str, str]:
        """The letters prose writes on its own, each with one meaning in the document: quantities (never a node's
        letter), the weight, a layer's product with the notation's weight letter, the general forms' indices."""
        q, n = self.printer.q, self.net.notation
        product = f"{self.tex(matrix(Kind.W, 'l'))} {self.tex(matrix(Kind.A, 'l-1'))}"
        if n.layout == "row":  # a row times W (in × out, from-to) or times Wᵀ (out × in): z = a W + b
            w = matrix(Kind.W, "l")
            product = f"{self.tex(matrix(Kind.A, 'l-1'))} {self.tex(w if n.index_order == 'from_to' else w.T)}"
        bias = f" + {self.tex(matrix(Kind.B, 'l'))}" if self.net.bias else ""
        return {
            **{letter: q(letter) for letter in ("a", "b", "e", "z")},
            "W": n.weight_latex,
            "g": n.function_latex,
            "layer_product": f"{self.tex(matrix(Kind.Z, 'l'))} = {product}{bias}",
            **{f"index_{role}": n.index_letter(role) for role in Index.ROLES},
        }

    # ----------------------------------------------------------- forward pass
    def forward(self) -> tuple[list, list]:
        neurons, matrices = [], []
        for layer in range(1, self.L + 1):
            n = self.rec.size(layer)
            part = self.rec.forward(layer, range(1, n + 1) if n <= NEURONS_SHOWN else (1, n))
            neurons.append((layer, [self.eq(e) for pair in part.neurons for e in pair], n <= NEURONS_SHOWN))
            matrices.append((layer, self.eqs(part.matrix)))
        return neurons, matrices

    # ---------------------------------------------------------- backward pass
    def simplifications(self) -> list[tuple[str, list[Eq], Eq | None]]:
        out = []
        for step in self.rec.simplifications:
            cond = self.eq(step.condition) if step.condition is not None else None
            eqs = self.eqs(step.equations)
            last = step.equations[-1].lhs
            if step.layer == self.L and last == sym.delta(self.L, 1):  # δ^{(L)} of a matching loss and output
                product = self.printer.ordered(self.rec.output_in_order(1).product)
                if product != eqs[-1].rhs:  # ∂C/∂a times ∂a/∂z, before it cancels
                    eqs.insert(-1, Eq(eqs[-1].lhs, "=", product))
            out.append((step.kind.split(".", 1)[1], eqs, cond))
        return out

    def output_delta(self) -> tuple[list[Eq], list[Eq]]:
        """δ^{(L)} of the first neurons (each checked with its bias where there is one), and in matrix form.

        Each as its chain, the factors' values multiplied in the chain's order, and the simplified form where
        it reads differently.
        """
        L = self.L
        shown = range(1, min(self.rec.size(L), NEURONS_SHOWN) + 1)
        part = self.rec.output_delta(shown)
        rows = []
        for i in shown:
            check = self.verified(f"b{L}[{i}]") if self.net.bias else None
            lhs = self.tex(sym.delta(L, i))
            texts = self.in_order(self.rec.output_in_order(i))
            rows += [Eq(lhs, "=", text, check, lines=self.lines(text)) for text in texts]
        return rows, self.eqs(part.matrix, ("output delta", None))

    def lines(self, text: str) -> tuple[str, ...]:
        """``text`` (printed by :meth:`in_order`) broken into lines where it is too wide, else ()."""
        form = self._forms.get(text)
        broken = self.printer.ordered_lines(form) if form is not None else [text]
        return tuple(broken) if len(broken) > 1 else ()

    def in_order(self, form: ordered.InOrder) -> list[str]:
        """The chain, the product and (where it reads differently) the closed form, printed in the chain's order."""
        chain, product, closed = (
            self.printer.ordered(form.chain, dot=False),
            self.printer.ordered(form.product),
            self.printer.ordered(form.closed),
        )
        self._forms.update({product: form.product, closed: form.closed})
        return [chain, product] + ([closed] if closed != product else [])

    def recursion(self) -> list[Recursion]:
        out = []
        for layer in range(self.L - 1, 0, -1):
            n = self.rec.size(layer)
            part = self.rec.recursion(layer, range(1, n + 1) if n <= NEURONS_SHOWN else (1,))
            out.append(
                Recursion(
                    layer,
                    self.tex(sym.z(layer, 1)),
                    [self.eq(e) for e in part.neurons],
                    [Factor(self.tex(f.lhs), self.tex(f.rhs)) for f in part.factors],
                    self.eqs(part.matrix, ("delta recursion", layer)),
                )
            )
        return out

    def sharing(self) -> list[Eq]:
        """Article 000's intuition: the output error shared back in proportion to the weights."""
        if self.L < 2:
            return []
        L, size = self.L, self.rec.size
        e = sym.error
        out = []
        other = Index("other")

        def total(k: int) -> Basic:
            """Σ_m W_km: written out, or as a Σ when the layer is too wide for its terms (elision.LONG_SUM)."""
            if size(L - 1) > LONG_SUM:
                return sympy.Sum(indexed(Kind.W, L, k, other), (other, 1, size(L - 1)))
            return sympy.Add(*[sym.W(L, k, m) for m in range(1, size(L - 1) + 1)])

        for j in range(1, min(size(L - 1), NEURONS_SHOWN) + 1):
            share = sympy.Add(*[sym.W(L, k, j) / total(k) * e(L, k) for k in range(1, size(L) + 1)])
            out.append(Eq(self.tex(e(L - 1, j)), "=", self.tex(share)))
        return out

    def gradients(self) -> tuple[list[tuple[int, list[Gradient], bool, list[Eq]]], dict[int, list[tuple[str, Eq]]]]:
        """Each layer's parameters derived in full, whether every parameter of the layer is shown, its matrix
        form; and by layer, the other parameters (symbol, gradient in the δ form) (compact detail).

        Full detail on a small network derives every parameter in full; compact derives the layer's first weight
        and first bias in full and tabulates the rest. A network past PARAMETERS_SHOWN shows only the first
        weight and bias of each layer, whatever the detail.
        """
        names = self.rec.parameters
        every = len(names) <= PARAMETERS_SHOWN
        first = tuple(n for n in names if n.endswith(("[1,1]", "[1]")))
        full = names if every and self.detail == "full" else first
        out, table = [], {}
        for layer in range(self.L, 0, -1):
            part = self.rec.gradients(layer, full)
            shown = [self._gradient(g) for g in part.parameters]
            out.append((layer, shown, every, self.eqs(part.matrix, ("gradients", layer))))
            if every and self.detail == "compact":
                rest = self.rec.gradients(layer, [n for n in names if n not in first])
                if not rest.parameters:
                    continue
                table[layer] = [
                    (self.tex(g.symbol), self.eq(Equation(Partial(sym.COST, g.symbol), g.delta_form)))
                    for g in rest.parameters
                ]
        return out, table

    def _gradient(self, g: ParameterGradient) -> Gradient:
        """One parameter: its chain, factors, product and closed form, each in the chain's order."""
        check = self.verified(g.name)
        lhs = self.tex(Partial(sym.COST, g.symbol))
        form = self.rec.in_order(g.name)
        chain, product, *closed = self.in_order(form)
        values = {f.lhs: f.rhs for f in g.factors}
        factors = [Factor(self.tex(f), self.tex(values[f])) for f in dict.fromkeys(ordered.leaves(form.chain))]
        return Gradient(
            g.name,
            self.tex(g.symbol),
            g.is_bias,
            Eq(lhs, "=", chain),
            factors,
            Eq(lhs, "=", product, None if closed else check, lines=self.lines(product)),
            self.eq(Equation(Partial(sym.COST, g.symbol), g.delta_form)),
            Eq(lhs, "=", closed[0], check, lines=self.lines(closed[0])) if closed else None,
            check,
        )

    def layer_valued(self) -> list[str]:
        """The activations whose a_i depends on every z_k of the layer: the general forms go through their Jacobian."""
        names = [layer.activation for layer in self.net.layers]
        coupled = [name for k, name in enumerate(names, start=1) if not self.net.activation(k).elementwise]
        return list(dict.fromkeys(coupled))

    # ------------------------------------------------------- the example's numbers
    @cached_property
    def sample(self) -> Sample | None:
        """Every number at the spec's worked example, computed once for the rows, the picture and Δw."""
        ex = self.net.example
        return self.rec.at(ex.params, ex.x, ex.y) if ex is not None else None

    def numbers(self) -> tuple[list[ExampleRow], float | None, Vanishing | None]:
        """The worked example's rows, the report's finite-difference agreement there, and the vanishing bound."""
        ex = self.net.example
        sample = self.sample
        rows = example_rows(self.rec, sample, self.tex) if sample is not None else []
        fd = self.report.example_fd_error if ex is not None else None
        if ex is not None and fd is None:
            raise ValueError(f"the check report of {self.report.network} holds no finite differences at the example")
        return rows, fd, vanishing(self.rec, sample, self.tex)

    def example_picture(self) -> str:
        """The picture with the worked example's values (x, then each layer's a) and error terms on it."""
        ex, sample = self.net.example, self.sample
        if ex is None or sample is None:
            return ""
        values = [ex.x, *(a for _, a in sample.forward)]
        return picture.example_svg(self.net, values, dict(sample.deltas))

    # ---------------------------------------------------------------- assemble
    def build(self) -> Document:
        rec, net = self.rec, self.net
        neurons, matrices = self.forward()
        general_index = self.eqs(rec.general.index)
        output_delta, output_delta_matrix = self.output_delta()
        example, example_check, vanishing_bound = self.numbers()
        gradients, gradient_table = self.gradients()
        doc = Document(
            name=net.name,
            title=net.title or net.name,
            title_zh=net.title_zh or net.title or net.name,
            sizes=net.sizes,
            depth=self.L,
            loss=net.loss,
            targets=net.target_kind.name,
            activations=[layer.activation for layer in net.layers],
            bias=net.bias,
            notation={
                "index_order": net.notation.index_order,
                "delta": net.notation.delta,
                "letters": bool(net.notation.letters),
                "weight_layer": net.notation.weight_layer,
                "input_layer": net.notation.input_layer,
                "layer_marker": net.notation.layer_marker,
                "pre_activation": net.notation.pre_activation,
                "activation": net.notation.activation,
                "function": net.notation.function,
                "layer_letter": net.notation.layer_letter,
                "output_pre_activation": net.notation.output_pre_activation,
                "output": net.notation.output,
                "layout": net.notation.layout,
                "batch": net.notation.batch,
                "bias": net.notation.bias,
            },
            symbols=self.symbols(),
            parameter_count=net.parameter_count(),
            layers=self.layers(),
            svg=picture.svg(net),
            tikz=picture.tikz(net),
            forward_neurons=neurons,
            forward_matrix=matrices,
            cost=Eq(self.tex(rec.cost.sample.lhs), "=", self.printer.ordered(rec.cost_in_order)),
            batch_cost=self.eq(rec.cost.batch),
            delta_general=general_index[0],
            simplifications=self.simplifications(),
            output_delta=output_delta,
            output_delta_matrix=output_delta_matrix,
            sharing=self.sharing(),
            recursion=self.recursion(),
            gradients=gradients,
            general_index=general_index[1:],
            general=self.eqs(rec.general.matrix),
            updates=[self.eq(e) for layer in range(1, self.L + 1) for e in rec.update[layer]],
            report=self.report,
            check_groups=[(self.tex(matrix(Kind(g[0]), int(g[1:]))), items) for g, items in self.report.groups()],
            matrix_checks=self.report.matrix,
            example=example,
            example_check=example_check,
            learning_rate=self.tex(number(net.example.learning_rate)) if net.example else None,
            vanishing=vanishing_bound,
            layer_valued=self.layer_valued(),
            detail=self.detail,
            gradient_table=gradient_table,
            op_count=count(net.sizes, net.bias, net.notation),
            exercises=exercises(rec, self.tex),
            spec_file=f"{net.name}.toml",
            implications=implications(rec, self.tex),
            example_svg=self.example_picture(),
            picture_cut=(picture.WIDE, picture.FIRST_DRAWN) if max(net.sizes) > picture.WIDE else None,
            elision=elision.numbers() if max(net.sizes) > elision.WIDE else None,
        )
        article_steps.fill(doc, self.rec, self.tex, self.eq, self.sample)
        doc.penalty = penalty(rec, self.tex)
        wanted = set(net.document.sections) | set(net.document.appendix)
        if "identities" in wanted:
            doc.identities = articles.identities(rec, self.tex)
        if "warmup" in wanted:
            doc.warmup = articles.warmup(net, self.report.neuron)
        if "common_factor" in wanted:
            doc.common_factor = articles.common_factor(rec, self.tex, self.verified)
        shown = {"example": bool(doc.example), "sharing": bool(doc.sharing), "vanishing": doc.vanishing is not None}
        shown |= {"identities": doc.identities is not None, "warmup": doc.warmup is not None}
        shown |= {"common_factor": doc.common_factor is not None}
        if doc.score_in_forward:
            shown["score"] = False
        doc.sections = [key for key in net.document.sections if shown.get(key, True)]
        doc.appendix = [key for key in net.document.appendix if shown.get(key, True)]
        return doc


def build(d: Derivation, report: CheckReport | None = None, detail: str | None = None) -> Document:
    """The document data for ``d``, checking it first unless ``report`` is given.

    ``detail`` ("compact" or "full") overrides the spec's ``[document] detail``.
    """
    if detail is None:
        detail = d.network.document.detail
    elif detail not in DETAILS:
        raise RenderError(f"unknown detail {detail!r}; choose from {', '.join(DETAILS)}")
    if report is None:
        with progress.phase("check"):  # without torch: a document is the same whether or not it is installed
            report = check(d, use_torch=False)
    with progress.phase("document"):
        return _Builder(Record(d), report, detail).build()


__all__ = ["NEURONS_SHOWN", "PARAMETERS_SHOWN", "Document", "Eq", "ExampleRow", "build"]
