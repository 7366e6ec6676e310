"""Every general-layer equation a document prints holds for the declared network.

The section "Any layer: the four equations" states backpropagation for a symbolic layer l (and the output
layer L), neuron by neuron and as matrices. Here each of those equations is instantiated at every concrete
layer where it speaks of existing layers (l = 1 … L, with l + 1 ≤ L and l − 1 ≥ 0) and at every neuron, and
compared entry by entry with the element-level derivation: the matrix equations through
``matrixform.explicit`` / ``holds``, the index equations by replacing each ∂ factor with its value, found
here (∂z/∂v by sympy's ``diff`` of the written weighted sum, ∂a_i/∂z_j from the Jacobian entry, ∂C/∂z and
∂C/∂a from the derivation's own dC_dz and dC_da, ∂C/∂θ from the parameter's closed form). A false general
form, such as δ^{(L)} = ∇_a C ⊙ g'(z^{(L)}) for a softmax output, fails.

The networks: the five seeds, a softmax hidden layer (the recursion through the Jacobian), and three
layers mixing a softmax hidden layer, a tanh hidden layer and a softmax output, written from-to with the
error-term sign.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sympy
from sympy import Add, HadamardProduct, MatrixSymbol, Sum

import derive
from derive.engine import matrixform
from derive.engine.algebra import is_zero
from derive.engine.derivation import Derivation
from derive.engine.forms import Kind, Label, Size, label_of, matrix
from derive.engine.record import Record
from derive.engine.steps import Equation
from derive.model import spec
from derive.rules import symbols as sym
from derive.rules.functions import Partial

EXAMPLES = Path(__file__).parent.parent / "examples"
SEEDS = ("seed000", "seed001", "seed002", "seed003", "seed004")

SOFTMAX_HIDDEN = """name = "softmax_hidden"
inputs = 2
loss = "mse"
[[layer]]
units = 3
activation = "softmax"
[[layer]]
units = 2
activation = "sigmoid"
"""

MIXED = """name = "mixed"
inputs = 2
loss = "cross_entropy"
[[layer]]
units = 2
activation = "softmax"
[[layer]]
units = 2
activation = "tanh"
[[layer]]
units = 2
activation = "softmax"
[notation]
index_order = "from_to"
delta = "error"
"""

NETWORKS = (*SEEDS, "softmax_hidden", "mixed")


@pytest.fixture(scope="module")
def derivations() -> dict[str, Derivation]:
    return {}


def _derivation(cache: dict[str, Derivation], name: str) -> Derivation:
    if name not in cache:
        if name in SEEDS:
            net = spec.load(EXAMPLES / f"{name}.toml")
        else:
            net = spec.loads({"softmax_hidden": SOFTMAX_HIDDEN, "mixed": MIXED}[name])
        cache[name] = derive.derive(net)
    return cache[name]


# ------------------------------------------------------------ symbolic layers
def _at(layer: object, l: int, L: int) -> object:  # noqa: E741 - the articles' letter
    """A symbolic layer ("l", "l+1", "l-1", "L", or a shift of one such as "l+1-1") at l; a number stays itself."""
    if not isinstance(layer, str):
        return layer
    assert set(layer) <= set("lL+-0123456789"), layer
    return int(sympy.sympify(layer, locals={"l": sympy.Integer(l), "L": sympy.Integer(L)}))


def _layers(expr: sympy.Basic) -> set[object]:
    """Every layer an expression speaks of: its matrices', indexed entries' and sizes' layers."""
    found: set[object] = set()
    for node in sympy.preorder_traversal(expr):
        label = label_of(node) if isinstance(node, (MatrixSymbol, sympy.Indexed, sympy.IndexedBase)) else None
        if label is not None and label.layer is not None:
            found.add(label.layer)
        if isinstance(node, Size):
            found.add(node.layer)
    return found


