"""LaTeX in the reader's notation: names change, mathematics does not."""

from __future__ import annotations

import sympy
from conftest import net

import derive
from derive.engine import matrixform
from derive.present.latex import latex
from derive.rules import symbols as sym
from derive.rules.functions import Partial, sigmoid


def test_default_notation_names():
    n = net((3, 2, 2), ("sigmoid", "sigmoid"), "squared_error")
    assert latex(sym.W(2, 1, 2), n) == "W^{(2)}_{12}"
    assert latex(sym.b(1, 2), n) == "b^{(1)}_{2}"
    assert latex(sym.delta(1, 2), n) == r"\delta^{(1)}_{2}"
    assert latex(sym.x(3), n) == "x_{3}"
    assert latex(Partial(sym.COST, sym.W(2, 1, 2)), n) == r"\frac{\partial C}{\partial W^{(2)}_{12}}"
    assert latex(sigmoid(sym.z(1, 1)), n) == r"\sigma(z^{(1)}_{1})"


def test_from_to_theta_and_costs():
    n = net((3, 2, 1), ("sigmoid", "sigmoid"), "squared_error", index_order="from_to", weight="theta", cost="E")
    assert latex(sym.W(1, 2, 3), n) == r"\theta^{(1)}_{32}"
    assert latex(Partial(sym.COST, sym.a(2, 1)), n) == r"\frac{\partial E}{\partial a^{(2)}_{1}}"
    n = net((3, 2, 1), ("sigmoid", "sigmoid"), "squared_error", output="yhat", target="t")
    assert latex(sym.a(2, 1), n) == r"\hat{y}"
    assert latex(sym.y(1), n) == "t"


def test_letters_name_nodes():
    n = net((2, 2, 2), ("sigmoid", "sigmoid"), "squared_error", weight="w", letters=tuple("abcdef"))
    assert latex(sym.W(1, 1, 2), n) == "w_{cb}"
    assert latex(sym.W(2, 2, 1), n) == "w_{fc}"
    assert latex(sym.x(2), n) == "x_{b}"
    assert latex(sym.a(1, 2), n) == "o_{d}"  # a names a node: the activation is o (tests/test_symbol_clashes.py)
    assert latex(sym.z(2, 1), n) == "z_{e}"
    assert latex(sym.y(2), n) == "y_{f}"


def test_large_indices_are_separated():
    n = net((12, 11, 1), ("tanh", "identity"), "squared_error")
    assert latex(sym.W(1, 11, 12), n) == "W^{(1)}_{11,12}"


def test_matrix_form_uses_odot_and_transpose():
    n = net((2, 3, 2), ("tanh", "sigmoid"), "squared_error")
    d = derive.derive(n)
    eq = matrixform.recursion(d, 1)[0]
    text = latex(eq.rhs, n)
    assert r"\odot" in text and r"(W^{(2)})^{\mathsf T} \delta^{(2)}" in text
    assert r"\tanh'(z^{(1)})" in text
    grad = matrixform.gradients(d, 2)[0]
    assert latex(grad.lhs, n) == r"\frac{\partial C}{\partial W^{(2)}}"
    assert latex(grad.rhs, n) == r"\delta^{(2)} (a^{(1)})^{\mathsf T}"


def test_derivative_is_written_with_a_prime():
    z = sympy.Symbol("z", real=True)
    assert latex(sympy.Derivative(sigmoid(z), z)) == r"\sigma'(z)"


def test_general_index_form_follows_article_001():
    n = net((2, 3, 2), ("sigmoid", "sigmoid"), "squared_error", weight="theta")
    eqs = matrixform.general_index(derive.derive(n))
    text = [f"{latex(e.lhs, n)} {e.relation} {latex(e.rhs, n)}" for e in eqs]
    # to-from: i counts layer l, j layer l − 1, k layer l + 1 (tests/test_symbol_clashes.py)
    assert text[0] == r"\delta^{(l)}_{i} := \frac{\partial C}{\partial z^{(l)}_{i}}"
    assert text[2] == r"\frac{\partial C}{\partial \theta^{(l)}_{ij}} = a^{(l-1)}_{j} \delta^{(l)}_{i}"
    assert text[-1] == (
        r"\delta^{(l)}_{i} = g'(z^{(l)}_{i}) \sum_{k=1}^{n^{(l+1)}} \theta^{(l+1)}_{ki} \delta^{(l+1)}_{k}"
    )
    flipped = net((2, 3, 2), ("sigmoid", "sigmoid"), "squared_error", index_order="from_to", delta="error")
    eqs = matrixform.general_index(derive.derive(flipped))
    assert latex(eqs[-1].rhs, flipped).endswith(r"W^{(l+1)}_{jk} \delta^{(l+1)}_{k}")
    assert latex(eqs[2].rhs, flipped) == r"- a^{(l-1)}_{i} \delta^{(l)}_{j}"
