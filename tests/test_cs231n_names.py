"""cs231n's own names under preset = "cs231n": the per-example cost L_i, the scores f and probabilities p, y_i the
class label of example i, the code names dW2, db2, dscores, dhidden, and the regularised batch cost as the notes
write it.

The readings are checked against a forward and backward pass written here in NumPy, independently of derive: at the
sample point of a wrong formula's counterexample, the formula's value and the derivative derive reports are
recomputed from the printed inputs, label and parameters. Each reading is stated in the verdict (en and zh); under
another notation the names are not understood, and the error names the option they need.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import derive
from derive import Notation, SpecError
from derive.check import check
from derive.present.document import build
from derive.verify import verify
from derive.verify.findings import CodeName, ExampleLabel, LetterMeaning
from derive.verify.syntax import FormulaError

SPEC = """inputs = 2
loss = "cross_entropy"
targets = "labels"
[[layer]]
units = 3
activation = "relu"
[[layer]]
units = 2
activation = "softmax"
[notation]
{notation}
{regularization}"""
HALF = '[regularization]\nl2 = 0.1\nform = "half"\n'


def net(notation: str = 'preset = "cs231n"', regularization: str = "") -> derive.Derivation:
    return derive.derive(derive.loads(SPEC.format(notation=notation, regularization=regularization)))


CS231N = net()
CS231N_REG = net(regularization=HALF)
PLAIN = net("")


def numpy_pass(cx) -> dict[str, np.ndarray]:
    """The forward and backward pass at a counterexample's point, in NumPy: W[l][i, j] into neuron i from j."""
    x = np.array([cx.inputs["x[1]"], cx.inputs["x[2]"]])
    y = np.array([cx.targets["y[1]"], cx.targets["y[2]"]])
    p = cx.parameters
    w1 = np.array([[p[f"W1[{i},{j}]"] for j in (1, 2)] for i in (1, 2, 3)])
    w2 = np.array([[p[f"W2[{i},{j}]"] for j in (1, 2, 3)] for i in (1, 2)])
    b1 = np.array([p[f"b1[{i}]"] for i in (1, 2, 3)])
    b2 = np.array([p[f"b2[{i}]"] for i in (1, 2)])
    z1 = w1 @ x + b1
    h = np.maximum(z1, 0.0)
    scores = w2 @ h + b2
    probs = np.exp(scores - scores.max())
    probs /= probs.sum()
    dscores = probs - y  # y is one-hot: the class label's row
    dhidden = w2.T @ dscores
    dz1 = dhidden * (z1 > 0)
    return {"x": x, "y": y, "p": probs, "dscores": dscores, "dhidden": dhidden, "dz1": dz1, "h": h}


def element(cx) -> tuple[int, ...]:
    """W1[3,1] → (2, 0): the counterexample's element as NumPy indices."""
    inside = cx.element.split("[", 1)[1].rstrip("]")
    return tuple(int(k) - 1 for k in inside.split(","))


# ----------------------------------------------------------------- right as the notes write them
RIGHT = [
    r"\frac{\partial L_i}{\partial f_k} = p_k - \mathbb{1}(y_i = k)",
    r"\frac{\partial L_i}{\partial f_{k}} = p_k - y_k",  # with one-hot targets written as such
    r"\frac{\partial L_i}{\partial p_k} = -\frac{\mathbb{1}(y_i = k)}{p_{y_i}}",  # p_{y_i}: the label's entry
    r"\frac{\partial L_i}{\partial f_k} = p_k - \mathbb{1}(y_i = k) + f_{y_i} - f_{y_i}",
    r"dscores_k = p_k - \mathbb{1}(y_i = k)",
    r"dscores = p - y",
    r"dW2_{ij} = h_i dscores_j",
    r"dW_2 = \frac{\partial L}{\partial W^{(2)}}",
    r"db2 = dscores",
    r"db_2 = p - y",
    r"dprobs_k = -\frac{y_k}{p_k}",
    r"dhidden_j = \sum_k W2_{jk} dscores_k",
    r"dh_j = \sum_k W^{(2)}_{jk} dscores_k",
    r"dW1_{ij} = x_i dhidden_j [z^{(1)}_j > 0]",
    r"db1_j = dh_j [z^{(1)}_j > 0]",
    r"\frac{\partial L}{\partial f_k} = \frac{\partial L}{\partial p_k} p_k (1 - p_k)"
    r" - \sum_{r} \frac{\partial L}{\partial p_r} p_r p_k + \frac{\partial L}{\partial p_k} p_k p_k",
]  # fmt: skip


