"""The command line: output, closing line and exit codes."""

from __future__ import annotations

import pytest
from conftest import ROOT
from inprocess import run_cli

import derive
from derive import cli

SEED4 = str(ROOT / "examples" / "seed004.toml")


def run(*args):
    return run_cli(*args, cwd=ROOT)


def test_grad_prints_the_closed_form():
    out = run("grad", SEED4, "W2[1,2]", "--form", "closed")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "a1[2]*a2[1]*(1 - a2[1])*(a2[1] - y[1])"


def test_grad_latex_uses_the_spec_notation():
    out = run("grad", SEED4, "W1[2,3]", "--latex", "--form", "delta")
    assert out.returncode == 0, out.stderr
    # Article 004 writes w_ij from input i to hidden j, and the error term δ = −∂E/∂z.
    assert out.stdout.strip() == r"- \delta^{(1)}_{2} x_{3}"


def test_check_passes_and_closes_with_counts(capsys):
    assert cli.main(["check", SEED4]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-1] == "14 passed, 0 failed"
    rows = [line for line in lines if line.startswith(("W1 ", "W2 "))]
    assert len(rows) == 2 and all(row.endswith("ok") for row in rows)
    assert "6 exact" in rows[0]


def test_check_exits_1_when_a_gradient_is_wrong(monkeypatch, capsys):
    original = derive.Derivation.dC_dz

    def broken(self, layer, i):
        value = original(self, layer, i)
        return 2 * value if layer == 1 and i == 1 else value

    monkeypatch.setattr(derive.Derivation, "dC_dz", broken)
    assert cli.main(["check", SEED4]) == 1
    out = capsys.readouterr().out
    assert "FAILED" in out
    assert out.strip().splitlines()[-1].endswith("failed") and " 0 failed" not in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("grad", SEED4, "W3[1,1]"), "layers are numbered 1 to 2"),
        (("grad", SEED4, "b1[1]"), "no biases"),
        (("grad", "missing.toml", "W1[1,1]"), "missing.toml: no such file"),
        (("check", SEED4, "--points", "0"), "--points"),
        (("frobnicate", SEED4), "unknown verb 'frobnicate'"),
    ],
)
def test_bad_input_exits_2_with_one_line(args, message):
    out = run(*args)
    assert out.returncode == 2
    assert out.stdout == ""
    assert out.stderr.count("\n") == 1 and out.stderr.startswith("derive: error:")
    assert message in out.stderr and "Traceback" not in out.stderr


def test_examples_check_clean(example):
    from derive.check import check

    report = check(derive.derive(example))
    assert report.failed == 0
    assert all(p.symbolic == "exact" for p in report.parameters)
    assert max(p.fd_error for p in report.parameters) < 1e-8
