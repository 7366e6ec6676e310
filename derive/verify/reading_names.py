"""What a name in a formula stands for: targets, kinds of quantity, layers, indices (the Reader's first half).

A mixin of :class:`derive.verify.reading.Reader`, in its own module because naming (notation, node letters,
layers left off) is a different concern from building values; it uses the Reader's fields and helpers
(``error``, ``note``, ``env``, ``reading``) through ``self``.
"""

from __future__ import annotations

import re

from derive.model.notation import OUTPUT_LETTERS
from derive.verify import bias_unit, code_names
from derive.verify.findings import (
    BareLayer,
    SubscriptLayer,
    UnlayeredHidden,
    UnlayeredOutput,
    UnlayeredRole,
    WeightCase,
)
from derive.verify.reading_letters import COST_LETTERS
from derive.verify.reading_refs import FreeIndexError, IndexRangeError, LayerRangeError, Probe, Ref, Target
from derive.verify.reading_roles import WORDS
from derive.verify.syntax import BinOp, Call, FormulaError, Name, Node, Num, Paren, PartialNode, Pow, walk

_GROUP = r"\{[^{}]*(?:\{[^{}]*\}[^{}]*)*\}"
_WRITTEN = re.compile(rf"(?:\\hat\s*{_GROUP}|\\?[A-Za-z]+\d*)(?:\s*(?:[_^](?:{_GROUP}|\\?[A-Za-z]+|\d)|\[[^\]]*\]|'))*")

OBJECTIVE = "J"  # with an L2 penalty, ∂J/∂w is the gradient of J = (1/m) Σ C + R


