"""The bias written as a weight from a unit fixed at 1 ([notation] bias = "unit"): Bishop's w_{j0} with x_0 = 1, Ng's
bias unit a^{(l)}_0 = 1 inside Θ^{(l)} a^{(l)}, Wikipedia's constant neuron.

The values the formula reader builds are compared with a NumPy forward pass with biases (W x + b), computed here from
the same numbers; a verdict's counterexample is recomputed from the values it shows; every reading is stated.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from sympy import Matrix

import derive
from derive import SpecError
from derive.rules import symbols as sym
from derive.verify import verify
from derive.verify.formula import parse
from derive.verify.reading import Reader
from derive.verify.reading_refs import Reading

RNG = np.random.default_rng(16)


def spec(notation: str, outputs: int = 2, extra: str = "", act: str = "tanh", out: str = "identity") -> str:
    return (
        f'inputs = 2\nloss = "squared_error"\n{extra}[[layer]]\nunits = 3\nactivation = "{act}"\n'
        f'[[layer]]\nunits = {outputs}\nactivation = "{out}"\n[notation]\n{notation}\n'
    )


BISHOP = derive.derive(derive.loads(spec('preset = "bishop"')))
SEPARATE = derive.derive(derive.loads(spec('preset = "bishop"\nbias = "separate"')))
NG = derive.derive(derive.loads(spec('preset = "ng"', outputs=1, act="sigmoid", out="sigmoid")))
WIKIPEDIA = derive.derive(derive.loads(spec('preset = "wikipedia"', act="sigmoid")))
UNBIASED = derive.derive(derive.loads(spec('preset = "bishop"', extra="bias = false\n")))


def arrays(d) -> dict:
    """Random weights, biases and inputs for a network: the numbers both sides are computed from."""
    sizes = d.network.sizes
    out = {"x": RNG.normal(size=sizes[0])}
    for layer in range(1, len(sizes)):
        out[f"W{layer}"] = RNG.normal(size=(sizes[layer], sizes[layer - 1]))
        out[f"b{layer}"] = RNG.normal(size=sizes[layer])
    return out


def values(numbers: dict) -> dict:
    """The arrays as derive's symbols: x[j], W1[i,j], b1[i]."""
    out = {sym.x(j + 1): v for j, v in enumerate(numbers["x"])}
    for name, array in numbers.items():
        if name.startswith("W"):
            out |= {sym.W(int(name[1:]), i + 1, j + 1): v for (i, j), v in np.ndenumerate(array)}
        elif name.startswith("b"):
            out |= {sym.b(int(name[1:]), i + 1): v for i, v in enumerate(array)}
    return out


def built(d, text: str, **env: int):
    """The value the formula reader gives a formula's right side (its left side only names it)."""
    parsed = parse(text)
    reader = Reader(d, Reading(d.network.notation), text, env=dict(env))
    return reader.build(parsed.rhs), reader.notes


def number(expr, numbers: dict) -> float:
    return float(expr.xreplace(values(numbers)))


# ------------------------------------------------------------------ values against NumPy's W x + b
@pytest.mark.parametrize("j", [1, 2, 3])
def test_bishops_sum_from_zero_is_the_weighted_input_with_its_bias(j: int) -> None:
    numbers = arrays(BISHOP)
    expected = (numbers["W1"] @ numbers["x"] + numbers["b1"])[j - 1]
    value, notes = built(BISHOP, r"a^{(1)}_j = \sum_i w^{(1)}_{ji} x_i", j=j)
    assert number(value, numbers) == pytest.approx(expected, rel=1e-12)
    assert [n.how for n in notes if n.code == "bias_unit"] == ["sum"]


def test_the_same_sum_with_the_bias_apart_has_no_bias() -> None:
    numbers = arrays(SEPARATE)
    value, notes = built(SEPARATE, r"a^{(1)}_2 = \sum_i w^{(1)}_{2i} x_i")
    assert number(value, numbers) == pytest.approx((numbers["W1"] @ numbers["x"])[1], rel=1e-12)
    assert not [n for n in notes if n.code == "bias_unit"]


def test_ngs_product_is_theta_with_the_bias_column_times_a_with_the_bias_unit() -> None:
    numbers = arrays(NG)
    hidden = 1 / (1 + np.exp(-(numbers["W1"] @ numbers["x"] + numbers["b1"])))
    first, _ = built(NG, r"z^{(2)} = \Theta^{(1)} a^{(1)}")
    augmented = np.hstack([numbers["b1"][:, None], numbers["W1"]]) @ np.concatenate([[1.0], numbers["x"]])  # [b|Θ][1;a]
    assert isinstance(first, Matrix)
    assert [number(v, numbers) for v in first] == pytest.approx(list(augmented), rel=1e-12)
    # one output neuron: the product is a number, and a^{(2)} is the hidden layer's activations
    second, _ = built(NG, r"z^{(3)} = \Theta^{(2)} a^{(2)}")
    at = values(numbers) | {sym.a(1, i + 1): v for i, v in enumerate(hidden)}
    expected = (numbers["W2"] @ hidden + numbers["b2"])[0]
    assert float(second.xreplace(at)) == pytest.approx(expected, rel=1e-12)


