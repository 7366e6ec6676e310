"""The letters of the quantities as notation options: pre_activation (z, a, net, h), activation (a, h, z, o, y) and
function (named, g, f, h).

Each textbook's key formulas are verified right under its preset in its own letters (Wikipedia's ∂E/∂w_{ij} = o_i δ_j,
once answered wrong, first of all); its typical mistakes are wrong with a reason; a letter whose meaning is not derive's
own is read as the notation declares and the verdict says so; a formula right only under the other letters says that;
two quantities never share a letter; documents write the declared letters.
"""

from __future__ import annotations

import re

import pytest
from test_presets import assert_one_line_error, spec

import derive
from derive import Notation
from derive.check import check
from derive.present.document import build
from derive.verify import verify
from derive.verify.findings import Convention, LetterMeaning


def net(*units: int, notation: str = "", **kw) -> derive.Derivation:
    return derive.derive(derive.loads(spec(*units, notation=notation, **kw)))


# Wikipedia's output layer: w_{ij} from neuron i (the layer below) to neuron j, o for outputs, net for inputs, E, t.
WIKIPEDIA = net(2, notation='preset = "wikipedia"\n')
WIKIPEDIA_DEEP = net(3, 2, notation='preset = "wikipedia"\n')
# Bishop's two-layer network: a_j the pre-activation, z_j the activation, h its function, w_{kj} into k from j.
BISHOP = net(3, 2, notation='preset = "bishop"\n')
BISHOP_SQUARE = net(2, 2, notation='preset = "bishop"\n')  # w_{jk} for w_{kj} reads in range: wrong, not unreadable
# Goodfellow's feedforward net: a^{(k)} the pre-activation, h^{(k)} the activation, f the function, J the cost.
GOODFELLOW = net(3, 2, notation='preset = "goodfellow"\n')
DEFAULT = net(3, 2)

RIGHT = [
    # Wikipedia: the gradient of a weight as the output of the neuron it leaves times the δ of the one it enters
    (WIKIPEDIA, r"\frac{\partial E}{\partial w_{ij}} = o_i \delta_j"),
    (WIKIPEDIA, r"\delta_j = (o_j - t_j) o_j (1 - o_j)"),
    (WIKIPEDIA, r"\frac{\partial E}{\partial \mathrm{net}_j} = (o_j - t_j) o_j (1 - o_j)"),
    (WIKIPEDIA_DEEP, r"\frac{\partial E}{\partial w^{(2)}_{ij}} = o_i \delta_j"),
    (WIKIPEDIA_DEEP, r"\frac{\partial E}{\partial w^{(1)}_{ij}} = o_i \delta_j"),  # o_i of layer 0: the input x_i
    (WIKIPEDIA_DEEP, r"\delta^{(1)}_j = \left(\sum_l w^{(2)}_{jl} \delta^{(2)}_l\right) o^{(1)}_j (1 - o^{(1)}_j)"),
    # Bishop (5.56), (5.53), (5.67): δ_j = h'(a_j) Σ_k w_{kj} δ_k, ∂E/∂w_{ji} = δ_j z_i, and z_j = h(a_j) inside
    (BISHOP, r"\delta^{(1)}_j = h'(a^{(1)}_j) \sum_k w^{(2)}_{kj} \delta^{(2)}_k"),
    (BISHOP, r"\frac{\partial E}{\partial w^{(2)}_{kj}} = \delta^{(2)}_k z^{(1)}_j"),
    (BISHOP, r"\frac{\partial E}{\partial w^{(1)}_{ji}} = \delta^{(1)}_j x_i"),
    (BISHOP, r"\delta^{(2)}_k = (y_k - t_k) y_k (1 - y_k)"),
    (BISHOP, r"\delta^{(1)}_j = z^{(1)}_j (1 - z^{(1)}_j) \sum_k w^{(2)}_{kj} \delta^{(2)}_k"),
    # Goodfellow §6.5, algorithm 6.4: g ← ∇_ŷ J ⊙ f′(a^{(k)}), ∇_{W^{(k)}} J = g h^{(k−1)ᵀ}, ∇_{h^{(k−1)}} J = Wᵀ g
    (GOODFELLOW, r"\frac{\partial J}{\partial a^{(2)}} = (\hat{y} - y) \odot f'(a^{(2)})"),
    (GOODFELLOW, r"\frac{\partial J}{\partial W^{(2)}_{ij}} = \frac{\partial J}{\partial a^{(2)}_i} h^{(1)}_j"),
    (GOODFELLOW, r"\frac{\partial J}{\partial h^{(1)}} = (W^{(2)})^T \frac{\partial J}{\partial a^{(2)}}"),
    (
        GOODFELLOW,
        r"\frac{\partial J}{\partial a^{(1)}} = (W^{(2)})^T \frac{\partial J}{\partial a^{(2)}} \odot f'(a^{(1)})",
    ),
]


