"""A verdict as text for a person, through ``templates/verdict/<lang>.j2``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from derive.templating import ENV, require_lang

if TYPE_CHECKING:
    from derive.model.network import Network
    from derive.verify.findings import Diagnosis
    from derive.verify.formula_file import Entry


class Verdict(Protocol):
    """What the words read of a verdict in Python; the templates read the rest of :class:`derive.verify.Verdict`.

    A protocol, not an import: :mod:`derive.verify.verdict` imports this module to give verdicts their ``text``.
    """

    network: Network
    param: str
    formula: str
    correct: str
    diagnoses: tuple[Diagnosis, ...]

    def __bool__(self) -> bool: ...


def _notation(net: Network) -> dict[str, object]:
    notation = net.notation
    return {
        "weight": notation.weight_text,
        "index_order": notation.index_order,
        "delta": notation.delta,
        "cost": notation.cost,
        "depth": net.depth,
        "weight_layer": notation.weight_layer,
    }


def render(v: Verdict, lang: str = "en") -> str:
    """The verdict in ``lang`` (en or zh)."""
    require_lang(lang)
    return ENV.get_template(f"verdict/verdict_{lang}.j2").render(v=v, n=_notation(v.network)).rstrip() + "\n"


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
