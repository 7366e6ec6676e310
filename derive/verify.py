"""Verifying a hand-written formula: right or wrong, with a counterexample and the reason.

The formula is read by :mod:`derive.formula` and :mod:`derive.reading`, then
compared with the derived result element by element: numerically at seeded
random points (every z and a from the forward pass, so the forward equations
hold), and, for small networks, symbolically after substituting δ and the
forward equations. A wrong formula is compared with the values that the common
mistakes of :mod:`derive.mistakes` would give, and read again under the other
conventions (δ's sign, the weights' index order, article 001's layer numbering).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np
import sympy
from sympy import Expr, Matrix, Symbol

from . import symbols as sym
from .algebra import is_zero
from .derivation import EXPAND_PARAMETERS, Derivation, derive
from .errors import DeriveError
from .floats import evaluate
from .formula import Formula, FormulaError, Node, parse
from .functions import Partial as PartialFn
from .latex import latex
from .mistakes import Point, alternatives
from .network import Network
from .numeric import random_point, sample_values
from .reading import (
    FreeIndexError,
    LayerRangeError,
    Probe,
    Reader,
    ReadError,
    Reading,
    Ref,
    ShapeError,
    Target,
    assignments,
)

POINTS = 4
SEED = 0
RTOL = 1e-8
ATOL = 1e-12
MAX_CHECKED = 400  # elements compared; above this a seeded sample
SYMBOLIC_OPS = 400  # the symbolic check is tried for formulas up to this size


@dataclass(frozen=True)
class Counterexample:
    """Values at which the formula and the derivation differ."""

    element: str
    inputs: dict[str, float]
    targets: dict[str, float]
    parameters: dict[str, float]
    given: float
    correct: float


@dataclass(frozen=True)
class Verdict:
    """Whether a hand-written formula is right, and why not.

    ``diagnoses`` are tuples (code, *data): ``sign``, ``factor_two``,
    ``missing_derivative``, ``extra_derivative``, ``wrong_layer_derivative``,
    ``missing_sum``, ``transposed``, ``proportional``, ``shared_error``,
    ``convention``, ``shape``; ``notes`` say how names were read.
    """

    right: bool
    param: str
    formula: str
    target: str
    correct: str
    notes: tuple[tuple, ...]
    method: str  # "exact", "numeric" or "" (wrong)
    points: int
    elements: int
    total_elements: int
    tolerance: float
    counterexample: Counterexample | None = None
    diagnoses: tuple[tuple, ...] = ()
    network: Network | None = field(default=None, repr=False, compare=False)

    def __bool__(self) -> bool:
        return self.right

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(dx[0] for dx in self.diagnoses)

    def text(self, lang: str = "en") -> str:
        """The verdict for a person, from ``templates/verdict/<lang>.j2``."""
        from .verdict_text import render

        return render(self, lang)


@dataclass
class _Element:
    """One element being compared: its target, the formula's value and the correct value."""

    target: Target
    given: Expr
    correct: Expr


@dataclass
class _Attempt:
    """The formula read in one reading, element by element."""

    reading: Reading
    elements: list[_Element]
    total: int
    notes: dict[str, tuple]
    target_text: str
    free: str | None = None  # an index letter left free (the sum is missing)
    first: Target | None = None  # the first target as named (a whole matrix or one element)


