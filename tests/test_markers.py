"""Every test that compiles LaTeX, drives a browser or builds a wheel is marked ``slow``.

``pytest -m "not slow"`` is the fast loop, and the default run (CI) runs everything. Two nets keep the
marker honest. This file reads the test sources with ``ast`` and finds each test that reaches such work:
itself, through a function of its module, or through a fixture (its own module's or conftest's); a test
it finds must carry the marker (on the function, through a name bound to it, or as the module's
``pytestmark``). conftest.py watches the processes every test starts and fails an unmarked test that
starts a LaTeX engine, a browser, Playwright or a wheel build, which also covers what the sources do not
show (the README's commands, parameters).
"""

from __future__ import annotations

import ast
import functools
import re
import stat
import subprocess
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import conftest
from conftest import LATEX_ENGINES, ROOT, slow_work

TESTS = ROOT / "tests"
COMPILERS = {"compile_pdf": "calls derive.present.pdf.compile_pdf", "sync_playwright": "starts Playwright"}
PDF_FORMATS = re.compile(r"^(?:[a-z]+,)*pdf(?:,[a-z]+)*$")  # a --format value that asks for PDFs
SUBPROCESS = {"run", "Popen", "call", "check_call", "check_output"}

# Tests the scan finds that stop before any engine starts; conftest's watch would fail them if they did.
EXEMPT = {
    "test_pdf.py::test_missing_engine_names_the_package": "shutil.which finds no engine, so compile_pdf stops",
    "test_cli_usage.py::test_pdf_without_tex_is_refused_before_the_work": "xelatex is hidden: refused before work",
}


def _dotted(node: ast.AST) -> str:
    """``pytest.mark.slow`` for that attribute chain, '' for anything else."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = _dotted(node.value)
        return f"{inner}.{node.attr}" if inner else ""
    return ""


def _direct(fn: ast.FunctionDef) -> str | None:
    """Why ``fn`` itself (body and decorators) does slow work, or None."""
    nodes = [n for top in (fn, *fn.decorator_list) for n in ast.walk(top)]
    strings = [n.value for n in nodes if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    for node in nodes:
        name = node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else None
        if name in COMPILERS:
            return COMPILERS[name]
        if isinstance(node, ast.keyword) and node.arg == "pdf" and getattr(node.value, "value", None) is True:
            return "renders with pdf=True"
    if any(PDF_FORMATS.match(s) for s in strings):
        return "asks the CLI for --format pdf"
    starts = any(isinstance(n, ast.Call) and _dotted(n.func) in {f"subprocess.{f}" for f in SUBPROCESS} for n in nodes)
    if starts and LATEX_ENGINES & set(strings):
        return f"starts {sorted(LATEX_ENGINES & set(strings))[0]}"
    if starts and any(a == "-m" and b == "build" for a, b in zip(strings, strings[1:], strict=False)):
        return "builds a wheel"
    return None


@dataclass
class Module:
    """One test module's functions, fixtures and the names that mean ``pytest.mark.slow``."""

    name: str
    functions: dict[str, ast.FunctionDef] = field(default_factory=dict)
    fixtures: set[str] = field(default_factory=set)
    slow_names: set[str] = field(default_factory=lambda: {"pytest.mark.slow"})
    all_slow: bool = False

    @classmethod
    def read(cls, path: Path) -> Module:
        module = cls(path.name)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.FunctionDef):
                module.functions[node.name] = node
                if any(
                    _dotted(d.func if isinstance(d, ast.Call) else d) == "pytest.fixture" for d in node.decorator_list
                ):
                    module.fixtures.add(node.name)
            elif isinstance(node, ast.Assign) and _dotted(node.value) == "pytest.mark.slow":
                module.slow_names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        for node in tree.body:  # pytestmark = mark or [marks], read once the aliases are known
            if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "pytestmark" for t in node.targets):
                marks = node.value.elts if isinstance(node.value, ast.List | ast.Tuple) else [node.value]
                module.all_slow = any(_dotted(m) in module.slow_names for m in marks)
        return module

    def marked_slow(self, name: str) -> bool:
        return self.all_slow or any(_dotted(d) in self.slow_names for d in self.functions[name].decorator_list)


def _reaching(module: Module, shared: Module) -> dict[str, str]:
    """Each function of ``module`` that reaches slow work, with why: directly, by a call, or by a fixture."""
    functions = {**shared.functions, **module.functions}
    fixtures = (shared.fixtures | module.fixtures) & set(functions)
    why = {name: reason for name, fn in functions.items() if (reason := _direct(fn))}
    changed = True
    while changed:
        changed = False
        for name, fn in functions.items():
            if name in why:
                continue
            used = {n.id for top in (fn, *fn.decorator_list) for n in ast.walk(top) if isinstance(n, ast.Name)}
            used |= {a.arg for a in fn.args.args} & fixtures
            via = sorted(u for u in used if u in why and u != name)
            if via:
                why[name], changed = f"{why[via[0]]} (through {via[0]})", True
    return {name: reason for name, reason in why.items() if name in module.functions}


