"""How formulas are printed: no gap after a function name, products in the chain's order, the costs as
textbooks write them, and ∂C/∂y of the binary cross-entropy over one denominator before it is multiplied.

Every printed formula tested here is also read back: derive's own formula reader (``derive verify``) parses
the printed LaTeX and compares it with the engine at random points, and the costs are compared with sympy
formulas written out in this file.
"""

from __future__ import annotations

import random
import re
from xml.etree.ElementTree import Element, fromstring

import pytest
import sympy
from conftest import EXAMPLES

import derive
from derive.engine import ordered
from derive.engine.record import Record
from derive.present import mathml
from derive.present.latex import DeriveLatexPrinter, latex
from derive.present.written import LINE_EM, width_em
from derive.rules import symbols as sym
from derive.rules.functions import Partial, sigmoid
from derive.verify import verify

NAMES = ("seed000", "seed001", "seed002", "seed003", "seed004")
SPECS = {path.stem: path for path in EXAMPLES}

# A function name (σ, σ′, tanh, log, ReLU, diag, σ^{2} …) directly followed by a growing bracket: TeX sets
# \left( as an inner atom with a thin space before it, σ (z).
NAME_THEN_LEFT = re.compile(r"(\\(?:sigma|tanh|log|exp)|\\operatorname\{[A-Za-z]+\}|')(\^\{[^{}]*\})?\s*\\left\(")


@pytest.fixture(scope="module")
def records() -> dict[str, Record]:
    return {name: Record(derive.derive(derive.load(SPECS[name]))) for name in NAMES}


def printer(rec: Record) -> DeriveLatexPrinter:
    return DeriveLatexPrinter(rec.network)


# --------------------------------------------------------------------------- function names
def test_a_function_is_written_next_to_its_argument() -> None:
    z = sympy.Symbol("z")
    assert latex(sigmoid(z)) == r"\sigma(z)"
    assert latex(sympy.Derivative(sigmoid(z), z)) == r"\sigma'(z)"
    assert latex(sympy.tanh(z)) == r"\tanh(z)"
    assert latex(sympy.log(z)) == r"\log z"
    assert latex(sympy.log(1 - z)) == r"\log(1 - z)"
    # around a tall argument the brackets grow, and \mathopen{} keeps them next to the name
    assert latex(sigmoid(z / sympy.Symbol("w"))) == r"\sigma\mathopen{}\left(\frac{z}{w}\right)\mathclose{}"


@pytest.mark.parametrize("name", NAMES)
def test_no_growing_bracket_after_a_function_name_in_the_tex(rendered, name: str) -> None:
    for lang in ("", ".zh"):
        tex = rendered[f"{name}{lang}.tex"]
        assert NAME_THEN_LEFT.findall(tex) == [], name
        assert re.search(r"\\sigma(')?\(z", tex) or r"\operatorname{ReLU}(z" in tex


def _maths(html: str) -> list[Element]:
    return [fromstring(m) for m in re.findall(r"<math\b.*?</math>", html, re.DOTALL)]


def _is_function_name(element: Element) -> bool:
    """σ, log, tanh, ReLU, … possibly with a prime (σ′ is an mrow of σ and ′) or a superscript."""
    if element.tag == "mi":
        return (element.text or "") in {
            "σ",
            "log",
            "tanh",
            "ReLU",
            "ELU",
            "SiLU",
            "diag",
            "softmax",
            "softplus",
            "id",
            "exp",
        }
    if element.tag in ("mrow", "msup", "msub") and len(element):
        return _is_function_name(element[0]) and all(
            e.tag == "mo" and (e.text or "") in "′″" for e in list(element)[1:] if element.tag == "mrow"
        )
    return False


def _opens(element: Element) -> bool:
    if element.tag == "mo":
        return (element.text or "") in "(["
    return element.tag == "mrow" and len(element) > 0 and _opens(element[0])


def _gaps(math: Element) -> list[str]:
    """Each place where a spacing element stands between a function name and its bracket."""
    found = []
    for row in math.iter():
        children = list(row)
        for k in range(len(children) - 2):
            name, middle, after = children[k : k + 3]
            spacer = middle.tag == "mspace" or (middle.tag == "mo" and not (middle.text or "").strip())
            if _is_function_name(name) and spacer and _opens(after):
                found.append(name.text or name[0].text or "")
    return found


