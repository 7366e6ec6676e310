"""Why a formula is wrong: the common mistakes it matches, and the conventions under which it would be right.

Separate from :mod:`derive.verify.verdict` because it only runs for a wrong formula: it runs every mistake
registered in :mod:`derive.verify.mistakes` (knowing none of them by name), or, for a formula whose shapes clash,
tries their edits of it, and reads the formula again under other conventions, each bounded by Limits. Two mistakes
that give the same numbers everywhere are one reason: the lower-ranked is named.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import fields, replace

from derive.engine.derivation import Derivation
from derive.errors import DeriveError
from derive.model.notation import Notation
from derive.verify import alternatives
from derive.verify.backward import Backward, Point
from derive.verify.findings import Diagnosis
from derive.verify.mistakes import Mistake, Sign, ranked
from derive.verify.points import _first_mismatch, _numbers, _with_delta, close
from derive.verify.read import _Attempt, _read, _Shape
from derive.verify.reading import Reader
from derive.verify.reading_refs import Reading
from derive.verify.sites import Evidence, Site, Sketch
from derive.verify.syntax import Formula, Limits, Name, Node, walk
from derive.verify.work import Work

EDITS = 8  # edits of a formula tried for each registered mistake, when its shapes clash


def _mistakes(d: Derivation, attempt: _Attempt, pts: list[Point]) -> list[Diagnosis]:
    """The registered mistakes the formula shows: those whose values it matches at every point and element,
    in rank order, one of each kind, then those seen in the formula as a whole.

    A mistake must fit the first Limits.DIAGNOSED elements at every point (chance cannot make that
    happen), fewer when their candidates pass Limits.DIAGNOSES values in all (a 100-layer network has a
    thousand places for a misplaced σ'); once none fits, the rest are not computed. The backward pass
    with each mistake is computed once per point, not once per element. A mistake that matches the
    negative of the formula is named with the sign mistake before it. Mistakes that give the formula's numbers
    give each other's: only the first of those is a reason (a σ' of a linear layer is 1, so "σ' missing" and
    "σ' of that layer in its place" give the same numbers, and only the first is true of the formula).
    """
    sign = attempt.reading.sign
    letter = attempt.layer_letter  # a general-layer formula: its mistakes are said in the layer l
    kinds = ranked()
    numbers = [_numbers(d, attempt, pts, p) for p in range(len(pts))]
    backward = [Backward(d, _with_delta(point, sign)) for point in pts]
    matched: set[tuple[Mistake, bool]] | None = None  # (mistake, together with the wrong sign)
    values: dict[tuple[Mistake, bool], list[float]] = {}  # what each gives (with the sign), element by element
    tried = 0
    for e, el in enumerate(attempt.elements[: Limits.DIAGNOSED]):
        if matched is not None and (not matched or tried > Limits.DIAGNOSES):
            break
        layer = el.target.ref.layer
        for p, nums in enumerate(backward):
            given, correct = numbers[p][e]
            at = Site(d, el.target, nums, sign, correct)
            fits: set[tuple[Mistake, bool]] = set()
            for kind in kinds:
                fitted = None if matched is None else [m.at(layer) for m, _ in matched if type(m) is kind]
                for mistake, value in kind.gives(at, fitted):
                    tried += 1
                    said = mistake.general(layer, letter) if letter is not None else mistake
                    if close(given, value):
                        found = (said, False)
                    elif mistake.with_sign and close(given, -value):
                        found = (said, True)
                    else:
                        continue
                    fits.add(found)
                    values.setdefault(found, []).append(-value if found[1] else value)
            matched = fits if matched is None else matched & fits
    out: list[Diagnosis] = []
    shown: list[list[float]] = []  # the values of the mistakes named so far
    for mistake, signed in sorted(matched or (), key=lambda m: (m[1], m[0].rank, m[0].tie_break())):
        gave = values.get((mistake, signed), [])
        if any(len(gave) == len(other) and all(map(close, gave, other)) for other in shown):
            continue  # the numbers of a reason already given (σ′ of a linear layer is 1): a guess, not a reason
        shown.append(gave)
        if signed and Sign() not in out:
            out.append(Sign())
        if mistake.code not in {m.code for m in out}:
            out.append(mistake)
    whole = Evidence(attempt.elements, [pair for row in numbers for pair in row], out)
    for kind in kinds:
        seen = kind.seen(whole)
        if seen is not None:
            out.append(seen)
    return out


def _edited(
    d: Derivation, param: Formula | None, parsed: Formula, attempt: _Attempt, pts: list[Point], work: Work
) -> list[Diagnosis]:
    """The registered mistakes whose edit of the formula makes it right, for a formula whose shapes clash (its
    numbers cannot be compared): at most EDITS edits of each, each read with ``work`` (shared)."""
    if attempt.first is None:
        return []
    reader = Reader(d, attempt.reading, parsed.text, env=dict(attempt.env))

    def layer(node: Node) -> int | None:
        try:
            return reader.layer_value(node)
        except DeriveError:
            return None

    sides = tuple(n for n in (parsed.lhs, parsed.rhs, param.rhs if param is not None else None) if n is not None)
    sketch = Sketch(sides, layer, attempt.first.ref.layer, attempt.layer_letter, reader.describe)
    out: list[Diagnosis] = []
    for kind in ranked():
        for mistake, edited in _edited_formulas(kind, sketch, parsed):
            try:
                if _fits(d, _read(d, attempt.reading, param, edited, work), pts):
                    out.append(mistake)
                    break
            except DeriveError:
                continue
    return out


def _edited_formulas(kind: type[Mistake], sketch: Sketch, parsed: Formula) -> Iterator[tuple[Mistake, Formula]]:
    """A mistake's edits of a formula (at most EDITS), each with the formula it makes."""
    for n, (mistake, old, new) in enumerate(kind.edits(sketch)):
        if n >= EDITS:
            return
        yield mistake, Formula(_swap(parsed.lhs, old, new), _swap(parsed.rhs, old, new), parsed.text)