def verify(
    net: Network | Derivation, param: str | None, formula: str, *, points: int = POINTS, seed: int = SEED
) -> Verdict:
    """Verify ``formula`` for ``param`` (a parameter name, δ, or None when the formula has a left side)."""
    d = net if isinstance(net, Derivation) else derive(net)
    parsed = parse(formula)
    param_formula = _parse_param(param) if param is not None else None
    if param_formula is None and parsed.lhs is None:
        raise FormulaError("formula: name what it is for: give the parameter, or a left side such as ∂C/∂w = …")
    rng = np.random.default_rng(seed)
    pts = [_point(d, rng) for _ in range(points)]
    primary = Reading(d.network.notation)
    try:
        attempt = _read(d, primary, param_formula, parsed)
    except ReadError:  # unreadable in the notation: right under another convention, or the user's error
        others = _alternative_readings(d, param_formula, parsed, pts, primary)
        if not others:
            raise
        attempt = _read(d, _reading_of(others, primary), param_formula, parsed)
        return Verdict(False, method="", diagnoses=tuple(others), **_common(d, attempt, param, parsed, points))
    common = _common(d, attempt, param, parsed, points)
    if isinstance(attempt, _Shape):
        diagnoses = _alternative_readings(d, param_formula, parsed, pts, primary)
        return Verdict(False, method="", diagnoses=(("shape", attempt.message), *diagnoses), **common)
    mismatch = _first_mismatch(attempt, pts)
    if mismatch is None and attempt.free is None:
        method = "exact" if _symbolically_equal(d, attempt) else "numeric"
        return Verdict(True, method=method, **common)
    diagnoses: list[tuple] = []
    if attempt.free is not None:
        diagnoses.append(("missing_sum", attempt.free))
    diagnoses += _mistakes(d, attempt, pts)
    diagnoses += _structure(attempt)
    diagnoses += _alternative_readings(d, param_formula, parsed, pts, primary)
    counter = _counterexample(d, attempt, pts, mismatch) if mismatch is not None else None
    return Verdict(False, method="", counterexample=counter, diagnoses=tuple(dict.fromkeys(diagnoses)), **common)


def _common(d: Derivation, attempt: _Attempt, param: str | None, parsed: Formula, points: int) -> dict:
    return dict(
        param=param if param is not None else parsed.text.split("=", 1)[0].rstrip(": "),
        formula=parsed.text if parsed.lhs is None else parsed.text.split("=", 1)[1].strip(),
        target=attempt.target_text,
        correct=_correct_latex(d, attempt.first) if attempt.first is not None else "",
        notes=tuple(attempt.notes.values()),
        points=points,
        elements=len(attempt.elements),
        total_elements=attempt.total,
        tolerance=RTOL,
        network=d.network,
    )


def _reading_of(diagnoses: list[tuple], primary: Reading) -> Reading:
    for reading, code in _readings(primary):
        if ("convention", *code) in diagnoses:
            return reading
    return primary


# ------------------------------------------------------------------- reading
def _as_parameter(exc: DeriveError) -> DeriveError:
    """A formula error that is about the parameter, said so."""
    return type(exc)(str(exc).replace("formula:", "parameter:", 1))


def _parse_param(param: str) -> Formula:
    try:
        parsed = parse(param)
    except FormulaError as exc:
        raise _as_parameter(exc) from None
    if parsed.lhs is not None:
        raise FormulaError("parameter: give a name such as W1[1,2], delta2 or w^{(1)}_{12}, without '='")
    return parsed


@dataclass
class _Shape(_Attempt):
    message: str = ""


