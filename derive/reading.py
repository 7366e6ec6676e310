"""What the names of a parsed formula mean for one network and one reading of its notation.

A :class:`Reader` turns the syntax tree of :mod:`derive.formula` into sympy: a
number, or a ``Matrix`` for vectors and matrices. Weights, biases, z, a, x and
y become derive's canonical symbols; δ becomes the symbol ``delta<l>[i]``, whose
value (±∂C/∂z) the verifier substitutes by the reading's sign; ∂C/∂θ becomes
the derived gradient. Each choice that is not spelled out in the formula (a
layer left off, a product of two vectors read element-wise) is recorded as a
note for the verdict.
"""

from __future__ import annotations

import functools
import itertools
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace

import sympy
from sympy import Expr, Matrix, Rational, S

from . import symbols as sym
from .derivation import Derivation
from .formula import (
    BinOp,
    Call,
    FormulaError,
    LimitError,
    Limits,
    Name,
    Neg,
    Node,
    Num,
    Paren,
    Partial,
    Pow,
    Sum,
    Transpose,
    UndefinedError,
    fail,
    walk,
)
from .functions import relu, sigmoid, step
from .notation import Notation

Value = Expr | Matrix
_GROUP = r"\{[^{}]*(?:\{[^{}]*\}[^{}]*)*\}"
_WRITTEN = re.compile(rf"(?:\\hat\s*{_GROUP}|\\?[A-Za-z]+\d*)(?:\s*(?:[_^](?:{_GROUP}|\\?[A-Za-z]+|\d)|\[[^\]]*\]|'))*")
MAX_POWER = Limits.POWER  # largest exponent written as a number

WEIGHT_LETTERS = ("W", "w", "theta", "Theta")
COST_LETTERS = ("C", "J", "E", "L")


class ReadError(FormulaError):
    """A name the network does not have, or an index or layer out of range."""


class LayerRangeError(ReadError):
    """A layer outside 1 … L (a free layer l takes only the values where everything exists)."""


class ShapeError(FormulaError):
    """Vectors and matrices whose shapes do not fit together."""


class FreeIndexError(FormulaError):
    """An index letter that nothing binds (no Σ over it, not named in the parameter)."""

    def __init__(self, message: str, letter: str, layer: bool = False) -> None:
        super().__init__(message)
        self.letter = letter
        self.layer = layer


class WorkExhaustedError(LimitError):
    """Building went over :attr:`Work.limit`: the formula is refused, or, after some elements, the sample stops."""


# What Work.inspect finds in an expression besides its size.
UNDEFINED, NOT_REAL, HUGE = 1, 2, 4
_UNDEFINED = (S.ComplexInfinity, S.NaN, S.Infinity, S.NegativeInfinity)
_HUGE_BITS = int(Limits.DIGITS * 3.3219280948873626)  # DIGITS decimal digits in bits


class Work:
    """The cost of reading one formula, counted against :class:`Limits`, shared by every Reader of one reading.

    ``used`` counts sympy operations (one per scalar operation, one per entry of a matrix operation, one
    per multiplication of a matrix product), charged before each operation so that a product too big is
    refused before it is computed. ``inspect`` remembers each distinct expression's size as a tree and
    whether it holds an undefined, non-real or huge number, so checking every step of a build costs only
    the parts that are new.
    """

    def __init__(self, limit: int = Limits.WORK) -> None:
        self.limit = limit
        self.used = 0
        self._stats: dict[Expr, tuple[int, int]] = {}

    def charge(self, reader: Reader, node: Node, amount: int) -> None:
        self.used += amount
        if self.used > self.limit:
            message = f"building the formula takes more than the {self.limit} operations allowed"
            raise reader.error(node, message, WorkExhaustedError)

    def inspect(self, expr: Expr) -> tuple[int, int]:
        """(size as a tree, flags) of an expression: shared parts count each time, as evaluating meets them."""
        stats = self._stats
        found = stats.get(expr)
        if found is not None:
            return found
        stack: list[tuple[Expr, bool]] = [(expr, False)]
        while stack:
            e, ready = stack.pop()
            if e in stats:
                continue
            if not ready:
                stack.append((e, True))
                stack.extend((a, False) for a in e.args if a not in stats)
                continue
            size, flags = 1, _flags(e)
            for a in e.args:
                a_size, a_flags = stats[a]
                size, flags = size + a_size, flags | a_flags
            stats[e] = (size, flags)
        return stats[expr]

    def size(self, expr: Expr) -> int:
        return self.inspect(expr)[0]


def _flags(e: Expr) -> int:
    """What one node is by itself: ∞ or nan, a non-real constant, a number with more than DIGITS digits."""
    if not e.is_Atom and not e.is_Pow:
        return 0
    if any(e is u for u in _UNDEFINED):
        return UNDEFINED
    if e is S.ImaginaryUnit:
        return NOT_REAL
    if e.is_Pow:  # (-8)^{1/3}: sympy keeps the principal root, a complex number
        base, exp = e.args
        return NOT_REAL if base.is_Number and base.is_negative and exp.is_Rational and not exp.is_Integer else 0
    if e.is_Rational and (abs(e.p).bit_length() > _HUGE_BITS or e.q.bit_length() > _HUGE_BITS):
        return HUGE
    return 0


class Probe:
    """Stands for an index letter while its range is found: it records each position's size."""

    def __init__(self, letter: str) -> None:
        self.letter = letter
        self.sizes: list[tuple[int, str]] = []

    def size(self, text: str, pos: int) -> int:
        found = {n for n, _ in self.sizes}
        if len(found) != 1:
            where = "; ".join(f"1…{n} in {w}" for n, w in self.sizes) or "no subscript"
            raise fail(text, pos, f"the range of {self.letter} is not clear ({where})")
        return found.pop()