@pytest.mark.parametrize("formula", RIGHT)
def test_the_notes_formulas_are_right_under_the_preset(formula: str) -> None:
    v = verify(CS231N, None, formula)
    assert v.right, v.text()


def test_each_reading_is_stated_in_english_and_chinese() -> None:
    v = verify(CS231N, None, r"\frac{\partial L_i}{\partial f_k} = p_k - \mathbb{1}(y_i = k)")
    assert LetterMeaning("f", "output_pre_activation") in v.notes
    assert LetterMeaning("p", "output") in v.notes
    assert ExampleLabel("y_i", "i") in v.notes
    en, zh = v.text(), v.text("zh")
    assert "f read as the output layer's pre-activation (the scores)" in en
    assert "y_i read as the class label of the example i" in en
    assert "f 按记号的声明理解为输出层激活前的值（得分）" in zh
    assert "y_i 按样本 i 的类别标签理解" in zh

    v = verify(CS231N, None, r"dW2_{ij} = h_i dscores_j")
    assert CodeName("dW2_{ij}", "W", 2, "W") in v.notes
    assert CodeName("dscores_j", "scores", 2, "f") in v.notes
    assert "dW2_{ij} read as ∂L/∂W, the gradient by the weights of layer 2, as code names it" in v.text()
    assert "dscores_j 按代码中的写法理解为 ∂L/∂f，即代价对第 2 层得分" in v.text("zh")
    dh = verify(CS231N, None, r"dh_j = \sum_k W2_{jk} dscores_k")
    assert CodeName("dh_j", "hidden", 1, "h") in dh.notes
    assert "the hidden layer's activation of layer 1" in dh.text()


# ----------------------------------------------------------------- wrong, recomputed in NumPy
def test_the_sign_of_p_minus_the_indicator_is_wrong_with_numpy_numbers() -> None:
    v = verify(CS231N, None, r"dscores_k = \mathbb{1}(y_i = k) - p_k")
    assert not v.right and "sign" in v.codes
    cx = v.counterexample
    assert cx is not None and cx.element.startswith("z2[")
    (k,) = element(cx)
    ours = numpy_pass(cx)
    assert cx.correct == pytest.approx(ours["p"][k] - ours["y"][k], rel=1e-9)
    assert cx.given == pytest.approx(ours["y"][k] - ours["p"][k], rel=1e-9)


def test_the_entry_at_the_label_is_read_with_numpy_numbers() -> None:
    """p_{y_i} is the probability of example i's class: ∂L_i/∂p_k without its minus, recomputed in NumPy."""
    v = verify(CS231N, None, r"\frac{\partial L_i}{\partial p_k} = \frac{\mathbb{1}(y_i = k)}{p_{y_i}}")
    assert not v.right and "sign" in v.codes
    cx = v.counterexample
    (k,) = element(cx)
    ours = numpy_pass(cx)
    label = int(np.argmax(ours["y"]))
    assert cx.given == pytest.approx(ours["y"][k] / ours["p"][label], rel=1e-9)
    assert cx.correct == pytest.approx(-ours["y"][k] / ours["p"][k], rel=1e-9)
    spec = SPEC.format(notation='preset = "cs231n"', regularization="").replace('"labels"', '"distribution"')
    with pytest.raises(FormulaError, match="one-hot or label targets"):
        verify(derive.derive(derive.loads(spec)), None, r"\frac{\partial L_i}{\partial f_k} = f_{y_i}")


