"""The registry of common mistakes in hand-derived backpropagation: one small record each.

A mistake is a frozen dataclass subclassing :class:`Mistake`, with a ``code``, a ``rank`` (lower ranks
are named first) and named fields (which layer, which term); defining the class registers it. It says
how to compute what the mistake gives in one of two ways:

- :meth:`Mistake.gives`: for one element at one sample point (a :class:`Site`), the value a person who
  made the mistake would have written. A formula that matches the value at every checked point and
  element is diagnosed with it;
- :meth:`Mistake.seen`: from the formula as a whole (its numbers, its expression);
- :meth:`Mistake.edits`: for a formula whose shapes clash (no number to compare), the edits of its syntax tree
  that would undo the mistake; it is named when the edited formula is right.

A mistake whose fields name layers lists them in ``layered``: for a formula in a general layer l, they are said
as offsets from l (``letter``), so that the same mistake found in layer 1 and in layer 2 is one.

Its words are the macro named ``code`` in ``templates/verdict/words_en.j2`` and ``words_zh.j2``. Adding a
mistake is one record here and its two macros; :mod:`derive.verify.diagnose` runs every registered one.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import ClassVar, Self

import sympy
from sympy import Expr

from derive.rules import regularizers
from derive.rules import symbols as sym
from derive.verify.backward import weight_symbol
from derive.verify.findings import Diagnosis
from derive.verify.points import close
from derive.verify.sites import Evidence, Site, Sketch, relettered, weight_letters
from derive.verify.syntax import Call, Limits, Name, Node, PartialNode, Transpose, walk

MISTAKES: list[type[Mistake]] = []  # every registered mistake; ranked() gives them in rank order


def ranked() -> list[type[Mistake]]:
    """The registered mistakes, lowest rank first."""
    return sorted(MISTAKES, key=lambda kind: kind.rank)


@dataclass(frozen=True)
class Mistake(Diagnosis):
    """A common mistake; subclasses are registered when defined (those that set a ``rank``)."""

    rank: ClassVar[int]
    with_sign: ClassVar[bool] = True  # whether it is also looked for together with the wrong sign
    layered: ClassVar[tuple[str, ...]] = ()  # the fields that are layers (and a field ``letter`` for them)

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if "rank" in cls.__dict__:
            MISTAKES.append(cls)

    @classmethod
    def gives(cls, at: Site, fitted: list[Self] | None) -> Iterator[tuple[Self, float]]:
        """(this mistake with its fields, the value it gives) for one element at one point.

        ``fitted`` are the ones of this kind that fitted every element so far (None for the first
        element): a mistake with many candidates computes only those.
        """
        return iter(())

    @classmethod
    def seen(cls, formula: Evidence) -> Self | None:
        """This mistake, when the formula as a whole shows it."""
        return None

    @classmethod
    def edits(cls, formula: Sketch) -> Iterator[tuple[Self, Node, Node]]:
        """(this mistake, a node of the formula, the node without the mistake): for a formula whose shapes clash,
        so that no number can be compared, the mistake is named when the formula so edited is right."""
        return iter(())

    def general(self, layer: int, letter: str) -> Self:
        """This mistake, found at an element of ``layer``, said in the general layer ``letter`` (l): its layers
        become offsets from l, so that the same mistake found in layer 1 and in layer 2 is one."""
        if not self.layered:
            return self
        return replace(self, letter=letter, **{f: getattr(self, f) - layer for f in self.layered})

    def at(self, layer: int) -> Self:
        """A mistake said in the general layer, at an element of ``layer``: its layers as numbers again."""
        if not self.layered or getattr(self, "letter", None) is None:
            return self
        return replace(self, letter=None, **{f: getattr(self, f) + layer for f in self.layered})


# ------------------------------------------------------- per element and point
@dataclass(frozen=True)
class Sign(Mistake):
    """The negative of the derivative (y − ŷ against ŷ − y)."""

    code = "sign"
    rank = 10
    with_sign = False

    @classmethod
    def gives(cls, at: Site, fitted: list[Self] | None) -> Iterator[tuple[Self, float]]:
        yield cls(), -at.correct


@dataclass(frozen=True)
class FactorTwo(Mistake):
    """Twice (``double``) or half (``half``) the derivative: the ½ of the squared error."""

    code = "factor_two"
    rank = 20
    which: str

    @classmethod
    def gives(cls, at: Site, fitted: list[Self] | None) -> Iterator[tuple[Self, float]]:
        yield cls("double"), 2 * at.correct
        yield cls("half"), at.correct / 2


@dataclass(frozen=True)
class Penalty(Mistake):
    """The L2 penalty's term ∂R/∂θ of a gradient of J left out (``which`` "missing"), or taken ``half`` or
    ``double`` (λW where the plain form R = λ Σ W² gives 2λW); ``term`` is the form's term, as text."""

    code = "penalty"
    rank = 15
    which: str
    term: str
    form: str

    @classmethod
    def gives(cls, at: Site, fitted: list[Self] | None) -> Iterator[tuple[Self, float]]:
        ref, reg = at.target.ref, at.d.network.regularization
        if reg is None or not at.target.objective or ref.kind not in ("W", "b") or ref.index is None:
            return
        penalty = at.d.penalty_gradient(sym.parameter_name(ref.layer, *ref.index))
        if penalty == 0:
            return
        scale = -at.values[sym.LEARNING_RATE] if at.target.what == "update" else 1.0
        term = scale * float(penalty.xreplace({s: at.values[s] for s in penalty.free_symbols}))
        coefficient = reg.rule.coefficient(regularizers.LAMBDA, regularizers.BATCH)
        letter = at.d.network.notation.weight_text if ref.kind == "W" else ref.kind  # in the notation: λθ, λw
        text = sympy.sstr(coefficient).replace("lambda", "λ").replace("*", "") + letter
        for which, kept in (("missing", 0.0), ("half", 0.5), ("double", 2.0)):
            yield cls(which, text, reg.form), at.correct - term + kept * term


