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

from derive.model import spec
from derive.verify.verdict import verify

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def run(spec_name: str, formula: str, *more: str) -> Ran:
    path = spec_name if spec_name.startswith("/") else str(EXAMPLES / spec_name)
    path = path if path.endswith(".toml") else f"{path}.toml"
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


# ------------------------------------------------------------------ the batch cost and its gradient
BATCH_LINE = re.compile(
    r"counterexample for a batch of m = (\d+): the formula gives (\S+), the objective is (\S+), at\n(.*)"
)
CS231N = "testing/cs231n_style.toml"  # [regularization] l2 = 0.05, form = "plain": R = λ Σ θ², ∂R/∂θ = 2λθ


def batch_values(out: str) -> tuple[int, float, float, dict[str, float]]:
    """The counterexample's batch size, the formula's value, the objective's and the numbers it lists."""
    found = BATCH_LINE.search(out)
    assert found is not None, out
    pairs = dict(item.split(" = ") for item in found[4].strip().split(", "))
    return int(found[1]), float(found[2]), float(found[3]), {k: float(v) for k, v in pairs.items()}


RIGHT_BATCH = [  # (spec, statement, cost or gradient, whether the spec's penalty has a part in it)
    ("seed003", r"J = \frac{1}{m}\sum_{s} C^{(s)}", "cost", False),
    ("seed003", r"J = \frac{1}{m}\sum_{s=1}^{m} C^{(s)}", "cost", False),
    ("seed001", r"C = \frac{1}{n}\sum_x C_x", "cost", False),  # Nielsen's
    ("seed004", r"E = \frac{1}{N}\sum_n E_n", "cost", False),  # Bishop's
    (
        "seed001",
        r"\frac{\partial J}{\partial W} = \frac{1}{m}\sum_i \frac{\partial L_i}{\partial W}",
        "gradient",
        False,
    ),
    (CS231N, r"J = \frac{1}{m}\sum_s C^{(s)} + \lambda\sum_l \lVert W^{(l)} \rVert^2", "cost", True),
    (CS231N, r"J = \frac{1}{m}\sum_s C^{(s)} + \lambda \|W\|_F^2", "cost", True),
    (
        CS231N,
        r"\frac{\partial J}{\partial W} = \frac{1}{m}\sum_i \frac{\partial L_i}{\partial W} + 2\lambda W",
        "gradient",
        True,
    ),
    # the biases are not regularised in this spec, nor is z a parameter: no penalty term
    (CS231N, r"\frac{\partial J}{\partial b} = \frac{1}{m}\sum_i \frac{\partial L_i}{\partial b}", "gradient", False),
    (
        CS231N,
        r"\frac{\partial J}{\partial z^{(1)}} = \frac{1}{m}\sum_i \frac{\partial L_i}{\partial z^{(1)}}",
        "gradient",
        False,
    ),
]


@pytest.mark.parametrize(("spec_name", "formula", "what", "penalty"), RIGHT_BATCH)
def test_right_batch_statement(spec_name: str, formula: str, what: str, penalty: bool) -> None:
    ran = run(spec_name, formula)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert f"the batch {what}: equal to derive's objective, the mean over the batch" in ran.stdout
    assert ("plus the spec's L2 penalty" in ran.stdout) == penalty


def test_unregularised_bias_gets_no_penalty_term() -> None:
    ran = run(CS231N, r"\frac{\partial J}{\partial b} = \frac{1}{m}\sum_i \frac{\partial L_i}{\partial b} + 2\lambda b")
    assert ran.returncode == 1
    m, given, objective, numbers = batch_values(ran.stdout)
    mean = sum(numbers[f"g^({s})"] for s in range(1, m + 1)) / m
    assert objective == pytest.approx(mean, rel=1e-5)
    assert "why: the formula has an L2 penalty term (λ), but the spec's penalty does not reach" in ran.stdout


