"""Sums of sympy terms are built in one step (issue 14): ``Add(*terms)``, never ``sum(terms, S.Zero)``.

``sum`` makes a new Add for every partial sum, which is quadratic in the number of terms: 784 products take
about a second against 3 ms. The source is read with ``ast``, so a sum started at ``S.Zero`` anywhere in the
package fails here; and the engine's 784-term forward equation is the Add of its products.
"""

from __future__ import annotations

import ast

from conftest import ROOT
from sympy import Add

import derive
from derive.rules import symbols as sym


def _zero_started_sums(tree: ast.AST) -> list[int]:
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "sum":
            start = (
                node.args[1] if len(node.args) > 1 else next((k.value for k in node.keywords if k.arg == "start"), None)
            )
            if start is not None and ast.unparse(start).endswith("S.Zero"):
                lines.append(node.lineno)
    return lines


def test_no_sum_starts_at_sympy_zero() -> None:
    found = {}
    for path in sorted((ROOT / "derive").rglob("*.py")):
        lines = _zero_started_sums(ast.parse(path.read_text(encoding="utf-8")))
        if lines:
            found[str(path.relative_to(ROOT))] = lines
    assert found == {}


def test_the_detector_sees_the_old_form() -> None:
    assert _zero_started_sums(ast.parse("x = sum((a for a in b), S.Zero)\ny = sum(c, start=sympy.S.Zero)")) == [1, 2]


def test_a_wide_neuron_is_the_add_of_its_products() -> None:
    net = derive.Network(784, (derive.Layer(3, "sigmoid"), derive.Layer(2, "softmax")), "cross_entropy")
    z, _ = derive.derive(net).forward_neuron(1, 2)
    expected = Add(*(sym.W(1, 2, j) * sym.a(0, j) for j in range(1, 785)), sym.b(1, 2))
    assert z.lhs == sym.z(1, 2) and z.rhs == expected and len(z.rhs.args) == 785