@dataclass(frozen=True)
class MissingDerivative(Mistake):
    """The activation derivative of ``layer`` (the element's own or one above it) left out; with ``letter``,
    ``layer`` is an offset from that general layer (0: layer l's own)."""

    code = "missing_derivative"
    rank = 30
    layered = ("layer",)
    layer: int
    letter: str | None = None

    @classmethod
    def gives(cls, at: Site, fitted: list[Self] | None) -> Iterator[tuple[Self, float]]:
        if at.factors is None:
            return
        (scale, local), d, layer = at.factors, at.d, at.layer
        for skip in range(layer, d.L + 1):
            if skip == d.L and at.matching:  # a − y has no activation derivative to leave out
                continue
            if fitted is not None and cls(skip) not in fitted:
                continue
            dz = at.nums.dz_without(skip, layer)
            if dz is not None:
                yield cls(skip), scale * float(dz[layer][at.i - 1]) * local


@dataclass(frozen=True)
class ExtraDerivative(Mistake):
    """σ'(z) of the outputs kept where the loss cancels it (or softmax's a(1 − a) for its Jacobian)."""

    code = "extra_derivative"
    rank = 40
    layered = ("layer",)
    layer: int
    letter: str | None = None

    @classmethod
    def gives(cls, at: Site, fitted: list[Self] | None) -> Iterator[tuple[Self, float]]:
        if at.factors is None or at.layer != at.d.L or not at.matching:
            return
        (scale, local), layer, i = at.factors, at.layer, at.i
        a_i = at.values[sym.a(layer, i)]
        extra = at.own if at.own is not None else a_i * (1 - a_i)
        yield cls(layer), scale * at.point.dz[(layer, i)] * extra * local


@dataclass(frozen=True)
class WrongLayerDerivative(Mistake):
    """The activation derivative of another ``layer`` (``neuron``, None for the element's own index); with
    ``letter``, ``layer`` is an offset from that general layer (1: layer l + 1's where layer l's belongs)."""

    code = "wrong_layer_derivative"
    rank = 50
    layered = ("layer",)
    layer: int
    neuron: int | None
    letter: str | None = None

    @classmethod
    def gives(cls, at: Site, fitted: list[Self] | None) -> Iterator[tuple[Self, float]]:
        d, layer, i = at.d, at.layer, at.i
        if at.factors is None or at.own is None or (layer == d.L and at.matching):
            return
        (scale, local), sizes, nums = at.factors, at.nums.sizes, at.nums
        if fitted is None:
            pairs = [(other, k) for other in range(1, d.L + 1) for k in range(1, sizes[other] + 1)]
        else:
            pairs = [(m.layer, i if m.neuron is None else m.neuron) for m in fitted]
        for other, k in dict.fromkeys(pairs):
            if other == layer or not 1 <= other <= d.L or k > sizes[other] or nums.derivatives(other) is None:
                continue
            value = scale * at.back * nums.derivative(other, k) * local
            yield cls(other, k), value
            if k == i:
                yield cls(other, None), value

    @classmethod
    def edits(cls, formula: Sketch) -> Iterator[tuple[Self, Node, Node]]:
        """σ'(z^{(l+1)}) made σ'(z^{(l)}): the argument of a derivative given the layer of the element."""
        names = [n for node in formula.nodes for n in walk(node) if isinstance(n, Name) and n.sup is not None]
        own = next((n.sup for n in names if formula.layer(n.sup) == formula.target), None)
        if own is None:
            return
        for node in formula.nodes:
            for call in walk(node):
                if not isinstance(call, Call) or not call.func.primes or len(call.args) != 1:
                    continue
                arg = call.args[0]
                other = formula.layer(arg.sup) if isinstance(arg, Name) and arg.sup is not None else None
                if other is None or other == formula.target:
                    continue
                if formula.letter is not None:
                    yield cls(other - formula.target, None, formula.letter), arg, replace(arg, sup=own)
                else:
                    yield cls(other, None), arg, replace(arg, sup=own)


