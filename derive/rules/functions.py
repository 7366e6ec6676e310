"""Elementary sympy functions that the activations are built from.

Each one knows its own derivative (``fdiff``), evaluates itself at numbers, and
can be rewritten in elementary functions, so that sympy's differentiation of a
composed cost stays readable and exact.
"""

from __future__ import annotations

import sympy
from sympy import Expr, Function, S, exp
from sympy.core.function import ArgumentIndexError


class sigmoid(Function):  # noqa: N801 - sympy functions are lower case
    """The logistic function 1/(1+e^{-z})."""

    @classmethod
    def eval(cls, z: Expr) -> Expr | None:
        if z.is_Number:
            return 1 / (1 + exp(-z))
        return None

    def fdiff(self, argindex: int = 1) -> Expr:
        if argindex != 1:
            raise ArgumentIndexError(self, argindex)
        s = sigmoid(self.args[0])
        return s * (1 - s)

    def _eval_rewrite_as_exp(self, z: Expr, **kwargs: object) -> Expr:
        return 1 / (1 + exp(-z))

    def _eval_is_real(self) -> bool | None:
        return self.args[0].is_real

    def _eval_is_positive(self) -> bool | None:
        return self.args[0].is_real


def _sign_known(z: Expr) -> bool | None:
    """True for z > 0, False for z ≤ 0, None when z is not a known number."""
    if not z.is_number:
        return None
    if z.is_positive:
        return True
    if z.is_nonpositive:
        return False
    return None


class step(Function):  # noqa: N801
    """The unit step: 1 for z > 0, else 0 (ReLU's derivative, taking 0 at the kink)."""

    @classmethod
    def eval(cls, z: Expr) -> Expr | None:
        positive = _sign_known(z)
        return None if positive is None else (S.One if positive else S.Zero)

    def fdiff(self, argindex: int = 1) -> Expr:
        if argindex != 1:
            raise ArgumentIndexError(self, argindex)
        return S.Zero

    def _eval_is_real(self) -> bool:
        return True


class relu(Function):  # noqa: N801
    """max(0, z)."""

    @classmethod
    def eval(cls, z: Expr) -> Expr | None:
        positive = _sign_known(z)
        return None if positive is None else (z if positive else S.Zero)

    def fdiff(self, argindex: int = 1) -> Expr:
        if argindex != 1:
            raise ArgumentIndexError(self, argindex)
        return step(self.args[0])

    def _eval_rewrite_as_Max(self, z: Expr, **kwargs: object) -> Expr:
        return sympy.Max(0, z)

    def _eval_is_real(self) -> bool | None:
        return self.args[0].is_real


class leaky_step(Function):  # noqa: N801
    """Leaky ReLU's derivative: 1 for z > 0, else the slope α."""

    @classmethod
    def eval(cls, z: Expr, slope: Expr) -> Expr | None:
        positive = _sign_known(z)
        return None if positive is None else (S.One if positive else slope)

    def fdiff(self, argindex: int = 1) -> Expr:
        if argindex not in (1, 2):
            raise ArgumentIndexError(self, argindex)
        return S.Zero

    def _eval_is_real(self) -> bool | None:
        return self.args[1].is_real


class leaky_relu(Function):  # noqa: N801
    """z for z > 0, else α z."""

    @classmethod
    def eval(cls, z: Expr, slope: Expr) -> Expr | None:
        positive = _sign_known(z)
        return None if positive is None else (z if positive else slope * z)

    def fdiff(self, argindex: int = 1) -> Expr:
        if argindex == 1:
            return leaky_step(*self.args)
        raise ArgumentIndexError(self, argindex)

    def _eval_is_real(self) -> bool | None:
        return self.args[0].is_real


class elu_step(Function):  # noqa: N801
    """ELU's derivative: 1 for z > 0, else α e^z."""

    @classmethod
    def eval(cls, z: Expr, alpha: Expr) -> Expr | None:
        positive = _sign_known(z)
        return None if positive is None else (S.One if positive else alpha * exp(z))

    def fdiff(self, argindex: int = 1) -> Expr:
        if argindex != 1:
            raise ArgumentIndexError(self, argindex)
        z, alpha = self.args
        return (1 - step(z)) * alpha * exp(z)

    def _eval_is_real(self) -> bool | None:
        return self.args[1].is_real


class elu(Function):  # noqa: N801
    """z for z > 0, else α (e^z − 1)."""

    @classmethod
    def eval(cls, z: Expr, alpha: Expr) -> Expr | None:
        positive = _sign_known(z)
        return None if positive is None else (z if positive else alpha * (exp(z) - 1))

    def fdiff(self, argindex: int = 1) -> Expr:
        if argindex == 1:
            return elu_step(*self.args)
        raise ArgumentIndexError(self, argindex)

    def _eval_is_real(self) -> bool | None:
        return self.args[0].is_real


class Partial(Function):
    """An unevaluated factor ∂f/∂v of a chain rule, kept in written order.

    Non-commutative, so that a product of factors prints in the order of the
    chain; :func:`evaluate_chain` replaces each factor by its value.
    """

    is_commutative = False

    @classmethod
    def eval(cls, f: Expr, v: Expr) -> None:
        return None
