"""L2 regularisation ([regularization] l2, form, biases) through the spec, the engine, the checks and the code.

J = (1/m) Σ_s C^{(s)} + R with R = (λ/2) Σ θ² ("half"), λ Σ θ² ("plain") or (λ/(2m)) Σ θ² ("half_over_m"),
θ over the weights (and the biases with ``biases = true``). Every expected value here is independent of
derive: numbers worked out by hand, a NumPy forward pass and J written in this file with its own finite
differences, and sympy's derivative of a J composed in this file.
"""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pytest
import sympy
from conftest import ROOT

import derive
from derive.check import check
from derive.errors import SpecError
from derive.numeric.codegen import module_source
from derive.rules import regularizers
from derive.rules import symbols as sym
from derive.testing import assert_gradients
from derive.verify.verdict import verify
from tests.inprocess import run_cli

FORMS = ("half", "plain", "half_over_m")
# R as a multiple of Σ θ², by form: λ and the batch size m (written here, not read from derive).
SCALE = {"half": lambda lam, m: lam / 2, "plain": lambda lam, m: lam, "half_over_m": lambda lam, m: lam / (2 * m)}

ONE_WEIGHT = """name = "one_weight"
inputs = 1
loss = "squared_error"
[regularization]
l2 = 0.1
form = "{form}"
biases = {biases}
[[layer]]
units = 1
activation = "identity"
"""

NET = """name = "l2net"
inputs = 3
loss = "{loss}"
[regularization]
l2 = {l2}
form = "{form}"
biases = {biases}
[[layer]]
units = 4
activation = "tanh"
[[layer]]
units = 2
activation = "{out}"
"""

NUMPY_ACTS = {"tanh": np.tanh, "sigmoid": lambda u: 1 / (1 + np.exp(-u))}


def net_spec(form: str, biases: bool = False, loss: str = "binary_cross_entropy", out: str = "sigmoid", l2=0.05) -> str:
    return NET.format(form=form, biases=str(biases).lower(), loss=loss, out=out, l2=l2)


def without_penalty() -> str:
    """The same network with no [regularization] table."""
    head, tail = net_spec("half").split("[regularization]")
    return head + "[[layer]]" + tail.split("[[layer]]", 1)[1]


def load(text: str) -> derive.Network:
    return derive.loads(text)


# ----------------------------------------------------------------------------------------- the spec
def test_the_spec_reads_every_form_and_the_defaults() -> None:
    for form, biases in itertools.product(FORMS, (False, True)):
        reg = load(net_spec(form, biases)).regularization
        assert (reg.l2, reg.form, reg.biases) == (0.05, form, biases)
    text = net_spec("half").replace('form = "half"\n', "").replace("biases = false\n", "")
    assert load(text).regularization == derive.Regularization(0.05, "half", False)
    assert load(without_penalty()).regularization is None


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("l2 = 0.1\nstrength = 2", "regularization.strength: unknown key (known: biases, form, l2)"),
        ('form = "half"', "regularization.l2: missing"),
        ('l2 = "0.1"', "regularization.l2: must be a number, got '0.1'"),
        ("l2 = true", "regularization.l2: must be a number, got True"),
        ("l2 = -0.1", "regularization.l2: must be a finite number ≥ 0, got -0.1"),
        ("l2 = inf", "regularization.l2: must be a finite number ≥ 0, got inf"),
        ("l2 = nan", "regularization.l2: must be a finite number ≥ 0, got nan"),
        ("l2 = 1e7", "regularization.l2: 1e+07 is larger than the 1e+06 derive takes"),
        ('l2 = 0.1\nform = "double"', "regularization.form: unknown form 'double' (known: half, plain, half_over_m)"),
        ("l2 = 0.1\nform = 2", "regularization.form: must be a string, got 2"),
        ('l2 = 0.1\nbiases = "yes"', "regularization.biases: must be true or false, got 'yes'"),
    ],
)
def test_a_bad_regularization_table_is_one_line_naming_the_key(table: str, message: str, tmp_path) -> None:
    text = f'inputs = 2\nloss = "mse"\n[regularization]\n{table}\n[[layer]]\nunits = 1\nactivation = "sigmoid"\n'
    with pytest.raises(SpecError) as caught:
        derive.loads(text, source="s.toml")
    assert str(caught.value) == f"s.toml: {message}"
    path = tmp_path / "s.toml"
    path.write_text(text, encoding="utf-8")
    ran = run_cli("check", str(path))
    assert ran.returncode == 2 and ran.stdout == ""
    assert ran.stderr.strip().splitlines() == [f"derive: error: {path}: {message}"]


