"""A verdict speaks the reader's notation (issue 16), and says when another option or preset would make a formula right.

The reasons, hints and correct forms of wrong verdicts under each textbook's preset are written in that notation's
letters (Bishop's h'(a) and t − y, Wikipedia's t − o, Ng's θ_{ij}), never derive's own σ', ŷ, W or C^{(s)} where the
notation writes something else; in English and in Chinese. A formula wrong under the declared notation but right
under another value of one option (the layer marker here; δ's sign, the index order, the weight layer and the input
layer have their cases in test_mistakes.py and test_presets.py) or under a preset as a whole says which.
"""

from __future__ import annotations

import re
import tomllib

import pytest
from conftest import ROOT

import derive
from derive.verify import verify
from derive.verify.alternatives import ALTERNATIVES
from derive.verify.findings import Convention
from derive.verify.mistakes import Sign, Transposed

COLLECTION = tomllib.loads((ROOT / "examples" / "formulas" / "textbooks.toml").read_text(encoding="utf-8"))["sources"]
NETS = {name: derive.derive(derive.loads(entry["spec"])) for name, entry in COLLECTION.items()}
WRONG = [(name, w["formula"]) for name, entry in COLLECTION.items() for w in entry["wrong"]]


def net(acts: tuple[str, str] = ("tanh", "identity"), notation: str = "") -> derive.Derivation:
    """2 inputs, 3 hidden units, 2 outputs under the squared error."""
    spec = f'inputs = 2\nloss = "squared_error"\n[[layer]]\nunits = 3\nactivation = "{acts[0]}"\n'
    spec += f'[[layer]]\nunits = 2\nactivation = "{acts[1]}"\n'
    return derive.derive(derive.loads(spec + (f"[notation]\n{notation}\n" if notation else "")))


def reasons(text: str) -> list[str]:
    """The lines of a verdict that give a reason (why:, 原因) or the correct form."""
    marks = ("why:", "correct:", "原因：", "正确形式：")
    return [line.strip() for line in text.splitlines() if line.strip().startswith(marks)]


def test_bishops_missing_derivative_names_h_prime_in_his_letters() -> None:
    """Bishop's hidden tanh: h'(a) = 1 − z², with his a (pre-activation), z (activation) and h (function)."""
    v = verify(NETS["bishop"], None, r"\delta^{(1)}_j = \sum_k w^{(2)}_{kj} \delta^{(2)}_k")
    assert "missing_derivative" in v.codes
    assert "(a factor such as h'(a) = 1 − z²)" in v.text()
    assert "（例如 h'(a) = 1 − z² 这一因子）" in v.text("zh")
    assert not any("σ'" in line for line in reasons(v.text()))


def test_wikipedias_sign_reason_writes_t_minus_o() -> None:
    v = verify(NETS["wikipedia"], None, r"\delta_j = (t_j - o_j) o_j (1 - o_j)")
    assert Sign() in v.diagnoses
    assert "(check t − o against o − t)" in v.text() and "（检查 t − o 与 o − t）" in v.text("zh")
    assert "with the sign of t − o" in v.text()
    assert not any(re.search("ŷ|a − y|y − a", line) for line in reasons(v.text()))


def test_wikipedias_missing_derivative_names_phi_as_a_letter() -> None:
    """Wikipedia's φ (function = "phi") is written φ in a reason, not as the option's value."""
    v = verify(NETS["wikipedia"], None, r"\delta_j = (o_j - t_j)")
    assert "missing_derivative" in v.codes
    assert "(a factor such as φ'(net) = o(1 − o))" in v.text(), v.text()
    assert not any("phi" in line for line in reasons(v.text()) + reasons(v.text("zh")))


def test_each_textbooks_letters_in_its_reasons() -> None:
    """Goodfellow's f' and ŷ at the output, cs231n's ReLU', Ng's θ, Nielsen's a, Bishop's per-example E."""
    good = verify(NETS["goodfellow"], None, r"\frac{\partial J}{\partial a^{(2)}} = (\hat{y} - y)")
    assert "(a factor such as f'(a) = ŷ(1 − ŷ))" in good.text()
    relu = verify(NETS["cs231n"], None, r"\delta^{(1)}_j = \sum_k W^{(2)}_{jk} \delta^{(2)}_k")
    assert "(a factor such as ReLU'(z) = [z > 0])" in relu.text()
    ng = verify(NETS["ng"], None, r"\delta^{(2)} = \Theta^{(2)} \delta^{(3)} .* g'(z^{(2)})")
    assert "under this notation θ_{ij} joins neuron j" in ng.text()
    assert "from-to order (θ_{ij} from neuron i to neuron j)" in ng.text()
    nielsen = verify(NETS["nielsen"], None, r"\delta^L = (y - a^L) \odot \sigma'(z^L)")
    assert "(check y − a against a − y)" in nielsen.text()
    # Bishop's E is the sum over the samples (batch = "sum", issue 16): his mistake is the mean
    bishop = verify(NETS["bishop"], None, r"E = \frac{1}{N}\sum_n E_n")
    assert bishop.correct == r"E = \sum_{s=1}^{m} E^{(s)}"
    assert "E is the sum of the per-example costs, Σ_s E^{(s)}" in bishop.text()