def test_a_missing_relu_derivative_is_wrong_with_numpy_numbers() -> None:
    v = verify(CS231N, None, r"dW1_{ij} = x_i dhidden_j")
    assert not v.right and "missing_derivative" in v.codes
    cx = v.counterexample
    assert cx is not None and cx.element.startswith("W1[")
    row, col = element(cx)  # derive's W1[i, j]: into hidden neuron i from input j
    ours = numpy_pass(cx)
    assert cx.given == pytest.approx(ours["x"][col] * ours["dhidden"][row], rel=1e-9)
    assert cx.correct == pytest.approx(ours["x"][col] * ours["dz1"][row], abs=1e-12)
    assert ours["dz1"][row] == 0.0  # where the ReLU is off


def test_swapped_indices_of_dw2_are_wrong_with_numpy_numbers() -> None:
    v = verify(CS231N, None, r"dW2_{ij} = h_j dscores_i")
    assert not v.right
    cx = v.counterexample
    row, col = element(cx)  # W2[row, col]: into output neuron row from hidden neuron col; dW2_{ij} has i = col
    ours = numpy_pass(cx)
    assert cx.correct == pytest.approx(ours["dscores"][row] * ours["h"][col], abs=1e-12)


# ----------------------------------------------------------------- the regularised batch cost
BATCH_RIGHT = [
    r"L = \frac{1}{N} \sum_i L_i + \frac{1}{2} \lambda \sum_k \sum_l W_{k,l}^2",
    r"L = \frac{1}{N} \sum_i L_i + \frac{1}{2} \lambda \sum_k \sum_l (W^{(1)}_{kl})^2"
    r" + \frac{1}{2} \lambda \sum_k \sum_l (W^{(2)}_{kl})^2",
    r"L = \frac{1}{N} \sum_i L_i + \frac{1}{2} \lambda \sum_k \sum_l W1_{k,l}^2"
    r" + \frac{1}{2} \lambda \sum_k \sum_l W2_{k,l}^2",
    r"L = \frac{1}{N} \sum_i L_i + \frac{1}{2} \lambda \sum_m \sum_k \sum_l (W^{(m)}_{kl})^2",
]  # fmt: skip


@pytest.mark.parametrize("formula", BATCH_RIGHT)
def test_the_regularised_batch_cost_is_right(formula: str) -> None:
    v = verify(CS231N_REG, None, formula)
    assert v.right, v.text()


@pytest.mark.parametrize(
    ("formula", "code"),
    [
        (r"L = \sum_i L_i + \frac{1}{2} \lambda \sum_k \sum_l W_{k,l}^2", "batch_sum"),  # the /N forgotten
        (r"L = \frac{1}{N} \sum_i L_i + \lambda \sum_k \sum_l W_{k,l}^2", "penalty_scale"),  # ½ of the half form
        (r"L = \frac{1}{N} \sum_i L_i + \frac{1}{2} \lambda \sum_k \sum_l (W^{(2)}_{kl})^2", "penalty_scale"),
    ],
)
def test_regularised_batch_cost_mistakes_are_named(formula: str, code: str) -> None:
    v = verify(CS231N_REG, None, formula)
    assert not v.right and code in v.codes, v.text()


def test_the_penalty_of_one_layer_is_that_layers_squares() -> None:
    """Σ_k Σ_l (W^{(2)}_{kl})² alone is the second layer's ‖W‖²: the cost with the first layer's left out is wrong by
    exactly λ/2 ‖W^{(1)}‖², recomputed from the counterexample's numbers."""
    v = verify(CS231N_REG, None, r"L = \frac{1}{N} \sum_i L_i + \frac{1}{2} \lambda \sum_k \sum_l (W^{(2)}_{kl})^2")
    cx = v.counterexample
    assert cx is not None
    numbers = {**cx.inputs, **cx.targets, **cx.parameters}
    lam, first = numbers["λ"], numbers["‖W^(1)‖²"]
    assert cx.correct - cx.given == pytest.approx(lam / 2 * first, rel=1e-9)