def test_regularised_biases_need_biases_and_the_table_must_be_a_table() -> None:
    text = 'inputs = 2\nloss = "mse"\nbias = false\n[regularization]\nl2 = 0.1\nbiases = true\n'
    with pytest.raises(SpecError, match=r"^<spec>: regularization.biases: the network has no biases \(bias = false\)$"):
        derive.loads(text + '[[layer]]\nunits = 1\nactivation = "sigmoid"\n')
    with pytest.raises(SpecError, match=r"^<spec>: regularization: must be a table, got 0.1$"):
        derive.loads('inputs = 2\nloss = "mse"\nregularization = 0.1\n[[layer]]\nunits = 1\nactivation = "sigmoid"\n')


def test_the_python_api_takes_a_regularization_and_checks_it() -> None:
    net = derive.Network(2, (derive.Layer(1, "sigmoid"),), "mse", regularization=derive.Regularization(0.5, "plain"))
    assert net.regularization.l2 == 0.5 and net.regularized("W1") and not net.regularized("b1")
    with pytest.raises(SpecError, match="regularization: expected a derive.Regularization, got dict"):
        derive.Network(2, (derive.Layer(1, "sigmoid"),), "mse", regularization={"l2": 0.1})  # type: ignore[arg-type]
    with pytest.raises(SpecError, match="regularization.form: unknown form 'l1'"):
        derive.Regularization(0.1, "l1")
    with pytest.raises(AttributeError):
        net.regularization.l2 = 1.0  # type: ignore[misc]  # frozen


# ---------------------------------------------------------------------------------- the registry
def test_each_forms_gradient_coefficient_is_the_derivative_of_its_penalty() -> None:
    lam, m, theta = sympy.symbols("lam m theta", positive=True)
    assert set(regularizers.REGULARIZERS) == set(FORMS)
    for form in FORMS:
        rule = regularizers.REGULARIZERS[form]
        assert sympy.simplify(rule.scale(lam, m) - SCALE[form](lam, m)) == 0, form
        assert sympy.simplify(rule.coefficient(lam, m) * theta - sympy.diff(rule.scale(lam, m) * theta**2, theta)) == 0
    assert [regularizers.REGULARIZERS[f].uses_batch() for f in FORMS] == [False, False, True]


# --------------------------------------------------------------------------- numbers by hand
# One identity neuron, squared error ½(a − y)²: W = 0.5, b = 0.1, λ = 0.1.
# Sample 1: x = 2, y = 1: a = 1.1, C = 0.005, ∂C/∂W = (a − y) x = 0.2, ∂C/∂b = 0.1.
# Sample 2: x = −1, y = 0: a = −0.4, C = 0.08, ∂C/∂W = 0.4, ∂C/∂b = −0.4.
HAND = {
    # (form, biases, batch): (J, ∂J/∂W, ∂J/∂b)
    ("half", False, 1): (0.005 + 0.05 * 0.25, 0.2 + 0.1 * 0.5, 0.1),
    ("half", True, 1): (0.005 + 0.05 * 0.25 + 0.05 * 0.01, 0.25, 0.1 + 0.1 * 0.1),
    ("plain", False, 1): (0.005 + 0.1 * 0.25, 0.2 + 0.2 * 0.5, 0.1),
    ("plain", True, 1): (0.005 + 0.1 * (0.25 + 0.01), 0.3, 0.1 + 0.2 * 0.1),
    ("half_over_m", False, 1): (0.0175, 0.25, 0.1),
    ("half_over_m", False, 2): (0.0425 + 0.1 / 4 * 0.25, 0.3 + 0.05 * 0.5, -0.15),
    ("half_over_m", True, 2): (0.0425 + 0.1 / 4 * 0.26, 0.325, -0.15 + 0.05 * 0.1),
    ("half", False, 2): (0.0425 + 0.0125, 0.35, -0.15),
    ("plain", True, 2): (0.0425 + 0.1 * 0.26, 0.4, -0.15 + 0.02),
}


