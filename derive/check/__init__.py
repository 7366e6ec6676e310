"""Check: every derived gradient confirmed by sympy, finite differences, the generated code and torch."""

from derive.check.gradients import CheckReport, ParameterCheck, check, finite_difference_errors
from derive.check.report import format_report, format_times

__all__ = ["CheckReport", "ParameterCheck", "check", "finite_difference_errors", "format_report", "format_times"]
