"""Formulas in the order they are written: a chain's product factor by factor, and long displays broken.

A mixin of the LaTeX printer (:class:`derive.present.latex.DeriveLatexPrinter`): sympy sorts the factors of a
product, a textbook writes them in the order the chain rule meets them, (ŷ − y)·ŷ(1 − ŷ)·w·a(1 − a)·x. The forms
come from :mod:`derive.engine.ordered`, which keeps that order; here they are printed without re-sorting.
"""

from __future__ import annotations

from collections.abc import Callable

import sympy
from sympy import Basic

from derive.engine.ordered import Ordered, Product, Total, product
from derive.present.elision import sum_terms
from derive.rules import regularizers
from derive.rules import symbols as sym
from derive.rules.faces import paren

# A display line of this many em (about 13 cm at 11 pt, the measure of a book page) is broken where it can be.
LINE_EM = 34.0


def width_em(tex: str) -> float:
    """A rough width of LaTeX math in em: letters ½ em, scripts smaller, a fraction as wide as its wider part.

    Good enough to decide where a line must break; TeX decides the real width.
    """
    total, k, script = 0.0, 0, 0.0  # script: the width of a script just set, for one set over the other
    while k < len(tex):
        c = tex[k]
        if c in "^_":
            arg, k = _group(tex, k + 1)
            wide = 0.7 * width_em(arg)
            total += max(0.0, wide - script)
            script = wide
            continue
        script = 0.0
        if c == "\\":
            end = k + 1
            while end < len(tex) and tex[end].isascii() and tex[end].isalpha():
                end += 1
            name, k = (tex[k + 1 : end], end) if end > k + 1 else (tex[k + 1 : k + 2], k + 2)
            if name in ("frac", "dfrac", "tfrac"):
                num, k = _group(tex, k)
                den, k = _group(tex, k)
                total += max(width_em(num), width_em(den)) + 0.3
            elif name in ("left", "right"):
                total += 0.4 if tex[k : k + 1] != "." else 0.0
                k += 1
            elif name in ("cdot", "odot", "le", "ge", "leftarrow", "coloneqq"):
                total += 1.0
            elif name in ("quad",):
                total += 1.0
            elif name in ("mathopen", "mathclose", "mathsf", "mathbf", "hat", "bar", "operatorname", "mathrm", "text"):
                continue
            else:
                total += 0.6
        elif c in "+-=<>":
            total += 1.3
            k += 1
        elif c in "{} ":
            k += 1
        else:
            total += 0.5
            k += 1
    return total


def _group(tex: str, k: int) -> tuple[str, int]:
    """The braced group (or single character) at ``tex[k]`` and the index after it."""
    while k < len(tex) and tex[k] == " ":
        k += 1
    if k >= len(tex) or tex[k] != "{":
        return tex[k : k + 1], k + 1
    depth = 0
    for end in range(k, len(tex)):
        depth += {"{": 1, "}": -1}.get(tex[end], 0)
        if depth == 0:
            return tex[k + 1 : end], end + 1
    return tex[k + 1 :], len(tex)


