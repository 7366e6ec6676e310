"""ELU (option alpha) and SiLU (also called swish), each one registry entry, through every command.

ELU(z) = z for z > 0, α(e^z − 1) for z ≤ 0 (α = 1 unless a [[layer]] sets ``alpha``), with derivative 1 for
z > 0 and α e^z (= a + α) for z ≤ 0. SiLU(z) = z σ(z), with derivative σ(z)(1 + z(1 − σ(z))). Every expected
value here is computed independently of derive: with math.exp by hand, by sympy differentiating formulas
written in this file (a Piecewise for ELU), and by NumPy finite differences of a forward pass written here.
"""

from __future__ import annotations

import importlib.util
import itertools
import math

import numpy as np
import pytest
import sympy

import derive
from derive import cli
from derive.rules import activations, floats
from derive.rules import symbols as sym
from derive.verify.syntax import FormulaError
from derive.verify.verdict import verify

Z_POINTS = (-800.0, -30.0, -2.5, -1.0, -0.25, 0.0, 0.25, 1.0, 2.5, 30.0, 800.0)


# ------------------------------------------------------------- the functions, written here by hand
def elu_by_hand(z: float, alpha: float = 1.0) -> float:
    return z if z > 0 else alpha * (math.exp(z) - 1)


def elu_slope_by_hand(z: float, alpha: float = 1.0) -> float:
    return 1.0 if z > 0 else alpha * math.exp(z)


def sigmoid_by_hand(z: float) -> float:
    return 1 / (1 + math.exp(-z)) if z >= 0 else math.exp(z) / (1 + math.exp(z))


def silu_by_hand(z: float) -> float:
    return z * sigmoid_by_hand(z)


def silu_slope_by_hand(z: float) -> float:
    s = sigmoid_by_hand(z)
    return s + z * s * (1 - s)  # the product rule on z·σ(z), σ' = σ(1 − σ)


Z = sympy.Symbol("z", real=True)


def sympy_elu(z: sympy.Expr, alpha: sympy.Expr = sympy.S.One) -> sympy.Expr:
    return sympy.Piecewise((z, z > 0), (alpha * (sympy.exp(z) - 1), True))


def sympy_silu(z: sympy.Expr) -> sympy.Expr:
    return z / (1 + sympy.exp(-z))


# ---------------------------------------------------------------------------------- the entries
@pytest.mark.parametrize("alpha", [None, 0.5, 2.0, 0.0])
def test_elu_values_and_derivative(alpha: float | None) -> None:
    torch = pytest.importorskip("torch")
    act = activations.get("elu", alpha=alpha)
    a = 1.0 if alpha is None else alpha
    assert act.options == {"alpha": sympy.nsimplify(a)}
    zs = np.array(Z_POINTS)
    expected = np.array([elu_by_hand(z, a) for z in Z_POINTS])
    slopes = np.array([elu_slope_by_hand(z, a) for z in Z_POINTS])
    with np.errstate(all="raise", under="ignore"):  # no overflow in the branch np.where drops (e^800)
        np.testing.assert_allclose(act.numpy(zs), expected, rtol=1e-15, atol=1e-300)
    np.testing.assert_allclose(act.torch(torch, torch.tensor(zs)).numpy(), expected, rtol=1e-15, atol=1e-300)
    np.testing.assert_allclose([floats.evaluate(act.formula(Z), {Z: z}) for z in zs], expected, rtol=1e-15)
    np.testing.assert_allclose([floats.evaluate(act.derivative(Z), {Z: z}) for z in zs], slopes, rtol=1e-15)
    exact = sympy.nsimplify(a)
    for point in (sympy.Rational(7, 10), sympy.Rational(-13, 10), sympy.Integer(-3)):
        by_sympy = sympy.diff(sympy_elu(Z, exact), Z).subs(Z, point)
        assert sympy.simplify(act.derivative(Z).subs(Z, point) - by_sympy) == 0
        assert sympy.simplify(act.formula(Z).subs(Z, point) - sympy_elu(point, exact)) == 0
        if point <= 0:  # below 0 the derivative is also the output plus α
            assert sympy.simplify(act.derivative(point) - (act.formula(point) + exact)) == 0


