"""layer_marker = "index": Bishop's convention, a quantity written without a layer takes it from its index letter.

In a network with one hidden layer k indexes the output units, j the hidden units and i the inputs (PRML §5.3):
δ_k = y_k − t_k, δ_j = h'(a_j) Σ_k w_{kj} δ_k, ∂E_n/∂w_{ji} = δ_j x_i. Each reading is stated in the verdict; a letter
with no role, or a network with more layers, is not understood and names the option (never a silent reading).
"""

from __future__ import annotations

import pytest

import derive
from derive import DeriveError, Notation, SpecError
from derive.model.notation import PRESETS
from derive.verify import verify
from derive.verify.findings import IndexLayer, RoleLayer

HEAD = 'inputs = 2\nloss = "squared_error"\n'
LAYER = '[[layer]]\nunits = {units}\nactivation = "{act}"\n'


def net(*layers: tuple[int, str], notation: str = 'preset = "bishop"\n') -> derive.Derivation:
    body = HEAD + "".join(LAYER.format(units=n, act=act) for n, act in layers)
    return derive.derive(derive.loads(body + "[notation]\n" + notation))


# Bishop's two-layer network: tanh hidden units, linear outputs, the sum-of-squares error
BISHOP = net((3, "tanh"), (2, "identity"))
BISHOP_DEEP = net((3, "tanh"), (3, "tanh"), (2, "identity"))

RIGHT = [
    r"\delta_k = y_k - t_k",  # (5.54): δ = ∂E/∂a, Bishop's sign (the preset's delta = "gradient")
    r"\delta_j = h'(a_j) \sum_k w_{kj} \delta_k",  # (5.56)
    r"\frac{\partial E_n}{\partial w_{ji}} = \delta_j x_i",  # (5.53) for the first layer
    r"\frac{\partial E_n}{\partial w_{kj}} = \delta_k z_j",  # (5.53) for the second layer
    r"\delta_j = (1 - z_j^2) \sum_k w_{kj} \delta_k",  # (5.60) with tanh written out
    r"\frac{\partial E_n}{\partial w_{ji}} = \delta_j z_i",  # z_i of the input layer is x_i
    r"\delta^{(1)}_j = h'(a^{(1)}_j) \sum_k w^{(2)}_{kj} \delta^{(2)}_k",  # a written layer still wins
    r"\frac{\partial E_n}{\partial w_{k2}} = \delta_k z^{(1)}_2",  # one letter says where the weight is
    r"\frac{\partial E_n}{\partial b_j} = \delta_j",
]


@pytest.mark.parametrize("formula", RIGHT)
def test_bishops_equations_without_layers_are_right_under_the_preset(formula: str) -> None:
    v = verify(BISHOP, None, formula)
    assert v.right, v.text()


def test_the_verdict_states_the_layer_each_index_letter_gave() -> None:
    v = verify(BISHOP, None, r"\delta_j = h'(a_j) \sum_k w_{kj} \delta_k")
    assert IndexLayer(r"\delta_j", "delta", "j", 1) in v.notes
    assert IndexLayer(r"\delta_k", "delta", "k", 2) in v.notes
    assert IndexLayer("w_{kj}", "W", "k,j", 2) in v.notes
    text = v.text()
    assert r"\delta_j read as a hidden unit's error, by its index letter j (layer 1)" in text
    assert r"\delta_k read as an output unit's error, by its index letter k (layer 2)" in text
    assert "w_{kj} read as a weight into an output unit from a hidden unit, by its index letters k,j" in text
    assert "a_j read as a hidden unit's pre-activation" in text
    assert r"\delta_j 按下标字母 j 理解为隐藏单元的误差（第 1 层）" in v.text("zh")
    w = verify(BISHOP, None, r"\frac{\partial E_n}{\partial w_{ji}} = \delta_j x_i")
    assert "w_{ji} read as a weight into a hidden unit from an input, by its index letters j,i (layer 1)" in w.text()
    u = verify(BISHOP, None, r"\frac{\partial E_n}{\partial w_{2i}} = \delta^{(1)}_2 x_i")
    assert u.right and "w_{2i} read as a weight into a hidden unit from an input, by its index letter i" in u.text()


