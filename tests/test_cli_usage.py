"""The command line as a finished tool: usage, help, version, suggestions, and an exit code for every ending."""

from __future__ import annotations

import glob
import os
import re
import shlex
import stat
import tomllib
from pathlib import Path

import pytest
from conftest import ROOT
from inprocess import Ran, run_cli

import derive
from derive import cli

SEED4 = str(ROOT / "examples" / "seed004.toml")
VERBS = ["grad", "check", "render", "verify", "codegen"]


def run(*args: str, cwd: Path = ROOT) -> Ran:
    return run_cli(*args, cwd=cwd)


def one_error_line(out: Ran) -> str:
    """The single ``derive: error:`` line of a bad-input exit."""
    assert "Traceback" not in out.stderr, out.stderr
    assert out.returncode == 2, (out.returncode, out.stderr)
    assert out.stdout == ""
    lines = out.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("derive: error: "), out.stderr
    assert lines[0].count("derive:") == 1  # one prefix, not "derive: error: derive: …"
    return lines[0]


def test_version_comes_from_one_place():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["name"] == "derive-backprop"
    assert pyproject["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "derive.about.__version__"}
    assert re.fullmatch(r"\d+\.\d+\.\d+", derive.__version__)
    out = run("--version")
    assert (out.returncode, out.stdout) == (0, f"derive {derive.__version__} (derive-backprop)\n")


def test_a_bare_derive_shows_usage_and_the_verbs():
    out = run()
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.startswith("usage: derive ")
    for verb in VERBS:
        assert re.search(rf"^\s+{verb}\s+\S", out.stderr, re.M), verb
    assert "exit codes: 0 success, 1 failed, 2 bad input" in out.stderr


@pytest.mark.parametrize("verb", VERBS)
def test_each_verb_has_help_with_description_example_defaults_and_exit_codes(verb):
    out = run(verb, "--help")
    assert out.returncode == 0, out.stderr
    text = out.stdout
    description = text.split("\n\n")[1]
    assert description == cli.VERBS[verb].summary[0].upper() + cli.VERBS[verb].summary[1:] + "."
    assert re.search(rf"^examples:\n  derive {verb} examples/seed00\d\.toml", text, re.M)
    assert "exit codes: 0 success" in text and "2 bad input" in text and "3 internal error" in text
    defaults = {"check": ["(default: 3)", "(default: 0)"], "render": ["(default: md,tex,html)", "(default: en)"]}
    defaults |= {"grad": ["(default: auto)"], "verify": ["(default: en)"], "codegen": ["(default: standard output)"]}
    for default in defaults[verb]:
        assert default in " ".join(text.split()), default


HELP_EXAMPLES = [(verb, example) for verb in VERBS for example in cli.VERBS[verb].examples]


@pytest.mark.parametrize(("verb", "example"), HELP_EXAMPLES, ids=[example for _, example in HELP_EXAMPLES])
def test_every_example_in_the_help_runs(verb, example, tmp_path):
    """The examples printed by ``--help`` are real commands: each exits 0 from the repository."""
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    words = [w for word in shlex.split(example)[1:] for w in sorted(glob.glob(word, root_dir=tmp_path)) or [word]]
    if verb == "check" and "--no-torch" not in words:
        words.append("--no-torch")  # the same checks, without a second torch import
    out = run(*words, cwd=tmp_path)
    assert out.returncode == 0, (example, out.stderr[-500:])


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("chek", SEED4), "unknown verb 'chek' (did you mean 'check'?); choose from grad, check, render, verify"),
        (("rendr", SEED4), "unknown verb 'rendr' (did you mean 'render'?)"),
        (("check", SEED4, "--pionts", "3"), "check: unrecognized arguments: --pionts (did you mean '--points'?) 3"),
        (("check", SEED4, "--no-tocrh"), "(did you mean '--no-torch'?)"),
        (("render", SEED4, "-o", "x", "--fromat", "md"), "render: unrecognized arguments: --fromat (did you mean"),
        (("render", SEED4, "-o", "x", "--format", "md,pfd"), "--format: unknown value 'pfd' (did you mean 'pdf'?)"),
        (("render", SEED4, "-o", "x", "--lang", "zn"), "--lang: unknown value 'zn' (did you mean 'zh'?)"),
        (("grad", SEED4, "W1[1,1]", "--form", "clsed"), "grad: --form: unknown value 'clsed' (did you mean 'closed'?)"),
        (("check", SEED4, "--zzzzzz"), "check: unrecognized arguments: --zzzzzz"),
    ],
)
def test_mistakes_get_one_line_and_a_suggestion(args, expected):
    line = one_error_line(run(*args))
    assert expected in line
    if "did you mean" not in expected:
        assert "did you mean" not in line