def test_elu_alpha_is_exact_and_defaults_to_one() -> None:
    default = derive.Network(2, (derive.Layer(2, "elu"), derive.Layer(1, "sigmoid")), "squared_error")
    assert default.layers[0].alpha is None and default.activation(1).options == {"alpha": 1}
    tenth = derive.Network(2, (derive.Layer(2, "elu", alpha=0.1), derive.Layer(1, "sigmoid")), "squared_error")
    (alpha,) = tenth.activation(1).options.values()
    assert alpha == sympy.Rational(1, 10) and isinstance(alpha, sympy.Rational)
    d = derive.derive(tenth)
    assert d.jacobian_entry(1, 1, 1).subs(sym.z(1, 1), -2) == sympy.Rational(1, 10) * sympy.exp(-2)


def test_silu_values_and_derivative() -> None:
    torch = pytest.importorskip("torch")
    act = activations.REGISTRY["silu"]
    zs = np.array(Z_POINTS)
    expected = np.array([silu_by_hand(z) for z in Z_POINTS])
    slopes = np.array([silu_slope_by_hand(z) for z in Z_POINTS])
    with np.errstate(all="raise", under="ignore"):
        np.testing.assert_allclose(act.numpy(zs), expected, rtol=1e-15, atol=1e-300)
    np.testing.assert_allclose(act.torch(torch, torch.tensor(zs)).numpy(), expected, rtol=1e-15, atol=1e-300)
    np.testing.assert_allclose([floats.evaluate(act.formula(Z), {Z: z}) for z in zs], expected, rtol=1e-14)
    np.testing.assert_allclose([floats.evaluate(act.derivative(Z), {Z: z}) for z in zs], slopes, rtol=1e-14)
    by_sympy = sympy.diff(sympy_silu(Z), Z)
    assert sympy.simplify((act.derivative(Z) - by_sympy).rewrite(sympy.exp)) == 0
    assert sympy.simplify((act.formula(Z) - sympy_silu(Z)).rewrite(sympy.exp)) == 0
    # The bound the vanishing-gradient sections use holds: |SiLU'| < 1.1 everywhere (1.0998 at z ≈ 2.3994).
    grid = np.linspace(-20, 20, 40001)
    s = 1 / (1 + np.exp(-grid))
    assert np.max(np.abs(s * (1 + grid * (1 - s)))) < float(act.derivative_bound)


# -------------------------------------------------------------------------------- the swish alias
def test_swish_is_another_name_for_silu(tmp_path) -> None:
    """The alias is resolved when the network is made: its layers hold "silu", so every output says SiLU."""
    assert activations.canonical("swish") == "silu" and activations.get("swish") is activations.REGISTRY["silu"]
    assert activations.canonical("sinc") is None and "swish" not in activations.names()
    net = derive.Network(2, (derive.Layer(3, "swish"), derive.Layer(1, "sigmoid")), "binary_cross_entropy")
    assert net.layers[0] == derive.Layer(3, "silu")
    spec = tmp_path / "swish.toml"
    spec.write_text(SILU_SPEC.replace('activation = "silu"', 'activation = "swish"'), encoding="utf-8")
    loaded = derive.load(spec)
    assert [layer.activation for layer in loaded.layers] == ["silu", "identity"]
    assert derive.derive(loaded).gradient("W1[1,1]") == derive.derive(derive.loads(SILU_SPEC)).gradient("W1[1,1]")
    md = derive.derive(loaded).render("md", "en")
    assert r"\operatorname{SiLU}" in md and "SiLU in the hidden layer" in md and "swish" in md.lower()


# ------------------------------------------------------------------------- networks and specs
ELU_SPEC = """name = "elu_net"
inputs = 2
loss = "binary_cross_entropy"
[[layer]]
units = 3
activation = "elu"
alpha = 0.5
[[layer]]
units = 1
activation = "sigmoid"
"""

SILU_SPEC = """name = "silu_net"
inputs = 2
loss = "mse"
[[layer]]
units = 2
activation = "silu"
[[layer]]
units = 1
activation = "identity"
"""

ELU_OUTPUT_SPEC = """name = "elu_out"
inputs = 1
loss = "squared_error"
[[layer]]
units = 2
activation = "tanh"
[[layer]]
units = 2
activation = "elu"
"""

