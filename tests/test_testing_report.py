"""derive.testing on people's own backprop: their layouts, and a failure report that names the bug.

Each user implementation below is written here, by hand, in the layout it is tested in (as CS231n,
Nielsen and the deeplearning.ai course write theirs); the broken ones carry one typical mistake each, and
the test asserts the hint the report gives for it.
"""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT, net
from inprocess import run_cli

import derive
from derive.numeric import variants
from derive.testing import assert_gradients

SOFTMAX_CE = net((3, 4, 2), ("sigmoid", "softmax"), "cross_entropy")
SIGMOID_MSE = net((3, 4, 2), ("sigmoid", "sigmoid"), "mse")
WIDE_MSE = net((3, 4, 3), ("sigmoid", "sigmoid"), "mse")
SQUARE = net((3, 4, 4, 2), ("sigmoid", "sigmoid", "softmax"), "cross_entropy")  # W2 is 4 × 4


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def softmax(z, axis):
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


# ------------------------------------------------------------- users' code
def rows(p, x, y, bug=None, ce=True):
    """Derive's own layout: W (out, in), one sample per row; sigmoid hidden layers, softmax-CE or sigmoid-MSE."""
    depth, m = len(p) // 2, len(x)
    a, zs = [x], [None]
    for layer in range(1, depth + 1):
        z = a[-1] @ p[f"W{layer}"].T + p[f"b{layer}"]
        zs.append(z)
        a.append(softmax(z, 1) if layer == depth and ce else sigmoid(z))
    out = a[-1]
    n = out.shape[1]
    if ce:
        d = out - y
        if bug == "extra_slope":
            d = d * out * (1 - out)
    elif bug == "missing_output_slope":
        d = 2 / n * (out - y)
    elif bug == "a_minus_y":
        d = out - y
    elif bug == "half":
        d = (out - y) / n * out * (1 - out)  # mse′ without its 2
    elif bug == "output_width":
        d = 2 * (out - y) * out * (1 - out)  # the squared error summed over the outputs, not averaged
    elif bug == "sigmoid_prime_of_a":
        d = 2 / n * (out - y) * sigmoid(out) * (1 - sigmoid(out))
    else:
        d = 2 / n * (out - y) * out * (1 - out)
    d = d if bug == "summed" else d / m
    if bug == "twice_divided":
        d = d / m
    if bug == "sign":
        d = -d
    grads = {}
    for layer in range(depth, 0, -1):
        grads[f"W{layer}"] = d.T @ a[layer - 1]
        grads[f"b{layer}"] = d.sum(axis=0)
        if layer == 1:
            break
        w = p[f"W{layer}"]
        back = d @ (w.T if bug == "transposed" and layer == 2 else w)
        own = a[layer - 1] * (1 - a[layer - 1])
        if bug == "missing_sigma1" and layer == 2:
            own = 1
        if bug == "wrong_layer" and layer == 2:
            own = a[2] * (1 - a[2])  # σ′(z⁽²⁾) where σ′(z⁽¹⁾) belongs
        d = back * own
    if bug == "double_layer1":
        grads["W1"], grads["b1"] = 2 * grads["W1"], 2 * grads["b1"]
    if bug == "summed_layer1":
        grads["W1"], grads["b1"] = m * grads["W1"], m * grads["b1"]
    return grads


def with_output(ce):
    """``rows`` for a network whose output is softmax-CE (True) or sigmoid-MSE (False)."""
    return lambda p, x, y, bug=None: rows(p, x, y, bug, ce)


def cs231n(p, x, y):
    """Weights (in, out), samples as rows, softmax-CE, biases (n,): CS231n's two-layer net."""
    h = sigmoid(x @ p["W1"] + p["b1"])
    probs = softmax(h @ p["W2"] + p["b2"], 1)
    dscores = (probs - y) / len(x)
    dh = dscores @ p["W2"].T * h * (1 - h)
    return {"W1": x.T @ dh, "b1": dh.sum(axis=0), "W2": h.T @ dscores, "b2": dscores.sum(axis=0)}


