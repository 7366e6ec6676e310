"""The common mistakes in writing the forward pass down: one small record each, with what it gives for one neuron.

A mistake is a frozen dataclass subclassing :class:`DefinitionMistake` with a ``code``, a ``rank`` (the lowest-ranked
one that fits is named) and named fields; defining the class registers it. Its :meth:`DefinitionMistake.gives` says
what a person who made it would have written for one neuron at one point (a :class:`Neuron`), computed in NumPy from
the point's inputs, weights and biases: a definition that matches it at every point and neuron shows the mistake.
Its words are the macro named ``code`` in ``templates/verdict/words_en.j2`` and ``words_zh.j2``. The weight's indices
transposed is :class:`derive.verify.mistakes.Transposed`, the gradients' mistake of the same name.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import ClassVar

import numpy as np
from sympy import Expr, Symbol

from derive.engine.derivation import Derivation
from derive.errors import DeriveError
from derive.model.network import Network
from derive.model.samples import forward, random_point
from derive.rules import activations, floats
from derive.rules import symbols as sym
from derive.verify.findings import Diagnosis
from derive.verify.mistakes import Transposed
from derive.verify.points import _Values, close
from derive.verify.read_bindings import _envs
from derive.verify.reading import Reader
from derive.verify.reading_refs import Reading, Ref
from derive.verify.syntax import BinOp, Formula, Limits, Name, Node, Num, Paren, walk

DEFINITION_MISTAKES: list[type[DefinitionMistake]] = []
POINTS = 4  # seeded points a definition is compared at
EAGER = 200  # parameters up to which a point holds every weight's value from the start


def value(expr: Expr, values: dict[Symbol, float]) -> float:
    """A side's value at a point in float64; nan where it has none."""
    try:
        return floats.evaluate(expr, values)
    except (TypeError, ValueError, ArithmeticError, KeyError):
        return math.nan


def points(net: Network, seed: int, count: int = POINTS) -> list[dict[Symbol, float]]:
    """Seeded points: every input, target, weight and bias drawn, every z and a from the NumPy forward pass.

    A weight's or bias's value is read from its array when something asks for it (:class:`derive.verify.points.
    _Values`), except on a small network, whose counterexample lists them all: a 784-input layer has 78400 weights.
    """
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        params, x, y = random_point(net, rng)
        values = _Values({name: np.asarray(array, dtype=float) for name, array in params.items()})
        values.update({sym.x(j + 1): float(v) for j, v in enumerate(x)})
        values.update({sym.y(k + 1): float(v) for k, v in enumerate(y)})
        if net.parameter_count() <= EAGER:
            for layer in range(1, net.depth + 1):
                for (i, j), v in np.ndenumerate(params[f"W{layer}"]):
                    values[sym.W(layer, i + 1, j + 1)] = float(v)
                for i, v in enumerate(params.get(f"b{layer}", ())):
                    values[sym.b(layer, i + 1)] = float(v)
        for layer, (z, a) in enumerate(forward(net, params, x), start=1):
            values.update({sym.z(layer, i + 1): float(v) for i, v in enumerate(z)})
            values.update({sym.a(layer, i + 1): float(v) for i, v in enumerate(a)})
        out.append(values)
    return out


@dataclass(frozen=True)
class Neuron:
    """One neuron's quantity at one point: its network, its reference (z or a, layer, index) and the point's values."""

    d: Derivation
    ref: Ref
    values: dict[Symbol, float]

    @property
    def layer(self) -> int:
        return self.ref.layer  # type: ignore[return-value]

    @property
    def i(self) -> int:
        return self.ref.index[0] - 1  # type: ignore[index]

    def outputs(self, layer: int) -> np.ndarray:
        """a^{(layer)} at the point (x for layer 0)."""
        return np.array([self.values[sym.a(layer, k)] for k in range(1, self.d.size(layer) + 1)])

    @cached_property
    def weights(self) -> np.ndarray:
        return self.values.params[f"W{self.layer}"]  # type: ignore[attr-defined]

    @cached_property
    def bias(self) -> np.ndarray:
        if not self.d.network.bias:
            return np.zeros(self.d.size(self.layer))
        return self.values.params[f"b{self.layer}"]  # type: ignore[attr-defined]

    @property
    def z(self) -> np.ndarray:
        return np.array([self.values[sym.z(self.layer, k)] for k in range(1, self.d.size(self.layer) + 1)])

    def applied(self, weighted: np.ndarray) -> float:
        """This neuron's value from the layer's weighted inputs: z itself, or a = g(z) of the layer's activation."""
        if self.ref.kind == "z":
            return float(weighted[self.i])
        return float(np.asarray(self.d.network.activation(self.layer).numpy(weighted))[self.i])


