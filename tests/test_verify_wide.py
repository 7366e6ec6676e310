"""derive verify on a network of MNIST size (784 → 100 sigmoid → 10 softmax, cross-entropy): issue 14.

Right formulas for W2[i,j], W1[i,j], b1[i], δ and a whole W2 are verified right, wrong ones wrong; a wrong
one's counterexample is checked against a NumPy backpropagation written here (and that against finite
differences of the cost), and its text shows a few of the 784 inputs and says how many there are, in
English and in Chinese, instead of printing all of them. No test is timed: benchmarks/bench_verify.py
times these formulas against the old path.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from conftest import ROOT

import derive
from derive.model.samples import random_point
from derive.verify import verify
from derive.verify.mistakes import MissingDerivative
from derive.verify.read import SEED
from derive.verify.verdict_text import FIRST, SHOWN, WHOLE, listing

SPEC = (ROOT / "examples" / "mnist.toml").read_text(encoding="utf-8")

SIGMA_PRIME = r"\sigma'(z^{(1)}_{i})"
RIGHT = [
    ("W2[1,1]", r"\delta^{(2)}_1 a^{(1)}_1", 1),
    ("W2[1,1]", r"(a^{(2)}_1 - y_1) a^{(1)}_1", 1),
    ("W2[i,j]", r"\delta^{(2)}_i a^{(1)}_j", 1000),
    ("W1[i,j]", r"\delta^{(1)}_i x_j", 78400),
    ("W1[3,5]", r"\sum_k W^{(2)}_{k3}\delta^{(2)}_k \sigma'(z^{(1)}_3) x_5", 1),
    ("b1[i]", r"\delta^{(1)}_i", 100),
    ("b1[i]", r"\sum_k W^{(2)}_{ki}\delta^{(2)}_k a^{(1)}_i (1 - a^{(1)}_i)", 100),
    ("delta1", r"(W^{(2)})^T \delta^{(2)} \odot \sigma'(z^{(1)})", 100),
    ("delta2", "a^{(2)} - y", 10),
    ("W2", r"\delta^{(2)} (a^{(1)})^T", 1000),
]
WRONG = [
    ("W2[1,1]", r"\delta^{(2)}_1 a^{(1)}_2"),
    ("W2[i,j]", r"\delta^{(2)}_i a^{(1)}_1"),
    ("W1[i,j]", r"\delta^{(1)}_i x_1"),
    ("W1[3,5]", r"\sum_k W^{(2)}_{k3}\delta^{(2)}_k x_5"),
    ("b1[i]", r"\sum_k W^{(2)}_{ki}\delta^{(2)}_k"),
    ("delta1", r"(W^{(2)})^T \delta^{(2)}"),
    ("delta2", "y - a^{(2)}"),
]


@pytest.fixture(scope="module")
def d():
    return derive.derive(derive.loads(SPEC, source="mnist"))


@pytest.mark.parametrize(("param", "formula", "total"), RIGHT, ids=[f"{p} = {f}" for p, f, _ in RIGHT])
def test_right_formulas_are_right(d, param, formula, total):
    v = verify(d, param, formula)
    assert v.right, v.text()
    assert v.total_elements == total and 1 <= v.elements <= total
    assert v.method == "numeric"  # 79,510 parameters: compared at the points, not symbolically


@pytest.mark.parametrize(("param", "formula"), WRONG, ids=[f"{p} = {f}" for p, f in WRONG])
def test_wrong_formulas_are_wrong_with_a_short_counterexample(d, param, formula):
    v = verify(d, param, formula)
    assert not v.right
    c = v.counterexample
    assert c is not None and c.defined and abs(c.given - c.correct) > 1e-9
    assert len(c.inputs) == 784 and len(c.targets) == 10  # the data keeps every value
    text = v.text()
    assert "… (784 values)" in text
    values = text.splitlines()[3]  # the line after "counterexample for …: …, at"
    assert values.startswith("    x[1] = ") and len(values) < 800, values
    assert len(text) < 3000, len(text)  # was 16 KB: every input printed
    zh = v.text("zh")
    assert "…（共 784 个值）" in zh and "values" not in zh and len(zh) < 3000


def _backprop(params, x, y):
    """∂C/∂W1 and the forward values of 784-100-10 (sigmoid, softmax, cross-entropy), by hand in NumPy."""
    z1 = params["W1"] @ x + params["b1"]
    a1 = 1 / (1 + np.exp(-z1))
    z2 = params["W2"] @ a1 + params["b2"]
    a2 = np.exp(z2 - z2.max()) / np.exp(z2 - z2.max()).sum()
    delta2 = a2 - y
    delta1 = (params["W2"].T @ delta2) * a1 * (1 - a1)
    return np.outer(delta1, x), delta2


def _cost(params, x, y):
    a1 = 1 / (1 + np.exp(-(params["W1"] @ x + params["b1"])))
    z2 = params["W2"] @ a1 + params["b2"]
    log_a2 = z2 - z2.max() - np.log(np.exp(z2 - z2.max()).sum())
    return -float(y @ log_a2)


def test_counterexample_values_agree_with_a_numpy_backpropagation(d):
    """Missing σ' in W1[3,5]: the derivative and the formula's value, recomputed at the counterexample's point."""
    v = verify(d, "W1[3,5]", r"\sum_k W^{(2)}_{k3}\delta^{(2)}_k x_5")
    assert MissingDerivative(layer=1) in v.diagnoses
    c = v.counterexample
    assert c is not None and c.element == "W1[3,5]"
    params, x, y = random_point(d.network, np.random.default_rng(SEED))  # the verifier's first seeded point
    assert [c.inputs[f"x[{j}]"] for j in range(1, 785)] == x.tolist()
    assert [c.targets[f"y[{k}]"] for k in range(1, 11)] == y.tolist()
    assert {f"W2[{k},3]" for k in range(1, 11)} <= set(c.parameters)
    for name, value in c.parameters.items():
        layer, i, j = (int(n) for n in re.fullmatch(r"W(\d)\[(\d+),(\d+)\]", name).groups())
        assert value == params[f"W{layer}"][i - 1, j - 1]
    grad, delta2 = _backprop(params, x, y)
    assert c.correct == pytest.approx(grad[2, 4], rel=1e-9)
    assert c.given == pytest.approx(float(params["W2"][:, 2] @ delta2) * x[4], rel=1e-9)
    h = 1e-6  # and the hand backpropagation against finite differences of the cost
    up = {k: a.copy() for k, a in params.items()}
    down = {k: a.copy() for k, a in params.items()}
    up["W1"][2, 4] += h
    down["W1"][2, 4] -= h
    assert grad[2, 4] == pytest.approx((_cost(up, x, y) - _cost(down, x, y)) / (2 * h), rel=1e-5)
    # the text shows the first inputs and the one the formula uses, and the ten W2[k,3] it reads
    text = v.text()
    assert f"x[1] = {x[0]:.6g}, x[2] = {x[1]:.6g}, x[3] = {x[2]:.6g}, …, x[5] = {x[4]:.6g}, … (784 values)" in text
    assert f"W2[10,3] = {params['W2'][9, 2]:.6g}" in text


def test_a_listing_shows_the_first_values_and_those_named():
    values = {f"x[{j}]": float(j) / 10 for j in range(1, 785)}
    shown = listing(values, {"x[5]", "x[784]"})
    assert shown.count == 784 and not shown.whole and not shown.more
    assert shown.shown == (("x[1]", 0.1), ("x[2]", 0.2), ("x[3]", 0.3), None, ("x[5]", 0.5), None, ("x[784]", 78.4))
    assert len(listing(values, {f"x[{j}]" for j in range(1, 785)}).shown) == SHOWN
    first = listing(values)
    assert [item[0] for item in first.shown] == [f"x[{j}]" for j in range(1, FIRST + 1)] and first.more
    small = {f"W1[{i},1]": 1.0 for i in range(1, WHOLE + 1)}
    assert listing(small).whole and listing(small).shown == tuple(small.items())
