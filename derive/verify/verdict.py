"""Verifying a hand-written formula: right or wrong, with a counterexample and the reason.

The formula is read by :mod:`derive.verify.formula` and :mod:`derive.verify.reading`, then
compared with the derived result element by element: numerically at seeded
random points (every z and a from the forward pass, so the forward equations
hold), and, for small networks, symbolically after substituting δ and the
forward equations. A wrong formula is compared with the values that the common
mistakes registered in :mod:`derive.verify.mistakes` would give, and read again under the other
conventions (δ's sign, the weights' index order, article 001's layer numbering).

Every stage is bounded by :class:`derive.verify.syntax.Limits`, so any formula is answered
or refused (a LimitError naming the limit) within about a second, on any network
derive verify takes; a formula undefined for every input (1/0, log 0) is refused by
an UndefinedError naming the operation, one undefined only at a sample point gets a
verdict that says so.

This module is the front door (:func:`verify`, :class:`Verdict`, the counterexample and the
correct form shown); the stages are its own modules, each importing only the ones before it:
:mod:`derive.verify.read` (the elements and the formula's values), :mod:`derive.verify.points`
(the sample points in float64), :mod:`derive.verify.exact` (the symbolic proof) and
:mod:`derive.verify.diagnose` (mistakes and other conventions). What a verdict says is records
(:mod:`derive.verify.findings`, :mod:`derive.verify.mistakes`) put into words by the templates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np
from sympy import Expr, Symbol

from derive import progress
from derive.engine.derivation import EXPAND_PARAMETERS, Derivation, derive
from derive.model.network import Network
from derive.present import notebook
from derive.present.notebook import short
from derive.rules import regularizers
from derive.rules import symbols as sym
from derive.verify import batch, batch_names, definition, identity, loss, penalty, running
from derive.verify import formula_forms as forms
from derive.verify.backward import Point
from derive.verify.correct_form import closed_form_fits, correct_latex, general_latex
from derive.verify.diagnose import _alternative_readings, _edited, _mistakes, _reading_of, _unreadable
from derive.verify.exact import SYMBOLIC_OPS as SYMBOLIC_OPS
from derive.verify.exact import _symbolically_equal
from derive.verify.findings import Accumulated, ChainLink, Diagnosis, Judged, Note, Shape, Undefined
from derive.verify.formula import parse
from derive.verify.mistakes import MissingSum
from derive.verify.points import ATOL as ATOL
from derive.verify.points import RTOL, _first_mismatch, _points
from derive.verify.points import close as close
from derive.verify.read import MAX_CHECKED as MAX_CHECKED
from derive.verify.read import SEED, _Attempt, _parse_param, _read, _Shape
from derive.verify.reading_refs import ReadError, Reading
from derive.verify.syntax import Formula, FormulaError, LimitError, Limits
from derive.verify.verdict_text import render
from derive.verify.work import Work

POINTS = 4


@dataclass(frozen=True)
class Counterexample:
    """Values at which the formula and the derivation differ."""

    element: str
    inputs: dict[str, float]
    targets: dict[str, float]
    parameters: dict[str, float]
    given: float
    correct: float
    named: frozenset[str] = frozenset()  # the names among these that the formula (or the derivative) uses

    @property
    def defined(self) -> bool:
        """False when the formula is undefined there (a division by zero, the logarithm of 0 or less) or overflows."""
        return math.isfinite(self.given)


@dataclass(frozen=True)
class Verdict:
    """Whether a hand-written formula is right, and why not.

    ``diagnoses`` are records with a ``code`` and named fields: the mistakes of
    :mod:`derive.verify.mistakes` (``sign``, ``factor_two``, ``missing_derivative``, …) and those of
    :mod:`derive.verify.findings` (``convention``, ``shape``, ``undefined``: no value at a sample point);
    ``codes`` are their codes. ``notes`` (records too) say how names were read.
    """

    right: bool
    param: str
    formula: str
    target: str
    correct: str
    notes: tuple[Note, ...]
    method: str  # "exact", "numeric" or "" (wrong)
    points: int
    elements: int
    total_elements: int
    tolerance: float
    counterexample: Counterexample | None = None
    diagnoses: tuple[Diagnosis, ...] = ()
    relation: str = "="  # as written between param and formula: =, := or ←
    variable: str = ""  # an identity about an activation (σ'(z) = …): its variable, compared over the real line
    batch: str = ""  # the batch cost J = (1/m) Σ_s C^{(s)} or its gradient: "mean", "penalty" (+ R); seeded batches
    network: Network | None = field(default=None, repr=False, compare=False)

    def __bool__(self) -> bool:
        return self.right

    def __repr__(self) -> str:
        why = f"; {', '.join(self.codes)}" if self.codes else ""
        return short(f"<Verdict {'right' if self.right else 'wrong'}: {self.param} = {self.formula}{why}>")

    def _repr_markdown_(self) -> str:
        """The verdict in a notebook: right or wrong, the correct form as math, then the whole answer."""
        return f"**{'right' if self.right else 'wrong'}**\n\n$${self.correct}$$\n\n```text\n{self.text()}```\n"

    def _repr_html_(self) -> str:
        return notebook.verdict_html(self.right, self.correct, self.text())

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(dx.code for dx in self.diagnoses)

    def text(self, lang: str = "en") -> str:
        """The verdict for a person, from ``templates/verdict/<lang>.j2``."""
        return render(self, lang)


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
    """One formula, or a chain A = B = C as its links A = B and A = C: right when every link is, else the first
    wrong link's verdict, which names the link (B = C when A = B held)."""
    parsed = parse(formula)
    if running.applies(parsed, d.network):  # Goodfellow's g: each written as the gradient it holds there
        stated, said = running.read(parsed, d.network)
        verdict = _chain(d, param, stated, points, seed)
        shown = {}  # the line as written, g ← … included (the notes say what each g holds)
        if param is None and parsed.lhs is not None:
            rest = parsed.text[parsed.spans[1][0] :].strip()
            shown = {"param": parsed.side(0), "relation": forms.SHOWN[parsed.relation], "formula": rest}
        return replace(verdict, notes=tuple(dict.fromkeys((*said, *verdict.notes))), **shown)
    return _chain(d, param, parsed, points, seed)