@pytest.mark.parametrize("name", NAMES)
def test_mathml_puts_no_space_between_a_function_and_its_bracket(rendered, name: str) -> None:
    for lang in ("", ".zh"):
        maths = _maths(rendered[f"{name}{lang}.html"])
        assert maths
        assert [gap for math in maths for gap in _gaps(math)] == []
        # and the bracket does follow the name somewhere: σ(z) or ReLU(z)
        pairs = [
            (row[k], row[k + 1]) for math in maths for row in math.iter() for k in range(len(row) - 1) if len(row) > 1
        ]
        assert any(_is_function_name(a) and _opens(b) for a, b in pairs)


def test_mathml_of_a_tall_argument_has_no_empty_operators() -> None:
    out = mathml.inline(r"\sigma\mathopen{}\left(\frac{a}{b}\right)\mathclose{} x")
    assert "<mrow />" not in out and out.index("<mi>σ</mi>") < out.index("(")
    assert not re.search(r"<mi>σ</mi><(mspace|mo[^>]*><mrow)", out)


def test_mathml_spaces_an_operator_name_before_a_letter_only() -> None:
    out = mathml.inline(r"t \log y + (1 - t) \log(1 - y)")
    assert re.search(r"<mi>log</mi><mspace width=\"0.1667em\" /><mi>y</mi>", out)  # log y, not logy
    assert re.search(r"<mi>log</mi><mo stretchy=\"false\">\(</mo>", out)  # log(1 − y), no gap


# --------------------------------------------------------------------------- chain order
def _gradient(documents, name: str, parameter: str):
    for _, grads, _, _ in documents[name].gradients:
        for g in grads:
            if g.name == parameter:
                return g
    raise KeyError(parameter)


def _bracket(tex: str) -> str:
    return f"({tex})"


def test_the_input_weight_reads_from_the_cost_back_to_the_input(documents, records) -> None:
    """seed004 (one path): (ŷ − y)·ŷ(1 − ŷ)·w·a(1 − a)·x, ∂E/∂w factor by factor as the chain meets them."""
    rec = records["seed004"]
    p = printer(rec)
    out, hidden, x = sym.a(2, 1), sym.a(1, 1), sym.x(1)
    # independently: squared error ½(y − ŷ)² differentiated, the sigmoid's derivative, the weight, the input
    factors = [
        sympy.diff(sympy.Rational(1, 2) * (sym.y(1) - out) ** 2, out),
        out * (1 - out),
        sym.W(2, 1, 1),
        hidden * (1 - hidden),
        x,
    ]
    written = [p.doprint(f) for f in factors]
    written[0] = _bracket(written[0])
    expected = r" \cdot ".join(written)
    g = _gradient(documents, "seed004", "W1[1,1]")
    assert (
        g.product.rhs
        == expected
        == r"(\hat{y} - y) \cdot \hat{y} (1 - \hat{y}) \cdot w^{(2)}_{11} \cdot a^{(1)}_{1} (1 - a^{(1)}_{1})"
        r" \cdot x_{1}"
    )
    assert g.closed is None  # nothing cancels: the product is the closed form


@pytest.mark.parametrize("name", ["seed000", "seed002"])
def test_a_two_path_input_weight_is_summed_over_the_paths_in_chain_order(documents, records, name: str) -> None:
    """Σ over the output neurons k of (∂C/∂z_k)·w_k1, then the hidden derivative, then the input."""
    rec = records[name]
    p = printer(rec)
    net = rec.network
    hidden, x = sym.a(1, 1), sym.x(1)
    loss = net.loss
    terms = []
    for k in (1, 2):
        a_k, y_k = sym.a(2, k), sym.y(k)
        if loss == "binary_cross_entropy":  # matches the sigmoid: ∂C/∂z_k = a_k − y_k
            parts = [_bracket(p.doprint(a_k - y_k))]
        else:
            parts = [_bracket(p.doprint(a_k - y_k)), p.doprint(a_k * (1 - a_k))]
        terms.append(r" \cdot ".join([*parts, p.doprint(sym.W(2, k, 1))]))
    expected = r" \cdot ".join([_bracket(" + ".join(terms)), p.doprint(hidden * (1 - hidden)), p.doprint(x)])
    g = _gradient(documents, name, "W1[1,1]")
    shown = g.closed.rhs if g.closed is not None else g.product.rhs
    assert shown == expected
    if name == "seed002":
        assert shown == (
            r"((y_{1} - t_{1}) \cdot \theta^{(2)}_{11} + (y_{2} - t_{2}) \cdot \theta^{(2)}_{21})"
            r" \cdot a^{(1)}_{1} (1 - a^{(1)}_{1}) \cdot x_{1}"
        )


