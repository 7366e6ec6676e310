"""A definition of the forward pass as a statement: z^{(l)} = W^{(l)} a^{(l−1)} + b^{(l)}, a^{(l)}_j = σ(z^{(l)}_j), ….

Not a gradient: the left side names a quantity of the forward pass in the notation's letters (the pre-activation z,
the activation a, the output ŷ, the input x = a^{(0)}), with or without its neuron's index and layer, and the right
side says how it is computed. Both sides are read by the formula reader, so every notation option, layer letter and
index letter reads as it does in a gradient; an index letter of the left side puts the weights' other index letter
in the layer below (Wikipedia's net_j = Σ_k w_{kj} o_k: o_k an input). The right side is compared neuron by neuron
with the forward pass: exactly against the engine's forward equations on a small network, and at seeded points whose
z and a come from a NumPy forward pass. A wrong definition is compared with the common mistakes of
:mod:`derive.verify.definition_mistakes`, and read again with the weights' indices the other way and with the
activations of the right layer, for a definition whose shapes clash.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import sympy
from sympy import Expr, Matrix, Symbol

from derive.engine import matrixform
from derive.engine.algebra import is_zero
from derive.engine.derivation import EXPAND_PARAMETERS, Derivation, derive
from derive.engine.forms import Kind, matrix
from derive.engine.steps import Equation
from derive.errors import DeriveError
from derive.model.network import Network
from derive.present.latex import latex
from derive.rules import symbols as sym
from derive.verify import bias_unit, factor
from derive.verify import definition_mistakes as mistakes
from derive.verify.definition_mistakes import DefinitionMistake, points, value
from derive.verify.exact import SYMBOLIC_OPS, _expanded_terms
from derive.verify.findings import Diagnosis, Judged, Note, Shape
from derive.verify.mistakes import Transposed
from derive.verify.points import close
from derive.verify.read_bindings import _envs
from derive.verify.reading import Reader
from derive.verify.reading_refs import FormulaShapeError, FreeIndexError, LayerRangeError, Reading, Ref
from derive.verify.syntax import (
    BinOp,
    Call,
    Formula,
    FormulaError,
    LimitError,
    Limits,
    Name,
    Node,
    Paren,
    PartialNode,
    UndefinedError,
    fail,
    walk,
)
from derive.verify.work import WorkExhaustedError

# what a left side names: the pre-activation, the activation, the output, the input, the scores (cs231n's f)
KINDS = ("z", "a", "out", "x", "scores")


@dataclass(frozen=True)
class Definition(Note):
    """The statement was read as a definition of the forward pass: ``elements`` neurons compared with derive's
    forward equations, ``method`` "exact" (equal after substituting them) or "numeric" (at seeded points); ``total``
    how many the left side names, when more than were compared (0 when all were)."""

    code = "definition"
    elements: int
    method: str
    total: int = 0


@dataclass(frozen=True)
class Element:
    """One neuron's quantity a definition gives: the left side's (z, a or an input) and the right side's value."""

    ref: Ref
    given: Expr

    @property
    def symbol(self) -> Symbol:
        return (sym.z if self.ref.kind == "z" else sym.a)(self.ref.layer, self.ref.index[0])  # type: ignore[index]


@dataclass
class Read:
    """A definition read in one reading: its elements, the layer letter it leaves free, and what it says of names."""

    elements: list[Element]
    refs: list[Ref]  # what the left side names, for every binding of its letters (read or not)
    letter: str | None
    notes: dict[Note, None]
    named: list[Ref] = field(default_factory=list)  # every binding's, built or not (the work may run out)
    error: FormulaError | None = None  # why the right side could not be read for some of them
    free: str | None = None  # an index letter of the right side that nothing sums


def recognize(formula: Formula, net: Network) -> bool:
    """Whether a formula defines a quantity of the forward pass: its left side is z, a, the output or the input."""
    lhs = formula.lhs
    if lhs is None or formula.relation not in ("=", ":="):
        return False
    if isinstance(lhs, PartialNode):
        return factor.recognize(formula, derive(net))
    if not isinstance(lhs, Name) or lhs.primes:
        return False
    reader = Reader(derive(net), Reading(net.notation), formula.text)
    return reader.kind(lhs) in KINDS


