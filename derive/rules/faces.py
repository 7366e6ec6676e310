"""What a registry entry holds: the faces of an activation or a loss, as frozen records.

:mod:`derive.rules.activations` and :mod:`derive.rules.losses` are made of these; every other module
reads the entries, never a table of its own keyed by an activation's or a loss's name.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sympy
from sympy import Expr, MatrixExpr, S

Array = np.ndarray

# LaTeX that reaches above or below a line of text: only around it do parentheses need \left…\right.
_TALL = re.compile(r"\\(?:[dt]?frac|sum|prod|int|begin|sqrt|left|binom|partial)(?![A-Za-z])")


def is_tall(tex: str) -> bool:
    """Whether ``tex`` holds a fraction, a big operator, an environment or a root (taller than a letter)."""
    return _TALL.search(tex) is not None


def paren(tex: str, left: str = "(", right: str = ")") -> str:
    """``tex`` in brackets: plain ones around a line of symbols, ``\\left…\\right`` around anything taller.

    TeX sets ``\\left(`` as an inner atom, with a thin space before it after a letter (``y (1 − y)``);
    plain brackets sit close, as in y(1 − y).
    """
    if is_tall(tex):
        return rf"\left{left}{tex}\right{right}"
    return f"{left}{tex}{right}"


def applied(head: str, argument: str) -> str:
    """A function name and its argument, ``\\sigma(z)``, with no gap between them.

    Around a tall argument the brackets grow (``\\left(``) but are marked as opening and closing
    (``\\mathopen{}``, ``\\mathclose{}``) so that TeX puts no space after the name, as for σ(z).
    """
    if is_tall(argument):
        return rf"{head}\mathopen{{}}\left({argument}\right)\mathclose{{}}"
    return f"{head}({argument})"


@dataclass(frozen=True)
class Helper:
    """A function of the generated NumPy module (``_<name>``), its source, and the helpers it calls."""

    name: str
    source: str
    needs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Written:
    """A sympy function of :mod:`derive.rules.functions` as it is written outside sympy.

    Each face takes the function's arguments already written: ``latex`` also takes ``exp``, an
    exponent such as ``^{2}`` (or empty); ``code`` is NumPy over a batch, calling ``helpers``;
    ``float64`` evaluates it at float arguments.
    """

    function: type[sympy.Function]
    latex: Callable[..., str]
    code: Callable[..., str]
    text: Callable[..., str]
    float64: Callable[..., float]
    helpers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Layerwise:
    """The faces of an activation that maps a whole layer at once, so that a_i depends on every z_k."""

    values: Callable[[Sequence[Expr]], list[Expr]]  # a = g(z) for the layer
    jacobian: Callable[[int, int, Sequence[Expr]], Expr]  # ∂a_i/∂z_k (0-based), in the outputs a
    matrix: Callable[[MatrixExpr], MatrixExpr]  # the Jacobian ∂a/∂z in the matrix form, in the vector a
    back: Callable[[Array, Array], Array]  # Jᵀ v for one sample (1-D a and v), for the verifier's numbers
    back_code: str  # Jᵀ v for a batch in generated code, in ``{a}`` and ``{v}``
    back_helpers: tuple[Helper, ...] = ()


@dataclass(frozen=True)
class Activation:
    """One activation g, applied per neuron unless it has a :class:`Layerwise` face."""

    name: str
    latex: str  # its name in formulas, such as \sigma
    text: str  # its name in plain text (generated code's comments)
    words: Mapping[str, str]  # its name in prose, by language
    numpy: Callable[[Array], Array]
    torch: Callable[[Any, Any], Any]  # (the torch module, z) → a, for a batch
    code: str  # a = g(z) in generated NumPy code, for a batch in ``{z}``
    output_range: tuple[float, float]  # g(−∞) and g(+∞): the values a saturated output is near
    derivative_bound: Expr | None
    formula: Callable[[Expr], Expr] | None = None  # g(z) of one neuron (None for a Layerwise one)
    derivative: Callable[[Expr], Expr] | None = None  # g'(z)
    derivative_in_output: Callable[[Expr], Expr] | None = None  # g'(z) in a = g(z)
    # g'(z) for a layer in the vector a, given a and the vector of ones (the matrix form's own-output form).
    derivative_in_output_matrix: Callable[[MatrixExpr, MatrixExpr], MatrixExpr] | None = None
    layer: Layerwise | None = None
    helpers: tuple[Helper, ...] = ()  # the helpers ``code`` calls, defined here
    functions: tuple[Written, ...] = ()  # the sympy functions of functions.py it introduces
    reads: tuple[str, ...] = ()  # names the formula reader takes for it, exactly as spelled
    reads_any_case: tuple[str, ...] = ()  # names the reader takes in any capitalisation (ReLU, relu, RELU)
    squashing: bool = False  # bounded and flat at both ends: the document's vanishing-gradient section
    # Its options by the [[layer]] key that sets them (leaky ReLU's slope, ELU's alpha), and the entry for other
    # values: ``configure(**{key: value})``, raising ValueError for a value it does not take.
    options: dict[str, object] = field(default_factory=dict)
    configure: Callable[..., Activation] | None = None
    aliases: tuple[str, ...] = ()  # other names a spec may give for it ("swish" for silu); documents use ``name``

    @property
    def elementwise(self) -> bool:
        return self.layer is None

    def values(self, zs: Sequence[Expr]) -> list[Expr]:
        """a = g(z) for a whole layer."""
        if self.layer is not None:
            return self.layer.values(zs)
        return [self.formula(zi) for zi in zs]

    def value(self, i: int, zs: Sequence[Expr]) -> Expr:
        """a_i (0-based) of a layer whose weighted inputs are ``zs``."""
        return self.values(zs)[i] if self.layer is not None else self.formula(zs[i])

    def coupled(self, i: int, n: int) -> Sequence[int]:
        """The outputs a_k (0-based, of n) that z_i moves: only a_i for a per-neuron activation."""
        return range(n) if self.layer is not None else (i,)

    def jacobian_entry(self, i: int, k: int, a: Sequence[Expr], z: Sequence[Expr]) -> Expr:
        """∂a_i/∂z_k (0-based i, k), written in outputs a where possible."""
        if self.layer is not None:
            return self.layer.jacobian(i, k, a)
        return self.local_derivative(a[i], z[i]) if i == k else S.Zero

    def local_derivative(self, a_i: Expr, z_i: Expr) -> Expr:
        """g'(z_i), in the output a_i when the activation allows it."""
        if self.derivative_in_output is not None:
            return self.derivative_in_output(a_i)
        return self.derivative(z_i)

    def jacobian_matrix(self, a: MatrixExpr) -> MatrixExpr:
        """∂a/∂z of a Layerwise activation in the matrix form, in the layer's output vector a."""
        assert self.layer is not None, self.name
        return self.layer.matrix(a)

    def back(self, a: Array, v: Array) -> Array:
        """Jᵀ v of a Layerwise activation at one sample's output a."""
        assert self.layer is not None, self.name
        return self.layer.back(a, v)


@dataclass(frozen=True)
class Loss:
    """One loss. ``targets`` is "real", "unit" (each in [0, 1]) or "distribution"."""

    name: str
    latex: str
    formula: Callable[[Sequence[Expr], Sequence[Expr]], Expr]
    derivative: Callable[[Sequence[Expr], Sequence[Expr], int], Expr]
    words: Mapping[str, str]  # its name in prose, by language
    numpy: Callable[[Array, Array], Array]
    torch: Callable[[Any, Any, Any], Any]  # (the torch module, a, y) → C of each sample of a batch
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
    helpers: tuple[Helper, ...] = ()  # the helpers named in ``code`` and ``delta_code``, defined here
    # Why an output layer (activation, units) cannot go with this loss although the activation is allowed.
    refuse: Callable[[str, int], str | None] = lambda activation, units: None
    # The cost as textbooks write it, C = c Σₖ termₖ: (c, the terms of the outputs), given the outputs a and the
    # targets y; documents print c[term₁ + term₂ + …]. None: the formula as sympy writes it.
    written: Callable[[Sequence[Expr], Sequence[Expr]], tuple[Expr, tuple[Expr, ...]]] | None = None
