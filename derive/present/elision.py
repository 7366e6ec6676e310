"""Long things written short: a wide layer's matrix, a long sum, a long list, as its first few, an ellipsis, its last.

A document of a 784-100-10 network would otherwise print 784-term sums and 100 × 784 matrices entry by entry.
Each side of a matrix longer than ``WIDE`` keeps its first ``FIRST`` entries, ⋯ (⋮, ⋱) and its last; a sum of
more than ``LONG_SUM`` terms keeps its first ``FIRST`` terms, ⋯ and its last ``SUM_LAST``. A network whose layers
are at most ``WIDE`` wide is written exactly as before.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TypeVar

from sympy import Basic

WIDE = 6  # a side of a matrix (a list of a layer's values) longer than this is elided
FIRST = 3  # entries kept before the ellipsis
LONG_SUM = 8  # a sum of more terms than this is elided
SUM_LAST = 2  # terms kept after the ellipsis of a sum (the last weighted input and the bias)

T = TypeVar("T")


def kept(n: int, wide: int = WIDE, first: int = FIRST, last: int = 1) -> list[int | None]:
    """The positions (0-based) shown of ``n`` entries: all up to ``wide``, else the first, None (the gap), the last."""
    if n <= wide:
        return list(range(n))
    return [*range(first), None, *range(n - last, n)]


def shorten(items: Sequence[T], wide: int = WIDE, first: int = FIRST, last: int = 1) -> list[T | None]:
    """``items`` with the middle of a long run replaced by one None (where the ellipsis goes)."""
    return [None if k is None else items[k] for k in kept(len(items), wide, first, last)]


def sum_terms(terms: Sequence[T]) -> list[T | None]:
    """The terms of a sum as written: all up to ``LONG_SUM``, else the first, None for ⋯, the last ``SUM_LAST``."""
    return shorten(terms, LONG_SUM, FIRST, SUM_LAST)


_DIGITS = re.compile(r"(\d+)")


def natural_key(term: Basic) -> tuple:
    """A sort key that puts W1[1,2]·x2 before W1[1,10]·x10 (sympy sorts names as strings): the term's symbols'
    names, numbers read as numbers."""
    names = sorted(s.name for s in term.free_symbols)
    return tuple(tuple(int(part) if part.isdigit() else part for part in _DIGITS.split(name)) for name in names)


def matrix_rows(rows: int, cols: int, entry: Callable[[int, int], str]) -> list[list[str]]:
    """The cells of a ``rows`` × ``cols`` matrix as written, ``entry(r, c)`` for each one kept, dots between."""
    out = []
    for r in kept(rows):
        line = []
        for c in kept(cols):
            if r is None:
                line.append(r"\ddots" if c is None else r"\vdots")
            else:
                line.append(r"\cdots" if c is None else entry(r, c))
        out.append(line)
    return out


def shape(rows: int, cols: int) -> str:
    """The true size written under an elided matrix's closing bracket (``_{100 \\times 784}``), else ""."""
    return rf"_{{{rows} \times {cols}}}" if rows > WIDE or cols > WIDE else ""


def numbers() -> dict[str, int]:
    """The numbers above by name, for the documents' sentence on what is elided."""
    return {"wide": WIDE, "first": FIRST, "long_sum": LONG_SUM, "sum_last": SUM_LAST}


__all__ = [
    "FIRST",
    "LONG_SUM",
    "SUM_LAST",
    "WIDE",
    "kept",
    "matrix_rows",
    "natural_key",
    "numbers",
    "shape",
    "shorten",
    "sum_terms",
]
