"""A document's L2 penalty: R, its gradient ∂R/∂W, the gradients of J with it, and the update's weight decay.

J = (1/m) Σ_s C^{(s)} + R, so every regularised parameter's gradient gains the form's ∂R/∂θ (λθ, 2λθ or λθ/m)
and gradient descent shrinks it by a factor (1 − η λ) (or 1 − 2ηλ, 1 − ηλ/m) before the step against the
cost's gradient: weight decay. The element-level equations are written for any layer l and neuron indices in
the reader's notation; the matrix ones for each layer of the network.
"""

from __future__ import annotations

from collections.abc import Callable

import sympy
from sympy import Basic

from derive.engine.forms import Index, Kind, indexed, matrix
from derive.engine.record import Record
from derive.present.document_data import RELATIONS, Eq, Penalty
from derive.present.worked_example import number
from derive.rules import regularizers
from derive.rules import symbols as sym

Tex = Callable[[Basic], str]


def penalty(rec: Record, tex: Tex) -> Penalty | None:
    """The document's penalty, None when the spec declares none."""
    net = rec.network
    reg = net.regularization
    if reg is None or rec.cost.penalty is None:
        return None
    lam, m = regularizers.LAMBDA, regularizers.BATCH
    coefficient = reg.rule.coefficient(lam, m)
    c = tex(coefficient)
    cost = net.notation.cost
    j_letter = tex(sympy.Symbol("J", real=True))
    mean = r"\frac{1}{m} \sum_{s=1}^{m}"

    def partial(of: str, wrt: str) -> str:
        return rf"\frac{{\partial {of}}}{{\partial {wrt}}}"

    current, previous = Index("current"), Index("previous")
    kinds = ["W", "b"] if reg.biases else ["W"]
    elements = {"W": tex(indexed(Kind.W, "l", current, previous)), "b": tex(indexed(Kind.B, "l", current))}
    step = [Eq(partial("R", elements[k]), "=", f"{c} {elements[k]}") for k in kinds]
    gradient = [
        Eq(
            partial(j_letter, elements[k]),
            "=",
            rf"{mean} {partial(f'{cost}^{{(s)}}', elements[k])} + {c} {elements[k]}",
        )
        for k in kinds
    ]
    by_layer: dict[int, list[Eq]] = {}
    decay: list[Eq] = []
    shrink = tex(1 - sym.LEARNING_RATE * coefficient)
    eta = tex(sym.LEARNING_RATE)
    for layer in range(1, rec.depth + 1):
        for k in kinds:
            p = tex(matrix(Kind(k), layer))
            per_sample = partial(f"{cost}^{{(s)}}", p)
            by_layer.setdefault(layer, []).append(Eq(partial(j_letter, p), "=", rf"{mean} {per_sample} + {c} {p}"))
            decay.append(Eq(p, RELATIONS["<-"], rf"\left({shrink}\right) {p} - {eta} {mean} {per_sample}"))
    return Penalty(
        form=reg.form,
        biases=reg.biases,
        lam=tex(lam),
        l2=Eq(tex(lam), "=", tex(number(reg.l2))),
        penalty=Eq(tex(rec.cost.penalty.lhs), "=", tex(rec.cost.penalty.rhs)),
        coefficient=c,
        step=step,
        gradient=gradient,
        matrix=by_layer,
        decay=decay,
    )


__all__ = ["Penalty", "penalty"]
