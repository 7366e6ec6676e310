"""The row-vector layout (``[notation] layout = "row"``, cs231n's z = a W + b): shapes and values against NumPy written
as cs231n's code writes them, verdicts in both layouts, documents, and what the layout never changes.

Values are computed here with NumPy from the same parameters (a sample is a row, W stored in × out, dW2 = hᵀ dscores);
derive's own W<l> (a row per neuron of layer l) is the reader's W^{(l)} transposed under from-to.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy

import derive
from derive import SpecError
from derive.engine import matrixform
from derive.engine.record import Record
from derive.numeric.codegen import module_source
from derive.rules import symbols as sym
from derive.verify import verify

SIZES = (2, 3, 2)


def spec(layout: str | None = "row", order: str | None = None, preset: str | None = "cs231n", extra: str = ""):
    lines = [f'preset = "{preset}"' if preset else "", f'layout = "{layout}"' if layout else ""]
    if preset == "cs231n":  # the layout with derive's letters (the preset's h, f and p: tests/test_cs231n_names.py)
        lines.append('activation = "a"\noutput_pre_activation = "same"\noutput = "a"')
    lines.append(f'index_order = "{order}"' if order else "")
    notation = "\n".join(line for line in lines if line)
    return derive.loads(
        'inputs = 2\nloss = "cross_entropy"\n[[layer]]\nunits = 3\nactivation = "relu"\n'
        f'[[layer]]\nunits = 2\nactivation = "softmax"\n[notation]\n{notation}\n{extra}'
    )


CS231N = derive.derive(spec())  # rows, W in × out
COLUMNS_FROM_TO = derive.derive(spec("column"))  # cs231n's letters with column vectors: z = Wᵀ a + b
OWN = derive.derive(spec(None, preset=None))  # derive's own: columns, W out × in
TORCH = derive.derive(spec("row", "to_from"))  # rows with W out × in, as torch.nn.Linear stores it: z = a Wᵀ + b


def _numbers(seed: int = 3):
    """Parameters in derive's arrays (W<l> of shape (out, in)), one sample, and cs231n's forward and backward pass."""
    rng = np.random.default_rng(seed)
    W = {1: rng.normal(size=(3, 2)), 2: rng.normal(size=(2, 3))}
    b = {1: rng.normal(size=3) * 0.1, 2: rng.normal(size=2) * 0.1}
    x = rng.normal(size=(1, 2))
    y = np.array([[0.0, 1.0]])
    # cs231n's code: the weights stored (in, out), a sample is a row
    W1, W2 = W[1].T, W[2].T
    z1 = x @ W1 + b[1]
    h = np.maximum(0.0, z1)
    z2 = h @ W2 + b[2]
    p = np.exp(z2 - z2.max()) / np.exp(z2 - z2.max()).sum()
    dscores = p - y
    dW2 = h.T @ dscores
    dh = dscores @ W2.T
    dz1 = dh * (z1 > 0)
    dW1 = x.T @ dz1
    cs = {"z1": z1, "a1": h, "z2": z2, "a2": p, "delta2": dscores, "delta1": dz1}
    cs |= {"dW1": dW1, "db1": dz1, "dW2": dW2, "db2": dscores}
    values = {sym.x(i + 1): x[0, i] for i in range(2)} | {sym.y(i + 1): y[0, i] for i in range(2)}
    for layer in (1, 2):
        out, into = W[layer].shape
        values |= {sym.W(layer, i + 1, j + 1): W[layer][i, j] for i in range(out) for j in range(into)}
        values |= {sym.b(layer, i + 1): b[layer][i] for i in range(out)}
        values |= {sym.z(layer, i + 1): cs[f"z{layer}"][0, i] for i in range(out)}
        values |= {sym.a(layer, i + 1): cs[f"a{layer}"][0, i] for i in range(out)}
    return values, cs


def _value(expr, d, values) -> np.ndarray:
    """A side of a matrix-form equation as explicit numbers (no symbol may be left)."""
    m = matrixform.explicit(expr, d).xreplace(values)
    assert not m.free_symbols, m.free_symbols
    return np.array(m.evalf(), dtype=float)


# --------------------------------------------------------------------------- the option
def test_cs231n_sets_the_row_layout_and_derive_keeps_columns() -> None:
    assert CS231N.network.notation.layout == "row"
    assert OWN.network.notation.layout == "column"
    assert COLUMNS_FROM_TO.network.notation.layout == "column"  # a key beside the preset wins


def test_an_unknown_layout_is_one_line_naming_the_choices() -> None:
    with pytest.raises(SpecError, match=r"notation\.layout: 'rows' is not one of column, row") as exc:
        spec("rows")
    assert "\n" not in str(exc.value)


# --------------------------------------------------------------- the matrix form in rows
def test_row_layout_equations_have_cs231n_shapes_and_numpys_values() -> None:
    """Every vector 1 × n, W and ∂L/∂W (in × out), and each right side equal to cs231n's NumPy, entry by entry."""
    values, cs = _numbers()
    form = Record(CS231N).matrix
    z1, _ = form.forward[1]
    z2, _ = form.forward[2]
    delta2 = form.output_delta[-1]
    (delta1,) = form.recursion[1]
    dW1, db1 = form.gradients[1]
    dW2, db2 = form.gradients[2]
    for eq, name in [(z1, "z1"), (z2, "z2"), (delta2, "delta2"), (delta1, "delta1"), (db1, "db1"), (db2, "db2")]:
        assert eq.lhs.shape == cs[name].shape == (1, SIZES[int(name[-1])]), name  # a row
        np.testing.assert_allclose(_value(eq.rhs, CS231N, values), cs[name], rtol=1e-12, err_msg=name)
    for eq, name in [(dW1, "dW1"), (dW2, "dW2")]:
        layer = int(name[-1])
        assert eq.lhs.shape == (SIZES[layer - 1], SIZES[layer]), name  # in × out
        np.testing.assert_allclose(_value(eq.rhs, CS231N, values), cs[name], rtol=1e-12, err_msg=name)


