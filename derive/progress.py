"""Progress bars for long phases: tqdm on stderr, only on a terminal, only when asked (the command line asks).

Every layer names what it is doing the same way::

    from derive import progress

    with progress.phase("finite_differences", total=points) as step:
        for point in range(points):
            ...
            step()  # one step done (step(k): k steps)

    for name in progress.track(names, "gradients"):  # a phase of one step per item (in a for statement:
        ...                                            # the phase ends when the loop does)

A phase is a key of :data:`PHASES`, the one place its words are (terminal words, not document prose; a key
with ``{fields}`` takes them as keyword arguments: ``phase("rendering", file="mnist.md")``). Nothing is drawn
unless :func:`configure` (or :func:`showing`) has switched bars on, which ``derive`` does for every verb but
``--quiet``; the Python API stays silent unless its user asks. Even then a bar is drawn only when stderr is a
terminal, not in a CI log (the ``CI`` variable set) and not on ``TERM=dumb``, never on stdout, and only once its
phase has run for :data:`DELAY` seconds, so a fast phase shows nothing; a bar is erased when its phase ends.
A phase without steps (one long call: a PDF build) still shows its name and the time it has taken.
When bars are off, a phase costs a function call and draws nothing.

``DERIVE_PROGRESS_DELAY`` (seconds) overrides :data:`DELAY`: the tests set it to 0 to see a fast phase's bar.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from tqdm import tqdm

T = TypeVar("T")

DELAY = 1.0
"""Seconds a phase runs before its bar appears."""
TICK = 0.5
"""Seconds between redraws of a bar between steps (its elapsed time keeps counting during one long step)."""

PHASES: dict[str, str] = {
    # deriving
    "gradients": "deriving gradients",
    "cost": "deriving the composed cost",
    # checking: the whole check, then each of its columns
    "check": "checking",
    "closed": "checking: the closed forms' numbers",
    "symbolic": "checking: sympy's derivatives",
    "finite_differences": "checking: finite differences",
    "numpy": "checking: generated NumPy",
    "torch": "checking: torch autograd",
    "matrix": "checking: the matrix form",
    # rendering
    "document": "building the document",
    "rendering": "rendering {file}",
    "compiling": "compiling {file}",
    # verifying
    "formulas": "verifying formulas",
    "points": "verifying: sample points",
    "reading": "verifying: reading the formula",
    "comparing": "verifying: comparing at the points",
    "exact": "verifying: exact check",
    "mistakes": "verifying: looking for the mistake",
    "conventions": "verifying: trying other conventions",
}
"""What each phase is called on the terminal, by key."""

_state = {"show": False, "label": ""}


def configure(show: bool) -> bool:
    """Switch bars on or off for the whole process; the previous setting is returned."""
    before = _state["show"]
    _state["show"] = bool(show)
    return bool(before)


@contextmanager
def showing(show: bool = True) -> Iterator[None]:
    """Bars on (or off) inside the block, as they were after it."""
    before = configure(show)
    try:
        yield
    finally:
        configure(before)


@contextmanager
def about(label: str) -> Iterator[None]:
    """Inside the block each phase's name starts ``label:`` (the network's name, when a command has several)."""
    before = _state["label"]
    _state["label"] = label
    try:
        yield
    finally:
        _state["label"] = before


def active() -> bool:
    """Whether a phase started now would draw: bars switched on, stderr a terminal, not CI, not TERM=dumb."""
    if not _state["show"] or os.environ.get("TERM") == "dumb":
        return False
    if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
        return False
    stream = sys.stderr
    try:
        return stream is not None and stream.isatty()
    except (AttributeError, ValueError, OSError):  # no stream, or a closed one
        return False


def name(key: str, **fields: object) -> str:
    """The words of phase ``key`` (a KeyError for a key that :data:`PHASES` does not hold)."""
    text = PHASES[key].format(**fields)
    return f"{_state['label']}: {text}" if _state["label"] else text


def _delay() -> float:
    try:
        return max(0.0, float(os.environ["DERIVE_PROGRESS_DELAY"]))
    except (KeyError, ValueError):
        return DELAY


def _nothing(n: int = 1) -> None:
    """The step of a phase that draws nothing."""


@contextmanager
def phase(key: str, total: int | None = None, **fields: object) -> Iterator[Callable[[int], None]]:
    """A named phase of ``total`` steps (None: no count), giving the function that says ``n`` more are done."""
    text = name(key, **fields)
    if not active():
        yield _nothing
        return
    bar = _Bar(text, total, _delay())
    try:
        yield bar.step
    finally:
        bar.close()


def track(items: Iterable[T], key: str, total: int | None = None, **fields: object) -> Iterator[T]:
    """``items``, one step of phase ``key`` each (``total`` by default their ``len`` where they have one)."""
    name(key, **fields)  # an unknown key fails here, drawing or not
    if not active():
        return iter(items)
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    return _tracked(items, key, total, fields)


def _tracked(items: Iterable[T], key: str, total: int | None, fields: dict[str, object]) -> Iterator[T]:
    with phase(key, total, **fields) as step:
        for item in items:
            yield item
            step(1)


class _Bar:
    """One phase's tqdm bar on stderr, and the thread that redraws it between steps after the delay."""

    def __init__(self, text: str, total: int | None, delay: float) -> None:
        self.bar = tqdm(
            desc=text,
            total=total,
            file=sys.stderr,
            leave=False,  # erased when the phase ends: the terminal is left as it would be without bars
            delay=delay,
            disable=False,  # active() decided: a terminal, asked for
            smoothing=0,  # the average rate: redraws between steps do not skew it
            dynamic_ncols=True,
            bar_format=None if total is not None else "{desc} ({elapsed})",
        )
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._redraw, args=(delay,), name="derive-progress", daemon=True)
        self.thread.start()

    def step(self, n: int = 1) -> None:
        if self.bar.total is None and self.bar.n == 0:  # steps without a total: counted
            self.bar.bar_format = "{desc}: {n_fmt} ({elapsed})"
        self.bar.update(n)

    def _redraw(self, delay: float) -> None:
        if self.done.wait(delay):
            return
        while True:
            self.bar.refresh()
            self.bar.last_print_t = self.bar._time()  # drawn: close() erases it
            if self.done.wait(TICK):
                return

    def close(self) -> None:
        self.done.set()
        self.thread.join()
        self.bar.close()


__all__ = ["DELAY", "PHASES", "TICK", "about", "active", "configure", "name", "phase", "showing", "track"]
