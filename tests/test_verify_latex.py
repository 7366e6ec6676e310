"""The LaTeX people type (issue 16, point 2): each construct read into the mathematics it means, right and wrong.

Each construct has a right formula (exit 0) and a wrong one (exit 1) through the command line, in the notation of
the example spec it is written for (``examples/seed00*.toml``'s ``[notation]``): seed001 writes θ with weights
numbered by the layer they leave, C and δ = ∂C/∂z; seed003 W^{(l)} into layer l, J, a ReLU hidden layer and a
softmax output with cross-entropy; seed004 w_{ij} from i to j, E, ŷ and the error term δ = −∂E/∂z. What derive
cannot read is "not understood" (exit 2, one line naming the construct). Then the round trip: every equation that
derive's own documents state about a gradient, δ or an update, and every verdict's correct form, read back as
right.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
from inprocess import Ran, run_cli

from derive.engine.derivation import derive
from derive.model import spec
from derive.model.network import neuron
from derive.present import document
from derive.present.document_data import Eq
from derive.verify.formula import parse
from derive.verify.syntax import FormulaError, LimitError, Limits, PartialNode, Sum
from derive.verify.verdict import verify

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
SEEDS = sorted(p.stem for p in EXAMPLES.glob("seed00*.toml"))


def run(spec_name: str, *items: str, cwd: Path = ROOT) -> Ran:
    path = spec_name if spec_name.endswith(".toml") else str(EXAMPLES / f"{spec_name}.toml")
    return run_cli("verify", path, *items, cwd=cwd)


# (what, spec, param or None, right formula, wrong formula)
CONSTRUCTS = [
    (
        "nabla-matrix", "seed003", None,
        r"\nabla_{W^{(2)}} J = \delta^{(2)} (a^{(1)})^T",
        r"\nabla_{W^{(2)}} J = \delta^{(2)} (a^{(2)})^T",
    ),
    (
        "nabla-vector", "seed003", None,
        r"\delta^{(1)} = \nabla_{z^{(1)}} J",
        r"\delta^{(1)} = \nabla_{z^{(2)}} J",
    ),
    (
        "nabla-param", "seed001", "W2",
        r"\nabla_{\theta^{(1)}} C",
        r"\nabla_{\theta^{(0)}} C",
    ),
    (
        "top", "seed003", "W2",
        r"\delta^{(2)} (a^{(1)})^{\top}",
        r"\delta^{(2)} (a^{(1)})^{\top} \cdot 2",
    ),
    (
        "T", "seed003", "delta1",
        r"(W^{(2)})^T \delta^{(2)} \odot \operatorname{ReLU}'(z^{(1)})",
        r"(W^{(2)})^T \delta^{(2)}",
    ),
    (
        "layer-and-top", "seed003", "W1",
        r"\delta^{(1)} a^{(0)\top}",
        r"\delta^{(1)} a^{(0)\top} + 1",
    ),
    (
        "layer-and-top-l", "seed001", None,
        r"\nabla_{\theta^{(\ell-1)}} C = \delta^{(\ell)} a^{(\ell-1)\top}",
        r"\nabla_{\theta^{(\ell-1)}} C = \delta^{(\ell)} a^{(\ell)\top}",
    ),
    (
        "f-prime-paren", "seed001", None,
        r"\delta^{(l)} = (\theta^{(l)})^T \delta^{(l+1)} \odot (f^{(l)})'(z^{(l)})",
        r"\delta^{(l)} = (\theta^{(l)})^T \delta^{(l+1)}",
    ),
    (
        "g-prime-paren", "seed003", "delta1",
        r"(W^{(2)})^T \delta^{(2)} \odot (g^{(1)})'(z^{(1)})",
        r"(W^{(2)})^T \delta^{(2)} \odot (g^{(1)})'(-z^{(1)})",
    ),
    (
        "operator-matrix", "seed002", None,
        r"\frac{\partial}{\partial \Theta^{(2)}} J(\Theta) = \delta^{(2)} (a^{(1)})^T",
        r"\frac{\partial}{\partial \Theta^{(2)}} J(\Theta) = (a^{(1)})^T \delta^{(2)}",
    ),
    (
        "operator-element", "seed004", None,
        r"\frac{\partial}{\partial w_{jk}} E = -\delta^{(1)}_k x_j",
        r"\frac{\partial}{\partial w_{jk}} E = \delta^{(1)}_k x_j",
    ),
    (
        "cost-argument", "seed002", None,
        r"\frac{\partial J(\Theta)}{\partial \Theta^{(2)}_{12}} = \delta^{(2)}_1 a^{(1)}_2",
        r"\frac{\partial J(\Theta)}{\partial \Theta^{(2)}_{12}} = \delta^{(2)}_2 a^{(1)}_1",
    ),
    (
        "equiv", "seed003", None,
        r"\frac{\partial J}{\partial b^{(2)}_1} \equiv \delta^{(2)}_1",
        r"\frac{\partial J}{\partial b^{(2)}_1} \equiv a^{(2)}_1",
    ),
    (
        "ell", "seed003", None,
        r"\frac{\partial J}{\partial W^{(\ell)}_{ij}} = \delta^{(\ell)}_i a^{(\ell-1)}_j",
        r"\frac{\partial J}{\partial W^{(\ell)}_{ij}} = \delta^{(\ell)}_j a^{(\ell-1)}_i",
    ),
    (
        "cdots", "seed001", "delta1[2]",
        r"(\theta^{(1)}_{12} \delta^{(2)}_1 + \cdots + \theta^{(1)}_{22} \delta^{(2)}_2) \sigma'(z^{(1)}_2)",
        r"(\theta^{(1)}_{12} \delta^{(2)}_1 + \cdots + \theta^{(1)}_{22} \delta^{(2)}_2)",
    ),
    (
        "cdots-to-n", "seed003", "delta1[1]",
        r"(W^{(2)}_{11} \delta^{(2)}_1 + \cdots + W^{(2)}_{n1} \delta^{(2)}_n) [z^{(1)}_1 > 0]",
        r"W^{(2)}_{11} \delta^{(2)}_1 + \cdots + W^{(2)}_{n1} \delta^{(2)}_n",
    ),
    (
        "ldots", "seed001", "b1[2]",
        r"(\theta^{(1)}_{12} \delta^{(2)}_1 + \ldots + \theta^{(1)}_{22} \delta^{(2)}_2) a^{(1)}_2 (1 - a^{(1)}_2)",
        r"(\theta^{(1)}_{12} \delta^{(2)}_1 + \ldots + \theta^{(1)}_{22} \delta^{(2)}_2) a^{(1)}_1 (1 - a^{(1)}_1)",
    ),
    (
        "octave", "seed003", "delta1",
        r"(W^{(2)})^T \delta^{(2)} .* [z^{(1)} > 0]",
        r"(W^{(2)})^T \delta^{(2)} .* z^{(1)}",
    ),
    (
        "indicator", "onehot", "delta2[1]",
        r"a^{(2)}_1 - \mathbb{1}(y = 1)",
        r"a^{(2)}_1 - \mathbb{1}(y = 2)",
    ),
    (
        "indicator-braces", "onehot", "delta2[k]",
        r"a^{(2)}_k - \mathbb{1}\{y = k\}",
        r"\mathbb{1}\{y = k\} - a^{(2)}_k",
    ),
    (
        "rm", "seed003", "delta2[1]",
        r"{\rm softmax}(z^{(2)})_1 - y_1",
        r"{\rm softmax}(z^{(2)})_2 - y_1",
    ),
    (
        "mathrm", "seed003", "delta2[2]",
        r"\mathrm{softmax}(z^{(2)})_2 - y_2",
        r"\mathrm{softmax}(z^{(2)})_2 + y_2",
    ),
    (
        "operatorname", "seed003", "delta2",
        r"\operatorname{softmax}(z^{(2)}) - y",
        r"\operatorname{softmax}(z^{(1)})",
    ),
    (
        "left-right", "seed004", "delta2",
        r"\left(y - \hat{y}\right) \hat{y} \left(1 - \hat{y}\right)",
        r"\left(\hat{y} - y\right) \hat{y} \left(1 - \hat{y}\right)",
    ),
    (
        "bigl", "seed004", "delta2",
        r"\bigl(y - \hat{y}\bigr) \hat{y} \Bigl(1 - \hat{y}\Bigr)",
        r"\bigl(y - \hat{y}\bigr) \Bigl(1 - \hat{y}\Bigr)",
    ),
    (
        "cdot", "seed001", "W2[1,2]",
        r"\delta^{(2)}_1 \cdot a^{(1)}_2",
        r"\delta^{(2)}_2 \cdot a^{(1)}_1",
    ),
    (
        "odot", "seed001", "delta1",
        r"(\theta^{(1)})^T \delta^{(2)} \odot a^{(1)} \odot (1 - a^{(1)})",
        r"(\theta^{(1)})^T \delta^{(2)} \odot a^{(1)}",
    ),
    (
        "circ", "seed001", "delta1",
        r"(\theta^{(1)})^T \delta^{(2)} \circ \sigma'(z^{(1)})",
        r"(\theta^{(1)})^T \delta^{(2)} \circ \sigma(z^{(1)})",
    ),
    (
        "times", "seed001", "b2[1]",
        r"(a^{(2)}_1 - y_1) \times a^{(2)}_1 (1 - a^{(2)}_1)",
        r"(a^{(2)}_1 - y_1) \times a^{(2)}_1",
    ),
    (
        "chain", "seed003", None,
        r"\delta^{(2)}_1 = a^{(2)}_1 - y_1 = \frac{\partial J}{\partial z^{(2)}_1}",
        r"\delta^{(2)}_1 = a^{(2)}_1 - y_1 = y_1 - a^{(2)}_1",
    ),
    (
        "definition", "seed002", None,
        r"\delta^{(2)}_1 := \frac{\partial J}{\partial z^{(2)}_1} = y_1 - t_1",
        r"\delta^{(2)}_1 := \frac{\partial J}{\partial z^{(2)}_1} = t_1 - y_1",
    ),
    (
        "leftarrow", "seed003", None,
        r"W^{(2)} \leftarrow W^{(2)} - \eta \delta^{(2)} (a^{(1)})^T",
        r"W^{(2)} \leftarrow W^{(2)} + \eta \delta^{(2)} (a^{(1)})^T",
    ),
    (
        "assignment", "seed001", None,
        r"\theta^{(1)}_{12} := \theta^{(1)}_{12} - \eta \delta^{(2)}_1 a^{(1)}_2",
        r"\theta^{(1)}_{12} := \theta^{(1)}_{12} - \eta \delta^{(2)}_1 a^{(1)}_1",
    ),
    (
        "accumulator", "seed001", None,
        r"\Delta^{(l)} := \Delta^{(l)} + \delta^{(l+1)} (a^{(l)})^T",
        r"\Delta^{(l)} := \Delta^{(l)} + \delta^{(l)} (a^{(l-1)})^T",
    ),
    (
        "accumulator-element", "seed003", None,
        r"\Delta^{(2)}_{ij} \leftarrow \Delta^{(2)}_{ij} + \delta^{(2)}_i a^{(1)}_j",
        r"\Delta^{(2)}_{ij} \leftarrow \Delta^{(2)}_{ij} + \delta^{(2)}_j a^{(1)}_i",
    ),
    (
        "matrix", "seed004", None,
        r"\Delta w^{(2)} = \begin{bmatrix}\eta \delta^{(2)}_1 a^{(1)}_1 \\ \eta \delta^{(2)}_1 a^{(1)}_2 \end{bmatrix}",
        r"\Delta w^{(2)} = \begin{bmatrix}\eta \delta^{(2)}_1 a^{(1)}_2 \\ \eta \delta^{(2)}_1 a^{(1)}_1 \end{bmatrix}",
    ),
    (
        "matrix-rows", "seed003", "delta2",
        r"\left[\begin{matrix} a^{(2)}_1 - y_1 \\ a^{(2)}_2 - y_2 \\ \end{matrix}\right]",
        r"\begin{pmatrix} a^{(2)}_1 - y_1 & a^{(2)}_2 - y_2 \end{pmatrix}",
    ),
    (
        "gets-unicode", "seed004", None,
        r"w_{11} ← w_{11} + η δ^{(1)}_1 x_1",
        r"w_{11} ← w_{11} - η δ^{(1)}_1 x_1",
    ),
]  # fmt: skip

ONEHOT = (
    (EXAMPLES / "seed003.toml")
    .read_text()
    .replace('loss = "cross_entropy"', 'loss = "cross_entropy"\ntargets = "one_hot"')
)


def _spec(name: str, tmp_path: Path) -> str:
    if name != "onehot":
        return name
    path = tmp_path / "onehot.toml"
    path.write_text(ONEHOT)
    return str(path)


@pytest.mark.parametrize(("what", "spec_name", "param", "right", "wrong"), CONSTRUCTS, ids=[c[0] for c in CONSTRUCTS])
def test_a_construct_is_read_right_and_its_mistake_wrong(
    what: str, spec_name: str, param: str | None, right: str, wrong: str, tmp_path: Path
) -> None:
    name = _spec(spec_name, tmp_path)
    items = (right,) if param is None else (param, right)
    ok = run(name, *items)
    assert ok.returncode == 0, (ok.stdout, ok.stderr)
    assert ok.stdout.startswith("right: ")
    items = (wrong,) if param is None else (param, wrong)
    bad = run(name, *items)
    assert bad.returncode == 1, (bad.stdout, bad.stderr)
    assert bad.stdout.startswith("wrong: ")


def test_onehot_spec_is_seed003_with_one_hot_targets() -> None:
    net = spec.loads(ONEHOT)
    assert net.target_kind.name == "one_hot" and net.sizes == spec.load(EXAMPLES / "seed003.toml").sizes


# ------------------------------------------------------------------ what each construct is read as
@pytest.mark.parametrize(
    "text",
    [r"\nabla_{W^{(2)}} J", r"\frac{\partial}{\partial W^{(2)}} J", r"\frac{\partial}{\partial \Theta} J(\Theta)"],
)
def test_nabla_and_the_operator_are_derivatives(text: str) -> None:
    assert isinstance(parse(text).rhs, PartialNode)


def test_cdots_between_terms_differing_in_one_index_is_a_sum() -> None:
    node = parse(r"w_1 a_1 + \cdots + w_n a_n").rhs
    assert isinstance(node, Sum) and node.lower is not None and node.upper is None
    node = parse(r"1 + W_{11} d_1 + \cdots + W_{31} d_3").rhs.right
    assert isinstance(node, Sum) and (node.lower.text, node.upper.text) == ("1", "3")


def test_the_chain_keeps_every_side() -> None:
    f = parse(r"\delta := \frac{\partial C}{\partial z} = a - y \equiv y")
    assert f.relations == (":=", "=", "=")
    assert [f.side(k) for k in range(4)] == [r"\delta", r"\frac{\partial C}{\partial z}", "a - y", "y"]
    assert len(f.links()) == 3


def test_a_wrong_link_of_a_chain_is_named(tmp_path: Path) -> None:
    out = run("seed003", r"\delta^{(2)}_1 = a^{(2)}_1 - y_1 = y_1 - a^{(2)}_1 = a^{(2)}_1 - y_1")
    assert out.returncode == 1
    assert "link 2 is wrong: a^{(2)}_1 - y_1 = y_1 - a^{(2)}_1" in out.stdout, out.stdout
    first = run("seed003", r"\delta^{(2)}_1 = y_1 - a^{(2)}_1 = a^{(2)}_1 - y_1")
    assert first.returncode == 1 and "link 1 is wrong" in first.stdout, first.stdout


def test_an_update_says_its_arrow() -> None:
    out = run("seed003", r"W^{(2)} \leftarrow W^{(2)} - \eta \delta^{(2)} (a^{(1)})^T")
    assert out.stdout.startswith(r"right: W^{(2)} ← W^{(2)} - \eta \delta^{(2)} (a^{(1)})^T"), out.stdout


# ------------------------------------------------------------------ not understood, and why
NOT_UNDERSTOOD = [
    (
        "cdots-two-indices", "seed003", "delta1[1]",
        r"W^{(2)}_{11} \delta^{(2)}_1 + \cdots + W^{(2)}_{21} \delta^{(2)}_3",
        r"\cdots is not understood here",
    ),
    (
        "cdots-alone", "seed003", "delta1[1]",
        r"W^{(2)}_{11} \delta^{(2)}_1 + \cdots",
        r"\cdots is read only between two terms",
    ),
    (
        "cdots-product", "seed003", "delta1[1]",
        r"W^{(2)}_{11} \cdots \delta^{(2)}_1",
        r"\cdots is read only between two terms",
    ),
    (
        "accumulator-minus", "seed003", None,
        r"\Delta^{(2)} \leftarrow \Delta^{(2)} - \delta^{(2)} (a^{(1)})^T",
        "is read only as Ng's accumulator",
    ),
    (
        "running-gradient", "seed003", None,
        r"g \leftarrow g \odot f'(a^{(k)})",
        r"updates g in place",
    ),
    (
        "indicator-sample", "onehot", "delta2[1]",
        r"a^{(2)}_1 - \mathbb{1}(y_i = 1)",
        r"per-example costs",
    ),
    (
        "indicator-targets", "seed003", "delta2[1]",
        r"a^{(2)}_1 - \mathbb{1}(y = 1)",
        r"targets",
    ),
    (
        "nabla-bare", "seed003", "W2",
        r"\nabla J",
        r"∇ needs what it differentiates by",
    ),
    (
        "nabla-not-cost", "seed003", "W2",
        r"\nabla_{z^{(2)}} a^{(2)}",
        r"∇ is read only of the cost",
    ),
    (
        "matrix-elided", "seed003", "delta2",
        r"\begin{bmatrix} a^{(2)}_1 - y_1 \\ \vdots \end{bmatrix}",
        "a matrix with entries left out",
    ),
    (
        "aligned", "seed003", "delta2",
        r"\begin{aligned} a^{(2)} - y \end{aligned}",
        r"\begin is read only for a matrix",
    ),
    (
        "mathbb", "seed003", "W2",
        r"\mathbb{R}",
        r"\mathbb is read only as 𝟙",
    ),
]  # fmt: skip


@pytest.mark.parametrize(
    ("what", "spec_name", "param", "formula", "says"), NOT_UNDERSTOOD, ids=[c[0] for c in NOT_UNDERSTOOD]
)
def test_what_cannot_be_read_is_not_understood_naming_the_construct(
    what: str, spec_name: str, param: str | None, formula: str, says: str, tmp_path: Path
) -> None:
    items = (formula,) if param is None else (param, formula)
    out = run(_spec(spec_name, tmp_path), *items)
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert out.stdout == "" and len(out.stderr.splitlines()) == 1 and out.stderr.startswith("derive: error: ")
    assert says in out.stderr, out.stderr


def test_a_chain_longer_than_the_limit_is_refused_naming_it() -> None:
    links = " = ".join([r"\delta^{(2)}_1"] * (Limits.LINKS + 1))
    with pytest.raises(LimitError, match=f"a chain of more than {Limits.LINKS} equalities"):
        parse(links + " = 0")
    assert len(parse(links).links()) == Limits.LINKS


def test_the_parser_never_evaluates() -> None:
    with pytest.raises(FormulaError):
        parse(r"\nabla_{__import__('os')} C = 1 + \cdots + 2")


# ------------------------------------------------------------------ the round trip
STATES = re.compile(r"\\frac\{\\partial [CJEL]\}|\\delta|\\nabla")  # a gradient, δ or ∇ on the left


def _equations(obj: object, path: str = "doc"):
    """Every displayed equation of a document's data, with where it is (the fields that hold it)."""
    if isinstance(obj, Eq):
        yield path, obj
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        for f in dataclasses.fields(obj):
            if f.name != "report":
                yield from _equations(getattr(obj, f.name), f"{path}.{f.name}")
    elif isinstance(obj, (list, tuple)):
        for k, x in enumerate(obj):
            yield from _equations(x, f"{path}[{k}]")
    elif isinstance(obj, dict):
        for k, x in obj.items():
            yield from _equations(x, f"{path}[{k!r}]")


