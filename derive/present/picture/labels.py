"""A picture's labels: the small LaTeX of node and weight names read into styled runs, and their widths.

A label is kept twice: as LaTeX for TikZ, and as runs of text (italic or upright, on the baseline, raised
or lowered, a superscript stacked over its subscript as TeX sets it) for SVG, which has no math. Widths
are estimates, generous so that boxes hold the text whatever serif font the reader's browser picks.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

SCRIPT = 0.7  # script size relative to the base
SUPERSCRIPT_RISE = 0.42  # em of the base size
SUBSCRIPT_DROP = 0.25  # em of the base size


@dataclass(frozen=True)
class Run:
    """A piece of label text set in one style.

    level: 0 on the baseline, 1 superscript, −1 subscript. stack: the run
    starts where the previous script started, so a superscript sits over its
    subscript as in TeX.
    """

    text: str
    level: int = 0
    italic: bool = False
    stack: bool = False


@dataclass(frozen=True)
class Label:
    """A label as LaTeX math (for TikZ) and as styled runs (for SVG)."""

    latex: str
    runs: tuple[Run, ...]


_TOKEN = re.compile(r"\\[A-Za-z]+|\\.|[{}^_]|\S")
_GREEK_VARIANTS = {
    "epsilon": "\u03f5",
    "varepsilon": "\u03b5",
    "vartheta": "\u03d1",
    "phi": "\u03d5",
    "varphi": "\u03c6",
    "varrho": "\u03f1",
    "varsigma": "\u03c2",
    "varpi": "\u03d6",
}
_ACCENTS = {"hat": "\u0302", "bar": "\u0304", "tilde": "\u0303", "dot": "\u0307", "vec": "\u20d7"}
_SPACES = {r"\,", r"\;", r"\:", r"\!", r"\ ", r"\quad"}


def _greek(name: str) -> str | None:
    if name in _GREEK_VARIANTS:
        return _GREEK_VARIANTS[name]
    case = "CAPITAL" if name[0].isupper() else "SMALL"
    try:
        return unicodedata.lookup(f"GREEK {case} LETTER {name.upper()}")
    except KeyError:
        return None


def _italic(char: str) -> bool:
    """Math italic as TeX sets it: Latin letters and lowercase Greek."""
    if not char.isalpha():
        return False
    base = unicodedata.normalize("NFD", char)[0]
    return base.isascii() or base.islower()


class _LabelParser:
    """Reads the small LaTeX of node and weight names: letters, digits, ^, _, \\hat, Greek."""

    def __init__(self, tex: str) -> None:
        self.tex = tex
        self.tokens = _TOKEN.findall(tex)
        self.pos = 0

    def error(self, what: str) -> ValueError:
        return ValueError(f"picture label {self.tex!r}: {what}")

    def take(self) -> str:
        if self.pos >= len(self.tokens):
            raise self.error("ends too early")
        self.pos += 1
        return self.tokens[self.pos - 1]

    def atom(self) -> str:
        """One character, command or braced group, as plain text."""
        token = self.take()
        if token == "{":
            out = []
            while self.pos < len(self.tokens) and self.tokens[self.pos] != "}":
                if self.tokens[self.pos] in "^_":
                    raise self.error("scripts inside a script are not supported")
                out.append(self.atom())
            self.take()
            return "".join(out)
        if token in ("}", "^", "_"):
            raise self.error(f"unexpected {token!r}")
        if not token.startswith("\\"):
            return token
        if token in _SPACES:
            return " "
        name = token[1:]
        if name in _ACCENTS:
            return unicodedata.normalize("NFC", self.atom() + _ACCENTS[name])
        if name in ("mathrm", "mathit", "text", "operatorname"):
            return self.atom()
        letter = _greek(name)
        if letter is None:
            raise self.error(f"unknown command {token}")
        return letter

    def runs(self) -> tuple[Run, ...]:
        pieces: list[Run] = []
        while self.pos < len(self.tokens):
            pieces.extend(_styled(self.atom(), 0))
            scripts: dict[str, str] = {}
            while self.pos < len(self.tokens) and self.tokens[self.pos] in "^_":
                mark = self.take()
                if mark in scripts:
                    raise self.error(f"double {mark}")
                scripts[mark] = self.atom()
            groups = [(text, 1 if mark == "^" else -1) for mark, text in scripts.items()]
            # The narrower script goes first, so stacking the second one over it
            # moves back by the smaller (better estimated) width.
            groups.sort(key=lambda g: (_width(g[0]), g[1]))
            for n, (text, level) in enumerate(groups):
                styled = _styled(text, level)
                if n == 1:
                    styled[0] = Run(styled[0].text, level, styled[0].italic, stack=True)
                pieces.extend(styled)
        return tuple(_merge(pieces))


def _styled(text: str, level: int) -> list[Run]:
    return _merge([Run(char, level, _italic(char)) for char in text])


def _merge(runs: list[Run]) -> list[Run]:
    out: list[Run] = []
    for run in runs:
        last = out[-1] if out else None
        if last is not None and not run.stack and (last.level, last.italic) == (run.level, run.italic):
            out[-1] = Run(last.text + run.text, last.level, last.italic, last.stack)
        else:
            out.append(run)
    return out


def label(tex: str) -> Label:
    """A label from simple LaTeX such as ``a^{(1)}_{2}``, ``\\hat{y}`` or ``\\theta_{12}``."""
    return Label(tex, _LabelParser(tex).runs())


def _char_width(char: str) -> float:
    """A generous advance width in em (about DejaVu Serif's, wider than Times), so boxes hold the text."""
    if char in "()":
        return 0.4
    if char in "ijlft.,;:'|! ":
        return 0.34
    if char in "mwMW":
        return 0.86
    if char.isupper():
        return 0.74
    if char in "+=−":
        return 0.84
    if char.isdigit():
        return 0.64
    return 0.6


def _width(text: str) -> float:
    return sum(_char_width(c) for c in text)


def label_width(lab: Label, size: float) -> float:
    """Estimated width in px of ``lab`` set at ``size`` px, with stacked scripts."""
    total = 0.0
    for run, dx in zip(lab.runs, stacking(lab, size), strict=True):
        total += dx + _width(run.text) * size * (SCRIPT if run.level else 1.0)
    return total


def stacking(lab: Label, size: float) -> list[float]:
    """Each run's move back, in px: the width of the script group a stacked run sits over.

    The narrower group comes first (see ``_LabelParser.runs``), so the stacked
    group ends at the label's right edge.
    """
    out = []
    group = 0.0
    for run in lab.runs:
        out.append(-group if run.stack else 0.0)
        if run.stack or not run.level:
            group = 0.0
        if run.level:
            group += _width(run.text) * size * SCRIPT
    return out