class DefinitionMistake(Diagnosis):
    """A mistake in a definition of the forward pass; subclasses that set a ``rank`` are registered."""

    rank: ClassVar[int]

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if "rank" in cls.__dict__:
            DEFINITION_MISTAKES.append(cls)

    @classmethod
    def gives(cls, at: Neuron) -> Iterator[tuple[Diagnosis, object, float]]:
        """(the mistake, what makes it the same mistake at another neuron, the value it gives) for one neuron."""
        return iter(())


@dataclass(frozen=True)
class BiasUnitMissing(DefinitionMistake):
    """The bias left out under bias = "unit": a sum over the layer below started at 1, where its term 0, the weight
    w_{j0} from the unit x_0 = 1, is the bias (Bishop's Σ_{i=1}^{D} w_{ji} x_i without w_{j0})."""

    code = "bias_unit_missing"
    rank = 9

    @classmethod
    def gives(cls, at: Neuron) -> Iterator[tuple[Diagnosis, object, float]]:
        if at.d.network.bias and at.d.network.notation.bias == "unit" and at.layer >= 1:
            yield cls(), cls, at.applied(at.weights @ at.outputs(at.layer - 1))


@dataclass(frozen=True)
class BiasMissing(DefinitionMistake):
    """The bias left out, z = W a where the spec's layers have biases (Bishop keeps his in the weights as w_{j0} with
    x_0 = 1, Ng his in Θ with a bias unit a_0 = 1: a network declared so has ``bias = false``)."""

    code = "bias_missing"
    rank = 10

    @classmethod
    def gives(cls, at: Neuron) -> Iterator[tuple[Diagnosis, object, float]]:
        if at.d.network.bias and at.layer >= 1:
            yield cls(), cls, at.applied(at.weights @ at.outputs(at.layer - 1))


@dataclass(frozen=True)
class ActivationMissing(DefinitionMistake):
    """The activation left out: a written as the weighted input z. ``function`` is the layer's, as LaTeX."""

    code = "activation_missing"
    rank = 20
    function: str

    @classmethod
    def gives(cls, at: Neuron) -> Iterator[tuple[Diagnosis, object, float]]:
        if at.ref.kind == "a" and at.layer >= 1:
            yield cls(at.d.network.activation(at.layer).latex), cls, float(at.z[at.i])


@dataclass(frozen=True)
class ActivationApplied(DefinitionMistake):
    """The pre-activation written with the activation applied: z is the weighted input, before g."""

    code = "activation_applied"
    rank = 25
    function: str

    @classmethod
    def gives(cls, at: Neuron) -> Iterator[tuple[Diagnosis, object, float]]:
        if at.ref.kind == "z" and at.layer >= 1:
            act = at.d.network.activation(at.layer)
            yield cls(act.latex), cls, float(np.asarray(act.numpy(at.z))[at.i])


@dataclass(frozen=True)
class WrongActivation(DefinitionMistake):
    """Another activation than the layer's: ``written`` where the spec's layer uses ``declared`` (names, as LaTeX)."""

    code = "wrong_activation"
    rank = 30
    written: str
    declared: str

    @classmethod
    def gives(cls, at: Neuron) -> Iterator[tuple[Diagnosis, object, float]]:
        if at.ref.kind != "a" or at.layer < 1:
            return
        own = at.d.network.activation(at.layer)
        for act in activations.REGISTRY.values():
            if act.name == own.name:
                continue
            try:
                given = float(np.asarray(act.numpy(at.z))[at.i])
            except (ValueError, TypeError, ArithmeticError):
                continue
            yield cls(act.latex, own.latex), (cls, act.name), given