def judge(formula: Formula, net: Network, seed: int) -> Judged:
    """Right when the right side gives every neuron's z (or a) of the forward pass at every point, else why not."""
    d = derive(net)
    if isinstance(formula.lhs, PartialNode):  # ∂o_j/∂net_j = …: a chain-rule factor of the forward pass
        return factor.judge(formula, d, seed)
    _undeclared(formula, net)
    primary = Reading(net.notation)
    found = _read(d, formula, primary, _rhs(formula, net))
    pts = points(net, seed)
    counter = None
    diagnoses: list[Diagnosis] = []
    mismatch = _mismatch(found, pts) if found.elements else None
    if mismatch is not None:
        e, p, given, correct = mismatch
        counter = (found.elements[e].ref.name, _shown(net, found.elements[e], pts[p]), given, correct)
        diagnoses += mistakes.found(d, found.elements, pts, found.letter)
    elif found.elements and found.error is None:
        method = "exact" if _exact(d, found) else "numeric"
        note = Definition(len(found.elements), method, _total(d, found))
        return Judged(True, _target(found), _correct(d, found), len(pts), None, (note, *found.notes))
    if found.free is not None:
        diagnoses.append(mistakes.UnsummedIndex(found.free))
    elif isinstance(found.error, FormulaShapeError):
        diagnoses.append(Shape(str(found.error).removeprefix("formula: ")))
    if not any(isinstance(dx, DefinitionMistake | Transposed) for dx in diagnoses):
        diagnoses += _rereadings(d, formula, primary, pts)
    if net.bias and _right(d, formula, bias_unit.other(primary), _rhs(formula, net), pts):  # Σ_i w_{ji} x_i, Θ a
        diagnoses.append(bias_unit.BiasConvention(bias_unit.other(primary).notation.bias))
    if not diagnoses and counter is None and found.error is not None:
        raise found.error  # read in no way: the reader's own error
    note = Definition(len(found.elements), "", _total(d, found))
    return Judged(False, _target(found), _correct(d, found), len(pts), counter, (note, *found.notes), tuple(diagnoses))


# ---------------------------------------------------------------- reading
def _undeclared(formula: Formula, net: Network) -> None:
    """h on the left side, when the notation gives it no meaning: the formula reader takes it for the pre-activation,
    but Goodfellow's and cs231n's h is an activation; a definition of it needs the notation to say which."""
    lhs = formula.lhs
    n = net.notation
    if isinstance(lhs, Name) and lhs.base == "h" and "h" not in (n.pre_activation, n.activation, n.function):
        raise fail(
            formula.text,
            0,
            'h is the pre-activation or the activation only as the notation declares it: [notation] activation = "h"'
            ' (Goodfellow, cs231n\'s hidden layer) or pre_activation = "h"',
        )


def _rhs(formula: Formula, net: Network) -> Node:
    """The right side with the notation's function letter applied as a function: Bishop's h(a_j) and φ(net_j) are
    written like a product of the letter and a bracket."""
    letter = net.notation.function
    if letter in ("named", "f", "g"):
        return formula.rhs

    def call(node: Node) -> Node:
        if isinstance(node, BinOp) and node.op == "*":
            left, right = call(node.left), call(node.right)
            if isinstance(left, Name) and left.base == letter and not left.sub and isinstance(right, Paren):
                return Call(left, (right.body,), left.pos)
            return replace(node, left=left, right=right)
        return node

    return call(formula.rhs)


def _read(d: Derivation, formula: Formula, reading: Reading, rhs: Node) -> Read:
    """Every neuron the left side names, each with the right side's value; a layer l takes every value it has.
    Where the right side cannot be read for a neuron (its shapes clash, an index letter is free) the error is kept."""
    notes: dict[Note, None] = {}
    lhs = formula.lhs
    assert lhs is not None
    target_reader = Reader(d, reading, formula.text, notes=notes)
    formula_reader = Reader(d, reading, formula.text, notes=notes)
    envs = _envs(d, target_reader, lhs)
    out = Read([], [], envs.letter, notes)
    out.named = [replace(target_reader, env=env).ref(lhs) for env in envs.envs]
    for env in _order(envs.envs, envs.letter):
        ref = replace(target_reader, env=env).ref(lhs)
        reader = replace(formula_reader, env=env, roles=_roles(target_reader, lhs, ref, rhs))
        try:
            given = reader.build(rhs)
        except LayerRangeError:
            if envs.letter is not None:  # a^{(l−1)} where l is the first layer: the definition is of the others
                continue
            raise
        except FreeIndexError as exc:
            if exc.layer:
                raise
            out.refs.append(ref)
            out.free, out.error = exc.letter, out.error or exc
            continue
        except WorkExhaustedError:  # a wide layer's sums: the neurons built so far are compared (a layer each first)
            if out.elements:
                break
            raise
        except (LimitError, UndefinedError):
            raise
        except FormulaError as exc:  # the shapes clash, an index's range is not clear: maybe a mistake, re-read
            out.refs.append(ref)
            out.error = out.error or exc
            continue
        out.refs.append(ref)
        refs = _refs(d, ref)
        values = list(given) if isinstance(given, Matrix) else [given]
        across = (given.rows if reader.rows else given.cols) if isinstance(given, Matrix) else 1  # one row or column
        if across != 1 or len(values) != len(refs):
            what = f"{given.rows}×{given.cols}" if isinstance(given, Matrix) else "a number"
            message = f"the right side is {what} but {ref.name} has {len(refs)} element(s)"
            out.error = out.error or FormulaShapeError(message)
            continue
        out.elements += [Element(r, v) for r, v in zip(refs, values, strict=True)]
    for element in out.elements:
        _check_names(formula, element.given)
    if out.elements and not any(element.given.free_symbols for element in out.elements):
        raise fail(formula.text, formula.spans[1][0], "a number is a value at one example; write how it is computed")
    return out


