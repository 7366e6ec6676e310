"""Why a formula is wrong: the common mistakes it matches, and the conventions under which it would be right.

Separate from :mod:`derive.verify` because it only runs for a wrong formula, and it compares the formula
with :mod:`derive.mistakes`' values and reads it again under other conventions, each bounded by Limits.
"""

from __future__ import annotations

import math
from dataclasses import replace

import sympy

from derive.engine.derivation import Derivation
from derive.errors import DeriveError
from derive.rules import symbols as sym
from derive.verify.formula import Formula, Limits
from derive.verify.mistakes import Backward, Point, alternatives
from derive.verify.points import _first_mismatch, _numbers, _with_delta, close
from derive.verify.read import _Attempt, _read, _Shape
from derive.verify.reading_refs import Reading
from derive.verify.work import Work

_ORDER = (
    "sign",
    "factor_two",
    "missing_derivative",
    "extra_derivative",
    "wrong_layer_derivative",
    "missing_sum",
    "transposed",
)


def _mistakes(d: Derivation, attempt: _Attempt, pts: list[Point]) -> list[tuple]:
    """The common mistakes whose values the formula matches at every point and element.

    A mistake must fit the first Limits.DIAGNOSED elements at every point (chance cannot make that
    happen), fewer when their candidates pass Limits.DIAGNOSES values in all (a 100-layer network has a
    thousand places for a misplaced σ'); once none fits, the rest are not computed. The backward pass
    with each mistake is computed once per point, not once per element.
    """
    sign = attempt.reading.sign
    numbers = [_numbers(d, attempt, pts, p) for p in range(len(pts))]
    pairs = [pair for row in numbers for pair in row]
    ratios = [given / correct for given, correct in pairs if abs(correct) > 1e-9 and math.isfinite(given)]
    backward = [Backward(d, _with_delta(point, sign)) for point in pts]
    matched: set | None = None
    tried = 0
    for e, el in enumerate(attempt.elements[: Limits.DIAGNOSED]):
        if matched is not None and (not matched or tried > Limits.DIAGNOSES):
            break
        for p, nums in enumerate(backward):
            given, correct = numbers[p][e]
            only = None if matched is None else {key[:-1] if key[-1] == "and_sign" else key for key in matched}
            keys = set()
            for key, value in alternatives(d, el.target, nums.point, sign, correct, nums, only):
                tried += 1
                if close(given, value):
                    keys.add(key)
                elif key[0] != "sign" and close(given, -value):  # the mistake and the wrong sign together
                    keys.add((*key, "and_sign"))
            matched = keys if matched is None else matched & keys
    found = sorted(matched or (), key=lambda k: (k[-1] == "and_sign", _ORDER.index(k[0]), str(k[1:])))
    out: list[tuple] = []
    for key in found:
        if key[-1] == "and_sign":
            key = key[:-1]
            if ("sign",) not in out:
                out.append(("sign",))
        if key[0] not in {k[0] for k in out}:
            out.append(key)
    if not out and len(ratios) >= 2 and all(close(r, ratios[0]) for r in ratios) and not close(ratios[0], 1.0):
        out.append(("proportional", float(f"{ratios[0]:.6g}")))
    return out


def _structure(attempt: _Attempt) -> list[tuple]:
    """Article 000's error shared out by w/(w + w): a denominator made of weights only."""
    for el in attempt.elements[:1]:
        for power in el.given.atoms(sympy.Pow):
            if power.exp.is_negative and power.base.is_Add and power.base.free_symbols:
                if all(
                    (info := sym.parse_name(str(s))) is not None and info.kind == "W" for s in power.base.free_symbols
                ):
                    return [("shared_error",)]
    return []


def _alternative_readings(
    d: Derivation, param: Formula | None, parsed: Formula, pts: list[Point], primary: Reading, work: Work
) -> list[tuple]:
    """The conventions under which the formula would be right (as many as ``work`` allows: it is shared)."""
    out: list[tuple] = []
    for reading, code in _readings(primary, d.L):
        try:  # the first element decides most readings; the others are read only if it fits
            attempt = _read(d, reading, param, parsed, work, first=True)
            if _fits(d, attempt, pts):
                attempt = _read(d, reading, param, parsed, work)
        except DeriveError:
            continue
        if not _fits(d, attempt, pts):
            continue
        if code[0] == "index_order":
            out.append(("transposed",))
        out.append(("convention", *code))
    return out


def _fits(d: Derivation, attempt: _Attempt, pts: list[Point]) -> bool:
    """Whether the formula, read this way, gives the derived values at every point and element."""
    return not isinstance(attempt, _Shape) and attempt.free is None and _first_mismatch(d, attempt, pts) is None


def _readings(primary: Reading, depth: int = 2):
    n = primary.notation
    flip_delta = "gradient" if n.delta == "error" else "error"
    flip_order = "to_from" if n.index_order == "from_to" else "from_to"
    yield Reading(replace(n, delta=flip_delta)), ("delta", flip_delta)
    yield Reading(replace(n, index_order=flip_order)), ("index_order", flip_order)
    if depth >= 2:
        yield Reading(n, weight_shift=1), ("weight_shift", 1)
