"""derive's one jinja2 environment: every template (documents, pictures, verdicts, check reports, code).

One environment means one set of rules for every text derive writes: undefined names fail
(``StrictUndefined``), block tags take their own line with them, a template's last newline is kept, and
nothing is escaped unless a template asks (``picture.svg.j2`` wraps itself in ``{% autoescape true %}``;
the documents escape a spec's free text by format with their own filters). Templates are named by their
path under ``templates/`` (``code/module.py.j2``, ``verdict/words_en.j2``) and import one another the same way.

The filters a template needs are contributed by the module that owns what they print (the LaTeX printer's
numbers by :mod:`derive.present.render`, the picture's coordinates by :mod:`derive.present.picture`) through
:func:`add_filters`, which refuses to give one name two meanings. ``pad`` lives here: it is plain layout.

``templates/`` at the top of the repository is installed as the package ``derive.templates``
(pyproject.toml) and found through :mod:`importlib.resources`, from a wheel, an sdist build or an editable
install alike; wheels install unzipped, so the resource folder is a real directory.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from importlib.resources import files
from pathlib import Path

import jinja2

from derive.errors import DeriveError

TEMPLATES = Path(str(files("derive.templates")))
LANGS = ("en", "zh")  # the languages every text for a person is written in


def require_lang(lang: str) -> None:
    """A one-line error naming ``--lang`` for a language derive does not write."""
    if lang not in LANGS:
        raise DeriveError(f"--lang: unknown value {lang!r}; choose from {', '.join(LANGS)}")


ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
    autoescape=False,
)


def add_filters(**filters: Callable[..., object]) -> None:
    """Give the environment ``filters``; a name already taken by another function is a bug, not an override."""
    for name, function in filters.items():
        taken = ENV.filters.get(name)
        if taken is not None and taken is not function:
            raise ValueError(f"template filter {name!r} is defined twice")
        ENV.filters[name] = function


def display_width(text: str) -> int:
    """Columns ``text`` takes in a terminal: wide (CJK) characters two, combining marks none."""
    return sum(
        0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in ("W", "F") else 1 for c in text
    )


def pad(text: object, width: int, align: str = "<") -> str:
    """``text`` filled with spaces to ``width`` display columns (``>``: on the left); never cut."""
    text = str(text)
    fill = " " * max(0, width - display_width(text))
    return fill + text if align == ">" else text + fill


add_filters(pad=pad, width=display_width)
