"""Plain data that a derivation is made of: equations grouped into steps."""

from __future__ import annotations

from dataclasses import dataclass

from sympy import Basic, Expr, S, Symbol


@dataclass(frozen=True)
class Equation:
    """``lhs relation rhs``; relation is "=", ":=" (a definition) or "<-" (an update)."""

    lhs: Basic
    rhs: Basic
    relation: str = "="


@dataclass(frozen=True)
class Step:
    """One step of a derivation, named by ``kind`` for the renderers.

    ``condition`` holds an equation that must hold for the step to be true
    (such as Σ_k y_k = 1 for softmax with cross-entropy), or None.
    """

    kind: str
    equations: tuple[Equation, ...]
    layer: int | None = None
    condition: Equation | None = None


@dataclass(frozen=True)
class ParameterGradient:
    """Everything derived for one weight or bias.

    ``chain`` is the chain rule as written, a product of unevaluated ∂ factors
    (summed where several paths lead to the cost); ``factors`` gives each
    factor's value; ``chain_value`` is the chain evaluated factor by factor
    before any simplification; ``delta_form`` is the product with δ (in the
    notation's sign); ``closed`` the simplified closed form in a, z, weights
    and targets; ``expanded`` the same in inputs, weights, biases and targets
    when that stays readable, else None.
    """

    name: str
    symbol: Symbol
    layer: int
    row: int
    col: int | None
    chain: Expr
    factors: tuple[Equation, ...]
    chain_value: Expr
    delta_form: Expr
    closed: Expr
    expanded: Expr | None
    update: Equation
    penalty: Expr = S.Zero  # ∂R/∂θ of the spec's L2 penalty (λθ, 2λθ or λθ/m); 0 without one

    @property
    def is_bias(self) -> bool:
        return self.col is None