def _chain(d: Derivation, param: str | None, parsed: Formula, points: int, seed: int) -> Verdict:
    links = parsed.links()
    if len(links) == 1:
        return _statement(d, param, parsed, points, seed)
    verdicts: list[Verdict] = []
    for k, link in enumerate(links):
        verdict = _statement(d, param, link, points, seed)
        if not verdict:
            wrong = ChainLink(k + 1, len(links), parsed.side(k), parsed.side(k + 1))
            return replace(verdict, diagnoses=(wrong, *verdict.diagnoses))
        verdicts.append(verdict)
    method = "exact" if all(v.method == "exact" for v in verdicts) else "numeric"
    rest = parsed.text[parsed.spans[1][0] :].strip()
    return replace(
        verdicts[0], formula=rest, method=method, notes=tuple(dict.fromkeys(n for v in verdicts for n in v.notes))
    )


# The statements that are not one gradient, each judged by its own module (recognize, judge), tried in this order.
STATEMENTS = (
    ("an identity", identity),
    ("the batch cost", batch),
    ("the cost", penalty),
    ("a batch statement", batch_names),
    ("a definition", definition),
    ("a loss", loss),
)


def _statement(d: Derivation, param: str | None, parsed: Formula, points: int, seed: int) -> Verdict:
    """One link, an update or an accumulator read as the equality it states (the verdict says how)."""
    for kind, judge in STATEMENTS:
        if judge.recognize(parsed, d.network) and (param is None or judge is not definition):  # x_1 = … names x_1
            if param is not None:
                raise FormulaError(f"parameter: {kind} is about no parameter of the network; leave the parameter out")
            return _judged(d, parsed, judge.judge(parsed, d.network, seed))
    verdict = _verify_link(d, param, forms.statement(parsed), points, seed)
    if forms.accumulates(parsed):
        return replace(verdict, notes=(Accumulated(parsed.side(0)), *verdict.notes))
    return verdict