def _read(d: Derivation, reading: Reading, param: Formula | None, parsed: Formula) -> _Attempt:
    """The formula's value and the correct value for every element named by the parameter or left side."""
    notes: dict[str, tuple] = {}
    source = param if param is not None else parsed
    node = source.rhs if param is not None else parsed.lhs
    target_reader = Reader(d, reading, source.text, notes=notes)
    formula_reader = Reader(d, reading, parsed.text, notes=notes)
    try:
        envs, layer_free = _envs(d, target_reader, node)
        targets = [(env, replace(target_reader, env=env).target(node)) for env in envs]
    except FormulaError as exc:
        raise _as_parameter(exc) if param is not None else exc from None
    elements: list[_Element] = []
    total, free, shape = 0, None, None
    used: list[Target] = []
    for env, target in targets:
        reader = replace(formula_reader, env=env)
        if param is not None and parsed.lhs is not None:
            other = reader.target(parsed.lhs)
            if other != target:
                raise FormulaError(f"formula: the left side names {other.name} but the parameter is {target.name}")
        correct = _correct_value(reader, target)
        try:
            given = reader.build(parsed.rhs)
        except LayerRangeError:
            if layer_free:  # the formula needs a layer that l's value does not have (l + 1 > L)
                continue
            raise
        except FreeIndexError as exc:
            free = exc.letter
            given = _build_first_term(reader, parsed.rhs, exc)
        except ShapeError as exc:
            shape = str(exc)
            break
        pairs = _pair(reading, target, given, correct)
        if pairs is None:
            shape = f"the formula is {_shape_of(given)} but {target.name} is {_shape_of(correct)}"
            break
        total += len(pairs)
        elements += pairs
        used.append(target)
    if not used and shape is None:
        raise FormulaError(f"formula: {parsed.text!r} names nothing in this network for any layer")
    targets = [(None, t) for t in used] or targets
    name = targets[0][1].name if len(targets) == 1 else f"{targets[0][1].name} … {targets[-1][1].name}"
    if shape is not None:
        return _Shape(
            reading, elements, total, notes, name, first=targets[0][1], message=shape.removeprefix("formula: ")
        )
    if len(elements) > MAX_CHECKED:
        keep = sorted(np.random.default_rng(SEED).choice(len(elements), MAX_CHECKED, replace=False))
        elements = [elements[k] for k in keep]
    return _Attempt(reading, elements, total, notes, name, free, targets[0][1])


def _envs(d: Derivation, reader: Reader, node: Node) -> tuple[list[dict[str, int]], bool]:
    """Every binding of the letters the parameter leaves free (indices, and a layer l); whether l is free."""
    try:
        return list(assignments(_ranges(reader, node, {}))), False
    except FreeIndexError as exc:
        if not exc.layer:
            raise
        letter = exc.letter
    envs: list[dict[str, int]] = []
    for layer in range(0, d.L + 1):
        try:
            ranges = _ranges(reader, node, {letter: layer})
        except LayerRangeError:
            continue
        envs += [{**combo, letter: layer} for combo in assignments(ranges)]
    if not envs:
        raise FormulaError(f"formula: {reader.text!r} names nothing in this network for any layer {letter}")
    return envs, True


def _ranges(reader: Reader, node: Node, env: dict[str, int]) -> dict[str, int]:
    """The index letters left free in a name, each with its range."""
    probes: dict[str, Probe] = {}
    for _ in range(6):
        try:
            replace(reader, env={**env, **probes}).target(node)
            break
        except FreeIndexError as exc:
            if exc.layer or exc.letter in probes:
                raise
            probes[exc.letter] = Probe(exc.letter)
    return {letter: probe.size(reader.text, 0) for letter, probe in probes.items()}


def _build_first_term(reader: Reader, node: Node, exc: FreeIndexError):
    """The formula with its free indices taken as 1, to still give numbers (the verdict names the missing sum)."""
    env = dict(reader.env)
    for _ in range(6):
        if exc.layer:
            raise exc
        env[exc.letter] = 1
        try:
            return replace(reader, env=env).build(node)
        except FreeIndexError as again:
            exc = again
    raise exc


def _pair(reading: Reading, target: Target, given, correct) -> list[_Element] | None:
    """Element-by-element pairs, or None when the shapes differ."""
    if not isinstance(correct, Matrix):
        return None if isinstance(given, Matrix) else [_Element(target, given, correct)]
    if not isinstance(given, Matrix) or given.shape != correct.shape:
        return None
    ref = target.ref
    from_to = reading.notation.index_order == "from_to"
    out = []
    for r in range(correct.rows):
        for c in range(correct.cols):
            if ref.kind == "W":
                index = (c + 1, r + 1) if from_to else (r + 1, c + 1)
            else:
                index = (r + 1,)
            out.append(_Element(Target(target.what, Ref(ref.kind, ref.layer, index)), given[r, c], correct[r, c]))
    return out


def _shape_of(value) -> str:
    return f"{value.rows}×{value.cols}" if isinstance(value, Matrix) else "a number"