@pytest.mark.parametrize(("name", "formula"), WRONG)
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_no_reason_writes_derives_letters_where_the_notation_has_others(name: str, formula: str, lang: str) -> None:
    d = NETS[name]
    n, acts = d.network.notation, {d.network.activation(k).name for k in range(1, d.L + 1)}
    v = verify(d, None, formula)
    said = "\n".join(reasons(v.text(lang)))
    if n.output != "yhat":
        assert "ŷ" not in said
    if n.weight != "W":
        assert not re.search(r"(?<![\\A-Za-z])W(_\{|\^)", said)
    if n.function != "named" or "sigmoid" not in acts:
        assert "σ'" not in said
    if n.target != "y":
        assert not re.search(r"(?<![A-Za-z_{])y − |− y(?![A-Za-z_])", said) or n.output == "y"
    if n.activation != "a" or n.output != "a":
        assert not re.search(r"(?<![A-Za-z\\])a\(1 − a\)|a − y|y − a", said)


def test_goodfellows_gradient_by_a_whole_layer_has_its_correct_form() -> None:
    """∂J/∂a^{(2)} and ∇_{h^{(1)}} J: the correct form by the whole layer, which reads back right."""
    d = NETS["goodfellow"]
    for formula in (
        r"\frac{\partial J}{\partial a^{(2)}} = (\hat{y} - y)",
        r"\nabla_{h^{(1)}} J = W^{(2)} \nabla_{a^{(2)}} J",
    ):
        v = verify(d, None, formula)
        assert not v.right and v.correct, v.text()
        assert verify(d, None, v.correct).right, v.correct
    assert verify(d, None, r"\frac{\partial J}{\partial a^{(2)}} = y").correct.startswith(
        r"\frac{\partial L}{\partial a^{(2)}} = \nabla_{\hat{y}} L \odot"  # Goodfellow's L: one example's cost
    )


# ------------------------------------------------------------------ other readings
def test_every_option_read_otherwise_has_one_definition() -> None:
    assert [a.option for a in ALTERNATIVES] == [
        "delta",
        "index_order",
        "layout",
        "letters",
        "weight_layer",
        "input_layer",
        "layer_marker",
        "preset",
    ]


def test_a_bare_superscript_as_the_layer() -> None:
    """a^2_1 under the parenthesized marker is (a_1)²: the formula is right with layer_marker = "bare"."""
    d = net(("sigmoid", "sigmoid"))
    v = verify(d, None, r"\delta^2_1 = (a^2_1 - y_1) a^2_1 (1 - a^2_1)")
    assert not v.right and v.diagnoses == (Convention("layer_marker", "bare"),)
    assert 'right with a bare superscript read as the layer (a^2 the layer 2, not a square: layer_marker = "bare"' in (
        v.text()
    )
    assert "不带括号的上标按层号理解" in v.text("zh")


def test_a_square_under_the_bare_marker() -> None:
    """Under the bare marker a_1^2 is a of layer 2; read with layers parenthesized it is the hidden a_1 squared."""
    formula = r"\delta^{(1)}_1 = (1 - a_1^2) \sum_k W^{(2)}_{k1} \delta^{(2)}_k"
    assert verify(net(), None, formula).right
    v = verify(net(notation='layer_marker = "bare"'), None, formula)
    assert not v.right and Convention("layer_marker", "parenthesized") in v.diagnoses
    assert 'layers written ^{(l)} and a bare superscript read as a power (layer_marker = "parenthesized")' in v.text()


def test_right_under_another_preset_as_a_whole() -> None:
    """Wikipedia's ∂E/∂w_{ij} = o_i δ_j in derive's own notation: no single option makes it right, the preset does."""
    v = verify(net(("sigmoid", "sigmoid")), None, r"\frac{\partial E}{\partial w_{ij}} = o_i \delta_j")
    assert not v.right and Convention("preset", "wikipedia") in v.diagnoses
    assert 'it would be right under the notation preset "wikipedia"' in v.text()
    assert '在记号预设 "wikipedia" 下公式就是对的' in v.text("zh")


def test_two_options_at_once_are_a_preset_and_derives_own_notation_is_named_first() -> None:
    """Article 004 (from-to, δ the error term) read under derive's own notation: both options flip, the preset says it;
    derive's own formula under article 004's preset is right in derive's own notation."""
    own = verify(net(), None, r"\frac{\partial C}{\partial w^{(2)}_{12}} = -\delta^{(2)}_2 a^{(1)}_1")
    assert Convention("preset", "article004") in own.diagnoses and Transposed() in own.diagnoses
    back = verify(
        net(notation='preset = "article004"'),
        None,
        r"\frac{\partial C}{\partial W^{(2)}_{12}} = \delta^{(2)}_1 a^{(1)}_2",
    )
    assert Convention("preset", "") in back.diagnoses
    assert [x for x in back.diagnoses if isinstance(x, Convention)] == [Convention("preset", "")]  # not every preset
    assert "it would be right in derive's own notation (no preset)" in back.text()


def test_a_single_option_is_said_before_any_preset() -> None:
    """δ's sign flipped alone: said as the delta convention, not as every preset with the other sign."""
    v = verify(
        net(notation='preset = "wikipedia"'),
        None,
        r"\frac{\partial E}{\partial w^{(2)}_{11}} = -\delta^{(2)}_1 o^{(1)}_1",
    )
    assert Convention("delta", "error") in v.diagnoses
    assert not any(isinstance(x, Convention) and x.kind == "preset" for x in v.diagnoses)


def test_an_unreadable_formula_keeps_the_error_naming_its_option() -> None:
    """net under derive's own letters is not read under Wikipedia's preset: the error names pre_activation = "net"."""
    with pytest.raises(derive.DeriveError, match=r'pre_activation = "net"'):
        verify(net(), None, r"\delta^{(2)}_1 = \frac{\partial C}{\partial net^{(2)}_1}")
