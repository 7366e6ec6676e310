"""The derivation in reading order, as plain data: steps of equations.

A list of :class:`~derive.engine.steps.Step`, from the forward pass to the
update rule, each equation a sympy object. Every neuron and parameter is in
it, so it is meant for small networks.
"""

from __future__ import annotations

from derive.engine import matrixform
from derive.engine.derivation import Derivation
from derive.engine.steps import Equation, Step
from derive.rules import symbols as sym
from derive.rules.functions import Partial


def steps(d: Derivation) -> list[Step]:
    """The derivation in reading order (every neuron and parameter: use on small networks)."""
    out: list[Step] = []
    for layer in range(1, d.L + 1):
        eqs = [eq for i in range(1, d.size(layer) + 1) for eq in d.forward_neuron(layer, i)]
        out.append(Step("forward.neuron", tuple(eqs), layer))
        out.append(Step("forward.matrix", matrixform.forward(d, layer), layer))
    out += d.cost_steps()
    out.append(Step("delta.definition", (d.delta_definition(d.L, 1),)))
    out += d.simplifications()
    eqs = [eq for i in range(1, d.size(d.L) + 1) for eq in d.output_delta(i)]
    out.append(Step("delta.output", tuple(eqs), d.L))
    out.append(Step("delta.output.matrix", matrixform.output_delta(d), d.L))
    for layer in range(d.L - 1, 0, -1):
        eqs = [d.delta_recursion(layer, i) for i in range(1, d.size(layer) + 1)]
        out.append(Step("delta.recursion", tuple(eqs), layer))
        out.append(Step("delta.recursion.matrix", matrixform.recursion(d, layer), layer))
    grads = [d.parameter(name) for name in d.parameters()]
    for layer in range(d.L, 0, -1):
        for g in grads:
            if g.layer == layer:
                out.append(Step("gradient.parameter", (Equation(Partial(sym.COST, g.symbol), g.chain),), layer))
        out.append(Step("gradient.matrix", matrixform.gradients(d, layer), layer))
    out.append(Step("general.index", matrixform.general_index(d)))
    out.append(Step("general", matrixform.general(d)))
    out.append(Step("update", tuple(eq for layer in range(1, d.L + 1) for eq in matrixform.update(d, layer))))
    return out
