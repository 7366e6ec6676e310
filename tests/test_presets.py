"""Notation presets: a source's notation as one bundle of options, and the options they are made of.

Nielsen's four backprop equations are verified right in his own notation (input layer 1, bare superscripts, w^l_{jk}
into j from k), Ng's δ⁽³⁾ and δ⁽²⁾ in his (Θ⁽ˡ⁾ from layer l to l + 1, input layer 1), the typical student mistakes
under each preset are flagged wrong, a document rendered under "nielsen" reads like Nielsen, and the README's table
of presets holds one example per source that is right under its preset.
"""

from __future__ import annotations

import re

import pytest
from conftest import ROOT
from inprocess import run_cli

import derive
from derive import Notation, SpecError
from derive.check import check
from derive.model.document import SECTIONS
from derive.model.notation import PRESETS
from derive.present.document import build
from derive.verify import verify
from derive.verify.findings import Convention

HEAD = 'inputs = 2\nloss = "{loss}"\n'
LAYER = '[[layer]]\nunits = {units}\nactivation = "{act}"\n'


def spec(*units: int, loss: str = "squared_error", act: str | tuple = "sigmoid", notation: str = "") -> str:
    """A spec of layers of these sizes (2 inputs; sigmoid, or one activation each) with a [notation] table."""
    acts = act if isinstance(act, tuple) else (act,) * len(units)
    body = HEAD.format(loss=loss) + "".join(LAYER.format(units=n, act=a) for n, a in zip(units, acts, strict=True))
    return body + "[notation]\n" + notation


# Nielsen's network for his chapter 2: sigmoid layers and the quadratic cost; his layers are 1 (input) to L = 4.
NIELSEN = derive.derive(derive.loads(spec(3, 2, 2, notation='preset = "nielsen"\n')))
# Ng's three-layer network (layer 1 the input, layer 3 the output): sigmoid units, the logistic cost.
NG = derive.derive(derive.loads(spec(3, 1, loss="binary_cross_entropy", notation='preset = "ng"\n')))

# Nielsen's BP1–BP4 as he writes them. ∇_a C is written ∂C/∂a^L (the reader takes \nabla once another part of
# issue 16 adds it; the same vector either way).
NIELSEN_RIGHT = [
    r"\delta^L = \frac{\partial C}{\partial a^L} \odot \sigma'(z^L)",  # BP1
    r"\delta^L = (a^L - y) \odot \sigma'(z^L)",  # BP1 with the quadratic cost's ∇_a C
    r"\delta^l = ((w^{l+1})^T \delta^{l+1}) \odot \sigma'(z^l)",  # BP2
    r"\frac{\partial C}{\partial b^l_j} = \delta^l_j",  # BP3
    r"\frac{\partial C}{\partial w^l_{jk}} = a^{l-1}_k \delta^l_j",  # BP4
    r"\delta^4_j = (a^4_j - y_j) \sigma'(z^4_j)",  # BP1 of this net, element by element: layer 4 is the output
    r"\frac{\partial C}{\partial w^2_{jk}} = x_k \delta^2_j",  # the first weights: a^1 = x
    r"\frac{\partial C}{\partial w^2_{jk}} = a^1_k \delta^2_j",
    r"\delta^3 = ((w^4)^T \delta^4) \odot \sigma'(z^3)",
]

# Ng's backpropagation of his 3-layer network: δ⁽³⁾ = a⁽³⁾ − y, δ⁽²⁾ = (Θ⁽²⁾)ᵀ δ⁽³⁾ .* g'(z⁽²⁾) (Octave's .* written
# \odot until the reader takes .*), and the gradient D⁽ˡ⁾_{ij} = a⁽ˡ⁾_j δ⁽ˡ⁺¹⁾_i of one example.
NG_RIGHT = [
    r"\delta^{(3)} = a^{(3)} - y",
    r"\delta^{(2)} = (\Theta^{(2)})^T \delta^{(3)} \odot g'(z^{(2)})",
    r"\delta^{(2)} = (\Theta^{(2)})^T \delta^{(3)} \odot a^{(2)} \odot (1 - a^{(2)})",
    r"\frac{\partial J}{\partial \Theta^{(l)}_{ij}} = a^{(l)}_j \delta^{(l+1)}_i",
    r"\frac{\partial J}{\partial \Theta^{(1)}_{ij}} = x_j \delta^{(2)}_i",
]


