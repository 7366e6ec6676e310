"""Each parameter's gradient: its name resolved, its chain and factors, its closed and expanded forms, its update.

A mixin of :class:`derive.engine.derivation.Derivation`, which gives it the network, the sign of δ, the
written chains of ∂C/∂z (``_chain_dz``, ``chain_factors``, ``evaluate_chain``), the forward map and the
penalty's gradient. It exists apart from the backward recursion there because what a parameter adds is
its own: a name read back to (layer, row, column) with one-line errors, a ParameterGradient built once
and cached, and the forms ``grad --form`` and the API's ``gradient`` and ``evaluate`` give.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from sympy import Expr, count_ops

from derive.engine import chain as chain_rules
from derive.engine import numbers
from derive.engine.steps import Equation, ParameterGradient
from derive.errors import DeriveError, ParameterError
from derive.model.network import Network
from derive.rules import symbols as sym
from derive.rules.functions import Partial

# Write the chain rule path by path while a gradient has at most this many
# paths to the cost; past that the chain stops at the next layer's ∂C/∂z.
CHAIN_PATHS = 16
# Write closed forms in inputs, weights and biases only for networks this small
# and while the result stays this short.
EXPAND_PARAMETERS = 40
EXPAND_OPS = 120

FORMS = ("auto", "delta", "closed", "expanded")


class Parameters:
    """parameters, resolve, parameter, gradient, evaluate and evaluate_all of a derivation."""

    network: Network
    L: int
    sign: int
    _params: dict[str, ParameterGradient]
    _expanded_forms: dict[tuple[int, int, int | None], Expr | None]
    _index: dict[str, tuple[int, int, int | None]]

    def parameters(self) -> list[str]:
        """Every parameter name, layer by layer: W1[1,1], …, b1[1], …, W2[1,1], …"""
        if not self._index:
            for layer in range(1, self.L + 1):
                rows, cols = self.size(layer), self.size(layer - 1)
                for i in range(1, rows + 1):
                    for j in range(1, cols + 1):
                        self._index[sym.parameter_name(layer, i, j)] = (layer, i, j)
                if self.network.bias:
                    for i in range(1, rows + 1):
                        self._index[sym.parameter_name(layer, i)] = (layer, i, None)
        return list(self._index)

    def resolve(self, name: str) -> tuple[int, int, int | None]:
        """(layer, row, column or None) of a parameter name, or ParameterError."""
        found = self._index.get(name) if isinstance(name, str) else None
        if found is not None:  # a name parameters() gave: no parsing
            return found
        clean = "".join(str(name).split())
        info = sym.parse_name(clean)

        def shapes() -> str:  # only for an error: building it on every call costs a per-parameter loop
            return ", ".join(f"{k} {'×'.join(map(str, v))}" for k, v in self.network.shapes().items())

        if info is None or info.kind not in ("W", "b"):
            written = "parameters are written W<l>[i,j] or b<l>[i]"
            raise ParameterError(f"unknown parameter {name!r}: {written} ({shapes()})")
        layer = info.layer or 0
        if info.kind == "b" and not self.network.bias:
            raise ParameterError(f"unknown parameter {name!r}: this network has no biases ({shapes()})")
        if not 1 <= layer <= self.L:
            raise ParameterError(f"unknown parameter {name!r}: layers are numbered 1 to {self.L} ({shapes()})")
        rows, cols = self.size(layer), self.size(layer - 1)
        if not 1 <= info.i <= rows or (info.j is not None and not 1 <= info.j <= cols):
            kind = f"W{layer} is {rows}×{cols}" if info.kind == "W" else f"b{layer} has {rows} entries"
            raise ParameterError(f"unknown parameter {name!r}: index out of range, {kind} (1-based)")
        return layer, info.i, info.j

    def parameter(self, name: str) -> ParameterGradient:
        """The full derivation for one weight or bias."""
        layer, i, j = self.resolve(name)
        key = sym.parameter_name(layer, i, j)
        if key not in self._params:
            self._params[key] = self._build_parameter(layer, i, j)
        return self._params[key]

    def _local(self, layer: int, i: int, j: int | None) -> Expr:
        """∂z^{(l)}_i/∂θ: a^{(l−1)}_j for a weight, 1 for a bias."""
        return chain_rules.factor(self, chain_rules.Element("z", layer, i), chain_rules.parameter(layer, i, j))

    def _closed(self, layer: int, i: int, j: int | None) -> Expr:
        """∂C/∂θ = ∂C/∂z^{(l)}_i ∂z^{(l)}_i/∂θ, in a, z, weights and targets."""
        return chain_rules.factor(self, chain_rules.COST, chain_rules.parameter(layer, i, j))

    def _expanded(self, layer: int, i: int, j: int | None) -> Expr | None:
        """The closed form in inputs, weights, biases and targets, for a small network while it stays short."""
        if self.network.parameter_count() > EXPAND_PARAMETERS:
            return None
        key = (layer, i, j)
        if key not in self._expanded_forms:
            candidate = self._closed(layer, i, j).xreplace(self.forward_map())
            self._expanded_forms[key] = candidate if count_ops(candidate) <= EXPAND_OPS else None
        return self._expanded_forms[key]

    def _build_parameter(self, layer: int, i: int, j: int | None) -> ParameterGradient:
        p = sym.parameter_symbol(layer, i, j)
        local = self._local(layer, i, j)
        chain = self._chain_dz(layer, i, CHAIN_PATHS) * Partial(sym.z(layer, i), p)
        factors = self.chain_factors(chain)
        closed = self._closed(layer, i, j)
        eta = sym.LEARNING_RATE
        penalty = self.penalty_gradient(sym.parameter_name(layer, i, j))
        step = -eta * closed if self.sign > 0 else eta * sym.delta(layer, i) * local
        return ParameterGradient(
            name=sym.parameter_name(layer, i, j),
            symbol=p,
            layer=layer,
            row=i,
            col=j,
            chain=chain,
            factors=factors,
            chain_value=self.evaluate_chain(chain, factors),
            delta_form=self.sign * sym.delta(layer, i) * local,
            closed=closed,
            expanded=self._expanded(layer, i, j),
            update=Equation(p, p + step - eta * penalty, "<-"),
            penalty=penalty,
        )

    def gradient(self, name: str, form: str = "auto") -> Expr:
        """∂C/∂(name) as a sympy expression, computed without the document's record of it.

        form: ``closed`` (in a, z, weights, targets), ``expanded`` (in inputs,
        weights, biases, targets), ``delta`` (the product with δ), or ``auto``:
        expanded where that stays readable, else closed.
        """
        if form not in FORMS:
            raise DeriveError(f"form: {form!r} is not one of {', '.join(FORMS)}")
        layer, i, j = self.resolve(name)
        if form == "delta":
            return self.sign * sym.delta(layer, i) * self._local(layer, i, j)
        if form == "closed":
            return self._closed(layer, i, j)
        expanded = self._expanded(layer, i, j)
        if expanded is not None:
            return expanded
        closed = self._closed(layer, i, j)
        return closed.xreplace(self.forward_map()) if form == "expanded" else closed

    def evaluate(self, name: str, params: Mapping[str, np.ndarray], x: np.ndarray, y: np.ndarray) -> float:
        """∂C/∂(name) at one sample (x, y) and the given parameter arrays."""
        layer, i, j = self.resolve(name)
        grads = numbers.at_sample(self, params, x, y).gradients
        return float(grads[f"W{layer}"][i - 1, j - 1] if j is not None else grads[f"b{layer}"][i - 1])

    def evaluate_all(self, params: Mapping[str, np.ndarray], x: np.ndarray, y: np.ndarray) -> dict[str, float]:
        """Every parameter's ∂C/∂θ at one sample, by name (W1[1,1], …), computed layer by layer in NumPy."""
        grads = numbers.at_sample(self, params, x, y).gradients
        values = [v for array in self.network.shapes() for v in grads[array].ravel().tolist()]
        return dict(zip(self.parameters(), values, strict=True))
