"""Verifying a hand-written formula: right or wrong, with a counterexample and the reason.

The formula is read by :mod:`derive.formula` and :mod:`derive.reading`, then
compared with the derived result element by element: numerically at seeded
random points (every z and a from the forward pass, so the forward equations
hold), and, for small networks, symbolically after substituting δ and the
forward equations. A wrong formula is compared with the values that the common
mistakes of :mod:`derive.mistakes` would give, and read again under the other
conventions (δ's sign, the weights' index order, article 001's layer numbering).

Every stage is bounded by :class:`derive.formula.Limits`, so any formula is answered
or refused (a LimitError naming the limit) within about a second, on any network
derive verify takes; a formula undefined for every input (1/0, log 0) is refused by
an UndefinedError naming the operation, one undefined only at a sample point gets a
verdict that says so.
"""

from __future__ import annotations

import functools
import itertools
import math
from dataclasses import dataclass, field, replace

import numpy as np
import sympy
from sympy import Expr, Matrix, Symbol
from sympy.polys.polyerrors import BasePolynomialError

from . import symbols as sym
from .algebra import is_zero
from .derivation import EXPAND_PARAMETERS, Derivation, derive
from .errors import DeriveError
from .floats import evaluate
from .formula import Formula, FormulaError, LimitError, Limits, Node, parse
from .functions import Partial as PartialFn
from .latex import latex
from .mistakes import Backward, Point, alternatives
from .network import Network
from .numeric import forward, random_point
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
    Work,
    WorkExhaustedError,
)

POINTS = 4
SEED = 0
RTOL = 1e-8
ATOL = 1e-12
MAX_CHECKED = Limits.CHECKED  # elements compared; above this a seeded sample
SYMBOLIC_OPS = Limits.EXACT_OPS  # the symbolic check is tried for formulas up to this size


@dataclass(frozen=True)
class Counterexample:
    """Values at which the formula and the derivation differ."""

    element: str
    inputs: dict[str, float]
    targets: dict[str, float]
    parameters: dict[str, float]
    given: float
    correct: float

    @property
    def defined(self) -> bool:
        """False when the formula is undefined there (a division by zero, the logarithm of 0 or less) or overflows."""
        return math.isfinite(self.given)


