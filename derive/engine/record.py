"""The derivation of one network as plain data: what documents, generated code and checks read.

A :class:`Record` hands out the derivation part by part, each part a frozen
dataclass of sympy equations (or, at a sample, of numbers). Parts are derived
on first use, and the parts that come per neuron or per parameter take the
neurons or parameters wanted, so that a document of a wide network writes out
(and pays for) only the few it shows. Which ones to show is the presenter's
choice; the record only says what each one is.

The matrix form comes in two conventions: the notation's (for documents) and
derive's own (δ = ∂C/∂z, W with a row per neuron; for generated code), both
from the one derivation.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from sympy import Expr, MatrixExpr, MatrixSymbol

from derive.engine import matrixform, numbers, ordered
from derive.engine.derivation import Derivation
from derive.engine.forms import Kind, matrix
from derive.engine.matrixform import Convention
from derive.engine.steps import Equation, ParameterGradient, Step
from derive.model import samples
from derive.model.network import Network
from derive.rules import symbols as sym
from derive.rules.functions import Partial


@dataclass(frozen=True)
class LayerNames:
    """Layer l's vectors as the matrix form names them."""

    layer: int
    z: MatrixSymbol
    a: MatrixSymbol  # x for layer 0
    delta: MatrixSymbol
    bias: MatrixSymbol | None


@dataclass(frozen=True)
class Names:
    """The vectors of the matrix form, for tables and prose."""

    target: MatrixSymbol
    layers: tuple[LayerNames, ...]  # layers 0 (the input) to L
    z_general: MatrixSymbol  # z^{(l)} of a symbolic layer l

    @property
    def input(self) -> MatrixSymbol:
        return self.layers[0].a


@dataclass(frozen=True)
class Forward:
    """Layer l's forward pass: z and a of the chosen neurons, then the matrix form."""

    layer: int
    neurons: tuple[tuple[Equation, Equation], ...]  # (z_i = Σ_j W_ij a_j + b_i, a_i = g(…)) per chosen neuron
    matrix: tuple[Equation, ...]


@dataclass(frozen=True)
class Cost:
    """The cost of one sample in the outputs, and of a batch."""

    sample: Equation
    batch: Equation  # J = (1/m) Σ_s C^{(s)} (+ R with an L2 penalty)
    penalty: Equation | None = None  # R = scale · Σ_l ‖W^{(l)}‖², the spec's L2 penalty, or None


@dataclass(frozen=True)
class OutputDelta:
    """δ^{(L)}: per chosen neuron its chain, the factors' product and the simplified form; the matrix form."""

    neurons: tuple[tuple[Equation, ...], ...]
    matrix: tuple[Equation, ...]


@dataclass(frozen=True)
class Recursion:
    """δ of hidden layer l from the layer above: per chosen neuron, its named factors (neuron 1), matrix form."""

    layer: int
    neurons: tuple[Equation, ...]
    factors: tuple[Equation, ...]  # ∂z^{(l+1)}_1/∂a^{(l)}_1 and ∂a^{(l)}_1/∂z^{(l)}_1 with their values
    matrix: tuple[Equation, ...]


@dataclass(frozen=True)
class Gradients:
    """Layer l's chosen parameters, each with its chain, factors and closed forms, and the matrix form."""

    layer: int
    parameters: tuple[ParameterGradient, ...]
    matrix: tuple[Equation, ...]


@dataclass(frozen=True)
class MatrixForm:
    """The network's concrete matrix equations in one convention, by layer (symbols only: cheap at any size)."""

    convention: Convention
    forward: Mapping[int, tuple[Equation, ...]]  # z = W a + b, a = g(z)
    output_delta: tuple[Equation, ...]
    recursion: Mapping[int, tuple[Equation, ...]]  # hidden layers
    backprop_in: Mapping[int, MatrixExpr]  # (W^{(l+1)})^T δ^{(l+1)}, hidden layers
    gradients: Mapping[int, tuple[Equation, ...]]
    activation_derivative: Mapping[int, tuple[Equation, ...]]  # g' in the layer's output, where it has one


@dataclass(frozen=True)
class General:
    """The equations for a symbolic layer l: neuron by neuron (article 001) and as matrices."""

    index: tuple[Equation, ...]
    matrix: tuple[Equation, ...]


@dataclass(frozen=True)
class OutputElement:
    """The first output neuron's ∂C/∂a and ∂C/∂z (gradient sign): in generated code they stand for the layer."""

    matching: bool  # the loss and output activation simplify δ^{(L)} to a − y
    wrt_a: Expr  # ∂C/∂a^{(L)}_1
    wrt_z: Expr  # ∂C/∂z^{(L)}_1


@dataclass(frozen=True)
class Sample:
    """The derivation's quantities at one sample, by derive's own float and sympy evaluation."""

    params: Mapping[str, np.ndarray]
    forward: tuple[tuple[np.ndarray, np.ndarray], ...]  # (z, a) of layers 1 … L
    cost: float
    deltas: Mapping[int, np.ndarray]  # δ of each layer, in the notation's sign
    gradients: Mapping[str, np.ndarray]  # ∂C/∂θ, shaped like the parameter arrays


