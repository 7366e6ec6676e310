"""The activation and loss registries: every other module reads them, and nothing else lists them.

derive/rules/activations.py and derive/rules/losses.py hold one entry per activation and per loss with
every face (formulas, names, NumPy and torch code, float64 evaluation, …). These tests fail when a table
keyed by an activation's or a loss's name reappears elsewhere, check that each consumer handles every
entry by reading the registry, and add a made-up activation to the registry to see it go through the
derivation, every check, the verifier and a document untouched.
"""

from __future__ import annotations

import ast
import re

import numpy as np
import pytest
import sympy
from conftest import ROOT

import derive
from derive import cli
from derive.engine.forms import Kind, matrix
from derive.numeric import autograd, codegen
from derive.present.latex import latex
from derive.rules import activations, floats, losses
from derive.rules import symbols as sym
from derive.rules.faces import Activation
from derive.verify.formula import parse
from derive.verify.syntax import Call
from derive.verify.verdict import verify

REGISTRIES = {ROOT / "derive" / "rules" / "activations.py", ROOT / "derive" / "rules" / "losses.py"}


def _registry_words() -> set[str]:
    """Every activation and loss name, and every name the formula reader takes for an activation."""
    return {*activations.REGISTRY, *losses.LOSSES, *activations.spellings(), *activations.commands()}


def _function_classes() -> set[str]:
    return {w.function.__name__ for act in activations.REGISTRY.values() for w in act.functions}


# ----------------------------------------------------------------------------- no second table
def test_no_activation_or_loss_name_outside_the_registries() -> None:
    """No string of the package outside the two registries is an activation's or a loss's name.

    A name written as a string elsewhere is how a second table (a dict keyed by "sigmoid", a list of
    names the reader takes, an ``if name == "softmax"``) starts; modules ask the entry instead.
    """
    words = _registry_words()
    found = []
    for path in sorted((ROOT / "derive").rglob("*.py")):
        if path in REGISTRIES:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in words:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value!r}")
    assert not found, "activation or loss names outside derive/rules:\n" + "\n".join(found)


def test_no_printer_method_per_activation_function() -> None:
    """No ``_print_sigmoid``-style method: printers find a function's faces in its registry entry."""
    names = {f"_print_{name}" for name in _function_classes()}
    found = [
        f"{path.relative_to(ROOT)}:{node.lineno}: {node.name}"
        for path in sorted((ROOT / "derive").rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.FunctionDef) and node.name in names
    ]
    assert not found, found


def test_no_template_table_keyed_by_activation_or_loss() -> None:
    """Templates name activations only in their prose (a sentence each); names and code come from the entries."""
    names = "|".join(map(re.escape, _registry_words()))
    keys = re.compile(rf"""["']({names})["']\s*:""")
    found = [
        f"{path.relative_to(ROOT)}: {match.group(0)}"
        for path in sorted((ROOT / "templates").rglob("*.j2"))
        for match in keys.finditer(path.read_text(encoding="utf-8"))
    ]
    assert not found, found
    module = (ROOT / "templates" / "code" / "module.py.j2").read_text(encoding="utf-8")
    assert "def _" not in module.split("def _checked", 1)[1], "helper functions belong to the registry entries"


# ------------------------------------------------------------------- every entry, every consumer
ENTRIES = list(activations.REGISTRY.values())
Z = [0.7, -1.3, 0.2]


