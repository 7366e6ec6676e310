"""Goodfellow's algorithm 6.4 (Deep Learning §6.5.4) as printed, under ``preset = "goodfellow"``.

The layer letter k (``layer_letter``) is read and written like derive's l; the running gradient g is read in each
line as the gradient that line fixes, and the verdict says which; Ω(θ) is the spec's penalty over λ; J = L(ŷ, y) +
λΩ(θ) is one example's objective. The numbers a verdict reports are recomputed here by hand, with NumPy: a forward
pass, the backward pass of the algorithm, and the penalty of each form.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from inprocess import run_cli
from test_presets import assert_one_line_error, spec

import derive
from derive import DeriveError
from derive.verify import verify
from derive.verify.findings import Omega, RunningGradient


def net(reg: str = "", act: str = "sigmoid", notation: str = 'preset = "goodfellow"\n'):
    """A 2-3-2 network (sigmoid, squared error) in Goodfellow's notation, with a [regularization] table."""
    return derive.derive(derive.loads(spec(3, 2, act=act, notation=notation) + reg))


HALF = '[regularization]\nl2 = 0.1\nform = "half"\n'
GF = net(HALF)

ALGORITHM = [  # (line, the g it reads, the g it leaves) as the verdict's notes must say
    (r"g \leftarrow \nabla_{\hat{y}} J = \nabla_{\hat{y}} L(\hat{y}, y)", None, r"\nabla_{\hat{y}} J"),
    (r"g \leftarrow \nabla_{a^{(k)}} J = g \odot f'(a^{(k)})", r"\nabla_{h^{(k)}} J", r"\nabla_{a^{(k)}} J"),
    (r"\nabla_{b^{(k)}} J = g + \lambda \nabla_{b^{(k)}} \Omega(\theta)", r"\nabla_{a^{(k)}} J", None),
    (r"\nabla_{W^{(k)}} J = g \, h^{(k-1)\top} + \lambda \nabla_{W^{(k)}} \Omega(\theta)", r"\nabla_{a^{(k)}} J", None),
    (r"g \leftarrow \nabla_{h^{(k-1)}} J = W^{(k)\top} g", r"\nabla_{a^{(k)}} J", r"\nabla_{h^{(k-1)}} J"),
    (r"g \leftarrow g \odot f'(a^{(k)})", r"\nabla_{h^{(k)}} J", r"\nabla_{a^{(k)}} J"),
    (r"g \leftarrow W^{(k)\top} g", r"\nabla_{a^{(k)}} J", r"\nabla_{h^{(k-1)}} J"),
]


# ------------------------------------------------------------------ by hand
def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def backward(values: dict[str, float]) -> dict[str, np.ndarray]:
    """Algorithm 6.4 by hand at a verdict's point: the forward pass, then g down the layers (no penalty)."""
    x = np.array([values["x[1]"], values["x[2]"]])
    y = np.array([values["y[1]"], values["y[2]"]])
    shapes = {1: (3, 2), 2: (2, 3)}  # (rows, columns) of W^{(k)}
    W = {
        k: np.array([[values[f"W{k}[{i},{j}]"] for j in range(1, c + 1)] for i in range(1, r + 1)])
        for k, (r, c) in shapes.items()
    }
    b = {k: np.array([values[f"b{k}[{i}]"] for i in range(1, r + 1)]) for k, (r, _) in shapes.items()}
    h = {0: x}
    a = {}
    for k in (1, 2):
        a[k] = b[k] + W[k] @ h[k - 1]
        h[k] = sigmoid(a[k])
    out = {}
    g = h[2] - y  # ∇_ŷ L of ½ Σ (ŷ − y)²
    for k in (2, 1):
        g = g * h[k] * (1 - h[k])  # g ⊙ f'(a^{(k)})
        out[f"W{k}"] = np.outer(g, h[k - 1])
        out[f"b{k}"] = g
        g = W[k].T @ g
    return out


# ------------------------------------------------------------------ the layer letter
def test_the_layer_letter_k_is_read_as_a_general_layer() -> None:
    v = verify(GF, None, r"\nabla_{W^{(k)}} J = \delta^{(k)} h^{(k-1)\top} + \lambda W^{(k)}")
    assert v.right and v.total_elements == 3 * 2 + 2 * 3, v.text()
    assert "weights W^{(k)}_{ij}" in v.text()
    own = net(notation='layer_letter = "k"\n')  # the option on its own, in derive's letters
    assert verify(own, None, r"\delta^{(k)} = ((W^{(k+1)})^T \delta^{(k+1)}) \odot \sigma'(z^{(k)})").right
    with pytest.raises(DeriveError, match=r"a layer must be a number, \(2\), l, l\+1, L or o"):
        verify(net(notation=""), None, r"\nabla_{W^{(k)}} C = \delta^{(k)} (a^{(k-1)})^T")


def test_a_layer_letter_outside_its_choices_is_one_line(tmp_path) -> None:
    assert_one_line_error(tmp_path, 'layer_letter = "m"\n', r"notation\.layer_letter: 'm' is not one of l, k$")