@pytest.mark.parametrize(("form", "biases", "m"), list(HAND))
def test_loss_and_gradients_equal_numbers_worked_by_hand(form: str, biases: bool, m: int) -> None:
    d = derive.derive(load(ONE_WEIGHT.format(form=form, biases=str(biases).lower())))
    params = {"W1": np.array([[0.5]]), "b1": np.array([0.1])}
    x, y = np.array([[2.0], [-1.0]])[:m], np.array([[1.0], [0.0]])[:m]
    j, dw, db = HAND[(form, biases, m)]
    fn = d.lambdify()
    assert fn.loss(params, x, y) == pytest.approx(j, rel=1e-12)
    grads = fn.gradients(params, x, y)
    assert grads["W1"][0, 0] == pytest.approx(dw, rel=1e-12)
    assert grads["b1"][0] == pytest.approx(db, rel=1e-12)
    if m == 1:  # the one-sample path of the generated module too
        one = fn.gradients(params, x[0], y[0])
        assert (one["W1"][0, 0], one["b1"][0]) == pytest.approx((dw, db), rel=1e-12)


def test_the_engine_writes_the_penalty_gradient_and_keeps_the_per_sample_gradient() -> None:
    lam, m = regularizers.LAMBDA, regularizers.BATCH
    w, b = sym.W(1, 1, 1), sym.b(1, 1)
    for form, coefficient in (("half", lam), ("plain", 2 * lam), ("half_over_m", lam / m)):
        for biases in (False, True):
            d = derive.derive(load(ONE_WEIGHT.format(form=form, biases=str(biases).lower())))
            assert d.penalty_gradient("W1[1,1]") == coefficient * w
            assert d.penalty_gradient("b1[1]") == (coefficient * b if biases else 0)
            assert d.gradient("W1[1,1]", "closed") == (sym.a(1, 1) - sym.y(1)) * sym.x(1)  # ∂C/∂W as before
            assert sympy.expand(d.objective_gradient("W1[1,1]", "closed") - d.gradient("W1[1,1]", "closed")) == (
                coefficient * w
            )
            assert d.parameter("W1[1,1]").penalty == coefficient * w
            scale = SCALE[form](lam, m)
            assert sympy.expand(d.penalty() - scale * (w**2 + (b**2 if biases else 0))) == 0


# ------------------------------------------------------ sympy's derivative of a J composed here
@pytest.mark.parametrize(("form", "biases"), list(itertools.product(FORMS, (False, True))))
def test_objective_gradients_equal_sympys_derivative_of_j_composed_here(form: str, biases: bool) -> None:
    d = derive.derive(load(net_spec(form, biases)))
    net = d.network
    a: list[sympy.Expr] = [sym.x(j) for j in range(1, net.inputs + 1)]
    for layer, act in enumerate((sympy.tanh, lambda u: 1 / (1 + sympy.exp(-u))), start=1):
        rows, cols = net.sizes[layer], net.sizes[layer - 1]
        a = [
            act(sum(sym.W(layer, i, j) * a[j - 1] for j in range(1, cols + 1)) + sym.b(layer, i))
            for i in range(1, rows + 1)
        ]
    y = [sym.y(k) for k in range(1, net.outputs + 1)]
    cost = -sum(yk * sympy.log(ak) + (1 - yk) * sympy.log(1 - ak) for ak, yk in zip(a, y, strict=True))
    lam, m = sympy.Rational(3, 100), sympy.Integer(5)  # the engine's λ and m, given values here
    squares = sum(
        sym.W(l, i, j) ** 2 for l in (1, 2) for i in range(1, net.sizes[l] + 1) for j in range(1, net.sizes[l - 1] + 1)
    )
    if biases:
        squares += sum(sym.b(l, i) ** 2 for l in (1, 2) for i in range(1, net.sizes[l] + 1))
    objective = cost + SCALE[form](lam, m) * squares  # the per-sample C + R, whose batch mean is J
    rng = np.random.default_rng(5)
    point = {
        s: sympy.Rational(int(v * 1000), 1000)
        for s, v in zip(sorted(cost.free_symbols, key=str), rng.uniform(-1, 1, 99), strict=False)
    }
    point |= {yk: sympy.Rational(k, 4) for k, yk in enumerate(y, start=1)}
    given = {regularizers.LAMBDA: lam, regularizers.BATCH: m}
    for name in d.parameters():
        layer, i, j = d.resolve(name)
        expected = sympy.diff(objective, sym.parameter_symbol(layer, i, j)).xreplace(point)
        derived = d.objective_gradient(name, "closed").xreplace(d.forward_map()).xreplace(given).xreplace(point)
        assert abs(sympy.N(derived - expected, 40)) < sympy.Float("1e-30"), name


