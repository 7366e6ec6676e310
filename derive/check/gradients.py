"""Checking every derived gradient two independent ways.

1. Symbolic: sympy differentiates the fully composed cost (plus the spec's L2 penalty) element by element,
   and the difference from the derived closed form must vanish (by expansion or
   cancellation; where neither decides, by evaluation with 30 significant digits
   at seeded random points).
2. Numeric, on seeded random batches: central finite differences of the
   generated batch loss J = (1/m) Σ C, the generated NumPy gradients, and
   (when torch is installed) torch autograd in float64, each against the mean
   of the closed form over the batch.
The matrix-form equations are confirmed entry by entry against the element level.
A spec's worked example gets its own finite differences, which its document quotes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import sympy
from sympy import Float

from derive import progress
from derive.engine import matrixform, numbers
from derive.engine.algebra import constraints, is_zero
from derive.engine.derivation import Derivation
from derive.engine.record import Record
from derive.model import samples
from derive.model.network import neuron, wants
from derive.numeric import autograd
from derive.numeric.lambdified import NumericFunctions
from derive.rules import regularizers
from derive.rules import symbols as sym

# Symbolic differentiation of the composed cost is attempted up to this size.
SYMBOLIC_PARAMETERS = 40
# Finite differences for every parameter up to this many; past it, a seeded sample.
FD_PARAMETERS = 4000
FD_STEP = 1e-6
TOLERANCE = 1e-6
# The generated code and torch autograd compute the same numbers as the closed form, up to rounding.
EXACT_TOLERANCE = 1e-9
BATCH = 3
DIGITS = 30


# The report's columns in its order, as ``Times`` names them, each with its progress phase.
PHASES = {
    "closed": "closed",
    "sympy": "symbolic",
    "fd": "finite_differences",
    "code": "numpy",
    "torch": "torch",
    "matrix": "matrix",
}
COLUMNS = tuple(PHASES)


@dataclass
class Times:
    """Seconds spent on each column of the report, summed over the batches (a column never run is absent).

    Each use is also the column's progress phase; it gives the function that counts steps done.
    """

    seconds: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def __call__(self, column: str, total: int | None = None) -> Iterator[Callable[[int], None]]:
        start = time.perf_counter()
        try:
            with progress.phase(PHASES[column], total=total) as step:
                yield step
        finally:
            self.seconds[column] = self.seconds.get(column, 0.0) + time.perf_counter() - start


@dataclass
class ParameterCheck:
    """The outcome for one parameter; errors are |value − closed form| / max(1, |closed form|)."""

    name: str
    symbolic: str  # "exact", "digits", "skipped" or "failed"
    fd_error: float | None  # finite differences of the generated J; None when not sampled
    passed: bool
    code_error: float = 0.0  # the generated NumPy gradients
    torch_error: float | None = None  # torch autograd; None without torch


@dataclass
class CheckReport:
    """All outcomes, grouped for printing."""

    network: str
    points: int
    tolerance: float
    step: float
    parameters: list[ParameterCheck] = field(default_factory=list)
    matrix: list[tuple[str, int | None, bool]] = field(default_factory=list)  # (kind, layer, holds)
    batch: int = BATCH
    exact_tolerance: float = EXACT_TOLERANCE
    torch: str | None = None  # torch's version when autograd was compared
    example_fd_error: float | None = None  # the largest finite-difference error at the spec's worked example
    neuron: CheckReport | None = None  # the one neuron a document derives first (its warmup section), when shown
    times: dict[str, float] = field(default_factory=dict)  # seconds per column (COLUMNS), for the terminal only

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


def check(
    d: Derivation, points: int = 3, seed: int = 0, symbolic: bool | None = None, use_torch: bool = True
) -> CheckReport:
    """Check every parameter's closed form; ``symbolic=None`` decides by size, torch is used when installed."""
    net = d.network
    names = d.parameters()
    if symbolic is None:
        symbolic = net.parameter_count() <= SYMBOLIC_PARAMETERS
    rng = np.random.default_rng(seed)
    batches = [samples.random_batch(net, rng, BATCH) for _ in range(points)]
    fd_names = set(names)
    if len(names) > FD_PARAMETERS:
        fd_names = set(rng.choice(names, FD_PARAMETERS, replace=False).tolist())
    times = Times()
    torch = None
    if use_torch:
        with times("torch"):
            torch = autograd.version()  # the import is most of torch's time
    with times("code"):
        fn = NumericFunctions(d)
    errors = _numeric_errors(d, fn, batches, fd_names, torch is not None, times)
    report = CheckReport(net.name, points, TOLERANCE, FD_STEP, torch=torch, times=times.seconds)
    if net.example is not None:
        ex = net.example
        params = samples.check_params(net, ex.params)
        # The same parameters as the batches' finite differences: every one, or the seeded sample past FD_PARAMETERS.
        report.example_fd_error = max(_finite_differences(d, fn, params, ex.x, ex.y, fd_names).values())
    verdicts = dict.fromkeys(names, "skipped")
    if symbolic:
        with times("sympy", total=len(names)) as step:
            direct = _SymbolicCheck(d, rng)
            for name in names:
                verdicts[name] = direct.verdict(name)
                step(1)
    for name in names:
        verdict = verdicts[name]
        fd, code, torch_error = errors[name]
        ok = verdict != "failed" and (fd is None or fd <= TOLERANCE) and code <= EXACT_TOLERANCE
        ok = ok and (torch_error is None or torch_error <= EXACT_TOLERANCE)
        report.parameters.append(ParameterCheck(name, verdict, fd, ok, code, torch_error))
    if net.parameter_count() <= SYMBOLIC_PARAMETERS * 4:
        with times("matrix"):
            report.matrix = _matrix_checks(d)
    if wants(net, "warmup"):
        report.neuron = check(Derivation(neuron(net)), points, seed, symbolic, use_torch)
    return report


