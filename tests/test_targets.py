"""A spec's ``targets``: one-hot rows or integer class labels, in the spec, the code, the tests and the documents.

Reference numbers come from a backprop written here (sigmoid hidden layer, softmax output, cross-entropy),
independent of derive's engine and generated code.
"""

from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from inprocess import run_cli

import derive
from derive import Layer, Network
from derive.errors import DeriveError, SpecError
from derive.model import samples
from derive.model.spec import loads
from derive.testing import assert_gradients

SPEC = """
name = "classes"
inputs = 3
loss = "cross_entropy"
{targets}
[[layer]]
units = 4
activation = "sigmoid"
[[layer]]
units = 3
activation = "softmax"
{example}
"""
EXAMPLE = """
[example]
x = [0.5, -0.25, 1.0]
y = {y}
W1 = [[0.1, 0.2, -0.1], [0.0, 0.3, 0.2], [-0.2, 0.1, 0.0], [0.4, -0.3, 0.1]]
b1 = [0.1, -0.1, 0.0, 0.2]
W2 = [[0.2, -0.1, 0.3, 0.0], [0.1, 0.1, -0.2, 0.3], [-0.3, 0.2, 0.1, 0.1]]
b2 = [0.0, 0.1, -0.1]
"""


def net(targets: str | None) -> Network:
    return Network(3, (Layer(4, "sigmoid"), Layer(3, "softmax")), "cross_entropy", targets=targets)


def spec(tmp_path: Path, targets: str | None, y: str | None = None) -> Path:
    path = tmp_path / "classes.toml"
    lines = f'targets = "{targets}"' if targets else ""
    path.write_text(SPEC.format(targets=lines, example=EXAMPLE.format(y=y) if y else ""), encoding="utf-8")
    return path


def problem(seed: int, m: int):
    rng = np.random.default_rng(seed)
    params = {
        "W1": rng.normal(size=(4, 3)),
        "b1": rng.normal(size=4),
        "W2": rng.normal(size=(3, 4)),
        "b2": rng.normal(size=3),
    }
    return params, rng.normal(size=(m, 3)), rng.integers(0, 3, m)