@pytest.mark.parametrize("name", NAMES)
def test_the_chain_and_its_listed_factors_run_from_the_cost_to_the_parameter(documents, records, name: str) -> None:
    """Read left to right, each ∂f/∂v of a chain starts where the one before ended (its f is the previous v)
    or starts a new path at the cost; the last ends at the parameter. The listed factors are the chain's, in
    that order, each once."""
    rec = records[name]
    p = printer(rec)
    shown = {g.name: g for _, grads, _, _ in documents[name].gradients for g in grads}
    for parameter in rec.parameters:
        leaves = ordered.leaves(rec.in_order(parameter).chain)
        info = sym.parse_name(parameter)
        assert leaves[0].args[0] == sym.COST
        assert leaves[-1].args[1] == sym.parameter_symbol(info.layer, info.i, info.j)
        for before, after in zip(leaves, leaves[1:], strict=False):
            assert after.args[0] in (before.args[1], sym.COST), (parameter, before, after)
        if parameter in shown:
            listed = [f.factor for f in shown[parameter].factors]
            assert listed == [p.doprint(f) for f in dict.fromkeys(leaves)]


@pytest.mark.parametrize("name", NAMES)
def test_every_printed_product_and_closed_form_reads_back_as_right(documents, records, name: str) -> None:
    """derive's formula reader parses what the document prints and finds it equal to the engine's at random points."""
    net = records[name].network
    for _, grads, _, _ in documents[name].gradients:
        for g in grads[:4]:
            for eq in (g.product, g.closed):
                if eq is not None:
                    assert verify(net, None, f"{eq.lhs} = {eq.rhs}").right, (g.name, eq.rhs)


@pytest.mark.parametrize("name", NAMES)
def test_the_ordered_forms_multiply_out_to_the_engines(records, name: str) -> None:
    """value() of each ordered form is the engine's own expression (exactly, or as a rational function)."""
    rec = records[name]
    for parameter in rec.parameters:
        form, g = rec.in_order(parameter), rec.gradient(parameter)
        assert ordered.value(form.closed) == g.closed, parameter
        assert ordered.value(form.product) == g.chain_value, parameter
        chain_values = {f.lhs: f.rhs for f in g.factors}
        valued = ordered.substitute(form.chain, lambda e, values=chain_values: values.get(e, e))
        assert ordered.value(valued) == g.chain_value
        assert [f for f in dict.fromkeys(ordered.leaves(form.chain))] and set(ordered.leaves(form.chain)) <= set(
            chain_values
        ) | {Partial(sym.z(g.layer, g.row), g.symbol)}


def test_the_printed_product_equals_the_closed_form_at_random_points(records) -> None:
    """seed002's θ^{(1)}_{11}: the product of the printed factors (nothing cancelled) is the engine's closed form."""
    rec = records["seed002"]
    form, g = rec.in_order("W1[1,1]"), rec.gradient("W1[1,1]")
    product = ordered.value(form.product)
    symbols = sorted(product.free_symbols | g.closed.free_symbols, key=str)
    rng = random.Random(13)
    for _ in range(5):
        point = {s: sympy.Rational(rng.randint(5, 95), 100) for s in symbols}
        assert product.xreplace(point) == g.closed.xreplace(point)


# --------------------------------------------------------------------------------- costs
def test_the_binary_cross_entropy_is_printed_as_the_textbook_writes_it(documents, records) -> None:
    cost = documents["seed002"].cost
    assert cost.lhs == "J"  # the article's J
    assert cost.rhs == (
        r"- [t_{1} \log y_{1} + (1 - t_{1}) \log(1 - y_{1}) + t_{2} \log y_{2} + (1 - t_{2}) \log(1 - y_{2})]"
    )
    y, t = [sym.a(2, k) for k in (1, 2)], [sym.y(k) for k in (1, 2)]
    textbook = -sum(t[k] * sympy.log(y[k]) + (1 - t[k]) * sympy.log(1 - y[k]) for k in range(2))
    assert sympy.expand(ordered.value(records["seed002"].cost_in_order) - textbook) == 0


def test_one_output_binary_cross_entropy_is_minus_one_bracket() -> None:
    net = derive.Network(
        2, (derive.Layer(1, "sigmoid"),), "binary_cross_entropy", notation=derive.Notation(target="t", output="y")
    )
    rec = Record(derive.derive(net))
    assert printer(rec).ordered(rec.cost_in_order) == r"- [t \log y + (1 - t) \log(1 - y)]"


