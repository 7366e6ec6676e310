"""Rendered documents: the articles' steps in order, checked results, both languages, output/ up to date."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import derive
from derive.cli import main
from derive.present import render
from derive.present.document import build

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("seed*.toml"))
# Commands GitHub's math renderer (MathJax) understands; anything else would show as raw TeX.
GITHUB_MACROS = {
    "frac", "left", "right", "partial", "sigma", "delta", "eta", "theta", "hat", "mathsf", "odot", "nabla", "sum",
    "operatorname", "mathbb", "begin", "end", "log", "le", "leftarrow", "in", "times", "cdot", "lVert", "rVert",
    "bar", "max", "infty", "dots", "text", "tanh", "exp", "cdots", "vdots", "ddots", "Delta",
    "alpha", "beta", "varepsilon", "xi", "zeta",  # quantities whose letter names a node (Notation.spelled)
    "quad", "mathopen", "mathclose",
}  # fmt: skip


@pytest.fixture
def docs(documents):
    """Each example's document data (conftest.py: built and checked once per session)."""
    return documents


@pytest.fixture
def md(rendered):
    return {path.stem: rendered[f"{path.stem}.md"] for path in EXAMPLES}


def test_output_is_up_to_date(rendered):
    """output/ holds exactly what the renderer produces now, byte for byte (regenerate: see output/README.md)."""
    stale = []
    for name, text in rendered.items():
        path = ROOT / "output" / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            stale.append(path.name)
    assert len(rendered) == len(EXAMPLES) * (len(render.LANGS) * len(render.FORMATS) + 1)  # and one SVG each
    assert not stale, f"output/ is stale, regenerate it: {stale}"


def test_the_api_renders_what_the_shared_documents_hold(rendered):
    """Derivation.render (derive, check, build, render) gives the text the session fixture holds."""
    d = derive.derive(derive.load(ROOT / "examples" / "seed004.toml"))
    assert d.render("md", "zh") == rendered["seed004.zh.md"]
    assert d.render("html", "en") == rendered["seed004.html"]


def _in_order(text: str, needles: list[str]) -> None:
    at = -1
    for needle in needles:
        found = text.find(needle, at + 1)
        assert found > at, f"{needle!r} missing or out of order"
        at = found


def test_article000_steps_in_order(md):
    """Letters for nodes; forward for c, d then matrix form; the error shared in proportion to the weights,
    the denominators dropped; chain rule for hidden-to-output w and bias; the longer chain; the update."""
    text = md["seed000"]
    _in_order(
        text,
        [
            # a, b and e name nodes: the activation is o, the bias β, the shared error ε (test_symbol_clashes)
            "z_{c} &= w_{ca} x_{a} + w_{cb} x_{b} + \\beta_{c}",
            "o_{c} &= \\sigma(z_{c})",
            "z^{(1)} &= w^{(1)} x + \\beta^{(1)}",
            "E = \\frac{1}{2} [(y_{e} - o_{e})^{2} + (y_{f} - o_{f})^{2}]",
            "\\varepsilon_{c} &= \\frac{w_{ec} \\varepsilon_{e}}{w_{ec} + w_{ed}} "
            "+ \\frac{w_{fc} \\varepsilon_{f}}{w_{fc} + w_{fd}}",
            "denominators",
            "\\frac{\\partial E}{\\partial w_{ec}} = \\frac{\\partial E}{\\partial o_{e}} "
            "\\frac{\\partial o_{e}}{\\partial z_{e}} \\frac{\\partial z_{e}}{\\partial w_{ec}}",
            "\\frac{\\partial E}{\\partial \\beta_{e}}",
            "\\frac{\\partial E}{\\partial w_{ca}} = \\left(\\frac{\\partial E}{\\partial o_{e}}",
            "w^{(1)} &\\leftarrow w^{(1)} - \\eta \\frac{\\partial E}{\\partial w^{(1)}}",
        ],
    )


def test_article001_delta_then_recursion(md):
    text = md["seed001"]
    _in_order(
        text,
        [
            "\\delta^{(l)}_{i} := \\frac{\\partial C}{\\partial z^{(l)}_{i}}",
            "computed backwards",
            # θ numbered by the layer it leaves (article 001): derive's W^{(l)} is θ^{(l-1)}
            "\\frac{\\partial C}{\\partial \\theta^{(l-1)}_{ij}} &= \\frac{\\partial C}{\\partial z^{(l)}_{i}} "
            "\\frac{\\partial z^{(l)}_{i}}{\\partial \\theta^{(l-1)}_{ij}}",
            "\\delta^{(l)} &= ((\\theta^{(l)})^{\\mathsf T} \\delta^{(l+1)}) \\odot g'(z^{(l)})",
        ],
    )


