"""Where derive's files live."""

from __future__ import annotations

from pathlib import Path

# The jinja2 templates: documents, verdicts and generated code.
TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
