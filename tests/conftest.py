"""Shared helpers and fixtures for the tests, and the watch that keeps slow work behind the ``slow`` marker.

Every process a test starts (``subprocess.Popen``, which ``subprocess.run`` and asyncio use) is looked at:
a LaTeX engine, Playwright's browser driver, a browser or a wheel build started while a test that is not
marked ``slow`` runs (its setup, call or teardown, module fixtures included) fails that test, so that
``pytest -m "not slow"`` stays the fast loop. tests/test_markers.py checks the same from the sources.

The suite runs in parallel by default (pytest-xdist, one worker per core; ``-n 0`` for one process). The
examples' documents are derived, checked and rendered once per test process (session fixtures).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import outputs
import pytest

import derive
from derive.present.document import Document

ROOT, EXAMPLES = outputs.ROOT, outputs.EXAMPLES  # the tests import them from here


def net(sizes, acts, loss, bias=True, **notation):
    """A network from sizes (inputs first) and one activation per layer."""
    layers = tuple(derive.Layer(n, a) for n, a in zip(sizes[1:], acts, strict=True))
    return derive.Network(sizes[0], layers, loss, bias, notation=derive.Notation(**notation))


@pytest.fixture(params=EXAMPLES, ids=lambda p: p.stem)
def example(request):
    return derive.load(request.param)


@pytest.fixture(scope="session")
def documents() -> dict[str, Document]:
    """Each example's document data, by stem (read it, never change it: tests share it)."""
    return outputs.documents()


@pytest.fixture(scope="session")
def rendered(documents) -> dict[str, str]:
    """Every file derive render writes for the examples but the PDFs, by file name."""
    return outputs.files(documents)


@pytest.fixture(scope="session")
def derived() -> tuple[list[str], list[outputs.Rows]]:
    """Every derived LaTeX string of the examples and two more networks, and each step's rows."""
    return outputs.derived_strings()


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook turns -n into workers
def pytest_cmdline_main(config: pytest.Config) -> None:
    """In parallel by default: ``-n auto`` unless -n is given, xdist is absent, or this is a worker."""
    if config.pluginmanager.hasplugin("xdist") and not hasattr(config, "workerinput"):
        if config.option.numprocesses is None:
            config.option.numprocesses = "auto"


# ----------------------------------------------------------------------------- slow work is marked
# Programs whose start makes a test slow: the LaTeX engines derive.present.pdf runs, and browsers.
LATEX_ENGINES = frozenset({"pdflatex", "xelatex", "lualatex", "latexmk"})
SLOW_PROGRAMS = LATEX_ENGINES | {"chromium", "chromium-browser", "chrome"}


def slow_work(args: object) -> str | None:
    """The slow work a command line starts, or None: a LaTeX engine, a browser, Playwright, a wheel build."""
    items = [args] if isinstance(args, str | bytes | os.PathLike) else list(args)  # type: ignore[call-overload]
    words = [part for item in items for part in os.fsdecode(item).split()]  # a shell line splits into its words
    for word in words:
        if Path(word).name in SLOW_PROGRAMS:
            return Path(word).name
        if "playwright" in word:
            return "playwright"
    if any(pair == ("-m", "build") for pair in zip(words, words[1:], strict=False)):
        return "python -m build"
    return None


_RUNNING: list[pytest.Item] = []  # the test whose setup, call or teardown runs now
STARTED: dict[str, list[str]] = {}  # node id → the slow work it started unmarked (read by test_markers.py)
_POPEN_INIT = subprocess.Popen.__init__


def _watched_popen_init(self, args, *rest, **kw):
    found = slow_work(args)
    if found and _RUNNING and _RUNNING[-1].get_closest_marker("slow") is None:
        STARTED.setdefault(_RUNNING[-1].nodeid, []).append(found)
    _POPEN_INIT(self, args, *rest, **kw)


def pytest_configure(config: pytest.Config) -> None:
    subprocess.Popen.__init__ = _watched_popen_init  # type: ignore[method-assign]


def pytest_unconfigure(config: pytest.Config) -> None:
    subprocess.Popen.__init__ = _POPEN_INIT  # type: ignore[method-assign]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    _RUNNING.append(item)
    try:
        return (yield)
    finally:
        _RUNNING.pop()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[pytest.TestReport]:
    report = yield
    started = STARTED.pop(item.nodeid, None)
    if started:
        message = (
            f"{item.nodeid} starts {', '.join(sorted(set(started)))} but is not marked slow: add @pytest.mark.slow"
            " (pytest -m 'not slow' must stay the fast loop)"
        )
        if report.failed:
            report.sections.append(("slow work", message))
        else:
            report.outcome, report.longrepr = "failed", message
    return report