def reference(params, x, labels):
    """Mean cross-entropy and its gradients, by hand: δ² = (softmax − one-hot)/m."""
    m = x.shape[0]
    a1 = 1 / (1 + np.exp(-(x @ params["W1"].T + params["b1"])))
    z2 = a1 @ params["W2"].T + params["b2"]
    p = np.exp(z2 - z2.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    loss = -np.mean(np.log(p[np.arange(m), labels]))
    d2 = p.copy()
    d2[np.arange(m), labels] -= 1
    d2 /= m
    d1 = (d2 @ params["W2"]) * a1 * (1 - a1)
    return loss, {"W1": d1.T @ x, "b1": d1.sum(0), "W2": d2.T @ a1, "b2": d2.sum(0)}


def labels_code(params, x, y):
    return reference(params, x, y)[1]


# ------------------------------------------------------------------ the spec
def test_the_spec_declares_the_targets_and_the_loss_gives_the_default() -> None:
    assert loads(SPEC.format(targets="", example="")).target_kind.name == "distribution"
    for kind in ("distribution", "one_hot", "labels"):
        assert loads(SPEC.format(targets=f'targets = "{kind}"', example="")).target_kind.name == kind
    squared = Network(2, (Layer(3, "sigmoid"),), "squared_error")
    assert squared.target_kind.name == "real"


@pytest.mark.parametrize(
    ("targets", "message"),
    [
        ('"classes"', "targets: unknown kind 'classes' (known: real, unit, distribution, one_hot, labels)"),
        ('"real"', "targets: cross_entropy is derived for distribution targets, so real does not fit it"),
        ("3", "targets: must be a string, got 3"),
    ],
)
def test_a_bad_targets_key_is_one_line_and_exit_2(tmp_path: Path, targets: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(SPEC.format(targets=f"targets = {targets}", example=""), encoding="utf-8")
    ran = run_cli("check", str(path))
    assert ran.returncode == 2 and message in ran.stderr and len(ran.stderr.strip().splitlines()) == 1


def test_one_hot_needs_classes() -> None:
    with pytest.raises(SpecError, match="targets: one_hot needs at least 2 outputs"):
        Network(2, (Layer(1, "sigmoid"),), "binary_cross_entropy", targets="one_hot")


def test_an_example_target_is_a_label_or_a_one_hot_row(tmp_path: Path) -> None:
    assert loads(spec(tmp_path, "labels", "2").read_text()).example.y.tolist() == [0.0, 0.0, 1.0]
    assert loads(spec(tmp_path, "one_hot", "[0, 1, 0]").read_text()).example.y.tolist() == [0.0, 1.0, 0.0]
    with pytest.raises(SpecError, match='example.y: with targets = "labels" must be a class label 0 to 2, got 3'):
        loads(spec(tmp_path, "labels", "3").read_text())
    with pytest.raises(SpecError, match="example.y: targets = 'one_hot' declares one-hot targets"):
        loads(spec(tmp_path, "one_hot", "[0.5, 0.5, 0]").read_text())


# ------------------------------------------------------------------ samples
def test_check_samples_are_one_hot_rows_of_seeded_classes() -> None:
    for kind in ("one_hot", "labels"):
        _, _, y = samples.random_batch(net(kind), np.random.default_rng(4), 50)
        assert y.shape == (50, 3) and set(np.unique(y)) == {0.0, 1.0} and np.all(y.sum(1) == 1)
        assert len(set(y.argmax(1).tolist())) == 3  # every class drawn
    rng = np.random.default_rng(4)
    rng.uniform(size=sum(int(np.prod(s)) for s in net(None).shapes().values()))
    _, _, y = samples.random_batch(net(None), np.random.default_rng(4), 5)
    assert not np.all((y == 0) | (y == 1)) and np.allclose(y.sum(1), 1)  # a distribution, as before


def test_a_label_is_accepted_for_one_sample() -> None:
    d = derive.derive(net("labels"))
    params, x, labels = problem(1, 1)
    _, want = reference(params, x, labels)
    assert d.evaluate("W2[3,2]", params, x[0], int(labels[0])) == pytest.approx(want["W2"][2, 1], rel=1e-12)
    with pytest.raises(DeriveError, match="y: a class label from 0 to 2 was expected, got 7"):
        d.evaluate("W2[3,2]", params, x[0], 7)


# ------------------------------------------------------------------ generated code
@pytest.mark.parametrize("m", [1, 5, 16])
def test_generated_code_takes_labels(m: int) -> None:
    fn = derive.derive(net("labels")).lambdify()
    params, x, labels = problem(m, m)
    loss, want = reference(params, x, labels)
    got = fn.gradients(params, x, labels)
    for name in want:
        np.testing.assert_allclose(got[name], want[name], rtol=1e-12, atol=1e-14)
    assert fn.loss(params, x, labels) == pytest.approx(loss, rel=1e-12)
    one = fn.gradients(params, x[0], int(labels[0]))
    np.testing.assert_allclose(one["b2"], reference(params, x[:1], labels[:1])[1]["b2"], rtol=1e-12)


@pytest.mark.parametrize(
    ("y", "message"),
    [
        (np.array([0, 3, 1, 1]), r"y: class labels must be 0 to 2, got 0 to 3"),
        (np.array([0, -1, 1, 1]), r"y: class labels must be 0 to 2, got -1 to 1"),
        (np.array([0.5, 1, 1, 1]), r"y: class labels must be whole numbers, got dtype float64"),
        (np.eye(3)[[0, 1, 2, 0]], r"y: has shape \(4, 3\), expected class labels of shape \(4,\)"),
    ],
)
def test_generated_code_names_bad_labels(y: np.ndarray, message: str) -> None:
    fn = derive.derive(net("labels")).lambdify()
    params, x, _ = problem(0, 4)
    with pytest.raises(ValueError, match=message):
        fn.gradients(params, x, y)


def test_one_hot_targets_give_the_plain_output_delta() -> None:
    """Σₖ yₖ = 1 holds exactly for one-hot rows, so δ⁽ᴸ⁾ = (a − y)/m with no sum; distributions keep the sum."""
    one_hot = derive.derive(net("one_hot")).lambdify()
    assert "D2 = A2 - Y\n    D2 /= m" in one_hot.source and "_softmax_ce_delta" not in one_hot.source
    assert "D2 = _softmax_ce_delta(A2, Y)\n    D2 /= m" in derive.derive(net(None)).lambdify().source
    params, x, labels = problem(3, 6)
    want = reference(params, x, labels)[1]
    got = one_hot.gradients(params, x, np.eye(3)[labels])
    for name in want:
        np.testing.assert_allclose(got[name], want[name], rtol=1e-12, atol=1e-14)


def test_lambdify_takes_the_targets_keyword() -> None:
    d = derive.derive(net(None))
    params, x, labels = problem(2, 4)
    got = d.lambdify(targets="labels").gradients(params, x, labels)
    np.testing.assert_allclose(got["W1"], reference(params, x, labels)[1]["W1"], rtol=1e-12)
    assert d.lambdify() is d.lambdify()  # the spec's own stays cached


# ------------------------------------------------------------------ testing user code
def test_assert_gradients_hands_labels_to_code_that_takes_labels() -> None:
    assert_gradients(net("labels"), labels_code)
    assert_gradients(net(None), labels_code, targets="labels")

    def not_averaged(params, x, y):
        return {k: v * x.shape[0] for k, v in labels_code(params, x, y).items()}

    with pytest.raises(AssertionError, match="seed 0, batch of 4"):  # a batch of 1 cannot tell a sum from a mean
        assert_gradients(net("labels"), not_averaged)


def test_the_pytest_file_draws_labels(tmp_path: Path) -> None:
    path = spec(tmp_path, None)
    ran = run_cli(
        "codegen",
        str(path),
        "--pytest",
        "--function",
        "mine:grads",
        "--targets",
        "labels",
        "-o",
        str(tmp_path / "test_mine.py"),
    )
    assert ran.returncode == 0, ran.stderr
    text = (tmp_path / "test_mine.py").read_text(encoding="utf-8")
    assert "class labels\n(integers 0 to 2, shape (m,))" in text and "TARGETS = 'labels'" in text
    good = (
        "import numpy as np\n\n"
        + _source(reference)
        + "\n\ndef grads(params, x, y):\n    return reference(params, x, y)[1]\n"
    )
    ok = _pytest_with(tmp_path, good)
    assert ok.returncode == 0 and "9 passed" in ok.stdout, ok.stdout
    bad = _pytest_with(tmp_path, good.replace("d2 /= m", "d2 /= 1"))
    assert bad.returncode == 1 and "6 failed, 3 passed" in bad.stdout, bad.stdout
    wrong = run_cli("codegen", str(path), "--pytest", "--function", "mine:grads", "--targets", "real")
    assert wrong.returncode == 2 and "targets: cross_entropy is derived for distribution targets" in wrong.stderr


def _pytest_with(folder: Path, mine: str) -> subprocess.CompletedProcess:
    """The generated test_mine.py run under pytest against ``mine`` as mine.py."""
    (folder / "mine.py").write_text(mine, encoding="utf-8")
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_mine.py"]
    return subprocess.run(command, cwd=folder, capture_output=True, text=True)


def _source(fn) -> str:
    return inspect.getsource(fn)


# ------------------------------------------------------------------ check and documents
def test_check_passes_on_labels(tmp_path: Path) -> None:
    ran = run_cli("check", str(spec(tmp_path, "labels", "1")), "--quiet", "--no-torch")
    assert ran.returncode == 0, ran.stdout + ran.stderr


def test_documents_say_the_targets_are_one_hot_labels(tmp_path: Path) -> None:
    ran = run_cli(
        "render", str(spec(tmp_path, "labels")), "-o", str(tmp_path / "out"), "--lang", "en,zh", "--format", "md"
    )
    assert ran.returncode == 0, ran.stderr
    en = (tmp_path / "out" / "classes.md").read_text(encoding="utf-8")
    zh = (tmp_path / "out" / "classes.zh.md").read_text(encoding="utf-8")
    assert "Every target here is one-hot" in en and "Code takes the targets as class labels" in en
    assert "独热向量" in zh and "类别标签" in zh
    ran = run_cli("render", str(spec(tmp_path, None)), "-o", str(tmp_path / "plain"), "--format", "md")
    assert "one-hot" not in (tmp_path / "plain" / "classes.md").read_text(encoding="utf-8")
