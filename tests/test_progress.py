"""Progress bars: on stderr and only on a terminal, named after their phase, never on stdout, off with --quiet.

The command runs in its own process with stderr on a pseudo-terminal (``pty``) of 120 columns and stdout on a
pipe, and ``DERIVE_PROGRESS_DELAY=0`` so that even a small network's fast phases draw their bars; the same
command with stderr on a pipe gives the same stdout, byte for byte, and nothing on stderr. The module's own
behaviour (phases, tracking, the switch, the label) is tested in process on a stream that says it is a terminal.
"""

from __future__ import annotations

import fcntl
import io
import os
import pty
import struct
import subprocess
import sys
import termios
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import ROOT

from derive import cli, progress

SEED4 = str(ROOT / "examples" / "seed004.toml")
SCRIPT = Path(sys.executable).with_name("derive")
DERIVE = [str(SCRIPT)] if SCRIPT.is_file() else [sys.executable, "-m", "derive"]
FORMULA = ("delta2", "(y-\\hat y)\\hat y(1-\\hat y)")  # right for seed004 (the verify help's example)


def environment(**changes: str | None) -> dict[str, str]:
    """This process's environment without CI, on an xterm, bars drawn at once; ``changes`` (None: removed)."""
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "TERM", "DERIVE_PROGRESS_DELAY")}
    env |= {"TERM": "xterm", "DERIVE_PROGRESS_DELAY": "0"}
    for key, value in changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def run(*args: str, terminal: bool, cwd: Path = ROOT, **env: str | None) -> tuple[int, bytes, bytes]:
    """``derive *args``: exit code, stdout (a pipe) and stderr, on a 120-column pseudo-terminal or a pipe."""
    if not terminal:
        done = subprocess.run([*DERIVE, *args], capture_output=True, cwd=cwd, env=environment(**env), timeout=300)
        return done.returncode, done.stdout, done.stderr
    main, side = pty.openpty()
    fcntl.ioctl(side, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))
    seen = bytearray()

    def read() -> None:  # the terminal read as it is written, so that a long bar never blocks the command
        while True:
            try:
                chunk = os.read(main, 65536)
            except OSError:  # EIO: the command has ended and closed its side
                return
            if not chunk:
                return
            seen.extend(chunk)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        proc = subprocess.Popen(
            [*DERIVE, *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=side,
            cwd=cwd,
            env=environment(**env),
        )
        os.close(side)
        out, _ = proc.communicate(timeout=300)
        reader.join(timeout=60)
    finally:
        os.close(main)
    return proc.returncode, out, bytes(seen)


def shown(err: bytes) -> str:
    """What the terminal was sent, as text."""
    return err.decode("utf-8", errors="replace")


# ------------------------------------------------------------------------------- the command, end to end
def test_render_names_each_phase_on_the_terminal_and_prints_the_same(tmp_path):
    args = ("render", SEED4, "-o", "out", "--format", "md,tex")
    code, out, err = run(*args, terminal=True, cwd=tmp_path)
    files = {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir()}
    assert code == 0, shown(err)
    text = shown(err)
    for phase in ("checking", "building the document", "rendering seed004.md", "rendering seed004.tex"):
        assert f"seed004: {phase}" in text, text
    assert "\r" in text and "(00:0" in text  # drawn in place, with the time taken
    assert "Traceback" not in text
    assert b"checking" not in out and b"\r" not in out and b"\x1b" not in out
    assert out.decode().splitlines() == [f"out/{name}" for name in ("seed004.md", "seed004.tex", "seed004.svg")]

    piped = run(*args, terminal=False, cwd=tmp_path)
    assert piped == (0, out, b"")  # stdout byte for byte, and no bar where stderr is no terminal
    assert {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir()} == files

    assert run(*args, "--quiet", terminal=True, cwd=tmp_path) == (0, out, b"")


def test_verify_names_its_steps_and_keeps_its_answer():
    code, out, err = run("verify", SEED4, *FORMULA, terminal=True)
    assert code == 0, shown(err)
    for phase in ("sample points", "reading the formula", "comparing at the points", "exact check"):
        assert f"verifying: {phase}" in shown(err)
    assert b"verifying" not in out
    assert run("verify", SEED4, *FORMULA, terminal=False) == (0, out, b"")
    assert run("verify", "--quiet", SEED4, *FORMULA, terminal=True) == (0, out, b"")
    assert run("verify", SEED4, *FORMULA, "--quiet", terminal=True) == (0, out, b"")


def test_check_names_each_column_and_keeps_its_report():
    code, out, err = run("check", SEED4, "--no-torch", terminal=True)
    assert code == 0, shown(err)
    for column in ("the closed forms' numbers", "sympy's derivatives", "finite differences", "generated NumPy"):
        assert f"checking: {column}" in shown(err)
    assert b"checking" not in out
    quiet = run("check", SEED4, "--no-torch", "--quiet", terminal=True)
    assert quiet == (0, out, b"")  # neither bars nor the times line
    piped = run("check", SEED4, "--no-torch", terminal=False)
    assert piped[:2] == (0, out) and piped[2].decode().startswith("time: closed forms ")


def test_a_list_of_formulas_counts_them():
    formulas = str(ROOT / "examples" / "formulas" / "seed001.md")
    spec = str(ROOT / "examples" / "seed001.toml")
    code, out, err = run("verify", spec, "--file", formulas, terminal=True)
    assert "verifying formulas:" in shown(err) and "verifying formulas" not in out.decode()
    assert run("verify", spec, "--file", formulas, terminal=False) == (code, out, b"")


@pytest.mark.parametrize("env", [{"CI": "true"}, {"TERM": "dumb"}], ids=["CI", "TERM=dumb"])
def test_no_bars_in_a_ci_log_or_on_a_dumb_terminal(env):
    code, out, err = run("verify", SEED4, *FORMULA, terminal=True, **env)
    assert (code, err) == (0, b"")
    assert out == run("verify", SEED4, *FORMULA, terminal=False)[1]


def test_every_verb_takes_quiet(tmp_path, capsys):
    assert cli.main(["grad", SEED4, "W2[1,2]", "--quiet"]) == 0
    assert cli.main(["check", SEED4, "--no-torch", "--no-symbolic", "--points", "1", "--quiet"]) == 0
    assert cli.main(["codegen", SEED4, "--quiet", "-o", str(tmp_path / "grads.py")]) == 0
    assert cli.main(["verify", SEED4, "--quiet", *FORMULA]) == 0
    assert cli.main(["--quiet", "verify", SEED4, *FORMULA]) == 0
    assert cli.main(["render", SEED4, "-o", str(tmp_path), "--format", "md", "--quiet"]) == 0
    assert capsys.readouterr().err == ""
    assert not progress.active()  # the command's switch is the command's: the Python API is silent again


# ------------------------------------------------------------------------------------ the module itself
class Terminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


@contextmanager
def on_terminal(delay: str = "0") -> Iterator[Terminal]:
    """stderr a terminal, outside CI, bars drawn after ``delay`` seconds, switched on inside the block.

    Entered in the test's body: pytest's own capture sets sys.stderr again between a fixture and the test.
    """
    stream = Terminal()
    with pytest.MonkeyPatch.context() as patch, progress.showing(True):
        patch.setattr(sys, "stderr", stream)
        patch.delenv("CI", raising=False)
        patch.setenv("TERM", "xterm")
        patch.setenv("DERIVE_PROGRESS_DELAY", delay)
        yield stream


def test_bars_are_off_unless_asked():
    with on_terminal() as terminal:
        assert progress.active()
        with progress.showing(False):
            assert not progress.active()
            with progress.phase("check") as step:
                step(3)
        assert terminal.getvalue() == ""
        assert progress.active()
        assert progress.configure(False) is True and progress.configure(True) is False


def test_a_phase_draws_its_name_and_count_and_erases_itself():
    with on_terminal() as terminal:
        with progress.about("mnist"), progress.phase("finite_differences", total=4) as step:
            step()
            step(2)
        text = terminal.getvalue()
    assert "mnist: checking: finite differences:" in text and "/4 [" in text  # redrawn at most every 0.1 s
    assert text.endswith("\r")  # erased: the terminal is left as it was
    assert progress.name("compiling", file="a.pdf") == "compiling a.pdf"  # the label ended with its block


def test_track_gives_every_item_in_order_and_counts_them():
    with on_terminal() as terminal:
        assert list(progress.track(["W1[1,1]", "W1[1,2]", "b1[1]"], "gradients")) == ["W1[1,1]", "W1[1,2]", "b1[1]"]
        assert "deriving gradients: " in terminal.getvalue() and "/3 [" in terminal.getvalue()
    with on_terminal(delay="0.05") as terminal:
        items = (k for k in range(5))  # no length: the steps are counted
        seen = [k for k in progress.track(items, "gradients") if k != 2 or shows(terminal, "gradients: 2 (00:")]
    assert seen == [0, 1, 2, 3, 4]  # and at the third, the bar said two were done


def test_off_they_cost_nothing_and_draw_nothing(monkeypatch):
    monkeypatch.setattr(sys, "stderr", Terminal())
    assert not progress.active()  # the Python API's default
    items = [1, 2, 3]
    assert type(progress.track(items, "gradients")) is type(iter(items))  # the list's own iterator
    with progress.phase("check") as step:
        step(5)
    assert sys.stderr.getvalue() == ""


def test_a_fast_phase_shows_nothing():
    with on_terminal(delay="600") as terminal:
        with progress.phase("document") as step:
            step()
        assert terminal.getvalue() == ""


def shows(terminal: Terminal, text: str) -> bool:
    """Whether ``text`` is drawn within a minute (a bar redrawn between steps, on a busy machine)."""
    drawn = threading.Event()
    for _ in range(600):
        if text in terminal.getvalue():
            return True
        drawn.wait(0.1)
    return False


def test_a_phase_without_steps_keeps_showing_its_time():
    """One long step (a PDF build): the bar appears once the delay has passed, while the step still runs."""
    with on_terminal(delay="0.05") as terminal, progress.phase("compiling", file="mnist.pdf"):
        assert shows(terminal, "compiling mnist.pdf (00:")
    assert all(t.name != "derive-progress" for t in threading.enumerate())  # its redrawing ended with it


def test_a_failing_phase_erases_its_bar_and_raises():
    with on_terminal() as terminal:
        with pytest.raises(ValueError, match="boom"), progress.phase("exact"):
            raise ValueError("boom")
        assert "verifying: exact check" in terminal.getvalue() and terminal.getvalue().endswith("\r")
    assert all(t.name != "derive-progress" for t in threading.enumerate())


def test_ci_and_dumb_terminals_and_pipes_get_no_bars(monkeypatch):
    with on_terminal():
        assert progress.active()
        monkeypatch.setenv("CI", "true")
        assert not progress.active()
        monkeypatch.setenv("CI", "false")
        assert progress.active()
        monkeypatch.setenv("TERM", "dumb")
        assert not progress.active()
        monkeypatch.setenv("TERM", "xterm")
        monkeypatch.setattr(sys, "stderr", io.StringIO())
        assert not progress.active()


def test_every_phase_has_short_words_and_an_unknown_one_is_refused():
    for key, words in progress.PHASES.items():
        assert words == words.strip() and len(words) <= 40 and words[0].islower(), key
    with pytest.raises(KeyError):
        progress.phase("nothing like it").__enter__()
    with pytest.raises(KeyError):
        progress.track([], "nothing like it")
