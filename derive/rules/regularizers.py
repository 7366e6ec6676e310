"""L2 regularisation: one registry entry per form, holding the penalty and its gradient.

The batch objective is J = (1/m) Σ_s C^{(s)} + R, with R = scale(λ, m) · Σ θ² over the regularised
parameters (every weight; the biases too when asked). Each form states its scale and, as a rule of its
own, the coefficient of ∂R/∂θ = coefficient(λ, m) · θ: the engine, the documents, the generated code, the
checks and the formula reader all read these two, and the checks confirm the coefficient against sympy's
derivative of the penalty, finite differences of the generated J and torch's autograd of its own J.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sympy import Expr, Rational, Symbol

LAMBDA = Symbol("lambda", positive=True)
"""λ, the regularisation strength (the spec's ``l2``)."""

BATCH = Symbol("m", positive=True, integer=True)
"""m, the number of samples in a batch (``half_over_m`` divides by it)."""


@dataclass(frozen=True)
class Regularizer:
    """One form of the L2 penalty R = scale(λ, m) Σ θ², with ∂R/∂θ = coefficient(λ, m) θ."""

    name: str
    scale: Callable[[Expr, Expr], Expr]  # (λ, m) → the factor of Σ θ² in R
    coefficient: Callable[[Expr, Expr], Expr]  # (λ, m) → the factor of θ in ∂R/∂θ

    def uses_batch(self) -> bool:
        """Whether the form depends on m (then so do J and its gradient)."""
        return BATCH in self.scale(LAMBDA, BATCH).free_symbols


# R = (λ/2) Σ θ²: the textbook's form, whose ½ cancels the square's 2 (weight decay λθ).
HALF = Regularizer("half", scale=lambda lam, m: lam / 2, coefficient=lambda lam, m: lam)
# R = λ Σ θ², as CS231n writes it (reg * np.sum(W * W)): the 2 stays, 2λθ.
PLAIN = Regularizer("plain", scale=lambda lam, m: lam, coefficient=lambda lam, m: 2 * lam)
# R = (λ/(2m)) Σ θ², as Nielsen (n) and Ng (m) write it: λθ/m.
HALF_OVER_M = Regularizer("half_over_m", scale=lambda lam, m: lam / (2 * m), coefficient=lambda lam, m: lam / m)

REGULARIZERS: dict[str, Regularizer] = {form.name: form for form in (HALF, PLAIN, HALF_OVER_M)}
DEFAULT = HALF.name


def value(expr: Expr, lam: float, m: int) -> float:
    """A scale or coefficient as a float, for λ = ``lam`` and a batch of ``m``."""
    return float(expr.xreplace({LAMBDA: Rational(repr(float(lam))), BATCH: m}))


__all__ = ["BATCH", "DEFAULT", "LAMBDA", "REGULARIZERS", "Regularizer", "value"]
