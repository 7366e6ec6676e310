"""Numeric functions from the derivation: lambdify, the generated module, derive.testing and the checks."""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT, net
from inprocess import run_cli

import derive
from derive import cli
from derive.check import check, format_report
from derive.check.gradients import _locate
from derive.model.samples import random_batch
from derive.numeric import autograd, codegen
from derive.testing import assert_gradients

SEED4 = ROOT / "examples" / "seed004.toml"
DEMO = ROOT / "examples" / "article004"

NETS = [
    net((3, 4, 2), ("sigmoid", "sigmoid"), "squared_error"),
    net((3, 4, 2), ("relu", "softmax"), "cross_entropy"),
    net((2, 3, 4, 3), ("tanh", "leaky_relu", "softmax"), "binary_cross_entropy"),
    net((3, 4, 2), ("identity", "sigmoid"), "cross_entropy", bias=False),
    net((3, 4, 2), ("softmax", "relu"), "mse"),
    net((2, 5, 1), ("tanh", "sigmoid"), "binary_cross_entropy"),
    net((4, 3, 3, 2), ("sigmoid", "tanh", "identity"), "mse", delta="error", index_order="from_to"),
    net((3, 4, 2), ("elu", "silu"), "squared_error"),
]
IDS = [
    "sig-sig-se",
    "relu-softmax-ce",
    "tanh-leaky-softmax-bce",
    "id-sig-ce",
    "softmax-relu-mse",
    "tanh-sig-bce",
    "3L",
    "elu-silu-se",
]


def closed_form_mean(d: derive.Derivation, params, x, y) -> dict[str, np.ndarray]:
    """The batch mean of each parameter's closed form, evaluated per sample by the element-level derivation."""
    out = {name: np.zeros(shape) for name, shape in d.network.shapes().items()}
    for xs, ys in zip(x, y, strict=True):
        for name, value in d.evaluate_all(params, xs, ys).items():
            array, index = _locate(name)
            out[array][index] += value / len(x)
    return out


# ----------------------------------------------------------------- lambdify
@pytest.mark.parametrize("network", NETS + [derive.load(p) for p in sorted(ROOT.glob("examples/seed*.toml"))])
def test_lambdified_gradients_equal_the_closed_forms(network):
    d = derive.derive(network)
    fn = d.lambdify()
    rng = np.random.default_rng(7)
    for m in (1, 5):
        params, x, y = random_batch(network, rng, m)
        got = fn.gradients(params, x, y)
        want = closed_form_mean(d, params, x, y)
        assert list(got) == list(network.shapes())
        for name, value in want.items():
            assert got[name].shape == network.shapes()[name]
            np.testing.assert_allclose(got[name], value, rtol=1e-10, atol=1e-13, err_msg=name)
        # The loss is the batch mean of the per-sample cost written with the loss's own formula.
        per_sample = [derive.model.samples.cost(network, params, xs, ys) for xs, ys in zip(x, y, strict=True)]
        assert fn.loss(params, x, y) == pytest.approx(np.mean(per_sample), rel=1e-12, abs=1e-14)


def test_forward_of_article_004_matches_its_numbers():
    net4 = derive.load(SEED4)
    fn = derive.derive(net4).lambdify()
    ex = net4.example
    # The article's hidden outputs give ŷ = σ(0.1 σ(0.24) − 0.3 σ(−0.48)) (weights from its arrays).
    hidden = 1 / (1 + np.exp(-np.array([0.5 * 0.5 + 0.1 * 0.1 - 0.2 * 0.1, -0.6 * 0.5 - 0.2 * 0.1 - 0.2 * 0.7])))
    y_hat = 1 / (1 + np.exp(-(0.1 * hidden[0] - 0.3 * hidden[1])))
    out = fn.forward(ex.params, ex.x)
    assert out.shape == (1,)
    assert out[0] == pytest.approx(y_hat, rel=1e-14)
    assert fn.loss(ex.params, ex.x, ex.y) == pytest.approx(0.5 * (0.6 - y_hat) ** 2, rel=1e-12)
    # The article's Δw (hidden→output) = −η ∂E/∂w: [0.00804047394804529, 0.00555918091168283].
    grads = fn.gradients(ex.params, ex.x, ex.y)
    np.testing.assert_allclose(-0.5 * grads["W2"][0], [0.00804047394804529, 0.00555918091168283], atol=1e-15)


