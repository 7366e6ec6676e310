"""Exercises for the declared network whose answers ``derive verify`` checks, each with a right answer kept.

The right answer is the derivation's own form printed in the reader's notation, which the formula reader
takes back (tests/test_exercises.py runs ``derive verify`` on it); the documents print the question and the
command line, not the answer.
"""

from __future__ import annotations

from collections.abc import Callable

from sympy import Basic

from derive.engine.record import Record
from derive.present.document_data import Exercise
from derive.rules import symbols as sym
from derive.rules.functions import Partial

Tex = Callable[[Basic], str]


def exercises(rec: Record, tex: Tex) -> list[Exercise]:
    """δ of the first output neuron; δ of the first neuron of the last hidden layer; ∂C/∂ of the first weight."""
    L = rec.depth
    out: list[Exercise] = []
    delta = rec.output_delta((1,)).neurons[0][-1]
    out.append(Exercise("output delta", sym.delta(L, 1).name, tex(delta.lhs), tex(delta.rhs), L, tex(delta.lhs)))
    if L > 1:
        hidden = rec.recursion(L - 1, (1,)).neurons[0]
        out.append(
            Exercise("hidden delta", sym.delta(L - 1, 1).name, tex(hidden.lhs), tex(hidden.rhs), L - 1, tex(hidden.lhs))
        )
    g = rec.gradient(sym.parameter_name(1, 1, 1))
    out.append(Exercise("weight", g.name, tex(Partial(sym.COST, g.symbol)), tex(g.closed), 1, tex(g.symbol)))
    return out
