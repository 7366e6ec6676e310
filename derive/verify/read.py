"""Reading a formula against its targets: the elements a parameter or left side names, and the formula's value for each.

Separate from :mod:`derive.verify` because this is the part that builds sympy values (through
:class:`derive.verify.reading.Reader`) and bounds how many are built; comparing them is the other modules' work.
Above MAX_CHECKED elements a seeded sample (SEED) is built instead of all of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
from sympy import Expr, Matrix

from derive.engine.derivation import Derivation
from derive.errors import DeriveError
from derive.rules import regularizers
from derive.rules import symbols as sym
from derive.verify import reading_roles
from derive.verify.findings import Diagnosis, IndexClash, Note, Shape
from derive.verify.formula import parse
from derive.verify.read_bindings import MAX_CHECKED, SEED, _Envs, _envs
from derive.verify.reading import Reader
from derive.verify.reading_refs import (
    FormulaShapeError,
    FreeIndexError,
    IndexRangeError,
    LayerRangeError,
    ReadError,
    Reading,
    Ref,
    Target,
)
from derive.verify.syntax import Formula, FormulaError, LimitError, Limits, Node, Sum, fail, walk
from derive.verify.work import Work, WorkExhaustedError


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
    notes: dict[Note, None]
    target_text: str
    free: str | None = None  # an index letter left free (the sum is missing)
    first: Target | None = None  # the first target as named (a whole matrix or one element)
    layer_letter: str | None = None  # the layer letter the parameter leaves free (l), taking every value
    clash: Diagnosis | None = None  # why some elements could not be read (an index or shape clash): compared without
    env: dict[str, int] = field(default_factory=dict)  # the letters' values of the first element read
    numbers: dict[int, list[tuple[float, float]]] = field(default_factory=dict)  # by point: (formula, correct)


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
    built are a fair sample too; the first element over the limit refuses the formula instead. Once the
    elements built hold more operations than Limits.EVALUATE lets be evaluated, the rest are not built
    (a sum over a wide layer is hundreds of sympy operations per element). With ``first``, only the
    first binding is built (a quick look before reading all of them).
    """
    work = work if work is not None else Work()
    notes: dict[Note, None] = {}
    roles = reading_roles.analyse(Reader(d, reading, parsed.text), param, parsed)
    parsed = roles.formula if roles is not None else parsed
    source = param if param is not None else parsed
    node = source.rhs if param is not None else parsed.lhs
    target_reader = Reader(d, reading, source.text, notes=notes, unlayered=roles)
    formula_reader = Reader(d, reading, parsed.text, notes=notes, work=work, unlayered=roles)
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
    clash: IndexRangeError | None = None  # the first binding where a parameter's index letter does not fit
    misfit: str | None = None  # the shapes that do not fit at the first value of the free layer where they do not
    misfit_at = 0
    summed = {n.index for n in walk(parsed.rhs) if isinstance(n, Sum)}
    first_env: dict[str, int] = {}
    built = 0  # operations in the values built so far, while every binding is one element
    for index in _build_order(envs, targets)[: 1 if first else None]:
        if built > Limits.EVALUATE and envs.letter is None:  # the later ones would not be evaluated
            stopped = True
            break
        key, (env, target) = envs.keys[index], targets[index]
        reader = replace(formula_reader, env=env, roles=target_reader.weight_roles(node, target))
        _target_shape(d, reading, target)  # derive has no gradient for the targets y: say so before anything
        if param is not None and parsed.lhs is not None:
            other = reader.target(parsed.lhs)
            if other != target:
                message = f"the left side names {other.name} but the parameter is {target.name}"
                raise fail(parsed.text, getattr(parsed.lhs, "pos", 0), message)
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
        except IndexRangeError as exc:  # j of W_{ij} where it does not fit (x_j of a wider layer): the others are read
            if exc.letter is None or exc.letter not in env or exc.letter in summed or exc.letter == envs.letter:
                raise
            clash = clash or exc
            continue
        except FormulaShapeError as exc:
            if envs.letter is None:
                shape = str(exc)
                break
            if misfit is None:  # this value of l: the others are read
                misfit, misfit_at = str(exc), env[envs.letter]
            continue
        except WorkExhaustedError:
            if not elements:
                raise
            stopped = True
            break
        if _uses_penalty(d, target, given):
            target = replace(target, objective=True)
        pairs = _pair(d, reading, target, given)
        if pairs is None:
            correct = _target_shape(d, reading, target)
            shape = f"the formula is {_shape_of(given)} but {target.name} is {_shape_of(correct)}"
            if envs.letter is None:
                break
            if misfit is None:  # this value of l: the others are read
                misfit, misfit_at = shape, env[envs.letter]
            shape = None
            continue
        total += len(pairs)
        elements += [((key, n), el) for n, el in enumerate(pairs)]
        built = built + work.size(given) if len(pairs) == 1 and built >= 0 else -1
        used.append((key, target))
        first_env = first_env or dict(env)
    if not used and shape is None and misfit is not None:
        shape = misfit
    elif not used and shape is None:
        if clash is not None:
            raise clash
        if roles is not None:
            raise ReadError(f"formula: {parsed.text!r}, {reading_roles.UNFIT}")
        raise FormulaError(f"formula: {parsed.text!r} names nothing in this network for any layer")
    letter, notes = (envs.letter, notes) if roles is None else roles.said([t.ref for _, t in used], notes)
    why: Diagnosis | None = _clash(envs, clash) if clash is not None else None
    if why is None and misfit is not None:
        why = Shape(f"for {letter or envs.letter} = {misfit_at}, {misfit.removeprefix('formula: ')}")
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
        return _Shape(
            reading,
            [el for _, el in elements],
            total,
            notes,
            name,
            first=head,
            layer_letter=letter,
            env=first_env or (envs.envs[0] if envs.keys else {}),
            message=message,
        )
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
    return _Attempt(reading, [el for _, el in checked], total, notes, name, free, head, letter, why, first_env)


