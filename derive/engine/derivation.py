"""The derivation engine: backpropagation by the chain rule, at element level.

Everything is built from the per-neuron equations with δ shared between
parameters (backprop form); the composed cost is never differentiated here.
Per-neuron and per-parameter results are made on demand and cached, so one
gradient of a large network costs only what it needs. What a parameter adds to
δ (its name, chain, closed forms and update) is :mod:`derive.engine.parameters`.
"""

from __future__ import annotations

from collections.abc import Callable

import sympy
import sympy.tensor.tensor  # noqa: F401 - sympy's Add imports it on first use (25 ms): paid here, not by the first gradient
from sympy import Add, Expr, S, Symbol

from derive.engine import chain as chain_rules
from derive.engine.compose import relabel, rename, weighted_sum
from derive.engine.forward import Forward
from derive.engine.objective import Objective
from derive.engine.parameters import CHAIN_PATHS, Parameters
from derive.engine.parameters import EXPAND_PARAMETERS as EXPAND_PARAMETERS  # re-exported: verify imports it from here
from derive.engine.steps import Equation, ParameterGradient, Step
from derive.model.network import Network
from derive.rules import symbols as sym
from derive.rules.functions import Partial

# Any neuron's output and weighted input, for g'(z) made once per layer (sym.a's and sym.z's kind of symbol).
_A_ANY, _Z_ANY = sym.a(1, 0), sym.z(1, 0)


