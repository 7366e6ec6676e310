"""Article 001's own steps: θ^{(l)} numbered by the layer it leaves, and its two identities of δ, early.

The identities' instances are checked against numbers computed here from scratch: a NumPy forward pass of the
2-3-2 sigmoid network with the squared error, δ = ∂C/∂z and ∂C/∂θ by central differences.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import sympy

from derive import load
from derive.engine.derivation import Derivation
from derive.engine.record import Record
from derive.errors import SpecError
from derive.model.spec import loads
from derive.present import articles
from derive.present.document import build
from derive.present.latex import latex
from derive.present.render import render_document
from derive.rules import symbols as sym
from derive.verify import verify
from derive.verify.findings import Convention

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "examples" / "seed001.toml"

# The article: the network and its forward pass are assumed known, then the whole idea (∂C/∂θ through δ, the
# recursion of δ), then the last layer's δ first and the rest backwards.
HEADINGS = {
    "en": ["The network", "Forward pass", "The whole idea in two identities", "Backward pass"],
    "zh": ["网络结构", "前向传播", "核心思想：两个恒等式", "反向传播"],
}


@pytest.fixture(scope="module")
def net():
    return load(SPEC)


@pytest.fixture(scope="module")
def doc(net):
    return build(Derivation(net))


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_identities_come_early_in_the_articles_order(doc, lang: str) -> None:
    text = render_document(doc, "md", lang)
    titles = [line.lstrip("#").strip() for line in text.splitlines() if line.startswith("## ")]
    assert titles[: len(HEADINGS[lang])] == HEADINGS[lang]


def test_the_spec_numbers_weights_by_the_layer_they_leave(net) -> None:
    assert net.notation.weight_layer == "source" and net.notation.weight_shift == 1
    assert replace(net.notation, weight_layer="target").weight_shift == 0
    with pytest.raises(SpecError, match=r"notation\.weight_layer: 'middle' is not one of target, source"):
        loads(SPEC.read_text(encoding="utf-8").replace('weight_layer = "source"', 'weight_layer = "middle"'))


def test_the_printer_writes_the_source_numbering(net, doc) -> None:
    """derive's W1 (input → layer 1) is θ^{(0)} and W2 (layer 1 → 2) is θ^{(1)}; the canonical names stay."""
    assert latex(sym.W(1, 1, 2), net) == r"\theta^{(0)}_{12}"
    assert latex(sym.W(2, 2, 3), net) == r"\theta^{(1)}_{23}"
    assert latex(sym.b(2, 1), net) == r"b^{(2)}_{1}"  # a bias keeps its neuron's layer
    target = replace(net, notation=replace(net.notation, weight_layer="target"))
    assert latex(sym.W(1, 1, 2), target) == r"\theta^{(1)}_{12}"
    assert Record(Derivation(net)).parameters[0] == "W1[1,1]"
    tex = render_document(doc, "tex", "en")
    assert r"\theta^{(0)}_{11}" in tex and r"\theta^{(1)}_{11}" in tex
    assert r"\theta^{(2)}" not in tex  # no weight is numbered by the layer it feeds
    assert [row.weight for row in doc.layers] == [r"\theta^{(0)}", r"\theta^{(1)}"]


def test_a_formula_in_the_source_numbering_reads_back_right(net) -> None:
    d = Derivation(net)
    right = verify(d, None, r"\frac{\partial C}{\partial \theta^{(0)}_{12}} = \delta^{(1)}_1 x_2")
    assert right and right.target == "W1[1,2]"
    assert verify(d, "W1[1,2]", r"\delta^{(1)}_1 x_2")  # canonical names are derive's own
    assert verify(d, None, r"\frac{\partial C}{\partial \theta^{(1)}_{21}} = \delta^{(2)}_2 a^{(1)}_1")
    assert verify(d, None, r"\frac{\partial C}{\partial \theta^{l}} = \delta^{l+1} (a^{l})^T")  # the article's form
    derive_own = verify(d, None, r"\frac{\partial C}{\partial \theta^{(1)}_{12}} = \delta^{(1)}_1 x_2")
    assert not derive_own and Convention("weight_shift", 0) in derive_own.diagnoses
    # every identity printed in the document reads back right
    for inst in articles.identity_instances(Record(d)):
        assert verify(d, None, f"{latex(inst.lhs, net)} = {latex(inst.value, net)}"), inst


def _numbers(net, seed: int = 3):
    rng = np.random.default_rng(seed)
    params = {name: rng.normal(size=shape) for name, shape in net.shapes().items()}
    x, y = rng.normal(size=net.inputs), rng.uniform(size=net.outputs)
    return params, x, y


def _forward_from(params, z, layer: int, depth: int):
    """a and z of every layer above ``layer``, given z of ``layer`` (sigmoid everywhere)."""
    zs, acts = {layer: z}, {layer: 1 / (1 + np.exp(-z))}
    for k in range(layer + 1, depth + 1):
        zs[k] = params[f"W{k}"] @ acts[k - 1] + params[f"b{k}"]
        acts[k] = 1 / (1 + np.exp(-zs[k]))
    return zs, acts


def _cost(params, x, y, depth: int) -> float:
    z1 = params["W1"] @ x + params["b1"]
    _, acts = _forward_from(params, z1, 1, depth)
    return 0.5 * float(np.sum((acts[depth] - y) ** 2))