SPECS = {"elu": ELU_SPEC, "silu": SILU_SPEC, "elu_out": ELU_OUTPUT_SPEC}
LAYERS = {"elu": (("elu", 0.5), ("sigmoid", None)), "silu": (("silu", None), ("identity", None))}
LAYERS["elu_out"] = (("tanh", None), ("elu", 1.0))
LOSS = {"elu": "bce", "silu": "mse", "elu_out": "se"}


def numpy_act(name: str, option: float | None):
    return {
        "elu": lambda u: np.where(u > 0, u, option * np.expm1(np.minimum(u, 0.0))) if option is not None else None,
        "silu": lambda u: u / (1 + np.exp(-u)),
        "sigmoid": lambda u: 1 / (1 + np.exp(-u)),
        "tanh": np.tanh,
        "identity": lambda u: u,
    }[name]


def sympy_act(name: str, option: float | None):
    return {
        "elu": lambda u: sympy_elu(u, sympy.nsimplify(option)) if option is not None else None,
        "silu": sympy_silu,
        "sigmoid": lambda u: 1 / (1 + sympy.exp(-u)),
        "tanh": sympy.tanh,
        "identity": lambda u: u,
    }[name]


def own_forward(kind: str, params: dict[str, np.ndarray], x: np.ndarray, layers=None) -> np.ndarray:
    a = x
    for layer, (name, option) in enumerate(layers or LAYERS[kind], start=1):
        a = numpy_act(name, option)(a @ params[f"W{layer}"].T + params[f"b{layer}"])
    return a


def own_cost(kind: str, a: np.ndarray, y: np.ndarray) -> float:
    if LOSS[kind] == "bce":
        return float(np.mean(-np.sum(y * np.log(a) + (1 - y) * np.log(1 - a), axis=1)))
    if LOSS[kind] == "mse":
        return float(np.mean(np.mean((y - a) ** 2, axis=1)))
    return float(np.mean(0.5 * np.sum((y - a) ** 2, axis=1)))


def own_fd(kind: str, params: dict[str, np.ndarray], x, y, layers=None, h: float = 1e-6) -> dict[str, np.ndarray]:
    out = {}
    for name, array in params.items():
        out[name] = np.zeros_like(array)
        for index in itertools.product(*map(range, array.shape)):
            up, down = {k: v.copy() for k, v in params.items()}, {k: v.copy() for k, v in params.items()}
            up[name][index] += h
            down[name][index] -= h
            out[name][index] = (
                own_cost(kind, own_forward(kind, up, x, layers), y)
                - own_cost(kind, own_forward(kind, down, x, layers), y)
            ) / (2 * h)
    return out


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


def point(net: derive.Network, seed: int, m: int = 4):
    rng = np.random.default_rng(seed)
    params = {name: rng.normal(size=shape) for name, shape in net.shapes().items()}
    return params, rng.normal(size=(m, net.inputs)), rng.uniform(0.1, 0.9, size=(m, net.outputs))


# ------------------------------------------------------------------------------ derive (sympy)
def test_closed_forms_equal_sympys_derivative_of_the_composed_cost(kind: str, d: derive.Derivation) -> None:
    """Every derived gradient equals sympy's diff of the cost composed here (a Piecewise ELU, z/(1 + e^−z))."""
    net = d.network
    a: list[sympy.Expr] = [sym.x(j) for j in range(1, net.inputs + 1)]
    for layer, (name, option) in enumerate(LAYERS[kind], start=1):
        rows, cols = net.sizes[layer], net.sizes[layer - 1]
        z = [
            sum(sym.W(layer, i, j) * a[j - 1] for j in range(1, cols + 1)) + sym.b(layer, i) for i in range(1, rows + 1)
        ]
        a = [sympy_act(name, option)(u) for u in z]
    y = [sym.y(k) for k in range(1, net.outputs + 1)]
    if LOSS[kind] == "bce":
        cost = -sum(yk * sympy.log(ak) + (1 - yk) * sympy.log(1 - ak) for ak, yk in zip(a, y, strict=True))
    elif LOSS[kind] == "mse":
        cost = sum((yk - ak) ** 2 for ak, yk in zip(a, y, strict=True)) / len(a)
    else:
        cost = sum((yk - ak) ** 2 for ak, yk in zip(a, y, strict=True)) / 2
    rng = np.random.default_rng(12)
    symbols = sorted(cost.free_symbols, key=str)
    points = [
        {s: sympy.Rational(int(v * 1000), 1000) for s, v in zip(symbols, rng.normal(size=len(symbols)), strict=True)}
    ]
    points.append({s: -v for s, v in points[0].items()})  # other signs: both of ELU's branches
    for values in points:
        for k in range(1, net.outputs + 1):
            values[sym.y(k)] = sympy.Rational(k, net.outputs + 2)
    for name in d.parameters():
        layer, i, j = d.resolve(name)
        expected = sympy.diff(cost, sym.W(layer, i, j) if j is not None else sym.b(layer, i))
        derived = d.gradient(name, "expanded")
        for values in points:
            difference = sympy.N(derived.xreplace(values) - expected.xreplace(values), 40)
            assert abs(difference) < sympy.Float("1e-30"), (name, difference)


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
    assert "torch" in out and "0 failed" in out