@pytest.mark.parametrize(("d", "formula"), RIGHT)
def test_each_textbook_in_its_own_letters_is_right_under_its_preset(d, formula: str) -> None:
    v = verify(d, None, formula)
    assert v.right, v.text()


def test_wikipedia_o_i_delta_j_was_the_worst_case_and_is_right_with_its_reading_said() -> None:
    """Before the letters were options, o_i was the network's output and this correct formula was answered wrong."""
    v = verify(WIKIPEDIA, None, r"\frac{\partial E}{\partial w_{ij}} = o_i \delta_j")
    assert v.right
    text = v.text()
    assert "o read as the activation (the neuron's output), as the notation declares" in text
    assert "o_i has no layer: read in layer 0, the layer its index has on the weight of the left side" in text
    assert "o 按记号的声明理解为激活值" in v.text("zh")


MISTAKES = [  # (derivation, formula, a diagnosis it must get)
    (WIKIPEDIA, r"\delta_j = (t_j - o_j) o_j (1 - o_j)", "sign"),
    (WIKIPEDIA, r"\delta_j = o_j - t_j", "missing_derivative"),
    (BISHOP_SQUARE, r"\delta^{(1)}_j = h'(a^{(1)}_j) \sum_k w^{(2)}_{jk} \delta^{(2)}_k", "transposed"),
    (BISHOP, r"\delta^{(1)}_j = \sum_k w^{(2)}_{kj} \delta^{(2)}_k", "missing_derivative"),
    (BISHOP, r"\delta^{(2)}_k = t_k - y_k", "sign"),
    (GOODFELLOW, r"\frac{\partial J}{\partial a^{(2)}} = \hat{y} - y", "missing_derivative"),
    (
        GOODFELLOW,
        r"\frac{\partial J}{\partial a^{(1)}} = W^{(2)} \frac{\partial J}{\partial a^{(2)}} \odot f'(a^{(1)})",
        "transposed",
    ),
]


@pytest.mark.parametrize(("d", "formula", "code"), MISTAKES)
def test_typical_mistakes_in_each_textbooks_letters_are_wrong_with_the_reason(d, formula: str, code: str) -> None:
    v = verify(d, None, formula)
    assert not v.right
    assert code in v.codes, v.text()


def test_swapped_letters_are_read_as_declared_and_the_verdict_says_so() -> None:
    v = verify(BISHOP, None, r"\frac{\partial E}{\partial w^{(2)}_{kj}} = \delta^{(2)}_k z^{(1)}_j")
    assert LetterMeaning("z", "activation") in v.notes
    assert "reading: z read as the activation (the neuron's output), as the notation declares" in v.text()
    w = verify(BISHOP, None, r"\delta^{(1)}_j = h'(a^{(1)}_j) \sum_k w^{(2)}_{kj} \delta^{(2)}_k")
    assert {LetterMeaning("a", "pre_activation"), LetterMeaning("h", "function")} <= set(w.notes)
    assert "h read as the activation function" in w.text()
    # derive's own letters say nothing: a reading is said only where a letter's meaning is not derive's
    d = verify(DEFAULT, None, r"\frac{\partial C}{\partial W^{(2)}_{ij}} = \delta^{(2)}_i a^{(1)}_j")
    assert d.right and not any(isinstance(n, LetterMeaning) for n in d.notes)


