"""A formula written without layers on a network with hidden layers is read for every layer its letters' roles allow.

Wikipedia's δ_j = (o_j − t_j) o_j (1 − o_j) is the output layer's (t_j says j is an output neuron), δ_j = (Σ_ℓ w_{jℓ}
δ_ℓ) o_j (1 − o_j) every hidden layer's (w_{jℓ} with δ_ℓ: ℓ one layer after j), ∂E/∂w_{ij} = o_i δ_j every layer's;
Nielsen's ∂C/∂b = δ and ∂C/∂w = a_in δ_out too. Whether each is right is decided here independently of derive: a
NumPy forward pass, each formula's value for each layer its letters allow, and the gradients by central finite
differences of the cost ½ Σ (o − t)²; derive's verdict must agree, say how it read the formula, and a wrong formula's
counterexample must hold NumPy's numbers at its point.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import derive
from derive import DeriveError
from derive.verify import verify
from derive.verify.findings import EveryLayer, RoleLayer

HEAD = 'inputs = 2\nloss = "squared_error"\n'
LAYER = '[[layer]]\nunits = {}\nactivation = "sigmoid"\n'


def net(*units: int, preset: str = "wikipedia") -> derive.Derivation:
    body = HEAD + "".join(LAYER.format(n) for n in units) + f'[notation]\npreset = "{preset}"\n'
    return derive.derive(derive.loads(body))


WIKI = net(3, 2)  # 2-3-2: one hidden layer
WIKI_DEEP = net(3, 3, 2)  # 2-3-3-2: two hidden layers
NIELSEN = net(3, 2, 2, preset="nielsen")


# ------------------------------------------------------------------ NumPy, independent of derive
def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def random_point(sizes: list[int], seed: int = 7) -> tuple[list[np.ndarray], list[np.ndarray], np.ndarray, np.ndarray]:
    """Weights W[l] (into layer l from l − 1: rows the neurons it enters), biases b[l], an input x and a target t."""
    rng = np.random.default_rng(seed)
    W = [np.zeros((0, 0))] + [rng.uniform(-1, 1, (sizes[k], sizes[k - 1])) for k in range(1, len(sizes))]
    b = [np.zeros(0)] + [rng.uniform(-1, 1, sizes[k]) for k in range(1, len(sizes))]
    return W, b, rng.uniform(-1, 1, sizes[0]), rng.uniform(-1, 1, sizes[-1])


def outputs(W, b, x, start: int = 0, o: np.ndarray | None = None) -> list[np.ndarray]:
    """Every layer's output o, from the input x (or from layer ``start``'s output o)."""
    os_ = [x] if o is None else [o]
    for k in range(start + 1, len(W)):
        os_.append(sigmoid(W[k] @ os_[-1] + b[k]))
    return os_ if o is None else [None] * start + os_


def cost(W, b, x, t, start: int = 0, o: np.ndarray | None = None) -> float:
    return 0.5 * float(np.sum((outputs(W, b, x, start, o)[-1] - t) ** 2))


def numeric(f, v: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """∂f/∂v by central differences, entry by entry."""
    out = np.zeros_like(v)
    for index in np.ndindex(v.shape):
        up, down = v.copy(), v.copy()
        up[index] += h
        down[index] -= h
        out[index] = (f(up) - f(down)) / (2 * h)
    return out


def truth(W, b, x, t) -> dict[str, list[np.ndarray]]:
    """∂E/∂W[l], ∂E/∂b[l], δ[l] = ∂E/∂net[l] and ∂E/∂o[l], all by finite differences of the cost."""
    L = len(W) - 1
    os_ = outputs(W, b, x)
    dW = [None] + [numeric(lambda v, k=k: cost(W[:k] + [v] + W[k + 1 :], b, x, t), W[k]) for k in range(1, L + 1)]
    db = [None] + [numeric(lambda v, k=k: cost(W, b[:k] + [v] + b[k + 1 :], x, t), b[k]) for k in range(1, L + 1)]
    do = [numeric(lambda v, k=k: cost(W, b, x, t, k, v), os_[k]) for k in range(L)] + [os_[L] - t]
    return {"W": dW, "b": db, "delta": [None] + db[1:], "o": do, "out": os_}


# Each formula's value for one layer l of the left side, as its letters place it (w_{ij} from i to j: W[l][j, i]).
def wiki_dw(W, os_, d, t, l):  # ∂E/∂w_{ij} = o_i δ_j: W[l]'s gradient, rows the neurons it enters
    return np.outer(d[l], os_[l - 1]) if l >= 1 else None


def wiki_dw_swapped(W, os_, d, t, l):  # o_j δ_i: o of the neuron it enters, δ of the one it leaves
    return np.outer(os_[l], d[l - 1]) if l >= 2 else None


def wiki_delta_out(W, os_, d, t, l):  # (o_j − t_j) o_j (1 − o_j): t_j puts j in the output layer
    return (os_[l] - t) * os_[l] * (1 - os_[l]) if l == len(W) - 1 else None


def wiki_delta_sign(W, os_, d, t, l):
    return -wiki_delta_out(W, os_, d, t, l) if l == len(W) - 1 else None


def wiki_delta_hidden(W, os_, d, t, l):  # (Σ_ℓ w_{jℓ} δ_ℓ) o_j (1 − o_j): ℓ one layer after j
    return (W[l + 1].T @ d[l + 1]) * os_[l] * (1 - os_[l]) if 1 <= l < len(W) - 1 else None


def wiki_delta_no_derivative(W, os_, d, t, l):  # Σ_ℓ w_{jℓ} δ_ℓ alone
    return W[l + 1].T @ d[l + 1] if 1 <= l < len(W) - 1 else None


def wiki_do(W, os_, d, t, l):  # ∂E/∂o_j = Σ_ℓ w_{jℓ} δ_ℓ: any layer with a layer after it, the input's too
    return W[l + 1].T @ d[l + 1] if 0 <= l < len(W) - 1 else None


def nielsen_db(W, os_, d, t, l):  # ∂C/∂b = δ
    return d[l] if l >= 1 else None


def nielsen_dw(W, os_, d, t, l):  # ∂C/∂w = a_in δ_out
    return np.outer(d[l], os_[l - 1]) if l >= 1 else None


def expected(sizes: list[int], kind: str, formula) -> tuple[bool, tuple[str, ...]]:
    """Whether a formula is right for every layer its letters allow, and those layers' names, by NumPy alone."""
    W, b, x, t = random_point(sizes)
    true = truth(W, b, x, t)
    right, layers = True, []
    for l in range(len(sizes)):
        value = formula(W, true["out"], true["delta"], t, l)
        if value is None:
            continue
        layers.append(l)
        right = right and np.allclose(value, true[kind][l], rtol=1e-5, atol=1e-8)
    names = tuple("x" if kind == "o" and l == 0 else f"{'a' if kind == 'o' else kind}{l}" for l in layers)
    return right, names


