"""Checking every derived gradient two independent ways.

1. Symbolic: sympy differentiates the fully composed cost element by element,
   and the difference from the derived closed form must vanish (by expansion or
   cancellation; where neither decides, by evaluation with 30 significant digits
   at seeded random points).
2. Numeric: central finite differences of the NumPy cost at seeded random
   points, against the closed form evaluated at the same points.
The matrix-form equations are confirmed entry by entry against the element level.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import sympy
from sympy import Float

from . import matrixform, numeric
from . import symbols as sym
from .algebra import constraints, is_zero
from .derivation import Derivation
from .network import Network

# Symbolic differentiation of the composed cost is attempted up to this size.
SYMBOLIC_PARAMETERS = 40
# Finite differences for every parameter up to this many; past it, a seeded sample.
FD_PARAMETERS = 4000
FD_STEP = 1e-6
TOLERANCE = 1e-6
DIGITS = 30


@dataclass
class ParameterCheck:
    """The outcome for one parameter."""

    name: str
    symbolic: str  # "exact", "digits", "skipped" or "failed"
    fd_error: float | None  # largest |fd − derived| / max(1, |derived|), None when not sampled
    passed: bool


@dataclass
class CheckReport:
    """All outcomes, grouped for printing."""

    network: str
    points: int
    tolerance: float
    step: float
    parameters: list[ParameterCheck] = field(default_factory=list)
    matrix: list[tuple[str, int | None, bool]] = field(default_factory=list)  # (kind, layer, holds)

    @property
    def passed(self) -> int:
        return sum(p.passed for p in self.parameters) + sum(ok for _, _, ok in self.matrix)

    @property
    def failed(self) -> int:
        return len(self.parameters) + len(self.matrix) - self.passed

    def groups(self) -> list[tuple[str, list[ParameterCheck]]]:
        """Parameters grouped by array (W1, b1, W2, …) in order."""
        out: dict[str, list[ParameterCheck]] = {}
        for p in self.parameters:
            out.setdefault(p.name.split("[")[0], []).append(p)
        return list(out.items())


def check(d: Derivation, points: int = 3, seed: int = 0, symbolic: bool | None = None) -> CheckReport:
    """Check every parameter's closed form; ``symbolic=None`` decides by size."""
    net = d.network
    names = d.parameters()
    if symbolic is None:
        symbolic = net.parameter_count() <= SYMBOLIC_PARAMETERS
    rng = np.random.default_rng(seed)
    samples = [numeric.random_point(net, rng) for _ in range(points)]
    fd_names = set(names)
    if len(names) > FD_PARAMETERS:
        fd_names = set(rng.choice(names, FD_PARAMETERS, replace=False).tolist())
    fd = _finite_difference_errors(d, samples, fd_names)
    report = CheckReport(net.name, points, TOLERANCE, FD_STEP)
    direct = _SymbolicCheck(d, rng) if symbolic else None
    for name in names:
        verdict = direct.verdict(name) if direct is not None else "skipped"
        err = fd.get(name)
        ok = verdict != "failed" and (err is None or err <= TOLERANCE)
        report.parameters.append(ParameterCheck(name, verdict, err, ok))
    if net.parameter_count() <= SYMBOLIC_PARAMETERS * 4:
        report.matrix = _matrix_checks(d)
    return report


def _finite_difference_errors(d: Derivation, samples: list, names: set[str]) -> dict[str, float]:
    net = d.network
    errors: dict[str, float] = {}
    for params, x, y in samples:
        derived = d.evaluate_all(params, x, y)
        for name in names:
            array, index = _locate(name)
            p = {k: v.copy() for k, v in params.items()}
            p[array][index] += FD_STEP
            up = numeric.cost(net, p, x, y)
            p[array][index] -= 2 * FD_STEP
            down = numeric.cost(net, p, x, y)
            estimate = (up - down) / (2 * FD_STEP)
            value = derived[name]
            err = abs(estimate - value) / max(1.0, abs(value))
            errors[name] = max(errors.get(name, 0.0), err)
    return errors


def _locate(name: str) -> tuple[str, tuple[int, ...]]:
    info = sym.parse_name(name)
    assert info is not None
    array = f"{info.kind}{info.layer}"
    index = (info.i - 1,) if info.j is None else (info.i - 1, info.j - 1)
    return array, index