@pytest.mark.parametrize("name", ["elu", "silu"])
def test_the_examples_check(name: str, capsys) -> None:
    from conftest import ROOT

    assert cli.main(["check", str(ROOT / "examples" / f"{name}.toml"), "--no-torch"]) == 0
    assert "0 failed" in capsys.readouterr().out


# ----------------------------------------------------------------- torch autograd, written here
def test_torch_autograd_of_the_network_written_here_agrees(kind: str, d: derive.Derivation) -> None:
    """torch's own elu (with the layer's alpha) and silu, composed here, give derive's gradients."""
    torch = pytest.importorskip("torch")
    net = d.network
    params, x, y = point(net, 5)
    leaves = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    a = torch.tensor(x)
    fns = {"elu": torch.nn.functional.elu, "silu": torch.nn.functional.silu, "sigmoid": torch.sigmoid}
    fns |= {"tanh": torch.tanh, "identity": lambda u: u}
    for layer, (name, option) in enumerate(LAYERS[kind], start=1):
        z = a @ leaves[f"W{layer}"].T + leaves[f"b{layer}"]
        a = fns[name](z, alpha=option) if name == "elu" else fns[name](z)
    t = torch.tensor(y)
    if LOSS[kind] == "bce":
        cost = -(t * torch.log(a) + (1 - t) * torch.log(1 - a)).sum(dim=1).mean()
    elif LOSS[kind] == "mse":
        cost = ((t - a) ** 2).mean(dim=1).mean()
    else:
        cost = (0.5 * ((t - a) ** 2).sum(dim=1)).mean()
    cost.backward()
    derived = d.lambdify().gradients(params, x, y)
    for name, leaf in leaves.items():
        np.testing.assert_allclose(derived[name], leaf.grad.numpy(), rtol=1e-10, atol=1e-13, err_msg=name)


# ------------------------------------------------------------------------------------ render
def test_render_names_them_in_every_format_and_language(kind: str, spec: str, tmp_path) -> None:
    out = tmp_path / "docs"
    assert cli.main(["render", spec, "-o", str(out), "--format", "md,tex,html", "--lang", "en,zh", "--quiet"]) == 0
    stem = derive.load(spec).name
    documents = [f"{stem}{lang}.{fmt}" for fmt in ("md", "tex", "html") for lang in ("", ".zh")]
    assert sorted(p.name for p in out.iterdir()) == sorted([*documents, f"{stem}.svg"])
    word = "SiLU" if kind == "silu" else "ELU"
    for path in (out / name for name in documents):
        text = path.read_text(encoding="utf-8")
        assert word in text, path.name
        if path.suffix in (".md", ".tex"):
            assert rf"\operatorname{{{word}}}" in text, path.name
    english = (out / f"{stem}.md").read_text(encoding="utf-8")
    chinese = (out / f"{stem}.zh.md").read_text(encoding="utf-8")
    if kind == "silu":
        assert "SiLU in the hidden layer" in english
        assert r"\operatorname{SiLU}'(z) = \sigma(z) (z (1 - \sigma(z)) + 1)" in english
        assert "SiLU (also called swish) is $z \\sigma(z)$" in english
        assert "SiLU（也叫 swish）即" in chinese
        return
    assert ("ELU in the hidden layer" if kind == "elu" else "ELU at the output") in english
    assert "ELU's derivative is 1 for positive inputs and $\\alpha e^{z}$ otherwise" in english
    assert "ELU 的导数在输入为正时为 1" in chinese
    if kind == "elu":  # α = 1/2 is written as ELU's subscript and in its derivative
        assert r"\operatorname{ELU}_{\frac{1}{2}}(z^{(1)}_{1})" in english
        assert r"1 & z > 0 \\ \frac{1}{2} e^{z} & z \le 0" in english
    else:  # α = 1 is not written
        assert r"\operatorname{ELU}(z^{(2)}_{1})" in english and r"1 & z > 0 \\ e^{z} & z \le 0" in english