def nielsen(p, x, y):
    """Samples as columns, biases (n, 1), sigmoid-MSE, a list in layer order: Nielsen's network.py, batched."""
    m = x.shape[1]
    a1 = sigmoid(p["W1"] @ x + p["b1"])
    a2 = sigmoid(p["W2"] @ a1 + p["b2"])
    d2 = 2 / a2.shape[0] * (a2 - y) * a2 * (1 - a2) / m
    d1 = (p["W2"].T @ d2) * a1 * (1 - a1)
    return [d1 @ x.T, d1.sum(axis=1, keepdims=True), d2 @ a1.T, d2.sum(axis=1, keepdims=True)]


def ng(p, x, y):
    """Samples as columns, biases (n, 1), softmax-CE, keys dW1, db1, …: the deeplearning.ai helpers."""
    m = x.shape[1]
    a1 = sigmoid(p["W1"] @ x + p["b1"])
    a2 = softmax(p["W2"] @ a1 + p["b2"], 0)
    dz2 = a2 - y
    dz1 = (p["W2"].T @ dz2) * a1 * (1 - a1)
    return {
        "dW2": dz2 @ a1.T / m,
        "db2": np.sum(dz2, axis=1, keepdims=True) / m,
        "dW1": dz1 @ x.T / m,
        "db1": np.sum(dz1, axis=1, keepdims=True) / m,
    }


def columns_in_out(p, x, y):
    """Weights (in, out) and samples as columns, sigmoid-MSE, biases returned as (1, n)."""
    m = x.shape[1]
    a1 = sigmoid(p["W1"].T @ x + p["b1"])
    a2 = sigmoid(p["W2"].T @ a1 + p["b2"])
    d2 = 2 / a2.shape[0] * (a2 - y) * a2 * (1 - a2) / m
    d1 = (p["W2"] @ d2) * a1 * (1 - a1)
    return (x @ d1.T, d1.sum(axis=1)[None, :], a1 @ d2.T, d2.sum(axis=1)[None, :])


NAMES = {"dW1": "W1", "db1": "b1", "dW2": "W2", "db2": "b2"}


# ------------------------------------------------------------- layouts
@pytest.mark.parametrize(
    ("network", "user", "layout"),
    [
        (SOFTMAX_CE, with_output(True), {}),
        (SIGMOID_MSE, with_output(False), {}),
        (SQUARE, with_output(True), {}),
        (SOFTMAX_CE, cs231n, {"weights": "in_out"}),
        (SIGMOID_MSE, nielsen, {"samples": "columns"}),
        (SOFTMAX_CE, ng, {"samples": "columns", "names": NAMES}),
        (SIGMOID_MSE, columns_in_out, {"weights": "in_out", "samples": "columns"}),
    ],
    ids=["rows-ce", "rows-mse", "rows-square", "cs231n-in_out", "nielsen-columns-list", "ng-names", "in_out-columns"],
)
def test_correct_code_passes_in_its_own_layout(network, user, layout):
    assert_gradients(network, user, **layout)


def test_biases_returned_as_rows_or_columns_are_accepted():
    user = with_output(True)
    assert_gradients(
        SOFTMAX_CE, lambda p, x, y: {k: v[None, :] if k[0] == "b" else v for k, v in user(p, x, y).items()}
    )
    assert_gradients(
        SOFTMAX_CE, lambda p, x, y: {k: v[:, None] if k[0] == "b" else v for k, v in user(p, x, y).items()}
    )