HIDDEN = r"\delta_j = \left(\sum_\ell w_{j\ell} \delta_\ell\right) o_j (1 - o_j)"  # every hidden layer's δ
CASES = [  # (derivation, sizes, formula, what its left side is, its NumPy value for a layer)
    (WIKI, [2, 3, 2], r"\frac{\partial E}{\partial w_{ij}} = o_i \delta_j", "W", wiki_dw),
    (WIKI_DEEP, [2, 3, 3, 2], r"\frac{\partial E}{\partial w_{ij}} = o_i \delta_j", "W", wiki_dw),
    (WIKI, [2, 3, 2], r"\delta_j = (o_j - t_j) o_j (1 - o_j)", "delta", wiki_delta_out),
    (WIKI_DEEP, [2, 3, 3, 2], r"\delta_j = (o_j - t_j) o_j (1 - o_j)", "delta", wiki_delta_out),
    (WIKI, [2, 3, 2], HIDDEN, "delta", wiki_delta_hidden),
    (WIKI_DEEP, [2, 3, 3, 2], HIDDEN, "delta", wiki_delta_hidden),
    (WIKI, [2, 3, 2], r"\frac{\partial E}{\partial o_j} = \sum_\ell w_{j\ell} \delta_\ell", "o", wiki_do),
    (NIELSEN, [2, 3, 2, 2], r"\frac{\partial C}{\partial b} = \delta", "b", nielsen_db),
    (NIELSEN, [2, 3, 2, 2], r"\frac{\partial C}{\partial w} = a_{\rm in} \delta_{\rm out}", "W", nielsen_dw),
    # wrong: σ′ left out, the sign, the weight's indices swapped
    (WIKI, [2, 3, 2], r"\delta_j = \sum_\ell w_{j\ell} \delta_\ell", "delta", wiki_delta_no_derivative),
    (WIKI, [2, 3, 2], r"\delta_j = (t_j - o_j) o_j (1 - o_j)", "delta", wiki_delta_sign),
    (WIKI_DEEP, [2, 3, 3, 2], r"\frac{\partial E}{\partial w_{ij}} = o_j \delta_i", "W", wiki_dw_swapped),
]
REASONS = {wiki_delta_no_derivative: "missing_derivative", wiki_delta_sign: "sign", wiki_dw_swapped: "transposed"}


