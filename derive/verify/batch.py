"""The batch cost and its gradient as statements: J = (1/m) Σ_s C^{(s)} (+ the L2 penalty), ∂J/∂W = (1/m) Σ_i ∂L_i/∂W.

derive's objective over a batch of m samples is the mean of the per-example costs plus the spec's penalty,
J = (1/m) Σ_s C^{(s)} + R with R = scale(λ, m) Σ θ² (:mod:`derive.rules.regularizers`), and its gradient is the mean
of the per-example gradients plus coefficient(λ, m) θ. A statement about it names the per-example cost by a cost
letter with the sample's index (``C^{(s)}``, ``C_x``, ``L_i``, ``E_n``) summed by Σ over that index, the batch size
m (or n, N), λ, and the squared norms of the weights (``\\sum_l \\lVert W^{(l)} \\rVert^2``, ``\\lVert W \\rVert^2``
for all of them). Its value is compared with the objective at seeded batches: m samples with their own costs (or
gradients), λ and the weights' squared norms by layer drawn at random, for two sizes m, so that 1/3 is not 1/m.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import sympy
from sympy import Expr

from derive.model.network import Network
from derive.rules import floats, regularizers
from derive.verify import batch_reading, code_names
from derive.verify.batch_reading import BatchSum
from derive.verify.findings import Convention, Diagnosis, Judged
from derive.verify.formula_forms import same
from derive.verify.points import close
from derive.verify.scalars import Arithmetic
from derive.verify.syntax import (
    BinOp,
    Call,
    Formula,
    Name,
    Node,
    Num,
    Paren,
    PartialNode,
    Pow,
    Sum,
    UndefinedError,
    fail,
    walk,
)

COSTS = ("C", "J", "E", "L", "l")  # the letters of a per-example cost (ℓ is read as l)
BATCH = ("m", "n", "N")  # the batch size
WEIGHTS = ("W", "w", "theta", "Theta")  # the weights' letters, whatever the notation
SIZES = (3, 5)  # the batch sizes compared at
POWER = 4


@dataclass(frozen=True)
class PenaltyWithout(Diagnosis):
    """A penalty term (λ) where the spec's penalty has no part: it declares no [regularization] (``declared`` False),
    or the gradient is by what it does not regularise (a bias, with ``biases = false``; z or a)."""

    code = "penalty_without"
    declared: bool = False
    biases: bool = False  # the spec's penalty is on the biases too


@dataclass(frozen=True)
class PenaltyScale(Diagnosis):
    """The penalty's factor differs from the spec's form: ``written`` (text) where the form gives ``form_scale``;
    ``which`` is "scale" for the cost's R, "coefficient" for the gradient's ∂R/∂θ."""

    code = "penalty_scale"
    which: str
    form: str
    form_scale: str
    missing: bool = False  # no λ term at all


@dataclass(frozen=True)
class Batch:
    """A batch statement read: the objective's value and the formula's, at each seeded batch, and what is missing."""

    gradient: bool  # ∂J/∂θ (else J)
    wrt: Node | None  # what ∂J/∂θ differentiates by
    values: tuple[tuple[dict[str, float], float, float], ...]  # (the batch's numbers, the formula, the objective)
    diagnoses: tuple[Diagnosis, ...]
    correct: str


def recognize(formula: Formula, net: Network) -> bool:
    """Whether a formula states the batch cost or its gradient: a Σ over a per-example cost (or its ∂) on the right."""
    lhs = formula.lhs
    if lhs is None or formula.relation != "=":
        return False
    lhs = _left(lhs, net)
    if not (_cost_name(lhs) or isinstance(lhs, PartialNode) and _cost_name(lhs.of)):
        return False
    return any(isinstance(n, Sum) and _per_example(n.body, n.index) is not None for n in walk(formula.rhs))


def judge(formula: Formula, net: Network, seed: int) -> Judged:
    """Right when the formula equals the objective at every seeded batch; else the first batch where it does not."""
    found = read(formula, net, seed)
    counter = next(((formula.side(0), n, g, c) for n, g, c in found.values if not close(g, c)), None)
    diagnoses = found.diagnoses if counter is not None else ()
    target = "gradient" if found.gradient else "cost"
    batch = "penalty" if _penalized(net, found.wrt) else "mean"
    code = code_names.as_partial(formula.lhs, net.notation)
    notes = () if code is None else (code[1],)
    if batch_reading.summed(net.notation):  # the reader's cost read as the sum, m times the objective: said
        cost = _left(formula.lhs, net)  # type: ignore[arg-type]
        cost = cost.of if isinstance(cost, PartialNode) else cost
        notes += (batch_reading.BatchReading(cost.base if isinstance(cost, Name) else "E", batch == "penalty"),)
    return Judged(
        counter is None, target, found.correct, len(found.values), counter, notes, diagnoses=diagnoses, batch=batch
    )


def read(formula: Formula, net: Network, seed: int) -> Batch:
    """The formula's value and the objective's at seeded batches; FormulaError for what a statement cannot hold."""
    assert formula.lhs is not None
    lhs = _left(formula.lhs, net)
    wrt = lhs.wrt if isinstance(lhs, PartialNode) else None
    penalized = _penalized(net, wrt)
    reg = net.regularization
    rule = reg.rule if reg is not None else None
    rng = np.random.default_rng(seed)
    rows = []
    as_sum = batch_reading.summed(net.notation)  # the reader's cost is m J: its mean and its penalty m times
    builder, rhs = _Builder(formula, net, wrt), batch_reading.inner_products(formula.rhs)  # wᵀw as ‖w‖²
    for m in SIZES:
        numbers = {"m": float(m), "λ": float(rng.uniform(0.1, 1.0))}
        items = [float(v) for v in rng.uniform(0.1, 2.0, m)]
        layers = [float(v) for v in rng.uniform(0.5, 3.0, net.depth)]
        biases = [float(v) for v in rng.uniform(0.1, 1.0, net.depth)]
        theta = float(rng.uniform(-2.0, 2.0))
        builder.bind(m, items, (layers, biases), theta, 0.0)
        without = _value(builder.build(rhs))  # the formula with λ = 0: its terms without λ
        builder.bind(m, items, (layers, biases), theta, numbers["λ"])
        given = _value(builder.build(rhs))
        mean = sum(items) / m
        lam, batch = regularizers.LAMBDA, regularizers.BATCH
        if rule is None or not penalized:
            penalty = 0.0
        elif wrt is not None:
            penalty = regularizers.value(rule.coefficient(lam, batch), numbers["λ"], m) * theta
        else:
            squares = sum(layers) + (sum(biases) if reg.biases else 0.0)  # type: ignore[union-attr]
            penalty = regularizers.value(rule.scale(lam, batch), numbers["λ"], m) * squares
        letter = "C" if wrt is None else "g"
        numbers |= {f"{letter}^({s + 1})": v for s, v in enumerate(items)}
        if reg is None and not builder.penalty:  # nothing of a penalty to show
            del numbers["λ"]
        elif wrt is not None:
            numbers["θ"] = theta
        else:
            numbers |= {f"‖W^({k + 1})‖²": v for k, v in enumerate(layers)}
            if reg is not None and reg.biases:
                numbers |= {f"‖b^({k + 1})‖²": v for k, v in enumerate(biases)}
        k = batch_reading.times(net.notation, m)
        rows.append((numbers, given, k * (mean + penalty), without, sum(items), mean, k * penalty))
    if not any(math.isfinite(given) for _, given, *_ in rows):
        raise fail(formula.text, formula.spans[1][0], "the right side has no value for any batch tried", UndefinedError)
    diagnoses: list[Diagnosis] = []
    summed = all(_close(without, total) for _, _, _, without, total, _, _ in rows)  # λ's terms aside
    averaged = all(_close(without, mean) for _, _, _, without, _, mean, _ in rows)
    cost = lhs.of if isinstance(lhs, PartialNode) else lhs
    letter = cost.base if isinstance(cost, Name) else "J"
    if summed and not as_sum:
        diagnoses.append(BatchSum(wrt is not None, letter, _each(formula)))
        if all(_close(given, numbers["m"] * correct) for numbers, given, correct, *_ in rows):
            diagnoses.append(Convention("batch", "sum"))  # right read as the sum (Bishop's E = Σ_n E_n)
    if averaged and as_sum:
        diagnoses.append(batch_reading.BatchMean(wrt is not None, letter, _each(formula)))
    if builder.penalty and not penalized:
        diagnoses.append(PenaltyWithout(reg is not None, reg is not None and reg.biases))
    elif penalized and (summed or averaged):
        if not all(_close(given - without, penalty) for _, given, _, without, _, _, penalty in rows):
            which = "coefficient" if wrt is not None else "scale"
            factor = rule.coefficient if wrt is not None else rule.scale  # type: ignore[union-attr]
            scaled = factor(regularizers.LAMBDA, regularizers.BATCH) * (regularizers.BATCH if as_sum else 1)
            shown = sympy.sstr(scaled).replace("lambda", "λ").replace("*", "")
            diagnoses.append(PenaltyScale(which, reg.form, shown, not builder.penalty))  # type: ignore[union-attr]
    values = tuple((numbers, given, correct) for numbers, given, correct, *_ in rows)
    return Batch(wrt is not None, wrt, values, tuple(diagnoses), _correct(net, formula, wrt))


def _left(lhs: Node, net: Network) -> Node:
    """The left side, with cs231n's code name dW2 (gradient_names = "code") as the ∂L/∂W2 it names."""
    code = code_names.as_partial(lhs, net.notation)
    return lhs if code is None else code[0]