def test_a_transposed_weight_matrix_under_the_from_to_order_takes_the_bias_too() -> None:
    numbers = arrays(WIKIPEDIA)
    value, notes = built(WIKIPEDIA, r"z = (w^{(1)})^T x")
    expected = numbers["W1"] @ numbers["x"] + numbers["b1"]  # derive's W1 is (out, in) whatever the index order
    assert [number(v, numbers) for v in value] == pytest.approx(list(expected), rel=1e-12)
    assert [n.written for n in notes if n.code == "bias_unit"] == ["(w^{(1)})^T x"]


def test_a_sum_of_squared_weights_does_not_start_at_zero() -> None:
    """Σ_i w_{1i}² has no activation beside the weight: not a weighted input, so no bias unit's term."""
    numbers = arrays(BISHOP)
    value, _ = built(BISHOP, r"s = \sum_i (w^{(1)}_{1i})^2")
    assert number(value, numbers) == pytest.approx(float(np.sum(numbers["W1"][0] ** 2)), rel=1e-12)


def test_an_explicit_zero_index_is_the_bias_and_the_unit_is_one() -> None:
    numbers = arrays(BISHOP)
    value, notes = built(BISHOP, r"s = w^{(1)}_{20} x_0 + w^{(1)}_{21} x_1")
    expected = numbers["b1"][1] + numbers["W1"][1, 0] * numbers["x"][0]
    assert number(value, numbers) == pytest.approx(expected, rel=1e-12)
    assert {n.how for n in notes if n.code == "bias_unit"} == {"weight", "unit"}


# ------------------------------------------------------------------ verdicts
RIGHT = [
    (BISHOP, r"a_j = \sum_i w_{ji} x_i"),
    (BISHOP, r"y_k = \sum_j w_{kj} z_j"),
    (BISHOP, r"a_j = \sum_{i=0}^{2} w_{ji} x_i"),
    (BISHOP, r"a_j = \sum_{i=1}^{2} w_{ji} x_i + w_{j0}"),  # Bishop's (5.2): the bias written, the sum from 1
    (BISHOP, r"a_j = \sum_i w_{ji} x_i + b_j"),  # the bias written apart is kept readable
    (BISHOP, r"\frac{\partial E}{\partial w_{j0}} = \delta_j"),  # ∂E/∂w_{j0} = δ_j x_0, x_0 = 1
    (BISHOP, r"\frac{\partial E}{\partial w^{(1)}_{j0}} = \delta^{(1)}_j x_0"),
    (BISHOP, r"\delta_j = h'(a_j) \sum_k w_{kj} \delta_k"),  # a sum over the layer above: from 1
    (NG, r"z^{(2)} = \Theta^{(1)} a^{(1)}"),
    (NG, r"z^{(3)} = \Theta^{(2)} a^{(2)}"),
    (NG, r"a^{(2)} = g(\Theta^{(1)} x)"),
    (NG, r"z^{(2)} = \Theta^{(1)} a^{(1)} + b^{(2)}"),  # derive's own form reads back
    (NG, r"\delta^{(2)} = (\Theta^{(2)})^T \delta^{(3)} .* g'(z^{(2)})"),  # no bias unit in the backward pass
    (WIKIPEDIA, r"\text{net}_j = \sum_k w_{kj} o_k"),
    (WIKIPEDIA, r"\text{net}_j = \sum_k w_{kj} o_k + b_j"),
    (UNBIASED, r"a_j = \sum_i w_{ji} x_i"),  # no biases: nothing to add
    # each side of a chain on its own: the bias unit where the bias is not written, the bias where it is
    (BISHOP, r"a_j = \sum_i w_{ji} x_i = \sum_{i=1}^{2} w_{ji} x_i + w_{j0}"),
    (NG, r"z^{(2)} = \Theta^{(1)} a^{(1)} = \Theta^{(1)} x + b^{(2)}"),
]


@pytest.mark.parametrize(("d", "formula"), RIGHT)
def test_the_sources_forms_are_right_under_bias_unit(d, formula: str) -> None:
    v = verify(d, None, formula)
    assert v.right, v.text()


def test_the_verdict_states_the_reading_in_both_languages() -> None:
    v = verify(BISHOP, None, r"a_j = \sum_i w_{ji} x_i")
    assert "Σ_i runs from 0: at i = 0, x_i = 1 is the bias unit and w_{ji} the bias (bias = unit)" in v.text()
    assert "Σ_i 从 0 开始" in v.text("zh")
    v = verify(NG, None, r"z^{(2)} = \Theta^{(1)} a^{(1)}")
    assert r"\Theta^{(1)} a^{(1)} read with the bias unit: [b | θ] [1; a]" in v.text()
    assert "偏置单元" in v.text("zh")