def _correct_value(reader: Reader, target: Target):
    """The derived value of the target (δ in the reading's sign)."""
    grad = reader.gradient(target.ref)
    if target.what == "delta":
        return grad * reader.reading.sign
    if target.what == "update":
        return -sym.LEARNING_RATE * grad
    return grad


# ------------------------------------------------------------------- numbers
def _point(d: Derivation, rng: np.random.Generator) -> Point:
    """Seeded parameters, input and target, with every z and a from the forward pass, ∂C/∂z and η."""
    params, x, y = random_point(d.network, rng)
    values = sample_values(d.network, params, x, y)
    floats: dict[Symbol, float] = {k: float(v) for k, v in values.items()}
    floats[sym.LEARNING_RATE] = float(rng.uniform(0.05, 1.0))
    return Point(floats, d.dC_dz_numbers(values))


def _with_delta(point: Point, sign: int) -> Point:
    """The point with δ^{(l)}_i = sign · ∂C/∂z^{(l)}_i."""
    values = dict(point.values)
    for (layer, i), v in point.dz.items():
        values[sym.delta(layer, i)] = sign * v
    return Point(values, point.dz)


def close(a: float, b: float) -> bool:
    """Equal within the tolerance (both finite)."""
    if not (math.isfinite(a) and math.isfinite(b)):
        return False
    return abs(a - b) <= ATOL + RTOL * max(abs(a), abs(b))


def _numbers(attempt: _Attempt, point: Point) -> list[tuple[float, float]]:
    p = _with_delta(point, attempt.reading.sign)
    return [(evaluate(el.given, p.values), evaluate(el.correct, p.values)) for el in attempt.elements]


def _first_mismatch(attempt: _Attempt, pts: list[Point]) -> tuple[int, int, float, float] | None:
    """(point, element, formula's value, correct value) where they first differ, or None."""
    for p, point in enumerate(pts):
        for e, (given, correct) in enumerate(_numbers(attempt, point)):
            if not close(given, correct):
                return p, e, given, correct
    return None


def _symbolically_equal(d: Derivation, attempt: _Attempt) -> bool:
    """True when every element is provably equal after substituting δ and the forward equations."""
    if d.network.parameter_count() > EXPAND_PARAMETERS or len(attempt.elements) > EXPAND_PARAMETERS:
        return False
    forward = d.forward_map()
    sign = attempt.reading.sign
    for el in attempt.elements:
        deltas = {s: sign * d.dC_dz(info.layer, info.i) for s in el.given.free_symbols if (info := _delta(s))}
        given = el.given.xreplace(deltas).xreplace(forward)
        if sympy.count_ops(given) > SYMBOLIC_OPS or _has_large_power(given):
            return False
        diff = given - el.correct.xreplace(forward)
        if is_zero(diff, d) is not True and is_zero(diff.rewrite(sympy.exp), d) is not True:
            return False
    return True


def _delta(s: Symbol):
    info = sym.parse_name(str(s))
    return info if info is not None and info.kind == "delta" else None


def _has_large_power(expr: Expr) -> bool:
    return any(p.base.is_Add and p.exp.is_Number and abs(p.exp) > 8 for p in expr.atoms(sympy.Pow))


# ------------------------------------------------------------------ diagnoses
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
    """The common mistakes whose values the formula matches at every point and element."""
    matched: set | None = None
    ratios: list[float] = []
    for point in pts:
        p = _with_delta(point, attempt.reading.sign)
        for el, (given, correct) in zip(attempt.elements, _numbers(attempt, point), strict=True):
            keys = set()
            for key, value in alternatives(d, el.target, p, attempt.reading.sign, correct):
                if close(given, value):
                    keys.add(key)
                elif key[0] != "sign" and close(given, -value):  # the mistake and the wrong sign together
                    keys.add((*key, "and_sign"))
            matched = keys if matched is None else matched & keys
            if abs(correct) > 1e-9 and math.isfinite(given):
                ratios.append(given / correct)
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
    d: Derivation, param: Formula | None, parsed: Formula, pts: list[Point], primary: Reading
) -> list[tuple]:
    """The conventions under which the formula would be right."""
    out: list[tuple] = []
    for reading, code in _readings(primary, d.L):
        try:
            attempt = _read(d, reading, param, parsed)
        except DeriveError:
            continue
        if isinstance(attempt, _Shape) or attempt.free is not None or _first_mismatch(attempt, pts) is not None:
            continue
        if code[0] == "index_order":
            out.append(("transposed",))
        out.append(("convention", *code))
    return out


