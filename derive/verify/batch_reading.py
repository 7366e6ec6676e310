"""What the reader's batch cost means (notation ``batch``): derive's mean, or Bishop's sum E = Σ_n E_n.

derive's objective is J = (1/m) Σ_s C^{(s)} + R, whatever the notation. Under ``batch = "sum"`` a batch statement's
cost letter is read as the sum over the samples, m J: its per-example part Σ_s C^{(s)} and its penalty m R (the form
``half_over_m``'s m R = (λ/2) Σ θ² is Bishop's Ẽ = E + (λ/2) wᵀw); its gradient is m ∂J/∂θ. Only the reading
changes: the objective, its numbers and the generated code stay the mean. The verdict says the reading
(:class:`BatchReading`); a mean where the sum belongs is :class:`BatchMean`, a sum where the mean belongs
:class:`BatchSum`, and a sum under the default mean that is right read as the sum says so (``Convention("batch",
"sum")``).
"""

from __future__ import annotations

from dataclasses import dataclass

from derive.model.notation import Notation
from derive.verify.findings import Diagnosis, Note
from derive.verify.formula_forms import same
from derive.verify.syntax import BinOp, Call, Name, Neg, Node, Num, Paren, Pow, Transpose

WEIGHTS = ("W", "w", "theta", "Theta")  # the letters whose wᵀw is a squared norm


@dataclass(frozen=True)
class BatchReading(Note):
    """The batch cost ``cost`` read as the sum over the samples (batch = "sum"), m times derive's objective;
    ``penalty`` when the spec's L2 penalty has a part in the statement (read m times too)."""

    code = "batch_reading"
    cost: str
    penalty: bool = False


@dataclass(frozen=True)
class BatchSum(Diagnosis):
    """The per-example costs (or gradients) summed where J is their mean: m times too large."""

    code = "batch_sum"
    gradient: bool
    cost: str = "J"  # the batch cost's letter, as the statement writes it
    each: str = "C"  # the per-example cost's letter, as the statement writes it (C^{(s)}, E_n, L_i)


@dataclass(frozen=True)
class BatchMean(Diagnosis):
    """The per-example costs (or gradients) averaged where the notation's batch cost is their sum: m times too small."""

    code = "batch_mean"
    gradient: bool
    cost: str = "E"  # the batch cost's letter, as the statement writes it
    each: str = "E"  # the per-example cost's letter, as the statement writes it


def summed(notation: Notation) -> bool:
    """Whether the notation reads a batch cost as the sum over the samples."""
    return notation.batch == "sum"


def times(notation: Notation, m: int) -> int:
    """The factor between the reader's batch cost and derive's objective at a batch of m: m under sum, else 1."""
    return m if summed(notation) else 1


def inner_products(node: Node) -> Node:
    """A batch statement's right side with Bishop's wᵀw (PRML 5.112) written as the squared norm ‖w‖² it is: a
    weight's transpose times itself, as the last two factors of a product."""
    if isinstance(node, Paren | Neg):
        return type(node)(inner_products(node.body), node.pos)
    if not isinstance(node, BinOp):
        return node
    left, right = inner_products(node.left), inner_products(node.right)
    if node.op == "*" and isinstance(right, Name) and right.base in WEIGHTS:
        before, last = (left.left, left.right) if isinstance(left, BinOp) and left.op == "*" else (None, left)
        if isinstance(last, Transpose) and isinstance(last.body, Name) and same(last.body, right):
            square = Pow(Call(Name("norm", last.pos), (right,), last.pos), Num("2", right.pos), right.pos)
            return square if before is None else BinOp("*", before, square, node.pos)
    return BinOp(node.op, left, right, node.pos)


__all__ = ["BatchMean", "BatchReading", "BatchSum", "inner_products", "summed", "times"]