@dataclass(frozen=True)
class Reading:
    """The notation a formula is read in, and how weight layers are numbered.

    ``weight_shift`` 1 reads θ^{(l)} as the weights leaving layer l (article 001's
    θ^l with z^{l+1} = θ^l a^l), which derive calls W^{(l+1)}.
    """

    notation: Notation
    weight_shift: int = 0

    @property
    def sign(self) -> int:
        return self.notation.delta_sign


@dataclass(frozen=True)
class Ref:
    """A canonical quantity: kind W, b, z, a (layer 0 is x), y or delta; index None for all of it."""

    kind: str
    layer: int | None
    index: tuple[int, ...] | None

    @property
    def name(self) -> str:
        layer = "" if self.layer is None else str(self.layer)
        kind = "x" if self.kind == "a" and self.layer == 0 else self.kind
        layer = "" if kind in ("x", "y") else layer
        if self.index is None:
            return f"{kind}{layer}"
        return f"{kind}{layer}[{','.join(map(str, self.index))}]"


@dataclass(frozen=True)
class Target:
    """What a formula gives: ``grad`` ∂C/∂ref, ``delta`` δ itself, or ``update`` Δθ = −η ∂C/∂θ."""

    what: str
    ref: Ref

    @property
    def name(self) -> str:
        return ("Delta " if self.what == "update" else "") + self.ref.name


