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


def test_a_torch_model_passes_and_a_forward_without_its_activation_fails() -> None:
    pytest.importorskip("torch")
    import torch_style

    spec = FOLDER / "torch_style.toml"
    assert_gradients(spec, torch_style.sequential())
    message = failure(spec, torch_style.Forgetful())
    assert "torch autograd's .grad" in message and "a forward of its own" in message


def test_a_nielsen_style_network_passes_in_columns_and_the_forgotten_derivative_is_named() -> None:
    import nielsen_style

    spec = FOLDER / "nielsen_style.toml"
    assert_gradients(spec, nielsen_style.backprop, samples="columns")
    message = failure(spec, nielsen_style.backprop_without_hidden_derivative, samples="columns")
    assert "samples columns" in message
    assert "hint: yours equals the derived gradient without σ′(z⁽¹⁾)" in message
    assert "  W2  matches (15 elements)" in message and "  W1  differs in 20 of 20 elements" in message