def _verify_link(d: Derivation, param: str | None, parsed: Formula, points: int, seed: int) -> Verdict:
    param_formula = _parse_param(param) if param is not None else None
    if param_formula is None and parsed.lhs is None:
        raise FormulaError("formula: name what it is for: give the parameter, or a left side such as ∂C/∂w = …")
    with progress.phase("points"):
        pts = _points(d, np.random.default_rng(seed), points)
    primary = Reading(d.network.notation)
    others = Work(Limits.READINGS)  # shared by every reading under another convention
    try:
        with progress.phase("reading"):
            attempt = _read(d, primary, param_formula, parsed)
    except ReadError:  # unreadable in the notation: right under another convention, or the user's error
        with progress.phase("conventions"):
            found = _alternative_readings(d, param_formula, parsed, pts, primary, others, last=False)
        if not found:  # a mistake whose edit makes it readable and right (indices swapped), else not understood
            edited = _unreadable(d, param_formula, parsed, pts, primary, others)
            if edited is None:
                raise
            found, attempt = edited
            common = {**_common(d, attempt, param, parsed, points), "notes": ()}  # the edit's readings are not its
            return Verdict(False, method="", diagnoses=tuple(found), **common)
        attempt = _read(d, _reading_of(found, primary), param_formula, parsed)
        return Verdict(False, method="", diagnoses=tuple(found), **_common(d, attempt, param, parsed, points))
    common = _common(d, attempt, param, parsed, points)
    if isinstance(attempt, _Shape):
        with progress.phase("conventions"):
            diagnoses = _alternative_readings(d, param_formula, parsed, pts, primary, others)
        with progress.phase("mistakes"):  # right under no other convention: a mistake that an edit undoes
            edited = [] if diagnoses else _edited(d, param_formula, parsed, attempt, pts, others)
        return Verdict(False, method="", diagnoses=(Shape(attempt.message), *edited, *diagnoses), **common)
    with progress.phase("comparing"):
        mismatch = _first_mismatch(d, attempt, pts)
    if mismatch is None and attempt.free is None and attempt.clash is None:
        with progress.phase("exact"):
            method = "exact" if _symbolically_equal(d, attempt) else "numeric"
        return Verdict(True, method=method, **common)
    diagnoses: list[Diagnosis] = [attempt.clash] if attempt.clash is not None else []
    if mismatch is not None and not math.isfinite(mismatch[2]):  # undefined at a point, as 1/(a − σ(z)) is
        diagnoses.append(Undefined(f"{mismatch[2]:g}"))
    if attempt.free is not None:
        diagnoses.append(MissingSum(letter=attempt.free))
    with progress.phase("mistakes"):
        diagnoses += _mistakes(d, attempt, pts)
    with progress.phase("conventions"):
        diagnoses += _alternative_readings(d, param_formula, parsed, pts, primary, others)
    counter = _counterexample(d, attempt, pts, mismatch) if mismatch is not None else None
    return Verdict(False, method="", counterexample=counter, diagnoses=tuple(dict.fromkeys(diagnoses)), **common)


def _judged(d: Derivation, parsed: Formula, judged: Judged) -> Verdict:
    """The verdict on a statement that is not one gradient: an identity (σ'(z) = …) or the batch cost."""
    counter = None
    if judged.counter is not None:
        element, values, given, correct = judged.counter
        counter = Counterexample(element, values, {}, {}, given, correct, frozenset(values))
    return Verdict(
        judged.right,
        param=parsed.side(0),
        formula=parsed.side(1),
        relation=forms.SHOWN[parsed.relation],
        target=judged.target,
        correct=judged.correct,
        notes=judged.notes,
        method="numeric" if judged.right else "",
        points=judged.points,
        elements=1,
        total_elements=1,
        tolerance=RTOL,
        counterexample=counter,
        diagnoses=judged.diagnoses,
        variable=judged.variable,
        batch=judged.batch,
        network=d.network,
    )


def _common(d: Derivation, attempt: _Attempt, param: str | None, parsed: Formula, points: int) -> dict:
    return dict(
        param=param if param is not None else parsed.side(0),
        formula=parsed.text.strip() if parsed.lhs is None else parsed.side(1),
        relation=forms.SHOWN[parsed.relation] if parsed.lhs is not None and param is None else "=",
        target=attempt.target_text,
        correct=general_latex(d, attempt) or (correct_latex(d, attempt.first) if attempt.first is not None else ""),
        notes=tuple(attempt.notes),
        points=points,
        elements=len(attempt.elements),
        total_elements=attempt.total,
        tolerance=RTOL,
        network=d.network,
    )


def _counterexample(d: Derivation, attempt: _Attempt, pts: list[Point], mismatch) -> Counterexample:
    p, e, given, correct = mismatch
    values = pts[p].values
    el = attempt.elements[e]
    small = d.network.parameter_count() <= EXPAND_PARAMETERS
    used = _symbols(el.given)
    if small or closed_form_fits(d, el.target.ref.layer):  # the weights the derivative depends on, too
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
    for symbol in (regularizers.LAMBDA, regularizers.BATCH):  # the L2 penalty's λ and batch size
        if symbol in used:
            parameters[symbol.name] = values[symbol]
    named = frozenset(s.name for s in used if isinstance(s, Symbol))
    return Counterexample(el.target.name, inputs, targets, parameters, given, correct, named)


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
