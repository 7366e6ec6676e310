"""softplus, added as one registry entry, through every command: derive, check, render, verify, codegen.

softplus(z) = log(1 + e^z), with derivative σ(z). Two networks use it: one in a hidden layer (with a
sigmoid output and binary cross-entropy) and one at the output (with squared error). Every expected
value here is computed independently of derive: sympy differentiates a cost composed in this file, and
NumPy finite differences run a forward pass written in this file.
"""

from __future__ import annotations

import importlib.util
import itertools

import numpy as np
import pytest
import sympy

import derive
from derive import cli
from derive.rules import activations
from derive.rules import symbols as sym
from derive.verify.verdict import verify

HIDDEN_SPEC = """name = "softplus_hidden"
inputs = 2
loss = "binary_cross_entropy"
[[layer]]
units = 3
activation = "softplus"
[[layer]]
units = 2
activation = "sigmoid"
"""

OUTPUT_SPEC = """name = "softplus_output"
inputs = 1
loss = "squared_error"
[[layer]]
units = 2
activation = "tanh"
[[layer]]
units = 1
activation = "softplus"
"""

SPECS = {"hidden": HIDDEN_SPEC, "output": OUTPUT_SPEC}
# Each network's activations and cost, written here with sympy's and NumPy's own functions.
SYMPY_ACTS = {
    "softplus": lambda u: sympy.log(1 + sympy.exp(u)),
    "sigmoid": lambda u: 1 / (1 + sympy.exp(-u)),
    "tanh": sympy.tanh,
}
NUMPY_ACTS = {"softplus": lambda u: np.logaddexp(0.0, u), "sigmoid": lambda u: 1 / (1 + np.exp(-u)), "tanh": np.tanh}
LAYERS = {"hidden": ("softplus", "sigmoid"), "output": ("tanh", "softplus")}


def sympy_cost(kind: str, a: list[sympy.Expr], y: list[sympy.Expr]) -> sympy.Expr:
    if kind == "hidden":  # binary cross-entropy
        return -sum(yk * sympy.log(ak) + (1 - yk) * sympy.log(1 - ak) for ak, yk in zip(a, y, strict=True))
    return sum((yk - ak) ** 2 for ak, yk in zip(a, y, strict=True)) / 2


def numpy_cost(kind: str, a: np.ndarray, y: np.ndarray) -> float:
    if kind == "hidden":
        return float(np.mean(-np.sum(y * np.log(a) + (1 - y) * np.log(1 - a), axis=1)))
    return float(np.mean(0.5 * np.sum((y - a) ** 2, axis=1)))


@pytest.fixture(params=list(SPECS))
def kind(request) -> str:
    return request.param


@pytest.fixture
def spec(kind: str, tmp_path) -> str:
    path = tmp_path / f"{kind}.toml"
    path.write_text(SPECS[kind], encoding="utf-8")
    return str(path)


@pytest.fixture
def d(spec: str) -> derive.Derivation:
    return derive.derive(derive.load(spec))


# ---------------------------------------------------------------------------------- the entry
def test_the_entry_is_log_one_plus_exp_with_sigmoid_derivative() -> None:
    act = activations.REGISTRY["softplus"]
    z = sympy.Symbol("z", real=True)
    assert sympy.simplify(act.formula(z) - sympy.log(1 + sympy.exp(z))) == 0
    assert sympy.simplify((act.derivative(z) - sympy.diff(sympy.log(1 + sympy.exp(z)), z)).rewrite(sympy.exp)) == 0
    zs = [-800, -30, 0, 30, 800]  # no overflow where e^z would overflow
    exact = [float(sympy.log(1 + sympy.exp(sympy.Integer(v))).evalf(40)) for v in zs]
    np.testing.assert_allclose(act.numpy(np.array(zs, dtype=float)), exact, rtol=1e-15, atol=0)


