"""A derivation as plain data for the document templates: LaTeX strings, numbers, checks.

Python decides *what* is shown (which equations, in which order, how many on a
large network); the templates under ``templates/`` decide how it reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import sympy
from sympy import Basic, Matrix

from derive.check.gradients import DIGITS, CheckReport, check, finite_difference_errors
from derive.engine import matrixform
from derive.engine.derivation import Derivation
from derive.engine.forms import Kind, label_of, matrix
from derive.engine.steps import Equation
from derive.model import samples
from derive.present import picture
from derive.present.latex import DeriveLatexPrinter
from derive.rules import symbols as sym
from derive.rules.activations import SIGMOID, TANH
from derive.rules.functions import Partial

# Every neuron's forward equations are written out up to this many units in a layer.
NEURONS_SHOWN = 6
# Every parameter's chain rule is written out up to this many parameters.
PARAMETERS_SHOWN = 40
# Weight labels in the picture and numbers in the worked example are rounded to this.
SIGNIFICANT = 6
RELATIONS = {"=": "=", ":=": ":=", "<-": r"\leftarrow"}


@dataclass(frozen=True)
class Verified:
    """How one result was checked: sympy's own derivative and finite differences."""

    symbolic: str  # "exact", "digits", "skipped" or "failed"
    fd_error: float | None
    tolerance: float
    passed: bool
    digits: int = DIGITS


@dataclass(frozen=True)
class Eq:
    """One displayed equation; ``check`` when derive verified it."""

    lhs: str
    rel: str
    rhs: str
    check: Verified | None = None
    matrix_ok: bool | None = None


@dataclass(frozen=True)
class Factor:
    """One factor of a chain rule and its value."""

    factor: str
    value: str


@dataclass(frozen=True)
class Gradient:
    """Everything shown for one weight or bias."""

    name: str
    symbol: str
    is_bias: bool
    chain: Eq
    factors: list[Factor]
    product: Eq
    delta_form: Eq
    closed: Eq | None
    check: Verified | None


@dataclass(frozen=True)
class LayerRow:
    """One row of the notation table."""

    layer: int
    units: int
    activation: str
    activation_latex: str
    weight: str
    weight_shape: str
    bias: str | None
    z: str
    a: str
    delta: str


@dataclass(frozen=True)
class Recursion:
    """δ of one hidden layer from the next: per neuron, its named factors, in matrix form."""

    layer: int
    z: str
    eqs: list[Eq]
    factors: list[Factor]
    matrix: list[Eq]


@dataclass(frozen=True)
class ExampleRow:
    """One line of the worked example: the quantity, its formula, its value."""

    kind: str
    layer: int | None
    lhs: str
    formula: str
    value: str


@dataclass(frozen=True)
class Vanishing:
    """Article 004's remark made exact: how much δ can shrink per layer going back."""

    layers: list[tuple[int, str, str]]  # (layer, activation LaTeX, bound on g')
    bound: Eq  # the bound on ||δ^{(1)}|| in terms of ||δ^{(L)}|| and the weights
    shrink_percent: int  # at least this much lost per layer with weights of norm 1
    measured: list[tuple[int, float, float]]  # (layer, ||δ^{(l)}||∞, bound at this point), from the example


@dataclass
class Document:
    """All a template needs, in reading order."""

    name: str
    title: str
    title_zh: str
    sizes: tuple[int, ...]
    depth: int
    loss: str
    activations: list[str]
    bias: bool
    notation: dict[str, object]
    symbols: dict[str, str]
    parameter_count: int
    layers: list[LayerRow]
    svg: str
    tikz: str
    forward_neurons: list[tuple[int, list[Eq], bool]]  # (layer, equations, all neurons shown)
    forward_matrix: list[tuple[int, list[Eq]]]
    cost: Eq
    batch_cost: Eq
    delta_general: Eq
    simplifications: list[tuple[str, list[Eq], Eq | None]]
    output_delta: list[Eq]
    output_delta_matrix: list[Eq]
    sharing: list[Eq]
    recursion: list[Recursion]
    gradients: list[tuple[int, list[Gradient], bool, list[Eq]]]
    general_index: list[Eq]
    general: list[Eq]
    updates: list[Eq]
    report: CheckReport
    check_groups: list[tuple[str, list]]
    matrix_checks: list[tuple[str, int | None, bool]]
    example: list[ExampleRow] = field(default_factory=list)
    example_check: float | None = None
    learning_rate: str | None = None
    vanishing: Vanishing | None = None


