"""End to end: the real ``derive`` command in its own process, once per verb and for each way it can end.

Every other CLI test calls ``derive.cli.main`` inside the test process (tests/inprocess.py), which is
the same code without the second of imports a process costs. These few start the installed script, so
that the entry point, ``sys.exit`` with the exit code, and what only a process can show (a reader that
goes away, an unwritable stderr) are tested too.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from conftest import ROOT
from inprocess import run_cli

import derive

SEED4 = str(ROOT / "examples" / "seed004.toml")
SCRIPT = Path(sys.executable).with_name("derive")  # .venv/bin/derive, the console script pyproject declares
# The script when derive is installed (as .ci/setup does); else the same entry point through python -m.
DERIVE = [str(SCRIPT)] if SCRIPT.is_file() else [sys.executable, "-m", "derive"]


def derive_command(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([*DERIVE, *args], capture_output=True, text=True, cwd=cwd, timeout=300)


def assert_same_in_process(done: subprocess.CompletedProcess) -> None:
    """The other CLI tests' way (tests/inprocess.py) gives the command's answer byte for byte."""
    inside = run_cli(*done.args[len(DERIVE) :])
    assert (inside.returncode, inside.stdout, inside.stderr) == (done.returncode, done.stdout, done.stderr)


def test_grad_and_version_print_one_line_each():
    done = derive_command("grad", SEED4, "W2[1,2]", "--form", "closed")
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == "a1[2]*a2[1]*(1 - a2[1])*(a2[1] - y[1])\n"
    version = derive_command("--version")
    assert (version.returncode, version.stdout) == (0, f"derive {derive.__version__} (derive-backprop)\n")


def test_check_closes_with_its_counts():
    done = derive_command("check", SEED4, "--no-torch")
    assert done.returncode == 0
    assert done.stdout.splitlines()[-1] == "14 passed, 0 failed"
    # stderr has one line: how long each column took (sympy, finite differences, generated NumPy, matrix form)
    assert re.fullmatch(r"time: closed forms [\d.]+ s, sympy diff [\d.]+ s, .*matrix form [\d.]+ s\n", done.stderr)


def test_render_writes_what_output_holds(tmp_path):
    """Markdown in both languages and the picture, byte for byte as committed under output/."""
    done = derive_command("render", SEED4, "-o", str(tmp_path), "--format", "md", "--lang", "en,zh")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # stderr is not a terminal: no progress bars (tests/test_progress.py)
    written = sorted(Path(line).name for line in done.stdout.splitlines())
    assert written == ["seed004.md", "seed004.svg", "seed004.zh.md"]
    for name in written:
        assert (tmp_path / name).read_bytes() == (ROOT / "output" / name).read_bytes(), name


def test_verify_exits_1_for_a_wrong_formula_as_in_process():
    args = ("verify", "--lang", "zh", SEED4, "delta2", r"(\hat y - y)\hat y(1-\hat y)")
    done = derive_command(*args)
    assert (done.returncode, done.stderr) == (1, "")
    assert done.stdout.startswith("错误：delta2 = ") and "反例" in done.stdout
    assert_same_in_process(done)


def test_help_is_the_same_in_process():
    """argparse wraps help to the terminal's width: 80 columns when stdout is a pipe, as run_cli sets."""
    done = derive_command("render", "--help")
    assert (done.returncode, done.stderr) == (0, "") and "usage: derive render " in done.stdout
    assert_same_in_process(done)


def test_codegen_writes_the_module_to_stdout():
    done = derive_command("codegen", SEED4)
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == (ROOT / "examples" / "article004" / "grads.py").read_text(encoding="utf-8")


def test_bad_input_exits_2_with_one_line():
    done = derive_command("chek", SEED4)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        "derive: error: unknown verb 'chek' (did you mean 'check'?); choose from grad, check, render, verify, codegen\n"
    )
    assert_same_in_process(done)


def test_a_closed_pipe_ends_quietly():
    """``derive check … | head -1`` when the reader has gone before derive writes: no traceback, exit 141."""
    proc = subprocess.Popen(
        [*DERIVE, "check", SEED4, "--no-torch"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader leaves at once
    err = proc.stderr.read().decode()
    assert (proc.wait(timeout=120), err) == (141, "")


def test_a_closed_pipe_for_a_long_output_ends_quietly(tmp_path):
    """The generated module is written in one call: the pipe breaks inside it."""
    command = " ".join(f"'{word}'" for word in DERIVE)
    script = f"{command} codegen {SEED4} | head -c 10 >/dev/null; echo ${{PIPESTATUS[0]}}"
    out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert out.stderr == "" and out.stdout.strip() in ("0", "141")


def test_an_unwritable_stderr_still_gives_the_exit_code():
    with open("/dev/full", "w") as full:
        done = subprocess.run([*DERIVE, "chek", SEED4], stderr=full, cwd=ROOT, timeout=120)
    assert done.returncode == 2
