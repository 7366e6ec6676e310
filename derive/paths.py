"""Where derive's files live, found the same way from a wheel, an sdist build or an editable install."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

# The jinja2 templates: documents, verdicts and generated code. ``templates/`` at the top of the
# repository is installed as the package ``derive.templates`` (pyproject.toml); wheels install unzipped,
# so the resource folder is a real directory that jinja2's FileSystemLoader can read.
TEMPLATES = Path(str(files("derive.templates")))