def test_sum_and_missing_penalty_both_named() -> None:
    ran = run(CS231N, r"J = \sum_s C^{(s)}")
    assert ran.returncode == 1
    assert "why: a sum where the mean belongs" in ran.stdout
    assert "why: the spec's L2 penalty is missing" in ran.stdout
    with_penalty = run(CS231N, r"J = \sum_s C^{(s)} + \lambda\sum_l \lVert W^{(l)} \rVert^2")
    assert "why: a sum where the mean belongs" in with_penalty.stdout
    assert "penalty" not in with_penalty.stdout.split("why:", 1)[1]  # the penalty is right


def test_sum_instead_of_mean() -> None:
    ran = run("seed003", r"J = \sum_s C^{(s)}")
    assert ran.returncode == 1
    assert "why: a sum where the mean belongs: J is the mean of the per-example costs" in ran.stdout
    m, given, objective, numbers = batch_values(ran.stdout)
    costs = [numbers[f"C^({s})"] for s in range(1, m + 1)]
    assert numbers["m"] == m and len(numbers) == m + 1  # no λ: the spec has no penalty
    assert given == pytest.approx(sum(costs), rel=1e-5)
    assert objective == pytest.approx(sum(costs) / m, rel=1e-5)
    assert r"correct: J = \frac{1}{m} \sum_{s=1}^{m} C^{(s)}" in ran.stdout
    zh = run("seed003", r"J = \sum_s C^{(s)}", "--lang", "zh")
    assert "原因：该取平均的地方用了求和" in zh.stdout and "反例（批量大小 m = 3）" in zh.stdout


def test_gradient_sum_instead_of_mean() -> None:
    ran = run("seed001", r"\frac{\partial J}{\partial W} = \sum_i \frac{\partial L_i}{\partial W}")
    assert ran.returncode == 1
    assert "the gradient of J is the mean of the per-example gradients" in ran.stdout
    m, given, objective, numbers = batch_values(ran.stdout)
    grads = [numbers[f"g^({s})"] for s in range(1, m + 1)]
    assert given == pytest.approx(sum(grads), rel=1e-5)
    assert objective == pytest.approx(sum(grads) / m, rel=1e-5)


def test_a_fixed_size_is_not_the_mean() -> None:
    """1/3 is 1/m for a batch of 3 only: the second batch, of 5, tells them apart."""
    ran = run("seed001", r"C = \frac{1}{3}\sum_x C_x")
    assert ran.returncode == 1
    m, given, objective, numbers = batch_values(ran.stdout)
    costs = [numbers[f"C^({s})"] for s in range(1, m + 1)]
    assert m == 5
    assert given == pytest.approx(sum(costs) / 3, rel=1e-5)
    assert objective == pytest.approx(sum(costs) / 5, rel=1e-5)


@pytest.mark.parametrize(
    ("formula", "why", "scale"),
    [
        (  # the textbook's λ/2 where cs231n's plain form has λ
            r"J = \frac{1}{m}\sum_s C^{(s)} + \frac{\lambda}{2}\sum_l \lVert W^{(l)} \rVert^2",
            "the penalty's factor is not the spec's: the form plain gives λ Σ θ²",
            0.5,
        ),
        (r"J = \frac{1}{m}\sum_s C^{(s)}", "the spec's L2 penalty is missing: the form plain gives λ Σ θ²", 0.0),
    ],
)
def test_penalty_against_the_spec(formula: str, why: str, scale: float) -> None:
    ran = run(CS231N, formula)
    assert ran.returncode == 1, ran.stdout + ran.stderr
    assert f"why: {why}" in ran.stdout
    m, given, objective, numbers = batch_values(ran.stdout)
    mean = sum(numbers[f"C^({s})"] for s in range(1, m + 1)) / m
    squares = sum(v for k, v in numbers.items() if k.startswith("‖W"))
    assert objective == pytest.approx(mean + numbers["λ"] * squares, rel=1e-5)
    assert given == pytest.approx(mean + scale * numbers["λ"] * squares, rel=1e-5)


