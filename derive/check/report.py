"""The check report as text for a person, in English or Chinese, through ``templates/check/report_<lang>.j2``.

Python only gathers numbers: the network's facts and, per parameter array (W1, b1, …), how many closed
forms sympy confirmed and how, the worst error of each numeric comparison and how many parameters failed.
The words and the table's columns are the templates'.
"""

from __future__ import annotations

from dataclasses import dataclass

from derive.about import TORCH_INSTALL
from derive.check.gradients import COLUMNS, DIGITS, CheckReport, ParameterCheck
from derive.model.network import Network
from derive.templating import ENV, require_lang


@dataclass(frozen=True)
class GroupSummary:
    """One parameter array's row: counts, and the largest error of each comparison (None: not compared)."""

    name: str
    parameters: int
    exact: int  # equal to sympy's derivative by expansion or cancellation
    digits: int  # equal to DIGITS significant digits at seeded points
    differ: int  # sympy's derivative differs
    skipped: bool  # sympy's comparison was skipped for the whole array (a large network)
    fd_compared: int  # parameters compared with finite differences (all, or a seeded sample)
    fd_error: float | None
    code_error: float
    torch_error: float | None
    failed: int


def summarise(name: str, items: list[ParameterCheck]) -> GroupSummary:
    """The row of one parameter array."""
    fd = [p.fd_error for p in items if p.fd_error is not None]
    torch = [p.torch_error for p in items if p.torch_error is not None]
    return GroupSummary(
        name=name,
        parameters=len(items),
        exact=sum(p.symbolic == "exact" for p in items),
        digits=sum(p.symbolic == "digits" for p in items),
        differ=sum(p.symbolic == "failed" for p in items),
        skipped=all(p.symbolic == "skipped" for p in items),
        fd_compared=len(fd),
        fd_error=max(fd) if fd else None,
        code_error=max(p.code_error for p in items),
        torch_error=max(torch) if torch else None,
        failed=sum(not p.passed for p in items),
    )


def format_report(net: Network, report: CheckReport, lang: str = "en") -> str:
    """One row per parameter array, the matrix-form rows, and ``N passed, M failed`` (no final newline)."""
    require_lang(lang)
    text = ENV.get_template(f"check/report_{lang}.j2").render(
        name=net.name,
        sizes=net.sizes,
        activations=[layer.activation for layer in net.layers],
        loss=net.loss,
        parameters=net.parameter_count(),
        report=report,
        groups=[summarise(name, items) for name, items in report.groups()],
        digits=DIGITS,
        torch_install=TORCH_INSTALL,
        regularization=net.regularization,
    )
    return text.removesuffix("\n")


def format_times(report: CheckReport, lang: str = "en") -> str:
    """One line: the seconds each column took (for stderr; the report itself stays byte-identical)."""
    require_lang(lang)
    text = ENV.get_template(f"check/times_{lang}.j2").render(times=report.times, columns=COLUMNS)
    return text.strip()