def test_the_wrong_layout_fails_and_says_which_layout_it_assumed():
    with pytest.raises(AssertionError) as info:
        assert_gradients(SIGMOID_MSE, nielsen)  # columns code tested as rows
    text = str(info.value)
    assert "samples rows (x and y given as (m, n), biases as (n,))" in text
    assert "weights out_in (W1 given and returned as (4, 3), a row per neuron)" in text
    with pytest.raises(AssertionError) as info:
        assert_gradients(SOFTMAX_CE, ng, samples="columns")  # keys not mapped
    assert "your gradients have an array 'dW2' that the network does not have (names={'dW1': 'W1', …}" in str(
        info.value
    )


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"weights": "io"}, "weights: 'io' is not a layout; give 'out_in'"),
        ({"samples": "cols"}, "samples: 'cols' is not a layout; give 'rows'"),
        ({"names": {"dW1": "W9"}}, "names: 'dW1' maps to 'W9', which is not a parameter array (known: W1, b1, W2, b2)"),
        ({"names": {"dW1": "W1", "gW1": "W1"}}, "names: 'dW1' and 'gW1' both map to 'W1'"),
        ({"names": ["dW1"]}, "names: expected a dict from your keys to parameter names, got list"),
    ],
)
def test_bad_layout_options_are_one_line_derive_errors(options, message):
    with pytest.raises(derive.DeriveError) as info:
        assert_gradients(SOFTMAX_CE, cs231n, **options)
    assert message in str(info.value) and "\n" not in str(info.value)


# ------------------------------------------------------------- the report
def _failure(network, user, **options):
    with pytest.raises(AssertionError) as info:
        assert_gradients(network, user, **options)
    return str(info.value)


def test_the_table_walks_from_the_output_layer_back_and_the_first_difference_is_below_it():
    text = _failure(SOFTMAX_CE, lambda p, x, y: with_output(True)(p, x, y, "missing_sigma1"))
    lines = text.splitlines()
    assert lines[0].startswith("W1[1,1]: yours ") and "(seed 0, batch of 1; 12 of 12 elements of W1 differ" in lines[0]
    table = lines[lines.index("arrays, from the output layer back:") + 1 :][:4]
    assert table == [
        "  W2  matches (8 elements)",
        "  b2  matches (2 elements)",
        "  W1  differs in 12 of 12 elements; no constant ratio",
        "  b1  differs in 4 of 4 elements; no constant ratio",
    ]
    assert "  ∂J/∂W1[1,1] = (1/m) Σₛ δ⁽¹⁾[1] x[1]" in lines


EQUALS = "hint: yours equals the derived gradient "
ALL = "hint: W2, b2, W1, b1: yours is "
MISTAKES = {  # bug: (network, the hint, options)
    "missing_sigma1": (SOFTMAX_CE, EQUALS + "without σ′(z⁽¹⁾): the derivative of layer 1's activation is missing", {}),
    "missing_sigma1_mse": (SIGMOID_MSE, EQUALS + "without σ′(z⁽¹⁾)", {}),
    "summed": (
        SOFTMAX_CE,
        ALL + "m = 4 times the derived value: the sum over the batch instead of the mean?",
        {"batches": (4,)},
    ),
    "twice_divided": (
        SOFTMAX_CE,
        ALL + "1/m of the derived value (m = 4): divided by m once too often?",
        {"batches": (4,)},
    ),
    "double_layer1": (SOFTMAX_CE, "hint: W1, b1: yours is twice the derived value", {}),
    "half": (
        SIGMOID_MSE,
        ALL + "half the derived value: the 2 from differentiating a square (2(a − y)) missed, or a ½ added?",
        {},
    ),
    "sign": (SOFTMAX_CE, ALL + "the negative of ∂J/∂θ", {}),
    "output_width": (WIDE_MSE, ALL + "n = 3 times the derived value, the width of layer 2 (the outputs)", {}),
    "transposed": (SQUARE, EQUALS + "with W⁽²⁾ where its transpose belongs: δ⁽¹⁾ needs W⁽²⁾ᵀ δ⁽²⁾", {}),
    "wrong_layer": (SQUARE, EQUALS + "with σ′(z⁽²⁾) where σ′(z⁽¹⁾) belongs: the derivative of the wrong layer", {}),
    "a_minus_y": (SIGMOID_MSE, EQUALS + "with δ⁽²⁾ = a − y", {}),
    "missing_output_slope": (
        WIDE_MSE,
        EQUALS + "without σ′(z⁽²⁾): the derivative of layer 2's activation is missing",
        {},
    ),
    "extra_slope": (SOFTMAX_CE, EQUALS + "with an extra a⁽²⁾ ⊙ (1 − a⁽²⁾) in δ⁽²⁾: with this loss", {}),
    "summed_layer1": (
        SQUARE,
        EQUALS + "with layer 1's gradients summed over the batch instead of averaged",
        {"batches": (4,)},
    ),
    "sigmoid_prime_of_a": (SIGMOID_MSE, EQUALS + "with σ′(a⁽²⁾) where σ′(z⁽²⁾) belongs", {}),
}


