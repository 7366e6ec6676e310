"""derive check's columns, array by array: a wrong entry fails only its parameter; each column's time is kept."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import net

from derive import derive
from derive.check import check, format_times
from derive.check import gradients as checking
from derive.model.samples import random_batch
from derive.numeric.lambdified import NumericFunctions


def test_a_wrong_generated_entry_fails_only_its_parameter() -> None:
    network = net([3, 4, 2], ["tanh", "sigmoid"], "binary_cross_entropy")
    d = derive(network)
    fn = NumericFunctions(d)
    right = fn.gradients

    def wrong(params, x, y):
        out = {k: v.copy() for k, v in right(params, x, y).items()}
        out["W1"][2, 1] += 0.25  # W1[3,2], 1-based
        return out

    fn.gradients = wrong
    batches = [random_batch(network, np.random.default_rng(4), 3)]
    errors = checking._numeric_errors(d, fn, batches, set(d.parameters()), False)
    bad = {name for name, (fd, code, _) in errors.items() if code > checking.EXACT_TOLERANCE}
    assert bad == {"W1[3,2]"}
    fd, code, torch = errors["W1[3,2]"]
    assert code == pytest.approx(0.25, rel=1e-6) and torch is None
    assert all(fd <= checking.TOLERANCE for fd, _, _ in errors.values())


def test_an_overflow_is_an_infinite_error() -> None:
    assert checking._errors(np.array([np.nan, np.inf, 1.0]), np.array([0.0, 0.0, 3.0])).tolist() == [
        np.inf,
        np.inf,
        pytest.approx(2 / 3),
    ]


def test_each_column_that_ran_has_its_time() -> None:
    d = derive(net([2, 2, 1], ["sigmoid", "sigmoid"], "squared_error"))
    report = check(d, points=1, use_torch=False)
    assert set(report.times) == {"closed", "sympy", "fd", "code", "matrix"}
    assert all(0 < t < 60 for t in report.times.values())
    skipped = check(d, points=1, symbolic=False, use_torch=False)
    assert "sympy" not in skipped.times and "torch" not in skipped.times
    line = format_times(skipped)
    assert line.startswith("time: closed forms ") and "sympy" not in line and line.count(" s") == len(skipped.times)
    assert format_times(skipped, "zh").startswith("用时：闭式表达式 ")
