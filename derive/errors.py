"""Errors that derive reports to a user in one line."""

from __future__ import annotations


class DeriveError(Exception):
    """Bad input: the message names what is wrong and where."""


class SpecError(DeriveError):
    """A network declaration (Python or TOML) that cannot be used."""


class ParameterError(DeriveError):
    """A parameter name that the network does not have."""


class RenderError(DeriveError):
    """A document that could not be rendered or compiled, such as a LaTeX error or a missing tool."""


class ShapeError(DeriveError, ValueError):
    """A numeric array of the wrong shape, or a parameter array that is missing or unknown."""