def _value(expr: Expr) -> float:
    """A value of the right side in float64; nan where it has none (1/(m − 3) for a batch of 3)."""
    try:
        return floats.evaluate(expr, {})
    except (ValueError, ZeroDivisionError, OverflowError, TypeError):  # TypeError: sympy's zoo
        return float("nan")


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))


def _correct(net: Network, formula: Formula, wrt: Node | None) -> str:
    """The objective as derive defines it, in the statement's own letters."""
    reg = net.regularization
    left, each = formula.side(0), _each(formula)
    as_sum = batch_reading.summed(net.notation)  # the reader's cost is m J
    mean, k = ("", regularizers.BATCH) if as_sum else (r"\frac{1}{m} ", 1)
    if wrt is None:
        text = rf"{left} = {mean}\sum_{{s=1}}^{{m}} {each}^{{(s)}}"
        if reg is not None:
            scale = sympy.latex(k * reg.rule.scale(regularizers.LAMBDA, regularizers.BATCH))
            weight = net.notation.weight_latex + net.notation.layer_script("l")
            text += rf" + {scale} \sum_{{l}} \lVert {weight} \rVert^2"
        return text
    name = _wrt_text(formula, wrt)
    text = rf"{left} = {mean}\sum_{{s=1}}^{{m}} \frac{{\partial {each}^{{(s)}}}}{{\partial {name}}}"
    if reg is not None and _penalized(net, wrt):
        text += f" + {sympy.latex(k * reg.rule.coefficient(regularizers.LAMBDA, regularizers.BATCH))} {name}"
    return text


