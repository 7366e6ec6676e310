"""Per-sample losses C(a, y): one registry entry each, holding every face of the loss.

An entry holds the sympy formula, ∂C/∂a_k, its names in prose, the NumPy and torch versions, which
targets it accepts, which output activations it needs (and which it refuses), the textbook
simplification of δ^{(L)} = ∂C/∂z^{(L)} for the activation it matches, and its generated NumPy code
with the helper functions that code calls. Every other module reads :data:`LOSSES`.
"""

from __future__ import annotations

import numpy as np
from sympy import Add, Rational, S, log

from derive.rules.faces import Helper, Loss

Array = np.ndarray


def _np_log(a: Array) -> Array:
    return np.log(np.clip(a, np.finfo(float).tiny, None))


# Helpers of the generated module: logarithms of a softmax output taken from z, never log 0.
LOG_SOFTMAX = Helper(
    "log_softmax",
    '''def _logsumexp(z):
    """log Σⱼ e^zⱼ along the last axis, without overflow (the largest z is taken out first)."""
    top = z.max(axis=-1, keepdims=True)
    return top + np.log(np.sum(np.exp(z - top), axis=-1, keepdims=True))


def _log_softmax(z):
    """log aₖ = zₖ − log Σⱼ e^zⱼ: never log 0."""
    return z - _logsumexp(z)''',
)

LOG1M_SOFTMAX = Helper(
    "log1m_softmax",
    '''def _log1m_softmax(z):
    """log(1 − aₖ) = log Σ_{j≠k} e^zⱼ − log Σⱼ e^zⱼ: never log 0 while another output is finite."""
    n = z.shape[-1]
    others = np.where(np.eye(n, dtype=bool), -np.inf, z[..., None, :])
    return _logsumexp(others)[..., 0] - _logsumexp(z)''',
    needs=("log_softmax",),
)

SOFTMAX_BCE_DELTA = Helper(
    "softmax_bce_delta",
    '''def _softmax_bce_delta(z, y):
    """δ = Jᵀ∇ₐC of a softmax output with binary cross-entropy, row by row (or of one 1-D sample), without
    1/(1 − a) overflowing.

    δᵢ = aᵢ (Σₖ yₖ + 1 − yᵢ) − yᵢ − Σⱼ≠ᵢ (1 − yⱼ) aᵢ aⱼ/(1 − aⱼ); each aᵢ aⱼ/(1 − aⱼ) (at most 1)
    comes from log aᵢ + log aⱼ − log(1 − aⱼ).
    """
    log_a, log_rest = _log_softmax(z), _log1m_softmax(z)
    n = z.shape[-1]
    pairs = log_a[..., :, None] + (log_a - log_rest)[..., None, :]
    pairs = np.exp(np.where(np.eye(n, dtype=bool), -np.inf, pairs))
    a = np.exp(log_a)
    return a * (y.sum(axis=-1, keepdims=True) + 1.0 - y) - y - (pairs @ (1.0 - y)[..., :, None])[..., 0]''',
    needs=("log_softmax", "log1m_softmax"),
)

# δ of a softmax output with cross-entropy: the textbook a − y when the targets sum to one (one-hot labels),
# and a (Σₖ yₖ) − y, which is right for any targets, otherwise. a · 1.0 is a, so both give the same numbers.
SOFTMAX_CE_DELTA = Helper(
    "softmax_ce_delta",
    '''def _softmax_ce_delta(a, y):
    """δ = Jᵀ∇ₐC = a (Σₖ yₖ) − y of a softmax output with cross-entropy, row by row (or of one 1-D sample);
    a − y, one operation less, when every row of targets sums to exactly 1."""
    if y.ndim == 1:
        total = y.sum()
        return a - y if total == 1.0 else a * total - y
    total = y.sum(axis=1, keepdims=True)
    return a - y if np.count_nonzero(total != 1.0) == 0 else a * total - y''',
)


def _one_unit_softmax(activation: str, units: int) -> str | None:
    if activation == "softmax" and units == 1:
        return (
            "a one-unit softmax output is always 1, so binary_cross_entropy's log(1 - a) is"
            " undefined; use a sigmoid output"
        )
    return None


