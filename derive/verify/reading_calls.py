"""Building a formula's function calls: activations and their derivatives, f and g of a layer, exp, log, max;
an entry of a call's value (softmax(z)_1), the indicator 𝟙(y = k) and a matrix written out.

A mixin of :class:`derive.verify.reading.Reader`, beside :mod:`derive.verify.reading_build` (which builds
the rest and enforces the limits); it uses the Reader's ``build``, ``_raise``, ``charge_matrix`` and
names through ``self``.
"""

from __future__ import annotations

from collections.abc import Callable

import sympy
from sympy import Expr, Matrix

from derive.rules import activations
from derive.rules import symbols as sym
from derive.rules.faces import Activation
from derive.rules.functions import relu, step
from derive.verify.findings import ExampleLabel
from derive.verify.reading_refs import FormulaShapeError, LayerRangeError, ReadError, Ref, Value
from derive.verify.syntax import Call, Entry, Indicator, MatrixNode, Name, Num


class _Calls:
    """The Reader's methods that build the value of a function applied to its arguments."""

    def _build_Call(self, node: Call) -> Value:
        func = node.func
        args = [self.build(a) for a in node.args]
        name = func.base
        if name == "max":
            return self._max(node, args)
        if len(args) != 1:
            raise self.error(node, f"{name} takes one argument")
        arg = args[0]
        if name == self.reading.notation.output_pre_activation:  # cs231n's f is the scores, never a function here
            raise self.error(
                node,
                f"{name} is the output layer's pre-activation (the scores) in this notation: write the"
                " activation by its name, such as \\operatorname{ReLU}(z)",
            )
        if name in self.reading.notation.function_letters:
            self.letter_meaning(name, "function")
            return self._layer_function(node, arg)
        if name == "h":
            raise self.error(node, "h' is the activation function's derivative only with [notation] function = \"h\"")
        if name == "phi":
            raise self.error(node, 'φ is the activation function only with [notation] function = "phi"')
        act = activations.read(name)
        if act is not None and act.options:
            act = self._declared(node, act, arg)
        if act is not None and not act.elementwise:
            return self._layer_values(node, act, arg)
        fn = (act.formula, act.derivative) if act is not None else _FUNCTIONS.get(name)
        if fn is None:
            raise self.unknown(func)
        if func.primes > 1 or (func.primes and fn[1] is None):
            names = ", ".join(activations.differentiable_names())
            raise self.error(node, f"derive reads only a first derivative of {names} or f")
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
            raise self.error(node, "max of vectors: write \\max(0, z)", FormulaShapeError)
        # Unevaluated: sympy compares every pair of arguments through its assumptions (milliseconds each,
        # and \max(x, \max(y, …)) flattens into one), while the numbers only need the larger value.
        return sympy.Max(a, b, evaluate=False)

    def _declared(self, node: Call, act: Activation, arg: Value) -> Activation:
        """An activation with an option (ELU's alpha): as its subscript says (\\operatorname{ELU}_{0.5}, as
        documents print it), else as the network declares it: that of the layer of z^{(l)}, or of every layer
        using it when they agree; the registry's default where the network does not use it."""
        if node.func.sub is not None:
            return self._subscripted(node, act)
        layers = [layer for layer in range(1, self.net.depth + 1) if self.net.layers[layer - 1].activation == act.name]
        if not layers:
            return act
        own = _layer_of(arg)
        if own in layers:
            return self.net.activation(own)
        options = {tuple(self.net.activation(layer).options.items()) for layer in layers}
        if len(options) != 1:
            raise self.error(
                node, f"{node.func.base}: its layers differ in {', '.join(act.options)}; apply it to z^{{(l)}}"
            )
        return self.net.activation(layers[0])

    def _subscripted(self, node: Call, act: Activation) -> Activation:
        """The activation with its one option set to the number in the function's subscript."""
        (key,) = act.options
        parts = node.func.sub
        value = self.build(parts[0]) if len(parts) == 1 else None
        if isinstance(value, Matrix) or value is None or not sympy.sympify(value).is_Rational:
            raise self.error(node, f"{node.func.base}: its subscript is its {key}, a number such as 0.5")
        try:
            return act.configure(**{key: float(value)})
        except ValueError as exc:
            raise self.error(node, f"{node.func.base}: its subscript is its {key}, which {exc}") from None

    def _layer_values(self, node: Call, act: Activation, arg: Value, kind: type[ReadError] = ReadError) -> Value:
        """A layer-valued activation (softmax) of a vector: it has a Jacobian, not a derivative (g' of such a
        layer is a LayerRangeError: a recursion over a free layer l does not exist there)."""
        if node.func.primes:
            raise self.error(node, f"{act.name} has a Jacobian, not a derivative; write ∂a/∂z", kind)
        if not isinstance(arg, Matrix) or (arg.rows if self.rows else arg.cols) != 1:  # a vector of the layout
            raise self.error(node, f"{act.name} takes a vector", FormulaShapeError)
        self.charge_matrix(node, *arg.shape, per_entry=3)
        return Matrix(*arg.shape, act.values(list(arg)))

    def _layer_function(self, node: Call, arg: Value) -> Value:
        """f or g: the activation of the layer given by ^{(l)} or by the argument z^{(l)}."""
        func = node.func
        layer = self.written_layer(func.sup) if func.sup is not None else _layer_of(arg)
        if layer is None:
            used = {layer.activation for layer in self.net.layers}
            if len(used) != 1:
                raise self.error(
                    node, f"{func.base}: which layer's activation? apply it to z^{{(l)}} or write {func.base}^{{(l)}}"
                )
            layer = 1
        act = self.net.activation(self._check_layer(node, layer, "W"))
        if not act.elementwise:
            return self._layer_values(node, act, arg, LayerRangeError)
        if func.primes > 1:
            raise self.error(node, "derive reads only a first derivative")
        fn = act.derivative if func.primes else act.formula
        if isinstance(arg, Matrix):
            self.charge_matrix(node, *arg.shape)
        return _apply(fn, arg)

    # ------------------------------------------- entries, indicators and matrices written out
    def _build_Entry(self, node: Entry) -> Value:
        """softmax(z)_1, (W^T δ)_j: one entry of a vector (one index) or of a matrix (two)."""
        value = self.build(node.body)
        atoms = self._index_atoms(Name("", node.pos, sub=node.index))
        if not isinstance(value, Matrix) or len(atoms) > 2 or (len(atoms) == 1 and 1 not in value.shape):
            raise self.error(
                node, "a subscript after a bracket takes one entry of a vector or a matrix", FormulaShapeError
            )
        where = self.describe(node.body) if isinstance(node.body, Name) else "this entry"
        if len(atoms) == 2:
            return value[
                self.index_value(atoms[0], value.rows, where) - 1, self.index_value(atoms[1], value.cols, where) - 1
            ]
        return value[self.index_value(atoms[0], len(value), where) - 1]

    def _build_MatrixNode(self, node: MatrixNode) -> Value:
        """A matrix written entry by entry: each entry a number (a matrix of matrices is not read)."""
        rows = len(node.entries) // node.cols
        self.charge_matrix(node, rows, node.cols)
        values = [self.build(e) for e in node.entries]
        if any(isinstance(v, Matrix) for v in values):
            raise self.error(node, "an entry of a matrix must be a number, not a vector or a matrix", FormulaShapeError)
        return Matrix(rows, node.cols, values)

    def _build_Indicator(self, node: Indicator) -> Value:
        """𝟙(y = k): the one-hot target y_k, for targets that are one-hot rows or class labels."""
        sides = [node.left, node.right]
        y = next((s for s in sides if isinstance(s, Name) and self.kind(s) == "y"), None)
        k = sides[1] if y is node.left else sides[0]
        if y is None or y.sup is not None or not isinstance(k, (Num, Name)) or isinstance(k, Name) and k.sub:
            raise self.error(node, "𝟙( = ) is read only as 𝟙(y = k), the target of class k")
        example = y.sub[0] if y.sub and len(y.sub) == 1 else None
        letter = self.reading.notation.example_index
        if isinstance(example, Name) and example.base == letter and not (example.sub or example.base in self.env):
            self.note(ExampleLabel(self.describe(y), example.base))  # cs231n's y_i: the label of the example i
        elif y.sub:
            raise self.error(
                node,
                f"𝟙({self.describe(y)} = …) compares one sample's label among many: derive verifies one"
                " sample's cost, written 𝟙(y = k) or y_k (per-example costs: [notation] example_index names the"
                ' example\'s letter, such as "i" for y_i)',
            )
        if not self.net.target_kind.one_hot:
            raise self.error(
                node,
                f"𝟙(y = k) means one-hot targets, but this network's targets are {self.net.target_kind.name}"
                ' (the spec\'s key targets = "one_hot" or "labels")',
            )
        return self.build(Name(y.base, y.pos, sub=(k,)))

    def _labelled(self, node: Name, kind: str) -> Value | None:
        """cs231n's f_{y_i} and p_{y_i}: the output's entry at the class label of the example i (example_index), which
        with one-hot targets is Σ_k y_k f_k; None when the name is not indexed so."""
        letter = self.reading.notation.example_index
        atom = node.sub[0] if kind in ("scores", "out") and node.sub and len(node.sub) == 1 else None
        if not isinstance(atom, Name) or atom.base != self.reading.notation.target or not atom.sub:
            return None
        index = atom.sub[0] if len(atom.sub) == 1 else None
        if not (isinstance(index, Name) and index.base == letter and not index.sub and letter not in self.env):
            return None
        if not self.net.target_kind.one_hot or node.sup is not None:
            raise self.error(node, f"{self.describe(node)}: the entry at a class label needs one-hot or label targets")
        self.note(ExampleLabel(self.describe(atom), letter))
        quantity = "z" if kind == "scores" else "a"
        entries = [self.value(Ref(quantity, self.L, (k,))) for k in range(1, self.net.outputs + 1)]
        return sympy.Add(*(sym.y(k) * entry for k, entry in enumerate(entries, start=1)))


# Functions read by name that are no activation (each activation's by activations.read), and their derivatives.
_FUNCTIONS: dict[str, tuple[Callable[[Expr], Expr], Callable[[Expr], Expr] | None]] = {
    "step": (step, None),
    "exp": (sympy.exp, None),
    "log": (sympy.log, None),
    "ln": (sympy.log, None),
}


def _apply(fn: Callable[[Expr], Expr], arg: Value) -> Value:
    return arg.applyfunc(fn) if isinstance(arg, Matrix) else fn(arg)


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