def finite_difference_errors(d: Derivation, params: dict, x: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """Every parameter's |finite difference − closed form| / max(1, |closed form|) at one sample."""
    return _finite_differences(d, NumericFunctions(d), params, x, y, set(d.parameters()))


def _finite_differences(
    d: Derivation, fn: NumericFunctions, params: dict, x: np.ndarray, y: np.ndarray, names: set[str]
) -> dict[str, float]:
    sample = [(params, np.atleast_2d(x), np.atleast_2d(y))]
    errors = _numeric_errors(d, fn, sample, names, False)
    return {name: fd for name, (fd, _, _) in errors.items() if fd is not None}


def _numeric_errors(
    d: Derivation, fn: NumericFunctions, batches: list, fd_names: set[str], with_torch: bool, times: Times | None = None
) -> dict[str, tuple[float | None, float, float | None]]:
    """Per parameter, the largest error over the batches of (finite differences, generated code, torch).

    The closed forms' numbers, the generated code's and torch's are whole arrays per batch, compared
    array by array; only finite differences go parameter by parameter, on the seeded sample.
    """
    net = d.network
    times = Times() if times is None else times
    code_err = {array: np.zeros(shape) for array, shape in net.shapes().items()}
    torch_err = {array: np.zeros(shape) for array, shape in net.shapes().items()}
    fd_err: dict[str, float] = {}
    located = [(name, *_locate(name)) for name in d.parameters() if name in fd_names]
    points = []
    for point, x, y in batches:
        params = {k: np.array(v, dtype=float) for k, v in point.items()}  # perturbed in place below
        with times("closed"):
            closed = numbers.at_batch(d, params, x, y).gradients
            for array, term in numbers.penalty_gradients(net, params, x.shape[0]).items():  # ∂J/∂θ: + ∂R/∂θ
                closed[array] = closed[array] + term
        with times("code"):
            code = fn.gradients(params, x, samples.as_given(net, y))
        for array, value in closed.items():
            code_err[array] = np.maximum(code_err[array], _errors(code[array], value))
        if with_torch:
            with times("torch"):
                torch = autograd.gradients(net, params, x, y)
            for array, value in closed.items():
                torch_err[array] = np.maximum(torch_err[array], _errors(torch[array], value))
        points.append((params, x, samples.as_given(net, y), closed))
    with times("fd", total=len(located) * len(points)) as step:  # one phase for every batch: the longest column
        for params, x, y, closed in points:
            for name, array, index in located:
                entry = params[array][index]
                params[array][index] += FD_STEP
                up = fn.loss(params, x, y)
                params[array][index] -= 2 * FD_STEP
                down = fn.loss(params, x, y)
                params[array][index] = entry  # restored exactly
                error = float(_errors(np.float64((up - down) / (2 * FD_STEP)), closed[array][index]))
                fd_err[name] = max(fd_err.get(name, 0.0), error)
                step(1)
    code_values = [v for array in net.shapes() for v in code_err[array].ravel().tolist()]
    torch_values = [v for array in net.shapes() for v in torch_err[array].ravel().tolist()]
    return {
        name: (fd_err.get(name), code, torch if with_torch else None)
        for name, code, torch in zip(d.parameters(), code_values, torch_values, strict=True)
    }


def _errors(value: np.ndarray, closed: np.ndarray) -> np.ndarray:
    """|value − closed form| / max(1, |closed form|), elementwise; inf where either is not finite.

    NaN compares false with everything, so a maximum would drop it and an overflow would pass.
    """
    with np.errstate(invalid="ignore", over="ignore"):
        error = np.abs(value - closed) / np.maximum(1.0, np.abs(closed))
    return np.where(np.isfinite(error), error, np.inf)


def _locate(name: str) -> tuple[str, tuple[int, ...]]:
    info = sym.parse_name(name)
    assert info is not None
    array = f"{info.kind}{info.layer}"
    index = (info.i - 1,) if info.j is None else (info.i - 1, info.j - 1)
    return array, index


class _SymbolicCheck:
    """sympy's own derivative of the composed cost against each closed form; with an L2 penalty, of C + R
    (whose batch mean is J) against the closed form plus the form's ∂R/∂θ, at λ and m symbolic."""

    def __init__(self, d: Derivation, rng: np.random.Generator) -> None:
        self.d = d
        self.cost = d.composed_cost() + d.penalty()
        self.forward = d.forward_map()
        self.assume = constraints(d)
        self.points = [samples.random_point(d.network, rng) for _ in range(3)]

    def verdict(self, name: str) -> str:
        layer, i, j = self.d.resolve(name)
        symbol = sym.parameter_symbol(layer, i, j)
        direct = sympy.diff(self.cost, symbol)
        derived = self.d.objective_gradient(name, "closed").xreplace(self.forward)
        difference = direct - derived
        if is_zero(difference, self.d):
            return "exact"
        return "digits" if self._agree_numerically(difference) else "failed"

    def _agree_numerically(self, difference: sympy.Expr) -> bool:
        difference = difference.xreplace(self.assume)
        for params, x, y in self.points:
            values = samples.sample_values(self.d.network, params, x, y)
            exact = {k: sympy.Rational(float(v)) for k, v in values.items() if _is_primitive(k)}
            exact |= {regularizers.LAMBDA: sympy.Rational(1, 7), regularizers.BATCH: BATCH}  # any λ and m
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
    form = Record(d).matrix
    groups = [("output delta", None, form.output_delta)]
    for layer in range(d.L - 1, 0, -1):
        groups.append(("delta recursion", layer, form.recursion[layer]))
    for layer in range(1, d.L + 1):
        groups.append(("gradients", layer, form.gradients[layer]))
        groups.append(("activation derivative", layer, form.activation_derivative[layer]))
    for kind, layer, eqs in groups:
        if eqs:
            out.append((kind, layer, all(matrixform.holds(eq, d) for eq in eqs)))
    return out