def test_lambdify_is_built_once_and_its_source_does_not_grow_with_the_network():
    small = derive.derive(net((3, 4, 2), ("sigmoid", "softmax"), "cross_entropy"))
    big = derive.derive(net((784, 100, 10), ("sigmoid", "softmax"), "cross_entropy"))
    assert small.lambdify() is small.lambdify()
    # Vectorised over the matrix form: the same lines whatever the sizes (only the shape numbers differ).
    assert abs(len(big.lambdify().source) - len(small.lambdify().source)) < 100
    assert "W1[" not in big.lambdify().source


def test_wrong_shapes_name_the_parameter_and_both_shapes():
    fn = derive.derive(net((3, 4, 2), ("sigmoid", "sigmoid"), "squared_error")).lambdify()
    params, x, y = random_batch(fn.network, np.random.default_rng(0), 2)
    bad = dict(params, W1=params["W1"].T)
    with pytest.raises(derive.DeriveError, match=re.escape("params: W1 has shape (3, 4), expected (4, 3)")):
        fn.gradients(bad, x, y)
    with pytest.raises(derive.DeriveError, match=re.escape("params: b2 is missing (expected shape (2,))")):
        fn.loss({k: v for k, v in params.items() if k != "b2"}, x, y)
    with pytest.raises(derive.DeriveError, match=re.escape("x: has shape (2, 4), expected (m, 3)")):
        fn.forward(params, np.ones((2, 4)))


# ------------------------------------------------------------------ codegen
def _module_lines(source: str, function: str) -> list[str]:
    body = source.split(f"\ndef {function}(")[1].split("\ndef ")[0]
    return body.splitlines()


@pytest.mark.parametrize("network", NETS, ids=IDS)
def test_every_computed_line_is_commented_with_its_formula(network):
    source = codegen.module_source(network)
    for function in ("forward", "loss", "gradients", "_gradients_of_one"):
        lines = _module_lines(source, function)
        computed = [k for k, line in enumerate(lines) if re.match(r"^    ([A-Z]\w*|[a-z]\d+|d[Wb]\d+) = ", line)]
        assert computed, function
        for k in computed:
            assert lines[k - 1].lstrip().startswith("#"), (function, lines[k])
    # The formulas are the matrix form's: the recursion and the outer product.
    assert "δ⁽¹⁾ = (W⁽²⁾ᵀ δ⁽²⁾)" in source or "δ⁽¹⁾ = J⁽¹⁾ᵀ W⁽²⁾ᵀ δ⁽²⁾" in source
    assert "∂J/∂W⁽¹⁾ = (1/m) Σₛ δ⁽¹⁾ xᵀ" in source
    # One sample: the column vectors as 1-D arrays, J = C.
    assert "∂J/∂W⁽¹⁾ = δ⁽¹⁾ xᵀ\n    dW1 = d1[:, None] * x\n" in source


def test_codegen_writes_a_module_that_needs_only_numpy(tmp_path):
    out = tmp_path / "grads.py"
    assert cli.main(["codegen", str(ROOT / "examples" / "seed003.toml"), "-o", str(out)]) == 0
    source = out.read_text(encoding="utf-8")
    assert not re.search(r"^\s*(import|from)\s+derive", source, re.M)
    network = derive.load(ROOT / "examples" / "seed003.toml")
    params, x, y = random_batch(network, np.random.default_rng(3), 4)
    np.savez(tmp_path / "point.npz", x=x, y=y, **params)
    script = (
        "import sys; sys.modules['derive'] = None\n"  # importing derive would fail
        "import numpy as np, grads\n"
        "p = dict(np.load('point.npz')); x, y = p.pop('x'), p.pop('y')\n"
        "g = grads.gradients(p, x, y)\n"
        "np.savez('grads.npz', loss=grads.loss(p, x, y), **g)\n"
    )
    run = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    got = np.load(tmp_path / "grads.npz")
    want = closed_form_mean(derive.derive(network), params, x, y)
    for name, value in want.items():
        np.testing.assert_allclose(got[name], value, rtol=1e-10, atol=1e-13)


