"""A chain-rule factor of the forward pass as a statement: ∂o_j/∂net_j = φ(net_j)(1 − φ(net_j)), ∂z_1/∂a_2 = ….

Not a gradient of the cost: the left side is ∂f/∂v of two quantities of the forward pass, which the chain-rule table
(:mod:`derive.engine.chain`) values, and the right side is read as a definition's is. An index letter on the left
side without a layer (Wikipedia's j, any neuron) takes every layer where the factor exists, each said in a note. Both
sides are compared at the seeded points of a definition, whose z and a come from a NumPy forward pass.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from derive.engine.derivation import Derivation
from derive.errors import DeriveError
from derive.model.network import Network
from derive.present.latex import latex
from derive.verify.definition_mistakes import points, value
from derive.verify.findings import Judged, Note, UnlayeredRole
from derive.verify.points import close
from derive.verify.reading import Reader, assignments
from derive.verify.reading_refs import Probe, Reading
from derive.verify.syntax import Formula, Name, PartialNode, fail, walk


@dataclass(frozen=True)
class Factor(Note):
    """The statement was read as a chain-rule factor of the forward pass: ``elements`` factors compared at seeded
    points (the first note of the verdict, as a definition's is)."""

    code = "factor"
    elements: int
    method: str = "numeric"


@dataclass(frozen=True)
class AnyNeuron(Note):
    """An index letter of a factor's left side written without a layer (Wikipedia's j, any neuron): the statement is
    checked with ``letter`` a neuron of each of ``layers``, those where the factor exists."""

    code = "any_neuron"
    letter: str
    layers: tuple[int, ...]


def recognize(formula: Formula, d: Derivation) -> bool:
    """Whether the left side is ∂f/∂v of two quantities of the forward pass (not of the cost)."""
    lhs = formula.lhs
    if not isinstance(lhs, PartialNode) or lhs.nabla:
        return False
    reader = Reader(d, Reading(d.network.notation), formula.text)
    return not reader._is_cost(lhs.of) and all(
        isinstance(n, Name) and reader.kind(n) in ("z", "a", "out", "x", "W", "b") for n in (lhs.of, lhs.wrt)
    )


def judge(formula: Formula, d: Derivation, seed: int) -> Judged:
    """Right when both sides agree for every binding of the left side's letters at every seeded point."""
    net: Network = d.network
    lhs = formula.lhs
    assert isinstance(lhs, PartialNode)
    notes: dict[Note, None] = {}
    pairs = []  # (what, left value, right value)
    layers: tuple[int, ...] = ()
    errors: list[DeriveError] = []
    for roles in _roles(d, lhs):
        reader = Reader(d, Reading(net.notation), formula.text, notes={}, roles=roles)
        try:
            free: dict[str, Probe] = {}
            replace(reader, free=free).partial(lhs)
            ranges = {letter: probe.size(formula.text, 0) for letter, probe in free.items()}
            found = []
            for env in assignments(ranges):
                bound = replace(reader, env=env)
                left = bound.partial(lhs)
                found.append((f"∂{bound.ref(lhs.of).name}/∂{bound.ref(lhs.wrt).name}", left, bound.build(formula.rhs)))
        except DeriveError as exc:
            errors.append(exc)
            continue
        pairs += found
        notes |= {note: None for note in reader.notes if not isinstance(note, UnlayeredRole)}
        layers += tuple(roles.values())
    if not pairs:
        raise errors[0] if errors else fail(formula.text, 0, "the left side names no factor of this network")
    pts = points(net, seed)
    counter = None
    for what, left, right in pairs:
        if any(not hasattr(side, "free_symbols") for side in (left, right)):
            raise fail(formula.text, formula.spans[1][0], "a factor is compared one element at a time: index it")
        for values in pts:
            given, correct = value(right, values), value(left, values)
            if not close(given, correct):
                shown = {s.name: v for s, v in values.items() if s in right.free_symbols | left.free_symbols}
                counter = (what, shown, given, correct)
                break
        if counter is not None:
            break
    if layers:
        notes[AnyNeuron(next(iter(_roles(d, lhs)[0])), layers)] = None
    note = Factor(len(pairs))
    first = next((left for what, left, _ in pairs if counter is not None and what == counter[0]), pairs[0][1])
    correct = f"{formula.side(0)} = {latex(first, net)}"
    target = f"{pairs[0][0]} … {pairs[-1][0]}" if len(pairs) > 1 else pairs[0][0]
    return Judged(counter is None, target, correct, len(pts), counter, (note, *notes))


def _roles(d: Derivation, lhs: PartialNode) -> list[dict[str, int]]:
    """The layers an index letter of a left side written without layers takes: every layer (any neuron j), or none
    when the names carry their layers."""
    letters = sorted(
        {
            a.base
            for n in (lhs.of, lhs.wrt)
            if isinstance(n, Name) and n.sup is None and n.sub
            for a in walk(n)
            if isinstance(a, Name) and a is not n and len(a.base) == 1
        }
    )
    if len(letters) != 1:
        return [{}]
    return [{letters[0]: layer} for layer in range(1, d.L + 1)]
