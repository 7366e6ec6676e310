"""A verdict as text for a person, through ``templates/verdict/<lang>.j2``.

Python chooses what is shown (:func:`listing`: a few of a counterexample's 784 inputs and how many there
are), the templates how it reads.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from derive.templating import ENV, require_lang

if TYPE_CHECKING:
    from derive.model.network import Network
    from derive.verify.findings import Diagnosis
    from derive.verify.formula_file import Entry


class Counterexample(Protocol):
    """The values of a counterexample that the words list (:class:`derive.verify.verdict.Counterexample`)."""

    inputs: Mapping[str, float]
    targets: Mapping[str, float]
    parameters: Mapping[str, float]
    named: Collection[str]


class Verdict(Protocol):
    """What the words read of a verdict in Python; the templates read the rest of :class:`derive.verify.Verdict`.

    A protocol, not an import: :mod:`derive.verify.verdict` imports this module to give verdicts their ``text``.
    """

    network: Network
    param: str
    formula: str
    correct: str
    diagnoses: tuple[Diagnosis, ...]
    counterexample: Counterexample | None

    def __bool__(self) -> bool: ...


def _notation(net: Network) -> dict[str, object]:
    notation = net.notation
    ll = notation.layer_letter
    return {
        "weight": notation.weight_text,
        "index_order": notation.index_order,
        "delta": notation.delta,
        "cost": notation.cost,
        "depth": net.depth,
        "weight_layer": notation.weight_layer,
        "input_layer": notation.input_layer,
        "layer_l": f"^{ll}" if notation.layer_marker == "bare" else f"^{{({ll})}}",
        "pre_activation": notation.pre_activation,
        "activation": notation.activation,
        "layout": notation.layout,
    }


WHOLE = 40  # a list of at most this many values is shown whole (all the parameters of a network of up to 40)
FIRST = 3  # of a longer list, the first values are shown,
SHOWN = 8  # and those the formula uses, up to this many in all


@dataclass(frozen=True)
class Listing:
    """Values as a verdict shows them: (name, value) in order, None where some are left out, and how many there are.

    A counterexample on 784 inputs shows three of them and says "… (784 values)", not all 784.
    """

    shown: tuple[tuple[str, float] | None, ...]
    count: int
    more: bool  # values follow the last one shown

    @property
    def whole(self) -> bool:
        return not self.more and None not in self.shown


def listing(values: Mapping[str, float], named: Collection[str] = ()) -> Listing:
    """The values to show: all of them up to WHOLE, else the first FIRST and those ``named``, SHOWN at most."""
    items = list(values.items())
    if len(items) <= WHOLE:
        return Listing(tuple(items), len(items), False)
    keep = sorted({*range(FIRST), *(k for k, (name, _) in enumerate(items) if name in named)})[:SHOWN]
    shown: list[tuple[str, float] | None] = []
    for before, k in zip([-1, *keep], keep, strict=False):
        if k != before + 1:
            shown.append(None)
        shown.append(items[k])
    return Listing(tuple(shown), len(items), keep[-1] < len(items) - 1)


def render(v: Verdict, lang: str = "en") -> str:
    """The verdict in ``lang`` (en or zh)."""
    require_lang(lang)
    c = v.counterexample
    shown = None
    if c is not None:
        shown = {key: listing(getattr(c, key), c.named) for key in ("inputs", "targets", "parameters")}
    template = ENV.get_template(f"verdict/verdict_{lang}.j2")
    return template.render(v=v, n=_notation(v.network), shown=shown).rstrip() + "\n"


@dataclass(frozen=True)
class Row:
    """One line of the table of a formula list."""

    verdict: str
    where: str
    param: str
    formula: str
    right: bool
    correct: str
    diagnoses: tuple[Diagnosis, ...]
    error: str


def table(results: list[tuple[Entry, Verdict | None, str | None]], net: Network, lang: str = "en") -> str:
    """A table of verdicts with the closing line ``N passed, M failed``."""
    require_lang(lang)
    rows = []
    for entry, v, error in results:
        status = "error" if error else ("right" if v else "wrong")
        rows.append(
            Row(
                verdict=f"{status:5}",
                where=entry.where,
                param=v.param if v is not None else (entry.param or ""),
                formula=v.formula if v is not None else entry.formula,
                right=bool(v),
                correct=v.correct if v is not None else "",
                diagnoses=v.diagnoses if v is not None else (),
                error=(error or "").removeprefix("formula: "),
            )
        )
    passed = sum(1 for r in rows if r.right)
    errors = sum(1 for r in rows if r.error)
    return (
        ENV.get_template(f"verdict/table_{lang}.j2")
        .render(rows=rows, passed=passed, failed=len(rows) - passed - errors, errors=errors, n=_notation(net))
        .rstrip()
        + "\n"
    )