@functools.cache
def scan() -> tuple[dict[str, str], set[str]]:
    """Every test (``file::name``) that reaches slow work with why, and the set of tests marked slow."""
    shared = Module.read(TESTS / "conftest.py")
    reaching, marked = {}, set()
    for path in sorted(TESTS.glob("test_*.py")):
        if path.name == Path(__file__).name:  # the scanner: its words are not work, its one start is its own
            continue
        module = Module.read(path)
        for name, reason in _reaching(module, shared).items():
            if name.startswith("test"):
                reaching[f"{path.name}::{name}"] = reason
        marked |= {f"{path.name}::{name}" for name in module.functions if module.marked_slow(name)}
    return reaching, marked


def test_every_test_that_compiles_latex_drives_a_browser_or_builds_a_wheel_is_marked_slow():
    reaching, marked = scan()
    unmarked = [f"{test}: {why}" for test, why in reaching.items() if test not in marked and test not in EXEMPT]
    assert not unmarked, "add @pytest.mark.slow to:\n" + "\n".join(unmarked)


def test_the_scan_finds_the_known_kinds_of_slow_work():
    """So that the scan cannot quietly find nothing: one test of each kind, direct and indirect."""
    reaching, marked = scan()
    known = {
        "test_pdf.py::test_committed_tex_compiles_and_its_pdf_is_current": "compile_pdf",
        "test_untrusted_spec.py::test_pdf_prints_the_title_and_nothing_it_names": "(through ",
        "test_render.py::test_deeper_network_with_tanh_and_leaky_relu_compiles": "compile_pdf",
        "test_picture.py::test_tikz_compiles": "starts ",
        "test_browser.py::test_committed_document_renders": "(through shared_browser) (through inspect_html)",
        "test_packaging.py::test_the_sdist_carries_what_the_tests_read": "builds a wheel (through dist)",
        "test_cli_usage.py::test_pdf_without_tex_is_refused_before_the_work": "--format pdf",
    }
    for test, why in known.items():
        assert why in reaching.get(test, ""), (test, reaching.get(test))
    assert "test_pdf.py::test_engine_for_each_language" not in reaching  # names an engine, starts nothing
    assert "test_readme.py::test_the_readme_shows_the_commands_this_test_runs" not in reaching
    assert "test_browser.py::test_mathml_page_renders" in marked  # through the module's pytestmark


def test_exemptions_are_still_needed():
    reaching, marked = scan()
    for test in EXEMPT:
        assert test in reaching and test not in marked, f"{test}: drop it from EXEMPT"


def test_the_default_run_includes_the_slow_tests():
    options = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["pytest"]["ini_options"]
    assert any(marker.startswith("slow:") for marker in options["markers"])
    assert "-m" not in options.get("addopts", "").split() and "not slow" not in options.get("addopts", "")


class _Plugins:
    def __init__(self, names: set[str]) -> None:
        self.names = names

    def hasplugin(self, name: str) -> bool:
        return name in self.names


def _config(numprocesses, dist="no", plugins=("xdist",), worker=False) -> SimpleNamespace:
    config = SimpleNamespace(option=SimpleNamespace(numprocesses=numprocesses, dist=dist))
    config.pluginmanager = _Plugins(set(plugins))
    if worker:
        config.workerinput = {"workerid": "gw0"}
    return config


def test_the_default_run_is_parallel_and_an_explicit_n_wins():
    default = _config(None)
    conftest.pytest_cmdline_main(default)
    assert vars(default.option) == {"numprocesses": "auto", "dist": "no"}  # xdist then distributes by test
    for given in (_config(0), _config(3), _config(None, plugins=()), _config(None, worker=True)):
        before = dict(vars(given.option))
        conftest.pytest_cmdline_main(given)
        assert vars(given.option) == before


def test_slow_work_names_engines_browsers_and_builds():
    assert slow_work(["/usr/bin/xelatex", "-interaction=nonstopmode", "doc.tex"]) == "xelatex"
    assert slow_work(["latexmk", "-pdf", "doc.tex"]) == "latexmk"
    assert slow_work([Path("/usr/bin/pdflatex"), "x.tex"]) == "pdflatex"
    assert slow_work("pdflatex x.tex") == "pdflatex"
    assert slow_work(["bash", "-c", "cd x && xelatex doc.tex"]) == "xelatex"
    assert slow_work(["/venv/lib/site-packages/playwright/driver/node", "cli.js", "run-driver"]) == "playwright"
    assert slow_work(["/usr/bin/chromium", "--headless"]) == "chromium"
    assert slow_work(["/venv/bin/python", "-m", "build", "--outdir", "dist", "."]) == "python -m build"
    for quick in (["pdftotext", "-layout", "a.pdf", "-"], ["git", "ls-files"], ["python", "-m", "derive", "check"]):
        assert slow_work(quick) is None, quick
    assert slow_work(["python", "-c", "import build"]) is None


def test_an_unmarked_test_that_starts_an_engine_is_caught(tmp_path, request):
    """The watch itself: a harmless program called xelatex, started here, is recorded against this test."""
    fake = tmp_path / "xelatex"
    fake.write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    assert subprocess.run([str(fake)], check=False).returncode == 0
    assert conftest.STARTED.pop(request.node.nodeid) == ["xelatex"]  # popped: this test itself passes
    subprocess.run(["true"], check=True)
    assert request.node.nodeid not in conftest.STARTED