@dataclass(frozen=True)
class MissingSum(Mistake):
    """One term of Σ_k W_{ki} δ_k instead of the sum: term ``k`` (None: k = the element's own index);
    or, found by the reader rather than by numbers, the index ``letter`` left unsummed."""

    code = "missing_sum"
    rank = 60
    k: int | None = None
    letter: str | None = None

    @classmethod
    def gives(cls, at: Site, fitted: list[Self] | None) -> Iterator[tuple[Self, float]]:
        d, layer, i = at.d, at.layer, at.i
        if at.factors is None or at.own is None or layer >= d.L or fitted == []:
            return
        (scale, local), sizes, point = at.factors, at.nums.sizes, at.point
        every = range(1, sizes[layer + 1] + 1)
        for k in every if fitted is None else [m.k for m in fitted if m.k is not None]:
            term = at.own * point.values[weight_symbol(layer + 1, k, i)] * point.dz[(layer + 1, k)]
            yield cls(k), scale * term * local
        if i <= sizes[layer + 1] and (fitted is None or cls() in fitted):
            term = at.own * point.values[weight_symbol(layer + 1, i, i)] * point.dz[(layer + 1, i)]
            yield cls(), scale * term * local


@dataclass(frozen=True)
class Transposed(Mistake):
    """W_{ji} where W_{ij} belongs (also said when the formula is right with the index order flipped): δ_j a_i for
    ∂C/∂W_{ij}, in the same layers, or with the roles swapped too (``roles``), as Bishop's letters give δ_j z_k for
    ∂E_n/∂w_{kj}: the error of the unit the weight leaves times the activation of the unit it enters."""

    code = "transposed"
    rank = 70
    roles: bool = False

    @classmethod
    def gives(cls, at: Site, fitted: list[Self] | None) -> Iterator[tuple[Self, float]]:
        ref = at.target.ref
        if at.factors is None or ref.kind != "W":
            return
        (scale, _), layer, i, j = at.factors, at.layer, at.i, ref.index[1]
        sizes = at.nums.sizes
        if i <= sizes[layer - 1] and j <= sizes[layer] and (fitted is None or cls() in fitted):
            yield cls(), scale * at.point.dz[(layer, j)] * at.values[sym.a(layer - 1, i)]
        if layer > 1 and (fitted is None or cls(roles=True) in fitted):
            yield cls(roles=True), scale * at.point.dz[(layer - 1, j)] * at.values[sym.a(layer, i)]

    @classmethod
    def edits(cls, formula: Sketch) -> Iterator[tuple[Self, Node, Node]]:
        """∂E/∂w_{ji} = δ_i x_j made δ_j x_i: the weight's two index letters swapped on the other side."""
        for node in formula.nodes:
            letters = weight_letters(node)
            if letters is not None:
                for other in formula.nodes:
                    if other is not node:
                        yield cls(), other, relettered(other, *letters)
                return