def _penalized(net: Network, wrt: Node | None) -> bool:
    """Whether the penalty has a part in the statement: the cost, a weight's gradient, a bias's when biases are."""
    reg = net.regularization
    if reg is None or wrt is None:
        return reg is not None
    base = wrt.base if isinstance(wrt, Name) else ""
    return base in WEIGHTS or base == "b" and reg.biases


def _wrt_text(formula: Formula, wrt: Node) -> str:
    """How the statement writes what it differentiates by (the text between ∂ and the fraction's end)."""
    left = formula.side(0)
    for mark in (r"\partial ", r"\partial"):
        at = left.rfind(mark)
        if at >= 0:
            text = left[at + len(mark) :].strip()
            while text.count("}") > text.count("{"):  # the fraction's closing brace, not w_{ji}'s own
                text = text[: text.rindex("}")].strip()
            return text or "W"
    return wrt.base + wrt.digits if isinstance(wrt, Name) else "W"  # a code name's: dW2 is ∂L/∂W2


def _each(formula: Formula) -> str:
    """The letter of the per-example cost the statement sums (E for E_n, L for L_i), C when it names none."""
    assert formula.rhs is not None
    return next((n.base for n in walk(formula.rhs) if _sample_index(n) is not None), "C")


def _cost_name(node: Node) -> bool:
    return isinstance(node, Name) and node.base in COSTS and not (node.sub or node.sup or node.digits or node.primes)