@pytest.mark.parametrize("formula", NIELSEN_RIGHT)
def test_nielsen_equations_are_right_under_his_preset(formula: str) -> None:
    v = verify(NIELSEN, None, formula)
    assert v.right, v.text()
    assert "bare_layer" not in {n.code for n in v.notes}  # under the bare marker a superscript is a layer, no note


@pytest.mark.parametrize("formula", NG_RIGHT)
def test_ng_equations_are_right_under_his_preset(formula: str) -> None:
    v = verify(NG, None, formula)
    assert v.right, v.text()


# (derivation, formula, a diagnosis it must get): the mistakes students make with each book's equations.
MISTAKES = [
    (NIELSEN, r"\delta^L = \frac{\partial C}{\partial a^L}", "missing_derivative"),  # BP1 without σ′(z^L)
    (NIELSEN, r"\delta^L = (y - a^L) \odot \sigma'(z^L)", "sign"),
    (NIELSEN, r"\delta^l = (w^{l+1} \delta^{l+1}) \odot \sigma'(z^l)", "transposed"),  # BP2 without the transpose
    (NIELSEN, r"\frac{\partial C}{\partial w^l_{jk}} = a^{l-1}_j \delta^l_k", "transposed"),  # j and k swapped
    (NG, r"\delta^{(3)} = y - a^{(3)}", "sign"),
    (NG, r"\delta^{(3)} = (a^{(3)} - y) \odot g'(z^{(3)})", "extra_derivative"),  # σ′ of the logistic output kept
    (NG, r"\delta^{(2)} = \Theta^{(2)} \delta^{(3)} \odot g'(z^{(2)})", "transposed"),
]


@pytest.mark.parametrize(("d", "formula", "code"), MISTAKES)
def test_typical_mistakes_are_wrong_under_each_preset(d, formula: str, code: str) -> None:
    v = verify(d, None, formula)
    assert not v.right
    assert code in v.codes, v.text()


def test_a_wrong_layer_number_is_wrong_not_misread() -> None:
    """BP4 with a of the layer itself (a^l for a^{l-1}) is wrong, and so is BP1 written for layer 3, the output in
    derive's own numbering (input layer 0) but a hidden layer in Nielsen's."""
    square = derive.derive(derive.loads(spec(2, 2, 2, notation='preset = "nielsen"\n')))
    assert not verify(square, None, r"\frac{\partial C}{\partial w^l_{jk}} = a^l_k \delta^l_j").right
    assert not verify(NIELSEN, None, r"\delta^3_j = (a^3_j - y_j) \sigma'(z^3_j)").right


def test_the_input_layer_shifts_only_what_the_reader_writes() -> None:
    """W1 and delta1 are derive's own names at any numbering; w^2 and δ^2 are the notation's."""
    assert verify(NIELSEN, "W1[1,2]", r"x_2 \delta^2_1").right
    assert verify(NIELSEN, "delta3[1]", r"(a^4_1 - y_1) \sigma'(z^4_1)").right
    with pytest.raises(derive.DeriveError, match=r"layer 1 does not exist \(layers are 2 to 4\)"):
        verify(NIELSEN, None, r"\delta^1_1 = 0")
    with pytest.raises(derive.DeriveError, match=r"layer 5 does not exist \(layers are 2 to 4\)"):
        verify(NIELSEN, None, r"\delta^5_1 = 0")
    with pytest.raises(derive.DeriveError, match=r"no weights leave layer 3 \(.*: 1 to 2\)"):
        verify(NG, None, r"\frac{\partial J}{\partial \Theta^{(3)}_{11}} = 0")