def _stated(doc: document.Document) -> list[tuple[str, str]]:
    """(where, formula) of every equation that states a gradient, a δ or an update (Δw = η δ x as a formula; the
    worked example's Δw in numbers holds at its one sample only)."""
    out = []
    for where, eq in _equations(doc):
        update = eq.rel == r"\leftarrow" or eq.lhs.startswith(r"\Delta") and r"\eta" in eq.rhs
        if STATES.match(eq.lhs) or update:
            out.append((where, f"{eq.lhs} {eq.rel} {eq.rhs}"))
    return out


# What derive prints that the reader does not take yet, each for a reason: norms and the inequality of the
# vanishing-gradient bound, the batch mean over per-example costs J^{(s)} (issue 16's notation options), and a
# matrix with entries left out (⋯, ⋮, ⋱).
UNREAD = (r"\lVert", r"\bar{")


@pytest.mark.parametrize("name", SEEDS)
def test_every_equation_derive_prints_parses(name: str, documents) -> None:
    _, doc = documents[name]
    failures = []
    for where, eq in _equations(doc):
        formula = f"{eq.lhs} {eq.rel} {eq.rhs}"
        if eq.lhs.startswith(UNREAD) or eq.rel == "" or r"\vdots" in formula:
            continue
        try:
            parse(formula)
        except FormulaError as exc:
            failures.append((where, formula, str(exc)))
    assert not failures, failures