# -------------------------------------------------- finite differences of a J written here
def numpy_objective(params, x, y, form: str, biases: bool, lam: float) -> float:
    a = x
    for layer, act in ((1, "tanh"), (2, "sigmoid")):
        a = NUMPY_ACTS[act](a @ params[f"W{layer}"].T + params[f"b{layer}"])
    cost = np.mean(-np.sum(y * np.log(a) + (1 - y) * np.log(1 - a), axis=1))
    squares = sum(np.sum(v**2) for k, v in params.items() if k.startswith("W") or biases)
    return float(cost + SCALE[form](lam, x.shape[0]) * squares)


@pytest.mark.parametrize(("form", "biases"), list(itertools.product(FORMS, (False, True))))
def test_generated_loss_and_gradients_equal_finite_differences_of_j_written_here(form: str, biases: bool) -> None:
    lam = 0.3
    d = derive.derive(load(net_spec(form, biases, l2=lam)))
    fn = d.lambdify()
    rng = np.random.default_rng(7)
    for m in (1, 4):
        params = {k: rng.uniform(-1, 1, s) for k, s in d.network.shapes().items()}
        x, y = rng.uniform(-1, 1, (m, 3)), rng.uniform(0, 1, (m, 2))
        assert fn.loss(params, x, y) == pytest.approx(numpy_objective(params, x, y, form, biases, lam), rel=1e-12)
        grads = fn.gradients(params, x, y)
        for array, value in params.items():
            for index in np.ndindex(value.shape):
                up, down = {k: v.copy() for k, v in params.items()}, {k: v.copy() for k, v in params.items()}
                up[array][index] += 1e-6
                down[array][index] -= 1e-6
                fd = (
                    numpy_objective(up, x, y, form, biases, lam) - numpy_objective(down, x, y, form, biases, lam)
                ) / 2e-6
                assert grads[array][index] == pytest.approx(fd, abs=1e-7), (array, index, m)


def test_torch_autograd_includes_the_penalty() -> None:
    pytest.importorskip("torch")
    from derive.numeric import autograd

    for form, biases in itertools.product(FORMS, (False, True)):
        net = load(net_spec(form, biases, l2=0.2))
        rng = np.random.default_rng(3)
        params = {k: rng.uniform(-1, 1, s) for k, s in net.shapes().items()}
        x, y = rng.uniform(-1, 1, (4, 3)), rng.uniform(0, 1, (4, 2))
        unregularised = autograd.gradients(replace(net, regularization=None), params, x, y)
        with_penalty = autograd.gradients(net, params, x, y)
        coefficient = {"half": 0.2, "plain": 0.4, "half_over_m": 0.2 / 4}[form]
        for array, value in params.items():
            term = coefficient * value if array.startswith("W") or biases else 0 * value
            np.testing.assert_allclose(with_penalty[array] - unregularised[array], term, atol=1e-14)


# ----------------------------------------------------------------------------------- the check
@pytest.mark.parametrize(("form", "biases"), [("half", False), ("plain", True), ("half_over_m", True)])
def test_check_passes_with_the_penalty_in_every_column(form: str, biases: bool) -> None:
    d = derive.derive(load(net_spec(form, biases)))
    report = check(d, points=2, use_torch=True)
    assert report.failed == 0
    for p in report.parameters:
        assert p.symbolic in ("exact", "digits") and p.fd_error < 1e-6 and p.code_error < 1e-9, p


