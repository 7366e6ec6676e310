"""What the names of a parsed formula mean for one network and one reading of its notation.

A :class:`Reader` turns the syntax tree of :mod:`derive.verify.formula` into sympy: a
number, or a ``Matrix`` for vectors and matrices. Weights, biases, z, a, x and
y become derive's canonical symbols; δ becomes the symbol ``delta<l>[i]``, whose
value (±∂C/∂z) the verifier substitutes by the reading's sign; ∂C/∂θ becomes
the derived gradient. Each choice that is not spelled out in the formula (a
layer left off, a product of two vectors read element-wise) is recorded as a
note for the verdict.

It is assembled from three mixins: :mod:`derive.verify.reading_names` (what names stand for),
:mod:`derive.verify.reading_build` (building values, with every limit enforced) and
:mod:`derive.verify.reading_calls` (function calls); this module keeps the
Reader's fields, its shared helpers and the values of canonical quantities. The small types are in
:mod:`derive.verify.reading_refs`, the budget in :mod:`derive.verify.work`.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

import sympy
from sympy import Expr, Matrix

from derive.engine import chain
from derive.engine.chain import InDelta
from derive.engine.derivation import Derivation
from derive.rules import symbols as sym
from derive.verify import omega
from derive.verify.findings import Note, RowVector
from derive.verify.reading_build import _Building
from derive.verify.reading_calls import _Calls
from derive.verify.reading_letters import _Letters
from derive.verify.reading_names import _Names
from derive.verify.reading_refs import Probe, ReadError, Reading, Ref, Value
from derive.verify.reading_roles import Roles
from derive.verify.syntax import FormulaError, LimitError, Limits, Node, Num, PartialNode, fail
from derive.verify.work import Work


@dataclass
class Reader(_Names, _Letters, _Building, _Calls):
    """Builds sympy values from syntax trees for one derivation, reading and index binding."""

    d: Derivation
    reading: Reading
    text: str
    env: dict[str, int | Probe] = field(default_factory=dict)
    notes: dict[Note, None] = field(default_factory=dict)  # in the order first made, each once
    work: Work = field(default_factory=Work)
    sums: tuple[int, ...] = ()  # the ranges of the sums around the node being built
    free: dict[str, Probe] | None = None  # when given, an unbound index letter is a Probe kept here
    built: dict = field(default_factory=dict, repr=False)  # parts built and their cost; each part's letters
    roles: dict[str, int] = field(default_factory=dict)  # index letter → layer, from the weight on the left side
    unlayered: Roles | None = None  # a formula written without layers: its letters' layers (reading_roles)

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

    def note(self, note: Note) -> None:
        self.notes.setdefault(note, None)

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

    @property
    def rows(self) -> bool:
        """Whether vectors are rows (``layout = "row"``: a^{(l)} is 1 × n); a weight matrix keeps its index order's."""
        return self.reading.notation.layout == "row"

    def laid(self, vector: Matrix) -> Matrix:
        """A vector made as a column, in the notation's layout."""
        return vector.T if self.rows else vector

    # ----------------------------------------------------------------- values
    def value(self, ref: Ref, node: Node | None = None) -> Value:
        """The sympy value of a canonical quantity, in the notation's orientation."""
        if ref.kind == "one":  # the bias unit x_0 = 1 (bias = unit)
            return sympy.S.One
        if ref.index is not None:
            return _symbol(ref)
        if ref.kind == "W":
            rows, cols = self.d.size(ref.layer), self.d.size(ref.layer - 1)
            self.charge_matrix(node or _AT_START, rows, cols)
            m = Matrix(rows, cols, lambda i, j: _weight_symbol(ref.layer, i + 1, j + 1))
            return m.T if self.reading.notation.index_order == "from_to" else m
        size = self.net.outputs if ref.kind == "y" else self.d.size(ref.layer)
        self.charge_matrix(node or _AT_START, size, 1)
        return self.laid(Matrix([_symbol(Ref(ref.kind, ref.layer, (i,))) for i in range(1, size + 1)]))

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
            return self.laid(
                Matrix([self.gradient(Ref(ref.kind, ref.layer, (i,)), closed=closed) for i in range(1, size + 1)])
            )

        terms = d if closed else InDelta(d, self.reading.sign)
        return chain.factor(terms, chain.COST, ref.differentiated)

    def partial(self, node: PartialNode) -> Value:
        """∂f/∂v: the gradient when f is the cost, else one chain-rule factor (or their Jacobian)."""
        if omega.is_omega(node.of):  # Goodfellow's ∇_θ Ω(θ), with the spec's penalty
            return omega.gradient(self, node)
        if self._is_cost(node.of):
            return self.gradient(self.ref(node.wrt), node, closed=False)
        if node.nabla:
            raise self.error(
                node, "∇ is read only of the cost, such as \\nabla_{a^{(L)}} C; write ∂f/∂v for a Jacobian"
            )
        f, v = self.ref(node.of), self.ref(node.wrt)
        if f.index is None or v.index is None:
            fs = _elements(self, f)
            vs = _elements(self, v)
            self.charge_matrix(node, len(fs), len(vs))
            return Matrix(len(fs), len(vs), lambda r, c: self._factor(node, fs[r], vs[c]))
        return self._factor(node, f, v)

    def contract(self, node: PartialNode, left: Matrix) -> Value | None:
        """v ∂f/∂w with v a vector as long as f: the chain rule Σ_i v_i ∂f_i/∂w, in w's shape (v read as a row).

        How article 001's identities write it (δ^{(l+1)} ∂z^{(l+1)}/∂θ^{(l)}, δ^{(l+1)} ∂z^{(l+1)}/∂z^{(l)});
        None when it is not that (the cost, a single element, lengths that differ): the product as usual.
        """
        if node.nabla or self._is_cost(node.of) or 1 not in left.shape:
            return None
        f, w = self.ref(node.of), self.ref(node.wrt)
        if f.index is not None or f.kind == "W" or len(_elements(self, f)) != len(left):
            return None
        fs = _elements(self, f)
        if not self.rows:  # a row is how the row layout writes every vector: no choice to note
            self.note(RowVector(self.describe(node.of)))
        if w.kind == "W" and w.index is None:
            rows, cols = self.d.size(w.layer), self.d.size(w.layer - 1)
            self.charge_matrix(node, rows, cols, per_entry=len(fs))
            m = Matrix(rows, cols, lambda i, j: self._contracted(node, left, fs, Ref("W", w.layer, (i + 1, j + 1))))
            return m.T if self.reading.notation.index_order == "from_to" else m
        ws = _elements(self, w) if w.kind != "W" else [w]
        self.charge_matrix(node, len(ws), 1, per_entry=len(fs))
        out = Matrix([self._contracted(node, left, fs, v) for v in ws])
        return out[0, 0] if w.index is not None else self.laid(out)

    def _contracted(self, node: PartialNode, left: Matrix, fs: list[Ref], v: Ref) -> Expr:
        return sympy.Add(*(left[k] * self._factor(node, fi, v) for k, fi in enumerate(fs)))

    def _factor(self, node: PartialNode, f: Ref, v: Ref) -> Expr:
        value = chain.factor(self.d, f.element, v.element)
        if value is None:
            raise self.error(node, "derive evaluates ∂C/∂… and single chain-rule factors (∂a/∂z, ∂z/∂a, ∂z/∂w, ∂z/∂b)")
        return value


_weight_symbol = functools.cache(sym.W)  # sym.W without sympy's lookup each time: a 50×50 W is 2500 of them
_AT_START = Num("", 0)  # where a cost that belongs to no one node (a whole matrix named) is reported


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


def assignments(ranges: dict[str, int]) -> Iterator[dict[str, int]]:
    """Every combination of index values, in order."""
    letters = sorted(ranges)
    for combo in itertools.product(*(range(1, ranges[k] + 1) for k in letters)):
        yield dict(zip(letters, combo, strict=True))
