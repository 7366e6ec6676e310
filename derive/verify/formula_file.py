"""Lists of formulas to verify: TOML ``[[formula]]`` tables or math in Markdown.

TOML::

    [[formula]]
    param = "W1[1,2]"          # optional when the formula has a left side
    formula = '\\delta_2 x_1'

Markdown: every ``$…$`` or ``$$…$$`` outside code blocks is a formula; a code
span such as ```W1[1,2]``` earlier on the same line names its parameter,
otherwise the formula needs a left side (``\\frac{\\partial E}{\\partial w_{ij}} = …``).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from derive.errors import DeriveError
from derive.files import read_text

_FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.S | re.M)
_DISPLAY = re.compile(r"\$\$(.+?)\$\$", re.S)
_INLINE = re.compile(r"(?<![\\$])\$([^$\n]+?)\$")
_CODE = re.compile(r"`([^`\n]+)`")

MAX_FORMULAS = 500
"""Formulas in one list: each answers within a second, so a list answers within minutes."""


@dataclass(frozen=True)
class Entry:
    """One formula of a list, with its parameter (or None) and where it was found."""

    param: str | None
    formula: str
    where: str


def read(path: str | Path) -> list[Entry]:
    """The formulas of a .toml or .md file, in order."""
    p = Path(path)
    text = read_text(p, "formula list")
    entries = _toml(p, text) if p.suffix == ".toml" else _markdown(p, text)
    if not entries:
        raise DeriveError(f"{p}: no formulas found")
    if len(entries) > MAX_FORMULAS:
        raise DeriveError(f"{p}: {len(entries)} formulas is over the limit of {MAX_FORMULAS} in one list")
    return entries


def _toml(p: Path, text: str) -> list[Entry]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DeriveError(f"{p}: {exc}") from None
    items = data.get("formula", [])
    if not isinstance(items, list):
        raise DeriveError(f"{p}: 'formula' must be an array of tables ([[formula]])")
    entries = []
    for n, item in enumerate(items, start=1):
        where = f"{p.name}: formula {n}"
        if not isinstance(item, dict) or not isinstance(item.get("formula"), str):
            raise DeriveError(f"{where}: needs formula = '…'")
        param = item.get("param")
        if param is not None and not isinstance(param, str):
            raise DeriveError(f"{where}: param must be a string")
        unknown = sorted(set(item) - {"param", "formula", "note"})
        if unknown:
            raise DeriveError(f"{where}: unknown key {unknown[0]!r} (known: param, formula, note)")
        entries.append(Entry(param, item["formula"], where))
    return entries


def _markdown(p: Path, text: str) -> list[Entry]:
    text = _FENCE.sub(lambda m: "\n" * m.group().count("\n"), text)
    entries = []
    spans = [(m.start(), m.group(1)) for m in _DISPLAY.finditer(text)]
    blanked = _DISPLAY.sub(lambda m: " " * len(m.group()), text)
    spans += [(m.start(), m.group(1)) for m in _INLINE.finditer(blanked)]
    for start, math in sorted(spans):
        line_start = text.rfind("\n", 0, start) + 1
        line_no = text.count("\n", 0, start) + 1
        codes = _CODE.findall(text[line_start:start])
        entries.append(Entry(codes[-1].strip() if codes else None, " ".join(math.split()), f"{p.name}:{line_no}"))
    return entries
