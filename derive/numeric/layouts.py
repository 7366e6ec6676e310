"""How a user's gradients function takes and gives its arrays: the layout options, checked.

``weights``: "out_in" (derive's W⁽ˡ⁾, a row per neuron of layer l) or "in_out" (a row per input, W⁽ˡ⁾ᵀ),
both for the parameters passed and the gradients returned; ``samples``: "rows" (x of shape (m, inputs))
or "columns" (x of shape (inputs, m), biases passed as (n, 1)); ``names``: the user's key of a gradient
→ derive's parameter name (``{"dW1": "W1"}``). The conversion itself is in ``templates/code/compare.py.j2``,
shared by :func:`derive.testing.assert_gradients` and the generated pytest file; this module only checks
the options and gives them as the plain dict that code reads.
"""

from __future__ import annotations

from collections.abc import Mapping

from derive.errors import DeriveError

WEIGHTS = ("out_in", "in_out")
SAMPLES = ("rows", "columns")


def layout(
    shapes: Mapping[str, tuple[int, ...]],
    weights: str = "out_in",
    samples: str = "rows",
    names: Mapping[str, str] | None = None,
) -> dict[str, object]:
    """The layout as ``{"weights": …, "samples": …, "names": {…}}``, or a one-line DeriveError."""
    if weights not in WEIGHTS:
        raise DeriveError(
            f"weights: {weights!r} is not a layout; give 'out_in' (W of shape (outputs, inputs), a row per neuron)"
            " or 'in_out' (shape (inputs, outputs))"
        )
    if samples not in SAMPLES:
        raise DeriveError(
            f"samples: {samples!r} is not a layout; give 'rows' (x of shape (m, inputs))"
            " or 'columns' (x of shape (inputs, m))"
        )
    if names is None:
        names = {}
    if not isinstance(names, Mapping):
        raise DeriveError(f"names: expected a dict from your keys to parameter names, got {type(names).__name__}")
    known = ", ".join(shapes)
    seen: dict[str, str] = {}
    for key, name in names.items():
        if not isinstance(key, str) or not key:
            raise DeriveError(f"names: your key {key!r} is not a non-empty string")
        if name not in shapes:
            raise DeriveError(f"names: {key!r} maps to {name!r}, which is not a parameter array (known: {known})")
        if name in seen:
            raise DeriveError(f"names: {seen[name]!r} and {key!r} both map to {name!r}")
        seen[name] = key
    return {"weights": weights, "samples": samples, "names": dict(names)}


def parse_names(text: str) -> dict[str, str]:
    """``dW1=W1,db1=b1`` (the command line's ``--names``) as a dict, or a one-line DeriveError."""
    out: dict[str, str] = {}
    for item in text.split(","):
        key, sep, name = (part.strip() for part in item.partition("="))
        if not sep or not key or not name:
            raise DeriveError(f"--names: {item.strip()!r} is not of the form yourkey=W1 (pairs separated by commas)")
        if key in out:
            raise DeriveError(f"--names: {key!r} is given twice")
        out[key] = name
    return out