SQUARED_ERROR = Loss(
    name="squared_error",
    latex=r"\tfrac12\textstyle\sum_k (y_k - a_k)^2",
    formula=lambda a, y: Rational(1, 2) * Add(*((yk - ak) ** 2 for ak, yk in zip(a, y, strict=True))),
    derivative=lambda a, y, k: a[k] - y[k],
    words={"en": "squared error with a factor one half", "zh": "平方误差（带系数二分之一）"},
    numpy=lambda a, y: 0.5 * np.sum((y - a) ** 2, axis=-1),
    torch=lambda torch, a, y: 0.5 * ((y - a) ** 2).sum(dim=1),
    targets="real",
    code={"": ("0.5 * np.sum(({y} - {a}) ** 2, axis=1)", "C = ½ Σₖ (yₖ − aₖ)²", ())},
    written=lambda a, y: (Rational(1, 2), tuple((yk - ak) ** 2 for ak, yk in zip(a, y, strict=True))),
)

MSE = Loss(
    name="mse",
    latex=r"\tfrac1n\textstyle\sum_k (y_k - a_k)^2",
    formula=lambda a, y: Rational(1, len(a)) * Add(*((yk - ak) ** 2 for ak, yk in zip(a, y, strict=True))),
    derivative=lambda a, y, k: Rational(2, len(a)) * (a[k] - y[k]),
    words={"en": "mean squared error", "zh": "均方误差"},
    numpy=lambda a, y: np.mean((y - a) ** 2, axis=-1),
    torch=lambda torch, a, y: ((y - a) ** 2).mean(dim=1),
    targets="real",
    code={"": ("np.mean(({y} - {a}) ** 2, axis=1)", "C = (1/n) Σₖ (yₖ − aₖ)²", ())},
    written=lambda a, y: (Rational(1, len(a)), tuple((yk - ak) ** 2 for ak, yk in zip(a, y, strict=True))),
)

BINARY_CROSS_ENTROPY = Loss(
    name="binary_cross_entropy",
    latex=r"-\textstyle\sum_k \left[y_k\log a_k + (1-y_k)\log(1-a_k)\right]",
    formula=lambda a, y: -Add(*(yk * log(ak) + (1 - yk) * log(1 - ak) for ak, yk in zip(a, y, strict=True))),
    # −y/a + (1 − y)/(1 − a) over one denominator, as it is simplified before anything is multiplied by it
    derivative=lambda a, y, k: (a[k] - y[k]) / (a[k] * (1 - a[k])),
    words={"en": "binary cross-entropy (the logistic cost)", "zh": "二元交叉熵（逻辑回归的代价函数）"},
    numpy=lambda a, y: -np.sum(y * _np_log(a) + (1 - y) * _np_log(1 - a), axis=-1),
    torch=lambda torch, a, y: -(y * torch.log(a) + (1 - y) * torch.log(1 - a)).sum(dim=1),
    targets="unit",
    output_activations=("sigmoid", "softmax"),
    matching={"sigmoid": lambda ak, yk: ak - yk},
    helpers=(LOG_SOFTMAX, LOG1M_SOFTMAX, SOFTMAX_BCE_DELTA),
    refuse=_one_unit_softmax,
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
    written=lambda a, y: (
        S.NegativeOne,
        tuple(yk * log(ak) + (1 - yk) * log(1 - ak) for ak, yk in zip(a, y, strict=True)),
    ),
)

CROSS_ENTROPY = Loss(
    name="cross_entropy",
    latex=r"-\textstyle\sum_k y_k\log a_k",
    formula=lambda a, y: -Add(*(yk * log(ak) for ak, yk in zip(a, y, strict=True))),
    derivative=lambda a, y, k: -y[k] / a[k],
    words={"en": "categorical cross-entropy", "zh": "多类交叉熵"},
    numpy=lambda a, y: -np.sum(y * _np_log(a), axis=-1),
    torch=lambda torch, a, y: -(y * torch.log(a)).sum(dim=1),
    targets="distribution",
    output_activations=("softmax", "sigmoid"),
    matching={"softmax": lambda ak, yk: ak - yk},
    needs_distribution=("softmax",),
    helpers=(LOG_SOFTMAX, SOFTMAX_CE_DELTA),
    delta_code={
        "softmax": (
            "_softmax_ce_delta({a}, {y})",
            "{a} (Σₖ yₖ) − y, which is {a} − y when Σₖ yₖ = 1",
            ("softmax_ce_delta",),
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
    written=lambda a, y: (S.NegativeOne, tuple(yk * log(ak) for ak, yk in zip(a, y, strict=True))),
)

# Every loss a spec may name, in the order error messages list them.
LOSSES: dict[str, Loss] = {loss.name: loss for loss in (SQUARED_ERROR, MSE, BINARY_CROSS_ENTROPY, CROSS_ENTROPY)}