def _readings(primary: Reading, depth: int = 2):
    n = primary.notation
    flip_delta = "gradient" if n.delta == "error" else "error"
    flip_order = "to_from" if n.index_order == "from_to" else "from_to"
    yield Reading(replace(n, delta=flip_delta)), ("delta", flip_delta)
    yield Reading(replace(n, index_order=flip_order)), ("index_order", flip_order)
    if depth >= 2:
        yield Reading(n, weight_shift=1), ("weight_shift", 1)


def _counterexample(d: Derivation, attempt: _Attempt, pts: list[Point], mismatch) -> Counterexample:
    p, e, given, correct = mismatch
    values = pts[p].values
    el = attempt.elements[e]
    used = el.given.free_symbols | el.correct.free_symbols
    small = d.network.parameter_count() <= EXPAND_PARAMETERS
    inputs, targets, parameters = {}, {}, {}
    for s, v in values.items():
        info = sym.parse_name(str(s))
        if info is None:
            continue
        if info.kind == "x":
            inputs[s.name] = v
        elif info.kind == "y":
            targets[s.name] = v
        elif info.kind in ("W", "b") and (small or s in used):
            parameters[s.name] = v
    if sym.LEARNING_RATE in used:
        parameters["eta"] = values[sym.LEARNING_RATE]
    return Counterexample(el.target.name, inputs, targets, parameters, given, correct)


# ------------------------------------------------------------- correct form
def _correct_latex(d: Derivation, target: Target) -> str:
    """The derived result for the target, in the notation, as LaTeX (lhs = forms …)."""
    from . import matrixform

    net = d.network
    ref = target.ref

    def show(*exprs) -> str:
        return " = ".join(latex(e, net) for e in exprs)

    if ref.index is None:
        if ref.kind == "W" and target.what == "grad":
            return show(*_sides(matrixform.gradients(d, ref.layer)[0]))
        if ref.kind == "b" and target.what == "grad":
            return show(*_sides(matrixform.gradients(d, ref.layer)[1]))
        if ref.kind == "delta":
            eq = matrixform.output_delta(d)[-1] if ref.layer == d.L else matrixform.recursion(d, ref.layer)[0]
            return show(*_sides(eq))
        return ""
    layer, i = ref.layer, ref.index[0]
    if ref.kind == "delta":
        if layer < d.L:
            return show(sym.delta(layer, i), d.delta_recursion(layer, i).rhs, d.delta_closed(layer, i))
        return show(sym.delta(layer, i), d.delta_closed(layer, i))
    if ref.kind in ("W", "b"):
        name = sym.parameter_name(layer, i, ref.index[1] if ref.kind == "W" else None)
        lhs = PartialFn(sym.COST, sym.parameter_symbol(layer, i, ref.index[1] if ref.kind == "W" else None))
        forms = [d.gradient(name, "delta"), d.gradient(name, "closed")]
        if target.what == "update":
            return show(-sym.LEARNING_RATE * lhs, *(-sym.LEARNING_RATE * f for f in forms))
        return show(lhs, *forms)
    if ref.kind == "z":
        return show(PartialFn(sym.COST, sym.z(layer, i)), d.sign * sym.delta(layer, i), d.dC_dz(layer, i))
    return ""


def _sides(eq) -> tuple:
    return eq.lhs, eq.rhs