def shown(text: str) -> dict[str, float]:
    """The values a counterexample lists: name = value."""
    return {m[1]: float(m[2]) for m in re.finditer(r"(\w+(?:\[[\d,]+\])?) = (-?[\d.e+-]+)", text)}


def test_a_sum_from_one_under_bias_unit_misses_the_bias() -> None:
    v = verify(BISHOP, None, r"a_j = \sum_{i=1}^{2} w_{ji} x_i")
    assert not v.right and "bias_unit_missing" in v.codes, v.text()
    assert "the bias is missing: with bias = unit" in v.text()
    numbers = shown(v.text().split("forward pass gives", 1)[1])
    x = np.array([numbers["x[1]"], numbers["x[2]"]])
    w = np.array([numbers["W1[1,1]"], numbers["W1[1,2]"]])
    assert v.counterexample.given == pytest.approx(w @ x, rel=1e-5)  # the sum from 1: no bias
    assert v.counterexample.correct == pytest.approx(w @ x + numbers["b1[1]"], rel=1e-5)


def test_under_the_bias_apart_the_verdict_says_it_would_be_right_with_bias_unit() -> None:
    for d, formula in ((SEPARATE, r"a_j = \sum_i w_{ji} x_i"), (SEPARATE, r"a^{(1)} = w^{(1)} x")):
        v = verify(d, None, formula)
        assert not v.right and v.codes[:2] == ("bias_missing", "bias_convention"), v.text()
        assert "it would be right with bias = unit" in v.text() and "bias = unit" in v.text("zh")
    article = derive.derive(derive.loads(spec('preset = "article001"')))
    v = verify(article, None, r"z^{(2)} = \theta^{(1)} a^{(1)}")
    assert "bias_convention" in v.codes, v.text()


def test_a_formula_that_writes_the_bias_keeps_its_sums_from_one() -> None:
    """Σ_i w_{ji} x_i + b_j: the bias is written, so the sum starts at 1 and it is right; written twice (w_{j0} and
    b_j) it is the bias twice, and wrong."""
    assert verify(BISHOP, None, r"a_j = \sum_i w_{ji} x_i + b_j").right
    v = verify(BISHOP, None, r"a_j = \sum_i w_{ji} x_i + w_{j0} + b_j")
    assert not v.right


def test_an_index_zero_names_the_option_it_needs() -> None:
    with pytest.raises(derive.DeriveError, match=r'index 0 is out of range .*with \[notation\] bias = "unit"'):
        verify(SEPARATE, None, r"\frac{\partial E}{\partial w_{j0}} = \delta_j")
    with pytest.raises(derive.DeriveError, match=r"this network has no biases \(bias = false\)"):
        verify(UNBIASED, None, r"\frac{\partial E}{\partial w_{j0}} = \delta_j")
    with pytest.raises(derive.DeriveError, match=r"x_0 is the bias unit, the constant 1"):
        verify(BISHOP, None, r"\frac{\partial E}{\partial x_0} = 0")


def test_the_option_is_validated_and_set_by_three_presets() -> None:
    with pytest.raises(SpecError, match=r"notation.bias: 'units' is not one of separate, unit"):
        derive.loads(spec('bias = "units"'))
    for preset, bias in (("bishop", "unit"), ("ng", "unit"), ("wikipedia", "unit"), ("nielsen", "separate")):
        assert derive.loads(spec(f'preset = "{preset}"')).notation.bias == bias
    assert derive.loads(spec('preset = "ng"\nbias = "separate"')).notation.bias == "separate"


def test_documents_say_a_formula_may_write_the_bias_as_a_weight() -> None:
    for d, said in ((BISHOP, True), (SEPARATE, False), (UNBIASED, False)):
        for lang, words in (("en", "the bias as the weight from a unit fixed at 1"), ("zh", "来自恒为 1 的单元的权重")):
            assert (words in d.render("md", lang)) is said, (d.network.notation, lang)
    assert r"$w_{i0}$ is the bias $b_{i}$ and $x_{0} = z_{0} = 1$" in BISHOP.render("md")


def test_rows_take_the_bias_unit_on_the_left() -> None:
    """cs231n's rows with bias = unit: x W is [1, x] [b; W] = x W + b, W stored (in, out) under the from-to order."""
    net = derive.loads(
        'inputs = 2\nloss = "cross_entropy"\ntargets = "labels"\n[[layer]]\nunits = 3\nactivation = "relu"\n'
        '[[layer]]\nunits = 2\nactivation = "softmax"\n[notation]\npreset = "cs231n"\nbias = "unit"\n'
    )
    d = derive.derive(net)
    numbers = arrays(d)
    value, notes = built(d, r"z = x W^{(1)}")
    assert value.shape == (1, 3)
    assert [number(v, numbers) for v in value] == pytest.approx(list(numbers["W1"] @ numbers["x"] + numbers["b1"]))
    assert [n.written for n in notes if n.code == "bias_unit"] == ["x W^{(1)}"]
    v = verify(d, None, r"f = h W^{(2)}")
    assert v.right and "[1, a] [b; W] = a W + b" in v.text(), v.text()