def _labelled(expr: sympy.Basic) -> list[sympy.Basic]:
    """The indexed entries and matrices of an expression that carry a Label."""
    return [
        n
        for n in sympy.preorder_traversal(expr)
        if isinstance(n, (MatrixSymbol, sympy.Indexed)) and isinstance(label_of(n), Label)
    ]


def _instances(eq: Equation, d: Derivation) -> list[int]:
    """The concrete l at which ``eq`` speaks only of existing layers (one l when it names only L)."""
    layers = _layers(eq.lhs) | _layers(eq.rhs)
    symbolic = {x for x in layers if isinstance(x, str)}
    if symbolic == {"L"}:
        return [d.L]
    return [l for l in range(1, d.L + 1) if all(0 <= _at(x, l, d.L) <= d.L for x in symbolic)]  # noqa: E741


# -------------------------------------------------------------- matrix form
def _concrete_matrices(expr: sympy.Basic, d: Derivation, l: int) -> sympy.Basic:  # noqa: E741
    """The matrix expression at layer l: each matrix's layer and shape made concrete (a^{(0)} is x)."""

    def dim(n: object) -> object:
        return d.size(_at(n.layer, l, d.L)) if isinstance(n, Size) else n

    mapping = {}
    for m in expr.atoms(MatrixSymbol):
        label = label_of(m)
        layer = _at(label.layer, l, d.L)
        if label.kind is Kind.A and layer == 0:
            mapping[m] = matrix(Kind.X, None, dim(m.shape[0]), dim(m.shape[1]))
        else:
            mapping[m] = matrix(label.kind, layer, dim(m.shape[0]), dim(m.shape[1]))
    return expr.xreplace(mapping)


def _matrix_holds(eq: Equation, d: Derivation, l: int) -> bool:  # noqa: E741
    concrete = Equation(_concrete_matrices(eq.lhs, d, l), _concrete_matrices(eq.rhs, d, l), eq.relation)
    return matrixform.holds(concrete, d)


# --------------------------------------------------------------- index form
def _ranges(expr: sympy.Basic, d: Derivation, l: int) -> dict[sympy.Symbol, int]:  # noqa: E741
    """How far each free index runs: the size of the layer it counts neurons of."""
    out: dict[sympy.Symbol, int] = {}
    free = expr.free_symbols
    for node in sympy.preorder_traversal(expr):
        if not isinstance(node, sympy.Indexed):
            continue
        label = label_of(node)
        layer = _at(label.layer, l, d.L)
        # W^{(l)}_{jk}: j counts layer l, k layer l − 1; every other entry counts its own layer.
        counted = (layer, layer - 1) if label.kind is Kind.W else (layer,)
        for index, of in zip(node.indices, counted, strict=True):
            if index in free:
                out[index] = d.size(of)
    return out


def _element(kind: Kind, layer: int, index: tuple[int, ...], d: Derivation) -> sympy.Expr:
    """An indexed entry as derive's element-level symbol (δ and g' by value, the rest as symbols)."""
    if kind is Kind.Z:
        return sym.z(layer, *index)
    if kind is Kind.A:
        return sym.x(*index) if layer == 0 else sym.a(layer, *index)
    if kind is Kind.W:
        return sym.W(layer, *index)
    if kind is Kind.B:
        return sym.b(layer, *index)
    if kind is Kind.DELTA:
        return sym.delta(layer, *index)
    if kind is Kind.G_PRIME:
        (i,) = index
        return d.jacobian_entry(layer, i, i)
    raise AssertionError(f"no element for {kind}")


def _partial_value(f: sympy.Expr, v: sympy.Expr, d: Derivation) -> sympy.Expr:
    """∂f/∂v at element level, by a route of this test's own."""
    wrt = sym.parse_name(str(v))
    if f == sym.COST:
        if wrt.kind == "z":
            return d.dC_dz(wrt.layer, wrt.i)
        if wrt.kind == "a":
            assert wrt.layer == d.L, v
            return d.dC_da(wrt.i)
        assert wrt.kind in ("W", "b"), v
        return d.parameter(str(v)).closed
    of = sym.parse_name(str(f))
    if of.kind == "z":  # the weighted sum as written, differentiated by sympy
        return sympy.diff(d.forward_neuron(of.layer, of.i)[0].rhs, v)
    assert of.kind == "a" and wrt.kind == "z" and of.layer == wrt.layer, (f, v)
    return d.jacobian_entry(of.layer, of.i, wrt.i)