def test_article002_logistic_cost_gives_output_minus_target(md):
    text = md["seed002"]
    _in_order(
        text,
        [
            "\\theta^{(2)}_{11}",
            "J = - [t_{1} \\log y_{1} + (1 - t_{1}) \\log(1 - y_{1}) + t_{2} \\log y_{2}",
            # ∂C/∂y over one denominator, then times y(1 − y): the (y − t) of the one-neuron case
            "\\frac{\\partial J}{\\partial y_{1}} &= \\frac{1 - t_{1}}{1 - y_{1}} - \\frac{t_{1}}{y_{1}}",
            " &= \\frac{y_{1} - t_{1}}{y_{1} (1 - y_{1})}",
            "\\delta^{(2)}_{1} &= \\frac{y_{1} - t_{1}}{y_{1} (1 - y_{1})} \\cdot y_{1} (1 - y_{1})",
            " &= y_{1} - t_{1}",
            "\\frac{\\partial J}{\\partial \\theta^{(2)}_{11}} = \\frac{\\partial J}{\\partial y_{1}}",
            "\\theta^{(1)} &\\leftarrow \\theta^{(1)} - \\eta",
            "1. Forward pass",
        ],
    )


def test_article003_softmax_cross_entropy(md, docs):
    text = md["seed003"]
    _in_order(
        text,
        [
            "W^{(1)} \\in \\mathbb{R}^{4 \\times 3}",
            "W^{(2)} \\in \\mathbb{R}^{2 \\times 4}",
            "a^{(2)}_{1} &= \\frac{e^{z^{(2)}_{1}}}{e^{z^{(2)}_{1}} + e^{z^{(2)}_{2}}}",
            "Jacobian",
            "\\operatorname{diag}(a^{(2)}) - a^{(2)} (a^{(2)})^{\\mathsf T}",
            "\\delta^{(2)}_{1} &= - \\frac{y_{1}}{a^{(2)}_{1}} \\cdot a^{(2)}_{1} (1 - a^{(2)}_{1})",
            " &= a^{(2)}_{1} - y_{1}",
            "\\frac{\\partial J}{\\partial W^{(1)}} &= \\delta^{(1)} x^{\\mathsf T}",
            "Normalising the inputs",
        ],
    )
    assert docs["seed003"].vanishing is None  # ReLU: no vanishing-gradient note


def test_article004_worked_example_numbers(md):
    """The article's NumPy output: hidden error terms and the hidden-to-output updates (η = 0.5)."""
    text = md["seed004"]
    _in_order(
        text,
        [
            "\\delta^{(2)}_{1} &= - \\frac{\\partial E}{\\partial \\hat{y}}",
            " &= (y - \\hat{y}) \\cdot \\hat{y} (1 - \\hat{y})",
            "\\delta^{(1)}_{1} &= w^{(2)}_{11} \\delta^{(2)}_{1} a^{(1)}_{1} (1 - a^{(1)}_{1})",
            "A worked example",
            "0.000708022\\\\-0.00204471",  # the article prints [0.00070802 -0.00204471]
            "0.10804\\\\-0.294441",  # w2 + [0.00804047, 0.00555918]
            "at least $75\\%$",
        ],
    )
    # from-to order: the displayed input-to-hidden matrix is 3 × 2, as the article's weights_input_hidden
    assert "w^{(1)} &= \\left[\\begin{matrix}0.5 & -0.6\\\\0.1 & -0.2\\\\0.1 & 0.7\\end{matrix}\\right]" in text


def test_vanishing_bound_is_exact_for_the_network(docs):
    v = docs["seed004"].vanishing
    assert v.layers == [(1, "\\sigma", "\\frac{1}{4}")]
    # from-to: the printed w^{(2)} is derive's W2 transposed, so the sum bounded is a row sum of w, its ∞-norm
    assert v.bound.rhs == "\\frac{1}{4} \\lVert \\delta^{(2)}\\rVert_\\infty \\lVert w^{(2)}\\rVert_\\infty"
    # measured: |δ1| max 0.00204471 ≤ ¼ · max row-abs-sum of the printed w2 (0.3) · |δ2| (0.0287307)
    (_, d2, _), (_, d1, bound) = v.measured
    assert d1 == pytest.approx(0.00204471402395086, rel=1e-9)
    assert bound == pytest.approx(0.25 * 0.3 * d2, rel=1e-12)
    assert d1 <= bound


