"""The budget of reading one formula (:class:`Work`), and what an expression's size and numbers are.

Separate from :mod:`derive.verify.reading` because it is bookkeeping, not reading: every Reader of one reading,
and the verifier's later stages, count against the same Work, and ``inspect`` remembers what it has seen.
"""

from __future__ import annotations

from typing import Protocol

from sympy import Expr, S

from derive.verify.syntax import FormulaError, LimitError, Limits, Node


class Reports(Protocol):
    """What :meth:`Work.charge` needs of a reader: an error placed at a node of the formula."""

    def error(self, node: Node, message: str, kind: type[FormulaError]) -> FormulaError: ...


class WorkExhaustedError(LimitError):
    """Building went over :attr:`Work.limit`: the formula is refused, or, after some elements, the sample stops."""


# What Work.inspect finds in an expression besides its size.
UNDEFINED, NOT_REAL, HUGE = 1, 2, 4
_UNDEFINED = (S.ComplexInfinity, S.NaN, S.Infinity, S.NegativeInfinity)
_HUGE_BITS = int(Limits.DIGITS * 3.3219280948873626)  # DIGITS decimal digits in bits


class Work:
    """The cost of reading one formula, counted against :class:`Limits`, shared by every Reader of one reading.

    ``used`` counts sympy operations (one per scalar operation, one per entry of a matrix operation, one
    per multiplication of a matrix product), charged before each operation so that a product too big is
    refused before it is computed. ``inspect`` remembers each distinct expression's size as a tree and
    whether it holds an undefined, non-real or huge number, so checking every step of a build costs only
    the parts that are new.
    """

    def __init__(self, limit: int = Limits.WORK) -> None:
        self.limit = limit
        self.used = 0
        self._stats: dict[Expr, tuple[int, int]] = {}

    def charge(self, reader: Reports, node: Node, amount: int) -> None:
        self.used += amount
        if self.used > self.limit:
            message = f"building the formula takes more than the {self.limit} operations allowed"
            raise reader.error(node, message, WorkExhaustedError)

    def inspect(self, expr: Expr) -> tuple[int, int]:
        """(size as a tree, flags) of an expression: shared parts count each time, as evaluating meets them."""
        stats = self._stats
        found = stats.get(expr)
        if found is not None:
            return found
        stack: list[tuple[Expr, bool]] = [(expr, False)]
        while stack:
            e, ready = stack.pop()
            if e in stats:
                continue
            if not ready:
                stack.append((e, True))
                stack.extend((a, False) for a in e.args if a not in stats)
                continue
            size, flags = 1, _flags(e)
            for a in e.args:
                a_size, a_flags = stats[a]
                size, flags = size + a_size, flags | a_flags
            stats[e] = (size, flags)
        return stats[expr]

    def size(self, expr: Expr) -> int:
        return self.inspect(expr)[0]


def _flags(e: Expr) -> int:
    """What one node is by itself: ∞ or nan, a non-real constant, a number with more than DIGITS digits."""
    if not e.is_Atom and not e.is_Pow:
        return 0
    if any(e is u for u in _UNDEFINED):
        return UNDEFINED
    if e is S.ImaginaryUnit:
        return NOT_REAL
    if e.is_Pow:  # (-8)^{1/3}: sympy keeps the principal root, a complex number
        base, exp = e.args
        return NOT_REAL if base.is_Number and base.is_negative and exp.is_Rational and not exp.is_Integer else 0
    if e.is_Rational and (abs(e.p).bit_length() > _HUGE_BITS or e.q.bit_length() > _HUGE_BITS):
        return HUGE
    return 0
