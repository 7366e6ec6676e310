"""derive's command line run inside the test process, answering as ``subprocess.run`` would.

Starting Python for each command costs about a second of imports (sympy, numpy, jinja2); the
``derive`` script is ``derive.cli.run``, which is ``cli.main`` plus ``sys.exit``. So the CLI tests call
``cli.main`` here and get what a separate process would have shown: the exit code (argparse's
``SystemExit`` for ``--help`` and ``--version`` included), stdout and stderr as UTF-8 bytes through
strict and backslash-replacing text layers like the interpreter's own, warnings written to stderr under
Python's default filters, and, with ``text=True``, the newline translation of ``subprocess``. What only a
real process can show (a closed pipe, an unwritable stderr, the installed script, hash seeds) is tested
in tests/test_cli_smoke.py and the few tests that keep a subprocess.
"""

from __future__ import annotations

import io
import os
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

from derive import cli

# The categories Python ignores by default (outside __main__); every other warning reaches stderr.
_IGNORED = (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning)


@dataclass(frozen=True)
class Ran:
    """What ``subprocess.run(..., capture_output=True)`` returns, for one in-process command."""

    args: tuple[str, ...]
    returncode: int
    stdout: str | bytes
    stderr: str | bytes


def _stream(errors: str) -> io.TextIOWrapper:
    """A text stream over bytes, UTF-8 like the interpreter's stdout (strict) or stderr (backslashreplace)."""
    return io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors=errors, write_through=True)


def _decoded(data: bytes) -> str:
    """Bytes read back as ``subprocess.run(text=True)`` does: strict UTF-8, universal newlines."""
    return data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")


def _exit_status(code: object, err: io.TextIOWrapper) -> int:
    """The status the interpreter gives ``sys.exit(code)``, printing a message as it would."""
    if code is None or isinstance(code, int):
        return code or 0
    err.write(f"{code}\n")
    return 1


def run_cli(*args: str | bytes, cwd: str | Path | None = None, text: bool = True) -> Ran:
    """``derive ARGS`` run in ``cwd``: its exit code and output, as from a separate process.

    A bytes argument is decoded as the interpreter decodes ``sys.argv`` (UTF-8 with surrogateescape).
    """
    argv = tuple(os.fsdecode(a) for a in args)
    out, err = _stream("strict"), _stream("backslashreplace")
    saved = sys.stdout, sys.stderr, os.getcwd(), os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "80"  # argparse's width when stdout is a pipe
    try:
        if cwd is not None:
            os.chdir(cwd)
        sys.stdout, sys.stderr = out, err
        with warnings.catch_warnings(record=True) as caught:
            warnings.resetwarnings()  # Python's defaults, not pytest's: each warning once, on stderr
            for category in _IGNORED:
                warnings.simplefilter("ignore", category)
            try:
                code = cli.main(list(argv))
                sys.stdout.flush()
            except SystemExit as done:  # argparse ends --help and --version itself
                code = _exit_status(done.code, err)
        for w in caught:
            err.write(warnings.formatwarning(w.message, w.category, w.filename, w.lineno, w.line))
    finally:
        sys.stdout, sys.stderr = saved[0], saved[1]
        os.chdir(saved[2])
        if saved[3] is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = saved[3]
    stdout, stderr = out.buffer.getvalue(), err.buffer.getvalue()  # type: ignore[attr-defined]
    if text:
        return Ran(argv, code, _decoded(stdout), _decoded(stderr))
    return Ran(argv, code, stdout, stderr)