class _Builder:
    def __init__(self, d: Derivation, report: CheckReport) -> None:
        self.d = d
        self.net = d.network
        self.printer = DeriveLatexPrinter(self.net)
        self.report = report
        self.checks = {p.name: p for p in report.parameters}
        self.matrix_checks = {(kind, layer): ok for kind, layer, ok in report.matrix}

    def tex(self, expr: Basic) -> str:
        return self.printer.doprint(expr)

    def eq(self, e: Equation, check: Verified | None = None, matrix_ok: bool | None = None) -> Eq:
        return Eq(self.tex(e.lhs), RELATIONS[e.relation], self.tex(e.rhs), check, matrix_ok)

    def eqs(self, eqs: tuple[Equation, ...] | list[Equation], matrix: tuple[str, int | None] | None = None) -> list[Eq]:
        """Equations for display; ``matrix`` names the matrix check (kind, layer) that confirmed them."""
        ok = self.matrix_checks.get(matrix) if matrix else None
        return [self.eq(e, matrix_ok=ok) for e in eqs]

    def verified(self, name: str) -> Verified | None:
        p = self.checks.get(name)
        if p is None:
            return None
        return Verified(p.symbolic, p.fd_error, self.report.tolerance, p.passed)

    # ------------------------------------------------------------ the network
    def layers(self) -> list[LayerRow]:
        rows = []
        ft = self.net.notation.index_order == "from_to"
        for layer in range(1, self.d.L + 1):
            n, m = self.d.size(layer), self.d.size(layer - 1)
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
                    self.tex(matrixform.vec(Kind.B, layer, self.d)) if self.net.bias else None,
                    self.tex(matrixform.vec(Kind.Z, layer, self.d)),
                    self.tex(matrixform.a_vec(layer, self.d)),
                    self.tex(matrixform.vec(Kind.DELTA, layer, self.d)),
                )
            )
        return rows

    def symbols(self) -> dict[str, str]:
        """Names the prose needs, in the reader's notation."""
        L = self.d.L
        return {
            "cost": self.net.notation.cost,
            "x": self.tex(matrixform.a_vec(0, self.d)),
            "y": self.tex(matrixform.targets(self.d)),
            "x1": self.tex(sym.x(1)),
            "output": self.tex(matrixform.a_vec(L, self.d)),
            "w_first": self.tex(sym.W(1, 1, 1)),
            "w_last": self.tex(sym.W(L, 1, 1)),
            "deltaL": self.tex(matrixform.vec(Kind.DELTA, L, self.d)),
            "z_l": self.tex(matrixform.vec(Kind.Z, "l", None)),
            "eta": self.tex(sym.LEARNING_RATE),
        }

    # ----------------------------------------------------------- forward pass
    def forward(self) -> tuple[list, list]:
        neurons, matrices = [], []
        for layer in range(1, self.d.L + 1):
            n = self.d.size(layer)
            shown = range(1, n + 1) if n <= NEURONS_SHOWN else (1, n)
            eqs = [self.eq(e) for i in shown for e in self.d.forward_neuron(layer, i)]
            neurons.append((layer, eqs, n <= NEURONS_SHOWN))
            matrices.append((layer, self.eqs(matrixform.forward(self.d, layer))))
        return neurons, matrices

    # ---------------------------------------------------------- backward pass
    def simplifications(self) -> list[tuple[str, list[Eq], Eq | None]]:
        out = []
        for step in self.d.simplifications():
            cond = self.eq(step.condition) if step.condition is not None else None
            out.append((step.kind.split(".", 1)[1], self.eqs(step.equations), cond))
        return out

    def recursion(self) -> list[Recursion]:
        out = []
        for layer in range(self.d.L - 1, 0, -1):
            n = self.d.size(layer)
            shown = range(1, n + 1) if n <= NEURONS_SHOWN else (1,)
            eqs = [self.eq(self.d.delta_recursion(layer, i)) for i in shown]
            factors = self._recursion_factors(layer)
            matrix = self.eqs(matrixform.recursion(self.d, layer), ("delta recursion", layer))
            out.append(Recursion(layer, self.tex(sym.z(layer, 1)), eqs, factors, matrix))
        return out

    def _recursion_factors(self, layer: int) -> list[Factor]:
        """∂z^{(l+1)}_k/∂a^{(l)}_j and ∂a^{(l)}_j/∂z^{(l)}_j for the first neuron: the named factors."""
        z_next, a, z = sym.z(layer + 1, 1), sym.a(layer, 1), sym.z(layer, 1)
        out = []
        for f in (Partial(z_next, a), Partial(a, z)):
            out.append(Factor(self.tex(f), self.tex(self.d.factor_value(f))))
        return out

    def sharing(self) -> list[Eq]:
        """Article 000's intuition: the output error shared back in proportion to the weights."""
        if self.d.L < 2:
            return []
        L = self.d.L
        e = sym.error
        out = []
        for j in range(1, min(self.d.size(L - 1), NEURONS_SHOWN) + 1):
            share = sympy.Add(
                *[
                    sym.W(L, k, j) / sympy.Add(*[sym.W(L, k, m) for m in range(1, self.d.size(L - 1) + 1)]) * e(L, k)
                    for k in range(1, self.d.size(L) + 1)
                ]
            )
            out.append(Eq(self.tex(e(L - 1, j)), "=", self.tex(share)))
        return out

    def gradients(self) -> list[tuple[int, list[Gradient], bool, list[Eq]]]:
        names = self.d.parameters()
        every = len(names) <= PARAMETERS_SHOWN
        out = []
        for layer in range(self.d.L, 0, -1):
            chosen = [n for n in names if sym.parse_name(n).layer == layer]
            if not every:
                chosen = [n for n in chosen if n.endswith(("[1,1]", "[1]"))]
            grads = [self._gradient(n) for n in chosen]
            out.append((layer, grads, every, self.eqs(matrixform.gradients(self.d, layer), ("gradients", layer))))
        return out

    def _gradient(self, name: str) -> Gradient:
        g = self.d.parameter(name)
        check = self.verified(name)
        lhs = Partial(sym.COST, g.symbol)
        closed = None if g.closed == g.chain_value else self.eq(Equation(lhs, g.closed), check)
        return Gradient(
            name,
            self.tex(g.symbol),
            g.is_bias,
            self.eq(Equation(lhs, g.chain)),
            [Factor(self.tex(f.lhs), self.tex(f.rhs)) for f in g.factors],
            self.eq(Equation(lhs, g.chain_value), None if closed else check),
            self.eq(Equation(lhs, g.delta_form)),
            closed,
            check,
        )

    # --------------------------------------------------------- worked example
    @cached_property
    def example_deltas(self) -> dict[int, np.ndarray]:
        """δ of every layer (in the notation's sign) at the spec's example."""
        ex, d = self.net.example, self.d
        params = samples.check_params(self.net, ex.params)
        dz = d.dC_dz_numbers(samples.sample_values(self.net, params, ex.x, ex.y))
        return {
            layer: np.array([d.sign * float(dz[(layer, i)]) for i in range(1, d.size(layer) + 1)])
            for layer in range(1, d.L + 1)
        }

    def example(self) -> tuple[list[ExampleRow], float | None]:
        ex = self.net.example
        if ex is None:
            return [], None
        net, d = self.net, self.d
        ft = net.notation.index_order == "from_to"
        params = samples.check_params(net, ex.params)
        rows: list[ExampleRow] = []

        def shown(array: np.ndarray, weight: bool = False) -> str:
            array = np.asarray(array, dtype=float)
            if array.ndim == 1:
                array = array.reshape(-1, 1)
            if weight and ft:
                array = array.T
            return self.tex(Matrix([[_num(v) for v in row] for row in array]))

        def row(kind: str, layer: int | None, eq: Equation, value: str) -> None:
            rows.append(ExampleRow(kind, layer, self.tex(eq.lhs), self.tex(eq.rhs), value))

        for name in sorted(params, key=_param_order):
            info = sym.parse_name(name + ("[1,1]" if name.startswith("W") else "[1]"))
            symbol = matrix(Kind(info.kind), info.layer)
            rows.append(
                ExampleRow("given", info.layer, self.tex(symbol), "", shown(params[name], name.startswith("W")))
            )
        rows.append(ExampleRow("given", None, self.tex(matrixform.a_vec(0, d)), "", shown(ex.x)))
        rows.append(ExampleRow("given", None, self.tex(matrixform.targets(d)), "", shown(ex.y)))
        for layer, (z, a) in enumerate(samples.forward(net, params, ex.x), start=1):
            eq_z, eq_a = matrixform.forward(d, layer)
            row("z", layer, eq_z, shown(z))
            row("a", layer, eq_a, shown(a))
        cost = samples.cost(net, params, ex.x, ex.y)
        rows.append(ExampleRow("cost", None, self.tex(sym.COST), self.tex(d.cost()), self.tex(_num(cost))))
        deltas = self.example_deltas
        row("delta", d.L, matrixform.output_delta(d)[0], shown(deltas[d.L]))
        for layer in range(d.L - 1, 0, -1):
            row("delta", layer, matrixform.recursion(d, layer)[0], shown(deltas[layer]))
        grads = d.evaluate_all(params, ex.x, ex.y)

        for layer in range(d.L, 0, -1):
            for eq in matrixform.gradients(d, layer):
                kind = "W" if label_of(eq.lhs).kind is Kind.DC_DW else "b"
                array = _array(grads, f"{kind}{layer}", params[f"{kind}{layer}"].shape)
                row("gradient", layer, eq, shown(array, kind == "W"))
        for layer in range(1, d.L + 1):
            for kind in ("W", "b") if net.bias else ("W",):
                array = _array(grads, f"{kind}{layer}", params[f"{kind}{layer}"].shape)
                new = params[f"{kind}{layer}"] - ex.learning_rate * array
                rules = [e for e in matrixform.update(d, layer) if label_of(e.lhs).kind is Kind(kind)]
                update = rules[-1]  # under the error-term convention, the rule in δ
                row("update", layer, update, shown(new, kind == "W"))
        errors = finite_difference_errors(d, params, ex.x, ex.y)
        return rows, max(errors.values())

    # -------------------------------------------------------- vanishing gradients
    def vanishing(self) -> Vanishing | None:
        net, d = self.net, self.d
        squashing = [layer for layer in range(1, d.L) if net.activation(layer).name in (SIGMOID.name, TANH.name)]
        if not squashing:
            return None
        layers = []
        bound: Basic = self._norm(matrixform.vec(Kind.DELTA, d.L, d), r"\infty")
        for layer in range(d.L - 1, 0, -1):
            act = net.activation(layer)
            b = act.derivative_bound
            layers.append((layer, act.latex, self.tex(b)))
            bound = b * self._norm(matrix(Kind.W, layer + 1), "{1}") * bound
        measured = []
        if net.example is not None:
            ex = net.example
            params = samples.check_params(net, ex.params)
            upper = float(np.abs(self.example_deltas[d.L]).max())
            measured.append((d.L, upper, upper))
            for layer in range(d.L - 1, 0, -1):
                col_sums = np.abs(params[f"W{layer + 1}"]).sum(axis=0).max()
                upper = float(net.activation(layer).derivative_bound) * float(col_sums) * upper
                actual = float(np.abs(self.example_deltas[layer]).max())
                measured.append((layer, actual, upper))
        per_layer = min(float(net.activation(layer).derivative_bound) for layer in squashing)
        first = self._norm(matrixform.vec(Kind.DELTA, 1, d), r"\infty")
        return Vanishing(
            list(reversed(layers)),
            Eq(self.tex(first), r"\le", self.tex(bound)),
            round(100 * (1 - per_layer)),
            measured,
        )

    def _norm(self, expr: Basic, which: str) -> sympy.Symbol:
        """‖expr‖ as one symbol, so the printer keeps it whole inside products."""
        return sympy.Symbol(rf"\lVert {self.tex(expr)}\rVert_{which}")

    # ---------------------------------------------------------------- assemble
    def build(self) -> Document:

        d, net = self.d, self.net
        neurons, matrices = self.forward()
        cost, batch = d.cost_steps()
        general_index = self.eqs(matrixform.general_index(d))
        example, example_check = self.example()
        return Document(
            name=net.name,
            title=net.title or net.name,
            title_zh=net.title_zh or net.title or net.name,
            sizes=net.sizes,
            depth=d.L,
            loss=net.loss,
            activations=[layer.activation for layer in net.layers],
            bias=net.bias,
            notation={
                "index_order": net.notation.index_order,
                "delta": net.notation.delta,
                "letters": bool(net.notation.letters),
            },
            symbols=self.symbols(),
            parameter_count=net.parameter_count(),
            layers=self.layers(),
            svg=picture.svg(net),
            tikz=picture.tikz(net),
            forward_neurons=neurons,
            forward_matrix=matrices,
            cost=self.eq(cost.equations[0]),
            batch_cost=self.eq(batch.equations[0]),
            delta_general=general_index[0],
            simplifications=self.simplifications(),
            output_delta=[
                self.eq(e, self.verified(f"b{d.L}[{i}]") if net.bias else None)
                for i in range(1, min(d.size(d.L), NEURONS_SHOWN) + 1)
                for e in d.output_delta(i)
            ],
            output_delta_matrix=self.eqs(matrixform.output_delta(d), ("output delta", None)),
            sharing=self.sharing(),
            recursion=self.recursion(),
            gradients=self.gradients(),
            general_index=general_index[1:],
            general=self.eqs(matrixform.general(d)),
            updates=[self.eq(e) for layer in range(1, d.L + 1) for e in matrixform.update(d, layer)],
            report=self.report,
            check_groups=[(self.tex(matrix(Kind(g[0]), int(g[1:]))), items) for g, items in self.report.groups()],
            matrix_checks=self.report.matrix,
            example=example,
            example_check=example_check,
            learning_rate=self.tex(_num(net.example.learning_rate)) if net.example else None,
            vanishing=self.vanishing(),
        )


def _num(value: float) -> sympy.Float:
    """A number rounded for reading, the same on every machine."""
    return sympy.Float(f"{float(value):.{SIGNIFICANT}g}", SIGNIFICANT)


def _param_order(name: str) -> tuple[int, bool]:
    return int(name[1:]), name[0] != "W"


def _array(values: dict[str, float], array: str, shape: tuple[int, ...]) -> np.ndarray:
    out = np.zeros(shape)
    for index in np.ndindex(*shape):
        name = f"{array}[{','.join(str(i + 1) for i in index)}]"
        out[index] = values[name]
    return out


def build(d: Derivation, report: CheckReport | None = None) -> Document:
    """The document data for ``d``, checking it first unless ``report`` is given."""
    # Without torch, so that a document is the same whether or not torch is installed.
    return _Builder(d, report if report is not None else check(d, use_torch=False)).build()