def test_a_wrong_factor_in_the_penalty_gradient_is_caught(monkeypatch) -> None:
    """The plain form's ∂R/∂θ = 2λθ, broken to λθ: sympy's derivative of C + R and the finite differences
    of the generated J (and torch) disagree with it."""
    broken = replace(regularizers.PLAIN, coefficient=lambda lam, m: lam)
    monkeypatch.setitem(regularizers.REGULARIZERS, "plain", broken)
    d = derive.derive(load(net_spec("plain", True, l2=0.5)))
    report = check(d, points=1, use_torch=True)
    assert report.failed == len(d.parameters())
    for p in report.parameters:
        assert p.symbolic == "failed" and p.fd_error > 1e-3, p
        assert p.torch_error is None or p.torch_error > 1e-3, p


# ---------------------------------------------------------------- codegen and assert_gradients
def user_gradients(reg_factor: float, lam: float, biases: bool = False):
    """A hand-written backprop for the tanh/sigmoid network with binary cross-entropy and reg_factor·λ·W added."""

    def gradients(params, x, y):
        m = x.shape[0]
        z1 = x @ params["W1"].T + params["b1"]
        a1 = np.tanh(z1)
        a2 = 1 / (1 + np.exp(-(a1 @ params["W2"].T + params["b2"])))
        d2 = (a2 - y) / m
        d1 = (d2 @ params["W2"]) * (1 - a1**2)
        out = {"W1": d1.T @ x, "b1": d1.sum(0), "W2": d2.T @ a1, "b2": d2.sum(0)}
        for k in out:
            if k.startswith("W") or biases:
                out[k] = out[k] + reg_factor * lam * params[k]
        return out

    return gradients


def test_assert_gradients_takes_the_right_factor_and_refuses_a_wrong_one() -> None:
    lam = 0.05
    plain = load(net_spec("plain"))
    assert_gradients(plain, user_gradients(2.0, lam))
    with pytest.raises(AssertionError) as caught:
        assert_gradients(plain, user_gradients(1.0, lam))  # reg*W instead of 2*reg*W
    message = str(caught.value)
    assert "W1" in message and "2λ" in message and "λ = 0.05" in message
    assert_gradients(load(net_spec("half")), user_gradients(1.0, lam))
    assert_gradients(load(net_spec("half", True)), user_gradients(1.0, lam, biases=True))
    with pytest.raises(AssertionError):
        assert_gradients(load(net_spec("half", True)), user_gradients(1.0, lam))  # the biases' term forgotten


def test_the_generated_module_and_pytest_file_carry_the_penalty(tmp_path, monkeypatch) -> None:
    source = module_source(load(net_spec("half_over_m", True)))
    assert "L2 = 0.05" in source
    assert "R = L2 / (2 * m) * (np.sum(W1 * W1) + np.sum(b1 * b1) + np.sum(W2 * W2) + np.sum(b2 * b2))" in source
    assert "dW1 = D1.T @ X + L2 / m * W1" in source
    assert "return float(np.mean(C) + R)" in source
    assert "L2" not in module_source(load(without_penalty()))
    spec = tmp_path / "plain.toml"
    spec.write_text(net_spec("plain"), encoding="utf-8")
    (tmp_path / "mine.py").write_text(
        "import numpy as np\nLAM = 0.05\nFACTOR = {factor}\n\n\ndef gradients(params, x, y):\n"
        "    m = x.shape[0]\n    a1 = np.tanh(x @ params['W1'].T + params['b1'])\n"
        "    a2 = 1 / (1 + np.exp(-(a1 @ params['W2'].T + params['b2'])))\n    d2 = (a2 - y) / m\n"
        "    d1 = (d2 @ params['W2']) * (1 - a1**2)\n"
        "    return {{'W1': d1.T @ x + FACTOR * LAM * params['W1'], 'b1': d1.sum(0),\n"
        "            'W2': d2.T @ a1 + FACTOR * LAM * params['W2'], 'b2': d2.sum(0)}}\n".format(factor="2.0"),
        encoding="utf-8",
    )
    ran = run_cli("codegen", str(spec), "--pytest", "--function", "mine:gradients")
    assert ran.returncode == 0, ran.stderr
    test_file = tmp_path / "test_mine.py"
    test_file.write_text(ran.stdout, encoding="utf-8")
    namespace: dict[str, object] = {}
    monkeypatch.syspath_prepend(str(tmp_path))
    exec(compile(ran.stdout, str(test_file), "exec"), namespace)  # noqa: S102 - derive's generated test file
    for seed, m in itertools.product((0, 1), (1, 4)):
        namespace["test_gradients_match_the_derivation"](seed, m)
    (tmp_path / "mine.py").write_text((tmp_path / "mine.py").read_text().replace("FACTOR = 2.0", "FACTOR = 1.0"))
    import importlib

    import mine  # type: ignore[import-not-found]

    importlib.reload(mine)
    namespace["gradients_under_test"] = mine.gradients
    with pytest.raises(AssertionError, match="W1"):
        namespace["test_gradients_match_the_derivation"](0, 4)