@pytest.mark.parametrize("bug", MISTAKES)
def test_each_typical_mistake_gets_its_hint(bug):
    network, hint, options = MISTAKES[bug]
    user = with_output(network.loss == "cross_entropy")
    text = _failure(network, lambda p, x, y: user(p, x, y, bug.removesuffix("_mse")), **options)
    assert hint in text, text


def test_the_table_gives_the_ratio_of_each_array():
    text = _failure(SOFTMAX_CE, lambda p, x, y: with_output(True)(p, x, y, "double_layer1"))
    assert "  W2  matches (8 elements)" in text
    assert "  W1  differs in 12 of 12 elements; yours = 2 × derived" in text
    text = _failure(SOFTMAX_CE, lambda p, x, y: with_output(True)(p, x, y, "summed"), batches=(4,))
    assert "  W2  differs in 8 of 8 elements; yours = 4 × derived (m, n)" in text  # m = 4 and layer 1 is 4 wide
    assert "n = 4 times the derived value, the width of layer 1" in text


def test_a_square_weight_returned_transposed_is_named():
    def turned(p, x, y):
        g = with_output(True)(p, x, y)
        return dict(g, W2=g["W2"].T)

    text = _failure(SQUARE, turned)
    assert "  W2  differs in 12 of 16 elements; yours is the derived array transposed"  # not the diagonal in text
    assert "hint: W2: yours is the derived array transposed" in text


def test_mistakes_that_change_nothing_in_a_network_are_not_named():
    correct = with_output(True)
    params = {name: np.full(shape, 0.1) for name, shape in SOFTMAX_CE.shapes().items()}
    x, y = np.full((2, 3), 0.5), np.array([[0.3, 0.7], [0.6, 0.4]])
    d = derive.derive(SOFTMAX_CE)
    assert variants.recognised(d, params, x, y, correct(params, x, y)) == []


# ------------------------------------------------------------- the user's own errors
def test_an_exception_in_the_users_function_is_reported_with_seed_batch_and_shapes():
    def broken(p, x, y):
        raise KeyError("W0")

    with pytest.raises(AssertionError) as info:
        assert_gradients(SOFTMAX_CE, broken, seeds=(7,), batches=(5,))
    text = str(info.value)
    assert text.startswith("your gradients function raised KeyError: 'W0'\n")
    assert (
        "(seed 7, batch of 5; it was given params W1 (4, 3), b1 (4,), W2 (2, 4), b2 (2,), x (5, 3), y (5, 2))" in text
    )
    assert isinstance(info.value.__cause__, KeyError)