def test_every_row_layout_equation_holds_entry_by_entry() -> None:
    """The engine's own confirmation (matrixform.holds) of every concrete row equation, in both W orientations."""
    for d in (CS231N, TORCH):
        form = Record(d).matrix
        eqs = [form.forward[2][0], *form.output_delta, *form.recursion[1], *form.gradients[1], *form.gradients[2]]
        assert all(matrixform.holds(eq, d) for eq in eqs)
        assert all(ok for _, _, ok in d.check(points=1, use_torch=False).matrix)


def test_row_layout_with_to_from_weights_is_torchs_linear() -> None:
    """Rows with W (out × in), as torch.nn.Linear stores it: z = a Wᵀ + b and ∂L/∂W = δᵀ a, derive's W<l> itself."""
    values, cs = _numbers()
    form = Record(TORCH).matrix
    dW1, _ = form.gradients[1]
    assert dW1.lhs.shape == (3, 2)
    np.testing.assert_allclose(_value(dW1.rhs, TORCH, values), cs["dW1"].T, rtol=1e-12)
    (delta1,) = form.recursion[1]
    np.testing.assert_allclose(_value(delta1.rhs, TORCH, values), cs["delta1"], rtol=1e-12)
    v = verify(TORCH, None, r"\frac{\partial L}{\partial W^{(2)}} = (\delta^{(2)})^T a^{(1)}")
    assert v.right and "vectors are rows (z = a Wᵀ + b)" in v.text(), v.text()
    assert verify(TORCH, None, r"\delta^{(1)} = \delta^{(2)} W^{(2)} \odot [z^{(1)} > 0]").right


def test_the_layout_never_changes_names_mathematics_or_generated_code() -> None:
    """The canonical gradients and the generated NumPy module are the same in every layout."""
    assert module_source(CS231N.network) == module_source(COLUMNS_FROM_TO.network)
    for name in ("W1[2,1]", "b2[1]", "W2[1,3]"):
        assert sympy.simplify(CS231N.parameter(name).closed - COLUMNS_FROM_TO.parameter(name).closed) == 0