@dataclass
class Reader:
    """Builds sympy values from syntax trees for one derivation, reading and index binding."""

    d: Derivation
    reading: Reading
    text: str
    env: dict[str, int | Probe] = field(default_factory=dict)
    notes: dict[str, tuple] = field(default_factory=dict)
    work: Work = field(default_factory=Work)
    sums: tuple[int, ...] = ()  # the ranges of the sums around the node being built

    # ----------------------------------------------------------------- helpers
    @property
    def net(self):
        return self.d.network

    @property
    def L(self) -> int:
        return self.d.L

    def error(self, node: Node, message: str, kind: type[FormulaError] = ReadError) -> FormulaError:
        err = fail(self.text, getattr(node, "pos", 0), message)
        return kind(str(err)) if kind is not FormulaError else err

    def note(self, code: str, *data: object) -> None:
        self.notes.setdefault(code + "|" + "|".join(map(str, data)), (code, *data))

    def bound(self, letter: str, value: int | Probe, sums: tuple[int, ...] | None = None) -> Reader:
        return replace(self, env={**self.env, letter: value}, sums=self.sums if sums is None else sums)

    @property
    def probing(self) -> bool:
        """Whether some index is a Probe: the build only finds ranges, its value is thrown away."""
        return any(isinstance(v, Probe) for v in self.env.values())

    def charge(self, node: Node, amount: int) -> None:
        self.work.charge(self, node, amount)

    def charge_matrix(self, node: Node, rows: int, cols: int, per_entry: int = 1) -> None:
        """Refuse a matrix over Limits.MATRIX entries, and charge its operations, before making it."""
        if rows * cols > Limits.MATRIX:
            raise self.error(
                node, f"a {rows}×{cols} matrix has more than the {Limits.MATRIX} entries allowed", LimitError
            )
        self.charge(node, rows * cols * per_entry)

    # ---------------------------------------------------------------- targets
    def target(self, node: Node) -> Target:
        """What a left side or a parameter name stands for."""
        if isinstance(node, Partial):
            if not self._is_cost(node.of):
                raise self.error(node, "the left side must be a derivative of the cost, such as ∂C/∂w")
            return Target("grad", self.ref(node.wrt))
        if isinstance(node, BinOp) and node.op == "*" and isinstance(node.left, Name) and node.left.base == "Delta":
            ref = self.ref(node.right)
            if ref.kind not in ("W", "b"):
                raise self.error(node, "Δ is for an update of a weight or bias, such as Δw_{ij}")
            return Target("update", ref)
        if isinstance(node, Paren):
            return self.target(node.body)
        ref = self.ref(node)
        return Target("delta" if ref.kind == "delta" else "grad", ref)

    def _is_cost(self, node: Node) -> bool:
        return isinstance(node, Name) and node.base in (self.reading.notation.cost, *COST_LETTERS) and not node.sub

    def ref(self, node: Node) -> Ref:
        """The canonical quantity a name stands for (raises for anything that is not a plain name)."""
        if not isinstance(node, Name):
            raise self.error(node, "expected a name such as w^{(2)}_{11}, \\delta^{(2)}_1 or W2[1,1]")
        kind = self.kind(node)
        if kind in ("W", "b", "z", "a", "delta", "x", "y", "out"):
            return self._locate(node, kind)
        raise self.error(node, f"{self.describe(node)} is not a weight, bias, z, a, δ, input or target")

    # ------------------------------------------------------------------ names
    def kind(self, node: Name) -> str:
        """The kind of quantity a name is, in this reading's notation."""
        n = self.reading.notation
        base = node.base
        if node.hat:
            return "out" if base in ("y", "a", "o") else "unknown"
        if base == "yhat":
            return "out"
        if base in WEIGHT_LETTERS:
            return "W"
        if base in ("z", "h"):
            return "z"
        if base == "o":
            return "out"
        if base == "y" and n.output == "y":
            return "out"
        if base == n.target:
            return "y"
        if base in ("a", "b", "x", "delta", "eta", "n", "Delta", "e"):
            return base
        if base in COST_LETTERS or base == n.cost:
            return "cost"
        return "unknown"

    def describe(self, node: Node) -> str:
        """The name as the user wrote it (its first characters)."""
        m = _WRITTEN.match(self.text, getattr(node, "pos", 0))
        return m.group().strip() if m and m.group().strip() else "this name"

    def known_names(self) -> str:
        n = self.reading.notation
        w = {"W": "W", "w": "w", "theta": "\\theta"}[n.weight]
        order = "ij: to i from j" if n.index_order == "to_from" else "ij: from i to j"
        out = {"a": "a^{(L)}_k", "yhat": "\\hat{y}_k", "y": "y_k", "o": "o_k"}[n.output]
        parts = [
            f"{w}^{{(l)}}_{{ij}} ({order})",
            *(["b^{(l)}_i"] if self.net.bias else []),
            "z^{(l)}_i",
            "a^{(l)}_i",
            "\\delta^{(l)}_i",
            "x_j",
            f"{n.target}_k",
            f"{out} (outputs)",
            f"layers 1 to {self.L}",
        ]
        if n.letters:
            parts.append("node letters " + ", ".join(n.letters))
        return "; ".join(parts)

    def unknown(self, node: Name) -> FormulaError:
        written = (
            node.base if self.text.startswith(("\\operatorname", "\\mathrm", "\\text", "\\mathsf"), node.pos) else None
        )
        shown = written or self.describe(node)
        return self.error(node, f"unknown name '{shown}' (this network has {self.known_names()})")

    # ----------------------------------------------------------------- layers
    def layer_value(self, node: Node) -> int:
        """A layer written as 2, (2), l, l+1, L, L-1, o (output) or h (the hidden layer)."""
        if isinstance(node, Paren):
            return self.layer_value(node.body)
        if isinstance(node, Num):
            if not node.text.isdigit():
                raise self.error(node, f"layer {node.text} is not a whole number")
            return int(node.text)
        if isinstance(node, Name) and not node.sub and not node.sup and not node.digits:
            if node.base == "L":
                return self.L
            if node.base == "o":
                return self.L
            if node.base == "h":
                if self.L != 2:
                    raise self.error(node, "^h means the hidden layer, but this network does not have exactly one")
                return 1
            if node.base in ("l", "m"):
                value = self.env.get(node.base)
                if isinstance(value, int):
                    return value
                raise FreeIndexError(str(self.error(node, f"layer {node.base} is not bound")), node.base, layer=True)
        if isinstance(node, BinOp) and node.op in "+-":
            first, *rest = _signed_terms(node)
            value = self.layer_value(first[1])
            for sign, term in rest:
                value += sign * self.layer_value(term)
            return value
        raise self.error(node, "a layer must be a number, (2), l, l+1, L or o")

    def _is_layer_script(self, sup: Node, kind: str) -> bool:
        """Whether a superscript on a name is its layer rather than a power."""
        if isinstance(sup, Paren):
            return True
        letters = _letters(sup)
        if letters and letters <= {"l", "L", "o", "h", "m"} and not isinstance(sup, Pow):
            return True
        return isinstance(sup, Num) and sup.text.isdigit() and kind in ("W", "b", "delta")

    def _check_layer(self, node: Node, layer: int, kind: str) -> int:
        low = 0 if kind == "a" else 1
        if not low <= layer <= self.L:
            raise self.error(node, f"layer {layer} does not exist (layers are 1 to {self.L})", LayerRangeError)
        return layer

    def _default_layer(self, node: Name, kind: str, indexed: bool) -> int:
        """The layer of a name written without one."""
        if kind == "W" and self.L == 2 and node.base in ("w", "W"):
            layer = 1 if node.base == "w" else 2
            self.note("weight_case", node.base, layer)
            return layer
        if self.L == 1:
            return 1
        if not indexed:
            self.note("unlayered_output", self.describe(node), self.L)
            return self.L
        if self.L == 2 and kind != "W":
            self.note("unlayered_hidden", self.describe(node), 1)
            return 1
        raise self.error(node, f"{self.describe(node)} needs a layer, such as ^{{(1)}}: this network has {self.L}")

    # ---------------------------------------------------------------- indices
    def _index_atoms(self, node: Name) -> list[Node]:
        atoms: list[Node] = []
        for part in node.sub or ():
            for atom in _flatten_product(part):
                if isinstance(atom, Name) and atom.digits and not atom.sub and not atom.sup:  # {k1}
                    atoms.append(Name(atom.base, atom.pos))
                    atoms += [Num(c, atom.pos + 1 + k) for k, c in enumerate(atom.digits)]
                else:
                    atoms.append(atom)
        return atoms

    def index_value(self, atom: Node, size: int, where: str) -> int:
        """One index: a number, a bound letter, or j+1."""
        if isinstance(atom, Num):
            if not atom.text.isdigit():
                raise self.error(atom, f"index {atom.text} is not a whole number")
            value = int(atom.text)
        elif isinstance(atom, Name) and len(atom.base) == 1 and not atom.sub and not atom.sup and not atom.digits:
            bound = self.env.get(atom.base)
            if bound is None:
                raise FreeIndexError(
                    str(self.error(atom, f"index {atom.base} is free: sum over it or name it in the parameter")),
                    atom.base,
                )
            if isinstance(bound, Probe):
                bound.sizes.append((size, where))
                return 1
            value = bound
        elif isinstance(atom, BinOp) and atom.op in "+-":
            (_, first), *rest = _signed_terms(atom)
            value = self.index_value(first, size, where)
            for n, (sign, term) in enumerate(rest, start=1):  # j+1-1: each term and each partial sum in range
                value += sign * self.index_value(term, size, where)
                if n < len(rest) and not 1 <= value <= size:
                    raise self.error(atom, f"index {value} is out of range in {where} (1 to {size})")
        else:
            raise self.error(atom, "an index must be a number or a letter")
        if not 1 <= value <= size:
            raise self.error(atom, f"index {value} is out of range in {where} (1 to {size})")
        return value

    def _letter_node(self, atom: Node) -> tuple[int, int] | None:
        """(layer, neuron) of a node letter such as c in article 000's w_{ca}."""
        letters = self.reading.notation.letters
        if not letters or not isinstance(atom, Name) or atom.sub or atom.sup or atom.base not in letters:
            return None
        if atom.base in self.env:
            return None
        k = letters.index(atom.base)
        for layer, n in enumerate(self.net.sizes):
            if k < n:
                return layer, k + 1
            k -= n
        return None

    # --------------------------------------------------------------- locating
    def _locate(self, node: Name, kind: str) -> Ref:
        if node.primes:
            raise self.error(node, f"{self.describe(node)}: a prime is only for functions such as \\sigma'")
        if kind == "W":
            return self._weight(node)
        if kind in ("x", "y", "out"):
            return self._unlayered(node, kind)
        return self._node(node, kind)

    def _layer_from(self, node: Name, kind: str) -> int | None:
        """The layer written on a name (superscript or ASCII digits), or None."""
        if node.sup is not None:
            if not self._is_layer_script(node.sup, kind):
                return None
            if isinstance(node.sup, Num) and not isinstance(node.sup, Paren):
                self.note("bare_layer", self.describe(node))
            return self.layer_value(node.sup)
        if node.digits and (node.sub is not None or kind != "W" or len(node.digits) == 1):
            return int(node.digits)
        return None

    def _weight(self, node: Name) -> Ref:
        n = self.reading.notation
        atoms = self._index_atoms(node)
        if node.digits and node.sub is None and len(node.digits) == 2:  # w11
            atoms = [Num(c, node.pos + 1 + k) for k, c in enumerate(node.digits)]
        if len(atoms) == 1 and isinstance(atoms[0], Num) and len(atoms[0].text) == 2:  # w_{11}
            atoms = [Num(c, atoms[0].pos + k) for k, c in enumerate(atoms[0].text)]
        written = self._layer_from(node, "W")
        if atoms and len(atoms) != 2:
            raise self.error(node, f"{self.describe(node)}: a weight takes two indices, such as _{{12}} or _{{i,j}}")
        order_to_from = node.bracket or n.index_order == "to_from"
        nodes = [self._letter_node(a) for a in atoms]
        if atoms and all(nodes):
            to, frm = (nodes[0], nodes[1]) if order_to_from else (nodes[1], nodes[0])
            if to[0] != frm[0] + 1:
                raise self.error(node, f"{self.describe(node)}: no weight joins these two nodes in this order")
            return Ref("W", self._check_layer(node, to[0], "W"), (to[1], frm[1]))
        if written is None:
            layer = self._default_layer(node, "W", True)
        else:
            layer = written + (0 if node.bracket else self.reading.weight_shift)
        layer = self._check_layer(node, layer, "W")
        if not atoms:
            return Ref("W", layer, None)
        rows, cols = self.d.size(layer), self.d.size(layer - 1)
        where = self.describe(node)
        if order_to_from:
            i = self.index_value(atoms[0], rows, where)
            j = self.index_value(atoms[1], cols, where)
        else:
            j = self.index_value(atoms[0], cols, where)
            i = self.index_value(atoms[1], rows, where)
        return Ref("W", layer, (i, j))

    def _node(self, node: Name, kind: str) -> Ref:
        if kind == "b" and not self.net.bias:
            raise self.error(node, "this network has no biases")
        atoms = self._index_atoms(node)
        if len(atoms) > 1:
            raise self.error(node, f"{self.describe(node)} takes one index")
        letter = self._letter_node(atoms[0]) if atoms else None
        written = self._layer_from(node, kind)
        if letter is not None:
            layer, i = letter
            if written is not None and written != layer:
                raise self.error(node, f"node {atoms[0].base} is in layer {layer}, not {written}")
            return Ref(kind, self._check_layer(node, layer, kind), (i,))
        layer = written if written is not None else self._default_layer(node, kind, bool(atoms))
        layer = self._check_layer(node, layer, kind)
        if layer == 0 and kind != "a":
            raise self.error(node, "layer 0 is the input x", LayerRangeError)
        if not atoms:
            return Ref(kind, layer, (1,) if self.d.size(layer) == 1 else None)
        return Ref(kind, layer, (self.index_value(atoms[0], self.d.size(layer), self.describe(node)),))

    def _unlayered(self, node: Name, kind: str) -> Ref:
        """Inputs x, targets y and the outputs ŷ: no layer to write."""
        atoms = self._index_atoms(node)
        if node.digits and node.sub is None:
            atoms = [Num(node.digits, node.pos + 1)]
        layer, size, out_kind = {
            "x": (0, self.net.inputs, "a"),
            "y": (None, self.net.outputs, "y"),
            "out": (self.L, self.net.outputs, "a"),
        }[kind]
        if len(atoms) > 1:
            raise self.error(node, f"{self.describe(node)} takes one index")
        letter = self._letter_node(atoms[0]) if atoms else None
        if letter is not None:
            expected = 0 if kind == "x" else self.L
            if letter[0] != expected:
                raise self.error(node, f"node {atoms[0].base} is not in layer {expected}")
            return Ref(out_kind, layer, (letter[1],))
        if not atoms:
            return Ref(out_kind, layer, (1,) if size == 1 else None)
        return Ref(out_kind, layer, (self.index_value(atoms[0], size, self.describe(node)),))

    # ----------------------------------------------------------------- values
    def value(self, ref: Ref, node: Node | None = None) -> Value:
        """The sympy value of a canonical quantity, in the notation's orientation."""
        if ref.index is not None:
            return _symbol(ref)
        if ref.kind == "W":
            rows, cols = self.d.size(ref.layer), self.d.size(ref.layer - 1)
            self.charge_matrix(node or _AT_START, rows, cols)
            m = Matrix(rows, cols, lambda i, j: _weight_symbol(ref.layer, i + 1, j + 1))
            return m.T if self.reading.notation.index_order == "from_to" else m
        size = self.net.outputs if ref.kind == "y" else self.d.size(ref.layer)
        self.charge_matrix(node or _AT_START, size, 1)
        return Matrix([_symbol(Ref(ref.kind, ref.layer, (i,))) for i in range(1, size + 1)])

    def gradient(self, ref: Ref, node: Node | None = None, closed: bool = True) -> Value:
        """∂C/∂ref (always the gradient's sign), in a, z, weights and targets; in δ when not ``closed``.

        In δ (±∂C/∂z, whose value the verifier gives every δ symbol) is how a formula's own ∂C/∂w is read:
        the same numbers, without writing ∂C/∂z out, which repeats every path through the layers above
        (and building it for a 50-wide layer costs thousands of sympy operations).
        """
        d = self.d
        if ref.kind == "y":
            raise ReadError("formula: derive does not differentiate with respect to the targets")
        if ref.index is None:
            if ref.kind == "W":
                rows, cols = d.size(ref.layer), d.size(ref.layer - 1)
                self.charge_matrix(node or _AT_START, rows, cols)
                m = Matrix(rows, cols, lambda i, j: self.gradient(Ref("W", ref.layer, (i + 1, j + 1)), closed=closed))
                return m.T if self.reading.notation.index_order == "from_to" else m
            size = d.size(ref.layer)
            self.charge_matrix(node or _AT_START, size, 1)
            return Matrix([self.gradient(Ref(ref.kind, ref.layer, (i,)), closed=closed) for i in range(1, size + 1)])

        def dz(layer: int, i: int) -> Expr:
            return d.dC_dz(layer, i) if closed else self.reading.sign * sym.delta(layer, i)

        layer, i = ref.layer, ref.index[0]
        if ref.kind == "W":
            return dz(layer, i) * sym.a(layer - 1, ref.index[1])
        if ref.kind in ("b", "z", "delta"):
            return dz(layer, i)
        if ref.kind == "a" and layer == self.L:
            return d.dC_da(i)
        above = range(1, d.size(layer + 1) + 1)
        return sum((_weight_symbol(layer + 1, k, i) * dz(layer + 1, k) for k in above), S.Zero)

    def partial(self, node: Partial) -> Value:
        """∂f/∂v: the gradient when f is the cost, else one chain-rule factor (or their Jacobian)."""
        if self._is_cost(node.of):
            return self.gradient(self.ref(node.wrt), node, closed=False)
        f, v = self.ref(node.of), self.ref(node.wrt)
        if f.index is None or v.index is None:
            fs = _elements(self, f)
            vs = _elements(self, v)
            self.charge_matrix(node, len(fs), len(vs))
            return Matrix(len(fs), len(vs), lambda r, c: self._factor(node, fs[r], vs[c]))
        return self._factor(node, f, v)

    def _factor(self, node: Partial, f: Ref, v: Ref) -> Expr:
        d = self.d
        i, k = f.index[0], v.index[0]
        if f.kind == "a" and v.kind == "z" and f.layer == v.layer:
            return d.jacobian_entry(f.layer, i, k)
        if f.kind == "z" and v.kind == "a" and v.layer == f.layer - 1:
            return sym.W(f.layer, i, k)
        if f.kind == "z" and v.kind == "W" and v.layer == f.layer:
            return sym.a(f.layer - 1, v.index[1]) if v.index[0] == i else S.Zero
        if f.kind == "z" and v.kind == "b" and v.layer == f.layer:
            return S.One if k == i else S.Zero
        if f.kind == "z" and v.kind == "z" and v.layer == f.layer - 1:
            n = d.size(v.layer)
            return sum((sym.W(f.layer, i, m) * d.jacobian_entry(v.layer, m, k) for m in range(1, n + 1)), S.Zero)
        if f == v:
            return S.One
        raise self.error(node, "derive evaluates ∂C/∂… and single chain-rule factors (∂a/∂z, ∂z/∂a, ∂z/∂w, ∂z/∂b)")

    # ------------------------------------------------------------ expressions
    def build(self, node: Node) -> Value:
        """The sympy value of a syntax tree."""
        method: Callable[[Node], Value] = getattr(self, "_build_" + type(node).__name__)
        self.charge(node, 1)
        out = self._bounded(node, method(node))
        if isinstance(out, Matrix) and out.shape == (1, 1):
            return out[0, 0]
        return out

    def _build_Num(self, node: Num) -> Value:
        return Rational(node.text)

    def _build_Paren(self, node: Paren) -> Value:
        return self.build(node.body)

    def _build_Neg(self, node: Neg) -> Value:
        value = self.build(node.body)
        if isinstance(value, Matrix):
            self.charge_matrix(node, *value.shape)
        return -value

    def _build_Transpose(self, node: Transpose) -> Value:
        value = self.build(node.body)
        return value.T if isinstance(value, Matrix) else value

    def _build_Partial(self, node: Partial) -> Value:
        return self.partial(node)

    def _build_Name(self, node: Name) -> Value:
        kind = self.kind(node)
        if kind == "e" and not node.sub:
            return sympy.exp(self.build(node.sup)) if node.sup is not None else sympy.E
        if kind == "eta" and not node.sub:
            return self._power(node, sym.LEARNING_RATE)
        if kind == "n":
            layer = self._layer_from(node, "W") if node.sup is not None or node.digits else None
            if layer is None and node.sub:
                layer = self.layer_value(node.sub[0])
            if layer is None:
                raise self.error(node, "n needs a layer, such as n^{(2)}")
            return Rational(self.net.sizes[self._check_layer(node, layer, "a")])
        if kind == "cost":
            raise self.error(node, "the cost can only appear as ∂C/∂… in a formula")
        if kind in ("unknown", "Delta", "e"):
            if node.base in ("sigma", "sigmoid", "tanh", "relu", "ReLU", "softmax", "exp", "log", "ln", "f", "g"):
                raise self.error(node, f"{node.base} needs an argument in parentheses")
            raise self.unknown(node)
        ref = self._locate(node, kind)
        value = self.value(ref, node)
        if node.sup is not None and not self._is_layer_script(node.sup, kind if kind != "out" else "a"):
            return self._power(node, value)
        return value

    def _power(self, node: Name, base: Value) -> Value:
        if node.sup is None:
            return base
        return self._raise(node, base, self.build(node.sup))

    def _raise(self, node: Node, base: Value, exp: Value) -> Value:
        if isinstance(exp, Matrix):
            raise self.error(node, "an exponent must be a number, not a vector", ShapeError)
        if exp.is_Number and abs(exp) > MAX_POWER:
            raise self.error(node, f"the exponent {exp} is larger than the {MAX_POWER} allowed", LimitError)
        if isinstance(base, Matrix):
            self.charge_matrix(node, *base.shape)
            return base.applyfunc(lambda v: self._power_of(node, v, exp))
        return self._power_of(node, base, exp)

    def _power_of(self, node: Node, base: Expr, exp: Expr) -> Expr:
        """base^exp, refused before sympy computes a number of more than Limits.DIGITS digits."""
        coeff = base.as_coeff_Mul()[0] if base.is_Mul else base
        if coeff.is_Rational and exp.is_Integer and coeff not in (S.Zero, S.One, S.NegativeOne):
            bits = max(abs(coeff.p).bit_length(), coeff.q.bit_length()) * abs(int(exp))
            if bits > _HUGE_BITS:
                raise self.error(node, f"a number of more than {Limits.DIGITS} digits", LimitError)
        return base**exp

    def _bounded(self, node: Node, value: Value) -> Value:
        """The value, checked against the limits and for values that are undefined whatever the inputs.

        Every step of a build comes here, so the error names the operation that made the value: a
        power above MAX_POWER (x x … x, (x^{64})^{64}), a division by zero, the logarithm of zero, a
        non-real number, a number of more than Limits.DIGITS digits, or a value of more than
        Limits.SIZE operations (products of matrices or sums multiply the size).
        """
        if self.probing:
            return value
        entries = value if isinstance(value, Matrix) else [value]
        if isinstance(value, Matrix) and value.rows * value.cols > Limits.MATRIX:
            raise self.error(
                node, f"a {_shape(value)} matrix has more than the {Limits.MATRIX} entries allowed", LimitError
            )
        for v in entries:
            if isinstance(v, sympy.Pow) and v.exp.is_Number and abs(v.exp) > MAX_POWER:
                raise self.error(node, f"the exponent {v.exp} is larger than the {MAX_POWER} allowed", LimitError)
            size, flags = self.work.inspect(v)
            if flags:
                raise self._undefined(node, flags)
            if size > Limits.SIZE:
                raise self.error(
                    node,
                    f"the value grows to more than the {Limits.SIZE} operations allowed"
                    " (products of sums or of matrices multiply its size)",
                    LimitError,
                )
        return value

    def _undefined(self, node: Node, flags: int) -> FormulaError:
        """The error for a value that is undefined, non-real or too big, named after the operation."""
        if flags & HUGE:
            return self.error(node, f"a number of more than {Limits.DIGITS} digits", LimitError)
        bound = ", ".join(f"{k} = {v}" for k, v in sorted(self.env.items()) if isinstance(v, int))
        when = f" when {bound}" if bound else ""  # which element, when only some are undefined
        if flags & NOT_REAL:
            what = "the logarithm of a negative number" if _is_log(node) else "a root of a negative number"
            return self.error(node, f"{what} is not a real number{when}", UndefinedError)
        if isinstance(node, BinOp) and node.op == "/":
            what = "division by zero"
        elif _is_log(node):
            what = "the logarithm of zero is undefined"
        elif isinstance(node, Pow) or (isinstance(node, Name) and node.sup is not None):
            what = "zero to a negative power is undefined"
        else:
            what = "the value is undefined (a division by zero)"
        return self.error(node, f"{what}{when}", UndefinedError)

    def _build_Pow(self, node: Pow) -> Value:
        return self._raise(node, self.build(node.base), self.build(node.exp))

    def _build_BinOp(self, node: BinOp) -> Value:
        chain = [node]  # a long a + b + c … is built from the left without deep recursion
        while isinstance(chain[-1].left, BinOp) and chain[-1].left.op in ("+", "-", "*", "/", "odot"):
            chain.append(chain[-1].left)
        value = self.build(chain[-1].left)
        for link in reversed(chain):
            value = self._bounded(link, self._combine(link, value, self.build(link.right)))
        return value

    def _combine(self, node: BinOp, left: Value, right: Value) -> Value:
        if node.op in "+-":
            return self._add(node, left, right if node.op == "+" else -right)
        if node.op == "odot":
            return self._hadamard(node, left, right)
        if node.op == "/":
            if isinstance(right, Matrix):
                if isinstance(left, Matrix) and left.shape == right.shape:
                    self.note("elementwise_division")
                    self.charge_matrix(node, *left.shape, per_entry=2)
                    return left.multiply_elementwise(right.applyfunc(lambda v: 1 / v))
                raise self.error(node, f"cannot divide by a {_shape(right)} matrix", ShapeError)
            if isinstance(left, Matrix):
                self.charge_matrix(node, *left.shape)
            return left / right
        return self._multiply(node, left, right)

    def _add(self, node: Node, left: Value, right: Value) -> Value:
        lm, rm = isinstance(left, Matrix), isinstance(right, Matrix)
        if lm and rm:
            if left.shape != right.shape:
                raise self.error(node, f"cannot add {_shape(left)} and {_shape(right)}", ShapeError)
            self.charge_matrix(node, *left.shape)
            return left + right
        if lm or rm:
            matrix, number = (left, right) if lm else (right, left)
            if not number.is_Number:
                raise self.error(node, f"cannot add a number and a {_shape(matrix)} matrix", ShapeError)
            self.charge_matrix(node, *matrix.shape)
            return matrix.applyfunc(lambda v: v + number)
        return left + right

    def _hadamard(self, node: Node, left: Value, right: Value) -> Value:
        if isinstance(left, Matrix) and isinstance(right, Matrix):
            if left.shape != right.shape:
                raise self.error(node, f"⊙ needs equal shapes, not {_shape(left)} and {_shape(right)}", ShapeError)
            self.charge_matrix(node, *left.shape)
            return left.multiply_elementwise(right)
        return self._multiply(node, left, right)

    def _multiply(self, node: Node, left: Value, right: Value) -> Value:
        if isinstance(left, Matrix) and isinstance(right, Matrix):
            if left.cols == right.rows:
                self.charge_matrix(node, left.rows, right.cols, per_entry=left.cols)
                return left * right
            if left.shape == right.shape and left.cols == 1:
                self.note("elementwise_product")
                self.charge_matrix(node, *left.shape)
                return left.multiply_elementwise(right)
            raise self.error(node, f"cannot multiply {_shape(left)} by {_shape(right)}", ShapeError)
        if isinstance(left, Matrix) or isinstance(right, Matrix):
            self.charge_matrix(node, *(left if isinstance(left, Matrix) else right).shape)
        return left * right

    def _build_Call(self, node: Call) -> Value:
        func = node.func
        args = [self.build(a) for a in node.args]
        name = func.base
        if name == "max":
            return self._max(node, args)
        if len(args) != 1:
            raise self.error(node, f"{name} takes one argument")
        arg = args[0]
        if name in ("f", "g"):
            return self._layer_function(node, arg)
        if name.lower() == "softmax":
            if func.primes:
                raise self.error(node, "softmax has a Jacobian, not a derivative; write ∂a/∂z")
            return self._softmax(node, arg)
        fn = _FUNCTIONS.get(name.lower() if name.lower() in ("relu", "sigmoid") else name)
        if fn is None:
            raise self.unknown(func)
        if func.primes > 1 or (func.primes and fn[1] is None):
            raise self.error(node, "derive reads only a first derivative of σ, tanh, ReLU or f")
        if isinstance(arg, Matrix):
            self.charge_matrix(node, *arg.shape)
        result = _apply(fn[1] if func.primes else fn[0], arg)
        if func.sup is not None:
            return self._raise(node, result, self.build(func.sup))
        return result

    def _max(self, node: Call, args: list[Value]) -> Value:
        if len(args) != 2:
            raise self.error(node, "max takes two arguments, such as \\max(0, z)")
        a, b = args
        if not isinstance(a, Matrix) and a == 0:
            return _apply(relu, b)
        if not isinstance(b, Matrix) and b == 0:
            return _apply(relu, a)
        if isinstance(a, Matrix) or isinstance(b, Matrix):
            raise self.error(node, "max of vectors: write \\max(0, z)", ShapeError)
        # Unevaluated: sympy compares every pair of arguments through its assumptions (milliseconds each,
        # and \max(x, \max(y, …)) flattens into one), while the numbers only need the larger value.
        return sympy.Max(a, b, evaluate=False)

    def _softmax(self, node: Node, arg: Value) -> Value:
        if not isinstance(arg, Matrix) or arg.cols != 1:
            raise self.error(node, "softmax takes a vector", ShapeError)
        self.charge_matrix(node, *arg.shape, per_entry=3)
        total = sum((sympy.exp(v) for v in arg), S.Zero)
        return arg.applyfunc(lambda v: sympy.exp(v) / total)

    def _layer_function(self, node: Call, arg: Value) -> Value:
        """f or g: the activation of the layer given by ^{(l)} or by the argument z^{(l)}."""
        func = node.func
        layer = self.layer_value(func.sup) if func.sup is not None else _layer_of(arg)
        if layer is None:
            used = {layer.activation for layer in self.net.layers}
            if len(used) != 1:
                raise self.error(
                    node, f"{func.base}: which layer's activation? apply it to z^{{(l)}} or write {func.base}^{{(l)}}"
                )
            layer = 1
        act = self.net.activation(self._check_layer(node, layer, "W"))
        if not act.elementwise:
            if func.primes:
                raise self.error(node, "softmax has a Jacobian, not a derivative; write ∂a/∂z")
            return self._softmax(node, arg)
        if func.primes > 1:
            raise self.error(node, "derive reads only a first derivative")
        fn = act.derivative if func.primes else act.formula
        if isinstance(arg, Matrix):
            self.charge_matrix(node, *arg.shape)
        return _apply(fn, arg)

    def _build_Sum(self, node: Sum) -> Value:
        letter = node.index
        if letter in self.env:
            raise self.error(node, f"the sum's index {letter} is already in use")
        if self.probing:
            return self._probe_sum(node)
        if node.upper is not None or node.lower is not None:
            low = 1 if node.lower is None else self._limit(node.lower)
            high = self._range(node) if node.upper is None else self._limit(node.upper)
        else:
            low, high = 1, self._range(node)
        widest = max(self.net.sizes)
        if high - low + 1 > widest:
            raise self.error(
                node, f"a sum of {high - low + 1} terms has too many terms: no layer has more than {widest} neurons"
            )
        if high < low:
            return S.Zero
        sums = (*self.sums, high - low + 1)
        if math.prod(sums) > Limits.SUM_TERMS:
            ranges = " × ".join(map(str, sums))
            raise self.error(
                node,
                f"nested sums of {ranges} = {math.prod(sums)} terms, more than the {Limits.SUM_TERMS} allowed",
                LimitError,
            )
        terms = [self.bound(letter, k, sums).build(node.body) for k in range(low, high + 1)]
        return self._total(node, terms)

    def _total(self, node: Sum, terms: list[Value]) -> Value:
        """The sum of the terms, made at once: adding one term at a time re-sorts the growing sum each time."""
        first = terms[0]
        if not isinstance(first, Matrix) and not any(isinstance(t, Matrix) for t in terms):
            return sympy.Add(*terms)
        if all(isinstance(t, Matrix) and t.shape == first.shape for t in terms):
            self.charge_matrix(node, first.rows, first.cols, per_entry=len(terms))
            return Matrix(first.rows, first.cols, lambda r, c: sympy.Add(*(t[r, c] for t in terms)))
        total = first
        for term in terms[1:]:
            total = self._add(node, total, term)
        return total

    def _range(self, node: Sum) -> int:
        probe = Probe(node.index)
        self.bound(node.index, probe).build(node.body)
        return probe.size(self.text, node.pos)

    def _probe_sum(self, node: Sum) -> Value:
        """While ranges are being found, a sum inside is its body built once with its own index a Probe.

        Its range and value do not matter then; building every term (and probing each inner sum again)
        would make nested sums cost (n+1)^depth instead of n^depth.
        """
        if node.lower is not None:
            self._limit(node.lower)
        if node.upper is not None:
            self._limit(node.upper)
        return self.bound(node.index, Probe(node.index)).build(node.body)

    def _limit(self, node: Node) -> int:
        value = self.build(node)
        if isinstance(value, Matrix) or not value.is_Integer:
            raise self.error(node, "a sum's limits must be whole numbers, such as n^{(2)} or 3")
        return int(value)