def test_bare_marker_reads_a_superscript_as_a_layer_and_brackets_as_a_power() -> None:
    d = derive.derive(derive.loads(spec(2, 2, notation='layer_marker = "bare"\n')))  # input layer 0
    assert verify(d, None, r"\frac{\partial C}{\partial w^1_{jk}} = x_k \delta^1_j").right
    assert verify(d, None, r"\frac{\partial C}{\partial W^2_{jk}} = a^1_k \delta^2_j").right
    # a power is written on brackets: ½(a − y)² differentiated is a − y at the output
    assert verify(d, None, r"\delta^2_1 = \frac{1}{2} \cdot 2 (a^2_1 - y_1) a^2_1 (1 - a^2_1)").right
    parenthesized = derive.derive(derive.loads(spec(2, 2)))
    assert not verify(parenthesized, None, r"\delta^{(2)}_1 = (a^2_1 - y_1) a^{(2)}_1 (1 - a^{(2)}_1)").right  # a²


def test_the_input_layer_alone_keeps_parenthesized_layers() -> None:
    d = derive.derive(derive.loads(spec(2, 2, notation="input_layer = 1\n")))
    assert verify(d, None, r"\frac{\partial C}{\partial W^{(2)}_{jk}} = x_k \delta^{(2)}_j").right
    assert verify(d, None, r"\delta^{(3)} = (a^{(3)} - y) \odot \sigma'(z^{(3)})").right
    assert verify(d, None, r"\delta^{(l)} = ((W^{(l+1)})^T \delta^{(l+1)}) \odot \sigma'(z^{(l)})").right


def test_a_preset_is_a_bundle_and_keys_beside_it_win() -> None:
    net = derive.loads(spec(2, 1, notation='preset = "nielsen"\n'))
    assert net.notation == Notation(weight="w", input_layer=1, layer_marker="bare")
    net = derive.loads(spec(2, 1, notation='preset = "nielsen"\nlayer_marker = "parenthesized"\ncost = "J"\n'))
    assert net.notation == Notation(weight="w", input_layer=1, cost="J")
    net = derive.loads(spec(2, 1, notation='preset = "ng"\ninput_layer = 0\n'))
    assert net.notation == Notation(weight="theta", weight_layer="source", cost="J", bias="unit")


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_makes_a_valid_notation(name: str) -> None:
    preset = PRESETS[name]
    notation = Notation(**dict(preset.options))
    assert derive.loads(spec(2, 1, notation=f'preset = "{name}"\n')).notation == notation
    assert preset.source


@pytest.mark.parametrize(
    ("notation", "message"),
    [
        ('preset = "bishopp"\n', r"notation\.preset: 'bishopp' is not one of nielsen, ng, goodfellow, bishop"),
        ("input_layer = 2\n", r"notation\.input_layer: 2 is not one of 0, 1$"),
        ('input_layer = "1"\n', r"notation\.input_layer: must be a whole number, got '1'$"),
        ("input_layer = true\n", r"notation\.input_layer: must be a whole number, got True$"),
        ('layer_marker = "plain"\n', r"notation\.layer_marker: 'plain' is not one of parenthesized, bare, index$"),
        ('preset = "nielsen"\nlayer_marker = "naked"\n', r"notation\.layer_marker: 'naked' is not one of"),
        ("preset = 1\n", r"notation\.preset: must be a string, got 1$"),
    ],
)
def test_spec_errors_are_one_line(tmp_path, notation: str, message: str) -> None:
    assert_one_line_error(tmp_path, notation, message)


def assert_one_line_error(folder, notation: str, message: str) -> None:
    """A [notation] table that is refused: one line matching ``message``, from Python and as exit 2 of check."""
    with pytest.raises(SpecError, match=message) as info:
        derive.loads(spec(2, 1, notation=notation))
    assert "\n" not in str(info.value)
    path = folder / "bad.toml"
    path.write_text(spec(2, 1, notation=notation), encoding="utf-8")
    result = run_cli("check", str(path))
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and re.search(message.rstrip("$"), result.stderr), result.stderr


