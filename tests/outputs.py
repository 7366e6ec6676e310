"""Everything derive writes for the example specs, computed by plain functions.

The tests share these results through session fixtures (conftest.py: each example derived, checked and
rendered once per test process), and tests/test_determinism.py computes them all again in a second
process with another hash seed and compares the two byte for byte.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import derive
from derive.numeric import codegen
from derive.present import mathml, render
from derive.present.document import Document, build
from derive.present.latex import latex

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("seed*.toml"))

Rows = list[tuple[str, str, str]]


def documents() -> dict[str, Document]:
    """Each example's document data (derived and checked), by the spec's stem."""
    return {path.stem: build(derive.derive(derive.load(path))) for path in EXAMPLES}


def files(docs: dict[str, Document]) -> dict[str, str]:
    """Every file ``derive render`` writes for ``docs`` but the PDFs: each format in each language, the SVG."""
    out = {}
    for name, doc in docs.items():
        for lang in render.LANGS:
            for fmt in render.FORMATS:
                out[render.file_name(name, fmt, lang)] = render.render_document(doc, fmt, lang)
        out[f"{name}.svg"] = doc.svg
    return out


def code() -> dict[str, str]:
    """The generated NumPy module and pytest file of each example."""
    out = {}
    for path in EXAMPLES:
        network = derive.load(path)
        out[f"{path.stem}.py"] = codegen.module_source(network)
        out[f"test_{path.stem}.py"] = codegen.pytest_source(network, "backprop:gradients", f"examples/{path.name}")
    return out


def networks() -> Iterator[derive.Network]:
    """The five example specs, plus networks for the activations they leave out."""
    yield from (derive.load(path) for path in EXAMPLES)
    yield derive.Network(2, (derive.Layer(2, "tanh"), derive.Layer(1, "identity")), "mse")
    yield derive.Network(2, (derive.Layer(2, "leaky_relu", 0.1), derive.Layer(2, "softmax")), "cross_entropy")


def derived_strings() -> tuple[list[str], list[Rows]]:
    """Every lhs and rhs of every step of every network, and each step's equations as rows."""
    strings: list[str] = []
    groups: list[Rows] = []
    for network in networks():
        derivation = derive.derive(network)
        for step in derivation.steps():
            equations = list(step.equations) + ([step.condition] if step.condition is not None else [])
            group = [(latex(eq.lhs, network), eq.relation, latex(eq.rhs, network)) for eq in equations]
            groups.append(group)
            strings += [s for lhs, _, rhs in group for s in (lhs, rhs)]
        for name in derivation.parameters():
            gradient = derivation.parameter(name)
            for expr in (gradient.chain_value, gradient.closed, gradient.expanded):
                if expr is not None:
                    strings.append(latex(expr, network))
    return strings, groups


def everything(rendered: dict[str, str], derived: tuple[list[str], list[Rows]]) -> dict[str, str]:
    """The documents, the generated code, every derived string and the MathML of every step, by name."""
    strings, groups = derived
    return {
        **rendered,
        **code(),
        "derived strings": "\n".join(strings),
        "mathml rows": "\n".join(mathml.rows(group) for group in groups),
    }