def test_every_result_is_shown_and_verified(md, docs):
    """Small networks: every parameter is derived in full or listed in its layer's table (compact detail), each
    check passed, and the checks are in the appendix (tests/test_detail.py counts its rows)."""
    for name, text in md.items():
        doc = docs[name]
        if "gradients" not in doc.sections:  # seed003 walks back layer by layer in matrix form (article 003)
            continue
        shown = sum(len(grads) for _, grads, _, _ in doc.gradients)
        listed = sum(len(rows) for rows in doc.gradient_table.values())
        assert shown == (2 if doc.bias else 1) * doc.depth  # one weight and one bias per layer
        assert shown + listed == doc.parameter_count
        assert all(p.passed for p in doc.report.parameters) and all(ok for _, _, ok in doc.matrix_checks)
        assert "✗" not in text and "✓" not in text.split("## Appendix")[0]


def test_markdown_uses_only_macros_github_renders(md):
    for name, text in md.items():
        maths = re.findall(r"```math\n(.*?)```", text, re.S) + re.findall(r"\$([^$\n]+)\$", text)
        used = {m for block in maths for m in re.findall(r"\\([A-Za-z]+)", block)}
        assert used <= GITHUB_MACROS, (name, used - GITHUB_MACROS)


def test_large_network_shows_representatives_not_everything():
    net = derive.Network(20, (derive.Layer(30, "tanh"), derive.Layer(10, "softmax")), "cross_entropy", name="big")
    doc = build(derive.derive(net), report=derive.derive(net).check(points=1))
    text = render.render_document(doc, "md", "en")
    assert len(text.splitlines()) < 1500
    assert "\\frac{\\partial C}{\\partial W^{(1)}_{11}}" in text and "W^{(1)}_{2,1}}" not in text
    assert "too many to list" in text


ZH_TERMS = ["前向传播", "反向传播", "链式法则", "误差项", "残差", "权重矩阵"]


def test_chinese_documents_use_the_articles_terms(rendered):
    for spec in EXAMPLES:
        text = rendered[f"{spec.stem}.zh.md"]
        for term in ZH_TERMS:
            assert term in text, (spec.stem, term)
        prose = re.sub(r"```math.*?```|\$[^$\n]+\$|\(.*?\.svg\)", "", text, flags=re.S)
        english = re.findall(r"\b(the|and|with|of|is)\b", prose)
        assert not english, (spec.stem, english[:5])


def test_cli_render_writes_all_formats(tmp_path, capsys):
    spec = ROOT / "examples" / "seed004.toml"
    assert main(["render", str(spec), "-o", str(tmp_path), "--lang", "en,zh"]) == 0
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == sorted(
        [
            "seed004.md",
            "seed004.tex",
            "seed004.html",
            "seed004.zh.md",
            "seed004.zh.tex",
            "seed004.zh.html",
            "seed004.svg",
        ]
    )
    assert capsys.readouterr().err == ""  # progress bars only on a terminal (tests/test_progress.py)


def test_cli_bad_input_exit_2_and_nothing_written(tmp_path, capsys):
    spec = ROOT / "examples" / "seed004.toml"
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    assert main(["render", str(spec), "-o", str(blocker / "out")]) == 2
    assert "cannot create the output directory" in capsys.readouterr().err
    bad = tmp_path / "bad.toml"
    bad.write_text('inputs = 2\nloss = "nope"\n[[layer]]\nunits = 1\nactivation = "sigmoid"\n')
    out = tmp_path / "out"
    assert main(["render", str(bad), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "bad.toml" in err and "loss" in err
    assert not out.exists() or not any(out.iterdir())
    assert main(["render", str(spec), "-o", str(out), "--format", "md,docx"]) == 2
    assert "docx" in capsys.readouterr().err


def test_failed_render_leaves_no_partial_file(tmp_path, monkeypatch):
    spec = ROOT / "examples" / "seed004.toml"
    real = render.render_document

    def failing(doc, fmt, lang):
        if fmt == "html":
            raise render.RenderError("boom")
        return real(doc, fmt, lang)

    monkeypatch.setattr(render, "render_document", failing)
    assert main(["render", str(spec), "-o", str(tmp_path), "--quiet"]) == 2
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_deeper_network_with_tanh_and_leaky_relu_compiles(tmp_path):
    from derive.present.pdf import compile_pdf, log_problems

    net = derive.Network(
        2,
        (derive.Layer(3, "tanh"), derive.Layer(2, "leaky_relu", 0.1), derive.Layer(1, "identity")),
        "mse",
        name="deep",
    )
    d = derive.derive(net)
    text = d.render("tex", "en")
    assert "\\tanh'(z^{(1)})" in text and "0\\%" not in text
    tex = tmp_path / "deep.tex"
    tex.write_text(text, encoding="utf-8")
    log = tmp_path / "deep.log"
    pdf = compile_pdf(tex, "en", log_path=log)
    assert pdf.read_bytes().startswith(b"%PDF")
    assert log_problems(log.read_text(encoding="utf-8", errors="replace")) == []