@pytest.mark.parametrize(("d", "sizes", "formula", "kind", "value"), CASES, ids=[f"{c[1]} {c[2]}" for c in CASES])
def test_right_for_every_layer_its_letters_allow_and_only_then(d, sizes, formula, kind, value) -> None:
    right, layers = expected(sizes, kind, value)
    v = verify(d, None, formula)
    assert v.right == right, v.text()
    if right:
        assert (EveryLayer(layers, "l" if len(layers) > 1 else None) in v.notes) or any(
            isinstance(n, EveryLayer) and n.checked == layers for n in v.notes
        ), v.notes
    else:
        assert REASONS[value] in v.codes, v.text()


def test_the_counterexample_holds_numpys_numbers_at_its_point() -> None:
    """The formula's value and the derivative the verdict prints are NumPy's, at the point it prints."""
    for formula, value in (
        (r"\delta_j = \sum_\ell w_{j\ell} \delta_\ell", wiki_delta_no_derivative),
        (r"\delta_j = (t_j - o_j) o_j (1 - o_j)", wiki_delta_sign),
    ):
        v = verify(WIKI, None, formula)
        c = v.counterexample
        assert c is not None, v.text()
        W, b, x, t = point_of(c, [2, 3, 2])
        true = truth(W, b, x, t)
        layer, neuron = map(int, re.fullmatch(r"delta(\d)\[(\d+)\]", c.element).groups())
        assert c.correct == pytest.approx(true["delta"][layer][neuron - 1], rel=1e-5)
        assert c.given == pytest.approx(value(W, true["out"], true["delta"], t, layer)[neuron - 1], rel=1e-5)


def point_of(c, sizes: list[int]):
    """The counterexample's point as NumPy arrays (derive's names: x[1], y[1], W1[i,j] into i from j, b1[i])."""
    W = [np.zeros((0, 0))] + [np.zeros((sizes[k], sizes[k - 1])) for k in range(1, len(sizes))]
    b = [np.zeros(0)] + [np.zeros(sizes[k]) for k in range(1, len(sizes))]
    for name, number in c.parameters.items():
        kind, layer, i, j = re.fullmatch(r"([Wb])(\d)\[(\d+)(?:,(\d+))?\]", name).groups()
        if kind == "W":
            W[int(layer)][int(i) - 1, int(j) - 1] = number
        else:
            b[int(layer)][int(i) - 1] = number
    x = np.array([c.inputs[f"x[{k}]"] for k in range(1, sizes[0] + 1)])
    t = np.array([c.targets[f"y[{k}]"] for k in range(1, sizes[-1] + 1)])
    return W, b, x, t


