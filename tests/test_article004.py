"""Article 004's worked NumPy example, reproduced from the spec alone."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import derive
from derive.model.samples import sample_values

SPEC = Path(__file__).resolve().parent.parent / "examples" / "seed004.toml"


@pytest.fixture(scope="module")
def article():
    net = derive.load(SPEC)
    return net, derive.derive(net)


def _article_numpy():
    """The article's own exercise code (its arrays are from-to: inputs × hidden)."""

    def sigmoid(v):
        return 1 / (1 + np.exp(-v))

    x = np.array([0.5, 0.1, -0.2])
    target, learnrate = 0.6, 0.5
    w_ih = np.array([[0.5, -0.6], [0.1, -0.2], [0.1, 0.7]])
    w_ho = np.array([0.1, -0.3])
    hidden = sigmoid(x @ w_ih)
    out = sigmoid(hidden @ w_ho)
    out_term = (target - out) * out * (1 - out)
    hidden_term = w_ho * out_term * hidden * (1 - hidden)
    return hidden_term, learnrate * out_term * hidden, learnrate * hidden_term * x[:, None]


def test_example_matches_the_article_arrays(article):
    net, _ = article
    ex = net.example
    assert ex.learning_rate == 0.5
    np.testing.assert_array_equal(ex.params["W1"], np.array([[0.5, -0.6], [0.1, -0.2], [0.1, 0.7]]).T)
    assert not net.bias and net.notation.delta == "error"


def test_hidden_error_terms(article):
    net, d = article
    ex = net.example
    values = sample_values(net, ex.params, ex.x, ex.y)
    terms = [float(d.delta_closed(1, i).xreplace(values)) for i in (1, 2)]
    np.testing.assert_allclose(terms, [0.00070802218654941, -0.00204471402395086], rtol=0, atol=1e-12)
    np.testing.assert_allclose(terms, _article_numpy()[0], rtol=0, atol=1e-15)


def test_hidden_to_output_update(article):
    net, d = article
    ex = net.example
    step = [-ex.learning_rate * d.evaluate(f"W2[1,{j}]", ex.params, ex.x, ex.y) for j in (1, 2)]
    np.testing.assert_allclose(step, [0.00804047394804529, 0.00555918091168283], rtol=0, atol=1e-12)


def test_input_to_hidden_update(article):
    net, d = article
    ex = net.example
    # Δw_ij = η δ_j x_i, with w_ij from input i to hidden j: our W1[j, i].
    step = np.array(
        [[-ex.learning_rate * d.evaluate(f"W1[{j},{i}]", ex.params, ex.x, ex.y) for j in (1, 2)] for i in (1, 2, 3)]
    )
    expected = _article_numpy()[2]
    np.testing.assert_allclose(step, expected, rtol=0, atol=1e-12)
    # By hand: η δ_1 x_1 = 0.5 · 0.00070802218654941 · 0.5
    assert step[0, 0] == pytest.approx(0.5 * 0.00070802218654941 * 0.5, abs=1e-15)


def test_error_term_update_is_plus_eta_delta_x(article):
    _, d = article
    g = d.parameter("W1[2,3]")
    from derive.rules import symbols as sym

    assert g.update.rhs == sym.W(1, 2, 3) + sym.LEARNING_RATE * sym.delta(1, 2) * sym.x(3)
    assert g.delta_form == -sym.delta(1, 2) * sym.x(3)


def test_output_error_term_has_the_sign_of_y_minus_yhat(article):
    _, d = article
    from derive.rules import symbols as sym

    a, y = sym.a(2, 1), sym.y(1)
    assert (d.delta_closed(2, 1) - (y - a) * a * (1 - a)).expand() == 0