@dataclass(frozen=True)
class Verdict:
    """Whether a hand-written formula is right, and why not.

    ``diagnoses`` are tuples (code, *data): ``sign``, ``factor_two``,
    ``missing_derivative``, ``extra_derivative``, ``wrong_layer_derivative``,
    ``missing_sum``, ``transposed``, ``proportional``, ``shared_error``,
    ``convention``, ``shape``, ``undefined`` (no value at a sample point);
    ``notes`` say how names were read.
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
    """One element being compared: its target, the formula's value, and the correct value when asked for.

    The correct value is made only for the stages that need it as an expression (the exact comparison,
    the counterexample's parameters): the numbers come from the point's ∂C/∂z, and a whole 50×50 W
    would otherwise cost 2500 sympy products for nothing.
    """

    target: Target
    given: Expr
    d: Derivation = field(repr=False)
    reading: Reading = field(repr=False)

    @property
    def correct(self) -> Expr:
        return _correct_value(Reader(self.d, self.reading, ""), self.target)


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
    numbers: dict[int, list[tuple[float, float]]] = field(default_factory=dict)  # by point: (formula, correct)


def verify(
    net: Network | Derivation, param: str | None, formula: str, *, points: int = POINTS, seed: int = SEED
) -> Verdict:
    """Verify ``formula`` for ``param`` (a parameter name, δ, or None when the formula has a left side).

    Raises DeriveError (one line) for what cannot be read or would cost more than :class:`Limits` allow.
    """
    d = net if isinstance(net, Derivation) else derive(net)
    try:
        return _verify(d, param, formula, points, seed)
    except RecursionError:  # the limits keep every stage shallow; this is the last line of defence
        raise LimitError("formula: nested too deeply for derive to evaluate") from None


def _verify(d: Derivation, param: str | None, formula: str, points: int, seed: int) -> Verdict:
    parsed = parse(formula)
    param_formula = _parse_param(param) if param is not None else None
    if param_formula is None and parsed.lhs is None:
        raise FormulaError("formula: name what it is for: give the parameter, or a left side such as ∂C/∂w = …")
    pts = _points(d, np.random.default_rng(seed), points)
    primary = Reading(d.network.notation)
    others = Work(Limits.READINGS)  # shared by every reading under another convention
    try:
        attempt = _read(d, primary, param_formula, parsed)
    except ReadError:  # unreadable in the notation: right under another convention, or the user's error
        found = _alternative_readings(d, param_formula, parsed, pts, primary, others)
        if not found:
            raise
        attempt = _read(d, _reading_of(found, primary), param_formula, parsed)
        return Verdict(False, method="", diagnoses=tuple(found), **_common(d, attempt, param, parsed, points))
    common = _common(d, attempt, param, parsed, points)
    if isinstance(attempt, _Shape):
        diagnoses = _alternative_readings(d, param_formula, parsed, pts, primary, others)
        return Verdict(False, method="", diagnoses=(("shape", attempt.message), *diagnoses), **common)
    mismatch = _first_mismatch(d, attempt, pts)
    if mismatch is None and attempt.free is None:
        method = "exact" if _symbolically_equal(d, attempt) else "numeric"
        return Verdict(True, method=method, **common)
    diagnoses: list[tuple] = []
    if mismatch is not None and not math.isfinite(mismatch[2]):  # undefined at a point, as 1/(a − σ(z)) is
        diagnoses.append(("undefined", f"{mismatch[2]:g}"))
    if attempt.free is not None:
        diagnoses.append(("missing_sum", attempt.free))
    diagnoses += _mistakes(d, attempt, pts)
    diagnoses += _structure(attempt)
    diagnoses += _alternative_readings(d, param_formula, parsed, pts, primary, others)
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


def _read(
    d: Derivation,
    reading: Reading,
    param: Formula | None,
    parsed: Formula,
    work: Work | None = None,
    first: bool = False,
) -> _Attempt:
    """The formula's value and the correct value for every element named by the parameter or left side.

    Above Limits.CHECKED elements a seeded sample is built, in the sample's order, so that when the
    work (Limits.WORK, or what is left of Limits.READINGS) runs out after some elements, those that were
    built are a fair sample too; the first element over the limit refuses the formula instead. With
    ``first``, only the first binding is built (a quick look before reading all of them).
    """
    work = work if work is not None else Work()
    notes: dict[str, tuple] = {}
    source = param if param is not None else parsed
    node = source.rhs if param is not None else parsed.lhs
    target_reader = Reader(d, reading, source.text, notes=notes)
    formula_reader = Reader(d, reading, parsed.text, notes=notes, work=work)
    try:
        envs = _envs(d, target_reader, node)
        targets = [(env, replace(target_reader, env=env).target(node)) for env in envs.envs]
    except FormulaError as exc:
        raise _as_parameter(exc) if param is not None else exc from None
    _check_whole(d, targets, "parameter" if param is not None else "formula")
    elements: list[tuple[tuple[int, int], _Element]] = []  # (place in the list of all elements, element)
    total, free, shape, stopped = 0, None, None, False
    used: list[tuple[int, Target]] = []
    skipped: set[int] = set()  # the free layer's values the formula does not exist for
    for index in _build_order(envs, targets)[: 1 if first else None]:
        key, (env, target) = envs.keys[index], targets[index]
        reader = replace(formula_reader, env=env)
        _target_shape(d, reading, target)  # derive has no gradient for the targets y: say so before anything
        if param is not None and parsed.lhs is not None:
            other = reader.target(parsed.lhs)
            if other != target:
                raise FormulaError(f"formula: the left side names {other.name} but the parameter is {target.name}")
        try:
            try:
                given = reader.build(parsed.rhs)
            except FreeIndexError as exc:
                free = exc.letter
                given = _build_first_term(reader, parsed.rhs, exc)
        except LayerRangeError:
            if envs.letter is not None:  # the formula needs a layer that l's value does not have (l + 1 > L)
                skipped.add(env[envs.letter])
                continue
            raise
        except ShapeError as exc:
            shape = str(exc)
            break
        except WorkExhaustedError:
            if not elements:
                raise
            stopped = True
            break
        pairs = _pair(d, reading, target, given)
        if pairs is None:
            correct = _target_shape(d, reading, target)
            shape = f"the formula is {_shape_of(given)} but {target.name} is {_shape_of(correct)}"
            break
        total += len(pairs)
        elements += [((key, n), el) for n, el in enumerate(pairs)]
        used.append((key, target))
    if not used and shape is None:
        raise FormulaError(f"formula: {parsed.text!r} names nothing in this network for any layer")
    used.sort(key=lambda pair: pair[0])
    if envs.sampled:  # one element per binding
        total = envs.total(skipped)
        ends = [replace(target_reader, env=env).target(node) for env in envs.ends(skipped)]
    elif stopped:  # the elements not built still count, and name the range
        exists = [(k, t) for k, (env, t) in zip(envs.keys, targets, strict=True) if env.get(envs.letter) not in skipped]
        built = {k for k, _ in used}
        total += sum(_count(d, t) for k, t in exists if k not in built)
        ends = [exists[0][1], exists[-1][1]]
    else:
        ends = [used[0][1], used[-1][1]] if used else [targets[0][1], targets[-1][1]]
    head = ends[0] if ends else targets[0][1]
    name = head.name if len(ends) < 2 or ends[0] == ends[-1] else f"{ends[0].name} … {ends[-1].name}"
    if shape is not None:
        message = shape.removeprefix("formula: ")
        return _Shape(reading, [el for _, el in elements], total, notes, name, first=head, message=message)
    if len(elements) > MAX_CHECKED:  # a whole matrix: a seeded sample of its elements, in the sample's order
        keep = np.random.default_rng(SEED).choice(len(elements), MAX_CHECKED, replace=False)
        elements = [elements[k] for k in keep]
    checked, size = [], 0
    for key, el in elements:  # as many as Limits.EVALUATE allows, at least one
        grow = work.size(el.given)
        if checked and size + grow > Limits.EVALUATE:
            break
        checked.append((key, el))
        size += grow
    checked.sort(key=lambda pair: pair[0])
    return _Attempt(reading, [el for _, el in checked], total, notes, name, free, head)


def _build_order(envs: _Envs, targets: list[tuple[dict[str, int], Target]]) -> list[int]:
    """The order to build the bindings in: in order, but with a free layer, one binding of each layer first.

    Which layers the formula exists for (l + 1 ≤ L) is then known early, so that when the work runs out
    the range and the count of what was not built are still right.
    """
    order = list(range(len(targets)))
    if envs.letter is None or envs.sampled:
        return order
    firsts = [i for i in order if i == 0 or targets[i][0][envs.letter] != targets[i - 1][0][envs.letter]]
    rest = set(firsts)
    return firsts + [i for i in order if i not in rest]


def _check_whole(d: Derivation, targets: list[tuple[dict, Target]], side: str) -> None:
    """A whole matrix named as the parameter or left side must fit in Limits.MATRIX: it is built as one matrix."""
    for _, target in targets:
        count = _count(d, target)
        if target.ref.index is None and count > Limits.MATRIX:
            letters = "i,j" if target.ref.kind == "W" else "i"
            raise LimitError(
                f"{side}: {target.ref.name} has {count} elements, more than the {Limits.MATRIX} compared as one"
                f" matrix; name one element at a time, such as {target.ref.name}[{letters}]"
            )


def _count(d: Derivation, target: Target) -> int:
    """How many elements a target has."""
    ref = target.ref
    if ref.index is not None:
        return 1
    if ref.kind == "W":
        return d.size(ref.layer) * d.size(ref.layer - 1)
    return d.network.outputs if ref.kind == "y" else d.size(ref.layer)


@dataclass
class _Envs:
    """The bindings of the letters a parameter leaves free: all of them, or a seeded sample of them.

    ``blocks`` are the bindings by layer (one block when no layer is free): the layer's binding and the
    index ranges; ``keys`` are each sampled binding's place among all of them.
    """

    blocks: list[tuple[dict[str, int], dict[str, int]]]
    keys: list[int] = field(default_factory=list)
    letter: str | None = None  # the free layer's letter

    @property
    def counts(self) -> list[int]:
        return [math.prod(ranges.values()) for _, ranges in self.blocks]

    @property
    def count(self) -> int:
        return sum(self.counts)

    @property
    def sampled(self) -> bool:
        return self.count > len(self.keys)

    @property
    def envs(self) -> list[dict[str, int]]:
        return [self.binding(k) for k in self.keys]

    def binding(self, key: int) -> dict[str, int]:
        """The key-th binding, in the order of itertools.product within each block (the last letter fastest)."""
        for (fixed, ranges), count in zip(self.blocks, self.counts, strict=True):
            if key < count:
                values: dict[str, int] = {}
                for letter in sorted(ranges, reverse=True):
                    key, rest = divmod(key, ranges[letter])
                    values[letter] = rest + 1
                return {**{letter: values[letter] for letter in sorted(ranges)}, **fixed}
            key -= count
        raise IndexError(key)

    def _kept(self, skipped: set[int]) -> list[tuple[int, int]]:
        """(first key, count) of each block whose layer the formula exists for."""
        starts = itertools.accumulate([0, *self.counts])
        blocks = zip(starts, self.counts, self.blocks, strict=False)
        return [(start, n) for start, n, (fixed, _) in blocks if fixed.get(self.letter or "") not in skipped]

    def total(self, skipped: set[int]) -> int:
        """How many bindings there are, leaving out the layers the formula does not exist for."""
        return sum(n for _, n in self._kept(skipped))

    def ends(self, skipped: set[int]) -> list[dict[str, int]]:
        """The first and the last binding, leaving out those layers."""
        kept = self._kept(skipped)
        return [self.binding(kept[0][0]), self.binding(kept[-1][0] + kept[-1][1] - 1)] if kept else []


def _envs(d: Derivation, reader: Reader, node: Node) -> _Envs:
    """Every binding of the letters the parameter leaves free (indices, and a layer l).

    Above Limits.CHECKED bindings a seeded sample is drawn before anything is built (the same elements as
    sampling the built list gave, since each binding is one element), so W1[i,j] or W^{(l)}_{ij} of a wide
    network does not build the formula for every weight.
    """
    try:
        envs = _Envs([({}, _ranges(reader, node, {}))])
    except FreeIndexError as exc:
        if not exc.layer:
            raise
        envs = _Envs([], letter=exc.letter)
        for layer in range(0, d.L + 1):
            try:
                envs.blocks.append(({exc.letter: layer}, _ranges(reader, node, {exc.letter: layer})))
            except LayerRangeError:
                continue
        if not envs.blocks:
            raise FormulaError(
                f"formula: {reader.text!r} names nothing in this network for any layer {exc.letter}"
            ) from None
    count = envs.count
    if count > MAX_CHECKED:
        envs.keys = [int(k) for k in np.random.default_rng(SEED).choice(count, MAX_CHECKED, replace=False)]
    else:
        envs.keys = list(range(count))
    return envs


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


def _pair(d: Derivation, reading: Reading, target: Target, given) -> list[_Element] | None:
    """Element-by-element pairs, or None when the shapes differ."""
    shape = _target_shape(d, reading, target)
    if shape is None:
        return None if isinstance(given, Matrix) else [_Element(target, given, d, reading)]
    if not isinstance(given, Matrix) or given.shape != shape:
        return None
    ref = target.ref
    from_to = reading.notation.index_order == "from_to"
    out = []
    for r in range(shape[0]):
        for c in range(shape[1]):
            if ref.kind == "W":
                index = (c + 1, r + 1) if from_to else (r + 1, c + 1)
            else:
                index = (r + 1,)
            out.append(_Element(Target(target.what, Ref(ref.kind, ref.layer, index)), given[r, c], d, reading))
    return out


def _target_shape(d: Derivation, reading: Reading, target: Target) -> tuple[int, int] | None:
    """The shape of the derived value (as ``Reader.gradient`` makes it), None for one number."""
    ref = target.ref
    if ref.kind == "y":
        raise ReadError("formula: derive does not differentiate with respect to the targets")
    if ref.index is not None:
        return None
    if ref.kind == "W":
        rows, cols = d.size(ref.layer), d.size(ref.layer - 1)
        return (cols, rows) if reading.notation.index_order == "from_to" else (rows, cols)
    return (d.size(ref.layer), 1)


def _shape_of(value) -> str:
    if isinstance(value, tuple):
        return f"{value[0]}×{value[1]}"
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
def _points(d: Derivation, rng: np.random.Generator, count: int) -> list[Point]:
    """Seeded parameters, input and target, with every z and a from the forward pass, ∂C/∂z and η.

    The values are float64 from the start (as ``numeric.sample_values`` computes them, without making a
    sympy Float of each), and a weight's or bias's value is looked up only when something asks for it:
    a 100-100-100 network has 20000 weights, and making a symbol for each took longer than the rest.
    """
    net, sizes = d.network, d.network.sizes
    names = {"x": [sym.x(j) for j in range(1, net.inputs + 1)], "y": [sym.y(k) for k in range(1, net.outputs + 1)]}
    for layer in range(1, d.L + 1):
        names[f"z{layer}"] = [sym.z(layer, i) for i in range(1, sizes[layer] + 1)]
        names[f"a{layer}"] = [sym.a(layer, i) for i in range(1, sizes[layer] + 1)]
    # g'(z) of each element-wise layer, made once in a stand-in a and z (as Derivation.jacobian_entry writes
    # it), and ∂C/∂a of the outputs, made once for all points: a 100-layer network has 3000 neurons
    a_, z_ = sympy.Dummy("a", real=True), sympy.Dummy("z", real=True)
    slopes = {
        layer: net.activation(layer).local_derivative(a_, z_)
        for layer in range(1, d.L + 1)
        if net.activation(layer).elementwise
    }
    top = [d.dC_da(i) for i in range(1, sizes[d.L] + 1)]
    out = []
    for _ in range(count):
        params, x, y = random_point(net, rng)
        arrays = {"x": x, "y": y}
        for layer, (z, a) in enumerate(forward(net, params, x), start=1):
            arrays[f"z{layer}"], arrays[f"a{layer}"] = z, a
        values = _Values({name: np.asarray(array, dtype=float) for name, array in params.items()})
        for key, symbols in names.items():
            values.update(zip(symbols, np.asarray(arrays[key], dtype=float).reshape(-1).tolist(), strict=True))
        values[sym.LEARNING_RATE] = float(rng.uniform(0.05, 1.0))
        weights = {layer: values.params[f"W{layer}"] for layer in range(1, d.L + 1)}
        slope = {}
        for layer, g in slopes.items():
            pairs = zip(arrays[f"a{layer}"].tolist(), arrays[f"z{layer}"].tolist(), strict=True)
            slope[layer] = np.array([evaluate(g, {a_: a, z_: z}) for a, z in pairs])
        outputs = {layer: np.asarray(arrays[f"a{layer}"], dtype=float) for layer in range(1, d.L + 1)}
        top_values = np.array([evaluate(e, values) for e in top])
        dz = _dz_numbers(d, values, outputs, weights, slope, top_values)
        out.append(Point(values, dz, weights, slope, top_values))
    return out


class _Values(dict):
    """Symbol values of one point; a weight's or bias's is read from its array the first time it is asked for.

    Copies (the point with δ added, once per reading) share what has been read, in ``cache``.
    """

    def __init__(self, params: dict[str, np.ndarray], *args, cache: dict[Symbol, float] | None = None) -> None:
        super().__init__(*args)
        self.params = params
        self.cache: dict[Symbol, float] = {} if cache is None else cache

    def __missing__(self, key: Symbol) -> float:
        value = self.cache.get(key)
        if value is None:
            value = self.cache[key] = self._read(key)
        self[key] = value
        return value

    def _read(self, key: Symbol) -> float:
        info = sym.parse_name(key.name) if isinstance(key, Symbol) else None
        if info is None or info.kind not in ("W", "b") or f"{info.kind}{info.layer}" not in self.params:
            raise KeyError(key)
        array = self.params[f"{info.kind}{info.layer}"]
        index = (info.i - 1, info.j - 1) if info.kind == "W" else (info.i - 1,)
        if any(not 0 <= k < n for k, n in zip(index, array.shape, strict=True)):
            raise KeyError(key)
        return float(array[index])

    def copy(self) -> _Values:
        return _Values(self.params, self, cache=self.cache)


def _dz_numbers(
    d: Derivation,
    values: dict[Symbol, float],
    outputs: dict[int, np.ndarray],
    weights: dict[int, np.ndarray],
    slopes: dict[int, np.ndarray],
    top: np.ndarray,
) -> dict[tuple[int, int], float]:
    """∂C/∂z of every neuron in float64: the recursion of ``Derivation.dC_dz_numbers`` without sympy arithmetic.

    Layer by layer: Σ_k W_{km} ∂C/∂z_k is one product with the weight array; an element-wise layer
    multiplies by g'(z) (``slopes``); softmax, whose Jacobian is a_m(δ_{mi} − a_i), gives
    a_i (v_i − Σ_m a_m v_m). The outputs start from ∂C/∂a (``top``), or from the simplified a − y where
    the loss and the output match. A 1024-wide softmax costs a million Jacobian entries written out; here
    it costs a product.
    """
    L = d.L

    def through(layer: int, v: np.ndarray) -> np.ndarray:  # ∂C/∂z of the layer from ∂C/∂a
        if layer in slopes:
            return v * slopes[layer]
        a = outputs[layer]
        return a * (v - a @ v)

    if d.output_matching():
        dz = np.array([evaluate(d.dC_dz(L, i), values) for i in range(1, d.size(L) + 1)])
    else:
        dz = through(L, top)
    out = {(L, i): float(v) for i, v in enumerate(dz, start=1)}
    for layer in range(L - 1, 0, -1):
        dz = through(layer, weights[layer + 1].T @ dz)
        out.update({(layer, i): float(v) for i, v in enumerate(dz, start=1)})
    return out


_delta_symbol = functools.cache(sym.delta)  # sym.delta without sympy's lookup: a 100-layer network has 3000


def _with_delta(point: Point, sign: int) -> Point:
    """The point with δ^{(l)}_i = sign · ∂C/∂z^{(l)}_i."""
    values = point.values.copy()
    for (layer, i), v in point.dz.items():
        values[_delta_symbol(layer, i)] = sign * v
    return replace(point, values=values)


def close(a: float, b: float) -> bool:
    """Equal within the tolerance (both finite)."""
    if not (math.isfinite(a) and math.isfinite(b)):
        return False
    return abs(a - b) <= ATOL + RTOL * max(abs(a), abs(b))


def _evaluate(expr: Expr, values: dict[Symbol, float]) -> float:
    """The formula's value in float64; nan where it has none (sympy's ∞, a complex number, 1/0).

    Building refuses what is undefined for every input, so this is for values that are undefined only
    at the point, which the verdict reports as such, never as a traceback.
    """
    try:
        return evaluate(expr, values)
    except (TypeError, ValueError, ArithmeticError):
        return math.nan


def _correct_number(d: Derivation, target: Target, point: Point, sign: int) -> float:
    """The derived value of one element at a point, from the point's ∂C/∂z (not by evaluating its closed form,
    which for a deep network repeats every path through the layers)."""
    ref, values = target.ref, point.values
    layer, i = ref.layer, ref.index[0]
    if ref.kind == "W":
        grad = point.dz[(layer, i)] * values[sym.a(layer - 1, ref.index[1])]
    elif ref.kind in ("b", "z", "delta"):
        grad = point.dz[(layer, i)]
    elif layer == d.L:  # ∂C/∂a of an output
        grad = evaluate(d.dC_da(i), values)
    else:
        up = d.size(layer + 1)
        grad = math.fsum(values[sym.W(layer + 1, k, i)] * point.dz[(layer + 1, k)] for k in range(1, up + 1))
    if target.what == "delta":
        return sign * grad
    if target.what == "update":
        return -values[sym.LEARNING_RATE] * grad
    return grad


def _numbers(d: Derivation, attempt: _Attempt, pts: list[Point], p: int) -> list[tuple[float, float]]:
    """(formula's value, correct value) of every element at point p, computed once per attempt and point."""
    found = attempt.numbers.get(p)
    if found is None:
        sign = attempt.reading.sign
        point = _with_delta(pts[p], sign)
        found = [
            (_evaluate(el.given, point.values), _correct_number(d, el.target, point, sign)) for el in attempt.elements
        ]
        attempt.numbers[p] = found
    return found


def _first_mismatch(d: Derivation, attempt: _Attempt, pts: list[Point]) -> tuple[int, int, float, float] | None:
    """(point, element, formula's value, correct value) where they first differ, or None."""
    for p in range(len(pts)):
        for e, (given, correct) in enumerate(_numbers(d, attempt, pts, p)):
            if not close(given, correct):
                return p, e, given, correct
    return None


def _symbolically_equal(d: Derivation, attempt: _Attempt) -> bool:
    """True when every element is provably equal after substituting δ and the forward equations.

    Only tried where it is cheap for sure: small networks, and differences whose expansion over a
    common denominator stays within Limits.EXACT_TERMS terms for all elements together (expand and
    cancel never stop early, so (x_1+x_2)^{60} or a product of 200 sums would not come back). Anything
    that goes wrong inside sympy only means it is not proved, and the verdict says "numeric".
    """
    if d.network.parameter_count() > EXPAND_PARAMETERS or len(attempt.elements) > EXPAND_PARAMETERS:
        return False
    forward = d.forward_map()
    sign = attempt.reading.sign
    budget = Limits.EXACT_TERMS
    sizes = Work()
    try:
        for el in attempt.elements:
            if sizes.size(el.given) > 4 * SYMBOLIC_OPS:  # xreplace and count_ops walk every path of the tree
                return False
            deltas = {s: sign * d.dC_dz(info.layer, info.i) for s in el.given.free_symbols if (info := _delta(s))}
            given = el.given.xreplace(deltas).xreplace(forward)
            if sizes.size(given) > 4 * SYMBOLIC_OPS or sympy.count_ops(given) > SYMBOLIC_OPS:
                return False
            diff = given - el.correct.xreplace(forward)
            budget -= _expanded_terms(diff, budget)
            if budget < 0:
                return False
            if is_zero(diff, d) is True:
                continue
            rewritten = diff.rewrite(sympy.exp)
            budget -= _expanded_terms(rewritten, budget)
            if budget < 0 or is_zero(rewritten, d) is not True:
                return False
    except (TypeError, ValueError, ArithmeticError, RecursionError, NotImplementedError, BasePolynomialError):
        return False
    return True


def _expanded_terms(expr: Expr, cap: int) -> int:
    """An upper bound on the terms of ``expr`` expanded over a common denominator, or more than ``cap``.

    Function applications count as one term each (``algebra.is_zero`` replaces them by symbols first);
    a product multiplies the terms of its factors; a sum puts its fractions over the product of their
    distinct denominators (a − y of a softmax output shares one); an integer power n of t terms gives at
    most C(t+n-1, n). exp(k·u) becomes a power k of one symbol, so a large k (a polynomial of that
    degree) counts as over the cap.
    """
    over = cap + 1
    memo: dict[Expr, tuple[int, dict[Expr, int]]] = {}

    def product(counts) -> int:
        return min(over, math.prod(counts))

    def terms(e: Expr) -> tuple[int, dict[Expr, int]]:  # (numerator's terms, denominator factor → its terms)
        found = memo.get(e)
        if found is not None:
            return found
        out: tuple[int, dict[Expr, int]]
        if isinstance(e, sympy.exp):
            coeff = e.args[0].as_coeff_Mul()[0]
            out = (1, {}) if not coeff.is_Rational or abs(coeff) <= Limits.POWER else (over, {})
        elif e.is_Atom or isinstance(e, sympy.Function):
            out = (1, {})
        elif e.is_Add:
            parts = [terms(a) for a in e.args]
            den = {factor: n for _, dens in parts for factor, n in dens.items()}
            whole = product(den.values())
            numerator = sum(n * product(den[f] for f in den if f not in dens) for n, dens in parts)
            out = (min(over, numerator), den) if whole < over else (over, den)
        elif e.is_Mul:
            parts = [terms(a) for a in e.args]
            out = (product(n for n, _ in parts), {f: n for _, dens in parts for f, n in dens.items()})
        elif e.is_Pow and e.exp.is_Integer:
            n, dens = terms(e.base)
            k = abs(int(e.exp))
            if k > Limits.POWER:
                out = (over, {})
            elif e.exp > 0:
                out = (min(over, math.comb(n + k - 1, k)), {f: min(over, m**k) for f, m in dens.items()})
            else:  # 1/base^k: base's numerator expanded goes below, its denominator comes up
                out = (product(m**k for m in dens.values()), {e: min(over, math.comb(n + k - 1, k))})
        elif e.is_Pow:  # a fractional power is a symbol of its own; its base is expanded too
            n, dens = terms(e.base)
            out = (1, {}) if n * product(dens.values()) <= over else (over, {})
        else:
            out = (over, {})
        memo[e] = out
        return out

    stack = [expr]  # fill the memo from the leaves up, so deep expressions do not recurse deeply
    order: list[Expr] = []
    seen: set[Expr] = set()
    while stack:
        e = stack.pop()
        if e in seen:
            continue
        seen.add(e)
        order.append(e)
        stack.extend(e.args)
    for e in reversed(order):
        terms(e)
    n, dens = terms(expr)
    return min(over, n * product(dens.values()))


def _delta(s: Symbol):
    info = sym.parse_name(str(s))
    return info if info is not None and info.kind == "delta" else None


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


def _counterexample(d: Derivation, attempt: _Attempt, pts: list[Point], mismatch) -> Counterexample:
    p, e, given, correct = mismatch
    values = pts[p].values
    el = attempt.elements[e]
    small = d.network.parameter_count() <= EXPAND_PARAMETERS
    used = _symbols(el.given)
    if small or _closed_form_fits(d, el.target.ref.layer):  # the weights the derivative depends on, too
        used |= _symbols(el.correct)
    inputs, targets, parameters = {}, {}, {}
    for s, v in values.items():
        info = sym.parse_name(str(s))
        if info is not None and info.kind == "x":
            inputs[s.name] = v
        elif info is not None and info.kind == "y":
            targets[s.name] = v
    for s in _parameters(d) if small else sorted((s for s in used if _is_parameter(s)), key=_parameter_order):
        parameters[s.name] = values[s]
    if sym.LEARNING_RATE in used:
        parameters["eta"] = values[sym.LEARNING_RATE]
    return Counterexample(el.target.name, inputs, targets, parameters, given, correct)


def _parameters(d: Derivation) -> list[Symbol]:
    """Every weight and bias, in the order of the parameter arrays: W1 row by row, b1, W2, …"""
    out: list[Symbol] = []
    for layer in range(1, d.L + 1):
        rows, cols = d.size(layer), d.size(layer - 1)
        out += [sym.W(layer, i, j) for i in range(1, rows + 1) for j in range(1, cols + 1)]
        out += [sym.b(layer, i) for i in range(1, rows + 1)] if d.network.bias else []
    return out


def _is_parameter(s: Symbol) -> bool:
    info = sym.parse_name(str(s))
    return info is not None and info.kind in ("W", "b")


def _parameter_order(s: Symbol) -> tuple[int, int, int, int]:
    """The place of a weight or bias in :func:`_parameters`' order."""
    info = sym.parse_name(str(s))
    assert info is not None and info.layer is not None
    return info.layer, 0 if info.kind == "W" else 1, info.i, info.j or 0


def _symbols(expr: Expr) -> set[Symbol]:
    """The symbols in an expression, each shared part visited once (``free_symbols`` walks every path, and a
    deep network's closed form shares its parts along exponentially many paths)."""
    found: set[Symbol] = set()
    seen: set[Expr] = set()
    stack = [expr]
    while stack:
        e = stack.pop()
        if e in seen:
            continue
        seen.add(e)
        if isinstance(e, Symbol):
            found.add(e)
        stack.extend(e.args)
    return found


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
    closed = _closed_form_fits(d, layer)  # else the δ form alone
    if ref.kind == "delta":
        forms = [d.delta_closed(layer, i)] if closed else []
        if layer == d.L:
            return show(sym.delta(layer, i), *forms)
        if _recursion_fits(d, layer):
            return show(sym.delta(layer, i), d.delta_recursion(layer, i).rhs, *forms)
        return show(*_sides(matrixform.recursion(d, layer)[0]))  # Σ_k over a wide layer: the vector form
    if ref.kind in ("W", "b"):
        name = sym.parameter_name(layer, i, ref.index[1] if ref.kind == "W" else None)
        lhs = PartialFn(sym.COST, sym.parameter_symbol(layer, i, ref.index[1] if ref.kind == "W" else None))
        forms = [d.gradient(name, "delta"), *([d.gradient(name, "closed")] if closed else [])]
        if target.what == "update":
            return show(-sym.LEARNING_RATE * lhs, *(-sym.LEARNING_RATE * f for f in forms))
        return show(lhs, *forms)
    if ref.kind == "z":
        forms = [d.dC_dz(layer, i)] if closed else []
        return show(PartialFn(sym.COST, sym.z(layer, i)), d.sign * sym.delta(layer, i), *forms)
    return ""


def _recursion_fits(d: Derivation, layer: int) -> bool:
    """Whether δ^{(l)}_i = Σ_k W_{ki} δ_k g'(z_i) stays within Limits.CLOSED_FORM operations (a 1024-wide
    layer above makes it 1024 terms long, and sympy takes seconds to build it one term at a time)."""
    per_neuron = 1 if d.network.activation(layer).elementwise else d.size(layer)
    return 4 * d.size(layer + 1) * per_neuron <= Limits.CLOSED_FORM


def _closed_form_fits(d: Derivation, layer: int) -> bool:
    """Whether ∂C/∂z of a neuron of ``layer``, written out, stays within Limits.CLOSED_FORM operations.

    It repeats every path from the neuron to the outputs (a 20-wide network 8 layers deep has 20^7 of
    them), so it is estimated from the widths before it is built: building it costs a sympy operation
    per weight above the layer, printing it one per operation of every path.
    """
    size = 4 * (1 if d.output_matching() or d.network.activation(d.L).elementwise else d.size(d.L))
    for m in range(d.L - 1, max(layer, 1) - 1, -1):
        size = d.size(m + 1) * (size + 3) * (1 if d.network.activation(m).elementwise else d.size(m))
        if size > Limits.CLOSED_FORM:
            return False
    return size <= Limits.CLOSED_FORM


def _sides(eq) -> tuple:
    return eq.lhs, eq.rhs