def test_a_formula_right_only_under_the_other_letters_says_so() -> None:
    """Bishop's preset, derive's letters: wrong, and right if a were the activation; and the converse."""
    v = verify(BISHOP, None, r"\frac{\partial E}{\partial w^{(2)}_{kj}} = \delta^{(2)}_k a^{(1)}_j")
    assert not v.right and Convention("letters", "z,a") in v.diagnoses
    assert "it would be right if a were the activation and z the pre-activation (derive's default letters)" in v.text()
    assert "如果 a 表示激活值" in v.text("zh")
    w = verify(DEFAULT, None, r"\frac{\partial C}{\partial W^{(2)}_{ij}} = \delta^{(2)}_i z^{(1)}_j")
    assert not w.right and Convention("letters", "a,z") in w.diagnoses
    assert "it would be right if z were the activation and a the pre-activation" in w.text()
    g = verify(DEFAULT, None, r"\frac{\partial C}{\partial W^{(2)}_{ij}} = \delta^{(2)}_i h^{(1)}_j")
    assert not g.right and Convention("letters", "a,h") in g.diagnoses


def test_h_prime_needs_the_function_option() -> None:
    with pytest.raises(
        derive.DeriveError, match=r'h\' is the activation function\'s derivative only with \[notation\] function = "h"'
    ):
        verify(DEFAULT, None, r"\delta^{(1)}_j = h'(z^{(1)}_j) \sum_k W^{(2)}_{kj} \delta^{(2)}_k")
    d = net(3, 2, notation='function = "h"\n')
    assert verify(d, None, r"\delta^{(1)}_j = h'(z^{(1)}_j) \sum_k W^{(2)}_{kj} \delta^{(2)}_k").right


@pytest.mark.parametrize(
    ("notation", "message"),
    [
        ('activation = "z"\n', r"notation\.activation: 'z' is already the letter of notation\.pre_activation$"),
        ('pre_activation = "a"\n', r"notation\.activation: 'a' is already the letter of notation\.pre_activation$"),
        ('pre_activation = "h"\nfunction = "h"\n', r"notation\.function: 'h' is already the letter of notation\.pre"),
        ('activation = "y"\n', r"notation\.target: 'y' is already the letter of notation\.activation$"),
        ('preset = "bishop"\nactivation = "a"\n', r"notation\.activation: 'a' is already the letter of notation\.pre"),
        ('activation = "q"\n', r"notation\.activation: 'q' is not one of a, h, z, o, y$"),
        ('function = "psi"\n', r"notation\.function: 'psi' is not one of named, g, f, h, phi$"),
    ],
)
def test_two_quantities_never_share_a_letter(tmp_path, notation: str, message: str) -> None:
    assert_one_line_error(tmp_path, notation, message)


def test_the_presets_set_the_letters() -> None:
    assert derive.loads(spec(2, 1, notation='preset = "bishop"\n')).notation.activation == "z"
    g = derive.loads(spec(2, 1, notation='preset = "goodfellow"\n')).notation
    assert (g.pre_activation, g.activation, g.function) == ("a", "h", "f")
    w = derive.loads(spec(2, 1, notation='preset = "wikipedia"\nactivation = "y"\ntarget = "t"\noutput = "a"\n'))
    assert (w.notation.pre_activation, w.notation.activation) == ("net", "y")
    assert Notation().pre_activation == "z" and Notation().activation == "a" and Notation().function == "named"


