"""The arithmetic of a statement that is not one gradient (an identity, a batch cost), as a sympy number or
expression: numbers, brackets, a leading minus and + − × ÷. What a name, a power, a sum or a call means is
the statement's own, in a subclass."""

from __future__ import annotations

import sympy
from sympy import Expr

from derive.verify.syntax import BinOp, Formula, FormulaError, Neg, Node, Num, Paren, fail


class Arithmetic:
    """``build`` reads the arithmetic shared by every scalar statement and hands anything else to ``other``."""

    formula: Formula
    PRODUCTS: tuple[str, ...] = ("*",)  # the operators read as a product of two scalars

    def error(self, node: Node, message: str) -> FormulaError:
        return fail(self.formula.text, getattr(node, "pos", 0), message)

    def build(self, node: Node) -> Expr:
        if isinstance(node, Num):
            return sympy.Rational(node.text)
        if isinstance(node, Paren):
            return self.build(node.body)
        if isinstance(node, Neg):
            return -self.build(node.body)
        if isinstance(node, BinOp) and node.op in ("+", "-", "/", *self.PRODUCTS):
            left, right = self.build(node.left), self.build(node.right)
            if node.op == "+":
                return left + right
            if node.op == "-":
                return left - right
            return left / right if node.op == "/" else left * right
        return self.other(node)

    def other(self, node: Node) -> Expr:
        """What the statement makes of a node that is not arithmetic."""
        raise NotImplementedError
