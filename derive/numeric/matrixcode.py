"""A matrix-form expression as NumPy array code and as plain text, in derive's own names.

It exists apart from :mod:`derive.numeric.codeplan`, which decides the lines of the generated module
(forward pass, loss, δ's, gradients, penalty), because translating one expression of the matrix form is
a task of its own: a column vector v becomes an (m, n) array V of a batch's rows (W a + b is
``A @ W.T + b``, Wᵀ δ is ``D @ W``, u ⊙ v is ``U * V``) or, for one sample, a 1-D array written as the
formula is (``W @ a + b``); an element-level expression in neuron 1 of a layer stands for the whole
layer; and each expression also reads as plain text (z⁽²⁾, δ⁽¹⁾, σ'(z⁽¹⁾)) for the line's comment.
"""

from __future__ import annotations

import sympy
from sympy import HadamardProduct, MatAdd, MatMul, MatrixSymbol, OneMatrix, Symbol, Transpose

from derive.engine.forms import Kind, Label, Layer
from derive.engine.steps import Equation
from derive.model.network import Network
from derive.numeric.codeprint import ElementPrinter, form_label, number, positive_first, split, twrap, wrap
from derive.rules import activations
from derive.rules import symbols as sym

_SUPERSCRIPT = str.maketrans("0123456789+-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻")


def layer_text(kind: str, layer: Layer) -> str:
    """z⁽²⁾, δ⁽¹⁾, …: a layer's vector in plain text."""
    return f"{kind}⁽{str(layer).translate(_SUPERSCRIPT)}⁾"