def _total(d: Derivation, found: Read) -> int:
    """How many neurons the left side names in all, when more than were compared; else 0."""
    total = sum(len(_refs(d, ref)) for ref in found.named)
    return total if total > len(found.elements) else 0


def _order(envs: list[dict[str, int]], letter: str | None) -> list[dict[str, int]]:
    """The bindings in order, but with a layer letter the first neuron of each layer first: when the work runs out on
    a wide network, every layer has been compared."""
    if letter is None:
        return envs
    envs = sorted(envs, key=lambda env: (env[letter], sorted(env.items())))
    firsts = [k for k, env in enumerate(envs) if k == 0 or env[letter] != envs[k - 1][letter]]
    return [envs[k] for k in firsts] + [env for k, env in enumerate(envs) if k not in set(firsts)]


def _refs(d: Derivation, ref: Ref) -> list[Ref]:
    if ref.index is not None:
        return [ref]
    return [Ref(ref.kind, ref.layer, (i,)) for i in range(1, d.size(ref.layer) + 1)]  # type: ignore[arg-type]


def _roles(reader: Reader, lhs: Name, ref: Ref, rhs: Node) -> dict[str, int]:
    """The layers of index letters: the left side's in its own layer, a weight's other letter in the layer below."""
    atoms = reader._index_atoms(lhs)
    if ref.index is None or len(atoms) != 1 or not isinstance(atoms[0], Name) or ref.layer is None:
        return {}
    own = atoms[0].base
    roles = {own: ref.layer}
    for node in walk(rhs):
        if isinstance(node, Name) and node.sub and node.base in ("w", "W", "theta", "Theta"):
            letters = [a.base for a in reader._index_atoms(node) if isinstance(a, Name) and len(a.base) == 1]
            if len(letters) == 2 and own in letters and letters[0] != letters[1] and ref.layer >= 1:
                roles[letters[1] if letters[0] == own else letters[0]] = ref.layer - 1
    return roles


def _check_names(formula: Formula, given: Expr) -> None:
    """A definition of the forward pass is read in the inputs, weights, biases and the z and a of the network."""
    for s in given.free_symbols:
        info = sym.parse_name(str(s))
        if info is None or info.kind not in ("x", "W", "b", "z", "a"):
            name = "δ" if info is not None and info.kind == "delta" else str(s)
            raise fail(
                formula.text,
                formula.spans[1][0],
                f"a definition of the forward pass is written in x, the weights, the biases, z and a; {name} is none",
            )


# ---------------------------------------------------------------- numbers
def _mismatch(found: Read, pts: list[dict[Symbol, float]]) -> tuple[int, int, float, float] | None:
    """(element, point, the right side's value, the forward pass's) where they first differ, or None."""
    for e, element in enumerate(found.elements[: Limits.CHECKED]):
        for p, values in enumerate(pts):
            given, correct = value(element.given, values), values[element.symbol]
            if not close(given, correct):
                return e, p, given, correct
    return None


def _exact(d: Derivation, found: Read) -> bool:
    """Whether every element equals the forward equations after substituting them (small networks only)."""
    if d.network.parameter_count() > EXPAND_PARAMETERS or len(found.elements) > EXPAND_PARAMETERS:
        return False
    fwd = d.forward_map()
    budget = Limits.EXACT_TERMS
    try:
        for element in found.elements:
            given = element.given.xreplace(fwd)
            if sympy.count_ops(given) > SYMBOLIC_OPS:
                return False
            diff = given - element.symbol.xreplace(fwd)
            budget -= _expanded_terms(diff, budget)
            if budget < 0:
                return False
            if is_zero(diff, d) is not True and is_zero(diff.rewrite(sympy.exp), d) is not True:
                return False
    except (TypeError, ValueError, ArithmeticError, RecursionError, NotImplementedError, DeriveError):
        return False
    return True