def _unreadable(
    d: Derivation, param: Formula | None, parsed: Formula, pts: list[Point], reading: Reading, work: Work
) -> tuple[list[Diagnosis], _Attempt] | None:
    """A formula that cannot be read, under the notation or another convention, that a registered mistake's edit
    makes right (Bishop's ∂E/∂w_{ji} = δ_i x_j, whose δ_i is an input's error by its letter, is δ_j x_i transposed):
    the mistake, and the edited formula read; None when no edit does."""
    sides = tuple(n for n in (parsed.lhs, parsed.rhs, param.rhs if param is not None else None) if n is not None)
    sketch = Sketch(sides, lambda node: None, 0, None)
    for kind in ranked():
        for mistake, edited in _edited_formulas(kind, sketch, parsed):
            try:
                attempt = _read(d, reading, param, edited, work)
            except DeriveError:
                continue
            if _fits(d, attempt, pts):
                return [mistake], attempt
    return None


def _swap(node: Node | None, old: Node, new: Node) -> Node | None:
    """The syntax tree with the node ``old`` (that very node) replaced by ``new``."""
    if node is None or node is old:
        return new if node is old else None
    changes = {}
    for f in fields(node):
        value = getattr(node, f.name)
        if isinstance(value, Node):
            swapped = _swap(value, old, new)
            if swapped is not value:
                changes[f.name] = swapped
        elif isinstance(value, tuple) and any(isinstance(v, Node) for v in value):
            swapped = tuple(_swap(v, old, new) if isinstance(v, Node) else v for v in value)
            if any(a is not b for a, b in zip(swapped, value, strict=True)):
                changes[f.name] = swapped
    return replace(node, **changes) if changes else node


def _alternative_readings(
    d: Derivation,
    param: Formula | None,
    parsed: Formula,
    pts: list[Point],
    primary: Reading,
    work: Work,
    last: bool = True,
) -> list[Diagnosis]:
    """The conventions under which the formula would be right (as many as ``work`` allows: it is shared); the
    last-resort ones (a preset as a whole) only when no single option makes it right, and only with ``last`` (not
    for a formula the notation cannot read, whose error names the option it needs)."""
    out: list[Diagnosis] = []
    sides = [side for side in (parsed.lhs, parsed.rhs) if side is not None]
    written = {n.base for side in sides for n in walk(side) if isinstance(n, Name)}
    tried = {(primary.notation, primary.weight_shift)}
    found: dict[alternatives.Alternative, list[Diagnosis]] = {}
    for alternative, reading, says in alternatives.readings(primary, d.L):
        if alternative.last and (not last or any(not a.last for a in found)):
            continue
        if (reading.notation, reading.weight_shift) in tried:
            continue
        tried.add((reading.notation, reading.weight_shift))
        if reading.notation != primary.notation and not _letters_used(primary.notation, reading.notation, written):
            continue
        try:  # the first element decides most readings; the others are read only if it fits
            attempt = _read(d, reading, param, parsed, work, first=True)
            if _fits(d, attempt, pts):
                attempt = _read(d, reading, param, parsed, work)
        except DeriveError:
            continue
        if _fits(d, attempt, pts):
            found.setdefault(alternative, []).extend(says)
    for alternative, says in found.items():
        out += alternative.narrow(says)
    return out


def _letters_used(n: Notation, other: Notation, written: set[str]) -> bool:
    """Whether the formula writes a letter the other notation reads otherwise (only then can the readings differ)."""
    own = (n.pre_activation, n.activation, n.function, n.target, n.output)
    others = (other.pre_activation, other.activation, other.function, other.target, other.output)
    return own == others or bool(written & {*own, *others})


def _fits(d: Derivation, attempt: _Attempt, pts: list[Point]) -> bool:
    """Whether the formula, read this way, gives the derived values at every point and element."""
    if isinstance(attempt, _Shape) or attempt.free is not None or attempt.clash is not None:
        return False
    return _first_mismatch(d, attempt, pts) is None


def _reading_of(diagnoses: list[Diagnosis], primary: Reading) -> Reading:
    """The convention the diagnoses name (the first), else the notation's own."""
    for _, reading, says in alternatives.readings(primary):
        if all(said in diagnoses for said in says):
            return reading
    return primary
