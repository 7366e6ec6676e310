"""Batch statements written with an algorithm's names: Ng's D^{(l)} and Δ^{(l)}, Nielsen's C_0, his mini-batch
update w^l → w^l − (η/m) Σ_x δ^{x,l}(a^{x,l−1})^T and his weight decay w → (1 − ηλ/n) w − η ∂C_0/∂w.

Each is rewritten into a statement of :mod:`derive.verify.batch`, ∂J/∂θ = (1/m) Σ_s ∂C^{(s)}/∂θ (+ the spec's
penalty), and judged there at seeded batches; the verdict notes every name so read. D^{(l)} on the left is Ng's name
for ∂J/∂Θ^{(l)}; on the right it is what his algorithm computes, (1/m)Δ^{(l)} plus the spec's penalty's gradient;
Δ^{(l)} is the sum over the batch of each sample's ∂C/∂Θ^{(l)}; C_0 is the cost without the penalty; an update
θ → R (←, :=) states the gradient (θ − R)/η, with ∂C/∂θ in R the cost's own (the penalty written beside it, as the
gradient reader has it). An update θ ← θ − … stays the gradient reader's unless it uses one of these names. A term
summed over the samples x (δ^{x,l}(a^{x,l−1})^T, the sample x and the layer l in one superscript) is one sample's
gradient: it is verified as one, ∂C/∂w^l = δ^l (a^{l−1})^T, at seeded points of the network, and the batch around
it with that term as the per-example gradient.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np
import sympy

from derive.engine.derivation import Derivation
from derive.model.network import Network
from derive.rules import regularizers
from derive.verify import batch
from derive.verify import formula_forms as forms
from derive.verify.batch_reading import BatchReading, summed
from derive.verify.diagnose import _mistakes
from derive.verify.findings import Diagnosis, Judged, Note, Shape
from derive.verify.mistakes import Sign
from derive.verify.points import _first_mismatch, _points, close
from derive.verify.read import _read, _Shape
from derive.verify.reading_refs import Reading
from derive.verify.syntax import (
    BinOp,
    Call,
    Formula,
    FormulaError,
    Name,
    Neg,
    Node,
    Num,
    Paren,
    PartialNode,
    Pow,
    Sum,
    Transpose,
    walk,
)

ETA = "0.37"  # the learning rate an update is divided by: any number but 1 keeps a missing or doubled η visible
POINTS = 4  # seeded points a summed term is verified at, one sample each
_FRESH = "sqrpuv"  # letters for the samples' index, one the statement does not use


@dataclass(frozen=True)
class AlgorithmName(Note):
    """A name of a batch algorithm read as derive's quantity: ``what`` is ``D`` (Ng's D^{(l)}, ∂J/∂Θ^{(l)}), ``Delta``
    (Δ^{(l)}, the per-sample gradients summed), ``C0`` (the cost without the penalty), ``update`` (θ → R read as the
    gradient (θ − R)/η) or ``sample`` (a term summed over the samples x, read as one sample's gradient)."""

    code = "algorithm_name"
    name: str
    what: str
    bias_apart: bool = False  # Θ without Ng's bias column: the network's biases are apart
    arrow: str = "→"  # an update's relation as written (→, ←, :=)


@dataclass(frozen=True)
class PenaltyForm(Diagnosis):
    """The statement is right under another form of the spec's L2 penalty (``form``): its words say which."""

    code = "penalty_form"
    form: str
    spec_form: str


@dataclass(frozen=True)
class SampleTerm(Diagnosis):
    """The term summed over the samples is not one sample's gradient: ``term`` as written, the ``element`` where it
    differs, what it ``gives`` there and the gradient (``correct``) at a seeded point."""

    code = "sample_term"
    term: str
    element: str
    gives: float = field(default=math.nan, compare=False)
    correct: float = field(default=math.nan, compare=False)


def _names(formula: Formula) -> list[Name]:
    return [n for side in (formula.lhs, formula.rhs, *formula.more) if side is not None for n in walk(side)
            if isinstance(n, Name)]  # fmt: skip


def _algorithmic(node: Name) -> str | None:
    """What a name of a batch algorithm is: D, Delta, C0, sample, or None."""
    if node.sample is not None:
        return "sample"
    if node.base in ("D", "Delta") and node.sup is not None and not (node.digits or node.primes):
        return node.base
    if node.base in batch.COSTS and node.sub is not None and len(node.sub) == 1 and node.sup is None:
        only = node.sub[0]
        return "C0" if isinstance(only, Num) and only.text == "0" else None
    return None


def recognize(formula: Formula, net: Network) -> bool:
    """Whether a statement uses a batch algorithm's names (D, Δ outside Ng's accumulator, C_0, δ^{x,l}), or is an
    update with the L2 penalty's λ in it (Nielsen's weight decay)."""
    if formula.lhs is None or formula.more:
        return False
    if isinstance(formula.lhs, Name) and formula.lhs.base == "Delta":  # Ng's accumulator: one sample's gradient
        return False
    kinds = {_algorithmic(n) for n in _names(formula)} - {None}
    if forms.accumulates(formula):
        kinds.discard("Delta")
    if kinds:
        return True
    lhs = formula.lhs
    update = formula.relation in forms.UPDATES and isinstance(lhs, Name) and lhs.base in (*batch.WEIGHTS, "b")
    if not update or forms.same(forms._first_term(formula.rhs)[0], lhs):  # θ ← θ − …: the gradient reader's
        return False
    return any(isinstance(n, Name) and n.base == "lambda" for n in walk(formula.rhs))


def judge(formula: Formula, net: Network, seed: int) -> Judged:
    """The rewritten statement judged at seeded batches, and each summed term verified as one sample's gradient."""
    rewrite = _Rewrite(formula, net)
    statement = rewrite.statement()
    judged = _batch(statement, net, seed)
    correct = rewrite.correct(net)
    said = (replace(x, cost=net.notation.cost) for x in judged.notes if isinstance(x, BatchReading))  # batch = sum
    notes = tuple(dict.fromkeys((*rewrite.notes, *said)))
    if judged.right:
        for term in rewrite.terms:
            wrong, more = _term(formula, term, net, seed)
            notes += more
            if wrong:
                return replace(judged, right=False, correct=correct, notes=notes, diagnoses=wrong)
        return replace(judged, correct=correct, notes=notes)
    diagnoses = judged.diagnoses
    if judged.counter is not None and _negated(statement, net, seed):
        diagnoses = (Sign(), *diagnoses)
    reg = net.regularization
    if reg is not None:
        for form in regularizers.REGULARIZERS:
            other = replace(net, regularization=replace(reg, form=form))
            if form != reg.form and _batch(statement, other, seed).right:
                diagnoses += (PenaltyForm(form, reg.form),)
    return replace(judged, correct=correct, notes=notes, diagnoses=diagnoses)


def _batch(statement: Formula, net: Network, seed: int) -> Judged:
    return batch.judge(statement, net, seed)


def _negated(statement: Formula, net: Network, seed: int) -> bool:
    """Whether the statement is the negative of the objective at every batch (an update that climbs)."""
    found = batch.read(statement, net, seed)
    return all(close(given, -correct) for _, given, correct in found.values)


def _term(formula: Formula, term: tuple[Node, Node], net: Network, seed: int) -> tuple[tuple[Diagnosis, ...], tuple]:
    """(the diagnoses, the notes) of a summed term verified as one sample's gradient of what the statement is by."""
    wrt, body = term
    cost = Name(net.notation.cost, 0)
    stated = Formula(PartialNode(cost, wrt, 0), body, formula.text, ("=",), (), formula.spans[:2])
    d = Derivation(net)  # derives on demand: only what the term's layers need (the caller's d is not passed down)
    pts = _points(d, np.random.default_rng(seed), POINTS)
    attempt = _read(d, Reading(net.notation), None, stated)
    notes = tuple(attempt.notes)
    said = _text(body)
    if isinstance(attempt, _Shape):
        return (SampleTerm(said, ""), Shape(attempt.message)), notes
    mismatch = _first_mismatch(d, attempt, pts)
    if mismatch is None and attempt.free is None and attempt.clash is None:
        return (), notes
    if mismatch is None:
        return (SampleTerm(said, ""),), notes
    _, e, given, correct = mismatch
    found = SampleTerm(said, attempt.elements[e].target.name, float(given), float(correct))
    return (found, *_mistakes(d, attempt, pts)), notes


class _Rewrite:
    """A statement's nodes rewritten into :mod:`derive.verify.batch`'s terms, with the notes of what was read so."""

    def __init__(self, formula: Formula, net: Network) -> None:
        self.formula, self.net = formula, net
        used = {n.base for n in _names(formula)} | {n.index for n in walk(formula.rhs) if isinstance(n, Sum)}
        self.s = next((c for c in _FRESH if c not in used), "s")
        weights = [n.base for n in _names(formula) if n.base in batch.WEIGHTS]
        self.weight = weights[0] if weights else "Theta" if net.notation.weight == "theta" else "W"
        self.notes: list[Note] = []
        self.terms: list[tuple[Node, Node]] = []  # (what it is by, the term summed over the samples)
        self.wrt: Node | None = None
        self.scripted: Name | None = None  # the D or Δ whose scripts the correct form repeats
        self.update = False  # θ → R: a step of gradient descent

    def statement(self) -> Formula:
        f, lhs = self.formula, self.formula.lhs
        assert lhs is not None
        if isinstance(lhs, Name) and lhs.base == "D" and lhs.sup is not None:
            self.wrt = self.weighted(lhs)
            self.note(lhs, "D")
            left: Node = PartialNode(Name("J", lhs.pos), self.wrt, lhs.pos)
        elif isinstance(lhs, PartialNode):
            self.wrt = lhs.wrt
            of = lhs.of.func if isinstance(lhs.of, Call) else lhs.of  # J(Θ): the cost J
            of = Name(of.base, of.pos) if isinstance(of, Name) and not _algorithmic(of) else Name("J", lhs.pos)
            left = PartialNode(of, lhs.wrt, lhs.pos)
        elif f.relation in forms.UPDATES and isinstance(lhs, Name) and lhs.base in (*batch.WEIGHTS, "b"):
            self.wrt, self.update = lhs, True
            self.notes.append(AlgorithmName(f.side(0), "update", arrow=forms.SHOWN[f.relation]))
            step = BinOp("-", lhs, Paren(self.rhs(f.rhs), lhs.pos), lhs.pos)
            right = BinOp("/", Paren(step, lhs.pos), Num(ETA, lhs.pos), lhs.pos)
            return Formula(PartialNode(Name("J", lhs.pos), lhs, lhs.pos), right, f.text, ("=",), (), f.spans)
        else:
            left = lhs
        return Formula(left, self.rhs(f.rhs), f.text, ("=",), (), f.spans)

    def weighted(self, name: Name) -> Name:
        """The weights a D or Δ is of: the statement's weight letter with the name's layer and indices."""
        self.scripted = self.scripted or name
        return Name(self.weight, name.pos, "", name.sub, name.sup)

    def note(self, name: Name, what: str) -> None:
        """Note how a name was read; the first D or Δ says that the biases are apart from Θ."""
        said = any(note.bias_apart for note in self.notes if isinstance(note, AlgorithmName))
        bias_apart = what in ("D", "Delta") and self.net.bias and not said
        self.notes.append(AlgorithmName(_text(name), what, bias_apart))

    def mean(self, wrt: Node | None, pos: int) -> Node:
        """(1/m) Σ_s of the per-example costs (wrt None) or of their gradients by wrt."""
        return BinOp("*", BinOp("/", Num("1", pos), Name("m", pos), pos), self.summed(wrt, pos), pos)

    def summed(self, wrt: Node | None, pos: int) -> Node:
        sample = Name("C", pos, sup=Paren(Name(self.s, pos), pos))
        return Sum(self.s, None, None, sample if wrt is None else PartialNode(sample, wrt, pos), pos)

    def penalty(self, wrt: Node, pos: int) -> Node | None:
        """The spec's penalty's gradient by wrt, coefficient(λ, m) · wrt, as nodes; None without a penalty."""
        reg = self.net.regularization
        if reg is None or not batch._penalized(self.net, wrt):
            return None
        coefficient = reg.rule.coefficient(regularizers.LAMBDA, regularizers.BATCH)
        return BinOp("*", _nodes(coefficient, pos), wrt, pos)

    def rhs(self, node: Node) -> Node:
        """The right side with the algorithm's names replaced by what they are."""
        if isinstance(node, Name):
            if node.base == "eta" and self.update and not (node.sub or node.sup or node.digits):
                return Num(ETA, node.pos)
            what = _algorithmic(node)
            if what == "Delta":
                self.note(node, "Delta")
                return self.summed(self.weighted(node), node.pos)
            if what == "D":
                self.note(node, "D")
                wrt = self.weighted(node)
                mean, penalty = self.mean(wrt, node.pos), self.penalty(wrt, node.pos)
                return Paren(mean if penalty is None else BinOp("+", mean, penalty, node.pos), node.pos)
            if what == "C0":
                self.note(node, "C0")
                return Paren(self.mean(None, node.pos), node.pos)
            if what == "sample":
                raise FormulaError(
                    f"formula: {_text(node)}: a sample's quantity is read only in a sum over the samples"
                )
            return node
        if isinstance(node, PartialNode) and isinstance(node.of, Name):
            if _algorithmic(node.of) == "C0":
                self.note(node.of, "C0")
                return Paren(self.mean(node.wrt, node.pos), node.pos)
            if node.of.base in batch.COSTS and not (node.of.sub or node.of.sup) and self.update:
                return Paren(self.mean(node.wrt, node.pos), node.pos)  # the cost's gradient, as the reader has it
            return node
        if isinstance(node, Sum):
            marked = sorted((n for n in walk(node.body) if isinstance(n, Name) and n.sample is not None), key=_pos)
            if marked and all(isinstance(n.sample, Name) and n.sample.base == node.index for n in marked):
                if self.wrt is None:
                    raise FormulaError("formula: a sum over the samples x is read in an update or a gradient")
                self.terms.append((self.wrt, _unmarked(node.body)))
                self.notes.append(AlgorithmName(_text(marked[0]), "sample"))
                return self.summed(self.wrt, node.pos)
            if node.index == getattr(_squared(node.body), "base", None):  # Nielsen's Σ_w w²: every weight
                return Pow(Call(Name("norm", node.pos), (Name("W", node.pos),), node.pos), Num("2", node.pos), node.pos)
            return Sum(node.index, node.lower, node.upper, self.rhs(node.body), node.pos)
        if isinstance(node, BinOp):
            return BinOp(node.op, self.rhs(node.left), self.rhs(node.right), node.pos)
        if isinstance(node, Paren):
            return Paren(self.rhs(node.body), node.pos)
        if isinstance(node, Pow):
            return Pow(self.rhs(node.base), node.exp, node.pos)
        if isinstance(node, Neg):
            return Neg(self.rhs(node.body), node.pos)
        return node

    def correct(self, net: Network) -> str:
        """The objective's gradient in the statement's own names: D = (1/m) Δ (+ the penalty), Δ = Σ_s ∂C^{(s)}/∂θ."""
        if self.wrt is None:
            return batch._correct(net, self.formula, None)
        theta = _text(self.wrt)
        left = self.formula.side(0)
        reg = net.regularization
        penalty = ""
        mean, k = ("", regularizers.BATCH) if summed(net.notation) else (r"\frac{1}{m} ", 1)  # batch = "sum": m J
        if reg is not None and batch._penalized(net, self.wrt):
            penalty = f" + {sympy.latex(k * reg.rule.coefficient(regularizers.LAMBDA, regularizers.BATCH))} {theta}"
        grad = rf"{mean}\sum_{{s=1}}^{{m}} \frac{{\partial C^{{(s)}}}}{{\partial {theta}}}{penalty}"
        if self.scripted is not None:
            delta = _text(replace(self.scripted, base="Delta"))
            grad = rf"{mean}{delta}{penalty}, \quad {delta} = \sum_{{s=1}}^{{m}} \frac{{\partial C^{{(s)}}}}"
            grad += rf"{{\partial {theta}}}"
        if self.update:
            return rf"{left} {forms.SHOWN[self.formula.relation]} {theta} - \eta \left({grad}\right)"
        return f"{left} = {grad}"


def _pos(node: Name) -> int:
    return node.pos


def _squared(node: Node) -> Name | None:
    """w of w² (written w^2, a name with a power as its superscript)."""
    if isinstance(node, Pow) and isinstance(node.exp, Num) and node.exp.text == "2" and isinstance(node.base, Name):
        return node.base
    if isinstance(node, Name) and isinstance(node.sup, Num) and node.sup.text == "2" and not node.sub:
        return node
    return None


def _unmarked(node: Node) -> Node:
    """The term with each sample's quantity written for one sample: δ^{x,l} as δ^l."""
    if isinstance(node, Name):
        return replace(node, sample=None)
    changes = {}
    for key, value in vars(node).items():
        if isinstance(value, Node):
            changes[key] = _unmarked(value)
        elif isinstance(value, tuple):
            changes[key] = tuple(_unmarked(v) if isinstance(v, Node) else v for v in value)
    return replace(node, **changes)  # type: ignore[type-var]


def _nodes(expr: sympy.Expr, pos: int) -> Node:
    """A penalty's coefficient (λ, 2λ, λ/m) as syntax nodes, for the batch statement's arithmetic."""
    if expr == regularizers.LAMBDA:
        return Name("lambda", pos)
    if expr == regularizers.BATCH:
        return Name("m", pos)
    if expr.is_Integer:
        return Num(str(expr), pos)
    if expr.is_Pow and expr.exp == -1:
        return BinOp("/", Num("1", pos), _nodes(expr.base, pos), pos)
    if expr.is_Mul:
        factors = [_nodes(arg, pos) for arg in expr.args]
        out = factors[0]
        for factor in factors[1:]:
            out = BinOp("*", out, factor, pos)
        return Paren(out, pos)
    raise FormulaError(f"formula: the penalty's coefficient {expr} is not written by derive")  # pragma: no cover


_GREEK = {"Delta", "Theta", "theta", "delta", "lambda", "eta"}


def _text(node: Node) -> str:
    """A small node as LaTeX: a name with its scripts, a number, a sum or product of them."""
    if isinstance(node, Num):
        return node.text
    if isinstance(node, Paren):
        return f"({_text(node.body)})"
    if isinstance(node, Transpose):
        return f"{_text(node.body)}^T"
    if isinstance(node, BinOp):
        op = {"*": " ", "odot": r" \odot "}.get(node.op, f" {node.op} ")
        return f"{_text(node.left)}{op}{_text(node.right)}"
    if isinstance(node, Name):
        text = ("\\" + node.base if node.base in _GREEK else node.base) + node.digits
        if node.sup is not None or node.sample is not None:
            sup = _text(node.sup) if node.sup is not None else ""
            text += "^{" + (f"{_text(node.sample)}," if node.sample is not None else "") + sup + "}"
        if node.sub:
            text += "_{" + ",".join(_text(p).replace(" ", "") for p in node.sub) + "}"
        return text + "'" * node.primes
    return type(node).__name__