def _shown(net: Network, element: Element, values: dict[Symbol, float]) -> dict[str, float]:
    """The values of a counterexample: the inputs, then the weights and biases up to the neuron's layer (all that its
    z and a depend on) and those the right side uses."""
    used = {str(s) for s in element.given.free_symbols}
    out = {s.name: v for s, v in values.items() if s.name.startswith("x[")}  # not the targets: no definition has them
    for s, v in values.items():
        info = sym.parse_name(s.name)
        if info is not None and info.kind in ("W", "b") and (s.name in used or info.layer <= element.ref.layer):
            out[s.name] = v
    return out


# ---------------------------------------------------------------- what the verdict says
def _target(found: Read) -> str:
    refs = [element.ref for element in found.elements] or found.refs
    names = [ref.name for ref in sorted(refs, key=lambda ref: (ref.kind, ref.layer, ref.index or ()))]
    if not names:
        return ""
    return names[0] if len(names) == 1 else f"{names[0]} … {names[-1]}"


def _correct(d: Derivation, found: Read) -> str:
    """The forward equation of the first neuron, in the reader's notation."""
    refs = [element.ref for element in found.elements] or [r for ref in found.refs for r in _refs(d, ref)]
    if not refs:
        return ""
    ref = refs[0]
    layer, i = ref.layer, ref.index[0]  # type: ignore[index]
    if layer == 0:
        return ""
    whole = found.refs and found.refs[0].index is None
    if found.letter is not None or whole:  # the matrix form, of the layer l or of the layer named
        z, a = _matrix_form(d, "l" if found.letter is not None else layer)  # type: ignore[arg-type]
        eq = z if ref.kind == "z" else a
        return f"{latex(eq.lhs, d.network)} = {latex(eq.rhs, d.network)}"
    z, a = d.forward_neuron(layer, i)  # type: ignore[arg-type]
    if ref.kind == "z":
        return f"{latex(z.lhs, d.network)} = {latex(z.rhs, d.network)}"
    weighted = {
        d.forward_neuron(layer, k)[0].lhs: d.forward_neuron(layer, k)[0].rhs for k in range(1, d.size(layer) + 1)
    }
    return f"{latex(a.lhs, d.network)} = {latex(a.rhs, d.network)} = {latex(a.rhs.xreplace(weighted), d.network)}"


def _matrix_form(d: Derivation, layer: int | str) -> tuple[Equation, Equation]:
    """z = W a + b and a = g(z) of a layer in matrix form, in the convention of the notation (W^T under from_to)."""
    if isinstance(layer, int):
        z, a = matrixform.forward(d, layer)
        return z, a
    rhs = matrixform.weight(layer, d, matrixform.convention(d).from_to) * matrixform.a_vec(f"{layer}-1", d)
    if d.network.bias:
        rhs = rhs + matrixform.vec(Kind.B, layer, d)
    return Equation(matrixform.vec(Kind.Z, layer, d), rhs), Equation(matrixform.a_vec(layer, d), matrix(Kind.G, layer))


def _rereadings(d: Derivation, formula: Formula, primary: Reading, pts: list[dict[Symbol, float]]) -> list[Diagnosis]:
    """A wrong definition read with the weights' indices the other way (transposed), and with the activations of the
    layer below where it takes another layer's (a^{(l)} for a^{(l−1)}): right so, the mistake is named."""
    n = primary.notation
    flipped = Reading(replace(n, index_order="from_to" if n.index_order == "to_from" else "to_from"))
    rhs = _rhs(formula, d.network)
    if _right(d, formula, flipped, rhs, pts):
        return [Transposed()]
    for node, edited, layers in mistakes.layer_edits(d, formula, primary, rhs):
        if _right(d, formula, primary, _swap(rhs, node, edited), pts):
            return [mistakes.WrongInputLayer(*layers)]
    return []


def _right(d: Derivation, formula: Formula, reading: Reading, rhs: Node, pts: list[dict[Symbol, float]]) -> bool:
    try:
        found = _read(d, formula, reading, rhs)
    except (FormulaError, DeriveError):
        return False
    return bool(found.elements) and found.error is None and _mismatch(found, pts) is None


def _swap(node: Node, old: Node, new: Node) -> Node:
    """The syntax tree with the node ``old`` (by identity) replaced by ``new``."""
    if node is old:
        return new
    changes = {}
    for key, field_value in vars(node).items():
        if isinstance(field_value, Node):
            swapped = _swap(field_value, old, new)
            if swapped is not field_value:
                changes[key] = swapped
        elif isinstance(field_value, tuple) and any(isinstance(v, Node) for v in field_value):
            items = tuple(_swap(v, old, new) if isinstance(v, Node) else v for v in field_value)
            if any(a is not b for a, b in zip(items, field_value, strict=True)):
                changes[key] = items
    return replace(node, **changes) if changes else node