class _SymbolicCheck:
    """sympy's own derivative of the composed cost against each closed form."""

    def __init__(self, d: Derivation, rng: np.random.Generator) -> None:
        self.d = d
        self.cost = d.composed_cost()
        self.forward = d.forward_map()
        self.assume = constraints(d)
        self.points = [numeric.random_point(d.network, rng) for _ in range(3)]

    def verdict(self, name: str) -> str:
        layer, i, j = self.d.resolve(name)
        symbol = sym.parameter_symbol(layer, i, j)
        direct = sympy.diff(self.cost, symbol)
        derived = self.d.gradient(name, "closed").xreplace(self.forward)
        difference = direct - derived
        if is_zero(difference, self.d):
            return "exact"
        return "digits" if self._agree_numerically(difference) else "failed"

    def _agree_numerically(self, difference: sympy.Expr) -> bool:
        difference = difference.xreplace(self.assume)
        for params, x, y in self.points:
            values = numeric.sample_values(self.d.network, params, x, y)
            exact = {k: sympy.Rational(float(v)) for k, v in values.items() if _is_primitive(k)}
            value = difference.xreplace(exact).evalf(DIGITS)
            small = abs(value) <= Float(10) ** (-(DIGITS - 8)) if value.is_number else sympy.false
            if small is not sympy.true:
                return False
        return True


def _is_primitive(symbol: sympy.Symbol) -> bool:
    info = sym.parse_name(str(symbol))
    return info is not None and info.kind in ("x", "y", "W", "b")


def _matrix_checks(d: Derivation) -> list[tuple[str, int | None, bool]]:
    """Each concrete matrix-form equation confirmed against the element level: (kind, layer, holds)."""
    out = []
    groups = [("output delta", None, matrixform.output_delta(d))]
    for layer in range(d.L - 1, 0, -1):
        groups.append(("delta recursion", layer, matrixform.recursion(d, layer)))
    for layer in range(1, d.L + 1):
        groups.append(("gradients", layer, matrixform.gradients(d, layer)))
        groups.append(("activation derivative", layer, matrixform.activation_derivative(d, layer)))
    for kind, layer, eqs in groups:
        if eqs:
            out.append((kind, layer, all(matrixform.holds(eq, d) for eq in eqs)))
    return out


def format_report(net: Network, report: CheckReport) -> str:
    """One row per parameter group, the matrix-form rows, and ``N passed, M failed``."""
    shape = "-".join(map(str, net.sizes))
    acts = "/".join(layer.activation for layer in net.layers)
    lines = [
        f"check {net.name}: {shape}, {acts}, {net.loss}, {net.parameter_count()} parameters",
        f"finite differences: {report.points} seeded points, central step h = {report.step:g},"
        f" error |fd - derived| / max(1, |derived|), tolerance {report.tolerance:g}",
        f"{'group':<8}{'params':>7}  {'sympy diff of composed cost':<30}{'finite differences':<28}result",
    ]
    for group, items in report.groups():
        counts = {kind: sum(p.symbolic == kind for p in items) for kind in ("exact", "digits", "failed")}
        if all(p.symbolic == "skipped" for p in items):
            symbolic = "skipped (too large)"
        else:
            symbolic = f"{counts['exact']} exact"
            if counts["digits"]:
                symbolic += f", {counts['digits']} to {DIGITS} digits"
            if counts["failed"]:
                symbolic += f", {counts['failed']} differ"
        errs = [p.fd_error for p in items if p.fd_error is not None]
        sampled = "" if len(errs) == len(items) else f" ({len(errs)} sampled)"
        numeric_col = f"max error {max(errs):.1e}{sampled}" if errs else "not sampled"
        bad = sum(not p.passed for p in items)
        result = "ok" if bad == 0 else f"FAILED ({bad})"
        lines.append(f"{group:<8}{len(items):>7}  {symbolic:<30}{numeric_col:<28}{result}")
    for kind, layer, ok in report.matrix:
        label = kind if layer is None else f"{kind}, layer {layer}"
        lines.append(f"matrix form: {label:<53}{'ok' if ok else 'FAILED'}")
    lines.append(f"{report.passed} passed, {report.failed} failed")
    return "\n".join(lines)