# ---------------------------------------------------------------------- helpers
_FUNCTIONS: dict[str, tuple[Callable[[Expr], Expr], Callable[[Expr], Expr] | None]] = {
    "sigma": (sigmoid, lambda u: sigmoid(u) * (1 - sigmoid(u))),
    "sigmoid": (sigmoid, lambda u: sigmoid(u) * (1 - sigmoid(u))),
    "tanh": (sympy.tanh, lambda u: 1 - sympy.tanh(u) ** 2),
    "relu": (relu, step),
    "step": (step, None),
    "exp": (sympy.exp, None),
    "log": (sympy.log, None),
    "ln": (sympy.log, None),
}


_weight_symbol = functools.cache(sym.W)  # sym.W without sympy's lookup each time: a 50×50 W is 2500 of them
_AT_START = Num("", 0)  # where a cost that belongs to no one node (a whole matrix named) is reported


def _signed_terms(node: Node) -> list[tuple[int, Node]]:
    """a + b − c … as [(1, a), (1, b), (−1, c)], walking the left-nested chain without recursion (1+0+0+… is long)."""
    out: list[tuple[int, Node]] = []
    while isinstance(node, BinOp) and node.op in "+-":
        out.append((1 if node.op == "+" else -1, node.right))
        node = node.left
    out.append((1, node))
    return out[::-1]