def test_a_nielsen_document_reads_like_nielsen() -> None:
    md = NIELSEN.render("md")
    # the table numbers the input layer 1 and the output layer 4; every layer is a bare superscript
    assert "| $1$ | $2$ |  |  |  | $x$ |" in md
    assert "| $4$ | $2$ | $w^{4} \\in" in md
    assert r"\delta^{4}_{1} &= \frac{\partial C}{\partial a^{4}_{1}}" in md
    assert r"\frac{\partial C}{\partial w^{2}_{11}}" in md
    assert not re.search(r"(?<!C)\^\{\((\d|l|L)", md), re.findall(r".{30}\^\{\(.{20}", md)
    assert "the input, which is layer 1" in md and "a bare superscript" in md
    zh = NIELSEN.render("md", "zh")
    assert "输入层是第 1 层" in zh and "上标总是层号" in zh
    for text in (md, zh):
        assert not re.search(r"(?<!C)\^\{\((\d|l|L)", text), re.findall(r".{30}\^\{\(.{20}", text)
    # a formula the document prints reads back right under the same notation
    assert verify(NIELSEN, None, r"\delta^{3} = ((w^{4})^{\mathsf T} \delta^{4}) \odot \sigma'(z^{3})").right


def test_every_section_numbers_layers_as_nielsen_does() -> None:
    """The articles' own sections too: the layer by layer backward pass, the Jacobians, the procedures, the counts."""
    sections = ", ".join(f'"{key}"' for key in SECTIONS if key != "warmup")  # warmup: one neuron, no layers
    text = spec(3, 2, notation='preset = "nielsen"\n') + f"[document]\nsections = [{sections}]\nappendix = []\n"
    d = derive.derive(derive.loads(text))
    for lang in ("en", "zh"):
        md = d.render("md", lang)
        assert not re.search(r"(?<!C)\^\{\((\d|l|L)", md), re.findall(r".{30}\^\{\(.{20}", md)
        body = re.sub(r"The layers are numbered from the input[^\n]*|层从输入层开始编号[^。]*。", "", md)
        assert not re.search(r"[Ll]ayer 1\b|第 1 层", body), lang  # layer 1 is the input: only that sentence says it
    md = d.render("md")
    assert "### The weights and biases of layer 3" in md and "### The output $a^{2}$ of hidden layer 2" in md
    assert r"\sum_{l=2}^{L} n^{l} n^{l-1}" in md


def test_verdicts_speak_the_notation() -> None:
    text = verify(NIELSEN, None, r"\frac{\partial C}{\partial b^l_j} = \delta^l_j").text()
    assert "w^l_{ij}" in text and "layers 2 to 4 (the input is layer 1)" in text
    wrong = verify(NIELSEN, None, r"\delta^4 = (a^4 - y)").text()
    assert r"correct: \delta^{4}" in wrong
    assert "the derivative of layer 4's activation is missing" in wrong  # Nielsen's output layer is layer 4
    shifted = verify(NG, None, r"\delta^{(2)} = (\Theta^{(2)})^T \delta^{(3)} \odot g'(z^{(3)})")
    assert "taken in the wrong place: layer 3, neuron 1" in shifted.text()  # Ng's z^{(3)}: derive's layer 2
    assert "用了第 3 层" in shifted.text("zh")
    zh = verify(NG, None, r"\delta^{(3)} = a^{(3)} - y").text("zh")
    assert "层号 2 到 3（输入层为第 1 层）" in zh


