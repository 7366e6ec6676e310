"""The derivation's matrix form as vectorised NumPy lines, one row per sample.

A column vector v of the matrix form is, for a batch of m samples, an array V
of shape (m, n) whose rows are the samples: W a + b becomes ``A @ W.T + b``,
Wᵀ δ becomes ``D @ W``, u ⊙ v becomes ``U * V``, and the per-sample outer
product δ aᵀ summed over the batch becomes ``D.T @ A``. The output δ is
divided by m once, so every gradient below it is already the batch mean.

One sample (a 1-D x, or a batch of one) has lines of its own, ``Plan.single``:
the column vectors as 1-D arrays, written as the formulas are (``W @ a + b``,
``W.T @ d``, δ aᵀ as ``d[:, None] * a``, ∂C/∂b = δ itself), without the
batch's sums over one row, which cost more than the arithmetic at that size.

The code is written in derive's own names, whatever the reader's notation:
``W<l>`` has a row per neuron of layer l, δ = ∂C/∂z. Each line carries the
formula it computes, in plain text. How one expression of the matrix form becomes array code and text
is :mod:`derive.numeric.matrixcode`; this module decides the lines.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy
from sympy import MatAdd, MatMul, MatrixSymbol

from derive.engine.derivation import Derivation
from derive.engine.forms import Kind, Label
from derive.engine.record import Record
from derive.engine.steps import Equation
from derive.model.network import Network
from derive.numeric.codeprint import ElementPrinter, form_label, wrap
from derive.numeric.matrixcode import MatrixCode, layer_text
from derive.rules import activations, regularizers

L2 = "L2"  # the generated module's constant λ


# A layer with at least this many inputs (and twice as many as its units) sums δ aᵀ as (Aᵀ D)ᵀ: see _outer_sum.
WIDE_INPUTS = 100


@dataclass(frozen=True)
class Line:
    """``target = code``, computing ``formula``."""

    target: str
    code: str
    formula: str
    note: str = ""  # a remark the template words: "per_sample" or "batch_mean"
    then: str = ""  # an in-place step on the new array, such as "+= b1": no second array of a batch's size

    @property
    def statements(self) -> tuple[str, ...]:
        """``target = code``, then ``target then`` when there is one."""
        return (f"{self.target} = {self.code}", *((f"{self.target} {self.then}",) if self.then else ()))


@dataclass(frozen=True)
class Plan:
    """Everything the generated module needs, as plain data."""

    network: Network
    shapes: dict[str, tuple[int, ...]]
    forward: tuple[Line, ...]
    loss: tuple[Line, ...]
    backward: tuple[Line, ...]
    gradients: dict[str, str]  # parameter name → the variable holding ∂J/∂θ
    helpers: tuple[str, ...]
    formulas: dict[str, tuple[str, ...]]  # parameter array → its gradient's formula and the δ's it needs
    elements: dict[str, str]  # parameter array → one element's formula, with {i} and {j} to fill in (1-based)
    single: tuple[Line, ...] = ()  # the forward pass and gradients of one sample, on 1-D arrays
    penalty: tuple[Line, ...] = ()  # R, the spec's L2 penalty, added to the loss (none without one)
    l2: float | None = None  # λ, the generated module's constant L2 (None without a penalty)

    @property
    def output(self) -> str:
        return f"A{self.network.depth}"


def plan(source: Network | Derivation) -> Plan:
    """The NumPy lines for a network's forward pass, loss and gradients.

    Given a derivation, its own record is read (in derive's own convention,
    whatever its notation); given a network, it is derived here.
    """
    d = source if isinstance(source, Derivation) else Derivation(source)
    return _Builder(Record(d)).build()


class _Builder(MatrixCode):
    def __init__(self, record: Record) -> None:
        super().__init__(record.network)
        self.L = record.depth
        self.matrix = record.own_matrix  # δ = ∂C/∂z, W with a row per neuron
        self.output = record.output_element

    # ---------------------------------------------------------------- lines
    def forward(self) -> list[Line]:
        lines = []
        for layer in range(1, self.L + 1):
            z_eq, a_eq = self.matrix.forward[layer]
            z = self._name("Z", layer)
            lines.append(self._weighted_input(z, z_eq))
            act = self.net.activation(layer)
            self.helpers.update(helper.name for helper in act.helpers)
            lines.append(Line(self._a(layer), act.code.format(z=z), self._equation(a_eq)))
        return lines

    def _weighted_input(self, z: str, z_eq: Equation) -> Line:
        """Z = X @ W.T + b; of a batch the bias is added in place, which spares an array of the batch's size."""
        terms = z_eq.rhs.args if isinstance(z_eq.rhs, MatAdd) else ()
        bias = [t for t in terms if isinstance(t, MatrixSymbol) and form_label(t).kind is Kind.B]
        if self.one or len(bias) != 1 or len(terms) != 2:
            return Line(z, self._rows(z_eq.rhs), self._equation(z_eq))
        (product,) = (t for t in terms if t is not bias[0])
        return Line(z, self._rows(product), self._equation(z_eq), then=f"+= {self._rows(bias[0])}")

    def loss(self) -> list[Line]:
        loss, out = self.net.loss_def, self.net.layers[-1].activation
        code, text, helpers = loss.code.get(out) or loss.code[""]
        self.helpers.update(helpers)
        return [Line("C", code.format(a=f"A{self.L}", z=f"Z{self.L}", y="Y"), text, "per_sample")]

    def backward(self) -> tuple[list[Line], dict[str, tuple[str, ...]]]:
        lines = self._output_delta()
        deltas = {self.L: lines[-1].formula}
        for layer in range(self.L - 1, 0, -1):
            line = self._recursion(layer)
            deltas[layer] = line.formula
            lines.append(line)
        formulas: dict[str, tuple[str, ...]] = {}
        for layer in range(self.L, 0, -1):
            chain = tuple(deltas[k] for k in range(layer, self.L + 1))
            for eq in self.matrix.gradients[layer]:
                kind = "W" if form_label(eq.lhs).kind is Kind.DC_DW else "b"
                delta, before = self._name("D", layer), self._a(layer - 1)
                if self.one:  # J = C of the one sample: δ aᵀ and δ themselves
                    code = f"{delta}[:, None] * {before}" if kind == "W" else delta
                    text = f"∂J/∂{layer_text(kind, layer)} = {self._text(eq.rhs)}"
                else:
                    code = self._outer_sum(delta, before, layer) if kind == "W" else f"{delta}.sum(axis=0)"
                    text = f"∂J/∂{layer_text(kind, layer)} = (1/m) Σₛ {self._text(eq.rhs)}"
                code, text = self._penalized(f"{kind}{layer}", code, text)
                lines.append(Line(f"d{kind}{layer}", code, text))
                formulas[f"{kind}{layer}"] = (text, *chain)
        return lines, formulas

    def _outer_sum(self, delta: str, before: str, layer: int) -> str:
        """Σₛ δ aᵀ over a batch: Dᵀ A, or the same product as (Aᵀ D)ᵀ for a layer with many more inputs than
        units, which OpenBLAS computes in 0.6–0.8 of the time (784 inputs to 100 units: 1.5 ms against 2.0 ms
        for a batch of 1,024; ``benchmarks/bench_numeric.py``); for narrow layers Dᵀ A is as fast or faster."""
        inputs, units = self.net.sizes[layer - 1], self.net.sizes[layer]
        return f"({before}.T @ {delta}).T" if inputs >= WIDE_INPUTS and inputs >= 2 * units else f"{delta}.T @ {before}"

    # ------------------------------------------------------------ penalty
    def _coefficient(self, scale: bool = False) -> tuple[str, str] | None:
        """(code, text) of the penalty's scale (``scale``) or of its gradient's coefficient, None without one.

        Of one sample, m is 1."""
        reg = self.net.regularization
        if reg is None:
            return None
        m = sympy.S.One if self.one else regularizers.BATCH
        expr = (reg.rule.scale if scale else reg.rule.coefficient)(regularizers.LAMBDA, m)
        code = ElementPrinter({regularizers.LAMBDA: L2, regularizers.BATCH: "m"}, False).doprint(expr)
        text = sympy.sstr(expr).replace("lambda", "λ").replace("*", "")
        return code, text

    def _penalized(self, array: str, code: str, text: str) -> tuple[str, str]:
        """A gradient line with the penalty's ∂R/∂θ added, when the array is in the penalty."""
        coefficient = self._coefficient()
        if coefficient is None or not self.net.regularized(array):
            return code, text
        factor, factor_text = coefficient
        kind, layer = array[0], int(array[1:])
        return f"{code} + {factor} * {array}", f"{text} + {factor_text} {layer_text(kind, layer)}"

    def penalty(self) -> list[Line]:
        """R = scale · Σ θ² over the regularised arrays, the term the loss adds to the mean cost."""
        coefficient = self._coefficient(scale=True)
        if coefficient is None:
            return []
        factor, factor_text = coefficient
        arrays = [name for name in self.net.shapes() if self.net.regularized(name)]
        total = " + ".join(f"np.sum({name} * {name})" for name in arrays)
        text = " + ".join(f"‖{layer_text(name[0], int(name[1:]))}‖²" for name in arrays)
        lines = []
        if self.net.regularization.rule.uses_batch():
            lines.append(Line("m", "X.shape[0]", "m, the number of samples"))
        lines.append(Line("R", f"{factor} * {wrap(total)}", f"R = {factor_text} ({text}), λ = L2"))
        return lines

    def _output_delta(self) -> list[Line]:
        L, act, loss = self.L, self.net.activation(self.L), self.net.loss_def
        eqs = self.matrix.output_delta
        first = self._equation(eqs[0])
        a, z, y, delta = self._a(L), self._name("Z", L), self._name("Y"), self._name("D", L)
        names = {"a": a, "z": z, "y": y}
        if self.output.matching and self.net.target_kind.one_hot:  # Σₖ yₖ = 1 exactly: δ⁽ᴸ⁾ = a − y
            simple, text = self._rows(eqs[-1].rhs), self._text(eqs[-1].rhs)
            return [self._mean(delta, simple, f"{first} = {text} (one-hot targets: Σₖ yₖ = 1)")]
        if act.name in loss.delta_code:  # the loss's own NumPy form of δ⁽ᴸ⁾ for this output
            code, text, helpers = loss.delta_code[act.name]
            self.helpers.update(helpers)
            text = text.format(a=layer_text("a", L))
            return [self._mean(delta, code.format(**names), f"{first} = {text}")]
        if self.output.matching:
            simple, text = self._rows(eqs[-1].rhs), self._text(eqs[-1].rhs)
            return [self._mean(delta, simple, f"{first} = {text}")]
        if act.elementwise:
            code, text = self._element(self.output.wrt_z, L)
            return [self._mean(delta, code, f"{first} = {text}")]
        code, text = self._element(self.output.wrt_a, L)  # ∂C/∂a₁ in a₁ and y₁ stands for the whole layer
        jac = self._equation(eqs[1])
        g = self._name("G", L)
        return [Line(g, code, f"∇ₐC = {text}"), self._mean(delta, self._back(act, a, g), f"{first}, {jac}")]

    def _mean(self, target: str, code: str, formula: str) -> Line:
        """δ⁽ᴸ⁾ of a batch divided by m, so that every gradient below is a batch mean; of one sample, as it is.
        The division is in place when ``code`` makes a new array (it is not a name of another)."""
        if self.one:
            return Line(target, code, formula)
        if code.isidentifier():
            return Line(target, f"{code} / m", formula, "batch_mean")
        return Line(target, code, formula, "batch_mean", then="/= m")

    def _back(self, act: activations.Activation, a: str, v: str) -> str:
        """Jᵀ v of a layer-valued activation in generated code, by its registry entry."""
        assert act.layer is not None, act.name
        self.helpers.update(helper.name for helper in act.layer.back_helpers)
        return act.layer.back_code.format(a=a, v=v)

    def _recursion(self, layer: int) -> Line:
        eqs = self.matrix.recursion[layer]
        act = self.net.activation(layer)
        back = self.matrix.backprop_in[layer]
        incoming = self._rows(back)
        text = self._equation(eqs[0])
        delta = self._name("D", layer)
        if not act.elementwise:
            return Line(delta, self._back(act, self._a(layer), incoming), f"{text}, {self._equation(eqs[1])}")
        derivative = self._derivative(layer)
        if derivative is None:
            return Line(delta, incoming, f"{text}, {act.text}' = 1")
        code, g_text = derivative
        g_name = self._symbol_text(Label(Kind.G_PRIME, layer))
        formula = f"{text}, {g_name} = {g_text}"
        if self.one or not isinstance(back, MatMul):
            return Line(delta, f"{wrap(incoming)} * {wrap(code)}", formula)
        return Line(delta, incoming, formula, then=f"*= {code}")  # the product is a new array: scaled in place

    def _element_formula(self, name: str) -> str:
        layer = int(name[1:])
        delta = f"{layer_text('δ', layer)}[{{i}}]"
        coefficient = self._coefficient() if self.net.regularized(name) else None
        if name.startswith("b"):
            element, text = f"{name}[{{i}}]", f"(1/m) Σₛ {delta}"
        else:
            before = "x" if layer == 1 else layer_text("a", layer - 1)
            element, text = f"{name}[{{i}},{{j}}]", f"(1/m) Σₛ {delta} {before}[{{j}}]"
        if coefficient is not None:
            text += f" + {coefficient[1]} {element} (λ = {self.net.regularization.l2!r})"
        return f"∂J/∂{element} = {text}"

    def build(self) -> Plan:
        forward = self.forward()
        loss = self.loss()
        backward, formulas = self.backward()
        self.one = True
        single = (*self.forward(), *self.backward()[0])
        self.one = False
        return Plan(
            network=self.net,
            shapes=self.net.shapes(),
            forward=tuple(forward),
            loss=tuple(loss),
            backward=tuple(backward),
            gradients={name: f"d{name}" for name in self.net.shapes()},
            helpers=tuple(sorted(self.helpers)),
            formulas={name: formulas[name] for name in self.net.shapes()},
            elements={name: self._element_formula(name) for name in self.net.shapes()},
            single=single,
            penalty=tuple(self.penalty()),
            l2=None if self.net.regularization is None else self.net.regularization.l2,
        )