def test_a_forgotten_transpose_in_a_non_square_network_is_named():
    # cs231n's code takes W as (in, out): given derive's (out, in), its first product cannot be made.
    text = _failure(SOFTMAX_CE, cs231n)
    assert text.startswith("your gradients function raised ValueError: ")
    assert "with weights 'in_out' it runs: your code takes its arrays that way (transposed?)" in text
    # Columns code given rows: the samples are named, not the weights.
    text = _failure(SIGMOID_MSE, nielsen, batches=(5,))
    assert "with samples 'columns' it runs: your code takes its arrays that way\n" in text + "\n"
    # Right layout in, gradients returned the other way round: a shape mismatch, before any arithmetic.
    text = _failure(SOFTMAX_CE, lambda p, x, y: {k: v.T for k, v in cs231n(p, x, y).items()}, weights="in_out")
    assert text.startswith("W1: yours has shape (4, 3), expected (3, 4) with weights 'in_out'")
    assert "(transposed?)" in text.splitlines()[0]


def test_lists_must_hold_every_array():
    text = _failure(SIGMOID_MSE, lambda p, x, y: nielsen(p, x, y)[:3], samples="columns")
    assert (
        "your gradients function returned list of 3 arrays; a list or tuple must hold 4, in layer order: W1, b1, W2, b2"
        in text
    )


# ------------------------------------------------------------- the generated pytest file
MODULE = '''
import numpy as np


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def gradients(p, x, y):
    """Nielsen's layout with weights (in, out): samples as columns, biases (n, 1), keys dW1, db1, …"""
    m = x.shape[1]
    a1 = sigmoid(p["W1"].T @ x + p["b1"])
    a2 = sigmoid(p["W2"].T @ a1 + p["b2"])
    d2 = 2 / a2.shape[0] * (a2 - y) * a2 * (1 - a2) / m
    d1 = (p["W2"] @ d2) * a1 * (1 - a1)
    db1, db2 = d1.sum(axis=1, keepdims=True), d2.sum(axis=1, keepdims=True)
    return {"dW1": x @ d1.T, "db1": db1, "dW2": a1 @ d2.T, "db2": db2}


def halved(p, x, y):
    return {key: value / 2 for key, value in gradients(p, x, y).items()}
'''


def _spec(tmp_path):
    spec = tmp_path / "net.toml"
    spec.write_text(
        'name = "net"\ninputs = 3\nloss = "mse"\nbias = true\n'
        '[[layer]]\nunits = 4\nactivation = "sigmoid"\n[[layer]]\nunits = 2\nactivation = "sigmoid"\n',
        encoding="utf-8",
    )
    return spec


def test_generated_pytest_file_takes_the_layout_options(tmp_path):
    _spec(tmp_path)
    (tmp_path / "user_grads.py").write_text(MODULE, encoding="utf-8")
    options = ["--weights", "in_out", "--samples", "columns", "--names", "dW1=W1,db1=b1,dW2=W2,db2=b2"]
    for name in ("gradients", "halved"):
        run = run_cli(
            "codegen",
            "net.toml",
            "--pytest",
            "--function",
            f"user_grads:{name}",
            *options,
            "-o",
            f"test_{name}.py",
            cwd=tmp_path,
        )
        assert run.returncode == 0, run.stderr
    text = (tmp_path / "test_gradients.py").read_text(encoding="utf-8")
    assert "--weights in_out --samples columns --names dW1=W1,db1=b1,dW2=W2,db2=b2" in text
    assert 'params = {"W1": array (3, 4), "b1": array (4, 1), "W2": array (4, 2), "b2": array (2, 1)}' in text

    def pytest_run(name):
        return subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", f"test_{name}.py"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
        )

    good = pytest_run("gradients")
    assert good.returncode == 0 and "9 passed" in good.stdout, good.stdout + good.stderr
    bad = pytest_run("halved")
    assert bad.returncode == 1
    assert "layout assumed: weights in_out (W1 given and returned as (3, 4), a row per input)" in bad.stdout
    assert "  W2  differs in 8 of 8 elements; yours = ½ × derived" in bad.stdout
    assert "hint: W2, b2, W1, b1: yours is half the derived value" in bad.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--weights", "in_out"), "--weights is for --pytest"),
        (("--pytest", "--function", "m:f", "--weights", "io"), "--weights: 'io' is not a layout"),
        (("--pytest", "--function", "m:f", "--samples", "cols"), "--samples: 'cols' is not a layout"),
        (("--pytest", "--function", "m:f", "--names", "dW1"), "--names: 'dW1' is not of the form yourkey=W1"),
        (
            ("--pytest", "--function", "m:f", "--names", "dW1=W7"),
            "--names: 'dW1' maps to 'W7', which is not a parameter",
        ),
    ],
)
def test_codegen_layout_errors_are_one_line_and_exit_2(tmp_path, args, message):
    _spec(tmp_path)
    run = run_cli("codegen", "net.toml", *args, cwd=tmp_path)
    assert run.returncode == 2
    assert run.stderr.count("\n") == 1 and message in run.stderr, run.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.toml"]