def test_the_batch_gradient_by_its_code_name() -> None:
    """dW2 = (1/N) Σ_i ∂L_i/∂W2 + λ W2 (the half form's gradient): the code name is the left side's ∂L/∂W2."""
    right = verify(CS231N_REG, None, r"dW2 = \frac{1}{N} \sum_i \frac{\partial L_i}{\partial W2} + \lambda W2")
    assert right.right, right.text()
    assert CodeName("dW2", "W", 2, "W") in right.notes
    assert verify(CS231N_REG, None, r"dW = \frac{1}{N} \sum_i \frac{\partial L_i}{\partial W} + \lambda W").right
    summed = verify(CS231N_REG, None, r"dW2 = \sum_i \frac{\partial L_i}{\partial W2} + \lambda W2")
    assert "batch_sum" in summed.codes
    assert r"\frac{\partial L^{(s)}}{\partial W2} + \lambda W2" in summed.correct
    bias = verify(CS231N_REG, None, r"db2 = \frac{1}{N} \sum_i \frac{\partial L_i}{\partial b2} + \lambda b2")
    assert "penalty_without" in bias.codes and r"\partial b2}" in bias.correct
    assert "db2 read as ∂L/∂b, the gradient by the biases of layer 2" in bias.text()


@pytest.mark.parametrize(
    ("formula", "says"),
    [
        (r"L = \frac{1}{N} \sum_i L_i + \frac{1}{2} \lambda \sum_k W_{k,l}^2", "both its indices"),
        (r"L = \frac{1}{N} \sum_i L_i + \frac{1}{2} \lambda \sum_k \sum_l x_{k}^2", "the weights' entries"),
        (r"L = \frac{1}{N} \sum_i L_i + \frac{1}{2} \lambda \sum_k \sum_l (W^{(7)}_{kl})^2", "layer 7 does not exist"),
    ],
)
def test_sums_of_squares_that_are_no_penalty_are_not_understood(formula: str, says: str) -> None:
    with pytest.raises(FormulaError, match=says):
        verify(CS231N_REG, None, formula)


# ----------------------------------------------------------------- other notations: not understood, naming the option
@pytest.mark.parametrize("formula", [r"dW2_{ij} = a^{(1)}_i \delta^{(2)}_j", r"db2 = dscores", r"dh_1 = 0"])
def test_code_names_need_the_option_elsewhere(formula: str) -> None:
    with pytest.raises(FormulaError, match='gradient_names = "code"'):
        verify(PLAIN, None, formula)


def test_the_option_alone_reads_code_names() -> None:
    d = net('gradient_names = "code"')
    assert verify(d, None, r"dW2_{ij} = a^{(1)}_j \delta^{(2)}_i").right  # derive's own to-from order
    assert verify(d, None, r"db2 = a^{(2)} - y").right


def test_y_i_needs_the_example_letter_elsewhere() -> None:
    with pytest.raises(FormulaError, match="example_index"):
        verify(PLAIN, "delta2[1]", r"a^{(2)}_1 - \mathbb{1}(y_i = 1)")
    d = net('example_index = "i"')
    assert verify(d, "delta2[1]", r"a^{(2)}_1 - \mathbb{1}(y_i = 1)").right


def test_an_example_letter_bound_as_an_index_is_not_the_example() -> None:
    with pytest.raises(FormulaError, match="one sample's label among many"):
        verify(CS231N, None, r"\frac{\partial L}{\partial f_i} = p_i - \mathbb{1}(y_i = i)")


def test_a_subscript_word_stays_letters() -> None:
    """w_{db} with node letters is the weight into d from b, not a code name."""
    spec = SPEC.replace("relu", "sigmoid").replace("softmax", "sigmoid").replace('targets = "labels"\n', "")
    spec = spec.replace('loss = "cross_entropy"', 'loss = "squared_error"').replace("units = 3", "units = 2")
    letters = 'preset = "article000"\nletters = ["a","b","c","d","e","f"]'
    d = derive.derive(derive.loads(spec.format(notation=letters, regularization="")))
    assert verify(d, None, r"\frac{\partial E}{\partial w_{db}} = \delta_d x_b").right