# ----------------------------------------------------------------------- the verdicts
RIGHT_IN_ROWS = [
    r"\frac{\partial L}{\partial W^{(2)}} = (a^{(1)})^T \delta^{(2)}",
    r"\frac{\partial L}{\partial W^{(1)}} = x^T \delta^{(1)}",
    r"\frac{\partial L}{\partial W^{(2)}} = (a^{(1)})^T (a^{(2)} - y)",
    r"\delta^{(1)} = \delta^{(2)} (W^{(2)})^T \odot [z^{(1)} > 0]",
    r"\frac{\partial L}{\partial b^{(2)}} = \delta^{(2)}",
    r"\delta^{(2)} = a^{(2)} - y",
    r"\delta^{(2)} = \nabla_{a^{(2)}} L \frac{\partial a^{(2)}}{\partial z^{(2)}}",
    r"\frac{\partial L}{\partial W^{(l)}} = (a^{(l-1)})^T \delta^{(l)}",
    r"\delta^{(l)} = \delta^{(l+1)} (W^{(l+1)})^T \odot g'(z^{(l)})",
    r"\frac{\partial L}{\partial W^{(2)}_{ij}} = a^{(1)}_i \delta^{(2)}_j",  # element forms do not depend on it
]


@pytest.mark.parametrize("formula", RIGHT_IN_ROWS)
def test_cs231ns_row_forms_are_right(formula: str) -> None:
    v = verify(CS231N, None, formula)
    assert v.right, v.text()


COLUMN_FORMS = [  # right with column vectors and W in × out: wrong by shape in rows, and the verdict says why
    r"\frac{\partial L}{\partial W^{(2)}} = a^{(1)} (\delta^{(2)})^T",
    r"\delta^{(1)} = (W^{(2)} \delta^{(2)}) \odot [z^{(1)} > 0]",
]


@pytest.mark.parametrize("formula", COLUMN_FORMS)
def test_column_forms_are_wrong_in_rows_and_right_with_layout_column(formula: str) -> None:
    v = verify(CS231N, None, formula)
    assert not v.right and "shape" in v.codes and "convention" in v.codes, v.text()
    assert "it would be right with layout = column" in v.text(), v.text()
    assert "如果 layout = column，公式就是对的" in v.text("zh")
    assert verify(COLUMNS_FROM_TO, None, formula).right


def test_a_row_form_is_wrong_in_columns_and_right_with_layout_row() -> None:
    formula = RIGHT_IN_ROWS[0]
    v = verify(COLUMNS_FROM_TO, None, formula)
    assert not v.right and "it would be right with layout = row" in v.text(), v.text()
    # derive's own notation (W out × in): hᵀ δ is (in × out), so it needs the rows and the from-to order both
    own = verify(OWN, None, r"\frac{\partial C}{\partial W^{(2)}} = (a^{(1)})^T \delta^{(2)}")
    assert not own.right and "it would be right with layout = row" in own.text(), own.text()
    assert "from-to order" in own.text()
    assert verify(OWN, None, r"\frac{\partial C}{\partial W^{(2)}} = \delta^{(2)} (a^{(1)})^T").right


def test_typical_row_mistakes_are_wrong_with_the_reason() -> None:
    sign = verify(CS231N, None, r"\frac{\partial L}{\partial W^{(2)}} = (a^{(1)})^T (y - a^{(2)})")
    assert not sign.right and "sign" in sign.codes
    relu = verify(CS231N, None, r"\delta^{(1)} = \delta^{(2)} (W^{(2)})^T")
    assert not relu.right and "missing_derivative" in relu.codes
    flipped = verify(CS231N, None, r"\delta^{(1)} = \delta^{(2)} W^{(2)} \odot [z^{(1)} > 0]")
    assert not flipped.right and "transposed" in flipped.codes, flipped.text()


def test_the_verdicts_correct_form_is_written_in_rows_and_reads_back_right() -> None:
    v = verify(CS231N, None, r"\frac{\partial L}{\partial W^{(2)}} = a^{(1)} (\delta^{(2)})^T")
    assert v.correct == r"\frac{\partial L}{\partial W^{(2)}} = (a^{(1)})^{\mathsf T} \delta^{(2)}"
    assert "vectors are rows (z = a W + b)" in v.text()
    w = verify(CS231N, None, r"\delta^{(1)} = (W^{(2)} \delta^{(2)}) \odot [z^{(1)} > 0]")
    for correct in (v.correct, w.correct):
        assert verify(CS231N, None, correct).right, correct


