"""Ng's, Nielsen's and Bishop's statements beyond one gradient (issue 16, point 4): Ng's D^{(l)} and Δ^{(l)}, Nielsen's
→ updates over a mini-batch and his weight decay, Bishop's h'(a) and his swapped indices.

Every number a verdict shows is recomputed here with NumPy from the values the verdict names: the batch's per-example
gradients, λ and θ; the counterexample's inputs and weights, through a forward and backward pass written here.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from inprocess import run_cli

import derive
from derive.verify import verify
from derive.verify.batch_names import AlgorithmName, PenaltyForm, SampleTerm
from derive.verify.mistakes import Transposed
from derive.verify.syntax import FormulaError


def net(preset: str, hidden: str, output: str, loss: str, form: str | None = None) -> derive.Derivation:
    penalty = f'[regularization]\nl2 = 0.1\nform = "{form}"\n' if form else ""
    return derive.derive(
        derive.loads(
            f'inputs = 2\nloss = "{loss}"\n[[layer]]\nunits = 3\nactivation = "{hidden}"\n[[layer]]\nunits = 2\n'
            f'activation = "{output}"\n[notation]\npreset = "{preset}"\n{penalty}'
        )
    )


NG = net("ng", "sigmoid", "sigmoid", "binary_cross_entropy")
NG_L2 = net("ng", "sigmoid", "sigmoid", "binary_cross_entropy", "half_over_m")
NG_HALF = net("ng", "sigmoid", "sigmoid", "binary_cross_entropy", "half")
NIELSEN = net("nielsen", "sigmoid", "sigmoid", "squared_error")
NIELSEN_L2 = net("nielsen", "sigmoid", "sigmoid", "squared_error", "half_over_m")
BISHOP = net("bishop", "tanh", "identity", "squared_error")


def batch_numbers(v) -> tuple[int, np.ndarray, float, float]:
    """m, the per-example gradients, λ and θ of a batch counterexample."""
    values = v.counterexample.inputs
    m = int(values["m"])
    g = np.array([values[f"g^({s})"] for s in range(1, m + 1)])
    return m, g, values.get("λ", 0.0), values.get("θ", 0.0)


# ------------------------------------------------------------------ Ng's D and Δ
@pytest.mark.parametrize(
    "formula",
    [
        r"D^{(l)} = \frac{1}{m} \Delta^{(l)}",
        r"D^{(l)}_{ij} := \frac{1}{m}\Delta^{(l)}_{ij}",
        r"\frac{\partial}{\partial \Theta^{(l)}} J(\Theta) = D^{(l)}",
        r"\frac{\partial}{\partial \Theta^{(l)}_{ij}} J(\Theta) = D^{(l)}_{ij}",
    ],
)
def test_ngs_d_is_the_mean_of_the_accumulated_gradients(formula: str) -> None:
    v = verify(NG, None, formula)
    assert v.right, v.text()
    assert any(isinstance(n, AlgorithmName) and n.what == "D" for n in v.notes)
    assert "no bias column (Ng's j = 0)" in v.text()  # derive keeps the biases apart: Θ has no column j = 0


def test_d_without_one_over_m_is_the_sum() -> None:
    v = verify(NG, None, r"D^{(l)} = \Delta^{(l)}")
    assert not v.right and v.codes == ("batch_sum", "convention")  # right with batch = "sum" (issue 16)
    m, g, _, _ = batch_numbers(v)
    assert v.counterexample.given == pytest.approx(g.sum(), rel=1e-9)
    assert v.counterexample.correct == pytest.approx(g.mean(), rel=1e-9)


def test_ngs_regularised_d_is_right_with_lambda_over_m() -> None:
    for formula in (
        r"D^{(l)}_{ij} := \frac{1}{m}\Delta^{(l)}_{ij} + \frac{\lambda}{m}\Theta^{(l)}_{ij}",
        r"D^{(l)}_{ij} := \frac{1}{m}\left(\Delta^{(l)}_{ij} + \lambda\Theta^{(l)}_{ij}\right)",
        r"\frac{\partial}{\partial \Theta^{(l)}_{ij}} J(\Theta) = D^{(l)}_{ij}",
    ):
        v = verify(NG_L2, None, formula)
        assert v.right, v.text()
        assert "plus the spec's L2 penalty" in v.text()


def test_the_slides_lambda_theta_is_right_only_under_the_form_half() -> None:
    """Ng's slides write D = (1/m)Δ + λΘ for his J with λ/(2m) Σ Θ²: the λ/m folded into λ. Under that J (form
    half_over_m) it is wrong, and the verdict names the form under which it is right; under form half it is right."""
    formula = r"D^{(l)}_{ij} := \frac{1}{m}\Delta^{(l)}_{ij} + \lambda\Theta^{(l)}_{ij}"
    v = verify(NG_L2, None, formula)
    assert not v.right and v.codes == ("penalty_scale", "penalty_form")
    assert PenaltyForm("half", "half_over_m") in v.diagnoses
    m, g, lam, theta = batch_numbers(v)
    assert v.counterexample.given == pytest.approx(g.mean() + lam * theta, rel=1e-9)
    assert v.counterexample.correct == pytest.approx(g.mean() + lam / m * theta, rel=1e-9)
    assert "it would be right with the penalty's form half (R = (λ/2) Σ θ², ∂R/∂θ = λ θ)" in v.text()
    assert verify(NG_HALF, None, formula).right
    without = verify(NG_L2, None, r"D^{(l)}_{ij} := \frac{1}{m}\Delta^{(l)}_{ij}")
    assert without.codes == ("penalty_scale",) and "the spec's L2 penalty is missing" in without.text()


def test_a_lambda_term_without_a_penalty_in_the_spec() -> None:
    v = verify(NG, None, r"D^{(l)}_{ij} := \frac{1}{m}\Delta^{(l)}_{ij} + \lambda\Theta^{(l)}_{ij}")
    assert not v.right and "penalty_without" in v.codes


def test_ngs_accumulator_keeps_its_own_reading() -> None:
    v = verify(NG, None, r"\Delta^{(l)} := \Delta^{(l)} + \delta^{(l+1)} (a^{(l)})^T")
    assert v.right and "accumulated" in {n.code for n in v.notes}


# ------------------------------------------------------------------ Nielsen's → updates
@pytest.mark.parametrize(
    "formula",
    [
        r"w \rightarrow w' = w - \eta \frac{\partial C}{\partial w}",
        r"w \to w - \eta \frac{\partial C}{\partial w}",
        r"w^l → w^l - \eta \delta^l (a^{l-1})^T",
        r"w^l \rightarrow w^l - \frac{\eta}{m} \sum_x \delta^{x,l} (a^{x,l-1})^T",
        r"b^l \rightarrow b^l - \frac{\eta}{m} \sum_x \delta^{x,l}",
    ],
)
def test_nielsens_updates_read_with_the_old_value_on_the_left(formula: str) -> None:
    v = verify(NIELSEN, None, formula)
    assert v.right, v.text()
    assert v.relation == "→" and v.text().startswith("right: ") and " → " in v.text().splitlines()[0]


def test_a_chain_after_the_new_value_states_the_update_in_each_link() -> None:
    """w → w' = R = S: R and S are both the new w (each link an update), and a wrong S is the link named."""
    right = verify(NIELSEN, None, r"w \rightarrow w' = w - \eta \frac{\partial C}{\partial w} = w - \eta \delta^2 x^T")
    assert right.right, right.text()
    wrong = verify(NIELSEN, None, r"w \rightarrow w' = w - \eta \frac{\partial C}{\partial w} = w + \eta \delta^2 x^T")
    assert wrong.codes[:2] == ("chain_link", "sign")


