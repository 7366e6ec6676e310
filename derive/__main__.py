"""``python -m derive``."""

from .cli import run

run()
