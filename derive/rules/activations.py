"""Activation functions: one small definition each.

A definition holds the sympy formula, its derivative in z, the derivative
written in the activation's own output a where one exists (the textbook
simplification), the LaTeX name, a NumPy version for numeric checks, and the
largest value the derivative takes (for the vanishing-gradient bound).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np
import sympy
from sympy import Expr, Rational, S, exp, tanh

from derive.rules.functions import leaky_relu, leaky_step, relu, sigmoid, step

Array = np.ndarray


@dataclass(frozen=True)
class Activation:
    """One activation g, applied per neuron unless ``elementwise`` is False."""

    name: str
    latex: str
    formula: Callable[[Expr], Expr]
    derivative: Callable[[Expr], Expr]
    derivative_in_output: Callable[[Expr], Expr] | None
    numpy: Callable[[Array], Array]
    output_range: tuple[float, float]
    derivative_bound: Expr | None
    elementwise: bool = True
    options: dict[str, object] = field(default_factory=dict)
    # Generated NumPy code: the plain-text name, a(z) for a batch in ``{z}``, and the helpers it calls.
    text: str = "g"
    code: str = "{z}"
    helpers: tuple[str, ...] = ()

    def values(self, zs: Sequence[Expr]) -> list[Expr]:
        """a = g(z) for a whole layer."""
        if self.elementwise:
            return [self.formula(zi) for zi in zs]
        total = sum((exp(zi) for zi in zs), S.Zero)
        return [exp(zi) / total for zi in zs]

    def jacobian_entry(self, i: int, k: int, a: Sequence[Expr], z: Sequence[Expr]) -> Expr:
        """∂a_i/∂z_k (0-based i, k), written in outputs a where possible."""
        if self.elementwise:
            return self.local_derivative(a[i], z[i]) if i == k else S.Zero
        return a[i] * ((1 if i == k else 0) - a[k])

    def local_derivative(self, a_i: Expr, z_i: Expr) -> Expr:
        """g'(z_i), in the output a_i when the activation allows it."""
        if self.derivative_in_output is not None:
            return self.derivative_in_output(a_i)
        return self.derivative(z_i)


def _np_sigmoid(z: Array) -> Array:
    ez = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + ez), ez / (1 + ez))


def _np_softmax(z: Array) -> Array:
    e = np.exp(z - np.max(z, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)


SIGMOID = Activation(
    name="sigmoid",
    latex=r"\sigma",
    formula=sigmoid,
    derivative=lambda z: sigmoid(z) * (1 - sigmoid(z)),
    derivative_in_output=lambda a: a * (1 - a),
    numpy=_np_sigmoid,
    output_range=(0.0, 1.0),
    derivative_bound=Rational(1, 4),
    text="σ",
    code="_sigmoid({z})",
    helpers=("sigmoid",),
)

TANH = Activation(
    name="tanh",
    latex=r"\tanh",
    formula=tanh,
    derivative=lambda z: 1 - tanh(z) ** 2,
    derivative_in_output=lambda a: 1 - a**2,
    numpy=np.tanh,
    output_range=(-1.0, 1.0),
    derivative_bound=S.One,
    text="tanh",
    code="np.tanh({z})",
)

RELU = Activation(
    name="relu",
    latex=r"\operatorname{ReLU}",
    formula=relu,
    derivative=step,
    derivative_in_output=None,
    numpy=lambda z: np.maximum(z, 0.0),
    output_range=(0.0, float("inf")),
    derivative_bound=S.One,
    text="ReLU",
    code="np.maximum({z}, 0.0)",
)

IDENTITY = Activation(
    name="identity",
    latex=r"\operatorname{id}",
    formula=lambda z: z,
    derivative=lambda z: S.One,
    derivative_in_output=lambda a: S.One,
    numpy=lambda z: z,
    output_range=(float("-inf"), float("inf")),
    derivative_bound=S.One,
    text="id",
    code="{z}",
)

SOFTMAX = Activation(
    name="softmax",
    latex=r"\operatorname{softmax}",
    formula=lambda z: exp(z),  # numerator only; ``values`` normalises the layer
    derivative=lambda z: sympy.nan,  # not elementwise: see ``jacobian_entry``
    derivative_in_output=None,
    numpy=_np_softmax,
    output_range=(0.0, 1.0),
    derivative_bound=Rational(1, 4),
    elementwise=False,
    text="softmax",
    code="_softmax({z})",
    helpers=("softmax",),
)


def leaky(slope: float = 0.01) -> Activation:
    """Leaky ReLU with the given slope α for z ≤ 0 (kept as an exact rational)."""
    frac = Fraction(repr(float(slope)))
    alpha = Rational(frac.numerator, frac.denominator)
    return Activation(
        name="leaky_relu",
        latex=r"\operatorname{LeakyReLU}",
        formula=lambda z: leaky_relu(z, alpha),
        derivative=lambda z: leaky_step(z, alpha),
        derivative_in_output=None,
        numpy=lambda z: np.where(z > 0, z, float(alpha) * z),
        output_range=(float("-inf"), float("inf")),
        derivative_bound=sympy.Max(S.One, abs(alpha)),
        options={"slope": alpha},
        text="LeakyReLU",
        code=f"np.where({{z}} > 0, {{z}}, {float(alpha)!r} * {{z}})",
    )


FIXED: dict[str, Activation] = {act.name: act for act in (SIGMOID, TANH, RELU, IDENTITY, SOFTMAX)}
NAMES: tuple[str, ...] = ("sigmoid", "tanh", "relu", "leaky_relu", "softmax", "identity")


def get(name: str, slope: float | None = None) -> Activation:
    """The activation called ``name``; ``slope`` only for leaky_relu."""
    if name == "leaky_relu":
        return leaky(0.01 if slope is None else slope)
    return FIXED[name]