def test_penalty_gradient_against_the_spec() -> None:
    ran = run(CS231N, r"\frac{\partial J}{\partial W} = \frac{1}{m}\sum_i \frac{\partial L_i}{\partial W} + \lambda W")
    assert ran.returncode == 1
    assert "why: the penalty's term is not the spec's: the form plain gives 2λ θ" in ran.stdout
    m, given, objective, numbers = batch_values(ran.stdout)
    mean = sum(numbers[f"g^({s})"] for s in range(1, m + 1)) / m
    assert objective == pytest.approx(mean + 2 * numbers["λ"] * numbers["θ"], rel=1e-5)
    assert given == pytest.approx(mean + numbers["λ"] * numbers["θ"], rel=1e-5)


def test_penalty_without_regularization() -> None:
    ran = run("seed003", r"J = \frac{1}{m}\sum_s C^{(s)} + \frac{\lambda}{2}\sum \lVert W \rVert^2")
    assert ran.returncode == 1
    assert "but the spec declares no [regularization]" in ran.stdout


@pytest.mark.parametrize(
    ("formula", "says"),
    [
        (r"J = \frac{1}{m}\sum_s C^{(s)} + x", "x is not the batch size m, λ or what the left side differentiates by"),
        (r"J = \frac{1}{m}\sum_{s=2}^{m} C^{(s)}", "a sum over the samples runs from 1 to m"),
        (r"\frac{\partial J}{\partial W} = \frac{1}{m}\sum_i \frac{\partial L_i}{\partial b}", "per-example gradients"),
        (r"J = \frac{1}{m}\sum_s C^{(s)} + \lambda \lVert W", "a norm ‖ needs its closing ‖"),
    ],
)
def test_batch_not_understood(formula: str, says: str) -> None:
    ran = run(CS231N, formula)
    assert ran.returncode == 2, ran.stdout + ran.stderr
    assert says in ran.stderr


# ------------------------------------------------------------------ Goodfellow's running gradient
def test_running_gradient_names_the_equation_to_verify() -> None:
    """g ← g ⊙ f'(a^{(k)}) cannot be checked on its own (what g holds is the algorithm's state): not understood,
    naming the equation it states, which verifies right in derive's letters."""
    ran = run("seed003", r"g \leftarrow g \odot f'(a^{(k)})")
    assert ran.returncode == 2
    assert "updates g in place: a running gradient" in ran.stderr
    stated = re.search(r"such as (.*)$", ran.stderr.strip())
    assert stated is not None
    for spec_name in ("seed001", "seed003"):
        assert run(spec_name, stated[1]).returncode == 0


# ------------------------------------------------------------------ in a formula list, with a parameter, in Python
def test_nielsen_sum_names_his_letter() -> None:
    ran = run("seed001", r"C = \sum_x C_x")
    assert ran.returncode == 1
    assert "why: a sum where the mean belongs: C is the mean of the per-example costs" in ran.stdout


def test_statements_in_a_formula_list(tmp_path: Path) -> None:
    listing = tmp_path / "statements.md"
    listing.write_text(
        "$$\\sigma'(z) = \\sigma(z)(1-\\sigma(z))$$\n\n$$\\sigma'(z) = \\sigma(z)(1+\\sigma(z))$$\n\n"
        "$$C = \\frac{1}{n}\\sum_x C_x$$\n\n$$C = \\sum_x C_x$$\n"
    )
    ran = run_cli("verify", str(EXAMPLES / "seed001.toml"), "--file", str(listing), cwd=ROOT)
    assert ran.returncode == 1
    assert "2 passed, 2 failed" in ran.stdout
    assert "why: a sum where the mean belongs" in ran.stdout


def test_a_statement_takes_no_parameter() -> None:
    ran = run_cli("verify", str(EXAMPLES / "seed001.toml"), "W1", r"\sigma'(z) = \sigma(z)(1-\sigma(z))", cwd=ROOT)
    assert ran.returncode == 2
    assert "parameter: an identity is about no parameter of the network" in ran.stderr