def test_a_climbing_update_is_the_sign_mistake() -> None:
    v = verify(NIELSEN, None, r"w^l \rightarrow w^l + \frac{\eta}{m} \sum_x \delta^{x,l} (a^{x,l-1})^T")
    assert not v.right and v.codes == ("sign",)
    _, g, _, _ = batch_numbers(v)
    assert v.counterexample.given == pytest.approx(-g.mean(), rel=1e-9)


def test_a_mini_batch_sum_without_one_over_m() -> None:
    v = verify(NIELSEN, None, r"w^l \rightarrow w^l - \eta \sum_x \delta^{x,l} (a^{x,l-1})^T")
    assert v.codes == ("batch_sum", "convention")  # right with batch = "sum" (issue 16)


def test_the_summed_term_is_verified_as_one_samples_gradient() -> None:
    v = verify(NIELSEN, None, r"w^l \rightarrow w^l - \frac{\eta}{m} \sum_x (w^{l+1})^T\delta^{x,l+1} (a^{x,l-1})^T")
    assert not v.right and v.codes[:2] == ("sample_term", "missing_derivative")
    found = v.diagnoses[0]
    assert isinstance(found, SampleTerm) and found.element == "W1[1,1]"
    shape = verify(NIELSEN, None, r"w^l \rightarrow w^l - \frac{\eta}{m} \sum_x \delta^{x,l} a^{x,l-1}")
    assert shape.codes == ("sample_term", "shape")


def test_a_samples_quantity_outside_its_sum_is_not_understood() -> None:
    with pytest.raises(FormulaError, match="read only in a sum over the samples"):
        verify(NIELSEN, None, r"w^l \rightarrow w^l - \eta \delta^{x,l} (a^{x,l-1})^T")


@pytest.mark.parametrize(
    "formula",
    [
        r"C = C_0 + \frac{\lambda}{2n}\sum_w w^2",
        r"\frac{\partial C}{\partial w} = \frac{\partial C_0}{\partial w} + \frac{\lambda}{n} w",
        r"\frac{\partial C}{\partial b} = \frac{\partial C_0}{\partial b}",
        r"w \rightarrow \left(1 - \frac{\eta\lambda}{n}\right) w - \eta\frac{\partial C_0}{\partial w}",
        r"w^l \rightarrow \left(1 - \frac{\eta\lambda}{n}\right) w^l"
        r" - \frac{\eta}{m} \sum_x \delta^{x,l} (a^{x,l-1})^T",
    ],
)
def test_nielsens_weight_decay(formula: str) -> None:
    v = verify(NIELSEN_L2, None, formula)
    assert v.right, v.text()