class Record:
    """The derivation of one network, part by part (see the module's docstring).

    Making one costs nothing: the work is cached in the derivation, so each
    reader (a document, the generated code's plan, a check) may make its own
    record of the same derivation and nothing is derived twice.
    """

    def __init__(self, d: Derivation) -> None:
        self._d = d
        self.network: Network = d.network
        self.depth = d.L
        self.sign = d.sign
        self._in_order: dict[str, ordered.InOrder] = {}
        self._dz_in_order: dict[tuple[int, int], ordered.Ordered] = {}

    def size(self, layer: int) -> int:
        return self.network.sizes[layer]

    def _neurons(self, layer: int, neurons: Iterable[int] | None) -> tuple[int, ...]:
        return tuple(range(1, self.size(layer) + 1)) if neurons is None else tuple(neurons)

    @cached_property
    def parameters(self) -> tuple[str, ...]:
        """Every parameter name, layer by layer: W1[1,1], …, b1[1], …, W2[1,1], …"""
        return tuple(self._d.parameters())

    @cached_property
    def names(self) -> Names:
        d = self._d
        layers = tuple(
            LayerNames(
                layer,
                matrixform.vec(Kind.Z, layer, d),
                matrixform.a_vec(layer, d),
                matrixform.vec(Kind.DELTA, layer, d),
                matrixform.vec(Kind.B, layer, d) if self.network.bias and layer > 0 else None,
            )
            for layer in range(self.depth + 1)
        )
        return Names(matrixform.targets(d), layers, matrixform.vec(Kind.Z, "l", None))

    # ----------------------------------------------------------------- forward
    def forward(self, layer: int, neurons: Iterable[int] | None = None) -> Forward:
        """Layer ``layer``'s forward equations for ``neurons`` (1-based; all when None)."""
        eqs = tuple(self._d.forward_neuron(layer, i) for i in self._neurons(layer, neurons))
        return Forward(layer, eqs, self.matrix.forward[layer])

    @cached_property
    def cost(self) -> Cost:
        sample, batch, *penalty = self._d.cost_steps()
        return Cost(sample.equations[0], batch.equations[0], penalty[0].equations[0] if penalty else None)

    # ---------------------------------------------------------------------- δ
    @cached_property
    def delta_definition(self) -> Equation:
        """δ^{(L)}_1 := ±∂C/∂z^{(L)}_1."""
        return self._d.delta_definition(self.depth, 1)

    @cached_property
    def simplifications(self) -> tuple[Step, ...]:
        """g'(z) in the activation's own output, once per activation; δ^{(L)} = a − y where the loss matches."""
        return tuple(self._d.simplifications())

    def output_delta(self, neurons: Iterable[int] | None = None) -> OutputDelta:
        eqs = tuple(self._d.output_delta(i) for i in self._neurons(self.depth, neurons))
        return OutputDelta(eqs, self.matrix.output_delta)

    def recursion(self, layer: int, neurons: Iterable[int] | None = None) -> Recursion:
        """δ of hidden layer ``layer`` (1 ≤ layer < L) for ``neurons``."""
        d = self._d
        eqs = tuple(d.delta_recursion(layer, i) for i in self._neurons(layer, neurons))
        a, z = sym.a(layer, 1), sym.z(layer, 1)
        factors = tuple(Equation(f, d.factor_value(f)) for f in (Partial(sym.z(layer + 1, 1), a), Partial(a, z)))
        return Recursion(layer, eqs, factors, self.matrix.recursion[layer])

    @cached_property
    def output_element(self) -> OutputElement:
        d = self._d
        return OutputElement(d.output_matching(), d.dC_da(1), d.dC_dz(self.depth, 1))

    # -------------------------------------------------------------- gradients
    def gradient(self, name: str) -> ParameterGradient:
        """Everything derived for one weight or bias (ParameterError for an unknown name)."""
        return self._d.parameter(name)

    def gradients(self, layer: int, names: Iterable[str] | None = None) -> Gradients:
        """Layer ``layer``'s parameters among ``names`` (all of the layer's when None), in order."""
        chosen = self.parameters if names is None else tuple(names)
        params = tuple(self.gradient(n) for n in chosen if sym.parse_name(n).layer == layer)
        return Gradients(layer, params, self.matrix.gradients[layer])

    def factor(self, factor: Partial) -> Expr:
        """The value of one ∂ factor (∂z/∂W, ∂z^{(l+1)}/∂z^{(l)}, …) by the chain-rule table, as the chains use it."""
        return self._d.factor_value(factor)

    # ----------------------------------------------------------- written order
    def in_order(self, name: str) -> ordered.InOrder:
        """A parameter's chain, factors' product and closed form, each in the chain's order (for printing)."""
        key = self.gradient(name).name
        if key not in self._in_order:
            self._in_order[key] = ordered.gradient(self._d, key, self._dz_in_order)
        return self._in_order[key]

    def output_in_order(self, i: int) -> ordered.InOrder:
        """δ^{(L)}_i's chain, factors' product and simplified form, each in the chain's order."""
        return ordered.output_delta(self._d, i)

    @cached_property
    def cost_in_order(self) -> ordered.Ordered:
        """The cost of one sample as textbooks write it (:func:`derive.engine.ordered.cost`)."""
        return ordered.cost(self._d)

    # ------------------------------------------------------------ matrix form
    @cached_property
    def matrix(self) -> MatrixForm:
        """The matrix form in the notation's convention."""
        return self._matrix(matrixform.convention(self._d))

    @cached_property
    def own_matrix(self) -> MatrixForm:
        """The matrix form in derive's own convention: δ = ∂C/∂z, W with a row per neuron."""
        return self._matrix(matrixform.OWN)

    def _matrix(self, conv: Convention) -> MatrixForm:
        d, layers, hidden = self._d, range(1, self.depth + 1), range(1, self.depth)
        return MatrixForm(
            conv,
            {layer: matrixform.forward(d, layer, conv) for layer in layers},
            matrixform.output_delta(d, conv),
            {layer: matrixform.recursion(d, layer, conv) for layer in hidden},
            {layer: matrixform.backprop_in(layer, d, conv) for layer in hidden},
            {layer: matrixform.gradients(d, layer, conv) for layer in layers},
            {layer: matrixform.activation_derivative(d, layer, conv) for layer in layers},
        )

    def jacobian(self, layer: int) -> Equation:
        """∂a^{(l)}/∂z^{(l)} = the n^{(l)} × n^{(l)} matrix of ∂a^{(l)}_i/∂z^{(l)}_k, entry by entry."""
        n = self.size(layer)
        jac = matrix(Kind.JACOBIAN, layer, n, n)
        return Equation(jac, matrixform.explicit(jac, self._d))

    @cached_property
    def general(self) -> General:
        return General(matrixform.general_index(self._d), matrixform.general(self._d))

    @cached_property
    def update(self) -> Mapping[int, tuple[Equation, ...]]:
        """W ← W − η ∂C/∂W (and, under the error-term convention, W ← W + η δ aᵀ); the same for b; by layer."""
        return {layer: matrixform.update(self._d, layer) for layer in range(1, self.depth + 1)}

    # ------------------------------------------------------------------ numbers
    def at(self, params: Mapping[str, np.ndarray], x: np.ndarray, y: np.ndarray) -> Sample:
        """Every quantity at one sample (x, y), evaluated by derive itself, never by generated code."""
        d, net = self._d, self.network
        params = samples.check_params(net, params)
        point = numbers.at_sample(d, params, x, y)
        deltas = {layer: d.sign * point.dC_dz[layer][0] for layer in range(1, self.depth + 1)}
        gradients = {array: point.gradients[array] for array in params}
        forward = tuple(samples.forward(net, params, x))
        return Sample(params, forward, samples.cost(net, params, x, y), deltas, gradients)

    # -------------------------------------------------------------------- steps
    def steps(self) -> list[Step]:
        """The whole derivation in reading order, every neuron and parameter: for small networks."""
        L = self.depth
        out: list[Step] = []
        for layer in range(1, L + 1):
            forward = self.forward(layer)
            out.append(Step("forward.neuron", tuple(eq for pair in forward.neurons for eq in pair), layer))
            out.append(Step("forward.matrix", forward.matrix, layer))
        out.append(Step("cost.sample", (self.cost.sample,)))
        out.append(Step("cost.batch", (self.cost.batch,)))
        if self.cost.penalty is not None:
            out.append(Step("cost.penalty", (self.cost.penalty,)))
        out.append(Step("delta.definition", (self.delta_definition,)))
        out += self.simplifications
        output = self.output_delta()
        out.append(Step("delta.output", tuple(eq for eqs in output.neurons for eq in eqs), L))
        out.append(Step("delta.output.matrix", output.matrix, L))
        for layer in range(L - 1, 0, -1):
            rec = self.recursion(layer)
            out.append(Step("delta.recursion", rec.neurons, layer))
            out.append(Step("delta.recursion.matrix", rec.matrix, layer))
        for layer in range(L, 0, -1):
            grads = self.gradients(layer)
            for g in grads.parameters:
                out.append(Step("gradient.parameter", (Equation(Partial(sym.COST, g.symbol), g.chain),), layer))
            out.append(Step("gradient.matrix", grads.matrix, layer))
        out.append(Step("general.index", self.general.index))
        out.append(Step("general", self.general.matrix))
        out.append(Step("update", tuple(eq for layer in range(1, L + 1) for eq in self.update[layer])))
        return out


def steps(d: Derivation) -> list[Step]:
    """The derivation in reading order (every neuron and parameter: use on small networks)."""
    return Record(d).steps()


__all__ = [
    "Cost",
    "Forward",
    "General",
    "Gradients",
    "LayerNames",
    "MatrixForm",
    "Names",
    "OutputDelta",
    "OutputElement",
    "Record",
    "Recursion",
    "Sample",
    "steps",
]