# ------------------------------------------------------------------------------ derive (sympy)
def test_closed_forms_equal_sympys_derivative_of_the_composed_cost(kind: str, d: derive.Derivation) -> None:
    """Every parameter's derived gradient, in inputs and parameters, equals sympy's diff of the cost composed here."""
    net = d.network
    a: list[sympy.Expr] = [sym.x(j) for j in range(1, net.inputs + 1)]
    for layer, name in enumerate(LAYERS[kind], start=1):
        rows, cols = net.sizes[layer], net.sizes[layer - 1]
        z = [
            sum(sym.W(layer, i, j) * a[j - 1] for j in range(1, cols + 1)) + sym.b(layer, i) for i in range(1, rows + 1)
        ]
        a = [SYMPY_ACTS[name](u) for u in z]
    cost = sympy_cost(kind, a, [sym.y(k) for k in range(1, net.outputs + 1)])
    rng = np.random.default_rng(12)
    points = [
        {
            s: sympy.Rational(int(v * 1000), 1000)
            for s, v in zip(sorted(cost.free_symbols, key=str), rng.normal(size=len(cost.free_symbols)), strict=True)
        }
        for _ in range(2)
    ]
    for point in points:  # targets in (0, 1) for the cross-entropy
        for k in range(1, net.outputs + 1):
            point[sym.y(k)] = sympy.Rational(k, net.outputs + 2)
    for name in d.parameters():
        layer, i, j = d.resolve(name)
        expected = sympy.diff(cost, sym.W(layer, i, j) if j is not None else sym.b(layer, i))
        derived = d.gradient(name, "expanded").rewrite(sympy.exp)
        for point in points:
            difference = sympy.N(derived.xreplace(point) - expected.xreplace(point), 40)
            assert abs(difference) < sympy.Float("1e-30"), (name, difference)


def test_the_document_step_writes_softplus_prime_as_sigma(d: derive.Derivation) -> None:
    steps = {step.kind: step for step in d.simplifications()}
    (eq,) = steps["simplify.softplus"].equations
    z = sympy.Symbol("z", real=True)
    assert sympy.simplify((eq.rhs - sympy.exp(z) / (1 + sympy.exp(z))).rewrite(sympy.exp)) == 0


# ------------------------------------------------------------------------------------- check
def test_check_passes_with_sympy_finite_differences_code_and_torch(spec: str, d: derive.Derivation, capsys) -> None:
    torch = pytest.importorskip("torch")
    report = d.check(use_torch=True)
    assert report.torch == str(torch.__version__)
    assert report.failed == 0 and len(report.parameters) == len(d.parameters())
    for p in report.parameters:
        assert p.symbolic in ("exact", "digits"), p
        assert p.fd_error is not None and p.fd_error < 1e-6, p
        assert p.code_error < 1e-9, p
        assert p.torch_error is not None and p.torch_error < 1e-9, p
    assert cli.main(["check", spec, "--no-symbolic"]) == 0  # sympy's side is asserted above
    out = capsys.readouterr().out
    assert "softplus" in out and "torch" in out and "0 failed" in out


# ------------------------------------------------------------------------------------ render
def test_render_names_softplus_in_every_format_and_language(kind: str, spec: str, tmp_path, capsys) -> None:
    out = tmp_path / "docs"
    assert cli.main(["render", spec, "-o", str(out), "--format", "md,tex,html", "--lang", "en,zh", "--quiet"]) == 0
    written = sorted(p.name for p in out.iterdir())
    stem = f"softplus_{kind}"
    documents = [f"{stem}{lang}.{fmt}" for fmt in ("md", "tex", "html") for lang in ("", ".zh")]
    assert written == sorted([*documents, f"{stem}.svg"])
    for path in (out / name for name in documents):
        text = path.read_text(encoding="utf-8")
        assert "softplus" in text, path.name
        if path.suffix in (".md", ".tex"):
            assert r"\operatorname{softplus}'(z)" in text, path.name  # the derivative step
            assert r"\sigma(z)" in text, path.name
    english = (out / f"{stem}.md").read_text(encoding="utf-8")
    phrase = "softplus in the hidden layer" if kind == "hidden" else "softplus at the output"
    assert phrase in english
    assert "Differentiating softplus once gives:" in english
    assert "softplus 的导数为：" in (out / f"{stem}.zh.md").read_text(encoding="utf-8")