def test_internal_error_exits_3_with_one_line_and_debug_shows_the_traceback(monkeypatch, capsys):
    def broken(self, name, form="auto"):
        raise ZeroDivisionError("an invented bug")

    monkeypatch.setattr(derive.Derivation, "gradient", broken)
    assert cli.main(["grad", SEED4, "W1[1,1]"]) == 3
    err = capsys.readouterr().err
    assert err.splitlines() == [
        f"derive: internal error: ZeroDivisionError: an invented bug (a bug in derive {derive.__version__};"
        " run again with --debug for the traceback)"
    ]
    for argv in (["--debug", "grad", SEED4, "W1[1,1]"], ["grad", SEED4, "W1[1,1]", "--debug"]):
        assert cli.main(argv) == 3
        err = capsys.readouterr().err
        assert err.startswith("Traceback (most recent call last):") and "ZeroDivisionError: an invented bug" in err


def test_debug_is_an_option_of_verify_not_a_formula(capsys):
    assert cli.main(["verify", "--debug", SEED4, "delta2", r"(y-\hat y)\hat y(1-\hat y)"]) == 0
    assert capsys.readouterr().out.startswith("right:")


def test_io_failures_name_the_path(tmp_path):
    line = one_error_line(run("codegen", SEED4, "-o", "/proc/derive-test/grads.py"))
    assert line == "derive: error: -o: the directory '/proc/derive-test' does not exist"
    line = one_error_line(run("render", SEED4, "-o", "/proc/self/derive-out"))
    assert line.startswith("derive: error: /proc/self/derive-out: cannot create the output directory (")
    line = one_error_line(run("codegen", SEED4, "-o", "/sys/derive-test.py"))
    assert line.startswith("derive: error: -o: cannot write /sys/derive-test.py (")
    line = one_error_line(run("check", str(tmp_path)))
    assert line == f"derive: error: {tmp_path}: is a directory, not a spec file"
    line = one_error_line(run("grad", "/dev/zero", "W1[1,1]"))
    assert line == "derive: error: /dev/zero: is not a regular file"
    blocked = tmp_path / "blocked.toml"
    blocked.write_text((ROOT / "examples" / "seed004.toml").read_text(encoding="utf-8"), encoding="utf-8")
    blocked.chmod(0)
    if os.geteuid() != 0:  # root reads any file
        line = one_error_line(run("check", str(blocked)))
        assert line == f"derive: error: {blocked}: cannot be read (permission denied)"


def test_an_oserror_from_deep_inside_is_one_line_naming_the_file(monkeypatch, tmp_path, capsys):
    def full(path, text):
        raise OSError(28, "No space left on device", str(path))

    monkeypatch.setattr("derive.cli.write_atomic", full)
    target = tmp_path / "derive-full.py"
    assert cli.main(["codegen", SEED4, "-o", str(target)]) == 2
    assert capsys.readouterr().err == f"derive: error: -o: cannot write {target} (No space left on device)\n"
    assert not target.exists()