def test_a_goodfellow_document_writes_k_for_the_general_layer() -> None:
    for lang in ("en", "zh"):
        md = GF.render("md", lang)
        assert r"\delta^{(k)} &= ((W^{(k+1)})^{\mathsf T} \delta^{(k+1)}) \odot f'(a^{(k)})" in md
        assert r"\frac{\partial L}{\partial W^{(k)}} &= \delta^{(k)} (h^{(k-1)})^{\mathsf T}" in md
        assert "$k = L$" in md and r"\sum_{k=1}^{L}" in md
        assert not re.search(r"\(l[)+-]|\$l\b|\{l=", md), re.findall(r".{30}\(l[)+-].{10}", md)
        assert r"\sum_{p=1}^{n^{(k+1)}} W^{(k+1)}_{pi}" in md  # the layer above's neuron index is no longer k
    tex = GF.render("tex")
    assert r"h^{(k-1)}" in tex and "(l)" not in tex
    assert r"\delta^{(l)}" in net(notation="").render("md")  # derive's own letter elsewhere


def test_what_the_goodfellow_document_prints_reads_back_right() -> None:
    md = GF.render("md")
    for line in (
        r"\delta^{(k)} = ((W^{(k+1)})^{\mathsf T} \delta^{(k+1)}) \odot f'(a^{(k)})",
        r"\frac{\partial L}{\partial W^{(k)}} = \delta^{(k)} (h^{(k-1)})^{\mathsf T}",
    ):
        assert line.replace(" = ", " &= ") in md
        assert verify(GF, None, line).right, line


# ------------------------------------------------------------------ the running gradient g
@pytest.mark.parametrize(("line", "before", "after"), ALGORITHM, ids=[a[0] for a in ALGORITHM])
def test_each_line_of_algorithm_6_4_is_right_and_says_what_g_was_read_as(line, before, after) -> None:
    v = verify(GF, None, line)
    assert v.right, v.text()
    said = [n for n in v.notes if isinstance(n, RunningGradient)]
    assert said == [RunningGradient(g, True) for g in [after] if g] + [RunningGradient(g) for g in [before] if g]
    text, zh = v.text(), v.text("zh")
    if before:
        assert f"g on the right is read as {before}, the gradient the algorithm carries into this line" in text
        assert f"右边的 g 读作 {before}" in zh
    if after:
        assert f"g ← …: g holds {after} after this line" in text and f"这一行之后 g 存的是 {after}" in zh


def test_the_running_gradient_has_the_numbers_of_the_backward_pass() -> None:
    """∇_{W^{(k)}} J = g h^{(k-1)⊤} without λ∇Ω: the formula gives one example's g h^⊤ and derive's gradient adds λW,
    both recomputed by hand at the counterexample's point."""
    v = verify(GF, None, r"\nabla_{W^{(k)}} J = g \, h^{(k-1)\top}")
    assert not v.right and "penalty" in v.codes
    c = v.counterexample
    assert c is not None
    values = {**c.inputs, **c.targets, **c.parameters}
    grads = backward(values)
    layer, i, j = map(int, re.fullmatch(r"W(\d)\[(\d),(\d)\]", c.element).groups())
    by_hand = grads[f"W{layer}"][i - 1, j - 1]
    assert c.given == pytest.approx(by_hand, rel=1e-9)
    assert c.correct == pytest.approx(by_hand + values["lambda"] * values[c.element], rel=1e-9)  # λΩ = (λ/2)Σw²


@pytest.mark.parametrize(
    ("line", "code"),
    [
        (r"g \leftarrow \nabla_{a^{(k)}} J = g", "missing_derivative"),  # g ⊙ f' dropped
        (r"g \leftarrow \nabla_{h^{(k-1)}} J = W^{(k)} g", "transposed"),
        (r"\nabla_{W^{(k)}} J = g \, h^{(k-1)\top}", "penalty"),
        (r"g \leftarrow \nabla_{a^{(k)}} J = g \odot f'(h^{(k)})", None),  # f' of the activation: wrong, said so
    ],
)
def test_typical_mistakes_in_the_algorithm_are_wrong(line: str, code: str | None) -> None:
    v = verify(GF, None, line)
    assert not v.right
    assert code is None or code in v.codes, v.text()


@pytest.mark.parametrize(
    ("line", "why"),
    [
        (r"g \leftarrow g", "which gradient g ← … leaves in g cannot be fixed from the line"),
        (r"g \leftarrow 2 g", "which gradient g ← … leaves in g cannot be fixed from the line"),
        (r"\nabla_{\hat{y}} J = g", r"g on the right of a line stating the gradient by \hat{y} holds nothing yet"),
        (r"\delta^{(k)} = g", "the left side must be a gradient such as"),
        (r"g \leftarrow \nabla_{a^{(k)}} J", "names what g holds and states nothing to check"),
    ],
)
def test_a_g_the_line_does_not_fix_is_not_understood_naming_why(tmp_path, line: str, why: str) -> None:
    with pytest.raises(DeriveError, match=re.escape(why)):
        verify(GF, None, line)
    path = tmp_path / "goodfellow.toml"
    path.write_text(spec(3, 2, notation='preset = "goodfellow"\n') + HALF, encoding="utf-8")
    ran = run_cli("verify", str(path), line)
    assert ran.returncode == 2 and ran.stderr.count("\n") == 1 and "running gradient" in ran.stderr