# ------------------------------------------------------------------------------------- documents
@pytest.mark.parametrize(("form", "biases"), [("half", False), ("plain", True), ("half_over_m", False)])
def test_documents_show_the_penalty_its_gradient_and_weight_decay_in_both_languages(form: str, biases: bool) -> None:
    d = derive.derive(load(net_spec(form, biases)))
    coefficient = {"half": r"\lambda", "plain": r"2 \lambda", "half_over_m": r"\frac{\lambda}{m}"}[form]
    scale = {"half": r"\frac{1}{2} \lambda", "plain": r"\lambda", "half_over_m": r"\frac{\lambda}{2 m}"}[form]
    norms = r"\lVert W^{(1)} \rVert^{2} + " + (r"\lVert b^{(1)} \rVert^{2} + " if biases else "")
    for lang, words in (("en", ("L2 penalty", "weight decay")), ("zh", ("L2 惩罚项", "权重衰减"))):
        text = d.render("md", lang).replace("&=", "=").replace(r"&\leftarrow", r"\leftarrow")
        for word in words:
            assert word in text, (lang, word)
        assert r"J = \frac{1}{m} \sum_{s=1}^{m} C^{(s)} + R" in text
        assert rf"R = {scale} \left({norms}" in text
        assert r"\lambda = 0.05" in text
        assert rf"\frac{{\partial R}}{{\partial W^{{(l)}}_{{ij}}}} = {coefficient} W^{{(l)}}_{{ij}}" in text
        assert (
            r"\frac{\partial J}{\partial W^{(2)}} = \frac{1}{m} \sum_{s=1}^{m} "
            rf"\frac{{\partial C^{{(s)}}}}{{\partial W^{{(2)}}}} + {coefficient} W^{{(2)}}"
        ) in text
        assert (r"\frac{\partial R}{\partial b^{(l)}_{i}}" in text) == biases
        assert r"W^{(1)} \leftarrow W^{(1)} - \eta \frac{\partial J}{\partial W^{(1)}}" in text
        shrink = {
            "half": r"1 - \eta \lambda",
            "plain": r"1 - 2 \eta \lambda",
            "half_over_m": r"1 - \frac{\eta \lambda}{m}",
        }
        assert rf"\left({shrink[form]}\right) W^{{(1)}} - \eta \frac{{1}}{{m}} \sum_{{s=1}}^{{m}}" in text
    plain = derive.derive(load(without_penalty())).render("md", "en")
    assert "penalty" not in plain and r"\lambda" not in plain