@pytest.mark.parametrize("act", ENTRIES, ids=lambda a: a.name)
def test_float64_and_torch_and_numpy_faces_agree(act: Activation) -> None:
    """floats.evaluate of the sympy formula, the NumPy face and the torch face give the same a = g(z)."""
    torch = pytest.importorskip("torch")
    zs = [sympy.Symbol(f"z{i}", real=True) for i in range(len(Z))]
    values = dict(zip(zs, Z, strict=True))
    by_floats = np.array([floats.evaluate(v, values) for v in act.values(zs)])
    by_numpy = act.numpy(np.array([Z]))[0]
    by_torch = act.torch(torch, torch.tensor([Z], dtype=torch.float64)).numpy()[0]
    by_mpmath = np.array(
        [float(v.xreplace({z: sympy.Float(x, 30) for z, x in values.items()}).evalf(30)) for v in act.values(zs)]
    )
    np.testing.assert_allclose(by_floats, by_mpmath, rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(by_numpy, by_mpmath, rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(by_torch, by_mpmath, rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("act", [a for a in ENTRIES if a.elementwise], ids=lambda a: a.name)
def test_derivative_faces_agree_with_sympy(act: Activation) -> None:
    """g'(z), in z and (where given) in a = g(z), equals sympy's own derivative of the formula."""
    z, a = sympy.Symbol("z", real=True), sympy.Symbol("a", real=True)
    for point in (sympy.Rational(7, 10), sympy.Rational(-13, 10)):
        expected = sympy.diff(act.formula(z).rewrite(sympy.exp), z).subs(z, point)
        assert abs(sympy.N(act.derivative(z).subs(z, point) - expected, 30)) < 1e-25
        assert abs(floats.evaluate(act.derivative(z), {z: float(point)}) - float(expected)) < 1e-14
        if act.derivative_in_output is not None:
            at = act.derivative_in_output(a).subs(a, act.formula(point))
            assert abs(sympy.N(at - expected, 30)) < 1e-25


@pytest.mark.parametrize("act", ENTRIES, ids=lambda a: a.name)
def test_reader_takes_every_name_of_every_entry(act: Activation) -> None:
    """Each name an entry gives the formula reader is read as a call of that activation."""
    for word in (*act.reads, *act.reads_any_case, *(w.upper() for w in act.reads_any_case)):
        call = parse(f"{word}(x_1)").rhs
        assert isinstance(call, Call) and call.func.base == word
        assert activations.read(word) is act
    if act.latex[1:] in activations.commands():
        assert isinstance(parse(f"{act.latex}(x_1)").rhs, Call)


@pytest.mark.parametrize("act", ENTRIES, ids=lambda a: a.name)
def test_latex_and_code_name_every_entry(act: Activation) -> None:
    """The matrix form prints g(z) with the entry's LaTeX name; generated code computes its NumPy face."""
    net = derive.Network(2, (derive.Layer(3, act.name), derive.Layer(1, "sigmoid")), "squared_error")
    assert latex(matrix(Kind.G, 1, 3, 1), net) == rf"{act.latex}(z^{{(1)}})"
    rng = np.random.default_rng(4)
    params = {name: rng.normal(size=shape) for name, shape in net.shapes().items()}
    x = rng.normal(size=(4, 2))
    module: dict[str, object] = {}
    exec(codegen.module_source(net), module)  # noqa: S102 - derive's own generated code
    hidden = act.numpy(x @ params["W1"].T + params["b1"])
    out = 1 / (1 + np.exp(-(hidden @ params["W2"].T + params["b2"])))
    np.testing.assert_allclose(module["forward"](params, x), out, rtol=1e-12)


# ---------------------------------------------------------------- a new entry, and nothing else
CUBIC = Activation(
    name="cubic",
    latex=r"\operatorname{cubic}",
    text="cubic",
    words={"en": "cubic", "zh": "cubic"},
    formula=lambda z: z**3 / 3 + z,
    derivative=lambda z: z**2 + 1,
    numpy=lambda z: z**3 / 3 + z,
    torch=lambda torch, z: z**3 / 3 + z,
    code="({z} ** 3 / 3 + {z})",
    reads_any_case=("cubic",),
    output_range=(float("-inf"), float("inf")),
    derivative_bound=None,
)


@pytest.fixture
def cubic(monkeypatch: pytest.MonkeyPatch) -> derive.Network:
    monkeypatch.setitem(activations.REGISTRY, "cubic", CUBIC)
    return derive.Network(2, (derive.Layer(2, "cubic"), derive.Layer(1, "sigmoid")), "squared_error", name="cubic")


def test_a_new_entry_goes_through_the_checks(cubic: derive.Network) -> None:
    """sympy, finite differences, the generated code and torch all accept an activation only the registry knows."""
    d = derive.derive(cubic)
    report = d.check(use_torch=autograd.version() is not None)
    assert report.failed == 0 and report.parameters
    assert all(p.symbolic in ("exact", "digits") for p in report.parameters)
    if autograd.version() is not None:
        assert report.torch is not None and all(p.torch_error is not None for p in report.parameters)
    # The derived closed form against sympy's derivative of the cost composed here, by hand.
    x = [sym.x(j) for j in (1, 2)]
    hidden = [sum(sym.W(1, i, j) * x[j - 1] for j in (1, 2)) + sym.b(1, i) for i in (1, 2)]
    hidden = [u**3 / 3 + u for u in hidden]
    out = 1 / (1 + sympy.exp(-(sym.W(2, 1, 1) * hidden[0] + sym.W(2, 1, 2) * hidden[1] + sym.b(2, 1))))
    cost = (sym.y(1) - out) ** 2 / 2
    for name, p in (("W1[2,1]", sym.W(1, 2, 1)), ("b1[1]", sym.b(1, 1)), ("W2[1,2]", sym.W(2, 1, 2))):
        derived = d.gradient(name, "expanded").rewrite(sympy.exp)
        by_hand = sympy.diff(cost, p)
        point = {s: sympy.Rational(k + 2, 7) * (-1) ** k for k, s in enumerate(sorted(cost.free_symbols, key=str))}
        assert derived.free_symbols <= cost.free_symbols
        assert abs(sympy.N(derived.xreplace(point) - by_hand.xreplace(point), 30)) < 1e-25


def test_a_new_entry_is_verified_and_written(cubic: derive.Network, tmp_path) -> None:
    """The reader takes the new name and its derivative; a document names it; a spec may use it."""
    d = derive.derive(cubic)
    right = r"\operatorname{cubic}'(z^{(1)}_1) w^{(2)}_{11} \delta^{(2)}_1 x_1"
    wrong = r"\operatorname{cubic}(z^{(1)}_1) w^{(2)}_{11} \delta^{(2)}_1 x_1"
    assert verify(d, "W1[1,1]", right)
    assert verify(d, "W1[1,1]", r"((z^{(1)}_1)^2 + 1) w^{(2)}_{11} \delta^{(2)}_1 x_1")
    assert not verify(d, "W1[1,1]", wrong)
    md = d.render("md", "en")
    assert r"\operatorname{cubic}" in md and "cubic in the hidden layer" in md
    spec = tmp_path / "cubic.toml"
    spec.write_text(
        'inputs = 2\nloss = "squared_error"\n[[layer]]\nunits = 2\nactivation = "cubic"\n'
        '[[layer]]\nunits = 1\nactivation = "sigmoid"\n',
        encoding="utf-8",
    )
    assert cli.main(["check", str(spec), "--no-torch"]) == 0
    bad = tmp_path / "bad.toml"
    bad.write_text(spec.read_text(encoding="utf-8").replace('"cubic"', '"quartic"'), encoding="utf-8")
    with pytest.raises(derive.SpecError, match=r"known: sigmoid, .*, cubic\)"):
        derive.load(str(bad))
