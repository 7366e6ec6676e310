"""Bishop's batch cost is a sum (issue 16): E = Σ_n E_n and ∂E/∂w = Σ_n ∂E_n/∂w (PRML 5.11, 5.50), notation batch.

``batch = "sum"`` (set by ``preset = "bishop"``) reads the reader's batch cost as the sum over the samples, m times
derive's objective (its L2 penalty m times too); it changes what a batch statement is compared with and what the
verdict and the documents say, never derive's objective, its numbers or its code. Every number here is recomputed with
NumPy: a forward and backward pass of the network written out per sample, and the values a counterexample names.
"""

from __future__ import annotations

import numpy as np
import pytest

import derive
from derive.errors import SpecError
from derive.numeric import codegen
from derive.numeric.codeplan import plan
from derive.verify import verify
from derive.verify.batch import PenaltyScale
from derive.verify.batch_reading import BatchMean, BatchReading, BatchSum
from derive.verify.findings import Convention
from derive.verify.syntax import FormulaError

SPEC = (
    'name = "bishop-sum"\ninputs = 2\nloss = "squared_error"\n[[layer]]\nunits = 3\nactivation = "tanh"\n'
    '[[layer]]\nunits = 2\nactivation = "identity"\n[notation]\npreset = "bishop"\n'
)


def net(batch: str | None = None, form: str | None = None) -> derive.Derivation:
    extra = f'batch = "{batch}"\n' if batch else ""
    extra += f'[regularization]\nl2 = 0.1\nform = "{form}"\n' if form else ""
    return derive.derive(derive.loads(SPEC + extra))


SUM, MEAN = net(), net("mean")


def per_sample(params: dict[str, np.ndarray], x: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, dict]:
    """Each sample's E_n = ½ Σ_k (y_k − t_k)² and its gradients, by a forward and backward pass written out here."""
    costs, grads = [], {k: [] for k in params}
    for xn, tn in zip(x, t, strict=True):
        a1 = np.tanh(params["W1"] @ xn + params["b1"])
        y = params["W2"] @ a1 + params["b2"]
        costs.append(0.5 * np.sum((y - tn) ** 2))
        d2 = y - tn
        d1 = (1 - a1**2) * (params["W2"].T @ d2)
        for k, v in {"W2": np.outer(d2, a1), "b2": d2, "W1": np.outer(d1, xn), "b1": d1}.items():
            grads[k].append(v)
    return np.array(costs), {k: np.array(v) for k, v in grads.items()}


# ---------------------------------------------------------------- derive's objective is the mean either way
def test_derive_objective_numbers_and_code_stay_the_mean_under_sum() -> None:
    rng = np.random.default_rng(16)
    params = {"W1": rng.normal(size=(3, 2)), "b1": rng.normal(size=3), "W2": rng.normal(size=(2, 3))}
    params["b2"] = rng.normal(size=2)
    x, t = rng.normal(size=(5, 2)), rng.normal(size=(5, 2))
    costs, grads = per_sample(params, x, t)
    for d in (SUM, MEAN):
        f = d.lambdify()
        assert f.loss(params, x, t) == pytest.approx(costs.mean(), rel=1e-12)
        assert f.loss(params, x, t) * 5 == pytest.approx(costs.sum(), rel=1e-12)  # Bishop's E, m times J
        for k, g in f.gradients(params, x, t).items():
            np.testing.assert_allclose(g, grads[k].mean(axis=0), rtol=1e-12)
    assert codegen.module_source(plan(SUM)) == codegen.module_source(plan(MEAN))


def test_the_option_is_in_bishops_preset_and_a_key_beside_it_overrides_it() -> None:
    assert SUM.network.notation.batch == "sum" and MEAN.network.notation.batch == "mean"
    assert derive.derive(derive.loads(SPEC.replace('preset = "bishop"', 'cost = "J"'))).network.notation.batch == "mean"
    with pytest.raises(SpecError, match=r"notation.batch: 'total' is not one of mean, sum"):
        derive.loads(SPEC + 'batch = "total"\n')


