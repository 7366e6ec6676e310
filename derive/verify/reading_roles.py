"""A formula written without layers on a network with hidden layers: the layers its letters' roles force.

Wikipedia writes δ_j = (o_j − t_j) o_j (1 − o_j) (t_j: j is an output neuron) and ∂E/∂w_{ij} = o_i δ_j (any layer),
Nielsen ∂C/∂b = δ and ∂C/∂w = a_in δ_out. Such a formula is read as a statement about every layer it can be about.
Each index letter stands for the neurons of one layer, which the names force: a target t_j or an output ŷ_j puts j
in the output layer, an input x_i puts i in the input layer, a weight w_{jℓ} from j to ℓ puts ℓ one layer after j;
names without an index letter share one layer. The left side's layer is then a free layer (as l is in δ^{(l)}): the
formula is read for each layer of the network, those it does not exist for are left out, and it is right only if it
is right for each. A letter with two roles, or a name that nothing ties to the left side, is not understood.

Bishop's layer_marker = "index" gives each letter a fixed role instead (k, j, i: :data:`ROLE_LETTERS`), and a formula
that writes a layer anywhere, or a network without a hidden layer, keeps the reader's other defaults.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from derive.verify.findings import EveryLayer, Note, RoleLayer
from derive.verify.reading_refs import FreeIndexError, LayerRangeError, Ref
from derive.verify.syntax import BinOp, Entry, Formula, FormulaError, Name, Node, Num, Paren, PartialNode

FREE = "\x00layer"  # the free layer among a reader's bindings: no formula can write this letter
WORDS = ("in", "out")  # Nielsen's a_{\rm in}, δ_{\rm out}: the neurons a weight leaves and enters, as index words
NO_INDEX = ""  # the variable of the names written without an index letter: one layer for all of them
LAYERED = ("W", "b", "z", "a", "delta")  # the quantities that have a layer
UNFIT = "written without layers, fits no layer of this network: write its layers, such as ^{(1)}"
SHOWN = ("l", "m", "r", "s")  # the letter a free layer is said with (mistakes, the correct form), one not written
_LETTER = re.compile(r"\\[A-Za-z]+|[A-Za-z]")


@dataclass
class Roles:
    """The layers of a formula's index letters: ``parent`` ties a letter to another (layer(v) = layer(root) + offset),
    ``anchors`` fixes a root's layer; ``target`` is the left side's letter, whose layer is the free one."""

    formula: Formula
    target: str
    parent: dict[str, tuple[str, int]] = field(default_factory=dict)
    anchors: dict[str, int] = field(default_factory=dict)
    why: dict[str, str] = field(default_factory=dict)  # a root's anchor: the name that fixed it, as written
    by: dict[str, str] = field(default_factory=dict)  # each letter: the first name that gave it a role
    notes: dict[Note, None] = field(default_factory=dict)
    shown: str = "l"

    # --------------------------------------------------------------- solving
    def find(self, var: str) -> tuple[str, int]:
        offset = 0
        while var in self.parent:
            var, step = self.parent[var]
            offset += step
        return var, offset

    def tie(self, before: str, after: str, step: int, said: str) -> str | None:
        """layer(after) = layer(before) + step; when the letters already say otherwise, the name that did."""
        (r1, o1), (r2, o2) = self.find(before), self.find(after)
        other = self.by.get(before) or self.by.get(after) or said
        self.by.setdefault(before, said)
        self.by.setdefault(after, said)
        if r1 == r2:
            return None if o2 - o1 == step else other
        if r2 in self.anchors and r1 in self.anchors:
            if self.anchors[r2] + o2 != self.anchors[r1] + o1 + step:
                return other
        self.parent[r2] = (r1, o1 + step - o2)
        if r2 in self.anchors:
            self.anchors.setdefault(r1, self.anchors[r2] - (o1 + step - o2))
            self.why.setdefault(r1, self.why.get(r2, ""))
            del self.anchors[r2]
        return None

    def anchor(self, var: str, layer: int, said: str) -> str | None:
        """layer(var) = layer; when the letters already say otherwise, the name that did."""
        root, offset = self.find(var)
        self.by.setdefault(var, said)
        if root in self.anchors:
            return None if self.anchors[root] + offset == layer else self.why[root]
        self.anchors[root], self.why[root] = layer - offset, said
        return None

    def fixed(self, var: str) -> int | None:
        root, offset = self.find(var)
        return self.anchors[root] + offset if root in self.anchors else None

    def said(self, refs: list[Ref], notes: dict[Note, None]) -> tuple[str | None, dict[Note, None]]:
        """The layer letter reasons are said in (only when the formula was read for several layers) and the notes,
        the roles first, then what was checked (``refs``: each binding's left side), then the names' own."""
        layers = sorted({ref.layer for ref in refs})
        letter = self.shown if len(layers) > 1 else None
        checked = tuple(Ref(refs[0].kind, layer, None).name for layer in layers)
        return letter, {**self.notes, EveryLayer(checked, letter): None, **notes}

    # --------------------------------------------------------------- reading
    def layer(self, reader, node: Name, kind: str) -> int:
        """The layer of a name written without one, for the free layer the reader has bound (derive's numbering)."""
        base = reader.env.get(FREE)
        if base is None:  # finding the bindings: the left side's layer is free
            raise FreeIndexError(str(reader.error(node, f"{reader.describe(node)} has no layer")), FREE, layer=True)
        base -= reader.reading.notation.input_layer
        own = self.fixed(self.target)
        if own is not None and base != own:  # the letters put the left side in one layer only
            raise LayerRangeError(f"formula: the roles of its letters put the left side in layer {own}")
        var = variable(reader, node, kind)
        root, offset = self.find(var)
        target_root, target_offset = self.find(self.target)
        if root == target_root:
            return base - target_offset + offset
        return self.anchors[root] + offset


def variable(reader, node: Name, kind: str) -> str:
    """The letter whose layer a name takes: its index letter (a weight's: the neuron it enters), else NO_INDEX."""
    atoms = [_var(a) for a in _atoms_of(reader, node, kind)]
    if kind != "W":
        return atoms[0] or NO_INDEX if len(atoms) == 1 else NO_INDEX
    if len(atoms) != 2:
        return NO_INDEX
    into, _ = atoms if node.bracket or reader.reading.notation.index_order == "to_from" else atoms[::-1]
    return into or NO_INDEX


def _atoms_of(reader, node: Name, kind: str) -> list[Node]:
    """A name's index atoms, a weight's w_{12} and w12 as two (as the reader reads them)."""
    atoms = reader._index_atoms(node)
    if kind == "W" and node.digits and node.sub is None and len(node.digits) == 2:
        return [Num(c, node.pos + 1 + k) for k, c in enumerate(node.digits)]
    if kind == "W" and len(atoms) == 1 and isinstance(atoms[0], Num) and len(atoms[0].text) == 2:
        return [Num(c, atoms[0].pos + k) for k, c in enumerate(atoms[0].text)]
    return atoms


def _var(atom: Node) -> str | None:
    """An index atom as a variable: a letter (or Nielsen's word), or a number (δ_1 and o_1: one neuron's)."""
    if isinstance(atom, Name) and not atom.sub and not atom.sup and not atom.digits:
        return atom.base if len(atom.base) == 1 or atom.base in WORDS else None
    if isinstance(atom, Num) and atom.text.isdigit():
        return f"#{atom.text}"
    return None


def names(node: Node):
    """The names of a formula that stand for quantities (not the letters in their subscripts)."""
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, Name):
            yield n
            continue
        for key, value in vars(n).items():
            if isinstance(n, Entry) and key == "index":
                continue
            if isinstance(value, Node):
                stack.append(value)
            elif isinstance(value, tuple):
                stack.extend(v for v in value if isinstance(v, Node))


def _target(node: Node | None) -> Node | None:
    """The name a left side is about: ∂C/∂v's v, Δw's w, or the name itself."""
    while True:
        if isinstance(node, PartialNode):
            node = node.wrt
        elif isinstance(node, Paren):
            node = node.body
        elif isinstance(node, BinOp) and isinstance(node.left, Name):
            node = node.right if node.left.base == "Delta" else None
        else:
            return node if isinstance(node, Name) else None


def analyse(reader, param: Formula | None, parsed: Formula) -> Roles | None:
    """The roles of a formula's letters, when it is written without layers on a network with hidden layers; None
    when the reader's other defaults read it (a layer written, no hidden layer, Bishop's index marker, a parameter).

    ``reader`` is a throwaway Reader (its notes are not the verdict's). Raises ReadError for a letter with two roles.
    """
    n = reader.reading.notation
    if param is not None or parsed.lhs is None or reader.L < 2 or n.layer_marker == "index" or n.letters:
        return None
    parsed = _words(reader, parsed)
    found: list[tuple[Name, str]] = []
    for side in (parsed.lhs, parsed.rhs):
        for name in names(side):
            try:
                kind = reader.kind(name)
                if kind in LAYERED and reader._layer_from(name, kind) is not None:
                    return None  # a layer written: the other defaults read the rest
            except FormulaError:
                return None
            found.append((name, kind))
    target = _target(parsed.lhs)
    if target is None or not any(name is target and kind in LAYERED for name, kind in found):
        return None
    roles = Roles(parsed, variable(reader, target, reader.kind(target)))
    roles.shown = next((s for s in SHOWN if s not in _letters(reader, found)), "l")
    for name, kind in found:
        _constrain(reader, roles, name, kind)
    for name, kind in found:
        var = variable(reader, name, kind) if kind in LAYERED else None
        if var is not None and roles.find(var)[0] != roles.find(roles.target)[0] and roles.fixed(var) is None:
            message = f"{reader.describe(name)} has no layer, and nothing ties its index to the left side's"
            raise reader.error(name, message + " (write its layer, such as ^{(1)})")
    if any(kind == "W" and variable(reader, name, kind) == NO_INDEX for name, kind in found):
        # the weight itself may recur (w → w − η ∂C/∂w: every layer's); another matrix beside it has no layer to take
        plain = [(name, kind) for name, kind in found if kind in LAYERED and variable(reader, name, kind) == NO_INDEX]
        if any(kind != "W" or name.base != target.base for name, kind in plain):
            weight = next(name for name, kind in found if kind == "W" and variable(reader, name, kind) == NO_INDEX)
            raise reader.error(
                weight,
                f"{reader.describe(weight)} has no layer or index beside other names without"
                " one: write the layers, such as ^{(l)} and ^{(l-1)}",
            )
    return roles


def _letters(reader, found: list[tuple[Name, str]]) -> set[str]:
    """The index letters a formula writes."""
    return {a.base for name, _ in found for a in reader._index_atoms(name) if isinstance(a, Name)}


def _constrain(reader, roles: Roles, name: Name, kind: str) -> None:
    """The roles one name gives its letters; a clash is not understood, naming both names."""
    if kind not in (*LAYERED, "x", "y", "out"):
        return
    written = reader.describe(name)
    atoms = [_var(a) for a in _atoms_of(reader, name, kind)]
    if None in atoms:  # w_{j,j+1}: an index that is not a letter or a number
        raise reader.error(name, f"{written} has no layer, and its index is not a letter: write its layer")
    clash = None
    if kind == "W" and len(atoms) == 2 and atoms[0] == atoms[1]:  # w_{jj}, w_{11}: neurons of two layers
        raise reader.error(
            name,
            f"{written} has no layer, and one index for the neurons of two layers: write its layer, such as ^{{(1)}}",
        )
    if kind == "W" and len(atoms) == 2:
        into, leaving = atoms if name.bracket or reader.reading.notation.index_order == "to_from" else atoms[::-1]
        clash = roles.tie(leaving, into, 1, written)
        if clash is None and not into.startswith("#"):
            roles.notes.setdefault(
                RoleLayer(_shown(reader, name, into), "after", written, _shown(reader, name, leaving))
            )
    elif kind in ("x", "y", "out"):
        var = atoms[0] if len(atoms) == 1 else NO_INDEX
        layer = 0 if kind == "x" else reader.L
        clash = roles.anchor(var, layer, written)
        if clash is None and var != NO_INDEX and not var.startswith("#"):
            role = "input" if kind == "x" else "output"
            roles.notes.setdefault(RoleLayer(_shown(reader, name, var), role, written, "", layer))
    if clash is not None:
        raise reader.error(
            name,
            f"{clash} and {written} put an index in two layers: written without layers, an index letter stands for"
            " the neurons of one layer (write the layers, such as ^{(1)})",
        )


def _shown(reader, name: Name, var: str) -> str:
    """An index letter as written (\\ell for ℓ, {\\rm in})."""
    for atom in reader._index_atoms(name):
        if isinstance(atom, Name) and atom.base == var:
            m = _LETTER.match(reader.text, atom.pos)
            return var if var in WORDS or not m else m.group()
    return var.removeprefix("#")  # a number, as written: w_{0j} (the bias unit's 0), δ_1


def _words(reader, parsed: Formula) -> Formula:
    """Nielsen's ∂C/∂w = a_{\\rm in} δ_{\\rm out}: a weight without an index, in a formula that names the neurons
    ``in`` and ``out``, is the weight from the one to the other."""
    used = {
        a.base
        for side in (parsed.lhs, parsed.rhs)
        for name in names(side)
        for a in reader._index_atoms(name)
        if isinstance(a, Name)
    }
    if not set(WORDS) <= used:
        return parsed

    def indexed(node: Node) -> Node:
        if isinstance(node, Name):
            if node.sub is None and node.sup is None and not node.digits and reader.kind(node) == "W":
                pair = (Name("out", node.pos), Name("in", node.pos))
                return replace(node, sub=pair if reader.reading.notation.index_order == "to_from" else pair[::-1])
            return node
        changes = {}
        for key, value in vars(node).items():
            if isinstance(value, Node):
                changes[key] = indexed(value)
            elif isinstance(value, tuple) and any(isinstance(v, Node) for v in value):
                changes[key] = tuple(indexed(v) if isinstance(v, Node) else v for v in value)
        return replace(node, **changes) if changes else node

    return replace(parsed, lhs=indexed(parsed.lhs), rhs=indexed(parsed.rhs))