# ----------------------------------------------------------------- letters without a layer, and the option's checks
def test_h_without_a_layer_is_the_hidden_layers_under_the_preset() -> None:
    v = verify(CS231N, None, r"\frac{\partial L}{\partial W^{(2)}} = h^T dscores")
    assert v.right, v.text()
    v = verify(CS231N, None, r"dW2 = h^T \, dscores")  # the notes' dW2 = np.dot(h.T, dscores): the row layout
    assert v.right, v.text()
    assert CodeName("dscores", "scores", 2, "f") in v.notes  # named without its transpose


def test_the_output_letter_f_cannot_also_be_the_function() -> None:
    with pytest.raises(SpecError, match="output_pre_activation: 'f' is already the letter of notation.function"):
        Notation(function="f", output_pre_activation="f")
    with pytest.raises(SpecError, match="already names the output's pre-activation"):
        Notation(output_pre_activation="s", letters=("s", "t"))


# ----------------------------------------------------------------- documents write f and p
def test_a_cs231n_document_writes_the_scores_f_and_probabilities_p() -> None:
    for lang, sentence in (("en", "The output layer has letters of its own"), ("zh", "输出层有自己的字母")):
        md = CS231N.render("md", lang)
        assert sentence in md
        assert r"p_{1} &= \frac{e^{f_{1}}}{e^{f_{1}} + e^{f_{2}}}" in md
        assert "z^{(2)}" not in md and re.search(r"(?<!\\delt)a\^\{\(2\)\}", md) is None
        tex = CS231N.render("tex", lang)
        assert r"\frac{\partial p_{1}}{\partial f_{1}}" in tex
    plain = PLAIN.render("md")
    assert "letters of its own" not in plain and "f_{1}" not in plain


def test_what_a_cs231n_document_and_verdict_print_reads_back() -> None:
    """The exercises' answers and a wrong verdict's correct form, written with f, p and h, verify right as printed."""
    doc = build(CS231N, check(CS231N))
    assert doc.exercises
    for e in doc.exercises:
        assert verify(CS231N, e.param, e.answer).right, e.answer
    for wrong in (r"dscores_k = \mathbb{1}(y_i = k) - p_k", r"dW1_{ij} = x_i dhidden_j", r"dW2 = h dscores"):
        correct = verify(CS231N, None, wrong).correct
        assert "f_{1}" in correct or "p_{1}" in correct or "h^{(1)}" in correct, correct
        assert verify(CS231N, None, correct).right, correct
    matrix = r"\delta^{(2)} = \nabla_{p} L \frac{\partial p}{\partial f}"  # the document's δ of the output, in rows
    assert matrix.split(" = ")[1] + r" \\" in CS231N.render("md")
    assert verify(CS231N, None, matrix).right


def test_f_as_a_function_is_not_understood_where_it_is_the_scores() -> None:
    """Under cs231n f is the scores: f'(z) is not silently the activation's derivative; g' and ReLU' still are."""
    formula = r"\delta^{(1)}_j = f'(z^{(1)}_j) \sum_k W^{(2)}_{jk} \delta^{(2)}_k"
    with pytest.raises(FormulaError, match="f is the output layer's pre-activation"):
        verify(CS231N, None, formula)
    assert verify(CS231N, None, formula.replace("f'", "g'")).right
    assert verify(PLAIN, None, formula.replace("{jk}", "{kj}")).right  # f of a layer elsewhere (W into k from j)


def test_a_weight_matrix_with_one_number_below_it_is_that_layers() -> None:
    """W_2 is layer 2's matrix in any notation (an element would take two indices), and the verdict says so."""
    v = verify(PLAIN, None, r"\frac{\partial C}{\partial W_2} = \delta^{(2)} (a^{(1)})^T")
    assert v.right and v.elements == 6, v.text()  # all of W2: 2 × 3
    assert "the subscript of W_2 is read as its layer" in v.text()
    wrong = verify(PLAIN, None, r"\frac{\partial C}{\partial W_1} = \delta^{(2)} (a^{(1)})^T")
    assert not wrong.right  # layer 1's gradient is δ^{(1)} xᵀ, of another shape
