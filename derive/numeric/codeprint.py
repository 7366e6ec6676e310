"""Printing pieces of generated code: element-level expressions as NumPy code or plain text, and bracketing.

The element printer writes an expression in neuron 1 of a layer (a, z, y) for the whole layer: as NumPy code
over arrays, or as the plain-text formula of the comment above the line. The small functions split a matrix
term into its coefficient and its matrix part and parenthesise compound code or text.
"""

from __future__ import annotations

import re

import numpy as np
import sympy
from sympy import MatMul, Symbol
from sympy.printing.precedence import precedence
from sympy.printing.str import StrPrinter

from derive.engine.forms import Label, label_of
from derive.rules import activations


class ElementPrinter(StrPrinter):
    """An element-level expression of one layer as NumPy code over a batch, or as plain text."""

    def __init__(self, names: dict[Symbol, str], text: bool) -> None:
        super().__init__({"order": "none"})
        self.names = names
        self.text = text

    def _print_Symbol(self, expr: Symbol) -> str:
        if expr not in self.names:
            raise AssertionError(f"no name for {expr} in generated code")
        return self.names[expr]

    def _print_Function(self, expr: sympy.Expr) -> str:
        """An activation's function by its registry entry (numbers as floats); NumPy's own for exp, log, …"""
        args = [repr(float(arg)) if arg.is_Number else self._print(arg) for arg in expr.args]
        written = activations.written(type(expr))
        if written is not None:
            return (written.text if self.text else written.code)(*args)
        name = type(expr).__name__
        if not self.text and isinstance(getattr(np, name, None), np.ufunc):
            return f"np.{name}({', '.join(args)})"
        return super()._print_Function(expr)

    def _print_Mul(self, expr: sympy.Expr) -> str:
        if not self.text:
            # Spaces around * and /, but not again around a nested product's, already spaced: z * (1 - σ) inside (…).
            return re.sub(r"(?<![*\s])([*/])(?![*\s])", r" \1 ", super()._print_Mul(expr))
        coeff, rest = expr.as_coeff_Mul()
        num, den = sympy.fraction(rest)
        parts = [self.parenthesize(f, precedence(expr)) for f in sympy.Mul.make_args(num) if f != 1]
        body = " ⊙ ".join(parts) or "1"
        if den != 1:
            body = f"{body}/{self.parenthesize(den, precedence(expr) + 1)}"
        if coeff == -1:
            return f"-{body}"
        return body if coeff == 1 else f"({coeff}) {body}"

    def _print_Pow(self, expr: sympy.Expr, rational: bool = False) -> str:
        if self.text and expr.exp == 2:
            base = self.parenthesize(expr.base, precedence(expr))
            return f"{base} ⊙ {base}"
        return super()._print_Pow(expr, rational)

    def doprint(self, expr: sympy.Expr) -> str:
        out = super().doprint(expr)
        if not self.text:
            return out
        out = out.replace(" - ", " − ")
        return f"−{out[1:]}" if out.startswith("-") else out


def split(e: sympy.Basic) -> tuple[sympy.Expr, sympy.Basic]:
    """(scalar coefficient, matrix part) of a term."""
    if isinstance(e, MatMul):
        coeff, mats = e.as_coeff_matrices()
        if not mats:
            raise AssertionError(f"no matrix in {e}")
        return coeff, mats[0] if len(mats) == 1 else MatMul(*mats)
    return sympy.S.One, e


def positive_first(terms: tuple[sympy.Basic, ...]) -> list[sympy.Basic]:
    """a − y rather than −y + a."""
    return sorted(terms, key=lambda t: bool(split(t)[0] < 0))


def twrap(text: str) -> str:
    """Parenthesise a compound plain-text expression."""
    return f"({text})" if " " in text else text


def form_label(m: sympy.Basic) -> Label:
    """The kind and layer of one of the matrix form's vectors or matrices."""
    label = label_of(m)
    assert label is not None, m
    return label


def number(value: sympy.Expr) -> str:
    return str(value) if value.is_Integer else repr(float(value))


def wrap(code: str) -> str:
    """Parenthesise a compound expression; names, calls and bracketed groups stay as they are."""
    head = code.split("(", 1)[0]
    if head.replace(".", "").replace("_", "").isalnum() and "(" not in code:
        return code
    if head.replace(".", "").replace("_", "").isalnum() or head == "":
        depth = 0
        for k, ch in enumerate(code):
            depth += {"(": 1, ")": -1}.get(ch, 0)
            if depth == 0 and ch == ")":
                return code if k == len(code) - 1 else f"({code})"
    return f"({code})"
