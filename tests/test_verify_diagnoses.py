"""The verifier's diagnoses of wrong formulas that used to be missed or misreported (issue 16, point 5).

Each formula is written by hand to make one mistake, so the reason expected follows from the formula: a wrong
formula whose indices clash is still answered wrong (with the clash named); a general-layer formula (a free
layer letter l) is diagnosed in the general layer and its correct form written in l; a σ′ of the wrong layer
is named even when the shapes clash; a linear output gives no false reason; and a formula that is another
parameter's gradient says which.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from derive import Layer, Network, load
from derive.errors import DeriveError
from derive.verify import verify
from derive.verify.findings import IndexClash, Shape
from derive.verify.mistakes import MissingDerivative, OtherGradient, WrongLayerDerivative

ROOT = Path(__file__).resolve().parent.parent
WHY = {"en": "  why: ", "zh": "  原因："}

# three sigmoid layers (2-3-3-2): the general layer l takes the values 1 and 2 in a recursion to l + 1
DEEP = Network(inputs=2, layers=(Layer(3, "sigmoid"), Layer(3, "sigmoid"), Layer(2, "sigmoid")), loss="squared_error")
# a linear (identity) output under the squared error: δ of the outputs is a − y, and the output's g′ is 1
LINEAR = Network(inputs=2, layers=(Layer(2, "sigmoid"), Layer(2, "identity")), loss="squared_error")
# logistic regression with two outputs: δ = a − y, ∂C/∂W_{ij} = (a_i − y_i) x_j
LOGREG = Network(inputs=2, layers=(Layer(2, "sigmoid"),), loss="binary_cross_entropy")


def seed(name: str) -> Network:
    return load(ROOT / "examples" / f"{name}.toml")


def why(v, lang: str = "en") -> list[str]:
    return [line.removeprefix(WHY[lang]) for line in v.text(lang).splitlines() if line.startswith(WHY[lang])]


def correct_line(v, lang: str = "en") -> str:
    label = {"en": "  correct: ", "zh": "  正确形式："}[lang]
    return next(line.removeprefix(label) for line in v.text(lang).splitlines() if line.startswith(label))


# ------------------------------------------------------------------ 1. indices that clash
def test_a_formula_whose_indices_clash_is_wrong_not_unreadable() -> None:
    # ∂J/∂W^{(1)}_{ij} = δ^{(1)}_i x_i on seed003 (3 inputs, 4 hidden): i runs to 4, x has 3 entries
    v = verify(seed("seed003"), None, r"\frac{\partial J}{\partial W^{(1)}_{ij}} = \delta^{(1)}_i x_i")
    assert not v
    clash = next(d for d in v.diagnoses if isinstance(d, IndexClash))
    assert (clash.letter, clash.name, clash.size, clash.runs) == ("i", "x_i", 3, 4)
    assert "the indices do not match the parameter's: i runs from 1 to 4, but x_i has only 3" in why(v)[0]
    assert "指标与参数的指标不一致" in why(v, "zh")[0]


def test_where_the_clashing_formula_reads_it_is_compared() -> None:
    # i = 1, 2, 3 can be read (x_1 … x_3): the counterexample is one of them, W^{(1)}_{ij} with i ≤ 3
    v = verify(seed("seed003"), None, r"\frac{\partial J}{\partial W^{(1)}_{ij}} = \delta^{(1)}_i x_i")
    assert v.counterexample is not None and v.counterexample.element == "W1[1,2]"
    assert v.elements == 3 * 3
    # and each of them is ∂J/∂W^{(1)}_{ii}: the output index written for the input index
    assert OtherGradient("W1[i,i]", "input") in v.diagnoses, v.diagnoses
    assert "this is the gradient of W1[i,i]: the input index is wrong" in why(v)


def test_a_whole_matrix_of_other_gradients() -> None:
    # (a_j − y_j) x_j is ∂C/∂W1[j,j] for every W1[i,j]: the input's index written where the output's belongs
    square = Network(inputs=2, layers=(Layer(2, "sigmoid"),), loss="binary_cross_entropy")
    v = verify(square, "W1[i,j]", "(a_j - y_j) x_j")
    assert OtherGradient("W1[j,j]", "output") in v.diagnoses, v.diagnoses


def test_a_sum_over_too_many_terms_is_still_not_understood() -> None:
    # the clash is the formula's own sum limit, not the parameter's index: nothing is bound by the parameter
    with pytest.raises(DeriveError, match="out of range"):
        verify(seed("seed001"), None, r"\delta^{(1)}_j = \sum_{k=1}^{3} \theta^{(1)}_{kj}\delta^{(2)}_k")


def test_a_formula_that_reads_for_no_element_is_still_not_understood() -> None:
    with pytest.raises(DeriveError, match="out of range"):
        verify(seed("seed004"), "W1[1,1]", "x_4")


# ------------------------------------------------------------------ 2. a free layer letter l
def test_missing_derivative_in_the_general_layer() -> None:
    v = verify(DEEP, None, r"\delta^{(l)} = (W^{(l+1)})^T \delta^{(l+1)}")
    assert not v
    assert MissingDerivative(0, "l") in v.diagnoses, v.diagnoses
    assert "the derivative of layer l's activation is missing (a factor such as σ'(z) = a(1 − a))" in why(v)
    assert "缺少第 l 层激活函数的导数（例如 σ'(z) = a(1 − a) 这一因子）" in why(v, "zh")


def test_missing_derivative_in_the_general_layer_element_by_element() -> None:
    v = verify(DEEP, None, r"\delta^{(l)}_j = \sum_k W^{(l+1)}_{kj} \delta^{(l+1)}_k")
    assert MissingDerivative(0, "l") in v.diagnoses, v.diagnoses


def test_the_correct_form_of_a_general_layer_formula_is_written_in_l() -> None:
    v = verify(DEEP, None, r"\delta^{(l)} = (W^{(l+1)})^T \delta^{(l+1)}")
    line = correct_line(v)
    assert line.startswith(r"\delta^{(l)} = ") and r"\delta^{(l+1)}" in line and "(z^{(l)})" in line, line
    element = verify(DEEP, None, r"\delta^{(l)}_j = \sum_k W^{(l+1)}_{kj} \delta^{(l+1)}_k")
    line = correct_line(element)
    assert line.startswith(r"\delta^{(l)}_{") and r"\sum_{k=1}^{n^{(l+1)}}" in line, line
    gradient = verify(DEEP, None, r"\frac{\partial C}{\partial W^{(l)}_{ij}} = \delta^{(l)}_j a^{(l-1)}_j")
    assert correct_line(gradient).startswith(r"\frac{\partial C}{\partial W^{(l)}_{"), correct_line(gradient)


def test_a_right_general_layer_formula_stays_right() -> None:
    assert verify(DEEP, None, r"\delta^{(l)} = (W^{(l+1)})^T \delta^{(l+1)} \odot \sigma'(z^{(l)})")
    assert verify(DEEP, None, r"\delta^{(l)}_j = \sum_k W^{(l+1)}_{kj} \delta^{(l+1)}_k \sigma'(z^{(l)}_j)")
    assert verify(DEEP, None, r"\frac{\partial C}{\partial W^{(l)}_{ij}} = \delta^{(l)}_i a^{(l-1)}_j")


def test_a_shape_clash_for_one_value_of_l_leaves_the_others_compared() -> None:
    # δ^{(l+1)} for ∂C/∂b^{(l)}: for l = 1 both are 3×1 (and the numbers differ), for l = 2 δ^{(3)} is 2×1
    v = verify(DEEP, None, r"\frac{\partial C}{\partial b^{(l)}} = \delta^{(l+1)}")
    assert not v and v.counterexample is not None and v.counterexample.element == "b1[1]"
    assert Shape("for l = 2, the formula is 2×1 but b2 is 3×1") in v.diagnoses, v.diagnoses
    assert correct_line(v) == r"\frac{\partial C}{\partial b^{(l)}} = \delta^{(l)}"


# ------------------------------------------------------------------ 3. σ′ of the wrong layer
WRONG_LAYER_EN = "the derivative of layer l+1's activation is taken where layer l's belongs"
WRONG_LAYER_ZH = "用了第 l+1 层激活函数的导数，应为第 l 层的"


def test_a_derivative_of_the_next_layer_is_named_where_some_layers_read() -> None:
    # DEEP: for l = 1 (W^{(2)})^T δ^{(2)} and σ'(z^{(2)}) are both 3×1; for l = 2, σ'(z^{(3)}) is 2×1 and clashes
    v = verify(DEEP, None, r"\delta^{(l)} = (W^{(l+1)})^T \delta^{(l+1)} \odot \sigma'(z^{(l+1)})")
    assert not v
    assert WrongLayerDerivative(1, None, "l") in v.diagnoses, v.diagnoses
    assert WRONG_LAYER_EN in why(v)
    assert WRONG_LAYER_ZH in why(v, "zh")


def test_a_derivative_of_the_next_layer_is_named_where_no_layer_reads() -> None:
    # seed001 (2-3-2, θ^{(l)} leaving layer l): (θ^{(1)})^T δ^{(2)} is 3×1 and σ'(z^{(2)}) 2×1, for the only l
    formula = r"\delta^{(l)} = (\theta^{(l)})^T \delta^{(l+1)} \odot \sigma'(z^{(l+1)})"
    v = verify(seed("seed001"), None, formula)
    assert not v
    assert v.codes == ("shape", "wrong_layer_derivative"), v.diagnoses
    assert WrongLayerDerivative(1, None, "l") in v.diagnoses
    assert WRONG_LAYER_EN in why(v) and WRONG_LAYER_ZH in why(v, "zh")
    # seed003: ReLU' of the softmax layer 2 (4×1 against 2×1) where ReLU' of layer 1 belongs
    relu = verify(seed("seed003"), None, r"\delta^{(1)} = (W^{(2)})^T \delta^{(2)} \odot \operatorname{ReLU}'(z^{(2)})")
    assert WrongLayerDerivative(2, None) in relu.diagnoses, relu.diagnoses
    # σ' of the right layer but the wrong function (seed003's layer 1 is ReLU): no edit of the layer makes it right
    sigma = verify(seed("seed003"), None, r"\delta^{(l)} = (W^{(l+1)})^T \delta^{(l+1)} \odot \sigma'(z^{(l+1)})")
    assert sigma.codes == ("shape",), sigma.diagnoses


def test_a_derivative_of_the_next_layer_in_a_named_layer() -> None:
    # the same mistake without the letter l: δ^{(1)} with σ'(z^{(2)}) on seed001, 3×1 against 2×1
    v = verify(seed("seed001"), None, r"\delta^{(1)} = (\theta^{(1)})^T \delta^{(2)} \odot \sigma'(z^{(2)})")
    assert v.codes == ("shape", "wrong_layer_derivative") and WrongLayerDerivative(2, None) in v.diagnoses
    # element by element, j runs over layer 1's 3 neurons and z^{(2)} has 2: j = 1, 2 are compared
    element = verify(
        seed("seed001"), None, r"\delta^{(1)}_j = \sum_k \theta^{(1)}_{kj} \delta^{(2)}_k \sigma'(z^{(2)}_j)"
    )
    assert element.codes == ("index_clash", "wrong_layer_derivative"), element.diagnoses


def test_a_derivative_of_the_next_layer_element_by_element() -> None:
    # σ'(z^{(l+1)}_j): j runs over layer l's 3 neurons, layer l + 1 = 3 (the output) has 2
    v = verify(DEEP, None, r"\delta^{(l)}_j = \sum_k W^{(l+1)}_{kj} \delta^{(l+1)}_k \sigma'(z^{(l+1)}_j)")
    assert not v
    assert "wrong_layer_derivative" in v.codes, v.diagnoses
    assert WRONG_LAYER_EN in why(v)


# ------------------------------------------------------------------ 4. a linear output
def test_a_linear_output_gives_no_false_reason() -> None:
    # δ^{(1)}_1 without σ'(z^{(1)}_1): the output's g′ is 1, so "g′ of layer 2 in its place" is not a second reason
    v = verify(LINEAR, "delta1[1]", r"\sum_k W^{(2)}_{k1} \delta^{(2)}_k")
    assert v.codes == ("missing_derivative",), v.codes


# ------------------------------------------------------------------ 5. another parameter's gradient
def test_a_formula_that_is_another_weights_gradient_says_which() -> None:
    v = verify(LOGREG, "W1[1,2]", "(a_1 - y_1) x_1")
    assert not v
    assert OtherGradient("W1[1,1]", "input") in v.diagnoses, v.diagnoses
    assert "this is the gradient of W1[1,1]: the input index is wrong" in why(v)
    assert "这是 W1[1,1] 的梯度：输入端的指标错了" in why(v, "zh")


def test_the_output_index_and_a_bias() -> None:
    v = verify(LOGREG, "W1[1,2]", "(a_2 - y_2) x_2")
    assert OtherGradient("W1[2,2]", "output") in v.diagnoses, v.diagnoses
    assert "this is the gradient of W1[2,2]: the output index is wrong" in why(v)
    bias = verify(LOGREG, "b1[1]", "a_2 - y_2")
    assert OtherGradient("b1[2]", "output") in bias.diagnoses, bias.diagnoses


def test_the_transposed_weight_is_named_as_transposed_only() -> None:
    # ∂C/∂W_{21} for W_{12}: the transposed mistake says it; no second reason for the same thing
    v = verify(LOGREG, "W1[1,2]", "(a_2 - y_2) x_1")
    assert "transposed" in v.codes and "other_gradient" not in v.codes, v.codes


def test_another_gradient_is_found_on_a_wide_layer() -> None:
    wide = Network(inputs=300, layers=(Layer(200, "sigmoid"),), loss="binary_cross_entropy")
    v = verify(wide, "W1[150,7]", "(a_{150} - y_{150}) x_{250}")
    assert OtherGradient("W1[150,250]", "input") in v.diagnoses, v.diagnoses


def test_right_formulas_stay_right() -> None:
    assert verify(LOGREG, "W1[1,2]", "(a_1 - y_1) x_2")
    assert verify(LINEAR, "delta1[1]", r"\sum_k W^{(2)}_{k1} \delta^{(2)}_k \sigma'(z^{(1)}_1)")
    assert verify(seed("seed003"), None, r"\frac{\partial J}{\partial W^{(1)}_{ij}} = \delta^{(1)}_i x_j")