# ------------------------------------------------------------------------------------ verify
ELU_RIGHT = (
    r"\mathrm{ELU}'(z^{(1)}_1) x_1 w^{(2)}_{11} \delta^{(2)}_1",
    r"ELU'(z^{(1)}_1) x_1 w^{(2)}_{11} \delta^{(2)}_1",
    r"\frac{\partial a^{(1)}_1}{\partial z^{(1)}_1} x_1 w^{(2)}_{11} \delta^{(2)}_1",
)
ELU_WRONG = (
    r"\mathrm{ELU}(z^{(1)}_1) x_1 w^{(2)}_{11} \delta^{(2)}_1",  # g instead of g'
    r"e^{z^{(1)}_1} x_1 w^{(2)}_{11} \delta^{(2)}_1",  # α e^z without α (and for z > 0 too)
    r"(a^{(1)}_1 + 1) x_1 w^{(2)}_{11} \delta^{(2)}_1",  # a + α with α = 1, and for z > 0 too
)
SILU_RIGHT = (
    r"\delta^{(1)}_1 = \operatorname{SiLU}'(z^{(1)}_1) w^{(2)}_{11} \delta^{(2)}_1",
    r"\delta^{(1)}_1 = \mathrm{swish}'(z^{(1)}_1) w^{(2)}_{11} \delta^{(2)}_1",
    r"\delta^{(1)}_1 = \sigma(z^{(1)}_1) (1 + z^{(1)}_1 (1 - \sigma(z^{(1)}_1))) w^{(2)}_{11} \delta^{(2)}_1",
    r"\delta^{(1)}_1 = (\sigma(z^{(1)}_1) + a^{(1)}_1 (1 - \sigma(z^{(1)}_1))) w^{(2)}_{11} \delta^{(2)}_1",
)
SILU_WRONG = (
    r"\delta^{(1)}_1 = \sigma(z^{(1)}_1) (1 - \sigma(z^{(1)}_1)) w^{(2)}_{11} \delta^{(2)}_1",  # σ' instead of SiLU'
    r"\delta^{(1)}_1 = \sigma(z^{(1)}_1) w^{(2)}_{11} \delta^{(2)}_1",  # d/dz of z·σ(z) without the product rule
    r"\delta^{(1)}_1 = \operatorname{SiLU}(z^{(1)}_1) w^{(2)}_{11} \delta^{(2)}_1",
)


@pytest.mark.parametrize("name", ["elu", "silu"])
def test_verify_judges_their_formulas(name: str, tmp_path, capsys) -> None:
    spec = tmp_path / f"{name}.toml"
    spec.write_text(SPECS[name], encoding="utf-8")
    d = derive.derive(derive.load(spec))
    right, wrong = (ELU_RIGHT, ELU_WRONG) if name == "elu" else (SILU_RIGHT, SILU_WRONG)
    param = ["W1[1,1]"] if name == "elu" else []
    for formula in right:
        assert verify(d, param[0] if param else None, formula), formula
    for formula in wrong:
        assert not verify(d, param[0] if param else None, formula), formula
    assert cli.main(["verify", str(spec), *param, right[0]]) == 0
    assert cli.main(["verify", str(spec), *param, wrong[0]]) == 1
    capsys.readouterr()


