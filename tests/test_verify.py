"""Verifying hand-written formulas: the articles' formulas are right, common mistakes are diagnosed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from derive import Layer, Network, Notation, derive, load
from derive.engine import matrixform
from derive.errors import DeriveError
from derive.model.samples import cost
from derive.present.latex import latex
from derive.verify import verify
from derive.verify.findings import Convention
from derive.verify.formula_file import read
from derive.verify.mistakes import MissingDerivative, MissingSum, Proportional

ROOT = Path(__file__).resolve().parent.parent
SEEDS = [f"seed00{i}" for i in range(5)]


def net_of(seed: str) -> Network:
    return load(ROOT / "examples" / f"{seed}.toml")


@pytest.mark.parametrize("seed", SEEDS)
def test_article_formulas_are_right(seed: str) -> None:
    """Every formula written in an article's own notation (examples/formulas/) is verified right."""
    d = derive(net_of(seed))
    entries = read(ROOT / "examples" / "formulas" / f"{seed}.md")
    assert len(entries) >= 6
    for entry in entries:
        v = verify(d, entry.param, entry.formula)
        assert v.right, (entry.where, v.text())
        assert v.counterexample is None and v.diagnoses == ()
    exact = [verify(d, e.param, e.formula).method for e in entries]
    assert "exact" in exact  # small networks are also proved equal, not only sampled


# (network, parameter or None, formula, the diagnosis it must get)
WRONG = [
    ("seed004", "delta2", r"(y - \hat y)", "missing_derivative"),
    ("seed003", None, r"\delta^{(1)} = (W^{(2)})^{\mathsf T} \delta^{(2)}", "missing_derivative"),
    ("seed004", "delta2", r"(\hat y - y)\hat y(1-\hat y)", "sign"),
    ("seed004", None, r"\frac{\partial E}{\partial w_{ij}} = \delta_j x_i", "sign"),
    ("seed004", "delta2", r"2(y-\hat y)\hat y(1-\hat y)", "factor_two"),
    ("seed001", None, r"\frac{\partial C}{\partial \theta^{(1)}_{12}} = \delta^{(2)}_2 a^{(1)}_1", "transposed"),
    ("seed001", None, r"\delta^{(1)} = \theta^{(1)} \delta^{(2)} \odot \sigma'(z^{(1)})", "transposed"),
    ("seed004", "W1[1,2]", r"\delta_2 x_1", "transposed"),
    (
        "seed001",
        None,
        r"\delta^{(1)}_1 = \sum_k \theta^{(1)}_{k1}\delta^{(2)}_k \sigma'(z^{(2)}_1)",
        "wrong_layer_derivative",
    ),
    ("seed001", None, r"\delta^{(1)}_1 = \theta^{(1)}_{11}\delta^{(2)}_1 \sigma'(z^{(1)}_1)", "missing_sum"),
    ("seed001", None, r"\delta^{(1)}_j = \theta^{(1)}_{kj}\delta^{(2)}_k \sigma'(z^{(1)}_j)", "missing_sum"),
    (
        "seed000",
        None,
        r"\delta_c = \left(\frac{w_{ec}}{w_{ec}+w_{ed}}\delta_e"
        r" + \frac{w_{fc}}{w_{fc}+w_{fd}}\delta_f\right) a_c(1-a_c)",
        "shared_error",
    ),
    ("seed000", None, r"\delta_c = 3 (w_{ec}\delta_e + w_{fc}\delta_f)\, a_c (1 - a_c)", "proportional"),
    ("seed002", None, r"\delta^{(2)}_1 = (y_1 - t_1) y_1 (1 - y_1)", "extra_derivative"),
    ("seed003", None, r"\delta^{(2)} = (a^{(2)} - y) \odot a^{(2)} \odot (1-a^{(2)})", "extra_derivative"),
    # seed001 numbers θ by the layer it leaves (z^{l+1} = θ^l a^l): derive's own numbering is the other convention
    ("seed001", None, r"\frac{\partial C}{\partial \theta^{l}} = \delta^{l} (a^{l-1})^T", "convention"),
    ("seed004", "delta2", r"(\hat y - y)\hat y(1-\hat y)", "convention"),
    ("seed003", None, r"\delta^{(1)} = W^{(2)} \delta^{(2)} \odot \operatorname{ReLU}'(z^{(1)})", "shape"),
]