class Derivation(chain_rules.Symbolic, Forward, Objective, Parameters):
    """The backpropagation derivation of one network.

    Signs: internally every δ is ∂C/∂z; ``delta_*`` methods return δ in the
    notation's sign (−∂C/∂z under the error-term convention).
    """

    def __init__(self, network: Network) -> None:
        self.network = network
        self.sign = network.notation.delta_sign
        self.L = network.depth
        self._dC_dz: dict[tuple[int, int], Expr] = {}
        self._forward: dict[Symbol, Expr] | None = None
        self._params: dict[str, ParameterGradient] = {}
        self._expanded_forms: dict[tuple[int, int, int | None], Expr | None] = {}
        self._index: dict[str, tuple[int, int, int | None]] = {}  # parameter name → (layer, row, column), in order
        self._alike_layers: dict[int, bool] = {}
        self._slopes: dict[tuple, tuple[Expr, Symbol | None]] = {}  # g'(z) of an activation, and its one symbol
        self._factors: dict[Partial, Expr] = {}
        self._vectors: dict[tuple[str, int], list[Symbol]] = {}
        self._orders: dict[tuple[int, bool], list[int]] = {}
        self._targets = [sym.y(k) for k in range(1, network.outputs + 1)]
        _warm_sympy()

    # ------------------------------------------------------------------ symbols
    def size(self, layer: int) -> int:
        return self.network.sizes[layer]

    def weight_order(self, layer: int, row: bool) -> list[int]:
        """The column indices j of W^{(l)}'s rows (``row``), or the row indices k of its columns, in the order of
        the weights' names (W2[1,·] < W2[10,·] < W2[2,·]): sympy's order for a sum of their products. Read
        from the first row or column; compose.weighted_sum checks every sum it is used for."""
        key = (layer, row)
        if key not in self._orders:
            count = self.size(layer - 1) if row else self.size(layer)
            name = (lambda n: self.weight(layer, 1, n).name) if row else (lambda n: self.weight(layer, n, 1).name)
            self._orders[key] = sorted(range(1, count + 1), key=name)
        return self._orders[key]

    def _vector(self, kind: str, layer: int) -> list[Symbol]:
        key = (kind, layer)
        if key not in self._vectors:
            make = {"a": sym.a, "z": sym.z}[kind]
            self._vectors[key] = [make(layer, i) for i in range(1, self.size(layer) + 1)]
        return self._vectors[key]

    def a_vec(self, layer: int) -> list[Symbol]:
        """a^{(l)} as a list (x for layer 0)."""
        return self._vector("a", layer)

    def z_vec(self, layer: int) -> list[Symbol]:
        """z^{(l)} as a list."""
        return self._vector("z", layer)

    def y_vec(self) -> list[Symbol]:
        """The targets as a list."""
        return self._targets

    # ------------------------------------------------------------------------ δ
    def dC_da(self, k: int) -> Expr:
        """∂C/∂a^{(L)}_k."""
        return self.network.loss_def.derivative(self.a_vec(self.L), self.y_vec(), k - 1)

    def jacobian_entry(self, layer: int, i: int, k: int) -> Expr:
        """∂a^{(l)}_i/∂z^{(l)}_k; an element-wise activation's g'(z_i) is made once and renamed for each neuron."""
        act = self.network.activation(layer)
        if not act.elementwise or i != k:
            return act.jacobian_entry(i - 1, k - 1, self.a_vec(layer), self.z_vec(layer))
        spec = self.network.layers[layer - 1]
        key = (spec.activation, spec.slope, spec.alpha)  # layers of one activation and option share its slope
        if key not in self._slopes:
            slope = act.local_derivative(_A_ANY, _Z_ANY)
            free = slope.free_symbols
            self._slopes[key] = (slope, _A_ANY if free == {_A_ANY} else _Z_ANY if free == {_Z_ANY} else None)
        slope, old = self._slopes[key]
        if old is None:  # a constant, or both a and z: made again for each neuron
            return act.jacobian_entry(i - 1, k - 1, self.a_vec(layer), self.z_vec(layer))
        return rename(slope, old, (self.a_vec(layer) if old is _A_ANY else self.z_vec(layer))[i - 1])

    def output_matching(self) -> bool:
        """True when the output activation and loss simplify δ^{(L)} to a − y."""
        return self.network.layers[-1].activation in self.network.loss_def.matching

    def needs_distribution(self) -> bool:
        """True when the simplification assumes Σ_k y_k = 1."""
        return self.network.layers[-1].activation in self.network.loss_def.needs_distribution

    def output_dC_dz_unsimplified(self, i: int) -> Expr:
        """Σ_k ∂C/∂a_k ∂a_k/∂z_i, factor by factor, before any simplification."""
        outputs = self.network.activation(self.L).coupled(i - 1, self.size(self.L))
        return Add(*(self.times(self.dC_da(k + 1), self.jacobian_entry(self.L, k + 1, i)) for k in outputs))

    def dC_dz(self, layer: int, i: int) -> Expr:
        """∂C/∂z^{(l)}_i in a, z, weights and targets (always the gradient sign)."""
        key = (layer, i)
        if key not in self._dC_dz:
            self._dC_dz[key] = self._build_dC_dz(layer, i)
        return self._dC_dz[key]

    def _build_dC_dz(self, layer: int, i: int) -> Expr:
        if i > 1 and layer == self.L and self._alike(layer):  # neuron 1's, relabelled
            return relabel(self.dC_dz(layer, 1), self._neuron_map(layer, i))
        if layer == self.L:
            if self.output_matching():
                match = self.network.loss_def.matching[self.network.layers[-1].activation]
                return match(sym.a(layer, i), sym.y(i))
            return self.output_dC_dz_unsimplified(i)
        return self._back(layer, i, lambda k: self.dC_dz(layer + 1, k))

    def _alike(self, layer: int) -> bool:
        """True when every neuron's ∂C/∂z of ``layer`` is neuron 1's with that neuron's own symbols in its place.

        So it is for an element-wise activation when neuron 1's involves no other neuron of its layer: no
        other a, z (or target, at the output), no other column of the weights above.
        """
        if layer not in self._alike_layers:
            first = self.dC_dz(layer, 1)
            own = {"a": layer, "z": layer, "W": layer + 1, "y": None if layer == self.L else 0}
            infos = [sym.parse_name(getattr(s, "name", "")) for s in first.free_symbols]
            self._alike_layers[layer] = (
                self.network.activation(layer).elementwise
                and None not in infos
                and all((n.j if n.kind == "W" else n.i) == 1 for n in infos if own.get(n.kind, -1) == n.layer)
            )
        return self._alike_layers[layer]

    def _neuron_map(self, layer: int, i: int) -> dict[Symbol, Symbol]:
        """Neuron 1's own symbols of ``layer`` (see :meth:`_alike`) to neuron i's."""
        mapping = {sym.a(layer, 1): sym.a(layer, i), sym.z(layer, 1): sym.z(layer, i)}
        if layer == self.L:
            mapping[sym.y(1)] = sym.y(i)
        else:
            mapping.update((sym.W(layer + 1, k, 1), sym.W(layer + 1, k, i)) for k in range(1, self.size(layer + 1) + 1))
        return mapping

    def _back(self, layer: int, i: int, upstream: Callable[[int], Expr]) -> Expr:
        """One step of the recursion: g'(z_i) Σ_k W^{(l+1)}_{ki} upstream(k), through the Jacobian for softmax."""
        outputs = self.network.activation(layer).coupled(i - 1, self.size(layer))

        def back(m: int) -> Expr:  # Σ_k W^{(l+1)}_{km} upstream(k), in the order of the weights' names
            order = self.weight_order(layer + 1, row=False)
            return weighted_sum([self.times(upstream(k), self.weight(layer + 1, k, m)) for k in order])

        return Add(*(self.times(self.jacobian_entry(layer, m + 1, i), back(m + 1)) for m in outputs))

    def delta_closed(self, layer: int, i: int) -> Expr:
        """δ^{(l)}_i in the notation's sign, in a, z, weights and targets."""
        return self.sign * self.dC_dz(layer, i)

    def delta_definition(self, layer: int, i: int) -> Equation:
        """δ^{(l)}_i := ±∂C/∂z^{(l)}_i."""
        return Equation(sym.delta(layer, i), self.sign * Partial(sym.COST, sym.z(layer, i)), ":=")

    def delta_recursion(self, layer: int, i: int) -> Equation:
        """δ^{(l)}_i in the next layer's δ (l < L), the scalar recursion."""
        return Equation(sym.delta(layer, i), self._back(layer, i, lambda k: sym.delta(layer + 1, k)))

    def output_delta(self, i: int) -> tuple[Equation, ...]:
        """δ^{(L)}_i: its chain, the factors' product, and the simplified form."""
        d = sym.delta(self.L, i)
        chain = self.sign * self._chain_dz(self.L, i, budget=CHAIN_PATHS)
        raw = self.sign * self.output_dC_dz_unsimplified(i)
        eqs = [Equation(d, chain), Equation(d, raw)]
        simplified = self.delta_closed(self.L, i)
        if sympy.expand(simplified - raw) != 0:
            eqs.append(Equation(d, simplified))
        return tuple(eqs)

    # -------------------------------------------------------------------- chain
    def _paths(self, layer: int) -> int:
        """How many paths lead from a neuron of ``layer`` to the cost."""
        count = 1
        for above in range(layer + 1, self.L + 1):
            count *= self.size(above)
        if not self.network.activation(self.L).elementwise:
            count *= self.size(self.L)
        return count

    def _chain_dz(self, layer: int, i: int, budget: int) -> Expr:
        """∂C/∂z^{(l)}_i as a written chain of ∂ factors."""
        z_i = sym.z(layer, i)
        outputs = [sym.a(layer, k + 1) for k in self.network.activation(layer).coupled(i - 1, self.size(layer))]
        if layer == self.L:
            return Add(*(Partial(sym.COST, a_k) * Partial(a_k, z_i) for a_k in outputs))
        nxt = self.size(layer + 1)
        expand = self._paths(layer) <= budget

        def upstream(k: int) -> Expr:
            zk = sym.z(layer + 1, k)
            return self._chain_dz(layer + 1, k, budget) if expand else Partial(sym.COST, zk)

        def back(a_m: Symbol) -> Expr:
            return Add(*(upstream(k) * Partial(sym.z(layer + 1, k), a_m) for k in range(1, nxt + 1)))

        return Add(*(back(a_m) * Partial(a_m, z_i) for a_m in outputs))

    def factor_value(self, factor: Partial) -> Expr:
        """The value of one ∂ factor of a chain."""
        if factor not in self._factors:
            self._factors[factor] = self._factor_value(factor)
        return self._factors[factor]

    def _factor_value(self, factor: Partial) -> Expr:
        f, v = (chain_rules.element(arg) for arg in factor.args)
        value = chain_rules.factor(self, f, v)
        if value is None:
            raise AssertionError(f"no rule for {factor}")
        return value

    def chain_factors(self, chain: Expr) -> tuple[Equation, ...]:
        """Each distinct ∂ factor of a chain with its value, in written order."""
        seen: dict[Partial, None] = {}
        for node in sympy.preorder_traversal(chain):
            if isinstance(node, Partial):
                seen.setdefault(node, None)
        return tuple(Equation(f, self.factor_value(f)) for f in seen)

    def evaluate_chain(self, chain: Expr, factors: tuple[Equation, ...] | None = None) -> Expr:
        """The chain with every factor replaced by its value."""
        if factors is None:
            factors = self.chain_factors(chain)
        return chain.xreplace({f.lhs: f.rhs for f in factors})

    # ------------------------------------------------------------------- steps
    def simplifications(self) -> list[Step]:
        """g'(z) written in the activation's own output, once per activation used."""
        out: list[Step] = []
        seen: set[str] = set()
        zs, as_ = Symbol("z", real=True), Symbol("a", real=True)
        for layer in range(1, self.L + 1):
            act = self.network.activation(layer)
            if act.name in seen or not act.elementwise:
                continue
            seen.add(act.name)
            g = act.formula(zs)
            d = sympy.Derivative(g, zs) if g != zs else sympy.Derivative(zs, zs, evaluate=False)
            eqs = [Equation(d, act.derivative(zs))]
            if act.derivative_in_output is not None:
                eqs.append(Equation(d, act.derivative_in_output(as_)))
            out.append(Step(f"simplify.{act.name}", tuple(eqs), layer))
        if self.output_matching():
            i = 1
            cond = None
            if self.needs_distribution():
                total = Add(*self.y_vec())
                cond = Equation(total, S.One)
            # ∂C/∂a as the cost's derivative gives it, then as the loss writes it (over one denominator), then δ.
            dC_da = Partial(sym.COST, sym.a(self.L, i))
            derivatives = dict.fromkeys((sympy.diff(self.cost(), sym.a(self.L, i)), self.dC_da(i)))
            out.append(
                Step(
                    f"simplify.{self.network.layers[-1].activation}_{self.network.loss}",
                    (
                        *(Equation(dC_da, value) for value in derivatives),
                        Equation(sym.delta(self.L, i), self.delta_closed(self.L, i)),
                    ),
                    self.L,
                    cond,
                )
            )
        return out


def _warm_sympy() -> None:
    """The first sum and product after imports pay sympy's set-up (its lazy imports, Python's ABC subclass
    caches, which every later import that registers a class empties again, the assumption rules' first
    deductions): a few tenths of a millisecond, paid when a derivation is made, not by its first gradient.
    Once warm it costs microseconds."""
    u, v = Symbol("_warm_u", real=True), Symbol("_warm_v", real=True)
    (u - v) * u * (1 - u) + v * (u - v)


def derive(network: Network) -> Derivation:
    """Derive backpropagation for ``network``."""
    return Derivation(network)