@pytest.mark.parametrize(
    ("name", "expected", "textbook"),
    [
        (
            "seed000",
            r"\frac{1}{2} [(y_{e} - o_{e})^{2} + (y_{f} - o_{f})^{2}]",
            lambda a, y: sympy.Rational(1, 2) * sum((y[k] - a[k]) ** 2 for k in range(len(a))),
        ),
        ("seed004", r"\frac{1}{2} (y - \hat{y})^{2}", lambda a, y: (y[0] - a[0]) ** 2 / 2),
        (
            "seed003",
            r"- [y_{1} \log a^{(2)}_{1} + y_{2} \log a^{(2)}_{2}]",
            lambda a, y: -sum(y[k] * sympy.log(a[k]) for k in range(2)),
        ),
    ],
)
def test_squared_error_and_cross_entropy_are_printed_as_textbooks_write_them(
    documents, records, name, expected, textbook
) -> None:
    rec = records[name]
    assert documents[name].cost.rhs == expected
    L = rec.depth
    a = [sym.a(L, k) for k in range(1, rec.size(L) + 1)]
    y = [sym.y(k) for k in range(1, rec.size(L) + 1)]
    assert sympy.expand(ordered.value(rec.cost_in_order) - textbook(a, y)) == 0


# -------------------------------------------------------------- simplified before expanded
def test_the_bce_derivative_is_put_over_one_denominator_before_it_is_multiplied(documents) -> None:
    doc = documents["seed002"]
    (kind, eqs, condition) = next(s for s in doc.simplifications if s[0] == "sigmoid_binary_cross_entropy")
    assert condition is None
    assert [(e.lhs, e.rhs) for e in eqs] == [
        (r"\frac{\partial J}{\partial y_{1}}", r"\frac{1 - t_{1}}{1 - y_{1}} - \frac{t_{1}}{y_{1}}"),
        (r"\frac{\partial J}{\partial y_{1}}", r"\frac{y_{1} - t_{1}}{y_{1} (1 - y_{1})}"),
        (r"\delta^{(2)}_{1}", r"\frac{y_{1} - t_{1}}{y_{1} (1 - y_{1})} \cdot y_{1} (1 - y_{1})"),
        (r"\delta^{(2)}_{1}", r"y_{1} - t_{1}"),
    ]
    # the output layer's δ: the chain, the product with ∂C/∂y already simplified, then y − t
    rows = [e.rhs for e in doc.output_delta[:3]]
    assert rows[1] == r"\frac{y_{1} - t_{1}}{y_{1} (1 - y_{1})} \cdot y_{1} (1 - y_{1})" and rows[2] == r"y_{1} - t_{1}"
    # and no gradient prints the unsimplified (1 − t)/(1 − y) − t/y
    for _, grads, _, _ in doc.gradients:
        for g in grads:
            assert r"\frac{1 - t_{1}}{1 - y_{1}}" not in g.product.rhs + "".join(f.value for f in g.factors)


@pytest.mark.parametrize("name", NAMES)
def test_every_printed_simplification_holds(documents, records, name: str) -> None:
    """Each printed equation of the simplification steps, read back: δ and ∂C/∂a rows by derive's reader at
    random points; the engine's own equations by sympy, with ∂C/∂a the derivative of the cost and the targets
    summing to one where the step says so."""
    rec, doc = records[name], documents[name]
    net = rec.network
    for kind, eqs, _ in doc.simplifications:
        for e in eqs:
            if e.lhs.startswith((r"\delta", r"\frac{\partial")):
                assert verify(net, None, f"{e.lhs} = {e.rhs}").right, (kind, e.rhs)
    L = rec.depth
    for step in rec.simplifications:
        for eq in step.equations:
            lhs = eq.lhs
            if isinstance(lhs, Partial):  # ∂C/∂a^{(L)}_1: the cost's derivative
                lhs = sympy.diff(rec.cost.sample.rhs, lhs.args[1])
            elif lhs == sym.delta(L, 1):  # δ = ∂C/∂a ∂a/∂z, summed over the outputs z_1 moves
                act = net.activation(L)
                zs = [sym.z(L, k) for k in range(1, rec.size(L) + 1)]
                outs = act.values(zs)
                composed = rec.cost.sample.rhs.xreplace({sym.a(L, k): outs[k - 1] for k in range(1, rec.size(L) + 1)})
                lhs = rec.sign * sympy.diff(composed, zs[0])
                back = {outs[k - 1]: sym.a(L, k) for k in range(1, rec.size(L) + 1)}
                rhs = eq.rhs.xreplace({sym.a(L, k): outs[k - 1] for k in range(1, rec.size(L) + 1)})
                if step.condition is not None:
                    last = sym.y(rec.size(L))
                    fix = {last: sympy.solve(step.condition.lhs - step.condition.rhs, last)[0]}
                    lhs, rhs = lhs.xreplace(fix), rhs.xreplace(fix)
                assert sympy.simplify((lhs - rhs).rewrite(sympy.exp)) == 0, (step.kind, back)
                continue
            else:  # g'(z) written two ways, in z and in a = g(z)
                act = net.activation(step.layer)
                z, a = sympy.Symbol("z", real=True), sympy.Symbol("a", real=True)
                lhs = lhs.doit()
                rhs = eq.rhs.xreplace({a: act.formula(z)})
                assert sympy.simplify((lhs - rhs).rewrite(sympy.exp)) == 0, step.kind
                continue
            assert sympy.simplify(lhs - eq.rhs) == 0, step.kind


