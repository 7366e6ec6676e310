"""The batch objective J = (1/m) Σ_s C^{(s)} + R: the L2 penalty's part of a derivation (a mixin).

The per-sample gradients ∂C/∂θ are the derivation's own; the penalty R and its gradient ∂R/∂θ come from
the spec's form (:mod:`derive.rules.regularizers`), which also states the coefficient the checks confirm.
"""

from __future__ import annotations

import sympy
from sympy import Add, Expr, Rational, S, Symbol

from derive.engine.forms import SquaredNorms
from derive.engine.steps import Equation, Step
from derive.model.network import Network
from derive.rules import regularizers
from derive.rules import symbols as sym


class Objective:
    """∂R/∂θ, ∂C/∂θ + ∂R/∂θ, R and the cost's steps of a derivation (which has ``network``, ``resolve``,
    ``gradient``, ``parameters`` and ``cost``)."""

    network: Network

    def penalty_gradient(self, name: str) -> Expr:
        """∂R/∂(name) of the spec's L2 penalty: the form's coefficient times the parameter (λW, 2λW or λW/m),
        0 for a parameter outside the penalty or without one. The batch objective's gradient is
        ∂J/∂θ = (1/m) Σ_s ∂C^{(s)}/∂θ + ∂R/∂θ."""
        layer, i, j = self.resolve(name)
        reg = self.network.regularization
        if reg is None or not reg.covers("W" if j is not None else "b"):
            return S.Zero
        return reg.rule.coefficient(regularizers.LAMBDA, regularizers.BATCH) * sym.parameter_symbol(layer, i, j)

    def objective_gradient(self, name: str, form: str = "auto") -> Expr:
        """∂C/∂(name) + ∂R/∂(name): the gradient of C^{(s)} + R, whose mean over a batch is ∂J/∂(name)
        (``form`` as for :meth:`gradient`); the same as :meth:`gradient` without a penalty."""
        return self.gradient(name, form) + self.penalty_gradient(name)

    def penalty(self) -> Expr:
        """R, the L2 penalty, in λ, m and every regularised parameter (0 without one); for checks and small
        networks, since it names every weight."""
        reg = self.network.regularization
        if reg is None:
            return S.Zero
        scale = reg.rule.scale(regularizers.LAMBDA, regularizers.BATCH)
        covered = [n for n in self.parameters() if reg.covers(n[0])]
        return scale * Add(*(sym.parameter_symbol(*self.resolve(n)) ** 2 for n in covered))

    def cost_steps(self) -> list[Step]:
        """The per-sample cost and the batch cost J = (1/m) Σ_s C^{(s)} (+ R, the spec's L2 penalty)."""
        m, s = Symbol("m", positive=True, integer=True), Symbol("s", positive=True, integer=True)
        per_sample = sympy.IndexedBase("C")
        batch = Rational(1, 1) / m * sympy.Sum(per_sample[s], (s, 1, m))
        steps = [Step("cost.sample", (Equation(sym.COST, self.cost()),))]
        reg = self.network.regularization
        if reg is None:
            return [*steps, Step("cost.batch", (Equation(Symbol("J", real=True), batch),))]
        penalty = Symbol("R", real=True)  # R = scale · Σ_l ‖W^{(l)}‖², the sum of squares as one name
        return [
            *steps,
            Step("cost.batch", (Equation(Symbol("J", real=True), batch + penalty),)),
            Step(
                "cost.penalty", (Equation(penalty, reg.rule.scale(regularizers.LAMBDA, m) * SquaredNorms(reg.biases)),)
            ),
        ]
