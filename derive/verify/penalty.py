"""Goodfellow's regularised cost of one example as a statement: J = L(ŷ, y) + λ Ω(θ), with the spec's penalty.

Goodfellow writes the objective as the loss plus λ times a regulariser Ω; for weight decay Ω(θ) = ½‖w‖², usually
without the biases. derive's penalty is R = scale(λ, m) Σ θ² (:mod:`derive.rules.regularizers`), so Ω(θ) is read as
R/λ: ½ Σ w² under the form "half" (Goodfellow's own), Σ w² under "plain", Σ w²/(2m) under "half_over_m", with the
biases in it only when the spec's ``biases`` says so (:mod:`derive.verify.omega`, which the formula reader uses for
λ ∇_{W^{(k)}} Ω(θ)); the statement is compared, at seeded values of one example's loss, λ and the squared norms, with
the objective of that example, L + R.
"""

from __future__ import annotations

import math

import numpy as np
import sympy
from sympy import Expr

from derive.model.network import Network
from derive.rules import floats, regularizers
from derive.verify.batch import SIZES, PenaltyScale, PenaltyWithout
from derive.verify.findings import Diagnosis, Judged
from derive.verify.omega import is_omega, note
from derive.verify.points import close
from derive.verify.scalars import Arithmetic
from derive.verify.syntax import Call, Formula, Name, Node, Paren, Pow, UndefinedError, fail, walk

COSTS = ("C", "J", "E", "L")
HALF = sympy.Rational(1, 2)  # Goodfellow's weight decay: Ω(θ) = ½ ‖w‖², when the spec declares no penalty


# ---------------------------------------------------------------- J = L(ŷ, y) + λ Ω(θ)
def recognize(formula: Formula, net: Network) -> bool:
    """Whether a formula states one example's objective: a cost letter = … with the loss L(ŷ, y) or Ω on the right."""
    lhs = formula.lhs
    if formula.relation != "=" or not (isinstance(lhs, Name) and lhs.base in (*COSTS, net.notation.cost)):
        return False
    if lhs.sub or lhs.sup or lhs.primes or lhs.digits:
        return False
    return any(is_omega(n) or _is_loss(n) for n in walk(formula.rhs))


def judge(formula: Formula, net: Network, seed: int) -> Judged:
    """Right when the right side is the example's loss plus the spec's penalty at every seeded draw."""
    reg = net.regularization
    rng = np.random.default_rng(seed)
    builder = _Builder(formula, net)
    rows = []
    for m in SIZES:
        loss, lam, squares = (float(v) for v in (rng.uniform(0.1, 2.0), rng.uniform(0.1, 1.0), rng.uniform(0.5, 3.0)))
        builder.bind(m, loss, lam, squares)
        given = _value(builder.build(formula.rhs))
        builder.bind(m, loss, lam, 0.0)
        without = _value(builder.build(formula.rhs))  # the formula with no squares: its terms without the penalty
        scale = regularizers.value(reg.rule.scale(regularizers.LAMBDA, regularizers.BATCH), lam, m) if reg else 0.0
        numbers = {"m": float(m), "L": loss, "λ": lam, "Σθ²": squares}
        rows.append((numbers, given, loss + scale * squares, without, loss))
    if not any(math.isfinite(given) for _, given, *_ in rows):
        raise fail(
            formula.text, formula.spans[1][0], "the right side has no value for any example tried", UndefinedError
        )
    counter = next(((formula.side(0), n, g, c) for n, g, c, *_ in rows if not close(g, c)), None)
    diagnoses: list[Diagnosis] = []
    if counter is not None and reg is None and builder.penalty:
        diagnoses.append(PenaltyWithout(False))
    elif counter is not None and reg is not None and all(close(without, loss) for *_, without, loss in rows):
        shown = sympy.sstr(reg.rule.scale(regularizers.LAMBDA, regularizers.BATCH)).replace("lambda", "λ")
        diagnoses.append(PenaltyScale("scale", reg.form, shown.replace("*", ""), not builder.penalty))
    notes = (note(net),) if reg is not None and builder.omega else ()
    correct = _correct(formula, net)
    batch = "example_penalty" if reg is not None else "example"
    return Judged(counter is None, "cost", correct, len(rows), counter, notes, tuple(diagnoses), batch=batch)


def _correct(formula: Formula, net: Network) -> str:
    """J = L(ŷ, y) + λ Ω(θ) (Ω as the spec's form makes it, which the verdict's note says), or J = L(ŷ, y)."""
    left = formula.side(0)
    reg = net.regularization
    if reg is None:
        return rf"{left} = L(\hat{{y}}, y)"
    return rf"{left} = L(\hat{{y}}, y) + \lambda \Omega(\theta)"  # with Ω as the note says the form makes it


def _is_loss(node: Node) -> bool:
    """L(ŷ, y): the loss of the output and the target, written with its two arguments."""
    return isinstance(node, Call) and node.func.base in COSTS and len(node.args) == 2 and not node.func.primes


def _value(expr: Expr) -> float:
    try:
        return floats.evaluate(expr, {})
    except (ValueError, ZeroDivisionError, OverflowError, TypeError):  # TypeError: sympy's zoo
        return float("nan")


class _Builder(Arithmetic):
    """The right side at one draw: the example's loss, λ, Ω(θ) (R/λ, or Goodfellow's ½ Σ θ² without a penalty),
    the batch size m and numbers."""

    def __init__(self, formula: Formula, net: Network) -> None:
        self.formula, self.net = formula, net
        self.penalty = False  # λ or Ω was met
        self.omega = False

    def bind(self, m: int, loss: float, lam: float, squares: float) -> None:
        self.m, self.loss, self.lam, self.squares = m, loss, lam, squares

    def other(self, node: Node) -> Expr:
        if isinstance(node, Pow):
            exp = self.build(node.exp)
            if not exp.is_Integer or abs(int(exp)) > 4:
                raise self.error(node, "a power in this statement is a whole number up to 4")
            return self.build(node.base) ** int(exp)
        if is_omega(node):
            self.penalty = self.omega = True
            reg = self.net.regularization
            factor = reg.rule.scale(regularizers.LAMBDA, regularizers.BATCH) / regularizers.LAMBDA if reg else HALF
            return sympy.Float(regularizers.value(factor, self.lam, self.m) * self.squares)
        if _is_loss(node):
            self._arguments(node)  # type: ignore[arg-type]
            return sympy.Float(self.loss)
        if isinstance(node, Name) and not (node.sub or node.sup or node.digits or node.primes):
            if node.base == "lambda":
                self.penalty = True
                return sympy.Float(self.lam)
            if node.base == "m":
                return sympy.Integer(self.m)
        raise self.error(node, "J = L(\\hat{y}, y) + \\lambda \\Omega(\\theta) is read in the loss, λ, Ω(θ) and m")

    def _arguments(self, node: Call) -> None:
        output, target = (a.body if isinstance(a, Paren) else a for a in node.args)
        n = self.net.notation
        out = isinstance(output, Name) and (
            output.hat and output.base == "y" or output.base == {"y": "y", "o": "o"}.get(n.output, n.activation)
        )
        if not out or not (isinstance(target, Name) and target.base == n.target and not target.hat):
            raise self.error(node, f"the loss is of the output and the target, L(\\hat{{y}}, {n.target})")
