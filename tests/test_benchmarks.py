"""The benchmark scripts still run against the current API (they print figures; nothing here is timed).

A benchmark that calls a method the engine no longer has fails only when someone runs it; importing each one
and running the cheap parts that call derive catches that here.
"""

from __future__ import annotations

import importlib
import sys

import pytest
from conftest import ROOT

import derive
from derive import Layer, Network

BENCHMARKS = sorted(p.stem for p in (ROOT / "benchmarks").glob("bench_*.py"))


@pytest.fixture(autouse=True)
def _benchmarks_importable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))


@pytest.mark.parametrize("name", BENCHMARKS)
def test_every_benchmark_imports(name: str) -> None:
    module = importlib.import_module(name)
    assert callable(getattr(module, "main", None)), f"{name} has no main()"
    sys.modules.pop(name, None)


def test_the_verify_benchmarks_old_path_runs_on_a_small_network() -> None:
    bench = importlib.import_module("bench_verify")
    net = Network(3, (Layer(4, "sigmoid"), Layer(2, "softmax")), "cross_entropy")
    assert bench.old_path_one_point(net) > 0


def test_the_numeric_benchmarks_implementations_agree_on_a_small_problem() -> None:
    bench = importlib.import_module("bench_numeric")
    params, x, y = bench.problem((3, 4, 2), 5, 0)
    layers = (derive.Layer(4, bench.HIDDEN), derive.Layer(2, bench.OUTPUT))
    generated = derive.derive(derive.Network(3, layers, bench.LOSS, targets=bench.TARGETS)).lambdify().gradients
    bench.check_agree(generated(params, x, y), bench.hand_gradients(params, x, y), "hand NumPy", "3-4-2")