def test_render_names_the_file_it_cannot_write(monkeypatch, tmp_path, capsys):
    def full(path, text):
        raise OSError(28, "No space left on device", f"{path.parent}/.{path.name}.tmp")

    monkeypatch.setattr("derive.present.render.write_atomic", full)
    assert cli.main(["render", SEED4, "-o", str(tmp_path), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err == f"derive: error: {tmp_path / 'seed004.md'}: cannot write (No space left on device)\n"
    assert list(tmp_path.iterdir()) == []


def test_the_torch_hint_installs_the_cpu_build_under_our_name(monkeypatch, capsys):
    monkeypatch.setattr("derive.numeric.autograd.version", lambda: None)
    assert cli.main(["check", SEED4]) == 0
    out = capsys.readouterr().out
    assert (
        "torch autograd: not installed (pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu)"
        in out
    )
    assert "derive[" not in out


def test_output_onto_a_device_fifo_or_link_is_refused_or_written_through(tmp_path, capsys):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    assert cli.main(["codegen", SEED4, "-o", str(fifo)]) == 2
    assert (
        capsys.readouterr().err == f"derive: error: {fifo}: is not a regular file; derive writes only regular files\n"
    )
    assert stat.S_ISFIFO(fifo.stat().st_mode)  # still a FIFO, not replaced by a file
    if os.geteuid() == 0:  # a copy of /dev/null, so that a regression cannot replace the machine's own
        device = tmp_path / "null"
        os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 3))
        assert cli.main(["codegen", SEED4, "-o", str(device)]) == 2
        assert stat.S_ISCHR(device.stat().st_mode)
    real = tmp_path / "real.py"
    real.write_text("old\n", encoding="utf-8")
    link = tmp_path / "link.py"
    link.symlink_to(real)
    assert cli.main(["codegen", SEED4, "-o", str(link)]) == 0
    assert link.is_symlink() and "def gradients(" in real.read_text(encoding="utf-8")


def test_a_negative_seed_is_bad_input():
    assert one_error_line(run("check", SEED4, "--seed", "-1")) == (
        "derive: error: --seed: must be a whole number from 0 to 2^63 - 1"
    )


def test_options_are_not_abbreviated():
    line = one_error_line(run("check", SEED4, "--point", "3"))
    assert line == "derive: error: check: unrecognized arguments: --point (did you mean '--points'?) 3"


def test_two_specs_with_one_name_are_refused_before_writing(tmp_path):
    other = tmp_path / "other.toml"
    other.write_text((ROOT / "examples" / "seed004.toml").read_text(encoding="utf-8"), encoding="utf-8")
    line = one_error_line(run("render", SEED4, str(other), "-o", str(tmp_path / "out")))
    assert line == f"derive: error: {SEED4} and {other} both have the name 'seed004': their documents would overwrite"
    assert not (tmp_path / "out").exists()


def test_pdf_without_tex_is_refused_before_the_work(monkeypatch, tmp_path, capsys):
    import shutil as shutil_module

    real = shutil_module.which
    monkeypatch.setattr("derive.present.pdf.shutil.which", lambda name: None if name == "xelatex" else real(name))
    out = tmp_path / "out"
    assert cli.main(["render", SEED4, "-o", str(out), "--lang", "en,zh", "--format", "md,pdf"]) == 2
    assert capsys.readouterr().err == (
        "derive: error: --format pdf: xelatex not found; install the Debian package texlive-xetex\n"
    )
    assert not out.exists()


def test_a_formula_list_with_unreadable_entries_says_so_on_stderr(tmp_path):
    listing = tmp_path / "list.md"
    listing.write_text("- `delta2` $(y-\\hat y)\\hat y(1-\\hat y)$\n- `delta2` $\\frac{1}{0}$\n", encoding="utf-8")
    out = run("verify", SEED4, "--file", str(listing))
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert out.stdout.rstrip().endswith("1 passed, 0 failed, 1 not understood")
    assert out.stderr == f"derive: error: {listing}: 1 of 2 formulas not understood (the table says why)\n"