def test_a_bishop_document_writes_a_for_the_pre_activation_and_z_for_the_activation() -> None:
    d = net(3, 2, act="tanh", notation='preset = "bishop"\n')
    md = d.render("md")
    assert r"a^{(1)}_{1} &= w^{(1)}_{11} x_{1} + w^{(1)}_{12} x_{2} + b^{(1)}_{1}" in md
    assert r"z^{(1)}_{1} &= \tanh(a^{(1)}_{1})" in md
    assert r"\delta^{(1)} = ((w^{(2)})^{\mathsf T} \delta^{(2)}) \odot \tanh'(a^{(1)})" in md
    assert r"The error term is $\delta = \partial E/\partial a$" in md
    assert "applies its activation function $h$ to get its output $z$" in md
    assert "In this notation $a$ is a neuron's weighted input (its pre-activation) and $z$ its output" in md
    assert not re.search(r"\\tanh'\(z", md)  # the activation's derivative is always of the pre-activation
    zh = d.render("md", "zh")
    assert "在这个记号里，$a$ 是神经元的加权输入" in zh and zh.count("在这个记号里") == 1
    # what the document prints reads back right under the same notation
    assert verify(d, None, r"\delta^{(1)} = ((w^{(2)})^{\mathsf T} \delta^{(2)}) \odot \tanh'(a^{(1)})").right
    assert verify(d, None, r"\frac{\partial E}{\partial w^{(2)}_{11}} = \delta^{(2)}_{1} z^{(1)}_{1}").right


def test_a_wikipedia_document_writes_net_and_o_and_reads_them_back() -> None:
    md = WIKIPEDIA_DEEP.render("md")
    assert r"$\mathrm{net}^{(1)}$ | $o^{(1)}$" in md
    assert r"\delta = \partial E/\partial \mathrm{net}" in md
    assert verify(WIKIPEDIA_DEEP, None, r"\delta^{(2)}_1 = \frac{\partial E}{\partial \mathrm{net}^{(2)}_1}").right


def test_default_letters_leave_documents_unchanged() -> None:
    md = DEFAULT.render("md")
    assert "In this notation" not in md and "applies its activation function $g$ to get its output $a$" in md
    assert "在这个记号里" not in DEFAULT.render("md", "zh")


def test_a_verdict_writes_its_own_words_in_the_notations_letters() -> None:
    """The notation line and a reason's example factor: δ = ∂E/∂a and h'(a) = y(1 − y) under Bishop's letters."""
    v = verify(BISHOP, None, r"\delta^{(2)}_k = y_k - t_k")
    assert not v.right and "missing_derivative" in v.codes
    assert "δ = ∂E/∂a;" in v.text() and "δ = ∂E/∂a；" in v.text("zh")
    assert "(a factor such as h'(a) = y(1 − y))" in v.text()  # Bishop's h, and y the output's activation
    assert "σ'(\\mathrm" not in verify(WIKIPEDIA, None, r"\delta_j = o_j - t_j").text()
    assert "δ = ∂E/∂net;" in verify(WIKIPEDIA, None, r"\delta_j = o_j - t_j").text()
    assert "(a factor such as σ'(z) = a(1 − a))" in verify(DEFAULT, None, r"\delta^{(2)}_1 = a^{(2)}_1 - y_1").text()


@pytest.mark.parametrize("preset", ["bishop", "wikipedia", "goodfellow"])
def test_the_documents_exercise_answers_read_back_in_the_textbooks_letters(preset: str) -> None:
    """A hidden layer's o^{(1)}_1 and the output's unlayered o_1 (Wikipedia prints both with o) read back as printed."""
    d = net(3, 2, act="tanh", notation=f'preset = "{preset}"\n')
    doc = build(d, check(d))
    assert len(doc.exercises) == 3
    for e in doc.exercises:
        assert verify(d, e.param, e.answer).right, e.answer


def test_net_is_read_as_typed_and_needs_its_option_elsewhere() -> None:
    for typed in (r"net_j", r"\mathrm{net}_j", r"\text{net}_j"):
        v = verify(WIKIPEDIA, None, rf"\frac{{\partial E}}{{\partial {typed}}} = (o_j - t_j) o_j (1 - o_j)")
        assert v.right and LetterMeaning("net", "pre_activation") not in v.notes, v.text()  # net means nothing else
    with pytest.raises(
        derive.DeriveError, match=r'net is the pre-activation only with \[notation\] pre_activation = "net"'
    ):
        verify(DEFAULT, None, r"\delta^{(2)}_1 = \frac{\partial C}{\partial net^{(2)}_1}")
