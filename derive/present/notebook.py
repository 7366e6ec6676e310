"""How a derivation and a gradient show themselves in Jupyter: short text, and math in the reader's notation.

Only the concrete matrix equations of the declared network are shown (the ones the check confirms entry by
entry), written by the same LaTeX printer as the documents, so a notebook reads ``W^{(2)}_{11}`` where
derive's own names say ``W2[1,1]``.
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape

from derive.engine.derivation import Derivation
from derive.engine.record import Record
from derive.engine.steps import Equation, ParameterGradient
from derive.model.network import Network
from derive.present import mathml
from derive.present.document_data import RELATIONS
from derive.present.latex import latex
from derive.rules import symbols as sym
from derive.rules.functions import Partial

# A repr longer than this is cut: a notebook's text view should fit on one line.
SHORT = 100


def summary(net: Network) -> str:
    """``seed004: 3-2-1, sigmoid/sigmoid, squared_error, 8 parameters``."""
    acts = "/".join(layer.activation for layer in net.layers)
    shape = "-".join(map(str, net.sizes))
    reg = net.regularization
    penalty = "" if reg is None else f", L2 {reg.form} λ = {reg.l2:g}"
    return f"{net.name}: {shape}, {acts}, {net.loss}{penalty}, {net.parameter_count()} parameters"


def short(text: str) -> str:
    """``text`` on one line, cut to :data:`SHORT` characters."""
    one = " ".join(text.split())
    return one if len(one) <= SHORT else one[: SHORT - 1] + "…"


def _rows(equations: Iterable[Equation], net: Network) -> list[tuple[str, str, str]]:
    return [(latex(e.lhs, net), RELATIONS[e.relation], latex(e.rhs, net)) for e in equations]


def aligned(equations: Iterable[Equation], net: Network) -> str:
    """Equations as one LaTeX ``aligned`` block, each on its own row, relations lined up."""
    rows = [rf"{lhs} &{rel} {rhs}" for lhs, rel, rhs in _rows(equations, net)]
    return r"\begin{aligned}" + r" \\ ".join(rows) + r"\end{aligned}"


def html(title: str | None, equations: Iterable[Equation], net: Network) -> str:
    """The equations as MathML, which browsers (and so Jupyter) show without MathJax, under a bold title."""
    head = f"<p><b>{escape(title)}</b></p>\n" if title else ""
    return f"{head}{mathml.rows(_rows(equations, net))}\n"


def matrix_equations(d: Derivation) -> list[Equation]:
    """δ at the output, δ of each hidden layer, and each layer's gradients, as the network's matrices."""
    form = Record(d).matrix
    eqs = [form.output_delta[0]]
    eqs += [form.recursion[layer][0] for layer in range(d.L - 1, 0, -1)]
    eqs += [e for layer in range(d.L, 0, -1) for e in form.gradients[layer]]
    return eqs


def derivation_latex(d: Derivation) -> str:
    return "$$" + aligned(matrix_equations(d), d.network) + "$$"


def derivation_markdown(d: Derivation) -> str:
    return f"**{summary(d.network)}**\n\n" + derivation_latex(d) + "\n"


def derivation_html(d: Derivation) -> str:
    return html(summary(d.network), matrix_equations(d), d.network)


def gradient_equations(g: ParameterGradient) -> list[Equation]:
    """∂C/∂θ: the chain as written, the product with δ, and the closed form."""
    lhs = Partial(sym.COST, g.symbol)
    return [Equation(lhs, g.chain), Equation(lhs, g.delta_form), Equation(lhs, g.closed)]


def gradient_latex(g: ParameterGradient, net: Network) -> str:
    return "$$" + aligned(gradient_equations(g), net) + "$$"


def gradient_html(g: ParameterGradient, net: Network) -> str:
    return html(None, gradient_equations(g), net)  # its first row names it, in the reader's notation


def verdict_html(right: bool, correct: str, text: str) -> str:
    """A verdict: right or wrong in bold, the correct form as MathML, then the whole answer as text."""
    return f"<p><b>{'right' if right else 'wrong'}</b></p>\n{mathml.block(correct)}\n<pre>{escape(text)}</pre>\n"
