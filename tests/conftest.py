"""Shared helpers for the tests."""

from __future__ import annotations

from pathlib import Path

import pytest

import derive

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("seed*.toml"))


def net(sizes, acts, loss, bias=True, **notation):
    """A network from sizes (inputs first) and one activation per layer."""
    layers = tuple(derive.Layer(n, a) for n, a in zip(sizes[1:], acts, strict=True))
    return derive.Network(sizes[0], layers, loss, bias, notation=derive.Notation(**notation))


@pytest.fixture(params=EXAMPLES, ids=lambda p: p.stem)
def example(request):
    return derive.load(request.param)