@dataclass(frozen=True)
class MissingTranspose(Mistake):
    """A vector written where its transpose belongs: a^{(1)} δ^{(2)} for (a^{(1)})ᵀ δ^{(2)} with rows (cs231n's h
    dscores for hᵀ dscores), δ a for δ aᵀ with columns. Named when the formula, its shapes clashing, is right with
    the vector ``name`` (as written) transposed."""

    code = "missing_transpose"
    rank = 72

    name: str

    @classmethod
    def edits(cls, formula: Sketch) -> Iterator[tuple[Self, Node, Node]]:
        skipped: set[int] = set()  # inside ∂…/∂… or a transpose, a function's own name, an element's subscript
        for node in formula.nodes:
            for n in walk(node):
                if isinstance(n, (PartialNode, Transpose)):
                    skipped |= {id(inner) for inner in walk(n)}
                elif isinstance(n, Call):
                    skipped.add(id(n.func))
        for node in formula.nodes:
            for n in walk(node):
                if isinstance(n, Name) and not n.sub and id(n) not in skipped:
                    yield cls(formula.written(n)), n, Transpose(n, n.pos)


@dataclass(frozen=True)
class OtherGradient(Mistake):
    """The gradient of another weight or bias of the same layer: ``name`` (canonical, W1[1,1]) for the element
    verified, ``wrong`` the index that differs: ``input`` (the neuron of the layer below), ``output`` (the
    neuron the weight or bias feeds) or ``both``. The transposed weight is :class:`Transposed`'s. For many
    elements (W1[i,j], a whole W1) the name is one written with the element's own letters: W1[i,i] (the input
    index is the output index), W1[j,j] (the reverse).

    Candidates differ from the element in one index (a few thousand on the widest layer derive verifies),
    in both only while the layer has at most Limits.CHECKED weights, so the cost stays bounded."""

    code = "other_gradient"
    rank = 75
    name: str
    wrong: str

    @classmethod
    def gives(cls, at: Site, fitted: list[Self] | None) -> Iterator[tuple[Self, float]]:
        ref = at.target.ref
        if at.factors is None or ref.kind not in ("W", "b") or at.target.objective or fitted == []:
            return
        scale, sizes, layer, i = at.factors[0], at.nums.sizes, at.layer, at.i
        rows = range(1, sizes[layer] + 1)
        if ref.kind == "b":
            said = [(cls(sym.parameter_name(layer, k), "output"), k, None) for k in rows if k != i]
        else:
            j, cols = ref.index[1], range(1, sizes[layer - 1] + 1)
            places = [(i, m) for m in cols if m != j] + [(k, j) for k in rows if k != i]
            if len(rows) * len(cols) <= Limits.CHECKED:
                places += [(k, m) for k in rows for m in cols if k != i and m != j and (k, m) != (j, i)]
            said = [(cls(sym.parameter_name(layer, k, m), _which(k, m, i, j)), k, m) for k, m in places]
            if i in cols:  # the same for every element: the output index written for the input index
                said.append((cls(f"W{layer}[i,i]", "input"), i, i))
            if j in rows:
                said.append((cls(f"W{layer}[j,j]", "output"), j, j))
        if fitted is not None:
            said = [entry for entry in said if entry[0] in fitted]
        for mistake, k, m in said:
            local = 1.0 if m is None else at.values[sym.a(layer - 1, m)]
            yield mistake, scale * at.point.dz[(layer, k)] * local


def _which(k: int, m: int, i: int, j: int) -> str:
    """The index of W_{km} that differs from the element W_{ij}'s: input, output or both."""
    return "output" if m == j else "input" if k == i else "both"


# ------------------------------------------------------------- the whole formula
@dataclass(frozen=True)
class Proportional(Mistake):
    """The same ``ratio`` to the derivative at every point and element, when no other mistake explains it."""

    code = "proportional"
    rank = 80
    ratio: float

    @classmethod
    def seen(cls, formula: Evidence) -> Self | None:
        if formula.found:
            return None
        ratios = [given / correct for given, correct in formula.pairs if abs(correct) > 1e-9 and math.isfinite(given)]
        if len(ratios) < 2 or not all(close(r, ratios[0]) for r in ratios) or close(ratios[0], 1.0):
            return None
        return cls(float(f"{ratios[0]:.6g}"))


@dataclass(frozen=True)
class SharedError(Mistake):
    """Article 000's error shared out by w/(w + w): a denominator made of weights only."""

    code = "shared_error"
    rank = 90

    @classmethod
    def seen(cls, formula: Evidence) -> Self | None:
        for el in formula.elements[:1]:
            for power in el.given.atoms(sympy.Pow):
                if power.exp.is_negative and power.base.is_Add and power.base.free_symbols:
                    if all(_is_weight(s) for s in power.base.free_symbols):
                        return cls()
        return None


def _is_weight(s: Expr) -> bool:
    info = sym.parse_name(str(s))
    return info is not None and info.kind == "W"