def _clash(envs: _Envs, exc: IndexRangeError) -> IndexClash:
    """What a parameter's index letter that does not fit is: its range, and the name that has fewer."""
    letter = exc.letter or ""
    runs = max(ranges.get(letter, 0) for _, ranges in envs.blocks)
    return IndexClash(letter, exc.name, exc.size, runs)


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


def _uses_penalty(d: Derivation, target: Target, given) -> bool:
    """Whether a gradient or update formula is for J = (1/m) Σ C + R: it uses λ, with a penalty declared."""
    if d.network.regularization is None or target.what == "delta" or target.ref.kind not in ("W", "b"):
        return False
    return bool(given.has(regularizers.LAMBDA))


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
                index = (r + c + 1,)  # a column's row or a row's column (layout = "row")
            element = Target(target.what, Ref(ref.kind, ref.layer, index), target.objective)
            out.append(_Element(element, given[r, c], d, reading))
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
    return (1, d.size(ref.layer)) if reading.notation.layout == "row" else (d.size(ref.layer), 1)


def _shape_of(value) -> str:
    if isinstance(value, tuple):
        return f"{value[0]}×{value[1]}"
    return f"{value.rows}×{value.cols}" if isinstance(value, Matrix) else "a number"


def _correct_value(reader: Reader, target: Target):
    """The derived value of the target (δ in the reading's sign)."""
    grad = reader.gradient(target.ref)
    if target.objective and target.ref.kind in ("W", "b") and target.ref.index is not None:
        grad = grad + reader.d.penalty_gradient(sym.parameter_name(target.ref.layer, *target.ref.index))
    if target.what == "delta":
        return grad * reader.reading.sign
    if target.what == "update":
        return -sym.LEARNING_RATE * grad
    return grad
