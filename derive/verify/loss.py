"""The per-example loss written out as a statement: C = ½ Σ_j (y_j − a^{(L)}_j)², E = ½ Σ_k (y_k − t_k)², ….

Not a gradient and not the batch cost: the left side is the cost's letter alone, or with one sample's index (C_x, E_n,
L_i), and the right side has no sum over the samples (:mod:`derive.verify.batch` reads those first). The right side is
read by the formula reader in the notation's letters (the outputs, the targets, the output layer's z) and compared
with the spec's loss (:mod:`derive.rules.losses`) at the seeded points of a definition, exactly where it is cheap. A
wrong one is compared with the spec's loss taken twice or half, its negative, and the registry's other losses.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy
from sympy import Expr, Matrix

from derive.engine.algebra import is_zero
from derive.engine.derivation import EXPAND_PARAMETERS, Derivation, derive
from derive.errors import DeriveError
from derive.model.network import Network
from derive.present.latex import latex
from derive.rules import losses
from derive.rules import symbols as sym
from derive.verify.definition_mistakes import points, value
from derive.verify.exact import SYMBOLIC_OPS
from derive.verify.findings import Diagnosis, Judged, Note
from derive.verify.points import close
from derive.verify.reading import Reader
from derive.verify.reading_letters import COST_LETTERS
from derive.verify.reading_refs import Reading
from derive.verify.syntax import Formula, Name, fail

SAMPLE_INDICES = ("x", "n", "i", "s")  # the index of one example on the cost's letter: C_x, E_n, L_i, C_s


@dataclass(frozen=True)
class LossDefinition(Note):
    """The statement was read as the per-example loss written out, compared with the spec's ``loss`` (its registry
    name) at seeded points, ``method`` "exact" when equal symbolically too."""

    code = "loss_definition"
    loss: str
    method: str = "numeric"
    elements: int = 1


@dataclass(frozen=True)
class LossScale(Diagnosis):
    """The spec's loss taken ``which`` "double" or "half" (the ½ of the squared error kept or dropped)."""

    code = "loss_scale"
    which: str
    loss: str


@dataclass(frozen=True)
class LossSign(Diagnosis):
    """The negative of the spec's loss (the minus of a cross-entropy left out)."""

    code = "loss_sign"
    loss: str


@dataclass(frozen=True)
class OtherLoss(Diagnosis):
    """Another loss of derive's registry, ``written``, where the spec declares ``loss``."""

    code = "other_loss"
    written: str
    loss: str


def recognize(formula: Formula, net: Network) -> bool:
    """Whether the left side is the cost's letter, alone or with one example's index."""
    lhs = formula.lhs
    if lhs is None or formula.relation not in ("=", ":=") or not isinstance(lhs, Name):
        return False
    if lhs.base not in (*COST_LETTERS, net.notation.cost) or lhs.sup or lhs.digits or lhs.primes or lhs.hat:
        return False
    sub = lhs.sub
    return not sub or len(sub) == 1 and isinstance(sub[0], Name) and sub[0].base in SAMPLE_INDICES and not sub[0].sub


def judge(formula: Formula, net: Network, seed: int) -> Judged:
    """Right when the right side equals the spec's loss at every seeded point."""
    d = derive(net)
    notes: dict[Note, None] = {}
    reader = Reader(d, Reading(net.notation), formula.text, notes=notes)
    given = reader.build(formula.rhs)
    if isinstance(given, Matrix):
        raise fail(formula.text, formula.spans[1][0], "the loss is one number: sum its terms, such as \\sum_k")
    if not given.free_symbols:  # a value at one example (a worked example's C = 0.0066): not a formula to compare
        raise fail(formula.text, formula.spans[1][0], "a number is the loss at one example; write its formula")
    for s in given.free_symbols:
        info = sym.parse_name(str(s))
        if info is None or info.kind not in ("x", "y", "W", "b", "z", "a"):
            raise fail(formula.text, formula.spans[1][0], "the loss is written in the outputs, the targets and z")
    cost = d.cost()
    pts = points(net, seed)
    counter = None
    for values in pts:
        got, want = value(given, values), value(cost, values)
        if not close(got, want):
            shown = {s.name: v for s, v in values.items() if s in given.free_symbols | cost.free_symbols}
            counter = (formula.side(0), shown, got, want)
            break
    correct = f"{formula.side(0)} = {latex(cost, net)}"
    if counter is None:
        note = LossDefinition(net.loss, "exact" if _exact(d, given, cost) else "numeric")
        return Judged(True, net.loss, correct, len(pts), None, (note, *notes))
    diagnoses = _mistakes(d, given, pts)
    return Judged(False, net.loss, correct, len(pts), counter, (LossDefinition(net.loss, ""), *notes), diagnoses)


def _exact(d: Derivation, given: Expr, cost: Expr) -> bool:
    if d.network.parameter_count() > EXPAND_PARAMETERS:
        return False
    try:
        forward = d.forward_map()
        diff = given.xreplace(forward) - cost.xreplace(forward)
        if sympy.count_ops(diff) > 4 * SYMBOLIC_OPS:
            return False
        return is_zero(diff, d) is True or is_zero(diff.rewrite(sympy.exp), d) is True
    except (TypeError, ValueError, ArithmeticError, RecursionError, NotImplementedError, DeriveError):
        return False


def _mistakes(d: Derivation, given: Expr, pts: list) -> tuple[Diagnosis, ...]:
    """The first that fits every point: the spec's loss twice or half, its negative, another loss of the registry."""
    net = d.network
    outputs, targets = d.a_vec(d.L), d.y_vec()
    candidates: list[tuple[Diagnosis, Expr]] = [
        (LossScale("double", net.loss), 2 * d.cost()),
        (LossScale("half", net.loss), d.cost() / 2),
        (LossSign(net.loss), -d.cost()),
    ]
    candidates += [(OtherLoss(name, net.loss), loss.formula(outputs, targets)) for name, loss in losses.LOSSES.items()]
    for mistake, expr in candidates:
        if isinstance(mistake, OtherLoss) and mistake.written == net.loss:
            continue
        if all(close(value(given, values), value(expr, values)) for values in pts):
            return (mistake,)
    return ()