def _element_level(expr: sympy.Basic, d: Derivation, l: int, at: dict[sympy.Symbol, int]) -> sympy.Expr:  # noqa: E741
    """An index-form side at layer l and neurons ``at``, as an expression in a, z, W, b, y."""
    expr = expr.xreplace({s: sympy.Integer(v) for s, v in at.items()})
    expr = expr.replace(lambda e: isinstance(e, Size), lambda e: sympy.Integer(d.size(_at(e.layer, l, d.L))))
    expr = expr.replace(
        lambda e: isinstance(e, Sum),
        lambda e: Add(*[e.function.xreplace({e.limits[0][0]: n}) for n in range(e.limits[0][1], e.limits[0][2] + 1)]),
    )
    expr = expr.replace(
        lambda e: isinstance(e, sympy.Indexed) and isinstance(label_of(e), Label),
        lambda e: _element(label_of(e).kind, _at(label_of(e).layer, l, d.L), tuple(int(i) for i in e.indices), d),
    )
    expr = expr.replace(lambda e: isinstance(e, Partial), lambda e: _partial_value(e.args[0], e.args[1], d))
    named = {s: sym.parse_name(str(s)) for s in expr.free_symbols}
    deltas = {s: d.delta_closed(info.layer, info.i) for s, info in named.items() if info and info.kind == "delta"}
    return expr.xreplace(deltas)


def _index_holds(eq: Equation, d: Derivation, l: int) -> list[str]:  # noqa: E741
    """The neurons at which an index equation fails at layer l (empty when it holds everywhere)."""
    ranges = _ranges(sympy.Tuple(eq.lhs, eq.rhs), d, l)
    names = sorted(ranges, key=str)
    failures = []
    for values in _product([range(1, ranges[s] + 1) for s in names]):
        at = dict(zip(names, values, strict=True))
        lhs, rhs = _element_level(eq.lhs, d, l, at), _element_level(eq.rhs, d, l, at)
        assert not any(isinstance(n, Partial) for n in sympy.preorder_traversal(lhs - rhs)), (lhs, rhs)
        if not is_zero(lhs - rhs, d):
            failures.append(f"l={l} {at}")
    return failures


def _product(ranges: list[range]) -> list[tuple[int, ...]]:
    out: list[tuple[int, ...]] = [()]
    for r in ranges:
        out = [(*t, v) for t in out for v in r]
    return out


# -------------------------------------------------------------------- tests
@pytest.mark.parametrize("name", NETWORKS)
def test_every_general_matrix_equation_holds_at_every_layer(name: str, derivations) -> None:
    d = _derivation(derivations, name)
    general = Record(d).general.matrix
    assert len(general) == (4 if d.network.bias else 3)  # ∂C/∂b only for a network with biases
    for eq in general:
        layers = _instances(eq, d)
        assert layers, eq
        for l in layers:  # noqa: E741
            assert _matrix_holds(eq, d, l), f"{name}: {eq.lhs} = {eq.rhs} is false at l = {l}"


@pytest.mark.parametrize("name", NETWORKS)
def test_every_general_index_equation_holds_at_every_layer_and_neuron(name: str, derivations) -> None:
    d = _derivation(derivations, name)
    general = Record(d).general.index
    biases = [eq for eq in general if Kind.B in {label_of(n).kind for n in _labelled(eq.lhs)}]
    assert len(biases) == (1 if d.network.bias else 0)  # no ∂C/∂b is printed for a network without biases
    assert len(general) == 6 + len(biases)
    for eq in general:
        layers = _instances(eq, d)
        assert layers, eq
        for l in layers:  # noqa: E741
            failures = _index_holds(eq, d, l)
            assert not failures, f"{name}: {eq.lhs} {eq.relation} {eq.rhs} is false at {failures}"