def test_the_worked_examples_update_steps_against_the_penalised_gradient(tmp_path) -> None:
    """W = 0.5, b = 0.1, x = 2, y = 1, η = 0.5, plain λ = 0.1 on both: ∂C/∂W = 0.2, ∂C/∂b = 0.1, so
    W ← 0.5 − 0.5 (0.2 + 0.1) = 0.35 and b ← 0.1 − 0.5 (0.1 + 0.02) = 0.04."""
    text = ONE_WEIGHT.format(form="plain", biases="true") + (
        "[example]\nx = [2.0]\ny = [1.0]\nW1 = [[0.5]]\nb1 = [0.1]\nlearning_rate = 0.5\n"
    )
    md = derive.derive(load(text)).render("md", "en")
    assert (
        r"W^{(1)} &\leftarrow W^{(1)} - \eta \frac{\partial J}{\partial W^{(1)}} = "
        r"\left[\begin{matrix}0.35\end{matrix}\right]" in md
    )
    assert (
        r"b^{(1)} &\leftarrow b^{(1)} - \eta \frac{\partial J}{\partial b^{(1)}} = "
        r"\left[\begin{matrix}0.04\end{matrix}\right]" in md
    )


# ---------------------------------------------------------------------------------------- verify
VERIFY_NET = """name = "l2v"
inputs = 2
loss = "squared_error"
[regularization]
l2 = 0.01
form = "{form}"
biases = {biases}
[[layer]]
units = 2
activation = "sigmoid"
[[layer]]
units = 1
activation = "sigmoid"
"""


def verifier(form: str, biases: bool = False) -> derive.Derivation:
    return derive.derive(load(VERIFY_NET.format(form=form, biases=str(biases).lower())))


@pytest.mark.parametrize(
    ("form", "term"), [("half", r"\lambda"), ("plain", r"2 \lambda"), ("half_over_m", r"\frac{\lambda}{m}")]
)
def test_verify_reads_lambda_in_a_gradient_of_j(form: str, term: str) -> None:
    d = verifier(form, biases=True)
    right = [
        rf"\frac{{\partial J}}{{\partial W^{{(2)}}_{{11}}}} = \delta^{{(2)}}_1 a^{{(1)}}_1 + {term} W^{{(2)}}_{{11}}",
        rf"\frac{{\partial J}}{{\partial W^{{(1)}}_{{12}}}} = \delta^{{(1)}}_1 x_2 + {term} W^{{(1)}}_{{12}}",
        rf"\frac{{\partial J}}{{\partial b^{{(1)}}_{{2}}}} = \delta^{{(1)}}_2 + {term} b^{{(1)}}_{{2}}",
        rf"\frac{{\partial J}}{{\partial W^{{(2)}}}} = \delta^{{(2)}} (a^{{(1)}})^T + {term} W^{{(2)}}",
        rf"\Delta W^{{(2)}}_{{11}} = -\eta (\delta^{{(2)}}_1 a^{{(1)}}_1 + {term} W^{{(2)}}_{{11}})",
        r"\frac{\partial C}{\partial W^{(2)}_{11}} = \delta^{(2)}_1 a^{(1)}_1",  # C's gradient is as before
    ]
    for formula in right:
        verdict = verify(d, None, formula)
        assert verdict.right and verdict.method == "exact", formula
    assert verify(d, "W2[1,1]", rf"\delta^{{(2)}}_1 a^{{(1)}}_1 + {term} W^{{(2)}}_{{11}}")  # λ in it: ∂J meant


def test_verify_answers_a_wrong_penalty_factor_with_a_counterexample_and_the_reason() -> None:
    d = verifier("plain")
    verdict = verify(
        d, None, r"\frac{\partial J}{\partial W^{(2)}_{11}} = \delta^{(2)}_1 a^{(1)}_1 + \lambda W^{(2)}_{11}"
    )
    assert not verdict.right and verdict.codes[0] == "penalty"
    assert (verdict.diagnoses[0].which, verdict.diagnoses[0].term) == ("half", "2λW")
    counter = verdict.counterexample
    assert counter is not None and "lambda" in counter.parameters
    # the numbers by hand: the formula is short of the derivative by λ W2[1,1] exactly
    assert counter.correct - counter.given == pytest.approx(
        counter.parameters["lambda"] * counter.parameters["W2[1,1]"]
    )
    text = verdict.text()
    assert (
        r"correct: \frac{\partial J}{\partial W^{(2)}_{11}} = \delta^{(2)}_{1} a^{(1)}_{1} + 2 \lambda W^{(2)}_{11}"
        in text
    )
    assert "the L2 penalty's term is half what this form gives: ∂R/∂θ is 2λW" in text
    assert "L2 惩罚项这一项是这种形式应有值的一半" in verdict.text("zh")
    missing = verify(d, None, r"\frac{\partial J}{\partial W^{(2)}_{11}} = \delta^{(2)}_1 a^{(1)}_1")
    assert not missing.right and missing.codes[0] == "penalty" and missing.diagnoses[0].which == "missing"
    double = verify(
        verifier("half"), None, r"\frac{\partial J}{\partial W^{(1)}_{11}} = \delta^{(1)}_1 x_1 + 2 λ W^{(1)}_{11}"
    )
    assert not double.right and double.diagnoses[0].which == "double"
    unregularised_bias = verify(
        d, None, r"\frac{\partial J}{\partial b^{(1)}_{1}} = \delta^{(1)}_1 + 2 \lambda b^{(1)}_{1}"
    )
    assert not unregularised_bias.right  # biases = false: no term for them


