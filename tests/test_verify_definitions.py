"""Definitions of the forward pass as statements (derive/verify/definition.py), in the sources' notations.

A statement whose left side is z, a, the output or the input is a definition, never a gradient: right ones verify
right under their preset, wrong ones are wrong with their mistake, and a counterexample's numbers are those of a
NumPy forward pass written here from the values the verdict prints.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from conftest import ROOT

import derive
from derive import DeriveError
from derive.verify import verify


def spec(notation: str, hidden: str = "sigmoid", out: str = "sigmoid", loss: str = "squared_error", extra="") -> str:
    return (
        f'inputs = 2\nloss = "{loss}"\n{extra}[[layer]]\nunits = 3\nactivation = "{hidden}"\n'
        f'[[layer]]\nunits = 2\nactivation = "{out}"\n[notation]\n{notation}\n'
    )


NETS = {
    "default": spec(""),
    "nielsen": spec('preset = "nielsen"'),
    "ng": spec('preset = "ng"', loss="binary_cross_entropy"),
    "goodfellow": spec('preset = "goodfellow"'),
    "bishop": spec('preset = "bishop"', hidden="tanh", out="identity"),
    "bishop_unbiased": spec('preset = "bishop"', hidden="tanh", out="identity", extra="bias = false\n"),
    # Bishop's and Wikipedia's letters with the bias written apart: their sums over the layer below start at 1
    "bishop_separate": spec('preset = "bishop"\nbias = "separate"', hidden="tanh", out="identity"),
    "wikipedia": spec('preset = "wikipedia"'),
    "wikipedia_separate": spec('preset = "wikipedia"\nbias = "separate"'),
    "softmax": spec("", hidden="relu", out="softmax", loss="cross_entropy"),
    "square": spec(""),
}
NETS["square"] = NETS["square"].replace("inputs = 2", "inputs = 3").replace("units = 2", "units = 3")
DERIVED = {name: derive.derive(derive.loads(text)) for name, text in NETS.items()}

RIGHT = [
    ("default", r"z^{(1)} = W^{(1)} x + b^{(1)}"),
    ("default", r"a^{(2)} = \sigma(z^{(2)})"),
    ("default", r"z^{(l)} = W^{(l)} a^{(l-1)} + b^{(l)}"),
    ("default", r"a^{(l)}_i = \sigma\left(\sum_j W^{(l)}_{ij} a^{(l-1)}_j + b^{(l)}_i\right)"),
    ("default", r"z^{(2)}_1 = W^{(2)}_{11} a^{(1)}_1 + W^{(2)}_{12} a^{(1)}_2 + W^{(2)}_{13} a^{(1)}_3 + b^{(2)}_1"),
    ("default", r"a^{(0)} = x"),
    ("nielsen", r"a^l = \sigma(w^l a^{l-1} + b^l)"),
    ("nielsen", r"z^l = w^l a^{l-1} + b^l"),
    ("nielsen", r"a^l_j = \sigma\left(\sum_k w^l_{jk} a^{l-1}_k + b^l_j\right)"),
    ("nielsen", r"a^l = \sigma(z^l)"),
    ("ng", r"a^{(1)} = x"),
    ("ng", r"a^{(2)} = g(z^{(2)})"),
    ("ng", r"z^{(3)} = \Theta^{(2)} a^{(2)} + b^{(3)}"),
    ("goodfellow", r"a^{(1)} = b^{(1)} + W^{(1)} x"),
    ("goodfellow", r"h^{(1)} = f(a^{(1)})"),
    ("goodfellow", r"\hat{y} = f(a^{(2)})"),
    ("bishop", r"z_j = h(a_j)"),
    ("bishop_unbiased", r"a_j = \sum_i w_{ji} x_i"),
    ("bishop_unbiased", r"y_k = \sum_j w_{kj} z_j"),
    ("wikipedia", r"o_j = \varphi(\text{net}_j)"),
    ("wikipedia", r"o_j = \phi(\text{net}_j)"),
    ("wikipedia", r"\text{net}_j = \sum_k w_{kj} o_k + b_j"),
    ("softmax", r"a^{(2)}_k = \frac{e^{z^{(2)}_k}}{\sum_j e^{z^{(2)}_j}}"),
    ("softmax", r"a^{(2)} = \operatorname{softmax}(z^{(2)})"),
    ("softmax", r"a^{(1)}_j = \max(0, z^{(1)}_j)"),
]


@pytest.mark.parametrize(("name", "formula"), RIGHT)
def test_a_right_definition_is_right_and_read_as_one(name: str, formula: str) -> None:
    v = verify(DERIVED[name], None, formula)
    assert v.right, v.text()
    assert v.notes[0].code == "definition"
    assert "a definition of the forward pass" in v.text()
    assert "前向传播的定义" in v.text("zh")


WRONG = [
    ("nielsen", r"z^l = w^l a^{l-1}", "bias_missing"),
    ("default", r"a^{(2)} = W^{(2)} a^{(1)} + b^{(2)}", "activation_missing"),
    ("default", r"z^{(1)} = \sigma(W^{(1)} x + b^{(1)})", "activation_applied"),
    ("default", r"a^{(1)} = \tanh(W^{(1)} x + b^{(1)})", "wrong_activation"),
    ("square", r"z^{(2)} = W^{(2)} a^{(2)} + b^{(2)}", "wrong_input_layer"),
    ("square", r"z^{(2)}_i = \sum_j W^{(2)}_{ji} a^{(1)}_j + b^{(2)}_i", "transposed"),
    ("nielsen", r"a^l = \sigma(w^l a^l + b^l)", "wrong_input_layer"),
    ("nielsen", r"z^l = (w^l)^T a^{l-1} + b^l", "transposed"),
    ("nielsen", r"a^l_j = \sigma\left(\sum_k w^l_{kj} a^{l-1}_k + b^l_j\right)", "transposed"),
    ("nielsen", r"z^l_j = w^l_{jk} a^{l-1}_k + b^l_j", "definition_sum"),
    ("bishop_separate", r"a_j = \sum_i w_{ji} x_i", "bias_missing"),
    ("wikipedia_separate", r"\text{net}_j = \sum_k w_{kj} o_k", "bias_missing"),
]
WORDS = {
    "bias_missing": "the bias is missing",
    "activation_missing": "the activation is missing",
    "activation_applied": "the activation is applied too early",
    "wrong_activation": "the activation function is wrong",
    "wrong_input_layer": "the layer is wrong",
    "transposed": "indices are transposed",
    "definition_sum": "is not summed",
}


@pytest.mark.parametrize(("name", "formula", "code"), WRONG)
def test_a_wrong_definition_names_its_mistake(name: str, formula: str, code: str) -> None:
    v = verify(DERIVED[name], None, formula)
    assert not v.right, v.text()
    assert code in v.codes, v.text()
    assert WORDS[code] in v.text(), v.text()
    assert "counterexample" not in v.text() or "the forward pass gives" in v.text()
    assert "the derivative is" not in v.text()  # never read as a gradient
    assert v.text("zh").count("原因") == v.text().count("why:")


def test_bishop_bias_words_say_where_his_bias_is() -> None:
    v = verify(DERIVED["bishop_separate"], None, r"a_j = \sum_i w_{ji} x_i")
    assert "w_{j0} with x_0 = 1" in v.text() and "bias = false" in v.text()


# ---------------------------------------------------------------- independent numbers
def forward(x: np.ndarray, weights: list[np.ndarray], biases: list[np.ndarray], acts: list) -> list[tuple]:
    """(z, a) of every layer, written here."""
    out, a = [], x
    for w, b, act in zip(weights, biases, acts, strict=True):
        z = w @ a + b
        a = act(z)
        out.append((z, a))
    return out


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-z))


def shown_values(v) -> tuple[np.ndarray, list[np.ndarray], list[np.ndarray]]:
    """x, W and b of a counterexample, from the names and numbers the verdict lists (layers 1 and 2)."""
    c = v.counterexample
    values = dict(c.inputs)
    x = np.array([values[f"x[{j}]"] for j in (1, 2)])
    weights, biases = [], []
    for layer, (rows, cols) in ((1, (3, 2)), (2, (2, 3))):
        if f"W{layer}[1,1]" not in values:
            break
        rows_of = [[values[f"W{layer}[{i},{j}]"] for j in range(1, cols + 1)] for i in range(1, 1 + rows)]
        weights.append(np.array(rows_of))
        biases.append(np.array([values[f"b{layer}[{i}]"] for i in range(1, rows + 1)]))
    return x, weights, biases


@pytest.mark.parametrize(
    ("formula", "mistaken"),
    [
        (r"z^{(2)} = W^{(2)} a^{(1)}", lambda w, b, a_prev, z: w @ a_prev),
        (r"a^{(2)} = W^{(2)} a^{(1)} + b^{(2)}", lambda w, b, a_prev, z: z),
        (r"a^{(2)} = \sigma(W^{(2)} a^{(1)})", lambda w, b, a_prev, z: sigmoid(w @ a_prev)),
        (r"z^{(1)}_i = \sum_j W^{(1)}_{ij} x_j - b^{(1)}_i", lambda w, b, a_prev, z: w @ a_prev - b),
    ],
)
def test_the_counterexample_is_the_forward_pass_computed_here(formula: str, mistaken) -> None:
    v = verify(DERIVED["default"], None, formula)
    assert not v.right and v.counterexample is not None, v.text()
    x, weights, biases = shown_values(v)
    layer, i = map(int, re.fullmatch(r"[za](\d)\[(\d)\]", v.counterexample.element).groups())
    passes = forward(x, weights, biases, [sigmoid] * len(weights))
    z, a = passes[layer - 1]
    own = z if v.counterexample.element.startswith("z") else a
    assert v.counterexample.correct == pytest.approx(own[i - 1], rel=1e-9)
    a_prev = x if layer == 1 else passes[layer - 2][1]
    given = mistaken(weights[layer - 1], biases[layer - 1], a_prev, z)
    assert v.counterexample.given == pytest.approx(given[i - 1], rel=1e-9)


# ---------------------------------------------------------------- what is unchanged, and what is refused
def test_a_parameter_with_a_left_side_is_read_as_before() -> None:
    with pytest.raises(DeriveError, match=r"the left side names a1\[1\] but the parameter is W1\[1,2\]"):
        verify(DERIVED["default"], "W1[1,2]", r"a^{(1)}_1 = \sigma(z^{(1)}_1)")


def test_a_definition_is_written_in_the_forward_pass_only() -> None:
    with pytest.raises(DeriveError, match="a definition of the forward pass is written in x, the weights"):
        verify(DERIVED["default"], None, r"z^{(2)}_1 = \delta^{(2)}_1")


def test_phi_needs_its_notation_option() -> None:
    with pytest.raises(DeriveError, match=r'φ is the activation function only with \[notation\] function = "phi"'):
        verify(DERIVED["default"], None, r"a^{(1)}_1 = \varphi(z^{(1)}_1)")


# ---------------------------------------------------------------- φ, Wikipedia's function letter
def test_a_wikipedia_document_writes_phi_and_its_formulas_read_back() -> None:
    d = DERIVED["wikipedia"]
    md = d.render("md")
    assert r"$\varphi$ its activation function" in md
    assert r"\delta^{(l)} &= (w^{(l+1)} \delta^{(l+1)}) \odot \varphi'(\mathrm{net}^{(l)})" in md
    assert verify(d, None, r"\delta^{(l)} = (w^{(l+1)} \delta^{(l+1)}) \odot \varphi'(\mathrm{net}^{(l)})").right
    assert verify(d, None, r"\delta^{(1)}_j = \varphi'(\text{net}^{(1)}_j) \sum_k w^{(2)}_{jk} \delta^{(2)}_k").right


# ---------------------------------------------------------------- chain-rule factors of the forward pass
def test_wikipedias_factor_is_read_for_every_layer() -> None:
    d = DERIVED["wikipedia"]
    factor = r"\frac{\partial o_j}{\partial \text{net}_j}"
    v = verify(d, None, factor + r" = \varphi(\text{net}_j)(1 - \varphi(\text{net}_j))")
    assert v.right, v.text()
    assert v.notes[0].code == "factor" and "(layers 1, 2)" in v.text()
    wrong = verify(d, None, r"\frac{\partial o_j}{\partial \text{net}_j} = \varphi(\text{net}_j)")
    assert not wrong.right
    c = wrong.counterexample
    a = c.inputs["a1[1]"]  # the sigmoid's output; its derivative a(1 − a) computed here
    assert c.given == pytest.approx(a) and c.correct == pytest.approx(a * (1 - a), rel=1e-12)
    assert c.inputs["a1[1]"] == pytest.approx(sigmoid(np.array(c.inputs["z1[1]"])), rel=1e-12)


def test_a_factor_between_layers_is_a_weight() -> None:
    v = verify(DERIVED["default"], None, r"\frac{\partial z^{(2)}_1}{\partial a^{(1)}_2} = W^{(2)}_{12}")
    assert v.right, v.text()


# ---------------------------------------------------------------- the per-example loss written out
LOSS_RIGHT = [
    ("nielsen", r"C = \frac{1}{2}\sum_j (y_j - a^L_j)^2"),
    ("nielsen", r"C_x = \frac{1}{2}\sum_j (a^L_j - y_j)^2"),
    ("bishop", r"E = \frac{1}{2}\sum_k (y_k - t_k)^2"),
    ("bishop", r"E_n = \frac{1}{2}\sum_{k=1}^{2} (y_k - t_k)^2"),
    ("ng", r"J = -\left(y \log a^{(3)} + (1 - y) \log(1 - a^{(3)})\right)".replace("a^{(3)}", "a^{(3)}_1")),
    ("softmax", r"C = -\sum_k y_k \log a^{(2)}_k"),
    ("softmax", r"C = -\sum_k y_k \log \frac{e^{z^{(2)}_k}}{\sum_j e^{z^{(2)}_j}}"),
    ("wikipedia", r"E = \frac{1}{2}\sum_k (t_k - o_k)^2"),
]


@pytest.mark.parametrize(("name", "formula"), LOSS_RIGHT)
def test_a_loss_written_out_is_compared_with_the_specs(name: str, formula: str) -> None:
    d = DERIVED[name]
    if name == "ng":  # Ng's net here has two outputs: his one-output cost needs one
        d = derive.derive(derive.loads(NETS["ng"].replace("units = 2", "units = 1")))
    v = verify(d, None, formula)
    assert v.right, v.text()
    assert v.notes[0].code == "loss_definition" and "the per-example loss" in v.text()
    assert "单个样本的损失" in v.text("zh")


LOSS_WRONG = [
    ("nielsen", r"C = \sum_j (y_j - a^L_j)^2", "loss_scale", lambda a, y: np.sum((y - a) ** 2)),
    ("softmax", r"C = \sum_k y_k \log a^{(2)}_k", "loss_sign", lambda a, y: np.sum(y * np.log(a))),
    ("nielsen", r"C = -\sum_j y_j \log a^L_j", "other_loss", lambda a, y: -np.sum(y * np.log(a))),
]


@pytest.mark.parametrize(("name", "formula", "code", "written"), LOSS_WRONG)
def test_a_wrong_loss_says_why_at_numbers_computed_here(name: str, formula: str, code: str, written) -> None:
    v = verify(DERIVED[name], None, formula)
    assert not v.right and code in v.codes, v.text()
    c = v.counterexample
    out = sorted(k for k in c.inputs if k.startswith("a") and "[" in k)
    a = np.array([c.inputs[k] for k in out])
    y = np.array([c.inputs[f"y[{k}]"] for k in (1, 2)])
    spec_loss = {"nielsen": 0.5 * np.sum((y - a) ** 2), "softmax": -np.sum(y * np.log(a))}[name]
    assert c.correct == pytest.approx(spec_loss, rel=1e-9)
    assert c.given == pytest.approx(written(a, y), rel=1e-9)


def test_a_worked_examples_number_is_not_a_definition() -> None:
    with pytest.raises(DeriveError, match="a number is the loss at one example"):
        verify(DERIVED["nielsen"], None, r"C = 0.5")
    with pytest.raises(DeriveError, match="a number is a value at one example"):
        verify(DERIVED["nielsen"], None, r"z^2_1 = 0.42")


@pytest.mark.parametrize(("name", "formula", "code"), WRONG)
def test_the_correct_form_of_a_wrong_definition_reads_back_right(name: str, formula: str, code: str) -> None:
    d = DERIVED[name]
    v = verify(d, None, formula)
    assert v.correct
    again = verify(d, None, v.correct)
    assert again.right, again.text()


def test_h_on_the_left_needs_the_notation_to_say_what_it_is() -> None:
    with pytest.raises(DeriveError, match=r"h is the pre-activation or the activation only as the notation declares"):
        verify(DERIVED["default"], None, r"h^{(1)} = \sigma(W^{(1)} x + b^{(1)})")
    assert verify(DERIVED["goodfellow"], None, r"h^{(1)} = \sigma(a^{(1)})").right


def test_a_chain_of_definitions_checks_each_link() -> None:
    d = DERIVED["nielsen"]
    assert verify(d, None, r"a^l = \sigma(z^l) = \sigma(w^l a^{l-1} + b^l)").right
    v = verify(d, None, r"a^l = \sigma(z^l) = \sigma(w^l a^{l-1})")
    assert not v.right and v.codes[:2] == ("chain_link", "bias_missing"), v.text()


def test_a_wide_layer_is_compared_in_part_and_says_how_much() -> None:
    """784 inputs: each neuron's sum is 784 terms, so the work allows a few neurons, one of each layer first."""
    d = derive.derive(derive.load(ROOT / "examples" / "mnist.toml"))
    v = verify(d, None, r"z^{(l)}_i = \sum_j W^{(l)}_{ij} a^{(l-1)}_j + b^{(l)}_i")
    assert v.right, v.text()
    note = v.notes[0]
    assert note.total == 110 and 2 <= note.elements < 110
    assert f"checked {note.elements} of 110 neurons (z1[1] … z2[1])" in v.text()