class WrittenOrder:
    """``ordered`` and ``ordered_lines`` for the sympy printer this is mixed into (it brings ``_print``)."""

    _print: Callable[[Basic], str]

    def ordered(self, form: Ordered, dot: bool = True) -> str:
        """A form of :mod:`derive.engine.ordered` in its written order, nothing re-sorted or cancelled.

        Factors are joined by ``\\cdot`` (by a space when ``dot`` is False, as in a chain of ∂ fractions), a
        factor that is a sum is bracketed, a leading number is the coefficient, and a minus sign is absorbed
        into a difference with the target as in :meth:`_print_Mul`: −(ŷ − y)·ŷ(1 − ŷ) reads (y − ŷ)·ŷ(1 − ŷ).
        """
        if isinstance(form, Total):
            out = ""
            for k, term in enumerate(sum_terms(form.terms)):
                text = r"\cdots" if term is None else self.ordered(term, dot)
                if k == 0:
                    out = text
                elif text.startswith("-"):
                    out += " - " + text[1:].lstrip()
                else:
                    out += " + " + text
            return out
        if isinstance(form, Product):
            return self._ordered_product(form, dot)
        return self._print(form)

    def ordered_lines(self, form: Ordered, width: float = LINE_EM) -> list[str]:
        """``ordered(form)``, broken into lines when it is wider than ``width`` em (an estimate, :func:`width`).

        A product whose first factor is a sum is broken after each term of that sum: the first line opens the
        bracket (``\\left( … \\right.``), each further line starts ``{} + …`` so that the sign stays binary,
        and the last closes the bracket and carries the other factors. One line when it fits or cannot break.
        """
        text = self.ordered(form)
        if width_em(text) <= width or not isinstance(form, Product):
            return [text]
        factors = _flat(form)
        first = next((k for k, f in enumerate(factors) if not _is_number(f)), None)
        if first is None or not isinstance(factors[first], Total) or first != 0:
            return [text]
        terms = [r"\cdots" if t is None else self.ordered(t) for t in sum_terms(factors[first].terms)]
        rest = self.ordered(product(*factors[first + 1 :]))
        lines = [rf"\left({terms[0]}\right."]
        for term in terms[1:]:
            sign, body = ("-", term[1:].lstrip()) if term.startswith("-") else ("+", term)
            lines.append(rf"\quad {{}} {sign} \left.{body}\right.")
        lines[-1] = lines[-1][: -len(r"\right.")] + r"\right) \cdot " + rest
        return lines

    def _ordered_product(self, form: Product, dot: bool) -> str:
        factors = _flat(form)
        coeff = sympy.Mul(*(f for f in factors if _is_number(f)))
        rest = [f for f in factors if not _is_number(f)]
        negative = bool(coeff.is_negative)
        coeff = abs(coeff)
        if negative:
            flip = next((k for k, f in enumerate(rest) if isinstance(f, Basic) and f.is_Add and has_target(f)), None)
            if flip is not None:
                rest[flip] = -rest[flip]
                negative = False
        prefixed = negative or coeff != 1
        parts = []
        for k, f in enumerate(rest):
            text = self.ordered(f, dot)
            alone = len(rest) == 1 and not prefixed
            if isinstance(f, Total):
                if not alone and (len(f.terms) > 1 or _bracketed(f.terms[0], first=False)):
                    text = paren(text, f.brackets[0], f.brackets[1])
            elif not alone and _bracketed(f, first=k == 0 and not prefixed):
                text = paren(text)
            parts.append(text)
        body = (r" \cdot " if dot else " ").join(parts)
        if coeff != 1:
            body = f"{self._print(coeff)} {body}" if body else self._print(coeff)
        return ("- " if negative else "") + (body or "1")


def _flat(form: Product) -> list[Ordered]:
    """The factors of a product with the products among them spliced in."""
    return [g for f in form.factors for g in (_flat(f) if isinstance(f, Product) else [f])]


def _is_number(form: Ordered) -> bool:
    return isinstance(form, Basic) and form.is_Number


def _bracketed(form: Ordered, first: bool) -> bool:
    """Whether a factor of a product needs brackets: a sum, or a negative factor after the first."""
    if not isinstance(form, Basic):
        return True
    return bool(form.is_Add) or (not first and form.could_extract_minus_sign())


def symbol_kind(expr: Basic) -> str | None:
    """The kind of a canonical symbol (W, b, a, y, delta, …; eta for η, lambda for λ), or None."""
    if expr == sym.LEARNING_RATE:
        return "eta"
    if expr == regularizers.LAMBDA:
        return "lambda"
    info = sym.parse_name(expr.name) if isinstance(expr, sympy.Symbol) else None
    return info.kind if info is not None else None


def has_target(expr: Basic) -> bool:
    """Whether ``expr`` holds a target y: a difference with it takes the minus sign, (y − ŷ) for −(ŷ − y)."""
    return any(symbol_kind(s) == "y" for s in expr.free_symbols)