@pytest.fixture(scope="module")
def documents():
    built = {}
    for name in SEEDS:
        d = derive(spec.load(EXAMPLES / f"{name}.toml"))
        built[name] = (d, document.build(d))
    return built


@pytest.mark.parametrize("name", SEEDS)
def test_every_equation_derive_prints_reads_back_as_right(name: str, documents) -> None:
    d, doc = documents[name]
    assert not _read_back(d, doc)


# Layers wider than derive.present.elision.WIDE: sums written with ⋯ and indices above 9 with commas (W_{10,1}).
WIDE = """
name = "wide"
inputs = 3
loss = "squared_error"
[[layer]]
units = 12
activation = "sigmoid"
[[layer]]
units = 11
activation = "tanh"
[[layer]]
units = 2
activation = "sigmoid"
"""


def test_a_wide_networks_elided_sums_read_back_as_right() -> None:
    d = derive(spec.loads(WIDE))
    doc = document.build(d)
    assert any(r"\cdots" in formula for _, formula in _stated(doc))
    assert not _read_back(d, doc)


def _read_back(d, doc: document.Document) -> list:
    """Every equation of the document that states a gradient, δ or an update, and each one's verdict's correct
    form, verified: those that are not right."""
    one = derive(neuron(d.network))  # article 002's warm-up derives one neuron, not the network
    stated = _stated(doc)
    assert len(stated) > 20
    failures = []
    for where, formula in stated:
        v = verify(one if where.startswith("doc.warmup") else d, None, formula)
        if not v:
            failures.append((where, formula, v.codes))
        elif v.correct:
            again = verify(one if where.startswith("doc.warmup") else d, None, v.correct)
            if not again:
                failures.append((where, "correct: " + v.correct, again.codes))
    return failures