class _Names:
    """The Reader's methods that turn names into canonical quantities (:class:`Ref`, :class:`Target`)."""

    # ---------------------------------------------------------------- targets
    def target(self, node: Node) -> Target:
        """What a left side or a parameter name stands for."""
        if isinstance(node, PartialNode):
            if not self._is_cost(node.of):
                raise self.error(node, "the left side must be a derivative of the cost, such as ∂C/∂w")
            return Target("grad", self.ref(node.wrt), objective=self._is_objective(node.of))
        if isinstance(node, BinOp) and node.op == "*" and isinstance(node.left, Name) and node.left.base == "Delta":
            ref = self.ref(node.right)
            if ref.kind not in ("W", "b"):
                raise self.error(node, "Δ is for an update of a weight or bias, such as Δw_{ij}")
            return Target("update", ref)
        if isinstance(node, Paren):
            return self.target(node.body)
        code = code_names.read(self, node)  # cs231n's dW2 = …: the gradient it names
        if code is not None:
            return Target("grad", code)
        ref = self.ref(node)
        return Target("delta" if ref.kind == "delta" else "grad", ref)

    def _is_objective(self, node: Node) -> bool:
        """Whether ∂(node)/∂… is the regularised batch objective's: J, when the notation's C is another letter."""
        return (
            self.net.regularization is not None
            and isinstance(node, Name)
            and node.base == OBJECTIVE
            and self.reading.notation.cost != OBJECTIVE
        )

    def _is_cost(self, node: Node) -> bool:
        """C, J, E, L, or a per-example cost E_n, L_i, C_x, C^{(i)}; written with its arguments too, J(\\Theta) (what it
        depends on says nothing more)."""
        if isinstance(node, Call) and not node.func.primes:
            node = node.func
        if not isinstance(node, Name) or node.base not in (self.reading.notation.cost, *COST_LETTERS):
            return False
        return not node.sub or self.example_letter(node) is not None

    def ref(self, node: Node) -> Ref:
        """The canonical quantity a name stands for (raises for anything that is not a plain name)."""
        if not isinstance(node, Name):
            raise self.error(node, "expected a name such as w^{(2)}_{11}, \\delta^{(2)}_1 or W2[1,1]")
        kind = self.kind(node)
        if kind in ("W", "b", "z", "a", "delta", "x", "y", "out", "scores"):
            ref = self._locate(node, kind)
            if ref.kind == "one":
                raise self.error(node, f"{self.describe(node)} is the bias unit, the constant 1 (bias = unit)")
            return ref
        if node.base == "net":
            raise self.unknown(node)
        raise self.error(node, f"{self.describe(node)} is not a weight, bias, z, a, δ, input or target")

    # ------------------------------------------------------------------ names
    def describe(self, node: Node) -> str:
        """The name as the user wrote it (its first characters)."""
        m = _WRITTEN.match(self.text, getattr(node, "pos", 0))
        return m.group().strip() if m and m.group().strip() else "this name"

    def known_names(self) -> str:
        n = self.reading.notation
        w = n.weight_latex
        order = "ij: to i from j" if n.index_order == "to_from" else "ij: from i to j"
        a, b, z, x = (n.spelled(q) for q in "abzx")
        out = {"a": f"{a}^{{(L)}}_k", "yhat": "\\hat{y}_k", "y": "y_k", "o": "o_k", "p": "p_k"}[n.output]
        first = n.input_layer
        leaving = f"; l = {first} to {self.L - 1 + first}, the layer it leaves" if self.reading.weight_shift else ""
        parts = [
            f"{w}^{{(l)}}_{{ij}} ({order}{leaving})",
            *([f"{b}^{{(l)}}_i"] if self.net.bias else []),
            f"{z}^{{(l)}}_i",
            f"{a}^{{(l)}}_i",
            "\\delta^{(l)}_i",
            f"{x}_j",
            f"{n.target}_k",
            f"{out} (outputs)",
            f"layers {1 + first} to {self.L + first}",
        ]
        if n.letters:
            parts.append("node letters " + ", ".join(n.letters))
        return "; ".join(parts)

    def unknown(self, node: Name) -> FormulaError:
        written = (
            node.base if self.text.startswith(("\\operatorname", "\\mathrm", "\\text", "\\mathsf"), node.pos) else None
        )
        shown = written or self.describe(node)
        if node.base == "net":  # Wikipedia's net_j: a letter of the quantities this notation does not declare
            return self.error(node, 'net is the pre-activation only with [notation] pre_activation = "net"')
        return self.error(node, f"unknown name '{shown}' (this network has {self.known_names()})")

    # ----------------------------------------------------------------- layers
    def written_layer(self, node: Node) -> int:
        """Derive's layer of a layer written in the notation's numbering (input layer 0 or 1)."""
        return self.layer_value(node) - self.reading.notation.input_layer

    def layer_value(self, node: Node) -> int:
        """A layer written as 2, (2), l, l+1, L, L-1, o (output) or h (the hidden layer), as the notation numbers
        it (a bound layer letter holds a number of that numbering too)."""
        if isinstance(node, Paren):
            return self.layer_value(node.body)
        if isinstance(node, Num):
            if not node.text.isdigit():
                raise self.error(node, f"layer {node.text} is not a whole number")
            return int(node.text)
        if isinstance(node, Name) and not node.sub and not node.sup and not node.digits:
            first = self.reading.notation.input_layer
            if node.base in ("L", "o"):
                return self.L + first
            if node.base == "h":
                if self.L != 2:
                    raise self.error(node, "^h means the hidden layer, but this network does not have exactly one")
                return 1 + first
            if node.base in (self.reading.notation.layer_letter, "l", "m"):
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
        letter = self.reading.notation.layer_letter
        raise self.error(node, f"a layer must be a number, (2), {letter}, {letter}+1, L or o")

    def _is_layer_script(self, sup: Node, kind: str) -> bool:
        """Whether a superscript on a name is its layer rather than a power."""
        if isinstance(sup, Paren):
            return True
        letters = _letters(sup)
        layered = {self.reading.notation.layer_letter, "l", "L", "o", "h", "m"}
        if letters and letters <= layered and not isinstance(sup, Pow):
            return True
        # Nielsen's a^2: under the bare marker a number on a and z is a layer too (never on x, y or ŷ: a power there)
        bare = self.reading.notation.layer_marker == "bare" and kind in ("a", "z")
        return isinstance(sup, Num) and sup.text.isdigit() and (bare or kind in ("W", "b", "delta"))

    def _check_layer(self, node: Node, layer: int, kind: str) -> int:
        low = 0 if kind == "a" else 1
        if not low <= layer <= self.L:
            first = self.reading.notation.input_layer
            message = f"layer {layer + first} does not exist (layers are {1 + first} to {self.L + first})"
            raise self.error(node, message, LayerRangeError)
        return layer

    def _default_layer(self, node: Name, kind: str, indexed: bool) -> int:
        """The layer of a name written without one."""
        if self.unlayered is not None:  # the whole formula is written without layers: by its letters' roles
            return self.unlayered.layer(self, node, kind)
        if self.reading.notation.layer_marker == "index" and indexed:
            layer = self._index_layer(node, kind)
            if layer is not None:
                return layer
        atoms = self._index_atoms(node) if indexed and kind != "W" else []
        if len(atoms) == 1 and isinstance(atoms[0], Name) and atoms[0].base in self.roles:
            layer = self.roles[atoms[0].base]
            if layer > 0 or kind == "a":
                self.note(UnlayeredRole(self.describe(node), layer))
                return layer
        if kind == "a" and node.base == OUTPUT_LETTERS.get(self.reading.notation.output):
            return self.L  # Wikipedia's o is every neuron's output, and o_k without a layer the network's (as printed)
        if kind == "W" and self.L == 2 and node.base in ("w", "W"):
            layer = 1 if node.base == "w" else 2
            self.note(WeightCase(node.base, layer))
            return layer
        if self.L == 1:
            return 1
        if self.L == 2 and self._output_lettered(kind):  # cs231n: p and f are the output's, so h and z the hidden's
            self.note(UnlayeredHidden(self.describe(node), 1))
            return 1
        if not indexed:
            self.note(UnlayeredOutput(self.describe(node), self.L))
            return self.L
        if self.L == 2 and kind != "W":
            self.note(UnlayeredHidden(self.describe(node), 1))
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

    def index_value(self, atom: Node, size: int, where: str, role: str | None = None) -> int:
        """One index: a number, a bound letter, or j+1. ``role`` marks a position where the bias unit's index 0 may
        stand under bias = "unit" (a weight's input index, an activation's index: :mod:`derive.verify.bias_unit`)."""
        if isinstance(atom, Num):
            if not atom.text.isdigit():
                raise self.error(atom, f"index {atom.text} is not a whole number")
            value = int(atom.text)
        elif (
            isinstance(atom, Name)
            and (len(atom.base) == 1 or atom.base in WORDS)
            and not atom.sub
            and not atom.sup
            and not atom.digits
        ):
            bound = self.env.get(atom.base)
            if bound is None and self.free is not None:  # finding the ranges: the letter records them
                bound = self.free.setdefault(atom.base, Probe(atom.base))
            if bound is None:
                raise FreeIndexError(
                    str(self.error(atom, f"index {atom.base} is free: sum over it or name it in the parameter")),
                    atom.base,
                )
            if isinstance(bound, Probe):
                bound.sizes.append((size, where))
                bound.roles.append((role, where))
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
        if value == 0 and role is not None and bias_unit.active(self):
            return 0
        if not 1 <= value <= size:
            message = bias_unit.out_of_range(
                self, role, value, f"index {value} is out of range in {where} (1 to {size})"
            )
            err = self.error(atom, message, IndexRangeError)
            if isinstance(atom, Name) and isinstance(err, IndexRangeError):
                err.letter, err.name, err.size = atom.base, where, size
            raise err
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
        if kind in ("x", "y", "out", "scores"):
            return self._unlayered(node, kind)
        return self._node(node, kind)

    def _layer_from(self, node: Name, kind: str) -> int | None:
        """The layer written on a name (superscript or ASCII digits), or None."""
        if node.sup is not None:
            if not self._is_layer_script(node.sup, kind):
                return None
            if isinstance(node.sup, Num) and self.reading.notation.layer_marker != "bare":
                self.note(BareLayer(self.describe(node)))
            return self.written_layer(node.sup)
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
        below = written is None and len(atoms) == 1 and isinstance(atoms[0], Num) and len(atoms[0].text) == 1
        if below:  # W_2: a one-number subscript is the matrix's layer (an element takes two indices)
            self.note(SubscriptLayer(self.describe(node), self.layer_value(atoms[0])))
            written, atoms = self.written_layer(atoms[0]), []
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
            # Only a layer written as a superscript is in the notation's numbering; W1, W1[i,j] are derive's names.
            shift = self.reading.weight_shift if (node.sup is not None or below) and not node.bracket else 0
            if shift and not 0 <= written < self.L:
                first = self.reading.notation.input_layer
                raise self.error(
                    node,
                    f"no weights leave layer {written + first}"
                    f" (weights are numbered by the layer they leave: {first} to {self.L - 1 + first})",
                    LayerRangeError,
                )
            layer = written + shift
        layer = self._check_layer(node, layer, "W")
        if not atoms:
            return Ref("W", layer, None)
        rows, cols = self.d.size(layer), self.d.size(layer - 1)
        where = self.describe(node)
        if order_to_from:
            i = self.index_value(atoms[0], rows, where)
            j = self.index_value(atoms[1], cols, where, bias_unit.INPUT)
        else:
            j = self.index_value(atoms[0], cols, where, bias_unit.INPUT)
            i = self.index_value(atoms[1], rows, where)
        if j == 0:  # w_{j0}: the weight from the unit fixed at 1, the bias (bias = unit)
            return bias_unit.weight(self, node, atoms[1 if order_to_from else 0], layer, i)
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
            raise self.error(node, f"layer {self.reading.notation.input_layer} is the input x", LayerRangeError)
        if not atoms:
            return Ref(kind, layer, (1,) if self.d.size(layer) == 1 else None)
        role = bias_unit.UNIT if kind == "a" else None
        i = self.index_value(atoms[0], self.d.size(layer), self.describe(node), role)
        return Ref(kind, layer, (i,)) if i else bias_unit.unit(self, node, atoms[0], layer)

    def _unlayered(self, node: Name, kind: str) -> Ref:
        """Inputs x, targets y and the outputs ŷ: no layer to write."""
        atoms = self._index_atoms(node)
        if node.digits and node.sub is None:
            atoms = [Num(node.digits, node.pos + 1)]
        layer, size, out_kind = {
            "x": (0, self.net.inputs, "a"),
            "y": (None, self.net.outputs, "y"),
            "out": (self.L, self.net.outputs, "a"),
            "scores": (self.L, self.net.outputs, "z"),  # the output layer's pre-activation (output_pre_activation)
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
        i = self.index_value(atoms[0], size, self.describe(node), bias_unit.UNIT if kind == "x" else None)
        return Ref(out_kind, layer, (i,)) if i else bias_unit.unit(self, node, atoms[0], 0)


def _signed_terms(node: Node) -> list[tuple[int, Node]]:
    """a + b − c … as [(1, a), (1, b), (−1, c)], walking the left-nested chain without recursion (1+0+0+… is long)."""
    out: list[tuple[int, Node]] = []
    while isinstance(node, BinOp) and node.op in "+-":
        out.append((1 if node.op == "+" else -1, node.right))
        node = node.left
    out.append((1, node))
    return out[::-1]


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
