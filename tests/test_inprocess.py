"""tests/inprocess.py answers as a separate process would, so that the CLI tests built on it lose nothing.

tests/test_cli_smoke.py compares it with the real command on a few invocations; these tests pin the
parts a real command rarely shows: warnings, encoding errors, ``sys.exit`` forms, newlines, and a
process state left as it was found.
"""

from __future__ import annotations

import os
import sys
import warnings

import pytest
from conftest import ROOT
from inprocess import run_cli


@pytest.fixture
def main_is(monkeypatch):
    """Replace derive.cli.main, which run_cli calls, by ``fake``."""

    def use(fake):
        monkeypatch.setattr("derive.cli.main", fake)

    return use


def test_output_exit_code_and_arguments(main_is):
    seen = []

    def fake(argv):
        seen.append(argv)
        print("out é")
        print("err", file=sys.stderr)
        return 7

    main_is(fake)
    ran = run_cli("grad", b"x\xff")  # bytes arguments decoded as the interpreter decodes sys.argv
    assert seen == [["grad", "x\udcff"]]
    assert (ran.returncode, ran.stdout, ran.stderr) == (7, "out é\n", "err\n")
    assert run_cli("grad", text=False).stdout == "out é\n".encode()


def test_warnings_reach_stderr_as_under_python_defaults(main_is):
    def fake(argv):
        warnings.warn("overflow", RuntimeWarning, stacklevel=1)
        warnings.warn("old", DeprecationWarning, stacklevel=1)  # hidden by default outside __main__
        return 0

    main_is(fake)
    err = run_cli().stderr
    assert "RuntimeWarning: overflow" in err and "DeprecationWarning" not in err


def test_stdout_is_strict_and_stderr_replaces(main_is):
    def unencodable(argv):
        print("\udcff", file=sys.stderr)
        print("\udcff")
        return 0

    main_is(unencodable)
    with pytest.raises(UnicodeEncodeError):  # as print to a real UTF-8 stdout raises
        run_cli()

    def only_stderr(argv):
        print("\udcff", file=sys.stderr)
        return 0

    main_is(only_stderr)
    assert run_cli().stderr == "\\udcff\n"


@pytest.mark.parametrize(("code", "status", "err"), [(None, 0, ""), (0, 0, ""), (2, 2, ""), ("bye", 1, "bye\n")])
def test_sys_exit_gives_the_status_the_interpreter_gives(main_is, code, status, err):
    def fake(argv):
        sys.exit(code)

    main_is(fake)
    ran = run_cli()
    assert (ran.returncode, ran.stderr) == (status, err)


def test_text_mode_translates_newlines_as_subprocess_does(main_is):
    def fake(argv):
        sys.stdout.write("a\r\nb\rc\n")
        return 0

    main_is(fake)
    assert run_cli().stdout == "a\nb\nc\n"
    assert run_cli(text=False).stdout == b"a\r\nb\rc\n"


def test_the_process_is_left_as_it_was(main_is, tmp_path):
    def fake(argv):
        print(os.getcwd(), os.environ["COLUMNS"])
        raise KeyError("escapes")  # derive's main catches everything; a fake may not

    main_is(fake)
    before = (sys.stdout, sys.stderr, os.getcwd(), os.environ.get("COLUMNS"))
    with pytest.raises(KeyError):
        run_cli(cwd=tmp_path)
    assert (sys.stdout, sys.stderr, os.getcwd(), os.environ.get("COLUMNS")) == before

    def where(argv):
        print(os.getcwd(), os.environ["COLUMNS"])
        return 0

    main_is(where)
    assert run_cli(cwd=tmp_path).stdout == f"{tmp_path} 80\n"
    assert run_cli(cwd=ROOT).stdout == f"{ROOT} 80\n"