# ------------------------------------------------------------------------- right under batch = "sum"
@pytest.mark.parametrize(
    "formula",
    [
        r"E = \sum_n E_n",
        r"E = \sum_{n=1}^{N} E_n",
        r"\frac{\partial E}{\partial w_{ji}} = \sum_n \frac{\partial E_n}{\partial w_{ji}}",
        r"\frac{\partial E}{\partial w^{(2)}_{kj}} = \sum_{n=1}^{N} \frac{\partial E_n}{\partial w^{(2)}_{kj}}",
    ],
)
def test_bishops_sums_are_right_and_the_verdict_says_the_reading(formula: str) -> None:
    v = verify(SUM, None, formula)
    assert v.right, v.text()
    assert BatchReading("E") in v.notes
    assert (
        "E read as the sum over the samples (batch = sum, Bishop's E = Σ_n E_n); derive's objective is the mean,"
        in (v.text())
    )
    assert "equal to m times derive's objective, the sum over the batch" in v.text()
    assert "E 读作对各样本的求和（batch = sum，Bishop 的 E = Σ_n E_n）；derive 的目标函数是平均，小 m 倍" in v.text(
        "zh"
    )


def test_a_mean_under_sum_is_wrong_m_times_too_small() -> None:
    v = verify(SUM, None, r"E = \frac{1}{N}\sum_n E_n")
    assert not v.right and BatchMean(False, "E", "E") in v.diagnoses, v.text()
    assert v.correct == r"E = \sum_{s=1}^{m} E^{(s)}"
    values = v.counterexample.inputs
    m = int(values["m"])
    costs = np.array([values[f"C^({s})"] for s in range(1, m + 1)])
    assert v.counterexample.given == pytest.approx(costs.mean(), rel=1e-12)
    assert v.counterexample.correct == pytest.approx(costs.sum(), rel=1e-12)
    assert "a mean where this notation's E is the sum" in v.text()
    assert "m times the objective (the sum) is" in v.text()


def test_a_mean_gradient_under_sum_is_wrong_and_its_correct_form_is_the_sum() -> None:
    v = verify(
        SUM, None, r"\frac{\partial E}{\partial w_{ji}} = \frac{1}{N}\sum_n \frac{\partial E_n}{\partial w_{ji}}"
    )
    assert not v.right and BatchMean(True, "E", "E") in v.diagnoses, v.text()
    values = v.counterexample.inputs
    g = np.array([values[f"g^({s})"] for s in range(1, int(values["m"]) + 1)])
    assert (v.counterexample.given, v.counterexample.correct) == pytest.approx((g.mean(), g.sum()), rel=1e-12)
    assert v.correct == r"\frac{\partial E}{\partial w_{ji}} = \sum_{s=1}^{m} \frac{\partial E^{(s)}}{\partial w_{ji}}"
    assert verify(SUM, None, v.correct).right  # w_{ji} keeps its own closing brace


# -------------------------------------------------------------------- the L2 penalty read m times too
def test_bishops_regularised_error_is_right_with_the_form_half_over_m() -> None:
    d = net(form="half_over_m")  # m R = m λ/(2m) Σ w² = (λ/2) wᵀw, Bishop's 5.112
    for formula in (
        r"E = \sum_n E_n + \frac{\lambda}{2} w^T w",
        r"E = \sum_n E_n + \frac{\lambda}{2} \mathbf{w}^T \mathbf{w}",
        r"E = \sum_n E_n + \frac{\lambda}{2} \lVert w \rVert^2",
        r"\frac{\partial E}{\partial w_{ji}} = \sum_n \frac{\partial E_n}{\partial w_{ji}} + \lambda w_{ji}",
    ):
        v = verify(d, None, formula)
        assert v.right and BatchReading("E", True) in v.notes, v.text()
        assert "so the spec's L2 penalty is read m times too" in v.text()


def test_a_penalty_divided_by_n_under_sum_is_wrong_with_numbers() -> None:
    v = verify(net(form="half_over_m"), None, r"E = \sum_n E_n + \frac{\lambda}{2N} \lVert w \rVert^2")
    assert not v.right and PenaltyScale("scale", "half_over_m", "λ/2") in v.diagnoses, v.text()
    values = v.counterexample.inputs
    m, lam = int(values["m"]), values["λ"]
    costs = np.array([values[f"C^({s})"] for s in range(1, m + 1)])
    squares = values["‖W^(1)‖²"] + values["‖W^(2)‖²"]
    assert v.counterexample.given == pytest.approx(costs.sum() + lam / (2 * m) * squares, rel=1e-12)
    assert v.counterexample.correct == pytest.approx(m * (costs.mean() + lam / (2 * m) * squares), rel=1e-12)
    assert v.correct == r"E = \sum_{s=1}^{m} E^{(s)} + \frac{\lambda}{2} \sum_{l} \lVert w^{(l)} \rVert^2"


