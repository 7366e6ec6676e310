"""Activation functions: one registry entry each, holding every face of the activation.

An entry is all derive knows about one activation g, and every other module reads it from
:data:`REGISTRY`, so that adding an activation is adding one entry there: the sympy formula and
derivative (and the derivative in the activation's own output where that is the textbook form, per
neuron and as a matrix); for an activation of a whole layer (softmax) the layer's formula and
Jacobian instead; its names (LaTeX, plain text, English and Chinese prose, and the words the formula
reader takes for it); NumPy code for the generated module with the helper functions that code calls;
NumPy and torch versions for the numeric checks; and the largest value of its derivative (the
vanishing-gradient bound).

The records are those of :mod:`derive.rules.faces`. The sympy functions of
:mod:`derive.rules.functions` an entry is built from (σ, ReLU and its step, …) come with the entry as
``Written`` records: how each is printed in LaTeX, NumPy and plain text and evaluated in float64.
Printers and evaluators find them by sympy function (:func:`written`), never by activation name.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import sympy
from sympy import Expr, HadamardProduct, Rational, S, exp, log, tanh

from derive.rules.faces import Activation, Helper, Layerwise, Written, paren
from derive.rules.functions import elu, elu_step, leaky_relu, leaky_step, relu, sigmoid, step
from derive.rules.writing import (
    alpha_e_z,
    applied_as,
    exact,
    np_sigmoid,
    np_softmax,
    sigmoid64,
    softmax_values,
    subscript,
    times,
)

# ----------------------------------------------------------------------- the entries
_SIGMOID_HELPER = Helper(
    "sigmoid",
    '''def _sigmoid(z):
    """σ(z) = 1/(1 + e^−z), computed as (1 + tanh(z/2))/2, which cannot overflow."""
    out = np.multiply(z, 0.5)
    np.tanh(out, out=out)
    out *= 0.5
    out += 0.5
    return out''',
)

SIGMOID = Activation(
    name="sigmoid",
    latex=r"\sigma",
    text="σ",
    words={"en": "sigmoid", "zh": "sigmoid"},
    formula=sigmoid,
    derivative=lambda z: sigmoid(z) * (1 - sigmoid(z)),
    derivative_in_output=lambda a: a * (1 - a),
    derivative_in_output_matrix=lambda a, one: HadamardProduct(a, one - a),
    numpy=np_sigmoid,
    torch=lambda torch, z: torch.sigmoid(z),
    code="_sigmoid({z})",
    helpers=(_SIGMOID_HELPER,),
    functions=(
        Written(
            sigmoid,
            latex=applied_as(r"\sigma"),
            code=lambda z: f"_sigmoid({z})",
            text=lambda z: f"σ({z})",
            float64=sigmoid64,
            helpers=("sigmoid",),
        ),
    ),
    reads=("sigma",),
    reads_any_case=("sigmoid",),
    output_range=(0.0, 1.0),
    derivative_bound=Rational(1, 4),
    squashing=True,
)

TANH = Activation(
    name="tanh",
    latex=r"\tanh",
    text="tanh",
    words={"en": "tanh", "zh": "tanh"},
    formula=tanh,
    derivative=lambda z: 1 - tanh(z) ** 2,
    derivative_in_output=lambda a: 1 - a**2,
    derivative_in_output_matrix=lambda a, one: one - HadamardProduct(a, a),
    numpy=np.tanh,
    torch=lambda torch, z: torch.tanh(z),
    code="np.tanh({z})",
    reads=("tanh",),
    output_range=(-1.0, 1.0),
    derivative_bound=S.One,
    squashing=True,
)

RELU = Activation(
    name="relu",
    latex=r"\operatorname{ReLU}",
    text="ReLU",
    words={"en": "ReLU", "zh": "ReLU"},
    formula=relu,
    derivative=step,
    numpy=lambda z: np.maximum(z, 0.0),
    torch=lambda torch, z: torch.relu(z),
    code="np.maximum({z}, 0.0)",
    functions=(
        Written(
            relu,
            latex=applied_as(r"\operatorname{ReLU}"),
            code=lambda z: f"np.maximum({z}, 0.0)",
            text=lambda z: f"ReLU({z})",
            float64=lambda u: u if u > 0 else 0.0,
        ),
        Written(
            step,
            # The Iverson bracket [z > 0]: 1 when z > 0 holds, else 0. Plain glyphs in every engine and in
            # MathML, unlike \mathbb{1} (amssymb's blackboard font has no digit 1) and unlike \mathbf{1}, which
            # is the vector of ones in the matrix forms.
            # \left[ rather than a bare [: after a matrix's row break \\ a bare [ would be read as its spacing.
            latex=lambda z, exp="": rf"\left[{z} > 0\right]" + exp,
            code=lambda z: f"({z} > 0)",
            text=lambda z: f"[{z} > 0]",
            float64=lambda u: 1.0 if u > 0 else 0.0,
        ),
    ),
    reads=("ReLU",),
    reads_any_case=("relu",),
    output_range=(0.0, float("inf")),
    derivative_bound=S.One,
)

_LEAKY_FUNCTIONS = (
    Written(
        leaky_relu,
        latex=lambda z, slope, exp="": applied_as(rf"\operatorname{{LeakyReLU}}_{{{slope}}}")(z, exp),
        code=lambda z, slope: f"np.where({z} > 0, {z}, {slope} * {z})",
        text=lambda z, slope: f"LeakyReLU({z})",
        float64=lambda u, slope: u if u > 0 else slope * u,
    ),
    Written(
        leaky_step,
        latex=lambda z, slope, exp="": (
            paren(rf"\begin{{cases}} 1 & {z} > 0 \\ {slope} & {z} \le 0 \end{{cases}}") + exp
        ),
        code=lambda z, slope: f"np.where({z} > 0, 1.0, {slope})",
        text=lambda z, slope: f"(1 if {z} > 0 else {slope})",
        float64=lambda u, slope: 1.0 if u > 0 else slope,
    ),
)


def leaky(slope: float = 0.01) -> Activation:
    """Leaky ReLU with the given slope α for z ≤ 0 (kept as an exact rational)."""
    alpha = exact(slope)
    return Activation(
        name="leaky_relu",
        latex=r"\operatorname{LeakyReLU}",
        text="LeakyReLU",
        words={"en": "leaky ReLU", "zh": "Leaky ReLU"},
        formula=lambda z: leaky_relu(z, alpha),
        derivative=lambda z: leaky_step(z, alpha),
        numpy=lambda z: np.where(z > 0, z, float(alpha) * z),
        torch=lambda torch, z: torch.nn.functional.leaky_relu(z, float(alpha)),
        code=_LEAKY_FUNCTIONS[0].code("{z}", repr(float(alpha))),
        functions=_LEAKY_FUNCTIONS,
        output_range=(float("-inf"), float("inf")),
        derivative_bound=sympy.Max(S.One, abs(alpha)),
        options={"slope": alpha},
        configure=leaky,
    )


SOFTMAX = Activation(
    name="softmax",
    latex=r"\operatorname{softmax}",
    text="softmax",
    words={"en": "softmax", "zh": "softmax"},
    layer=Layerwise(
        values=softmax_values,
        jacobian=lambda i, k, a: a[i] * ((1 if i == k else 0) - a[k]),
        matrix=lambda a: sympy.DiagMatrix(a) - a * a.T,
        back=lambda a, v: a * (v - a @ v),
        back_code="_softmax_back({a}, {v})",
        back_helpers=(
            Helper(
                "softmax_back",
                '''def _softmax_back(a, v):
    """Jᵀ v row by row (or of one 1-D sample), for the softmax Jacobian J = diag(a) − a aᵀ: a ⊙ (v − (a · v))."""
    return a * (v - np.sum(a * v, axis=-1, keepdims=True))''',
            ),
        ),
    ),
    numpy=np_softmax,
    torch=lambda torch, z: torch.softmax(z, dim=1),
    code="_softmax({z})",
    helpers=(
        Helper(
            "softmax",
            '''def _softmax(z):
    """softmax(z) row by row (or of one 1-D sample), with the largest z subtracted first so that e^z cannot overflow."""
    if z.ndim == 1:
        e = np.exp(z - z.max())
        e /= e.sum()
        return e
    e = np.exp(z - z.max(axis=1, keepdims=True))
    e /= e.sum(axis=1, keepdims=True)
    return e''',
        ),
    ),
    reads_any_case=("softmax",),
    output_range=(0.0, 1.0),
    derivative_bound=Rational(1, 4),
)

IDENTITY = Activation(
    name="identity",
    latex=r"\operatorname{id}",
    text="id",
    reads=("id",),  # as documents print its derivative, \operatorname{id}'(z)
    words={"en": "identity", "zh": "恒等函数"},
    formula=lambda z: z,
    derivative=lambda z: S.One,
    derivative_in_output=lambda a: S.One,
    numpy=lambda z: z,
    torch=lambda torch, z: z,
    code="{z}",
    output_range=(float("-inf"), float("inf")),
    derivative_bound=S.One,
)

# softplus(z) = log(1 + e^z), a smooth ReLU. Its derivative is σ(z); it is not also written in the output a
# as 1 − e^{−a}: that costs the same exponential and, for z ≪ 0 where a is tiny, loses every digit to
# cancellation (in float64, 1 − e^{−a} is 0 once a < 1e-16), while σ(z) stays exact.
SOFTPLUS = Activation(
    name="softplus",
    latex=r"\operatorname{softplus}",
    text="softplus",
    words={"en": "softplus", "zh": "softplus"},
    formula=lambda z: log(1 + exp(z)),
    derivative=sigmoid,
    numpy=lambda z: np.logaddexp(0.0, z),
    # torch's softplus returns z itself above its threshold (20 by default), 2e-9 off in value and slope;
    # from 40 on, log(1 + e^z) is z to every float64 digit.
    torch=lambda torch, z: torch.nn.functional.softplus(z, threshold=40.0),
    code="np.logaddexp(0.0, {z})",
    reads_any_case=("softplus",),
    output_range=(0.0, float("inf")),
    derivative_bound=S.One,
)

_ELU_FUNCTIONS = (
    Written(
        elu,
        # α = 1, the default, is not written: ELU(z); another α as a subscript, ELU_{1/2}(z), as leaky ReLU's slope.
        latex=lambda z, alpha, exp="": applied_as(r"\operatorname{ELU}" + subscript(alpha))(z, exp),
        # e^z only where z ≤ 0 (np.minimum): e^z of a large positive z would overflow in the branch np.where drops.
        code=lambda z, alpha: f"np.where({z} > 0, {z}, {times(alpha)}np.expm1(np.minimum({z}, 0.0)))",
        text=lambda z, alpha: f"ELU({z})",
        float64=lambda u, alpha: u if u > 0 else alpha * math.expm1(u),
    ),
    Written(
        elu_step,
        latex=lambda z, alpha, exp="": (
            paren(rf"\begin{{cases}} 1 & {z} > 0 \\ {alpha_e_z(z, alpha)} & {z} \le 0 \end{{cases}}") + exp
        ),
        code=lambda z, alpha: f"np.where({z} > 0, 1.0, {times(alpha)}np.exp(np.minimum({z}, 0.0)))",
        text=lambda z, alpha: f"(1 if {z} > 0 else {times(alpha)}exp({z}))",
        float64=lambda u, alpha: 1.0 if u > 0 else alpha * math.exp(u),
    ),
)


def exponential_linear(alpha: float = 1.0) -> Activation:
    """ELU with the given α ≥ 0 (kept as an exact rational): z for z > 0, α(e^z − 1) for z ≤ 0.

    Its derivative is written in z, α e^z for z ≤ 0, not in its output as a + α: for z ≪ 0, where a is
    −α to every digit, a + α loses all of them (as softplus's 1 − e^{−a} would), while α e^z stays exact.
    """
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not math.isfinite(alpha):
        raise ValueError(f"must be a finite number, got {alpha!r}")
    if alpha < 0:
        raise ValueError(f"must be at least 0, got {alpha!r}")
    a = exact(alpha)
    return Activation(
        name="elu",
        latex=r"\operatorname{ELU}",
        text="ELU",
        words={"en": "ELU", "zh": "ELU"},
        formula=lambda z: elu(z, a),
        derivative=lambda z: elu_step(z, a),
        numpy=lambda z: np.where(z > 0, z, float(a) * np.expm1(np.minimum(z, 0.0))),
        torch=lambda torch, z: torch.nn.functional.elu(z, alpha=float(a)),
        code=_ELU_FUNCTIONS[0].code("{z}", repr(float(a))),
        functions=_ELU_FUNCTIONS,
        reads_any_case=("elu",),
        output_range=(float(-a), float("inf")),
        derivative_bound=sympy.Max(S.One, a),
        options={"alpha": a},
        configure=exponential_linear,
    )


# SiLU(z) = z σ(z) (also called swish), smooth and not monotone: its least value is −0.2785 at z ≈ −1.2785,
# its derivative σ(z)(1 + z(1 − σ(z))) lies in (−0.0999, 1.0999), largest at z ≈ 2.3994. The derivative needs
# z as well as a, so it is written in z only. output_range holds what it approaches far out, 0 and ∞.
SILU = Activation(
    name="silu",
    latex=r"\operatorname{SiLU}",
    text="SiLU",
    words={"en": "SiLU", "zh": "SiLU"},
    formula=lambda z: z * sigmoid(z),
    derivative=lambda z: sigmoid(z) * (1 + z * (1 - sigmoid(z))),
    numpy=lambda z: z * np_sigmoid(z),
    torch=lambda torch, z: torch.nn.functional.silu(z),
    code="{z} * _sigmoid({z})",
    helpers=(_SIGMOID_HELPER,),
    reads_any_case=("silu", "swish"),
    aliases=("swish",),
    output_range=(0.0, float("inf")),
    derivative_bound=Rational(11, 10),  # a bound of |g'| (1.09984 at most), as the vanishing-gradient bound needs
)

# Every activation a spec may name, in the order error messages list them.
REGISTRY: dict[str, Activation] = {
    act.name: act for act in (SIGMOID, TANH, RELU, leaky(), SOFTMAX, IDENTITY, SOFTPLUS, exponential_linear(), SILU)
}


# --------------------------------------------------------------------- reading it
# Views of the registry that readers ask for at every word or function, made again only when an entry
# is added, removed or replaced (a test may add one), so that the registry stays the one place to edit.
_VIEWS: dict[str, tuple[tuple[int, ...], Any]] = {}


def _view(key: str, build: Callable[[], Any]) -> Any:
    state = tuple(map(id, REGISTRY.values()))
    cached = _VIEWS.get(key)
    if cached is None or cached[0] != state:
        cached = _VIEWS[key] = (state, build())
    return cached[1]


def names() -> tuple[str, ...]:
    """The names a spec may give, in the registry's order."""
    return tuple(REGISTRY)


def canonical(name: str) -> str | None:
    """The registry's name for ``name``, a name or an alias a spec may give ("swish" is silu), or None."""
    if name in REGISTRY:
        return name
    return _view("aliases", lambda: {alias: act.name for act in REGISTRY.values() for alias in act.aliases}).get(name)


def get(name: str, **options: float | None) -> Activation:
    """The activation called ``name`` (or an alias), configured by the options given (not None) that it takes."""
    act = REGISTRY[canonical(name) or name]
    given = {key: value for key, value in options.items() if value is not None}
    return act.configure(**given) if given and act.configure is not None else act


def _readings() -> tuple[dict[str, Activation], dict[str, Activation]]:
    exact = {word: act for act in REGISTRY.values() for word in act.reads}
    folded = {word: act for act in REGISTRY.values() for word in act.reads_any_case}
    return exact, folded


def read(word: str) -> Activation | None:
    """The activation the formula reader takes ``word`` for, or None."""
    exact, folded = _view("read", _readings)
    return exact.get(word) or folded.get(word.lower())


def spellings() -> set[str]:
    """Every name of an activation, as the registry spells it, that the formula reader takes."""
    return _view("spellings", lambda: {word for readings in _readings() for word in readings})


def commands() -> set[str]:
    """LaTeX commands that name an activation (\\sigma, \\tanh), without the backslash."""
    return _view(
        "commands",
        lambda: {act.latex[1:] for act in REGISTRY.values() if re.fullmatch(r"\\[A-Za-z]+", act.latex)},
    )


def letters() -> dict[str, str]:
    """Single letters that name an activation in plain text (σ), with the LaTeX command they stand for."""
    return _view(
        "letters",
        lambda: {
            act.text: act.latex[1:] for act in REGISTRY.values() if len(act.text) == 1 and act.latex[1:] in commands()
        },
    )


def differentiable_names() -> list[str]:
    """The plain-text names of the activations the reader takes with a prime (σ', tanh', …)."""
    return [act.text for act in REGISTRY.values() if act.elementwise and (act.reads or act.reads_any_case)]


def written(function: type) -> Written | None:
    """How the sympy function ``function`` is written and evaluated, if an activation introduced it."""
    return _view("written", lambda: {w.function: w for act in REGISTRY.values() for w in act.functions}).get(function)


def with_formula(expr: Expr, z: Expr) -> Activation | None:
    """The per-neuron activation whose formula at z is ``expr``, or None."""
    return next((act for act in REGISTRY.values() if act.elementwise and act.formula(z) == expr), None)