def test_codegen_output_is_the_same_byte_for_byte(tmp_path):
    a, b = tmp_path / "a.py", tmp_path / "b.py"
    spec = str(ROOT / "examples" / "seed001.toml")
    assert cli.main(["codegen", spec, "-o", str(a)]) == 0
    assert cli.main(["codegen", spec, "-o", str(b)]) == 0
    assert a.read_bytes() == b.read_bytes()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--pytest",), "--pytest needs --function"),
        (("--function", "m:f"), "--function is for --pytest"),
        (("--pytest", "--function", "os;import x:f"), "is not of the form module.path:function_name"),
        (("--pytest", "--function", "mod.f"), "is not of the form module.path:function_name"),
        (("-o", "missing-dir/grads.py"), "does not exist"),
        (("-o", "."), "is a directory"),
    ],
)
def test_codegen_errors_are_one_line_and_write_nothing(tmp_path, args, message):
    (tmp_path / "net.toml").write_text((ROOT / "examples" / "seed001.toml").read_text(encoding="utf-8"))
    run = run_cli("codegen", "net.toml", *args, cwd=tmp_path)
    assert run.returncode == 2
    assert run.stderr.count("\n") == 1 and message in run.stderr, run.stderr
    assert "Traceback" not in run.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.toml"]


# ------------------------------------------------------- article 004's demo
def test_demo_files_are_what_codegen_writes_now():
    assert (DEMO / "grads.py").read_text(encoding="utf-8") == codegen.module_source(derive.load(SEED4))
    text = codegen.pytest_source(derive.load(SEED4), "backprop:gradients", "examples/seed004.toml")
    assert (DEMO / "test_backprop.py").read_text(encoding="utf-8") == text


def _pytest(path, cwd):
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", str(path)],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(DEMO), "PATH": "/usr/bin:/bin"},
    )


def test_generated_pytest_file_passes_the_exercise_and_catches_the_broken_variant(tmp_path):
    good = _pytest(DEMO / "test_backprop.py", tmp_path)
    assert good.returncode == 0, good.stdout + good.stderr
    assert "9 passed" in good.stdout
    broken = tmp_path / "test_broken.py"
    args = ["codegen", str(SEED4), "--pytest", "--function", "backprop:gradients_with_a_mistake", "-o", str(broken)]
    assert cli.main(args) == 0
    bad = _pytest(broken, tmp_path)
    assert bad.returncode == 1
    # The hidden layer's weights are wrong (σ' left out), and the message says where and what it should be.
    assert "W1[1,1]: yours " in bad.stdout and "derived " in bad.stdout
    assert "σ'(z⁽¹⁾) = a⁽¹⁾ ⊙ (1 − a⁽¹⁾)" in bad.stdout


def test_exercise_reproduces_the_article_numbers():
    sys.path.insert(0, str(DEMO))
    try:
        import backprop
    finally:
        sys.path.remove(str(DEMO))
    x = np.array([0.5, 0.1, -0.2])
    w_ih = np.array([[0.5, -0.6], [0.1, -0.2], [0.1, 0.7]])
    step_ih, step_ho = backprop.weight_steps(x, 0.6, w_ih, np.array([0.1, -0.3]), 0.5)
    np.testing.assert_allclose(step_ho, [0.00804047394804529, 0.00555918091168283], atol=1e-15)
    # The article's hidden error terms times η x_i.
    np.testing.assert_allclose(step_ih, 0.5 * np.outer(x, [0.00070802218654941, -0.00204471402395086]), atol=1e-15)
    assert_gradients(SEED4, backprop.gradients)
    with pytest.raises(AssertionError, match=r"W1\[1,1\]: yours"):
        assert_gradients(SEED4, backprop.gradients_with_a_mistake)


# ----------------------------------------------------------- derive.testing
def test_assert_gradients_names_parameter_element_values_and_formula():
    network = derive.load(ROOT / "examples" / "seed003.toml")
    fn = derive.derive(network).lambdify()
    assert_gradients(network, fn.gradients)

    def off_by_one_element(params, x, y):
        g = fn.gradients(params, x, y)
        g["W2"][1, 2] += 0.01
        return g

    with pytest.raises(AssertionError) as info:
        assert_gradients(network, off_by_one_element)
    text = str(info.value)
    params, x, y = random_batch(network, np.random.default_rng(0), 1)  # the first batch tested: seed 0, m = 1
    true = float(fn.gradients(params, x, y)["W2"][1, 2])
    assert text.startswith(f"W2[2,3]: yours {true + 0.01!r}, derived {true!r} (seed 0, batch of 1; 1 of 8 elements")
    assert "∂J/∂W2[2,3] = (1/m) Σₛ δ⁽²⁾[2] a⁽¹⁾[3]" in text
    assert "per sample: ∂C/∂W2[2,3] = a1[3]*(a2[2] - y[2])" in text