# ------------------------------------------------------------------------------ long lines
def _joined(lines: tuple[str, ...]) -> str:
    """The broken lines of a formula put back on one line: the markers of the break taken out."""
    text = " ".join(lines)
    for marker in (r"\right. ", r"\quad {} ", r"\left."):
        text = text.replace(marker, " ")
    return re.sub(r"\s+", " ", text).replace("( ", "(").strip()


@pytest.mark.parametrize(("name", "parameter"), [("seed003", "W1[1,1]"), ("seed002", "W1[1,1]")])
def test_a_long_product_is_broken_after_a_term_and_reads_the_same(documents, records, name, parameter) -> None:
    g = _gradient(documents, name, parameter)
    lines = g.product.lines
    assert len(lines) >= 2
    assert lines[0].startswith(r"\left(") and lines[0].endswith(r"\right.")
    assert all(line.startswith(r"\quad {} + \left.") for line in lines[1:])
    assert all(width_em(line) <= LINE_EM for line in lines)
    for line in lines:  # each line of the align* is balanced on its own
        assert line.count(r"\left") == line.count(r"\right")
    assert _joined(lines) == re.sub(r"\s+", " ", g.product.rhs)
    assert verify(records[name].network, None, f"{g.product.lhs} = {_joined(lines)}").right


@pytest.mark.parametrize("name", NAMES)
def test_broken_lines_continue_in_the_tex_with_no_left_side(rendered, documents, name) -> None:
    tex = rendered[f"{name}.tex"]
    if "gradients" not in documents[name].sections:  # seed003 walks back layer by layer (article 003)
        return
    for _, grads, _, _ in documents[name].gradients:
        for g in grads:
            for eq in (g.product, g.closed):
                if eq is not None and eq.lines:
                    assert f"{eq.lhs} &= {eq.lines[0]} \\\\\n & {eq.lines[1]}" in tex
    short = [g for _, grads, _, _ in documents[name].gradients for g in grads if width_em(g.product.rhs) <= LINE_EM]
    assert all(not g.product.lines for g in short)


def test_a_power_of_a_layer_symbol_takes_plain_brackets() -> None:
    a = sym.a(1, 1)
    assert latex(1 - a**2) == r"1 - (a^{(1)}_{1})^{2}"  # tanh′ in its output


def test_a_chain_cut_at_the_next_layer_is_valued_in_order() -> None:
    """Past 16 paths the chain stops at ∂C/∂z of the next layer; its value is still written in the chain's order."""
    layers = tuple(
        derive.Layer(n, a) for n, a in zip((3, 3, 3, 2), ("sigmoid", "tanh", "sigmoid", "sigmoid"), strict=True)
    )
    net = derive.Network(2, layers, "squared_error", True)
    rec = Record(derive.derive(net))
    form, g = rec.in_order("W1[1,1]"), rec.gradient("W1[1,1]")
    assert any(leaf.args[1] == sym.z(2, 1) for leaf in ordered.leaves(form.chain))  # cut at ∂C/∂z^{(2)}
    p = printer(rec)
    assert p.ordered(form.product) == p.ordered(form.closed)
    assert p.ordered(form.product).startswith(
        r"((((a^{(4)}_{1} - y_{1}) \cdot a^{(4)}_{1} (1 - a^{(4)}_{1}) \cdot W^{(4)}_{11}"
    )
    assert ordered.value(form.product) == g.chain_value and ordered.value(form.closed) == g.closed