# ------------------------------------------------------------------------------------ verify
HIDDEN_RIGHT = (
    r"\sigma(z^{(1)}_1) x_1 \sum_k w^{(2)}_{k1} \delta^{(2)}_k",
    r"\operatorname{softplus}'(z^{(1)}_1) x_1 \sum_k w^{(2)}_{k1} \delta^{(2)}_k",
    r"\frac{e^{z^{(1)}_1}}{1 + e^{z^{(1)}_1}} x_1 (w^{(2)}_{11} \delta^{(2)}_1 + w^{(2)}_{21} \delta^{(2)}_2)",
)
HIDDEN_WRONG = (
    r"\sigma(z^{(1)}_1) (1 - \sigma(z^{(1)}_1)) x_1 \sum_k w^{(2)}_{k1} \delta^{(2)}_k",  # the sigmoid's derivative
    r"a^{(1)}_1 (1 - a^{(1)}_1) x_1 \sum_k w^{(2)}_{k1} \delta^{(2)}_k",
    r"\operatorname{softplus}(z^{(1)}_1) x_1 \sum_k w^{(2)}_{k1} \delta^{(2)}_k",  # g instead of g'
)
OUTPUT_RIGHT = (
    r"\delta^{(2)}_1 = (a^{(2)}_1 - y_1) \sigma(z^{(2)}_1)",
    r"\delta^{(2)}_1 = (a^{(2)}_1 - y_1) (1 - e^{-a^{(2)}_1})",
)
OUTPUT_WRONG = (
    r"\delta^{(2)}_1 = (a^{(2)}_1 - y_1) \sigma(z^{(2)}_1) (1 - \sigma(z^{(2)}_1))",
    r"\delta^{(2)}_1 = (a^{(2)}_1 - y_1)",
)


def test_verify_judges_softplus_formulas(kind: str, spec: str, d: derive.Derivation, capsys) -> None:
    right, wrong = (HIDDEN_RIGHT, HIDDEN_WRONG) if kind == "hidden" else (OUTPUT_RIGHT, OUTPUT_WRONG)
    param = "W1[1,1]" if kind == "hidden" else None
    for formula in right:
        assert verify(d, param, formula), formula
    for formula in wrong:
        assert not verify(d, param, formula), formula
    args = [param] if param else []
    assert cli.main(["verify", spec, *args, right[0]]) == 0
    assert cli.main(["verify", spec, *args, wrong[0]]) == 1
    capsys.readouterr()


# ----------------------------------------------------------------------------------- codegen
def own_forward(kind: str, params: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    a = x
    for layer, name in enumerate(LAYERS[kind], start=1):
        a = NUMPY_ACTS[name](a @ params[f"W{layer}"].T + params[f"b{layer}"])
    return a


def test_codegen_module_runs_and_matches_finite_differences(kind: str, spec: str, tmp_path) -> None:
    path = tmp_path / f"grads_{kind}.py"
    assert cli.main(["codegen", spec, "-o", str(path)]) == 0
    module_spec = importlib.util.spec_from_file_location(f"grads_{kind}", path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    net = derive.load(spec)
    rng = np.random.default_rng(3)
    params = {name: rng.normal(size=shape) for name, shape in net.shapes().items()}
    x = rng.normal(size=(5, net.inputs))
    y = rng.uniform(0.1, 0.9, size=(5, net.outputs))
    np.testing.assert_allclose(module.forward(params, x), own_forward(kind, params, x), rtol=1e-12)
    assert module.loss(params, x, y) == pytest.approx(numpy_cost(kind, own_forward(kind, params, x), y), rel=1e-12)
    grads = module.gradients(params, x, y)
    h = 1e-6
    for name, array in params.items():
        for index in itertools.product(*map(range, array.shape)):
            up, down = {k: v.copy() for k, v in params.items()}, {k: v.copy() for k, v in params.items()}
            up[name][index] += h
            down[name][index] -= h
            fd = (numpy_cost(kind, own_forward(kind, up, x), y) - numpy_cost(kind, own_forward(kind, down, x), y)) / (
                2 * h
            )
            assert grads[name][index] == pytest.approx(fd, rel=1e-6, abs=1e-8), (name, index)