# ---------------------------------------------------------------------- the documents
def test_a_row_layout_document_writes_z_a_W_and_its_transposes_in_rows() -> None:
    md = CS231N.render("md", "en")
    for line in (
        r"z^{(2)} &= a^{(1)} W^{(2)} + b^{(2)}",
        r"z^{(1)} &= x W^{(1)} + b^{(1)}",
        r"\delta^{(1)} = (\delta^{(2)} (W^{(2)})^{\mathsf T}) \odot \operatorname{ReLU}'(z^{(1)})",
        r"\frac{\partial L}{\partial W^{(2)}} = (a^{(1)})^{\mathsf T} \delta^{(2)}",
        r"\delta^{(l)} &= (\delta^{(l+1)} (W^{(l+1)})^{\mathsf T}) \odot g'(z^{(l)})",
        r"\frac{\partial L}{\partial W^{(l)}} &= (a^{(l-1)})^{\mathsf T} \delta^{(l)}",
        r"\delta^{(L)} &= \nabla_{a^{(L)}} L \frac{\partial a^{(L)}}{\partial z^{(L)}}",
        "Vectors are rows",
        "a product with the transposed weight matrix",
    ):
        assert line in md, line
    assert r"(W^{(2)})^{\mathsf T} a^{(1)}" not in md and r"a^{(1)} (\delta^{(2)})^{\mathsf T}" not in md
    zh = CS231N.render("md", "zh")
    assert "向量写成行向量" in zh and r"z^{(2)} &= a^{(1)} W^{(2)} + b^{(2)}" in zh


def test_layout_column_beside_the_preset_writes_columns_again() -> None:
    md = COLUMNS_FROM_TO.render("md", "en")
    assert r"z^{(2)} &= (W^{(2)})^{\mathsf T} a^{(1)} + b^{(2)}" in md
    assert r"\frac{\partial L}{\partial W^{(2)}} = a^{(1)} (\delta^{(2)})^{\mathsf T}" in md
    assert "Vectors are rows" not in md


def test_the_worked_example_shows_vectors_as_rows() -> None:
    extra = "[example]\nx = [0.5, -0.2]\ny = [0.0, 1.0]\nlearning_rate = 0.1\n"
    extra += "W1 = [[0.1, 0.2], [0.3, -0.4], [0.5, 0.6]]\nb1 = [0.0, 0.1, -0.1]\n"
    extra += "W2 = [[0.2, -0.1, 0.3], [0.4, 0.1, -0.2]]\nb2 = [0.05, -0.05]\n"
    md = derive.derive(spec(extra=extra)).render("md", "en")
    assert r"x &= \left[\begin{matrix}0.5 & -0.2\end{matrix}\right]" in md
    assert r"W^{(1)} &= \left[\begin{matrix}0.1 & 0.3 & 0.5\\0.2 & -0.4 & 0.6\end{matrix}\right]" in md  # in × out


def test_article_003s_sections_follow_the_row_layout() -> None:
    """The Jacobian chain, the layer-by-layer backward pass and the procedures, written in rows."""
    sections = '[document]\nsections = ["network", "jacobian", "forward", "layerwise", "procedures"]\n'
    d = derive.derive(spec(extra=sections))
    md = d.render("md", "en")
    assert r"\frac{\partial L}{\partial a^{(1)}} = \delta^{(2)} (W^{(2)})^{\mathsf T}" in md
    assert "Jacobian of the output layer, on the right of the row" in md
    assert "with the\ncost's gradient written as a row on their left" in md
    assert "右乘输出层的雅可比矩阵" in d.render("md", "zh")


def test_a_missing_transpose_is_named_in_either_layout() -> None:
    """cs231n's h dscores for hᵀ dscores, and a column reader's δ a for δ aᵀ: the vector to transpose is named."""
    rows = verify(CS231N, None, r"\frac{\partial L}{\partial W^{(2)}} = a^{(1)} \delta^{(2)}")
    assert "missing_transpose" in rows.codes and "right with (a^{(1)})ᵀ in place of a^{(1)}" in rows.text()
    columns = verify(OWN, None, r"\frac{\partial C}{\partial W^{(2)}} = \delta^{(2)} a^{(1)}")
    assert "missing_transpose" in columns.codes and "vectors are columns here" in columns.text()