def test_verify_reads_elu_with_the_layers_alpha(tmp_path, capsys) -> None:
    """ELU'(z) in a formula is the declared layer's: α = 1/2 here, so α e^z with α = 1 is wrong where z ≤ 0."""
    d = derive.derive(derive.loads(ELU_SPEC))
    assert verify(d, "W1[1,1]", ELU_RIGHT[0])
    half = derive.derive(derive.loads(ELU_SPEC.replace("alpha = 0.5", "alpha = 1.0")))
    assert d.gradient("W1[1,1]") != half.gradient("W1[1,1]")
    assert verify(half, "W1[1,1]", ELU_RIGHT[0])  # the same words, read with α = 1 there
    # α e^z, written as the output plus α, with α = 1/2: right exactly where z ≤ 0, so wrong as a whole
    assert not verify(d, "W1[1,1]", r"(a^{(1)}_1 + \frac{1}{2}) x_1 w^{(2)}_{11} \delta^{(2)}_1")
    two = derive.derive(
        derive.Network(2, (derive.Layer(2, "elu", alpha=0.5), derive.Layer(2, "elu", alpha=2.0)), "squared_error")
    )
    assert verify(two, "b1[1]", r"\mathrm{ELU}'(z^{(1)}_1) \sum_k w^{(2)}_{k1} \delta^{(2)}_k")
    assert verify(two, "delta2[1]", r"(a^{(2)}_1 - y_1) ELU'(z^{(2)}_1)")
    with pytest.raises(FormulaError, match="alpha"):  # which layer's α? the argument does not say
        verify(two, "delta2[1]", r"(a^{(2)}_1 - y_1) ELU'(1)")


def test_verify_reads_elus_subscript_as_its_alpha() -> None:
    """Documents print ELU_{1/2}(z) for α = 1/2: the reader takes the subscript as α, whatever the layer's."""
    d = derive.derive(derive.loads(ELU_SPEC))  # α = 1/2
    assert r"\operatorname{ELU}_{\frac{1}{2}}'(z) = " in d.render("md", "en")
    rest = r"(z^{(1)}_1) x_1 w^{(2)}_{11} \delta^{(2)}_1"
    assert verify(d, "W1[1,1]", r"\operatorname{ELU}_{\frac{1}{2}}'" + rest)
    assert verify(d, "W1[1,1]", r"\operatorname{ELU}_{0.5}'" + rest)
    assert not verify(d, "W1[1,1]", r"\operatorname{ELU}_{2}'" + rest)
    assert not verify(d, "W1[1,1]", r"\operatorname{ELU}_{1}'" + rest)
    with pytest.raises(FormulaError, match="subscript is its alpha, which must be at least 0"):
        verify(d, "W1[1,1]", r"\operatorname{ELU}_{-1}'" + rest)