def test_the_identities_instances_hold(net, doc) -> None:
    """Each printed instance, valued at a sample with δ and ∂C/∂θ taken by central differences, holds."""
    depth, h = net.depth, 1e-6
    params, x, y = _numbers(net)
    z = {1: params["W1"] @ x + params["b1"]}
    zs, acts = _forward_from(params, z[1], 1, depth)
    acts[0] = x

    def delta(layer: int, i: int) -> float:
        def cost_at(shift: float) -> float:
            zz = zs[layer].copy()
            zz[i - 1] += shift
            _, a = _forward_from(params, zz, layer, depth)
            return 0.5 * float(np.sum((a[depth] - y) ** 2))

        return (cost_at(h) - cost_at(-h)) / (2 * h)

    def grad(name: str, index: tuple[int, ...]) -> float:
        up, down = {k: v.copy() for k, v in params.items()}, {k: v.copy() for k, v in params.items()}
        up[name][index] += h
        down[name][index] -= h
        return (_cost(up, x, y, depth) - _cost(down, x, y, depth)) / (2 * h)

    values = {sym.x(j): x[j - 1] for j in range(1, net.inputs + 1)}
    for layer in range(1, depth + 1):
        for i in range(1, net.sizes[layer] + 1):
            values[sym.a(layer, i)] = acts[layer][i - 1]
            values[sym.z(layer, i)] = zs[layer][i - 1]
            values[sym.delta(layer, i)] = delta(layer, i)
            for j in range(1, net.sizes[layer - 1] + 1):
                values[sym.W(layer, i, j)] = params[f"W{layer}"][i - 1, j - 1]
    instances = articles.identity_instances(Record(Derivation(net)))
    assert [(inst.kind, inst.layer) for inst in instances] == [("weight", 2), ("weight", 1), ("recursion", 1)]
    for inst in instances:
        value = float(inst.value.xreplace(values))
        if inst.kind == "weight":
            info = sym.parse_name(inst.lhs.args[1].name)
            expected = grad(f"W{info.layer}", (info.i - 1, info.j - 1))
        else:
            expected = values[inst.lhs]
        assert value == pytest.approx(expected, rel=1e-6, abs=1e-9), inst
    # and they are what the document prints, in the article's numbering
    ids = doc.identities
    assert ids.source and ids.theta == r"\theta^{(l)}"
    assert ids.forward == r"z^{(l+1)} = \theta^{(l)} a^{(l)} + b^{(l+1)}"
    assert [e.lhs for e in ids.general] == [r"\frac{\partial C}{\partial \theta^{(l)}}", r"\delta^{(l)}"]
    assert ids.general[0].rhs == r"\delta^{(l+1)} \frac{\partial z^{(l+1)}}{\partial \theta^{(l)}}"
    assert ids.general[1].rhs == r"\delta^{(l+1)} \frac{\partial z^{(l+1)}}{\partial z^{(l)}}"
    assert ids.weights[0].lhs == r"\frac{\partial C}{\partial \theta^{(1)}_{11}}"
    assert ids.weights[0].rhs.endswith(r"= \delta^{(2)}_{1} a^{(1)}_{1}")
    assert ids.weights[1].rhs.endswith(r"= \delta^{(1)}_{1} x_{1}")
    assert len(ids.recursion) == 1 and ids.recursion[0].lhs == r"\delta^{(1)}_{1}"


def test_the_loss_in_this_test_is_derives(net) -> None:
    """The from-scratch cost above is the spec's squared error (½ Σ (a − y)²), so the check compares like with like."""
    params, x, y = _numbers(net, 7)
    d = Derivation(net)
    values = {sym.x(j): x[j - 1] for j in range(1, 3)} | {sym.y(k): y[k - 1] for k in range(1, 3)}
    for name, array in params.items():
        for index, v in np.ndenumerate(array):
            values[sympy.Symbol(f"{name}[{','.join(str(k + 1) for k in index)}]", real=True)] = v
    composed = d.composed_cost()
    by_name = {s.name: s for s in composed.free_symbols}
    assert float(composed.xreplace({by_name[s.name]: v for s, v in values.items() if s.name in by_name})) == (
        pytest.approx(_cost(params, x, y, net.depth), rel=1e-12)
    )


def test_a_layer_in_the_other_numbering_is_diagnosed_and_a_missing_one_named(net) -> None:
    from derive.errors import DeriveError

    v = verify(net, None, r"\frac{\partial C}{\partial \theta^{(2)}_{11}} = \delta^{(2)}_1 a^{(1)}_1")
    assert not v and Convention("weight_shift", 0) in v.diagnoses
    assert v.correct.startswith(r"\frac{\partial C}{\partial \theta^{(1)}_{11}} = \delta^{(2)}_{1} a^{(1)}_{1}")
    assert "weights θ^{(l)}_{ij} into neuron i from neuron j of layer l + 1 from layer l;" in v.text()
    assert "（从第 l 层到第 l + 1 层）" in v.text("zh")
    with pytest.raises(DeriveError, match=r"no weights leave layer 3 \(weights are numbered by the layer they leave"):
        verify(net, None, r"\frac{\partial C}{\partial \theta^{(3)}_{11}} = \delta^{(2)}_1 a^{(1)}_1")
    with pytest.raises(DeriveError, match=r"\(ij: to i from j; l = 0 to 1, the layer it leaves\)"):
        verify(net, None, r"\frac{\partial C}{\partial \theta^{(0)}_{11}} = q_1")