def test_the_article_demo_still_reports_the_missing_derivative():
    sys.path.insert(0, str(ROOT / "examples" / "article004"))
    try:
        import backprop
    finally:
        sys.path.remove(str(ROOT / "examples" / "article004"))
    with pytest.raises(
        AssertionError, match=re.escape("without σ′(z⁽¹⁾): the derivative of layer 1's activation is missing")
    ):
        assert_gradients(ROOT / "examples" / "seed004.toml", backprop.gradients_with_a_mistake)


def test_the_mistakes_tried_are_bounded_by_a_budget():
    d = derive.derive(SQUARE)
    params = {name: np.full(shape, 0.1) for name, shape in SQUARE.shapes().items()}
    x, y = np.full((2, 3), 0.5), np.array([[0.3, 0.7], [0.6, 0.4]])
    wrong = {name: value + 1 for name, value in with_output(True)(params, x, y).items()}
    assert variants.recognised(d, params, x, y, wrong) == []
    assert variants.recognised(d, params, x, y, wrong, budget=1) == [
        "hint: not every typical mistake was tried (the network is large)"
    ]


def test_an_array_that_is_not_numbers_is_named():
    text = _failure(SOFTMAX_CE, lambda p, x, y: dict(with_output(True)(p, x, y), b2=[[1.0, 2.0], [3.0]]))
    assert text.startswith("b2: yours is not an array of numbers (list: ")


def test_arrays_that_cannot_be_read_are_reported_with_the_layout():
    for user in (lambda p, x, y: [], lambda p, x, y: {"dW9": 0}, lambda p, x, y: {"W1": np.zeros((3, 4))}):
        lines = _failure(SOFTMAX_CE, user, weights="in_out").splitlines()
        assert len(lines) == 2 and lines[1].startswith(
            "layout assumed: weights in_out (W1 given and returned as (3, 4)"
        )


def test_a_mistake_is_recognised_on_top_of_terms_the_pass_does_not_build():
    # A penalty 0.01 W on every weight (as an L2 term gives) is in the derived gradients and in yours alike.
    d = derive.derive(SOFTMAX_CE)
    rng = np.random.default_rng(3)
    params = {name: rng.uniform(-1, 1, shape) for name, shape in SOFTMAX_CE.shapes().items()}
    x, y = rng.uniform(-1, 1, (4, 3)), rng.dirichlet(np.ones(2), 4)
    penalty = {name: 0.01 * value if name[0] == "W" else 0 * value for name, value in params.items()}
    derived = {name: value + penalty[name] for name, value in with_output(True)(params, x, y).items()}
    yours = {name: value + penalty[name] for name, value in rows(params, x, y, "missing_sigma1").items()}
    assert variants.recognised(d, params, x, y, yours, derived=derived) == [
        "hint: yours equals the derived gradient without σ′(z⁽¹⁾): the derivative of layer 1's activation is missing"
    ]
    assert variants.recognised(d, params, x, y, yours) == []