# ------------------------------------------------------------------ what the verdict says
def test_the_verdict_states_the_roles_and_the_layers_checked() -> None:
    v = verify(WIKI, None, r"\delta_j = (o_j - t_j) o_j (1 - o_j)")
    assert RoleLayer("j", "output", "t_j", "", 2) in v.notes
    assert "read without layers: j a neuron of the output layer 2, as t_j says" in v.text()
    assert "read without layers, for every layer it can be about: on this network only delta2" in v.text()
    assert "未写层号：j 是输出层 2 的神经元（由 t_j 可知）" in v.text("zh")
    w = verify(WIKI_DEEP, None, r"\frac{\partial E}{\partial w_{ij}} = o_i \delta_j")
    assert "read without layers, for every layer it can be about (l): checked W1, W2 and W3" in w.text()
    assert "checked 21 elements" in w.text()  # 6 + 9 + 6: every weight of every layer
    h = verify(WIKI, None, HIDDEN)
    assert r"read without layers: \ell a neuron of the layer after j's, as w_{j\ell} says" in h.text()
    numbered = verify(WIKI, None, r"\frac{\partial E}{\partial w_{12}} = o_1 \delta_2")  # neuron 2 after neuron 1
    assert numbered.right and numbered.elements == 2 and "checked W1 and W2" in numbered.text()
    n = verify(NIELSEN, None, r"\frac{\partial C}{\partial b} = \delta")
    assert "checked b1, b2 and b3" in n.text()  # derive's names; Nielsen numbers these layers 2 to 4


def test_a_wrong_formula_for_several_layers_says_its_reason_in_the_layer_letter() -> None:
    v = verify(WIKI_DEEP, None, r"\delta_j = \sum_\ell w_{j\ell} \delta_\ell")
    assert not v.right and "missing_derivative" in v.codes
    assert "the derivative of layer m's activation is missing" in v.text()  # ℓ is written as l: the layer is m
    assert r"\delta^{(l)}" in v.correct  # the general form


@pytest.mark.parametrize(
    ("formula", "message"),
    [
        (r"\delta_j = x_j - t_j", "put an index in two layers"),  # j an input's and an output's
        (r"\frac{\partial E}{\partial w_{ij}} = o_i \delta_j + o_k", "nothing ties its index to the left side"),
        (r"\frac{\partial E}{\partial w_{ij}} = x_j \delta_j", "fits no layer of this network"),  # j after i, and 0
        (r"\frac{\partial E}{\partial w_{11}} = o_1 \delta_1", "one index for the neurons of two layers"),
    ],
)
def test_no_layer_fits_is_not_understood_and_says_why(formula: str, message: str) -> None:
    with pytest.raises(DeriveError) as info:
        verify(WIKI, None, formula)
    text = str(info.value)
    assert message in text and "\n" not in text


def test_a_layer_written_anywhere_and_a_net_without_a_hidden_layer_keep_the_other_readings() -> None:
    one = net(2)
    v = verify(one, None, r"\frac{\partial E}{\partial w_{ij}} = o_i \delta_j")
    assert v.right and not any(isinstance(n, (EveryLayer, RoleLayer)) for n in v.notes)
    w = verify(WIKI, None, r"\frac{\partial E}{\partial w^{(2)}_{ij}} = o_i \delta_j")
    assert w.right and not any(isinstance(n, (EveryLayer, RoleLayer)) for n in w.notes)
    assert w.elements == 6


def test_bishops_unlayered_swapped_indices_are_transposed() -> None:
    """Under the index marker δ_i is an input's error by its letter, which has none; swapping i and j reads right."""
    d = derive.derive(derive.loads(HEAD + LAYER.format(3) + LAYER.format(2) + '[notation]\npreset = "bishop"\n'))
    v = verify(d, None, r"\frac{\partial E}{\partial w_{ji}} = \delta_i x_j")
    assert not v.right and v.codes == ("transposed",)
    assert "indices are transposed" in v.text()