PARAMETERS = ("W{l}[1,1]", "b{l}[1]", "delta{l}[1]", "W{l}", "b{l}", "delta{l}")


@pytest.mark.parametrize("name", SEEDS)
def test_every_verdicts_correct_line_reads_back_as_right(name: str, documents) -> None:
    d, _ = documents[name]
    failures = []
    for layer in range(1, d.L + 1):
        for form in PARAMETERS:
            param = form.format(l=layer)
            if param.startswith("b") and not d.network.bias:
                continue
            wrong = verify(d, param, "0")
            assert not wrong and wrong.correct, (param, wrong.correct)
            again = verify(d, None, wrong.correct)
            if not again:
                failures.append((param, wrong.correct, again.codes))
    assert not failures, failures


# A document under each textbook's preset (its letters, layer marker, layout …), on the kind of network the source
# works with: every equation it states reads back as right under the same notation.
PRESET_NETS = {
    "nielsen": ("sigmoid", 2, "sigmoid", "squared_error"),
    "ng": ("sigmoid", 1, "sigmoid", "binary_cross_entropy"),
    "goodfellow": ("sigmoid", 2, "sigmoid", "squared_error"),
    "bishop": ("tanh", 2, "identity", "squared_error"),
    "cs231n": ("relu", 2, "softmax", "cross_entropy"),
    "wikipedia": ("sigmoid", 2, "sigmoid", "squared_error"),
}


@pytest.mark.parametrize("preset", sorted(PRESET_NETS))
def test_every_equation_of_a_preset_document_reads_back_as_right(preset: str) -> None:
    hidden, outputs, output, loss = PRESET_NETS[preset]
    text = (
        f'inputs = 2\nloss = "{loss}"\n[[layer]]\nunits = 3\nactivation = "{hidden}"\n'
        f'[[layer]]\nunits = {outputs}\nactivation = "{output}"\n[notation]\npreset = "{preset}"\n'
    )
    d = derive(spec.loads(text))
    assert not _read_back(d, document.build(d))
