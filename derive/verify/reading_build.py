"""Building a formula's value from its syntax tree: arithmetic, functions and sums, each step bounded.

A mixin of :class:`derive.verify.reading.Reader`, in its own module because it is where every limit of
:class:`derive.verify.syntax.Limits` is enforced while sympy values are made; it uses the Reader's names and
values (``value``, ``partial``, ``_locate``, ``charge_matrix``) through ``self``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import sympy
from sympy import Expr, Matrix, Rational, S

from derive.rules import activations, regularizers
from derive.rules import symbols as sym
from derive.verify import bias_unit, code_names
from derive.verify.findings import ElementwiseDivision, ElementwiseProduct
from derive.verify.reading_refs import FormulaShapeError, Probe, Value
from derive.verify.reading_roles import FREE
from derive.verify.syntax import (
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
    PartialNode,
    Pow,
    Sum,
    Transpose,
    UndefinedError,
    walk,
)
from derive.verify.work import _HUGE_BITS, HUGE, NOT_REAL

MAX_POWER = Limits.POWER  # largest exponent written as a number


class _Building:
    """The Reader's methods that build sympy values from syntax trees."""

    # ------------------------------------------------------------ expressions
    def build(self, node: Node) -> Value:
        """The sympy value of a syntax tree.

        A part already built with the same values of the index letters it uses is taken from ``built``
        (shared by the readers of one reading) and charged the operations it cost the first time, so the
        limits count as if it were built again: σ'(z_i) in Σ_k W_{ki} δ_k σ'(z_i) is made once per i, not
        once per term, and δ_k once for every i.
        """
        key = self._built_key(node)
        if key is not None and key in self.built:
            value, cost = self.built[key]
            self.charge(node, cost)
            return value
        start = self.work.used
        method: Callable[[Node], Value] = getattr(self, "_build_" + type(node).__name__)
        self.charge(node, 1)
        out = self._bounded(node, method(node))
        if isinstance(out, Matrix) and out.shape == (1, 1):
            out = out[0, 0]
        if key is not None:
            self.built[key] = (out, self.work.used - start)
        return out

    def _built_key(self, node: Node) -> tuple | None:
        """What a part's value depends on besides the reading: the node, its letters' values, the sums around it."""
        if isinstance(node, Num) or self.free is not None or self.probing:
            return None
        letters = self.built.get(id(node))  # the tree outlives the reader, so its ids stay its own
        if letters is None:
            letters = self.built[id(node)] = _letters(node)
        return id(node), tuple((k, self.env[k]) for k in (*letters, FREE) if k in self.env), self.sums

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

    def _build_PartialNode(self, node: PartialNode) -> Value:
        return self.partial(node)

    def _build_Name(self, node: Name) -> Value:
        code = code_names.read(self, node)  # cs231n's dscores: the gradient's value
        if code is not None:
            return self.gradient(code, node, closed=False)
        kind = self.kind(node)
        if kind == "e" and not node.sub:
            return sympy.exp(self.build(node.sup)) if node.sup is not None else sympy.E
        if kind == "eta" and not node.sub:
            return self._power(node, sym.LEARNING_RATE)
        if kind == "lambda" and not node.sub:
            if self.net.regularization is None:
                raise self.error(
                    node, "λ is the L2 penalty's strength, but this network's spec has no [regularization]"
                )
            return self._power(node, regularizers.LAMBDA)
        if kind == "unknown" and node.base == "m" and not node.sub and self.net.regularization is not None:
            return self._power(node, regularizers.BATCH)  # the batch size of J = (1/m) Σ C + R
        if kind == "n":
            layer = self._layer_from(node, "W") if node.sup is not None or node.digits else None
            if layer is None and node.sub:
                layer = self.written_layer(node.sub[0])
            if layer is None:
                raise self.error(node, "n needs a layer, such as n^{(2)}")
            return Rational(self.net.sizes[self._check_layer(node, layer, "a")])
        if kind == "cost":
            raise self.error(node, "the cost can only appear as ∂C/∂… in a formula")
        if kind in ("unknown", "Delta", "e"):
            if node.base in ("exp", "log", "ln", "f", "g") or node.base in activations.spellings():
                raise self.error(node, f"{node.base} needs an argument in parentheses")
            raise self.unknown(node)
        labelled = self._labelled(node, kind)  # cs231n's f_{y_i}: the entry at the example's class label
        if labelled is not None:
            return labelled
        ref = self._locate(node, kind)
        value = self.value(ref, node)
        if node.sup is not None and not self._is_layer_script(node.sup, kind):
            return self._power(node, value)
        return value

    def _power(self, node: Name, base: Value) -> Value:
        if node.sup is None:
            return base
        return self._raise(node, base, self.build(node.sup))

    def _raise(self, node: Node, base: Value, exp: Value) -> Value:
        if isinstance(exp, Matrix):
            raise self.error(node, "an exponent must be a number, not a vector", FormulaShapeError)
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
            if link.op == "*" and isinstance(link.right, PartialNode) and isinstance(value, Matrix):
                contracted = self.contract(link.right, value)  # δ^{(l+1)} ∂z^{(l+1)}/∂θ^{(l)}: the chain rule
                if contracted is not None:
                    value = self._bounded(link, contracted)
                    continue
            value = self._bounded(link, self._combine(link, value, self.build(link.right)))
            if link.op == "*" and not self.probing:  # Θ^{(l)} a^{(l)} with Ng's bias unit: [b | Θ][1; a]
                value = bias_unit.product(self, link, value)
        return value

    def _combine(self, node: BinOp, left: Value, right: Value) -> Value:
        if node.op in "+-":
            return self._add(node, left, right if node.op == "+" else -right)
        if node.op == "odot":
            return self._hadamard(node, left, right)
        if node.op == "/":
            if isinstance(right, Matrix):
                if isinstance(left, Matrix) and left.shape == right.shape:
                    self.note(ElementwiseDivision())
                    self.charge_matrix(node, *left.shape, per_entry=2)
                    return left.multiply_elementwise(right.applyfunc(lambda v: 1 / v))
                raise self.error(node, f"cannot divide by a {_shape(right)} matrix", FormulaShapeError)
            if isinstance(left, Matrix):
                self.charge_matrix(node, *left.shape)
            return left / right
        return self._multiply(node, left, right)

    def _add(self, node: Node, left: Value, right: Value) -> Value:
        lm, rm = isinstance(left, Matrix), isinstance(right, Matrix)
        if lm and rm:
            if left.shape != right.shape:
                raise self.error(node, f"cannot add {_shape(left)} and {_shape(right)}", FormulaShapeError)
            self.charge_matrix(node, *left.shape)
            return left + right
        if lm or rm:
            matrix, number = (left, right) if lm else (right, left)
            if not number.is_Number:
                raise self.error(node, f"cannot add a number and a {_shape(matrix)} matrix", FormulaShapeError)
            self.charge_matrix(node, *matrix.shape)
            return matrix.applyfunc(lambda v: v + number)
        return left + right

    def _hadamard(self, node: Node, left: Value, right: Value) -> Value:
        if isinstance(left, Matrix) and isinstance(right, Matrix):
            if left.shape != right.shape:
                raise self.error(
                    node, f"⊙ needs equal shapes, not {_shape(left)} and {_shape(right)}", FormulaShapeError
                )
            self.charge_matrix(node, *left.shape)
            return left.multiply_elementwise(right)
        return self._multiply(node, left, right)

    def _multiply(self, node: Node, left: Value, right: Value) -> Value:
        if isinstance(left, Matrix) and isinstance(right, Matrix):
            if left.cols == right.rows:
                self.charge_matrix(node, left.rows, right.cols, per_entry=left.cols)
                return _product(left, right)
            if left.shape == right.shape and (left.rows if self.rows else left.cols) == 1:  # two vectors
                self.note(ElementwiseProduct())
                self.charge_matrix(node, *left.shape)
                return left.multiply_elementwise(right)
            raise self.error(node, f"cannot multiply {_shape(left)} by {_shape(right)}", FormulaShapeError)
        if isinstance(left, Matrix) or isinstance(right, Matrix):
            self.charge_matrix(node, *(left if isinstance(left, Matrix) else right).shape)
        return left * right

    def _build_Sum(self, node: Sum) -> Value:
        letter = node.index
        if letter in self.env:
            raise self.error(node, f"the sum's index {letter} is already in use")
        if self.probing:
            return self._probe_sum(node)
        roles: list[tuple[str | None, str]] = []
        if node.upper is not None or node.lower is not None:
            low = 1 if node.lower is None else self._limit(node.lower)
            high, roles = self._range(node) if node.upper is None else (self._limit(node.upper), roles)
        else:
            high, roles = self._range(node)
            low = 0 if bias_unit.starts_at_zero(self, node, roles) else 1  # Σ_i w_{ji} x_i with x_0 = 1 (bias = unit)
        if low == 0:
            bias_unit.from_zero(self, letter, roles)
        widest = max(self.net.sizes) + (low == 0)  # the bias unit's term besides a layer's neurons
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

    def _range(self, node: Sum) -> tuple[int, list[tuple[str | None, str]]]:
        """How many values the sum's index takes, and the roles of its positions for the bias unit: found by
        building its body once with a Probe (kept in ``built`` and charged again, as :meth:`build` keeps parts)."""
        key = self._built_key(node)
        if key is not None and ("range", key) in self.built:
            size, roles, cost = self.built["range", key]
            self.charge(node, cost)
            return size, roles
        start = self.work.used
        probe = Probe(node.index)
        self.bound(node.index, probe).build(node.body)
        size = probe.size(self.text, node.pos)
        if key is not None:
            self.built["range", key] = (size, probe.roles, self.work.used - start)
        return size, probe.roles

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


def _letters(node: Node) -> tuple[str, ...]:
    """Every name written in a syntax tree (each index letter among them) and every sum's index, sorted."""
    names = {n.base for n in walk(node) if isinstance(n, Name)}
    return tuple(sorted(names | {n.index for n in walk(node) if isinstance(n, Sum)}))


def _is_log(node: Node) -> bool:
    return isinstance(node, Call) and node.func.base in ("log", "ln")


def _product(left: Matrix, right: Matrix) -> Matrix:
    """The matrix product, each entry's sum made in one step (half the time of sympy's own product, which for a
    100×10 W^T times δ builds a thousand products and sums them through its domain matrices)."""
    rows = [left.row(r) for r in range(left.rows)]
    cols = [right.col(c) for c in range(right.cols)]
    return Matrix(
        left.rows, right.cols, lambda r, c: sympy.Add(*(a * b for a, b in zip(rows[r], cols[c], strict=True)))
    )


def _shape(m: Matrix) -> str:
    return f"{m.rows}×{m.cols}"