def test_python_api() -> None:
    net = spec.load(EXAMPLES / "seed001.toml")
    wrong = verify(net, None, r"\sigma'(z) = \sigma(z)(1+\sigma(z))")
    assert not wrong and wrong.counterexample is not None
    z = wrong.counterexample.inputs["z"]
    assert wrong.counterexample.given == pytest.approx(sigmoid(z) * (1 + sigmoid(z)))
    assert wrong.counterexample.correct == pytest.approx(sigmoid(z) * (1 - sigmoid(z)))
    summed = verify(net, None, r"C = \sum_x C_x")
    assert summed.codes == ("batch_sum", "convention")  # right with batch = "sum" (issue 16)


def test_identity_with_the_layers_option() -> None:
    """examples/elu.toml's ELU has α = 0.5: its derivative below 0 is α e^z, so the α = 1 form is wrong there."""
    right = run("elu", r"\mathrm{ELU}'(z) = [z > 0] + \frac{1}{2}(1 - [z > 0]) e^{z}")
    assert right.returncode == 0, right.stdout + right.stderr
    assert "the function is elu with alpha = 0.5, the activation of layer 1" in right.stdout
    wrong = run("elu", r"\mathrm{ELU}'(z) = [z > 0] + (1 - [z > 0]) e^{z}")
    assert wrong.returncode == 1
    found = COUNTER.search(wrong.stdout)
    assert found is not None
    z = float(found[2])
    assert z < 0
    assert float(found[3]) == pytest.approx(math.exp(z), rel=1e-5)
    assert float(found[4]) == pytest.approx(0.5 * math.exp(z), rel=1e-5)
    assert "函数为 elu（alpha = 0.5）" in run("elu", r"\mathrm{ELU}'(z) = 1", "--lang", "zh").stdout
    silu = run("silu", r"\mathrm{SiLU}'(z) = \sigma(z)(1 + z(1-\sigma(z)))")
    assert silu.returncode == 0, silu.stdout + silu.stderr


@pytest.mark.parametrize(
    ("spec_name", "formula", "code", "says"),
    [
        ("seed001", r"\sigma'(z) = \frac{1}{0}", 2, "the right side has no value for any z tried"),
        ("seed001", r"\sigma'(z) = \log(-1 - z^2)", 2, "the right side has no value for any z tried"),
        ("seed003", r"J = \frac{1}{m}\sum_s C^{(s)} + \frac{1}{0}", 2, "the right side has no value for any batch"),
        ("seed003", r"J = \frac{1}{m-3}\sum_s C^{(s)}", 1, "the formula gives nan"),  # undefined for m = 3 only
    ],
)
def test_undefined_statements(spec_name: str, formula: str, code: int, says: str) -> None:
    ran = run(spec_name, formula)
    assert ran.returncode == code, ran.stdout + ran.stderr
    assert says in (ran.stderr if code == 2 else ran.stdout)


GOODFELLOW = """
inputs = 2
loss = "squared_error"
[notation]
preset = "goodfellow"
[[layer]]
units = 3
activation = "tanh"
[[layer]]
units = 1
activation = "{output}"
"""


def test_the_notations_activation_letter_states_an_identity(tmp_path: Path) -> None:
    """Goodfellow writes h for a unit's output: h' = 1 − h² is tanh's identity, h' = 1 − h is not (its counterexample
    in his variable a, the pre-activation); with two activations in the network h' is not read as either one
    silently."""
    path = tmp_path / "goodfellow.toml"
    path.write_text(GOODFELLOW.format(output="tanh"), encoding="utf-8")
    right = run_cli("verify", str(path), "h' = 1 - h^2")
    assert right.returncode == 0 and "the function is tanh, the activation of layers 1, 2" in right.stdout
    wrong = run_cli("verify", str(path), "h' = 1 - h")
    found = re.search(r"counterexample at a = (-?[\d.]+): the right side gives (-?[\d.]+)", wrong.stdout)
    z, value = float(found.group(1)), float(found.group(2))
    assert wrong.returncode == 1 and value == pytest.approx(1 - math.tanh(z), rel=1e-5)
    path.write_text(GOODFELLOW.format(output="identity"), encoding="utf-8")
    mixed = run_cli("verify", str(path), "h' = 1 - h^2")
    assert mixed.returncode == 2 and "the network's layers use identity, tanh; name the function" in mixed.stderr