@pytest.mark.parametrize(
    ("change", "hint"),
    [
        (lambda g, m: {k: v * m for k, v in g.items()}, "the sum over the batch instead of the mean"),
        (lambda g, m: {k: -v for k, v in g.items()}, "the negative of ∂J/∂θ"),
        (lambda g, m: {k: 2 * v for k, v in g.items()}, "twice the derived value"),
    ],
    ids=["summed", "negated", "doubled"],
)
def test_assert_gradients_hints_at_common_mistakes(change, hint):
    network = derive.load(ROOT / "examples" / "seed001.toml")
    fn = derive.derive(network).lambdify()
    with pytest.raises(AssertionError, match=hint):
        assert_gradients(network, lambda p, x, y: change(fn.gradients(p, x, y), len(x)), batches=(4,))


def test_assert_gradients_reports_shapes_and_missing_arrays():
    network = derive.load(ROOT / "examples" / "seed001.toml")
    fn = derive.derive(network).lambdify()
    turned = re.escape("W1: yours has shape (2, 3), the derived gradient (3, 2) (transposed?)")
    with pytest.raises(AssertionError, match=turned):
        assert_gradients(network, lambda p, x, y: dict(fn.gradients(p, x, y), W1=fn.gradients(p, x, y)["W1"].T))
    with pytest.raises(AssertionError, match="b2: missing from your gradients"):
        assert_gradients(network, lambda p, x, y: {k: v for k, v in fn.gradients(p, x, y).items() if k != "b2"})
    with pytest.raises(AssertionError, match="returned list"):
        assert_gradients(network, lambda p, x, y: [])
    with pytest.raises(derive.DeriveError, match="expected a spec file, a Network or a Derivation"):
        assert_gradients(3, fn.gradients)


# ------------------------------------------------------ check and autograd
torch = pytest.importorskip("torch")  # .ci/setup installs torch, so these run in CI


@pytest.mark.parametrize("network", NETS, ids=IDS)
def test_torch_autograd_agrees_with_the_generated_gradients(network):
    fn = derive.derive(network).lambdify()
    params, x, y = random_batch(network, np.random.default_rng(11), 6)
    want = fn.gradients(params, x, y)
    got = autograd.gradients(network, params, x, y)
    for name in want:
        np.testing.assert_allclose(got[name], want[name], rtol=1e-10, atol=1e-14, err_msg=name)


def test_check_compares_with_torch_and_reports_it(capsys):
    assert cli.main(["check", str(SEED4)]) == 0
    out = capsys.readouterr().out
    assert f"torch {torch.__version__} autograd in float64" in out
    rows = [line for line in out.splitlines() if line.startswith(("W1 ", "W2 "))]
    for row in rows:
        errors = [float(v) for v in re.findall(r"max (?:error )?(\d\.\d+e[-+]\d+)", row)]
        assert len(errors) == 3 and max(errors) < 1e-9 and row.endswith("ok")
    assert cli.main(["check", str(SEED4), "--no-torch"]) == 0
    assert "torch autograd: not installed" in capsys.readouterr().out


def test_check_fails_through_torch_and_code_when_the_closed_form_is_wrong(monkeypatch):
    d = derive.derive(net((2, 3, 2), ("tanh", "sigmoid"), "squared_error"))
    right = d.jacobian_entry  # tanh'(z) of hidden unit 2, tripled: only its weights and bias go wrong

    def tripled(layer, i, k):
        return 3 * right(layer, i, k) if (layer, i, k) == (1, 2, 2) else right(layer, i, k)

    monkeypatch.setattr(d, "jacobian_entry", tripled)
    report = check(d, points=2, symbolic=False)
    bad = {p.name for p in report.parameters if not p.passed}
    assert bad == {"W1[2,1]", "W1[2,2]", "b1[2]"}
    for p in report.parameters:
        wrong = p.name in bad
        assert (p.torch_error > 1e-6) == wrong and (p.code_error > 1e-6) == wrong and (p.fd_error > 1e-6) == wrong
    assert "FAILED (2)" in format_report(d.network, report)