@pytest.mark.parametrize(("seed", "param", "formula", "code"), WRONG)
def test_wrong_variants_are_diagnosed(seed: str, param: str | None, formula: str, code: str) -> None:
    v = verify(net_of(seed), param, formula)
    assert not v.right
    assert code in v.codes, v.diagnoses
    assert v.correct  # the correct form is always shown
    text = v.text()
    assert text.startswith("wrong:") and "why:" in text
    if v.counterexample is not None:
        c = v.counterexample
        assert abs(c.given - c.correct) > 1e-6 * max(1.0, abs(c.correct))
        assert c.inputs and c.targets and c.parameters


def test_diagnosis_details() -> None:
    """The data of a diagnosis names the layer, the term or the convention."""
    assert verify(net_of("seed004"), "delta2", r"(y - \hat y)").diagnoses == (MissingDerivative(layer=2),)
    missing = verify(net_of("seed001"), None, r"\delta^{(1)}_1 = \theta^{(1)}_{21}\delta^{(2)}_2 \sigma'(z^{(1)}_1)")
    assert MissingSum(k=2) in missing.diagnoses
    shifted = verify(net_of("seed001"), None, r"\frac{\partial C}{\partial \theta^{l}} = \delta^{l} (a^{l-1})^T")
    assert Convention("weight_shift", 0) in shifted.diagnoses
    proportional = verify(net_of("seed000"), None, r"\delta_c = 3 (w_{ec}\delta_e + w_{fc}\delta_f)\, a_c (1 - a_c)")
    assert Proportional(ratio=3.0) in proportional.diagnoses
    sign = verify(net_of("seed004"), "delta2", r"(\hat y - y)\hat y(1-\hat y)")
    assert Convention("delta", "gradient") in sign.diagnoses


def test_counterexample_matches_finite_differences() -> None:
    """The 'correct' number of a counterexample is the slope of the cost, measured independently."""
    net = net_of("seed001")
    v = verify(net, None, r"\frac{\partial C}{\partial \theta^{(1)}_{12}} = \delta^{(2)}_2 a^{(1)}_1")
    c = v.counterexample
    assert c is not None and c.element == "W2[1,2]"
    params = {name: np.zeros(shape) for name, shape in net.shapes().items()}
    for name, value in c.parameters.items():
        base, index = name.split("[")
        params[base][tuple(int(k) - 1 for k in index.rstrip("]").split(","))] = value
    x = np.array([c.inputs[f"x[{j}]"] for j in range(1, net.inputs + 1)])
    y = np.array([c.targets[f"y[{k}]"] for k in range(1, net.outputs + 1)])
    h = 1e-6
    up = {k: v.copy() for k, v in params.items()}
    down = {k: v.copy() for k, v in params.items()}
    up["W2"][0, 1] += h
    down["W2"][0, 1] -= h
    slope = (cost(net, up, x, y) - cost(net, down, x, y)) / (2 * h)
    assert c.correct == pytest.approx(slope, rel=1e-6, abs=1e-9)
    assert c.given != pytest.approx(slope, rel=1e-3)


@pytest.mark.parametrize("seed", SEEDS)
def test_printed_forms_read_back_right(seed: str) -> None:
    """Every gradient as derive prints it in the seed's notation parses back and verifies right."""
    net = net_of(seed)
    d = derive(net)
    for name in d.parameters():
        for form in ("delta", "closed"):
            assert verify(d, name, latex(d.gradient(name, form), net)), (name, form)
    for layer in range(1, d.L + 1):
        assert verify(d, f"W{layer}", latex(matrixform.gradients(d, layer)[0].rhs, net))
        if layer < d.L and net.activation(layer).elementwise:
            assert verify(d, f"delta{layer}", latex(matrixform.recursion(d, layer)[0].rhs, net))