# ----------------------------------------------------------------------------------- codegen
def test_codegen_module_runs_and_matches_finite_differences(kind: str, spec: str, tmp_path) -> None:
    path = tmp_path / f"grads_{kind}.py"
    assert cli.main(["codegen", spec, "-o", str(path)]) == 0
    module_spec = importlib.util.spec_from_file_location(f"grads_{kind}", path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    net = derive.load(spec)
    params, x, y = point(net, 3, m=5)
    np.testing.assert_allclose(module.forward(params, x), own_forward(kind, params, x), rtol=1e-12)
    assert module.loss(params, x, y) == pytest.approx(own_cost(kind, own_forward(kind, params, x), y), rel=1e-12)
    grads = module.gradients(params, x, y)
    lambdified = derive.derive(net).lambdify().gradients(params, x, y)
    for name, fd in own_fd(kind, params, x, y).items():
        np.testing.assert_allclose(grads[name], fd, rtol=1e-6, atol=1e-8, err_msg=name)
        np.testing.assert_allclose(lambdified[name], grads[name], rtol=1e-13, atol=1e-15, err_msg=name)


def test_alpha_changes_the_numbers() -> None:
    """The same network and point with α = 1 (the default) and α = 0.5: different outputs and gradients,
    each equal to this file's own forward pass and finite differences with that α."""
    outputs, gradients = [], []
    for alpha in (None, 0.5):
        layer = derive.Layer(3, "elu") if alpha is None else derive.Layer(3, "elu", alpha=alpha)
        net = derive.Network(2, (layer, derive.Layer(1, "sigmoid")), "binary_cross_entropy", name="elu_net")
        layers = (("elu", 1.0 if alpha is None else alpha), ("sigmoid", None))
        params, x, y = point(net, 7, m=6)
        x = x * 3  # enough of the z ≤ 0 side, where α matters
        f = derive.derive(net).lambdify()
        np.testing.assert_allclose(f.forward(params, x), own_forward("elu", params, x, layers), rtol=1e-12)
        grads = f.gradients(params, x, y)
        for name, fd in own_fd("elu", params, x, y, layers).items():
            np.testing.assert_allclose(grads[name], fd, rtol=1e-6, atol=1e-8, err_msg=f"{name}, alpha={alpha}")
        outputs.append(f.forward(params, x))
        gradients.append(grads["W1"])
    assert not np.allclose(outputs[0], outputs[1]) and not np.allclose(gradients[0], gradients[1])


# ------------------------------------------------------------------------------ spec errors
@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('alpha = "0.5"', "layer[1].alpha: must be a number, got '0.5'"),
        ("alpha = -1", "layer[1].alpha: must be at least 0, got -1.0"),
        ("alpha = inf", "layer[1].alpha: must be finite, got inf"),
        ("slope = 0.5", "layer[1].slope: only leaky_relu takes a slope"),
        ("alfa = 0.5", "layer[1].alfa: unknown key (known: activation, alpha, slope, units)"),
    ],
)
def test_wrong_alpha_is_one_line_and_exit_2(line: str, message: str, tmp_path, capsys) -> None:
    spec = tmp_path / "bad.toml"
    spec.write_text(ELU_SPEC.replace("alpha = 0.5", line), encoding="utf-8")
    assert cli.main(["check", str(spec)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1
    assert captured.err.strip() == f"derive: error: {spec}: {message}"


def test_alpha_only_on_elu(capsys) -> None:
    with pytest.raises(derive.SpecError, match=r"^<spec>: layer\[1\]\.alpha: only elu takes an alpha$"):
        derive.loads(SILU_SPEC.replace('activation = "silu"', 'activation = "silu"\nalpha = 1.0'))


# ------------------------------------------------------------------ a user's own backprop code
def users_backprop(hidden, hidden_slope):
    """A 2-layer backprop as people write it: their activation and its derivative, a sigmoid output, BCE."""

    def gradients(params, x, y):
        m = x.shape[0]
        z1 = x @ params["W1"].T + params["b1"]
        a1 = hidden(z1)
        z2 = a1 @ params["W2"].T + params["b2"]
        a2 = 1 / (1 + np.exp(-z2))
        d2 = (a2 - y) / m
        d1 = (d2 @ params["W2"]) * hidden_slope(z1, a1)
        return {"W1": d1.T @ x, "b1": d1.sum(0), "W2": d2.T @ a1, "b2": d2.sum(0)}

    return gradients


def elu_np(alpha):
    return lambda z: np.where(z > 0, z, alpha * (np.exp(np.minimum(z, 0)) - 1))


def test_assert_gradients_takes_a_users_elu_and_silu_code_and_catches_their_mistakes() -> None:
    from derive.testing import assert_gradients

    elu_net = derive.loads(ELU_SPEC)  # α = 0.5
    right = users_backprop(elu_np(0.5), lambda z, a: np.where(z > 0, 1.0, a + 0.5))  # ELU' = a + α below 0
    assert_gradients(elu_net, right)
    with pytest.raises(AssertionError, match="W1|b1"):  # α = 1 where the spec says 0.5
        assert_gradients(elu_net, users_backprop(elu_np(1.0), lambda z, a: np.where(z > 0, 1.0, a + 1.0)))
    with pytest.raises(AssertionError, match="W1|b1"):  # a + 1 instead of a + α
        assert_gradients(elu_net, users_backprop(elu_np(0.5), lambda z, a: np.where(z > 0, 1.0, a + 1.0)))

    silu_net = derive.Network(2, (derive.Layer(3, "swish"), derive.Layer(1, "sigmoid")), "binary_cross_entropy")

    def sig(z):
        return 1 / (1 + np.exp(-z))

    assert_gradients(silu_net, users_backprop(lambda z: z * sig(z), lambda z, a: sig(z) + a * (1 - sig(z))))
    with pytest.raises(AssertionError, match="W1|b1"):  # σ'(z) for SiLU'(z)
        assert_gradients(silu_net, users_backprop(lambda z: z * sig(z), lambda z, a: sig(z) * (1 - sig(z))))