def test_a_written_layer_needs_no_reading() -> None:
    v = verify(BISHOP, None, r"\delta^{(2)}_k = y_k - t_k")
    assert v.right and not any(isinstance(n, IndexLayer) for n in v.notes)


@pytest.mark.parametrize(
    ("formula", "code", "reason"),
    [
        (r"\delta_j = \sum_k w_{kj} \delta_k", "missing_derivative", "the derivative of layer 1's activation"),
        (r"\delta_k = t_k - y_k", "sign", ""),
        (r"\frac{\partial E_n}{\partial w_{ji}} = \delta_j z_j", "", ""),
    ],
)
def test_bishops_typical_mistakes_are_wrong_with_the_reason(formula: str, code: str, reason: str) -> None:
    v = verify(BISHOP, None, formula)
    assert not v.right, v.text()
    assert not code or code in v.codes, v.text()
    assert reason in v.text()


def test_the_index_letters_read_otherwise_without_the_option() -> None:
    """Under derive's own marker a letter has no fixed role: δ_k is an output's error only because t_k says so (the
    roles of a formula written without layers, stated as such), and a letter nothing ties to the left side is not
    read at all; the index marker is what reads k, j, i as the output, hidden and input units."""
    plain = net((3, "tanh"), (2, "identity"), notation='preset = "bishop"\nlayer_marker = "parenthesized"\n')
    v = verify(plain, None, r"\delta_k = y_k - t_k")
    assert v.right and not any(isinstance(n, IndexLayer) for n in v.notes)
    assert RoleLayer("k", "output", "t_k", "", 2) in v.notes
    with pytest.raises(DeriveError, match="nothing ties its index to the left side"):
        verify(plain, None, r"\delta_k = h'(a_k) \sum_m w_{mk} \delta_m + z_j")
    assert verify(BISHOP, None, r"\delta_k = y_k - t_k").right


@pytest.mark.parametrize(
    ("d", "formula", "message"),
    [
        (BISHOP_DEEP, r"\delta_j = h'(a_j) \sum_k w_{kj} \delta_k", "of a network with one hidden layer, not of 3"),
        (BISHOP, r"\delta_m = y_m - t_m", "and m is none of them"),
        (BISHOP, r"\frac{\partial E_n}{\partial w_{jk}} = \delta_j z_k", "its indices join no two adjacent layers"),
        (BISHOP, r"\frac{\partial E_n}{\partial w_{ki}} = \delta_k x_i", "its indices join no two adjacent layers"),
    ],
)
def test_a_letter_without_a_role_is_not_understood_naming_the_option(d, formula: str, message: str) -> None:
    with pytest.raises(DeriveError) as info:
        verify(d, None, formula)
    text = str(info.value)
    assert 'layer_marker = "index" reads k, j, i as the output' in text and message in text
    assert "\n" not in text


def test_the_option_is_one_choice_of_layer_marker_and_the_bishop_preset_uses_it() -> None:
    assert Notation(layer_marker="index").role_layer("j", 2) == 1
    assert Notation(layer_marker="index").role_layer("j", 3) is None
    assert Notation().role_layer("j", 2) is None
    assert ("layer_marker", "index") in PRESETS["bishop"].options
    assert not any("index letter" in m for m in PRESETS["bishop"].missing)
    with pytest.raises(SpecError, match="parenthesized, bare, index"):
        Notation(layer_marker="letters")


def test_a_bishop_document_reads_back_right_under_the_option() -> None:
    """The document still writes its layers (^{(l)}); what it prints reads back under the index marker."""
    md = BISHOP.render("md")
    assert r"\delta^{(1)}" in md
