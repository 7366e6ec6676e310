"""``python -m derive``."""

from derive.cli import run

run()