@dataclass(frozen=True)
class WrongInputLayer(DefinitionMistake):
    """The weighted input of another layer's activations: ``used`` where ``own`` (the layer below) belongs. In a
    definition of a general layer ``letter`` (l), both are offsets from l."""

    code = "wrong_input_layer"
    rank = 40
    used: int
    own: int
    letter: str | None = None

    @classmethod
    def gives(cls, at: Neuron) -> Iterator[tuple[Diagnosis, object, float]]:
        if at.layer < 1:
            return
        for m in range(at.d.L + 1):
            if m != at.layer - 1 and at.d.size(m) == at.d.size(at.layer - 1):
                given = at.applied(at.weights @ at.outputs(m) + at.bias)
                yield cls(m, at.layer - 1), (cls, m - at.layer), given


@dataclass(frozen=True)
class UnsummedIndex(Diagnosis):
    """An index letter of the right side that nothing binds: the sum over the layer below is missing."""

    code = "definition_sum"
    letter: str


def _transposed(at: Neuron) -> Iterator[tuple[Diagnosis, object, float]]:
    """W^T a where W a belongs, which a square W allows (else the shapes clash, and the definition is re-read)."""
    if at.layer >= 1 and at.weights.shape[0] == at.weights.shape[1]:
        yield Transposed(), Transposed, at.applied(at.weights.T @ at.outputs(at.layer - 1) + at.bias)


def found(
    d: Derivation, elements: Sequence, pts: list[dict[Symbol, float]], letter: str | None
) -> tuple[Diagnosis, ...]:
    """The lowest-ranked mistake whose values the definition matches at every point, for every neuron compared
    (the first Limits.DIAGNOSED): said in the general layer ``letter`` when the definition has one."""
    kinds = sorted(DEFINITION_MISTAKES, key=lambda kind: kind.rank)
    sources = [kind.gives for kind in kinds[:3]] + [_transposed] + [kind.gives for kind in kinds[3:]]
    matched: dict[object, Diagnosis] | None = None
    for element in elements[: Limits.DIAGNOSED]:
        for values in pts:
            at = Neuron(d, element.ref, values)
            given = value(element.given, values)
            fits: dict[object, Diagnosis] = {}
            for source in sources:
                try:
                    for mistake, key, gives in source(at):
                        if close(given, gives):
                            fits.setdefault(key, mistake)
                except (KeyError, DeriveError):
                    continue
            matched = fits if matched is None else {k: m for k, m in matched.items() if k in fits}
            if not matched:
                return ()
    if not matched:
        return ()
    first = next(iter(matched.values()))
    if isinstance(first, WrongInputLayer) and letter is not None:
        layer = elements[0].ref.layer
        return (WrongInputLayer(first.used - layer, first.own - layer, letter),)
    return (first,)


def layer_edits(
    d: Derivation, formula: Formula, reading: Reading, rhs: Node
) -> Iterator[tuple[Node, Node, tuple[int, int, str | None]]]:
    """(a name of activations on the right side, that name in the layer below the left side's, the mistake's layers):
    for a definition whose shapes clash because it takes another layer's activations (a^{(l)} for a^{(l−1)})."""
    lhs = formula.lhs
    reader = Reader(d, reading, formula.text)
    envs = _envs(d, reader, lhs)  # type: ignore[arg-type]
    n = reading.notation
    for env in envs.envs:
        bound = Reader(d, reading, formula.text, env=env)
        target = bound.ref(lhs)  # type: ignore[arg-type]
        if target.layer is None or target.layer < 1:
            continue
        for node in walk(rhs):
            if not isinstance(node, Name) or bound.kind(node) not in ("a", "x", "out"):
                continue
            try:
                layer = bound.ref(node).layer
            except DeriveError:
                continue
            if layer is None or layer == target.layer - 1:
                continue
            if envs.letter is not None:
                script: Node = _minus_one(envs.letter, node.pos)
                layers = (layer - target.layer, -1, envs.letter)
            else:
                script = Num(str(target.layer - 1 + n.input_layer), node.pos)
                layers = (layer, target.layer - 1, None)
            if n.layer_marker != "bare" and isinstance(script, Num):
                script = Paren(script, node.pos)
            letter = n.activation if bound.kind(node) != "a" else node.base
            yield node, Name(letter, node.pos, sub=node.sub, sup=script), layers
        return


def _minus_one(letter: str, pos: int) -> Node:
    return BinOp("-", Name(letter, pos), Num("1", pos), pos)