def test_a_side_after_its_relation_is_shown_as_written() -> None:
    """\\left( right after the relation belongs to the side: the verdict shows it whole, not from its bracket."""
    formula = r"w \rightarrow \left(1 - \frac{\eta\lambda}{n}\right) w - \eta\frac{\partial C_0}{\partial w}"
    v = verify(NIELSEN_L2, None, formula)
    assert v.formula == formula.split(r"\rightarrow ")[1]


def test_nielsens_weight_decay_with_the_wrong_factor() -> None:
    v = verify(
        NIELSEN_L2, None, r"\frac{\partial C}{\partial w} = \frac{\partial C_0}{\partial w} + \frac{\lambda}{2n} w"
    )
    assert v.codes == ("penalty_scale",)
    m, g, lam, theta = batch_numbers(v)
    assert v.counterexample.given == pytest.approx(g.mean() + lam * theta / (2 * m), rel=1e-9)
    assert v.counterexample.correct == pytest.approx(g.mean() + lam * theta / m, rel=1e-9)
    grown = verify(
        NIELSEN_L2,
        None,
        r"w \rightarrow \left(1 + \frac{\eta\lambda}{n}\right) w - \eta\frac{\partial C_0}{\partial w}",
    )
    m, g, lam, theta = batch_numbers(grown)
    assert grown.counterexample.given == pytest.approx(g.mean() - lam * theta / m, rel=1e-9)


# ------------------------------------------------------------------ Bishop
@pytest.mark.parametrize(
    "formula", [r"h'(a) = 1 - h(a)^2", r"h'(a) = 1 - z^2", r"h'(a) = (1 - h(a))(1 + h(a))", r"h' = 1 - z^2"]
)
def test_bishops_identity_in_his_letters(formula: str) -> None:
    v = verify(BISHOP, None, formula)
    assert v.right, v.text()
    text = v.text()
    assert "the function is tanh, the activation of layer 1" in text  # h: the hidden units' function
    assert "h read as the activation function, as the notation declares" in text
    assert "a read as the pre-activation (the weighted input), as the notation declares" in text


def test_bishops_identity_wrong_at_a_value_of_a() -> None:
    v = verify(BISHOP, None, r"h'(a) = 1 - h(a)")
    a = v.counterexample.inputs["a"]
    assert v.counterexample.given == pytest.approx(1 - math.tanh(a), rel=1e-9)
    assert v.counterexample.correct == pytest.approx(1 - math.tanh(a) ** 2, rel=1e-9)
    assert r"correct: \tanh'(a) = 1 - \tanh^{2}(a)" in v.text()


def test_bishops_swapped_indices_are_the_transposed_mistake() -> None:
    """δ_j z_k for ∂E_n/∂w_{kj}: by his letters, the hidden unit's error times the output's activation."""
    v = verify(BISHOP, None, r"\frac{\partial E_n}{\partial w_{kj}} = \delta_j z_k")
    assert not v.right and Transposed(roles=True) in v.diagnoses
    c = v.counterexample
    x = np.array([c.inputs["x[1]"], c.inputs["x[2]"]])
    t = np.array([c.targets["y[1]"], c.targets["y[2]"]])
    w1 = np.array([[c.parameters[f"W1[{i},{j}]"] for j in (1, 2)] for i in (1, 2, 3)])
    b1 = np.array([c.parameters[f"b1[{i}]"] for i in (1, 2, 3)])
    w2 = np.array([[c.parameters[f"W2[{k},{j}]"] for j in (1, 2, 3)] for k in (1, 2)])
    b2 = np.array([c.parameters[f"b2[{k}]"] for k in (1, 2)])
    z = np.tanh(w1 @ x + b1)  # Bishop's z: the hidden units' activations
    y = w2 @ z + b2  # linear outputs
    delta_k = y - t
    delta_j = (1 - z**2) * (w2.T @ delta_k)
    assert c.given == pytest.approx(delta_j[0] * y[0], rel=1e-6)  # δ_1 (hidden) z_1 (output) for w_{11}
    assert c.correct == pytest.approx(delta_k[0] * z[0], rel=1e-6)
    assert "the formula takes the error of the unit it leaves and the activation of the unit it enters" in v.text()


def test_the_command_line_and_chinese() -> None:
    spec = "examples/seed003.toml"
    ran = run_cli("verify", spec, r"W^{(2)} \rightarrow W^{(2)} - \frac{\eta}{m} \sum_x \delta^{x,(2)} (a^{x,(1)})^T")
    assert ran.returncode == 0 and ran.stdout.startswith("right: W^{(2)} → ")
    zh = run_cli("verify", spec, r"D^{(2)} = \Delta^{(2)}", "--lang", "zh")
    assert zh.returncode == 1 and "按 Ng 的 D 理解" in zh.stdout and "求和大了 m 倍" in zh.stdout
    outside = run_cli("verify", spec, r"W^{(2)} \rightarrow W^{(2)} - \eta \delta^{x,(2)}")
    assert outside.returncode == 2 and len(outside.stderr.splitlines()) == 1
