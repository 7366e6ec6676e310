"""The README is true: every spec block loads and checks, every ``derive …`` command it shows runs as it says.

A command runs in a scratch folder holding a copy of ``examples/`` and the README's spec as ``testnet.toml``
(the name the README gives it), through ``derive.cli.main`` in this process (tests/inprocess.py; the real
command is tested in tests/test_cli_smoke.py). It must exit 0, unless its line ends in
``# wrong on purpose: exit N``. A command that makes PDFs is marked slow.
"""

from __future__ import annotations

import glob
import re
import shlex
import shutil
from pathlib import Path

import pytest
from conftest import ROOT
from inprocess import run_cli

import derive
from derive.check import check

README = (ROOT / "README.md").read_text(encoding="utf-8")
FENCES = re.findall(r"^```(\w*)\n(.*?)^```$", README, re.S | re.M)
TOML_BLOCKS = [body for lang, body in FENCES if lang == "toml" and "[[formula]]" not in body]  # specs
FORMULA_LISTS = [body for lang, body in FENCES if lang == "toml" and "[[formula]]" in body]
ON_PURPOSE = re.compile(r"\s+#\s*wrong on purpose: exit (\d)\s*$")


def commands() -> list[tuple[str, int]]:
    """Every runnable ``derive …`` command: lines of shell blocks, and code spans naming a spec."""
    found = []
    for lang, body in FENCES:
        if lang not in ("sh", ""):
            continue
        for line in body.splitlines():
            for part in line.split("&&"):
                part = part.strip()
                if part.startswith(("derive ", ".venv/bin/derive ")):
                    found.append(part)
    prose = re.sub(r"^```.*?^```$", "", README, flags=re.S | re.M)
    for span in re.findall(r"`(derive [^`]+)`", prose):
        if "…" not in span and (".toml" in span or span.startswith("derive --")) and not re.search(r"[A-Z]{3}", span):
            found.append(span)
    out = []
    for command in dict.fromkeys(found):  # each once, in the README's order
        expected = ON_PURPOSE.search(command)
        command = ON_PURPOSE.sub("", command)
        out.append((command, int(expected.group(1)) if expected else 0))
    return out


COMMANDS = commands()


def test_the_readme_has_one_spec_and_one_formula_list():
    assert len(TOML_BLOCKS) == 1 and len(FORMULA_LISTS) == 1


def test_the_readme_shows_the_commands_this_test_runs():
    shown = [c for c, _ in COMMANDS]
    assert shown[0] == ".venv/bin/derive render examples/seed004.toml -o out --lang en,zh --format md,tex,html,pdf"
    assert "derive check testnet.toml" in shown and "derive --version" in shown
    assert sum(code == 1 for _, code in COMMANDS) == 1  # the one verify example that is wrong on purpose
    assert len(COMMANDS) >= 10


def test_the_two_commands_at_the_top():
    top = [body.strip() for lang, body in FENCES[:2]]
    assert top[0].startswith("bash .ci/setup && ")
    assert top[1] == ".venv/bin/python -m pytest -q"
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "bash .ci/setup\n" in ci and f"\n{top[1]}\n" in ci and top[0].split(" && ")[1] in ci


@pytest.mark.parametrize("block", TOML_BLOCKS)
def test_every_spec_block_loads_and_checks(block):
    net = derive.loads(block, source="README")
    assert net.example is not None  # the README's example is complete: every parameter array is given
    assert set(net.example.params) == set(net.shapes())
    report = check(derive.derive(net), use_torch=False)
    assert report.failed == 0 and report.passed > 0


@pytest.mark.parametrize("listing", FORMULA_LISTS)
def test_every_formula_list_block_is_right_for_article_004(listing, tmp_path, capsys):
    from derive import cli

    path = tmp_path / "list.toml"
    path.write_text(listing, encoding="utf-8")
    assert cli.main(["verify", str(ROOT / "examples" / "seed004.toml"), "--file", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.endswith(f"{listing.count('[[formula]]')} passed, 0 failed\n")


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("readme")
    shutil.copytree(ROOT / "examples", folder / "examples")
    (folder / "testnet.toml").write_text(TOML_BLOCKS[0], encoding="utf-8")
    return folder


def _param(command: str, expected: int):
    """One README command as a test case, marked slow when it compiles PDFs."""
    compiles = re.search(r"--format[ =]\S*\bpdf\b", command)
    return pytest.param(command, expected, marks=pytest.mark.slow if compiles else (), id=command)


@pytest.mark.parametrize(("command", "expected"), [_param(c, e) for c, e in COMMANDS])
def test_every_command_runs_as_the_readme_says(command, expected, scratch):
    words = shlex.split(command)
    words = [w for word in words[1:] for w in (sorted(glob.glob(word, root_dir=scratch)) or [word])]
    done = run_cli(*words, cwd=scratch)
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    assert done.returncode == expected, (done.returncode, done.stdout[-2000:], done.stderr[-2000:])
    if words[0] == "verify" and "--file" not in words:
        assert done.stdout.startswith("wrong:" if expected else "right:"), done.stdout
    if words[0] == "render":
        out = scratch / words[words.index("-o") + 1]
        for path in done.stdout.split():
            assert Path(scratch, path).resolve().parent == out.resolve() and Path(scratch, path).stat().st_size > 0