def test_verify_refuses_lambda_without_a_penalty(tmp_path) -> None:
    path = tmp_path / "plain.toml"
    path.write_text(without_penalty(), encoding="utf-8")
    ran = run_cli("verify", str(path), "W2[1,1]", r"\delta^{(2)}_1 a^{(1)}_1 + \lambda W^{(2)}_{11}")
    assert ran.returncode == 2 and ran.stdout == ""
    assert "λ is the L2 penalty's strength, but this network's spec has no [regularization]" in ran.stderr
    spec = tmp_path / "l2.toml"
    spec.write_text(VERIFY_NET.format(form="plain", biases="false"), encoding="utf-8")
    ran = run_cli("verify", str(spec), "W2[1,1]", r"\delta^{(2)}_1 a^{(1)}_1 + \lambda W^{(2)}_{11}")
    assert ran.returncode == 1 and "why: the L2 penalty's term is half" in ran.stdout
    ran = run_cli("verify", str(spec), "W2[1,1]", r"\delta^{(2)}_1 a^{(1)}_1 + 2 λ W^{(2)}_{11}")
    assert ran.returncode == 0 and ran.stdout.startswith("right:")


def test_documents_write_the_penalty_in_the_readers_notation_and_in_html() -> None:
    """θ numbered by the layer it leaves (article 001's notation): R sums ‖θ^{(0)}‖² and ‖θ^{(1)}‖²."""
    text = net_spec("half", True).replace(
        "[[layer]]", '[notation]\nweight = "theta"\nweight_layer = "source"\n\n[[layer]]', 1
    )
    d = derive.derive(load(text))
    md = d.render("md", "en")
    assert r"\lVert \theta^{(0)} \rVert^{2} + \lVert b^{(1)} \rVert^{2} + \lVert \theta^{(1)} \rVert^{2}" in md
    assert r"\frac{\partial J}{\partial \theta^{(0)}}" in md
    assert "fully composed cost plus the L2 penalty" in md
    assert repr(d) == "<Derivation l2net: 3-4-2, tanh/sigmoid, binary_cross_entropy, L2 half λ = 0.05, 26 parameters>"
    html = d.render("html", "zh")
    assert "‖" in html and "权重衰减" in html and "λ" in html


def test_grad_prints_the_penalty_term_with_the_per_sample_gradient() -> None:
    """derive grad under form plain: ∂C/∂W + 2λW; a bias outside the penalty: ∂C/∂b alone; no penalty: ∂C/∂W."""
    spec = ROOT / "examples" / "testing" / "cs231n_style.toml"
    ran = run_cli("grad", str(spec), "W2[1,1]", "--latex")
    assert ran.returncode == 0 and ran.stdout == "(a^{(2)}_{1} - y_{1}) a^{(1)}_{1} + 2 \\lambda W^{(2)}_{11}\n"
    assert run_cli("grad", str(spec), "b2[1]", "--latex").stdout == "a^{(2)}_{1} - y_{1}\n"
    plain = run_cli("grad", str(ROOT / "examples" / "seed003.toml"), "W2[1,1]").stdout
    assert "lambda" not in plain and plain.strip()