def test_the_notation_decides_the_reading() -> None:
    """The same text is right or wrong depending on δ's sign and the weights' index order."""
    layers = (Layer(2, "sigmoid"), Layer(2, "sigmoid"))
    plain = Network(inputs=2, layers=layers, loss="squared_error")
    errors = Network(inputs=2, layers=layers, loss="squared_error", notation=Notation(delta="error"))
    formula = r"(y_1 - a^{(2)}_1) a^{(2)}_1 (1 - a^{(2)}_1)"
    assert not verify(plain, "delta2[1]", formula)
    assert verify(errors, "delta2[1]", formula)
    weight = r"\delta^{(2)}_1 a^{(1)}_2"
    from_to = Network(inputs=2, layers=layers, loss="squared_error", notation=Notation(index_order="from_to"))
    assert verify(plain, None, rf"\frac{{\partial C}}{{\partial W^{{(2)}}_{{12}}}} = {weight}")
    assert not verify(
        from_to, None, rf"\frac{{\partial C}}{{\partial W^{{(2)}}_{{21}}}} = {weight}".replace("21", "12")
    )
    assert verify(from_to, None, rf"\frac{{\partial C}}{{\partial W^{{(2)}}_{{21}}}} = {weight}")


def test_ascii_forms_and_canonical_names() -> None:
    net = net_of("seed001")
    assert verify(net, "W2[1,2]", "delta2_1 * a1_2")
    assert verify(net, "delta1[2]", "(theta2[1,2]*delta2[1] + theta2[2,2]*delta2[2]) * sigmoid(z1_2)*(1-sigmoid(z1_2))")
    assert verify(net, "b1[3]", "delta1_3")
    assert not verify(net, "b1[3]", "delta1_2")


def test_sums_with_limits_free_indices_and_layers() -> None:
    net = net_of("seed001")
    assert verify(net, None, r"\delta^{(1)}_j = \sum_{k=1}^{2} \theta^{(1)}_{kj}\delta^{(2)}_k a^{(1)}_j(1-a^{(1)}_j)")
    assert verify(
        net, None, r"\delta^{(1)}_j = \sum_{k=1}^{n^{(2)}} \theta^{(1)}_{kj}\delta^{(2)}_k \sigma'(z^{(1)}_j)"
    )
    general = verify(net, None, r"\frac{\partial C}{\partial \theta^{(l)}_{jk}} = \delta^{(l+1)}_j a^{(l)}_k")
    assert general and general.elements == 3 * 2 + 2 * 3  # θ^{(0)} is 3×2 and θ^{(1)} 2×3 (leaving layers 0 and 1)
    with pytest.raises(DeriveError, match="out of range"):
        verify(net, None, r"\delta^{(1)}_j = \sum_{k=1}^{3} \theta^{(1)}_{kj}\delta^{(2)}_k")


def test_clear_errors() -> None:
    net = net_of("seed004")
    with pytest.raises(DeriveError, match=r"unknown name 'q_1'.*w\^\{\(l\)\}_\{ij\}.*x_j"):
        verify(net, "W1[1,1]", r"q_1 x_1")
    with pytest.raises(DeriveError, match="at character 10"):
        verify(net, "W1[1,1]", r"\delta_1 (x_1")
    with pytest.raises(DeriveError, match="left side"):
        verify(net, None, r"\delta_1 x_1")
    with pytest.raises(DeriveError, match="the left side names"):
        verify(net, "W1[1,1]", r"\frac{\partial E}{\partial w_{12}} = -\delta_2 x_1")


def test_larger_network_is_checked_numerically() -> None:
    net = Network(
        inputs=4,
        layers=(Layer(5, "tanh"), Layer(6, "leaky_relu", 0.1), Layer(3, "softmax")),
        loss="cross_entropy",
    )
    v = verify(net, "delta1", r"(W^{(2)})^{\mathsf T} \delta^{(2)} \odot (1 - a^{(1)} \odot a^{(1)})")
    assert v.right and v.method == "numeric" and v.elements == 5
    wrong = verify(net, "delta1", r"(W^{(2)})^{\mathsf T} \delta^{(2)}")
    assert "missing_derivative" in wrong.codes