def test_the_hidden_recursion_is_checked_at_a_softmax_hidden_layer(derivations) -> None:
    """The recursion's general forms are instantiated at l = 1, the softmax layer, and hold there."""
    d = _derivation(derivations, "softmax_hidden")
    assert not d.network.activation(1).elementwise
    recursion = Record(d).general.matrix[1]
    assert _instances(recursion, d) == [1]
    assert _matrix_holds(recursion, d, 1)
    mixed = _derivation(derivations, "mixed")
    assert _instances(Record(mixed).general.matrix[1], mixed) == [1, 2]


def test_the_elementwise_forms_are_caught_where_they_are_false(derivations) -> None:
    """The ⊙ g' forms the documents used to print fail this check for softmax, and pass for an elementwise layer."""
    for name, layer in (("seed003", "L"), ("softmax_hidden", "l")):
        d = _derivation(derivations, name)
        if layer == "L":
            inner = matrixform.vec(Kind.NABLA_C, "L", None)
            delta = matrixform.vec(Kind.DELTA, "L", None)
        else:
            inner = matrixform.backprop_in("l", None, matrixform.Convention())
            delta = matrixform.vec(Kind.DELTA, "l", None)
        old = Equation(delta, HadamardProduct(inner, matrixform.vec(Kind.G_PRIME, layer, None)))
        assert not _matrix_holds(old, d, 1 if layer == "l" else d.L), name
        j = sympy.Symbol("j", integer=True, positive=True)
        ix = sympy.IndexedBase
        old_index = Equation(
            ix(Label(Kind.DELTA, "L"))[j],
            Partial(sym.COST, ix(Label(Kind.A, "L"))[j]) * ix(Label(Kind.G_PRIME, "L"))[j],
        )
        if layer == "L":
            assert _index_holds(old_index, d, d.L), name
    # and the same elementwise form holds where the output is elementwise
    d = _derivation(derivations, "seed001")
    old = Equation(
        matrixform.vec(Kind.DELTA, "L", None),
        HadamardProduct(matrixform.vec(Kind.NABLA_C, "L", None), matrixform.vec(Kind.G_PRIME, "L", None)),
    )
    assert _matrix_holds(old, d, d.L)


def test_elementwise_networks_keep_the_elementwise_forms(derivations) -> None:
    for name in ("seed000", "seed001", "seed002", "seed004"):
        d = _derivation(derivations, name)
        for eq in Record(d).general.matrix[:2]:
            assert any(isinstance(n, HadamardProduct) for n in sympy.preorder_traversal(eq.rhs)), name


def test_seed003_markdown_no_longer_prints_the_false_output_form(derivations) -> None:
    d = derive.derive(spec.load(EXAMPLES / "seed003.toml"))
    for lang in ("en", "zh"):
        text = d.render("md", lang)
        assert r"\delta^{(L)} &= \nabla_{a^{(L)}} J \odot g'(z^{(L)})" not in text
        assert r"\delta^{(L)}_{j} &= g'(z^{(L)}_{j}) \frac{\partial J}{\partial a^{(L)}_{j}}" not in text
        assert r"g'\left(z^{(L)}" not in text
        assert (
            r"\delta^{(L)} &= \left(\frac{\partial a^{(L)}}{\partial z^{(L)}}\right)^{\mathsf T} \nabla_{a^{(L)}} J"
            in text
        )
        assert (
            r"\delta^{(L)}_{i} &= \sum_{r=1}^{n^{(L)}} \frac{\partial a^{(L)}_{r}}{\partial z^{(L)}_{i}} "
            r"\frac{\partial J}{\partial a^{(L)}_{r}}" in text  # i of layer L, r another of it (test_symbol_clashes)
        )
        # the hidden layer is ReLU: its recursion keeps the elementwise form
        assert r"\odot g'(z^{(l)})" in text