def test_under_the_form_half_the_summed_penalty_is_m_times_the_specs() -> None:
    v = verify(
        net(form="half"),
        None,
        r"\frac{\partial E}{\partial w_{ji}} = \sum_n \frac{\partial E_n}{\partial w_{ji}} + \lambda w_{ji}",
    )
    assert not v.right and PenaltyScale("coefficient", "half", "λm") in v.diagnoses, v.text()
    values = v.counterexample.inputs
    m, lam, theta = int(values["m"]), values["λ"], values["θ"]
    g = np.array([values[f"g^({s})"] for s in range(1, m + 1)])
    assert v.counterexample.correct == pytest.approx(g.sum() + m * lam * theta, rel=1e-12)


# ------------------------------------------------------------- under the default mean: a sum says batch = sum
def test_a_sum_under_the_mean_is_wrong_and_would_be_right_with_batch_sum() -> None:
    v = verify(MEAN, None, r"E = \sum_n E_n")
    assert not v.right, v.text()
    assert BatchSum(False, "E", "E") in v.diagnoses and Convention("batch", "sum") in v.diagnoses
    values = v.counterexample.inputs
    costs = np.array([values[f"C^({s})"] for s in range(1, int(values["m"]) + 1)])
    assert (v.counterexample.given, v.counterexample.correct) == pytest.approx((costs.sum(), costs.mean()), rel=1e-12)
    assert "it would be right with batch = sum (Bishop's convention" in v.text()
    assert "如果 batch = sum（Bishop 的约定" in v.text("zh")
    assert not any(isinstance(x, BatchReading) for x in v.notes)
    right = verify(MEAN, None, r"E = \frac{1}{N}\sum_n E_n")
    assert right.right and not right.notes, right.text()


def test_a_sum_that_is_wrong_either_way_does_not_say_batch_sum() -> None:
    v = verify(MEAN, None, r"E = 2 \sum_n E_n")
    assert not v.right and Convention("batch", "sum") not in v.diagnoses, v.text()


def test_nielsens_mini_batch_step_reads_the_option_too() -> None:
    spec = SPEC.replace('preset = "bishop"', 'preset = "nielsen"').replace('"tanh"', '"sigmoid"')
    formula = r"w^l \rightarrow w^l - \eta \sum_x \delta^{x,l} (a^{x,l-1})^T"
    summed = verify(derive.derive(derive.loads(spec + 'batch = "sum"\n')), None, formula)
    assert summed.right and BatchReading("C") in summed.notes, summed.text()
    mean = verify(derive.derive(derive.loads(spec)), None, formula)
    assert not mean.right and Convention("batch", "sum") in mean.diagnoses, mean.text()


# ------------------------------------------------------------------------------------------- documents
def test_a_document_under_sum_says_e_is_the_sum_and_derives_the_mean() -> None:
    en, zh = SUM.render("md", "en"), SUM.render("md", "zh")
    assert (
        r"In this notation $E$ over a batch is the sum of the samples' costs, $\sum_n E_n$, $m$ times the mean $J$"
        in en
    )
    assert r"按本记号，一批样本上的 $E$ 是各样本代价之和 $\sum_n E_n$" in zh
    assert "J = \\frac{1}{m} \\sum_{s=1}^{m} E^{(s)}" in en  # derive's objective, the mean, as before
    assert "In this notation $E$ over a batch" not in MEAN.render("md", "en")


def test_bishops_w_transpose_w_is_the_squared_norm_under_the_mean_too() -> None:
    assert verify(net("mean", "half"), None, r"E = \frac{1}{N}\sum_n E_n + \frac{\lambda}{2} w^T w").right
    with pytest.raises(FormulaError, match="a batch statement is read in"):
        verify(SUM, None, r"E = \sum_n E_n + \frac{\lambda}{2} w^T x")  # only a weight times itself is a norm
