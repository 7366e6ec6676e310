"""What a mistake's values are computed from: one element at one sample point (:class:`Site`), the formula as a
whole (:class:`Evidence`), and a formula whose shapes clash, which a mistake may edit (:class:`Sketch`; its index
letters swapped by :func:`relettered`).

Separate from :mod:`derive.verify.mistakes`, which holds the registry and one record per mistake.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from functools import cached_property

from sympy import Symbol

from derive.engine.derivation import Derivation
from derive.rules import symbols as sym
from derive.verify.backward import Backward, Point
from derive.verify.findings import Diagnosis
from derive.verify.read import _Element
from derive.verify.reading_refs import Target
from derive.verify.syntax import Entry, Name, Node, PartialNode, Sum, walk


@dataclass
class Site:
    """One element of what is verified (a weight's ∂C/∂w, a bias's, a δ) at one point: what values are made of.

    Every number is computed when a mistake first asks for it, from the point's :class:`Backward`, which
    the elements at the point share.
    """

    d: Derivation
    target: Target
    nums: Backward
    sign: int
    correct: float  # the derived value of the element at the point

    @property
    def point(self) -> Point:
        return self.nums.point

    @property
    def values(self) -> Mapping[Symbol, float]:
        return self.nums.point.values

    @property
    def layer(self) -> int:
        return self.target.ref.layer

    @property
    def i(self) -> int:
        """The element's neuron (the row of a weight)."""
        return self.target.ref.index[0]

    @cached_property
    def factors(self) -> tuple[float, float] | None:
        """(scale, local) with value = scale · ∂C/∂z_i · local, or None when the element is not W, b, z or δ."""
        ref = self.target.ref
        if ref.kind not in ("W", "b", "z", "delta") or ref.index is None:
            return None
        local = self.values[sym.a(ref.layer - 1, ref.index[1])] if ref.kind == "W" else 1.0
        scale = {"grad": 1.0, "delta": float(self.sign), "update": -self.values[sym.LEARNING_RATE]}[self.target.what]
        return scale, local

    @cached_property
    def own(self) -> float | None:
        """g'(z_i) of the element's own neuron, None for softmax (not element-wise)."""
        return self.nums.derivative(self.layer, self.i)

    @cached_property
    def back(self) -> float:
        """∂C/∂a_i of the element's neuron: δ before the activation's derivative."""
        return self.nums.back(self.layer, self.i)

    @cached_property
    def matching(self) -> bool:
        """Whether the loss cancels the output activation's derivative (δ of the outputs is a − y)."""
        return self.d.output_matching()


@dataclass
class Sketch:
    """A formula that cannot be compared (its shapes clash for every element): what a mistake may edit in it.

    ``nodes`` are its sides (and the parameter); ``layer`` is the layer a superscript names at the first element
    (None when it names none); ``target`` the first element's layer; ``letter`` the general layer's letter;
    ``written`` a name as the formula writes it.
    """

    nodes: tuple[Node, ...]
    layer: Callable[[Node], int | None]
    target: int
    letter: str | None
    written: Callable[[Node], str] = str


@dataclass
class Evidence:
    """The formula as a whole: its elements, the (formula, correct) numbers of every element at every point,
    and the mistakes found so far (per element, then the whole-formula ones of lower rank)."""

    elements: Sequence[_Element]  # the formula's value of each (``given``) and what it is for
    pairs: list[tuple[float, float]]
    found: list[Diagnosis]


def weight_letters(node: Node) -> tuple[str, str] | None:
    """The two index letters of the weight a left side ∂C/∂w_{ji} (or Δw_{ji}) is about, when it is one."""
    for part in walk(node):
        if isinstance(part, PartialNode) and isinstance(part.wrt, Name) and part.wrt.base in ("w", "W", "theta"):
            atoms = [a for sub in part.wrt.sub or () for a in walk(sub) if isinstance(a, Name)]
            if (
                len(atoms) == 2
                and all(len(a.base) == 1 and not a.sub for a in atoms)
                and atoms[0].base != atoms[1].base
            ):
                return atoms[0].base, atoms[1].base
    return None


def relettered(node: Node, a: str, b: str, index: bool = False) -> Node:
    """A syntax tree with the index letters a and b swapped: in subscripts (``index``), entries' indices and sums."""
    swap = {a: b, b: a}
    if isinstance(node, Name):
        base = swap.get(node.base, node.base) if index and not node.sub and not node.sup else node.base
        sub = tuple(relettered(part, a, b, True) for part in node.sub) if node.sub else node.sub
        return replace(node, base=base, sub=sub)
    changes: dict[str, object] = {"index": swap.get(node.index, node.index)} if isinstance(node, Sum) else {}
    for f in fields(node):
        value, inner = getattr(node, f.name), index or (isinstance(node, Entry) and f.name == "index")
        if isinstance(value, Node):
            changes[f.name] = relettered(value, a, b, inner)
        elif isinstance(value, tuple) and any(isinstance(v, Node) for v in value):
            changes[f.name] = tuple(relettered(v, a, b, inner) if isinstance(v, Node) else v for v in value)
    return replace(node, **changes)
