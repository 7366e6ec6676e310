"""The other readings of a wrong formula: one small definition per notation option, and the presets as a whole.

A formula that is wrong (or unreadable) under the declared notation is read again under each of these; where one
makes it right the verdict says so (:class:`Convention`, worded by the ``convention`` macro of
``templates/verdict/words_<lang>.j2``), never silently. Each definition gives, for the primary reading and the
network's depth, the readings to try with what the verdict says under each. The presets are a last resort: read
only when no single option makes the formula right, and only where they change more than one option tried here.
Every reading shares one budget (Limits.READINGS), spent by :mod:`derive.verify.diagnose`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

from derive.errors import DeriveError
from derive.model.notation import PRESETS, Notation
from derive.verify.findings import Convention, Diagnosis
from derive.verify.mistakes import Transposed
from derive.verify.reading_refs import Reading

# The letters of the pre-activation and the activation: derive's own, and the textbooks' that swap their meanings
# (Bishop's a and z, Goodfellow's a and h), tried when a formula is wrong under the notation's.
DEFAULT_LETTERS = ("z", "a")
SWAPPED_LETTERS = (("a", "z"), ("a", "h"))

Tried = Iterator[tuple[Reading, tuple[Diagnosis, ...]]]


@dataclass(frozen=True)
class Alternative:
    """One option read otherwise: ``readings(primary, depth)`` yields each reading with what the verdict says.

    ``deep``: only in a network of two layers or more (a layer's numbering changes nothing in one layer).
    ``last``: tried only when no alternative before it made the formula right. ``narrow``: of what its readings
    that fit say, what the verdict says (the closest only, where many fit).
    """

    option: str
    readings: Callable[[Reading], Tried]
    deep: bool = False
    last: bool = False
    narrow: Callable[[list[Diagnosis]], list[Diagnosis]] = list


def _notation(make: Callable[[], Notation]) -> Notation | None:
    """A notation, or None where its options clash with the reader's others (a textbook's letter with the target y)."""
    try:
        return make()
    except DeriveError:
        return None


def _delta(primary: Reading) -> Tried:
    other = "gradient" if primary.notation.delta == "error" else "error"
    yield Reading(replace(primary.notation, delta=other)), (Convention("delta", other),)


def _index_order(primary: Reading) -> Tried:
    other = "to_from" if primary.notation.index_order == "from_to" else "from_to"
    yield Reading(replace(primary.notation, index_order=other)), (Transposed(), Convention("index_order", other))


def _layout(primary: Reading) -> Tried:
    """hᵀ δ written in cs231n's rows under columns, or W a in columns under rows; and rows with W stored in × out."""
    n = primary.notation
    other = "column" if n.layout == "row" else "row"
    order = "to_from" if n.index_order == "from_to" else "from_to"
    yield Reading(replace(n, layout=other)), (Convention("layout", other),)
    yield (
        Reading(replace(n, layout=other, index_order=order)),
        (Convention("layout", other), Convention("index_order", order)),
    )


def _letters(primary: Reading) -> Tried:
    n = primary.notation
    for pre, act in [DEFAULT_LETTERS] if (n.pre_activation, n.activation) != DEFAULT_LETTERS else SWAPPED_LETTERS:
        letters = _notation(lambda pre=pre, act=act: replace(n, pre_activation=pre, activation=act, function="named"))
        if letters is not None:
            yield Reading(letters), (Convention("letters", f"{pre},{act}"),)


def _weight_layer(primary: Reading) -> Tried:
    other = 1 - primary.weight_shift
    yield Reading(primary.notation, weight_shift=other), (Convention("weight_shift", other),)


def _input_layer(primary: Reading) -> Tried:
    first = 1 - primary.notation.input_layer  # Nielsen's and Ng's a^1 = x, or derive's x = a^{(0)}
    yield Reading(replace(primary.notation, input_layer=first)), (Convention("input_layer", first),)


def _layer_marker(primary: Reading) -> Tried:
    """a^2 as the layer (Nielsen's bare superscripts), or as a square with layers written ^{(l)}. Not from Bishop's
    ``index`` marker: without it his unlayered names would be read by other rules, right only by accident."""
    if primary.notation.layer_marker == "index":
        return
    other = "parenthesized" if primary.notation.layer_marker == "bare" else "bare"
    yield Reading(replace(primary.notation, layer_marker=other)), (Convention("layer_marker", other),)


def _presets(primary: Reading) -> Tried:
    """Every preset as a whole, then derive's own notation ("" says it), with the reader's node letters kept."""
    n = primary.notation
    for name, preset in (*((p.name, dict(p.options)) for p in PRESETS.values()), ("", {})):
        notation = _notation(lambda options=preset: Notation(**options, letters=n.letters))  # type: ignore[arg-type]
        if notation is not None and _changed(n, notation) >= 2:
            yield Reading(notation), (Convention("preset", name),)


def _own_first(found: list[Diagnosis]) -> list[Diagnosis]:
    """Right in derive's own notation: that alone is said, not every preset that agrees with it there."""
    own = Convention("preset", "")
    return [own] if own in found else found


def _changed(n: Notation, other: Notation) -> int:
    """How many options two notations set differently."""
    return sum(getattr(n, key) != getattr(other, key) for key in n.__dataclass_fields__)


ALTERNATIVES: tuple[Alternative, ...] = (
    Alternative("delta", _delta),
    Alternative("index_order", _index_order),
    Alternative("layout", _layout),
    Alternative("letters", _letters),
    Alternative("weight_layer", _weight_layer, deep=True),
    Alternative("input_layer", _input_layer, deep=True),
    Alternative("layer_marker", _layer_marker),
    Alternative("preset", _presets, last=True, narrow=_own_first),
)


def readings(primary: Reading, depth: int = 2) -> Iterator[tuple[Alternative, Reading, tuple[Diagnosis, ...]]]:
    """The other readings in order, each with its definition and what the verdict says when the formula is right
    under it."""
    for alternative in ALTERNATIVES:
        if not (alternative.deep and depth < 2):
            for reading, says in alternative.readings(primary):
                yield alternative, reading, says