def _is_log(node: Node) -> bool:
    return isinstance(node, Call) and node.func.base in ("log", "ln")


def _apply(fn: Callable[[Expr], Expr], arg: Value) -> Value:
    return arg.applyfunc(fn) if isinstance(arg, Matrix) else fn(arg)


def _shape(m: Matrix) -> str:
    return f"{m.rows}×{m.cols}"


def _symbol(ref: Ref) -> Expr:
    i = ref.index
    if ref.kind == "W":
        return _weight_symbol(ref.layer, i[0], i[1])
    if ref.kind == "y":
        return sym.y(i[0])
    return {"b": sym.b, "z": sym.z, "a": sym.a, "delta": sym.delta}[ref.kind](ref.layer, i[0])


def _elements(reader: Reader, ref: Ref) -> list[Ref]:
    if ref.index is not None:
        return [ref]
    if ref.kind == "W":
        raise ReadError("formula: derive does not write derivatives of matrices other than ∂C/∂W")
    size = reader.net.outputs if ref.kind == "y" else reader.d.size(ref.layer)
    return [Ref(ref.kind, ref.layer, (i,)) for i in range(1, size + 1)]


def _layer_of(arg: Value) -> int | None:
    """The layer of z^{(l)} (a symbol or a vector of them), else None."""
    values = list(arg) if isinstance(arg, Matrix) else [arg]
    layers = set()
    for v in values:
        info = sym.parse_name(str(v)) if isinstance(v, sympy.Symbol) else None
        if info is None or info.kind != "z":
            return None
        layers.add(info.layer)
    return layers.pop() if len(layers) == 1 else None


def _letters(node: Node) -> set[str]:
    return {n.base for n in walk(node) if isinstance(n, Name)}


def _flatten_product(node: Node) -> list[Node]:
    """A subscript ij or ca is two indices; 1,2 arrive already split (without recursion: x_{ijk…} can be long)."""
    out: list[Node] = []
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, BinOp) and n.op == "*":
            stack += [n.right, n.left]
        elif isinstance(n, Paren):
            stack.append(n.body)
        else:
            out.append(n)
    return out


def assignments(ranges: dict[str, int]) -> Iterator[dict[str, int]]:
    """Every combination of index values, in order."""
    letters = sorted(ranges)
    for combo in itertools.product(*(range(1, ranges[k] + 1) for k in letters)):
        yield dict(zip(letters, combo, strict=True))