# --------------------------------------------------------------------------- the README's table of presets
README = (ROOT / "README.md").read_text(encoding="utf-8")
# | `"preset"` | source | `example` | network | still needs |: each row's example and the network it is verified on
ROWS = re.findall(r"^\| `\"(\w+)\"` \| [^|]+ \| `([^`]+)` \| ([^|]+) \|(.*)\|$", README, re.M)
NETWORKS = {  # (hidden and output sizes, their activations, the loss); two inputs
    "3 sigmoid layers, quadratic cost": ((3, 2, 2), "sigmoid", "squared_error"),
    "2 sigmoid layers, quadratic cost": ((3, 2), "sigmoid", "squared_error"),
    "2 sigmoid layers, logistic cost": ((3, 1), "sigmoid", "binary_cross_entropy"),
    "2 sigmoid layers (1 output), logistic cost": ((3, 1), "sigmoid", "binary_cross_entropy"),
    "2 sigmoid layers (1 output), quadratic cost": ((3, 1), "sigmoid", "squared_error"),
    "1 sigmoid layer, logistic cost": ((2,), "sigmoid", "binary_cross_entropy"),
    "1 sigmoid layer, quadratic cost": ((2,), "sigmoid", "squared_error"),
    "relu then softmax, cross-entropy": ((3, 2), ("relu", "softmax"), "cross_entropy"),
}


def test_the_readme_table_has_every_preset_and_what_it_still_needs() -> None:
    assert [row[0] for row in ROWS] == list(PRESETS)
    for name, _, _, needs in ROWS:
        assert needs.strip() == "; ".join(PRESETS[name].missing), name


@pytest.mark.parametrize(("name", "formula", "network"), [r[:3] for r in ROWS], ids=[r[0] for r in ROWS])
def test_each_readme_example_is_right_under_its_preset(name: str, formula: str, network: str) -> None:
    units, act, loss = NETWORKS[network.strip()]
    d = derive.derive(derive.loads(spec(*units, loss=loss, act=act, notation=f'preset = "{name}"\n')))
    v = verify(d, None, formula)
    assert v.right, v.text()


def test_bare_marker_keeps_powers_of_what_has_no_layer() -> None:
    """x², y² and ŷ² are powers under the bare marker: only a, z, w, b and δ carry a layer."""
    d = derive.derive(derive.loads(spec(2, 1, notation='layer_marker = "bare"\noutput = "yhat"\n')))
    assert verify(
        d, "W1[1,1]", r"(\hat{y}^2 - \hat{y}^2 + \hat{y} - y) \hat{y} (1 - \hat{y}) W^2_{11} x_1 a^1_1 (1 - a^1_1)"
    ).right
    assert not verify(d, "W1[1,1]", r"(\hat{y} - y) \hat{y} (1 - \hat{y}) W^2_{11} x_1^2 a^1_1 (1 - a^1_1)").right
    assert not verify(d, "W1[1,1]", r"(\hat{y} - y^2) \hat{y} (1 - \hat{y}) W^2_{11} x_1 a^1_1 (1 - a^1_1)").right


@pytest.mark.parametrize("d", [NIELSEN, NG], ids=["nielsen", "ng"])
def test_the_documents_exercise_answers_read_back_under_the_preset(d) -> None:
    """An exercise's kept answer is printed in the notation (w^{4}_{11}, θ^{(2)}_{11}) and verifies right in it."""
    doc = build(d, check(d))
    assert len(doc.exercises) == 3
    for e in doc.exercises:
        assert verify(d, e.param, e.answer).right, e.answer


def test_a_formula_right_with_the_other_input_layer_number_says_so() -> None:
    """Ng's δ⁽³⁾ under derive's numbering (input layer 0) and derive's δ⁽²⁾ under Nielsen's: each is wrong, and the
    verdict says under which numbering it would be right instead of misreading it silently."""
    own = derive.derive(derive.loads(spec(3, 1, loss="binary_cross_entropy")))
    v = verify(own, None, r"\delta^{(3)} = a^{(3)} - y")
    assert not v.right and Convention("input_layer", 1) in v.diagnoses
    assert "it would be right with the input layer numbered 1" in v.text()
    assert "输入层编号为 1" in v.text("zh")
    w = verify(NIELSEN, None, r"\delta^{3} = (a^{3} - y) \odot \sigma'(z^{3})")
    assert not w.right and Convention("input_layer", 0) in w.diagnoses
    assert "it would be right with the input layer numbered 0" in w.text()
