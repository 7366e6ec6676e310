"""Per-sample losses C(a, y): one small definition each.

A definition holds the sympy formula, ∂C/∂a_k, the NumPy version, which
targets it accepts, which output activations it needs, and the textbook
simplification of δ^{(L)} = ∂C/∂z^{(L)} for the activation it matches.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from sympy import Expr, Rational, S, log

Array = np.ndarray


@dataclass(frozen=True)
class Loss:
    """One loss. ``targets`` is "real", "unit" (each in [0, 1]) or "distribution"."""

    name: str
    latex: str
    formula: Callable[[Sequence[Expr], Sequence[Expr]], Expr]
    derivative: Callable[[Sequence[Expr], Sequence[Expr], int], Expr]
    numpy: Callable[[Array, Array], Array]
    targets: str
    output_activations: tuple[str, ...] | None = None
    matching: dict[str, Callable[[Expr, Expr], Expr]] = field(default_factory=dict)
    # When a matching simplification needs the targets to sum to one.
    needs_distribution: tuple[str, ...] = ()
    # Generated NumPy code: C of each sample of a batch, in ``{a}``, ``{z}`` (the output's weighted sums)
    # and ``{y}``, keyed by output activation ("" for any), with the formula in plain text and the
    # helpers it calls. Written in z where that avoids log 0 and overflow.
    code: dict[str, tuple[str, str, tuple[str, ...]]] = field(default_factory=dict)
    # Generated NumPy code for δ^{(L)} where the general Jᵀ∇ₐC would assume targets that sum to one
    # or lose digits: (code in ``{a}``, ``{z}``, ``{y}``; plain text with ``{a}``; helpers), by output activation.
    delta_code: dict[str, tuple[str, str, tuple[str, ...]]] = field(default_factory=dict)


def _np_log(a: Array) -> Array:
    return np.log(np.clip(a, np.finfo(float).tiny, None))


SQUARED_ERROR = Loss(
    name="squared_error",
    latex=r"\tfrac12\textstyle\sum_k (y_k - a_k)^2",
    formula=lambda a, y: Rational(1, 2) * sum(((yk - ak) ** 2 for ak, yk in zip(a, y, strict=True)), S.Zero),
    derivative=lambda a, y, k: a[k] - y[k],
    numpy=lambda a, y: 0.5 * np.sum((y - a) ** 2, axis=-1),
    targets="real",
    code={"": ("0.5 * np.sum(({y} - {a}) ** 2, axis=1)", "C = ½ Σₖ (yₖ − aₖ)²", ())},
)

MSE = Loss(
    name="mse",
    latex=r"\tfrac1n\textstyle\sum_k (y_k - a_k)^2",
    formula=lambda a, y: Rational(1, len(a)) * sum(((yk - ak) ** 2 for ak, yk in zip(a, y, strict=True)), S.Zero),
    derivative=lambda a, y, k: Rational(2, len(a)) * (a[k] - y[k]),
    numpy=lambda a, y: np.mean((y - a) ** 2, axis=-1),
    targets="real",
    code={"": ("np.mean(({y} - {a}) ** 2, axis=1)", "C = (1/n) Σₖ (yₖ − aₖ)²", ())},
)

BINARY_CROSS_ENTROPY = Loss(
    name="binary_cross_entropy",
    latex=r"-\textstyle\sum_k \left[y_k\log a_k + (1-y_k)\log(1-a_k)\right]",
    formula=lambda a, y: -sum((yk * log(ak) + (1 - yk) * log(1 - ak) for ak, yk in zip(a, y, strict=True)), S.Zero),
    derivative=lambda a, y, k: -y[k] / a[k] + (1 - y[k]) / (1 - a[k]),
    numpy=lambda a, y: -np.sum(y * _np_log(a) + (1 - y) * _np_log(1 - a), axis=-1),
    targets="unit",
    output_activations=("sigmoid", "softmax"),
    matching={"sigmoid": lambda ak, yk: ak - yk},
    delta_code={
        "softmax": (
            "_softmax_bce_delta({z}, {y})",
            "Jᵀ∇ₐC, δᵢ = aᵢ (Σₖ yₖ + 1 − yᵢ) − yᵢ − Σⱼ≠ᵢ (1 − yⱼ) aᵢ aⱼ/(1 − aⱼ), each term from logs of a",
            ("log_softmax", "log1m_softmax", "softmax_bce_delta"),
        )
    },
    code={
        "sigmoid": (
            "np.sum(np.maximum({z}, 0.0) - {y} * {z} + np.log1p(np.exp(-np.abs({z}))), axis=1)",
            "C = −Σₖ [yₖ log aₖ + (1 − yₖ) log(1 − aₖ)] = Σₖ [max(zₖ, 0) − yₖ zₖ + log(1 + e^−|zₖ|)]",
            (),
        ),
        "softmax": (
            "-np.sum({y} * _log_softmax({z}) + (1 - {y}) * _log1m_softmax({z}), axis=1)",
            "C = −Σₖ [yₖ log aₖ + (1 − yₖ) log(1 − aₖ)], logs taken from z",
            ("log_softmax", "log1m_softmax"),
        ),
    },
)

CROSS_ENTROPY = Loss(
    name="cross_entropy",
    latex=r"-\textstyle\sum_k y_k\log a_k",
    formula=lambda a, y: -sum((yk * log(ak) for ak, yk in zip(a, y, strict=True)), S.Zero),
    derivative=lambda a, y, k: -y[k] / a[k],
    numpy=lambda a, y: -np.sum(y * _np_log(a), axis=-1),
    targets="distribution",
    output_activations=("softmax", "sigmoid"),
    matching={"softmax": lambda ak, yk: ak - yk},
    needs_distribution=("softmax",),
    delta_code={
        "softmax": (
            "{a} * {y}.sum(axis=1, keepdims=True) - {y}",
            "{a} (Σₖ yₖ) − y, which is {a} − y when Σₖ yₖ = 1",
            (),
        )
    },
    code={
        "softmax": (
            "-np.sum({y} * _log_softmax({z}), axis=1)",
            "C = −Σₖ yₖ log aₖ, log aₖ = zₖ − log Σⱼ e^zⱼ",
            ("log_softmax",),
        ),
        "sigmoid": ("np.sum({y} * np.logaddexp(0.0, -{z}), axis=1)", "C = −Σₖ yₖ log aₖ = Σₖ yₖ log(1 + e^−zₖ)", ()),
    },
)

LOSSES: dict[str, Loss] = {loss.name: loss for loss in (SQUARED_ERROR, MSE, BINARY_CROSS_ENTROPY, CROSS_ENTROPY)}
