"""examples/testing: implementations people write, in their own layouts, pass; each broken variant gets the
message that names its bug. The implementations are our own code in the styles of well-known sources."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from derive.testing import assert_gradients

ROOT = Path(__file__).resolve().parent.parent
FOLDER = ROOT / "examples" / "testing"
sys.path.insert(0, str(FOLDER))


def failure(*args, **kwargs) -> str:
    with pytest.raises(AssertionError) as caught:
        assert_gradients(*args, **kwargs)
    return str(caught.value)


def test_a_torch_model_passes_and_a_wrong_activation_or_a_detach_is_named() -> None:
    pytest.importorskip("torch")
    import torch_style

    spec = FOLDER / "torch_style.toml"
    assert_gradients(spec, torch_style.sequential())
    message = failure(spec, torch_style.wrong_activation())
    assert message == "torch module: after Linear layer 1 it applies ReLU(), not the spec's tanh"
    message = failure(spec, torch_style.Detached())
    assert "  W2  matches (15 elements)\n  b2  matches (3 elements)\n  W1  differs in 20 of 20 elements" in message
    assert "no gradient reached W1, b1 (.grad None: detached from the graph?)" in message


def test_a_nielsen_style_network_passes_in_columns_and_the_forgotten_derivative_is_named() -> None:
    import nielsen_style

    spec = FOLDER / "nielsen_style.toml"
    assert_gradients(spec, nielsen_style.backprop, samples="columns")
    message = failure(spec, nielsen_style.backprop_without_hidden_derivative, samples="columns")
    assert "samples columns" in message
    assert "hint: yours equals the derived gradient without σ′(z⁽¹⁾)" in message
    assert "  W2  matches (15 elements)" in message and "  W1  differs in 20 of 20 elements" in message


def test_a_step_function_passes_and_a_summed_step_is_named() -> None:
    import sgd_style

    spec = FOLDER / "sgd_style.toml"
    assert_gradients(spec, sgd_style.sgd_step, step=sgd_style.LEARNING_RATE)
    message = failure(spec, sgd_style.sgd_step_summed, step=sgd_style.LEARNING_RATE)
    assert "  W2  differs in 8 of 8 elements; yours = 4 × derived" in message
    assert (
        "hint: W2, b2, W1, b1: yours is m = 4 times the derived value: the sum over the batch instead of the mean?"
        in message
    )
    assert "recovered from one SGD step of lr 0.1" in message


def test_a_scalar_autograd_model_passes_and_a_wrong_local_derivative_is_located() -> None:
    import scalar_style

    spec = FOLDER / "scalar_style.toml"
    assert_gradients(spec, scalar_style.Model())
    message = failure(spec, scalar_style.Model(broken=True))
    assert "  W2  matches (3 elements)\n  b2  matches (1 element)\n  W1  differs in 6 of 6 elements" in message
    assert "backward() of the spec's squared_error" in message


def test_deeplearning_ai_names_and_columns_pass_and_summed_biases_are_named() -> None:
    import dlai_style

    spec = FOLDER / "dlai_style.toml"
    options = {"samples": "columns", "names": dlai_style.NAMES}
    assert_gradients(spec, dlai_style.backward, **options)
    message = failure(spec, dlai_style.backward_db_summed, **options)
    assert "your keys dW1 → W1, db1 → b1, dW2 → W2, db2 → b2" in message
    assert "  W2  matches (4 elements)\n  b2  differs in 1 of 1 elements; yours = 4 × derived" in message
    assert "hint: b2, b1: yours is m = 4 times the derived value" in message


def test_a_cs231n_style_classifier_passes_and_its_regularisation_bug_is_named() -> None:
    import cs231n_style

    spec = FOLDER / "cs231n_style.toml"
    assert_gradients(spec, cs231n_style.gradients, weights="in_out")
    message = failure(spec, cs231n_style.gradients_reg_without_2, weights="in_out")
    assert "layout assumed: weights in_out (W1 given and returned as (4, 6), a row per input)" in message
    assert (
        "hint: yours equals the derived gradient with the L2 penalty's term halved: with form plain, ∂R/∂W is 2λW"
        in message
    )
    assert "  b2  matches (3 elements)" in message and "  W2  differs in 18 of 18 elements" in message
    summed = failure(spec, cs231n_style.gradients_summed, weights="in_out")
    assert "hint: b2, b1: yours is m = 4 times the derived value: the sum over the batch instead of the mean?" in summed


def test_a_penalty_left_out_or_doubled_is_named() -> None:
    import cs231n_style

    spec = FOLDER / "cs231n_style.toml"

    def without(params, X, y):
        return cs231n_style.gradients(params, X, y, reg=0.0)

    def doubled(params, X, y):
        return cs231n_style.gradients(params, X, y, reg=2 * cs231n_style.REG)

    assert "the L2 penalty's term left out" in failure(spec, without, weights="in_out")
    assert "the L2 penalty's term doubled" in failure(spec, doubled, weights="in_out")