class MatrixCode:
    """Translates a network's matrix-form expressions; ``one`` switches from a batch's arrays to one sample's.

    The NumPy helper functions the translated code calls are collected in ``helpers``.
    """

    def __init__(self, network: Network) -> None:
        self.net = network
        self.helpers: set[str] = set()
        self.one = False  # writing the lines of one sample (1-D arrays) rather than of a batch

    # ---------------------------------------------------------------- names
    def _element_names(self, layer: int, text: bool) -> dict[Symbol, str]:
        """a, z of neuron 1 of ``layer`` and y_1 stand for the whole layer."""
        if text:
            names = {sym.a(layer, 1): layer_text("a", layer), sym.z(layer, 1): layer_text("z", layer)}
            return names | {sym.y(1): "y"}
        return {sym.a(layer, 1): self._a(layer), sym.z(layer, 1): self._name("Z", layer), sym.y(1): self._name("Y")}

    def _name(self, letter: str, layer: int | None = None) -> str:
        """A vector's variable: ``Z2``, ``D1``, ``Y`` of a batch; ``z2``, ``d1``, ``y`` of one sample."""
        name = letter if layer is None else f"{letter}{layer}"
        return name.lower() if self.one else name

    def _element(self, expr: sympy.Expr, layer: int) -> tuple[str, str]:
        """(code, text) of an element-level expression in neuron 1 of ``layer``."""
        code = ElementPrinter(self._element_names(layer, False), False).doprint(expr)
        text = ElementPrinter(self._element_names(layer, True), True).doprint(expr)
        for function in expr.atoms(sympy.Function):
            written = activations.written(type(function))
            self.helpers.update(written.helpers if written is not None else ())
        return code, text

    def _a(self, layer: int) -> str:
        return self._name("X") if layer == 0 else self._name("A", layer)

    def _derivative(self, layer: int) -> tuple[str, str] | None:
        """g'(z) of an elementwise layer as (code, text), None when it is 1."""
        act = self.net.activation(layer)
        expr = act.local_derivative(sym.a(layer, 1), sym.z(layer, 1))
        return None if expr == 1 else self._element(expr, layer)

    # ---------------------------------------------------------- translation
    def _rows(self, e: sympy.Basic) -> str:
        """A column-vector expression as an (m, n) array expression (of one sample: a 1-D array expression)."""
        if isinstance(e, MatrixSymbol):
            return self._vector_name(form_label(e))
        if isinstance(e, MatAdd):
            out = ""
            for term in positive_first(e.args):
                coeff, rest = split(term)
                code = self._rows(rest)
                if abs(coeff) != 1:
                    code = f"{number(abs(coeff))} * {wrap(code)}"
                if coeff < 0:
                    out += f" - {wrap(code)}" if out else f"-{wrap(code)}"
                else:
                    out += f" + {code}" if out else code
            return out
        if isinstance(e, HadamardProduct):
            return " * ".join(wrap(self._rows(f)) for f in e.args)
        if isinstance(e, OneMatrix):
            return "1.0"
        if isinstance(e, MatMul):
            coeff, rest = split(e)
            if coeff != 1:
                return f"{number(coeff)} * {wrap(self._rows(rest))}"
            *mats, v = rest.args if isinstance(rest, MatMul) else (rest,)
            code = self._rows(v)
            for m in reversed(mats):
                if self.one:
                    code = f"{self._matrix(m)} @ {wrap(code)}"
                else:
                    code = f"{wrap(code)} @ {self._matrix(m, transpose=True)}"
            return code
        raise AssertionError(f"no batch form for {e}")

    def _matrix(self, m: sympy.Basic, transpose: bool = False) -> str:
        """A parameter matrix W⁽ˡ⁾ (or its transpose)."""
        if isinstance(m, Transpose):
            return self._matrix(m.arg, not transpose)
        label = form_label(m)
        assert label.kind is Kind.W, m
        name = f"W{label.layer}"
        return f"{name}.T" if transpose else name

    def _vector_name(self, label: Label) -> str:
        layer = label.layer
        if label.kind is Kind.B:
            return f"b{layer}"
        letter = {Kind.X: "X", Kind.Y: "Y", Kind.A: "A", Kind.Z: "Z", Kind.DELTA: "D"}[label.kind]
        return self._name(letter, None if label.kind in (Kind.X, Kind.Y) else layer)

    def _text(self, e: sympy.Basic) -> str:
        """A matrix-form expression in plain text."""
        if isinstance(e, MatrixSymbol):
            return self._symbol_text(form_label(e))
        if isinstance(e, Transpose):
            return f"{twrap(self._text(e.arg))}ᵀ"
        if isinstance(e, MatAdd):
            out = ""
            for term in positive_first(e.args):
                coeff, rest = split(term)
                body = self._text(rest)
                if coeff < 0:
                    body = body if coeff == -1 else f"{number(-coeff)} {twrap(body)}"
                    out += f" − {body}" if out else f"−{body}"
                else:
                    body = body if coeff == 1 else f"{number(coeff)} {twrap(body)}"
                    out += f" + {body}" if out else body
            return out
        if isinstance(e, HadamardProduct):
            return " ⊙ ".join(twrap(self._text(f)) for f in e.args)
        if isinstance(e, OneMatrix):
            return "1"
        if isinstance(e, MatMul):
            coeff, rest = split(e)
            factors = rest.args if isinstance(rest, MatMul) else (rest,)
            body = " ".join(twrap(self._text(f)) for f in factors)
            return body if coeff == 1 else f"{number(coeff)} {body}"
        if isinstance(e, sympy.DiagMatrix):
            return f"diag({self._text(e.args[0])})"
        raise AssertionError(f"no text for {e}")

    def _symbol_text(self, label: Label) -> str:
        kind, layer = label.kind, label.layer
        if kind in (Kind.X, Kind.Y):
            return kind.value
        act = self.net.activation(layer).text
        return {
            Kind.A: layer_text("a", layer),
            Kind.Z: layer_text("z", layer),
            Kind.B: layer_text("b", layer),
            Kind.W: layer_text("W", layer),
            Kind.DELTA: layer_text("δ", layer),
            Kind.G: f"{act}({layer_text('z', layer)})",
            Kind.G_PRIME: f"{act}'({layer_text('z', layer)})",
            Kind.JACOBIAN: layer_text("J", layer),
            Kind.NABLA_C: "∇ₐC",
            Kind.DC_DW: f"∂C/∂{layer_text('W', layer)}",
            Kind.DC_DB: f"∂C/∂{layer_text('b', layer)}",
            Kind.DJ_DW: f"∂J/∂{layer_text('W', layer)}",
            Kind.DJ_DB: f"∂J/∂{layer_text('b', layer)}",
        }[kind]

    def _equation(self, eq: Equation) -> str:
        return f"{self._text(eq.lhs)} = {self._text(eq.rhs)}"