def test_g_is_the_function_where_the_notation_says_so() -> None:
    """In derive's own notation g is a general layer's activation function: g ← g ⊙ … stays refused there."""
    with pytest.raises(DeriveError, match="updates g in place: a running gradient"):
        verify(net(notation=""), None, r"g \leftarrow g \odot \sigma'(z^{(l)})")


# ------------------------------------------------------------------ Ω(θ) and J = L(ŷ, y) + λΩ(θ)
@pytest.mark.parametrize(("form", "factor"), [("half", "1/2"), ("plain", "1"), ("half_over_m", "1/(2m)")])
def test_omega_is_the_spec_penalty_over_lambda_in_every_form(form: str, factor: str) -> None:
    d = net(f'[regularization]\nl2 = 0.1\nform = "{form}"\n')
    v = verify(d, None, r"\nabla_{W^{(k)}} J = g \, h^{(k-1)\top} + \lambda \nabla_{W^{(k)}} \Omega(\theta)")
    assert v.right and Omega(form, factor, False) in v.notes, v.text()
    if form == "half":
        assert "Goodfellow's weight decay ½‖w‖²" in v.text()
    else:
        assert f'would need form = "half", here λΩ must be {factor} λ Σ θ²' in v.text()
        assert 'Goodfellow 的权重衰减 Ω = ½‖w‖² 需要 form = "half"' in v.text("zh")
    assert verify(d, None, r"J = L(\hat{y}, y) + \lambda \Omega(\theta)").right


@pytest.mark.parametrize(
    ("form", "scale"), [("half", lambda lam, m: lam / 2), ("half_over_m", lambda lam, m: lam / (2 * m))]
)
def test_a_cost_without_its_penalty_is_wrong_with_the_penalty_by_hand(form: str, scale) -> None:
    d = net(f'[regularization]\nl2 = 0.1\nform = "{form}"\n')
    v = verify(d, None, r"J = L(\hat{y}, y)")
    assert not v.right and v.codes == ("penalty_scale",)
    c = v.counterexample
    assert c is not None
    n = c.inputs
    assert c.given == pytest.approx(n["L"], rel=1e-12)
    assert c.correct == pytest.approx(n["L"] + scale(n["λ"], n["m"]) * n["Σθ²"], rel=1e-12)
    assert "the spec's L2 penalty is missing" in v.text()
    halved = verify(d, None, r"J = L(\hat{y}, y) + \frac{\lambda}{2} \Omega(\theta)")
    assert not halved.right and "penalty_scale" in halved.codes


def test_without_a_penalty_the_cost_is_the_loss() -> None:
    d = net()
    assert verify(d, None, r"J = L(\hat{y}, y)").right
    v = verify(d, None, r"J = L(\hat{y}, y) + \lambda \Omega(\theta)")
    assert not v.right and v.codes == ("penalty_without",)
    with pytest.raises(DeriveError, match=r"spec has no \[regularization\]"):
        verify(d, None, r"\nabla_{W^{(k)}} J = g \, h^{(k-1)\top} + \lambda \nabla_{W^{(k)}} \Omega(\theta)")


def test_the_biases_are_in_omega_only_when_the_spec_says_so() -> None:
    bias_line = r"\nabla_{b^{(k)}} J = g + \lambda \nabla_{b^{(k)}} \Omega(\theta)"
    assert verify(GF, None, bias_line).right
    assert verify(GF, None, r"\nabla_{b^{(k)}} J = g").right  # Ω leaves the biases out: λ∇_bΩ = 0
    with_biases = net(HALF + "biases = true\n")
    v = verify(with_biases, None, bias_line)
    assert v.right and Omega("half", "1/2", True) in v.notes
    assert "over the weights and the biases" in v.text()
    assert not verify(with_biases, None, r"\nabla_{b^{(k)}} J = g").right


# ------------------------------------------------------------------ an identity in Goodfellow's variable
def test_an_identity_prints_its_correct_line_in_one_variable() -> None:
    """A wrong identity's correct line is written in the variable it was read in: the one written, else the
    notation's pre-activation a; never z on one side and a on the other."""
    for written, letter in ((r"\sigma'(z) = \sigma(z)(1 + \sigma(z))", "z"), ("h' = h(1 + h)", "a")):
        v = verify(GF, None, written)
        assert not v.right
        assert v.correct == rf"\sigma'({letter}) = \sigma({letter}) (1 - \sigma({letter}))", v.correct
        value = v.counterexample.inputs[letter]
        s = 1 / (1 + math.exp(-value))
        assert v.counterexample.given == pytest.approx(s * (1 + s)) and v.counterexample.correct == pytest.approx(
            s * (1 - s)
        )
        assert verify(GF, None, v.correct).right  # the correct line reads back right
    assert verify(GF, None, r"f'(a) = f(a)(1 - f(a))").right  # Goodfellow's variable a
