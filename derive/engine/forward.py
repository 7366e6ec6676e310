"""The forward pass in sympy: each neuron's two equations, and every z and a, and the cost, written in inputs,
weights, biases and targets (the composed cost, which only the checks differentiate).

A mixin of :class:`derive.engine.derivation.Derivation`, which gives it the network, its symbols (``size``,
``a_vec``, ``z_vec``, ``y_vec``) and the rules' W, a and products (:class:`derive.engine.chain.Symbolic`).
On a 784-input network the composed cost is built in well under a second because the sums are put together
in sympy's order and the activations are not evaluated again on them (:mod:`derive.engine.compose`).
"""

from __future__ import annotations

from sympy import Expr, Symbol

from derive import progress
from derive.engine.compose import known_real, substitute, weighted_sum
from derive.engine.steps import Equation
from derive.model.network import Network
from derive.rules import symbols as sym


class Forward:
    """forward_neuron, forward_map, cost and composed_cost of a derivation."""

    network: Network
    L: int
    _forward: dict[Symbol, Expr] | None

    # ------------------------------------------------------------------ forward
    def weighted_input(self, layer: int, i: int, inputs: list[Expr]) -> Expr:
        """Σ_j W^{(l)}_{ij} inputs_j + b^{(l)}_i, its terms in the order of their weights' names, which is sympy's
        order for such a sum: it is then only put together (compose.weighted_sum)."""
        terms = [self.times(self.weight(layer, i, j), inputs[j - 1]) for j in self.weight_order(layer, row=True)]
        return weighted_sum(terms, [sym.b(layer, i)] if self.network.bias else [])

    def forward_neuron(self, layer: int, i: int) -> tuple[Equation, Equation]:
        """z^{(l)}_i = Σ_j W^{(l)}_{ij} a^{(l−1)}_j + b^{(l)}_i and a^{(l)}_i = g(…)."""
        total = self.weighted_input(layer, i, self.a_vec(layer - 1))
        out = self.network.activation(layer).value(i - 1, self.z_vec(layer))
        return Equation(sym.z(layer, i), total), Equation(sym.a(layer, i), out)

    def forward_map(self) -> dict[Symbol, Expr]:
        """Each z and a symbol written in inputs, weights and biases."""
        if self._forward is None:
            values: dict[Symbol, Expr] = {}
            prev: list[Expr] = list(self.a_vec(0))
            for layer in range(1, self.L + 1):
                zs = [known_real(self.weighted_input(layer, i, prev)) for i in range(1, self.size(layer) + 1)]
                # g(z) in the layer's z symbols, then the sums put in: g is not evaluated again on each sum.
                z_symbols = self.z_vec(layer)
                outs = substitute(
                    self.network.activation(layer).values(z_symbols), dict(zip(z_symbols, zs, strict=True))
                )
                for i, (zi, ai) in enumerate(zip(zs, outs, strict=True), start=1):
                    values[sym.z(layer, i)] = zi
                    values[sym.a(layer, i)] = ai
                prev = outs
            self._forward = values
        return self._forward

    # --------------------------------------------------------------------- cost
    def cost(self) -> Expr:
        """C for one sample, in the outputs a^{(L)} and targets y."""
        return self.network.loss_def.formula(self.a_vec(self.L), self.y_vec())

    def composed_cost(self) -> Expr:
        """C written in inputs, weights, biases and targets (for checks only)."""
        with progress.phase("cost"):
            return substitute([self.cost()], self.forward_map())[0]
