"""The bias written as a weight from a unit fixed at 1 (``[notation] bias = "unit"``): Bishop's w_{j0} with x_0 = 1,
Ng's bias unit a^{(l)}_0 = 1 and the column 0 of his Θ^{(l)}, Wikipedia's weight from a constant neuron.

Only reading changes, never a name or the mathematics: the Reader asks this module whether an index may be 0 (a
weight's input index, an activation's index), what a 0 there stands for (the bias b_j, the constant 1), whether a sum
written without bounds starts at 0 (it does when its letter is a weight's input index and an activation's index and
nothing else, as in Σ_i w_{ji} x_i), and whether a product of a weight matrix and the activations of the layer it
leaves, Θ^{(l)} a^{(l)}, is [b | Θ][1; a] = Θ a + b. A side of a formula that writes the bias itself (b, or an index
0) keeps it where it is written: its sums without bounds start at 1 and Θ a is Θ a. Every such reading is a note of the
verdict (:class:`BiasUnit`); a definition that is right only with the other value says so (:class:`BiasConvention`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from typing import Protocol

from sympy import Matrix

from derive.errors import DeriveError
from derive.model.network import Network
from derive.verify.findings import Diagnosis, Note
from derive.verify.formula import parse
from derive.verify.reading_refs import Reading, Ref, Value
from derive.verify.syntax import BinOp, Name, Node, Num, Paren, Sum, Transpose, walk


class Reader(Protocol):
    """The parts of :class:`derive.verify.reading.Reader` this module uses (it is below the Reader: no import)."""

    reading: Reading
    text: str

    @property
    def net(self) -> Network: ...

    @property
    def rows(self) -> bool: ...

    def note(self, note: Note) -> None: ...

    def describe(self, node: Node) -> str: ...

    def kind(self, node: Name) -> str: ...

    def ref(self, node: Node) -> Ref: ...

    def value(self, ref: Ref, node: Node | None = None) -> Value: ...


INPUT = "input"  # the position of a weight's input index: w_{j·} under to_from, w_{·j} under from_to
UNIT = "unit"  # the index of an activation or an input: x_·, z_·, a^{(l)}_·, o_·
WEIGHT_LETTERS = ("w", "W", "theta", "Theta")


@dataclass(frozen=True)
class BiasUnit(Note):
    """How a formula was read under bias = "unit": ``how`` is ``sum`` (the sum over the index letter ``written`` runs
    from 0, and its term 0 is the bias: ``weight`` at 0 the bias, ``unit`` at 0 the constant 1, both as written),
    ``weight`` (the weight ``written`` with input index 0 is a bias of ``layer``), ``unit`` (``written``, an
    activation with index 0, is 1) or ``product`` (``written``, a weight matrix times the activations it takes, is
    [b | W][1; a]: the biases of ``layer`` added)."""

    code = "bias_unit"
    how: str
    written: str
    weight: str = ""
    unit: str = ""
    layer: int | None = None


@dataclass(frozen=True)
class BiasConvention(Diagnosis):
    """The formula is right with the other value of the notation's ``bias``: ``value`` "unit" (the bias is the weight
    from a unit fixed at 1) or "separate" (derive's own, the bias written apart)."""

    code = "bias_convention"
    value: str


# ---------------------------------------------------------------- what the notation allows
def active(reader: Reader) -> bool:
    """Whether indices 0 are read: the notation has bias = "unit" and the network has biases."""
    return reader.reading.notation.bias == "unit" and bool(reader.net.bias)


def implicit(reader: Reader, at: Node) -> bool:
    """Whether the bias is in the sums and products of the side of the formula where ``at`` is, without being
    written: bias = "unit", and that side does not write the bias itself (b, or an index 0: w_{j0}, x_0)."""
    if not active(reader):
        return False
    written = _writes_bias(reader.text, reader.reading.notation.spelled("b").lstrip("\\"))
    return not any(start <= at.pos < end for start, end in written)


@functools.lru_cache(maxsize=256)
def _writes_bias(text: str, letter: str) -> tuple[tuple[int, int], ...]:
    """Where the sides of a formula that write a bias are, (start, end) each: a side with a name b (or its spelling)
    or an index 0 on a weight or an activation. Each side of a chain A = B = C on its own."""
    try:
        formula = parse(text)
    except DeriveError:
        return ()
    nodes = [formula.lhs, formula.rhs, *formula.more]
    sides = [node for node in nodes if node is not None]
    spans = formula.spans if len(formula.spans) == len(sides) else ((0, len(text)),) * len(sides)
    return tuple(span for side, span in zip(sides, spans, strict=True) if _names_bias(side, letter))


def _names_bias(side: Node, letter: str) -> bool:
    for node in walk(side):
        if not isinstance(node, Name):
            continue
        if node.base in ("b", letter):
            return True
        zero = any(isinstance(n, Num) and "0" in n.text for part in node.sub or () for n in walk(part))
        if zero or (node.base in WEIGHT_LETTERS and "0" in (node.digits or "")):
            return True
    return False


def other(reading: Reading) -> Reading:
    """The reading with the other value of bias."""
    n = reading.notation
    return Reading(replace(n, bias="separate" if n.bias == "unit" else "unit"), reading.weight_shift)


def out_of_range(reader: Reader, role: str | None, value: int, message: str) -> str:
    """An index 0 where the bias unit's would be: the error says which option reads it, or that there is no bias."""
    if role is None or value != 0:
        return message
    if reader.reading.notation.bias == "unit":
        return message + "; an index 0 is the bias unit's, but this network has no biases (bias = false)"
    return message + '; an index 0 is the bias unit\'s (w_{j0} the bias, x_0 = 1) with [notation] bias = "unit"'


# ---------------------------------------------------------------- readings
def weight(reader: Reader, node: Name, atom: Node, layer: int, i: int) -> Ref:
    """The weight with input index 0: the bias of neuron i. A 0 written is noted; a letter at 0 is a sum's term."""
    if isinstance(atom, Num):
        reader.note(BiasUnit("weight", reader.describe(node), layer=layer))
    return Ref("b", layer, (i,))


def unit(reader: Reader, node: Name, atom: Node, layer: int) -> Ref:
    """An activation with index 0: the unit fixed at 1 (the Reader's value of the kind "one")."""
    if isinstance(atom, Num):
        reader.note(BiasUnit("unit", reader.describe(node)))
    return Ref("one", layer, (0,))


def starts_at_zero(reader: Reader, node: Sum, roles: list[tuple[str | None, str]]) -> bool:
    """Whether a sum written without bounds starts at 0: the bias is implicit, and its letter is a weight's input
    index and an activation's index, nothing else (Σ_i w_{ji} x_i, not Σ_i w_{ji}^2)."""
    return {role for role, _ in roles} == {INPUT, UNIT} and implicit(reader, node)


def from_zero(reader: Reader, letter: str, roles: list[tuple[str | None, str]]) -> None:
    """A sum over ``letter`` that runs from 0, written so or not: its term 0 is the bias, said once."""
    if not active(reader):
        return
    written = {role: where for role, where in reversed(roles)}  # the first of each
    reader.note(BiasUnit("sum", letter, written.get(INPUT, ""), written.get(UNIT, "")))


def product(reader: Reader, node: BinOp, value: Value) -> Value:
    """W a (rows: a W) with W the whole weight matrix and a the whole activations of the layer it leaves, under an
    implicit bias: [b | W][1; a], the product plus the bias of W's layer. Anything else: the product itself."""
    left, right = node.left, node.right
    weights, inputs = (right, left) if reader.rows else (left, right)
    transposed = False
    while isinstance(weights, Paren | Transpose):  # (W^{(l)})^T a^{(l-1)}: the from-to order's product
        transposed |= isinstance(weights, Transpose)
        weights = weights.body
    if not (isinstance(weights, Name) and isinstance(inputs, Name) and implicit(reader, node)):
        return value
    if weights.sub or inputs.sub or weights.primes or inputs.primes:
        return value
    if reader.kind(weights) != "W" or reader.kind(inputs) not in ("a", "x"):
        return value
    w, a = reader.ref(weights), reader.ref(inputs)
    if w.layer is None or a.layer != w.layer - 1:
        return value
    bias = reader.value(Ref("b", w.layer, None), node)
    matrix = f"({reader.describe(weights)})^T" if transposed else reader.describe(weights)
    written = f"{reader.describe(inputs)} {matrix}" if reader.rows else f"{matrix} {reader.describe(inputs)}"
    reader.note(BiasUnit("product", written, layer=w.layer))
    if isinstance(value, Matrix):
        if value.shape != bias.shape:
            return value
        return value + bias
    return value + bias[0]
