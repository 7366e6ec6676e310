"""Statements people verify that are not one gradient (issue 16, point 4): identities about an activation and the
batch cost, through the command line on the example specs.

An identity σ'(z) = … is compared over the real line (exit 0 right, exit 1 wrong with the value of z and both
sides' values, recomputed here with the math module); the batch cost J = (1/m) Σ_s C^{(s)} (+ the L2 penalty) is
compared with the derivation's objective (exit 1 for a sum where the mean belongs, naming it).
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest
from inprocess import Ran, run_cli

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def run(spec_name: str, formula: str, *more: str) -> Ran:
    path = spec_name if spec_name.endswith(".toml") else str(EXAMPLES / f"{spec_name}.toml")
    return run_cli("verify", path, formula, *more, cwd=ROOT)


def sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-z))


# ------------------------------------------------------------------ identities about an activation
# (spec, identity, the function read, the layers of the network using it: "" for the registry's)
RIGHT_IDENTITIES = [
    ("seed001", r"\sigma'(z) = \sigma(z)(1-\sigma(z))", "sigmoid", "layers 1, 2"),
    ("seed001", r"\sigma'(z) = a(1 - a)", "sigmoid", "layers 1, 2"),
    ("seed001", "a' = a(1-a)", "sigmoid", "layers 1, 2"),
    ("seed001", r"\tanh'(z) = 1 - \tanh^2(z)", "tanh", ""),
    ("seed001", r"\tanh'(x) = 1 - \tanh(x)^2", "tanh", ""),
    ("seed003", r"\mathrm{ReLU}'(z) = [z > 0]", "relu", "layer 1"),
    ("seed003", r"\operatorname{ReLU}'(z) = \mathbb{1}(z>0)", "relu", "layer 1"),
    ("seed003", "a' = [z > 0]", "relu", "layer 1"),
    ("seed003", r"\operatorname{softplus}'(z) = \sigma(z)", "softplus", ""),
    ("seed003", r"\operatorname{softplus}'(z) = \frac{1}{1 + e^{-z}}", "softplus", ""),
    ("seed004", r"\hat y' = \hat y(1 - \hat y)", "sigmoid", "layer 2"),
    ("seed004", r"f'(z) = f(z)(1 - f(z))", "sigmoid", "layers 1, 2"),
    ("seed001", r"\sigma'(z) = a(1-a) = \sigma(z) - \sigma(z)^2", "sigmoid", "layers 1, 2"),
]


@pytest.mark.parametrize(("spec_name", "formula", "function", "layers"), RIGHT_IDENTITIES)
def test_right_identity(spec_name: str, formula: str, function: str, layers: str) -> None:
    ran = run(spec_name, formula)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert ran.stdout.startswith("right: ")
    assert "an identity in" in ran.stdout
    assert f"the function is {function}" in ran.stdout
    if layers:
        assert f"the activation of {layers}" in ran.stdout
    else:
        assert "read from derive's registry of activations (this network does not use it)" in ran.stdout
    assert "notation: weights" not in ran.stdout  # an identity is about no weight


COUNTER = re.compile(r"counterexample at (\w) = (\S+): the right side gives (\S+), the left side is (\S+)")

# (spec, wrong identity, the left side and the right side as functions of z, recomputed here)
WRONG_IDENTITIES = [
    (
        "seed001",
        r"\sigma'(z) = \sigma(z)(1+\sigma(z))",
        lambda z: sigmoid(z) * (1 - sigmoid(z)),
        lambda z: sigmoid(z) * (1 + sigmoid(z)),
    ),
    ("seed001", "a' = 1 - a^2", lambda z: sigmoid(z) * (1 - sigmoid(z)), lambda z: 1 - sigmoid(z) ** 2),
    ("seed001", r"\tanh'(z) = 1 + \tanh^2(z)", lambda z: 1 - math.tanh(z) ** 2, lambda z: 1 + math.tanh(z) ** 2),
    ("seed003", r"\mathrm{ReLU}'(z) = z", lambda z: float(z > 0), lambda z: z),
    ("seed003", r"\operatorname{softplus}'(z) = \sigma(-z)", sigmoid, lambda z: sigmoid(-z)),
]


@pytest.mark.parametrize(("spec_name", "formula", "left", "right"), WRONG_IDENTITIES)
def test_wrong_identity_counterexample(spec_name: str, formula: str, left, right) -> None:
    ran = run(spec_name, formula)
    assert ran.returncode == 1, ran.stdout + ran.stderr
    assert ran.stdout.startswith("wrong: ")
    found = COUNTER.search(ran.stdout)
    assert found is not None, ran.stdout
    z = float(found[2])
    assert float(found[3]) == pytest.approx(right(z), rel=1e-5)
    assert float(found[4]) == pytest.approx(left(z), rel=1e-5)
    assert abs(left(z) - right(z)) > 1e-3


def test_wrong_identity_correct_form_and_chinese() -> None:
    formula = r"\sigma'(z) = \sigma(z)(1+\sigma(z))"
    en = run("seed001", formula)
    assert r"correct: \sigma'(z) = \sigma(z) (1 - \sigma(z))" in en.stdout
    zh = run("seed001", formula, "--lang", "zh")
    assert zh.returncode == 1
    assert zh.stdout.startswith("错误：")
    assert "反例：z = " in zh.stdout and "右边为" in zh.stdout and "左边为" in zh.stdout
    assert "函数为 sigmoid，即第 1、2 层的激活函数" in zh.stdout
    right = run("seed001", r"\tanh'(z) = 1 - \tanh^2(z)", "--lang", "zh")
    assert right.returncode == 0
    assert "关于 z 的恒等式" in right.stdout
    assert "取自 derive 的激活函数登记表（本网络未使用它）" in right.stdout


def test_identity_same_answer_every_run() -> None:
    formula = r"\sigma'(z) = \sigma(z)(1+\sigma(z))"
    assert run("seed001", formula).stdout == run("seed001", formula).stdout


@pytest.mark.parametrize(
    ("spec_name", "formula", "says"),
    [
        ("seed001", "h' = 1 - h^2", "read as an identity only of the activation's output, a in this notation"),
        ("mixed", "a' = 1", "the network's layers use sigmoid, tanh; name the function"),
        ("seed001", r"\sigma'(z) = \sigma(w)", "w is not the identity's variable z or its output a"),
        ("seed001", r"\sigma''(z) = \sigma(z)", ""),
    ],
)
def test_identity_not_understood(spec_name: str, formula: str, says: str, tmp_path: Path) -> None:
    if spec_name == "mixed":  # a tanh hidden layer, a sigmoid output: a' names neither
        text = (EXAMPLES / "seed001.toml").read_text().replace('activation = "sigmoid"', 'activation = "tanh"', 1)
        spec_name = str(tmp_path / "mixed.toml")
        Path(spec_name).write_text(text)
    ran = run(spec_name, formula)
    assert ran.returncode == 2, ran.stdout + ran.stderr
    assert ran.stderr.count("\n") == 1
    assert says in ran.stderr