def _sample_index(node: Node) -> str | None:
    """The sample index of a per-example cost: C^{(s)}, C^s, C_x, L_i, E_n."""
    if not isinstance(node, Name) or node.base not in COSTS or node.digits or node.primes:
        return None
    sup = node.sup.body if isinstance(node.sup, Paren) else node.sup
    if node.sub is None and isinstance(sup, Name) and len(sup.base) == 1 and not sup.sub:
        return sup.base
    if node.sup is None and node.sub is not None and len(node.sub) == 1 and isinstance(node.sub[0], Name):
        return node.sub[0].base
    return None


def _per_example(node: Node, index: str) -> str | None:
    """What a Σ over ``index`` sums: "cost" (C^{(s)}), "gradient" (∂C^{(s)}/∂θ), else None."""
    if _sample_index(node) == index:
        return "cost"
    if isinstance(node, PartialNode) and _sample_index(node.of) == index:
        return "gradient"
    return None


class _Builder(Arithmetic):
    """The right side's value at one batch: nothing but the batch's numbers is a name in a batch statement."""

    def __init__(self, formula: Formula, net: Network, wrt: Node | None) -> None:
        self.formula, self.net, self.wrt = formula, net, wrt
        self.penalty = False  # λ was met
        self.items: list[float] = []
        self.layers: list[float] = []
        self.biases: list[float] = []

    def bind(
        self, m: int, items: list[float], squares: tuple[list[float], list[float]], theta: float, lam: float
    ) -> None:
        """One batch: its size, the per-example values, each layer's Σ W² and Σ b², the parameter θ, λ."""
        self.m, self.items, self.theta, self.lam = m, items, theta, lam
        self.layers, self.biases = squares

    def other(self, node: Node) -> Expr:
        if isinstance(node, Pow):
            exp = self.build(node.exp)
            if not exp.is_Integer or abs(int(exp)) > POWER:
                raise self.error(node, f"a power in a batch statement is a whole number up to {POWER}")
            return self.build(node.base) ** int(exp)
        if isinstance(node, Sum):
            return self.sum(node)
        if isinstance(node, Name):
            return self.name(node)
        if isinstance(node, Call) and node.func.base == "norm":
            return sympy.sqrt(self.squares(node.args[0], None))
        raise self.error(node, "a batch statement is read in the per-example costs, m, λ and the weights' norms")

    def sum(self, node: Sum) -> Expr:
        kind = _per_example(node.body, node.index)
        if kind is not None:
            if kind == "gradient" and (self.wrt is None or not same(node.body.wrt, self.wrt)):  # type: ignore[union-attr]
                raise self.error(node, "the per-example gradients must be by what the left side differentiates by")
            if kind == "cost" and self.wrt is not None:
                raise self.error(node, "a gradient is the mean of per-example gradients ∂C^{(s)}/∂θ, not of costs")
            if node.lower is not None and not (isinstance(node.lower, Num) and node.lower.text == "1"):
                raise self.error(node, "a sum over the samples runs from 1 to m")
            if node.upper is not None and not (isinstance(node.upper, Name) and node.upper.base in BATCH):
                raise self.error(node, "a sum over the samples runs from 1 to m, the batch's size")
            return sympy.Float(sum(self.items))
        body = node.body.base if isinstance(node.body, Pow) else None
        if isinstance(body, Call) and body.func.base == "norm" and self.build(node.body.exp) == 2:  # type: ignore[union-attr]
            return self.squares(body.args[0], node.index)
        entries = _entries_squared(node)
        if entries is not None:
            return self.entries(node, *entries)
        raise self.error(
            node, "a Σ in a batch statement sums the per-example costs, the layers' ‖W^{(l)}‖² or the weights' W_{k,l}²"
        )

    def entries(self, node: Sum, name: Name, letters: list[str]) -> Expr:
        """Σ_k Σ_l W_{k,l}² (cs231n's R(W)): every entry of the weights squared, of one layer (W^{(2)}_{k,l}, W2_{k,l})
        or of all of them (W without a layer, or its layer a letter summed too); Σ_k b_k² likewise."""
        indices = [a.base for a in _atoms(name.sub or ()) if isinstance(a, Name)]
        layer = name.sup.body if isinstance(name.sup, Paren) and not _is_two(name.sup) else None
        need = 1 if name.base == "b" else 2
        if name.base not in (*WEIGHTS, "b") or len(indices) != need or len(_atoms(name.sub or ())) != need:
            raise self.error(node, "a sum of squares in a batch statement is of the weights' entries, W_{k,l}²")
        summed = set(letters) - set(indices)
        squares = self.biases if name.base == "b" else self.layers
        if set(indices) - set(letters):
            raise self.error(node, "sum a weight's squares over both its indices, \\sum_k \\sum_l W_{k,l}^2")
        if name.digits or isinstance(layer, Num):
            if summed:
                raise self.error(node, f"the sum over {', '.join(sorted(summed))} sums nothing in {name.base}")
            n = self.net.notation  # W2 is derive's own name; a superscript is in the notation's numbering
            k = int(name.digits) if name.digits else int(layer.text) - n.input_layer + n.weight_shift  # type: ignore[union-attr]
            if not 1 <= k <= len(squares):
                raise self.error(node, f"layer {k} does not exist (layers are 1 to {len(squares)})")
            return sympy.Float(squares[k - 1])
        if layer is None and not summed or isinstance(layer, Name) and summed == {layer.base}:
            return sympy.Float(sum(squares))
        raise self.error(node, "sum the squares of every layer's weights, or of one layer's, W^{(2)}_{k,l}")

    def squares(self, node: Node, letter: str | None) -> Expr:
        """Σ θ² of what a norm names: W^{(l)} summed over l, or W without a layer (all of them); b likewise."""
        if not isinstance(node, Name) or node.sub or node.base not in (*WEIGHTS, "b"):
            raise self.error(node, "a norm in a batch statement is of the weights, ‖W‖ or ‖W^{(l)}‖, or biases ‖b‖")
        sup = node.sup.body if isinstance(node.sup, Paren) else node.sup
        if sup is None or letter and isinstance(sup, Name) and sup.base == letter:
            return sympy.Float(sum(self.biases if node.base == "b" else self.layers))
        raise self.error(
            node, "the norm of one layer's weights: sum it over every layer, \\sum_l \\lVert W^{(l)} \\rVert^2"
        )

    def name(self, node: Name) -> Expr:
        if self.wrt is not None and same(node, self.wrt):  # θ, Θ^{(l)}_{ij}: what the left side is by
            return sympy.Float(self.theta)
        if node.sub or node.digits or node.primes:
            raise self.error(node, f"{node.base} is not read in a batch statement")
        if node.base in BATCH and node.sup is None:
            return sympy.Integer(self.m)
        if node.base == "lambda" and node.sup is None:
            self.penalty = True
            return sympy.Float(self.lam)
        if self.wrt is not None and same(node, self.wrt):
            return sympy.Float(self.theta)
        raise self.error(node, f"{node.base} is not the batch size m, λ or what the left side differentiates by")


def _entries_squared(node: Sum) -> tuple[Name, list[str]] | None:
    """Σ_k Σ_l W_{k,l}^2 as (the weight's name, the letters summed over), else None."""
    letters: list[str] = []
    body: Node = node
    while isinstance(body, Sum):
        letters.append(body.index)
        body = body.body
    if isinstance(body, Name) and _is_two(body.sup):  # W_{k,l}^2: the 2 is a power, not a layer
        return Name(body.base, body.pos, body.digits, body.sub, None, body.primes), letters
    if isinstance(body, Pow) and _is_two(body.exp):
        base = body.base.body if isinstance(body.base, Paren) else body.base
        if isinstance(base, Name) and not _is_two(base.sup):
            return base, letters
    return None


def _is_two(node: Node | None) -> bool:
    return isinstance(node, Num) and node.text == "2"


def _atoms(parts: tuple[Node, ...]) -> list[Node]:
    """The indices of a subscript: _{k,l} arrives split, _{kl} as a product."""
    out: list[Node] = []
    for part in parts:
        stack = [part]
        while stack:
            n = stack.pop()
            if isinstance(n, BinOp) and n.op == "*":
                stack += [n.right, n.left]
            else:
                out.append(n)
    return out
