"""A verdict as text for a person, through ``templates/verdict/<lang>.j2``.

Python chooses what is shown (:func:`listing`: a few of a counterexample's 784 inputs and how many there
are), the templates how it reads.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import sympy
from sympy.printing.precedence import precedence
from sympy.printing.str import StrPrinter

from derive.model.notation import LETTER_LATEX
from derive.rules import activations
from derive.templating import ENV, require_lang

if TYPE_CHECKING:
    from derive.model.network import Network
    from derive.model.notation import Notation
    from derive.rules.faces import Activation
    from derive.verify.findings import Diagnosis
    from derive.verify.formula_file import Entry


class Counterexample(Protocol):
    """The values of a counterexample that the words list (:class:`derive.verify.verdict.Counterexample`)."""

    inputs: Mapping[str, float]
    targets: Mapping[str, float]
    parameters: Mapping[str, float]
    named: Collection[str]


class Verdict(Protocol):
    """What the words read of a verdict in Python; the templates read the rest of :class:`derive.verify.Verdict`.

    A protocol, not an import: :mod:`derive.verify.verdict` imports this module to give verdicts their ``text``.
    """

    network: Network
    param: str
    formula: str
    correct: str
    diagnoses: tuple[Diagnosis, ...]
    counterexample: Counterexample | None

    def __bool__(self) -> bool: ...


def _notation(net: Network) -> dict[str, object]:
    """The notation's facts and letters the words need, in plain text: a verdict speaks the reader's letters."""
    notation = net.notation
    ll = notation.layer_letter
    act = plain_letter(notation.activation)
    return {
        "weight": notation.weight_text,
        "index_order": notation.index_order,
        "delta": notation.delta,
        "cost": notation.cost,
        "depth": net.depth,
        "weight_layer": notation.weight_layer,
        "input_layer": notation.input_layer,
        "layer_l": f"^{ll}" if notation.layer_marker == "bare" else f"^{{({ll})}}",
        "pre_activation": plain_letter(notation.pre_activation),
        "activation": act,
        "target": notation.target,
        "output": _output(notation, act),
        "input": plain_letter(notation.spelled("x")),
        "script": {k: _script(notation.layer_marker, k) for k in (0, 1)},
        "factor": {layer: _factor(net, layer) for layer in (None, *range(1, net.depth + 1))},
        "function": {layer: _function(net, layer) for layer in (None, *range(1, net.depth + 1))},
        "layout": notation.layout,
        "batch": notation.batch,
    }


# Greek spellings a quantity takes when node letters use its Latin letter (Notation.spelled), as plain text
_GREEK = {r"\xi": "ξ", r"\zeta": "ζ", r"\alpha": "α", r"\beta": "β", r"\varepsilon": "ε", r"\mathrm{net}": "net"}
_GREEK |= {r"\varphi": "φ"}  # Wikipedia's activation function (notation.function = "phi")


def plain_letter(letter: str) -> str:
    """A quantity's letter as plain text: net, o, ζ (never LaTeX)."""
    return _GREEK.get(letter, letter)


def _output(notation: Notation, activation: str) -> str:
    """The network's output as plain text: the activation's letter, or the notation's own (ŷ, y, o, p)."""
    return {"a": activation, "yhat": "ŷ"}.get(notation.output, notation.output)


def _script(marker: str, layer: int) -> str:
    """A layer written on a letter as the notation marks it: ^{(1)}, or bare ^1."""
    return f"^{layer}" if marker == "bare" else f"^{{({layer})}}"


def _activation(net: Network, layer: int | None) -> Activation | None:
    """The activation of ``layer``; for a general layer (None), the one every layer shares, else None."""
    if layer is not None:
        return net.activation(layer)
    acts = {net.activation(k).name: net.activation(k) for k in range(1, net.depth + 1)}
    return next(iter(acts.values())) if len(acts) == 1 else None


def _function(net: Network, layer: int | None) -> str:
    """The activation function's letter in a reason: the notation's (h, f, g), else the activation's own name (σ,
    tanh), else g for a general layer whose layers differ."""
    notation = net.notation
    if notation.function != "named":
        return plain_letter(LETTER_LATEX.get(notation.function, notation.function))
    act = _activation(net, layer)
    return act.text if act is not None else notation.function_latex


def _factor(net: Network, layer: int | None) -> str:
    """The activation derivative of a layer as a reason names it, in the notation's letters: σ'(z) = a(1 − a) by
    default, h'(a) = 1 − z² in Bishop's (h = tanh), ReLU'(z) = [z > 0]; the function alone where no short form is."""
    notation = net.notation
    pre, act = plain_letter(notation.spelled("z")), plain_letter(notation.spelled("a"))
    if layer == net.depth:  # the output layer's activation may have a letter of its own
        act = _output(notation, act)
    head = f"{_function(net, layer)}'({pre})"
    activation = _activation(net, layer)
    if activation is None or not activation.elementwise:
        return head
    z, a = sympy.Symbol("z", real=True), sympy.Symbol("a", real=True)
    if activation.derivative_in_output is not None:
        body = _Plain({a: act}).doprint(activation.derivative_in_output(a))
    else:
        body = _Plain({z: pre}).doprint(activation.derivative(z))
    return head if " if " in body or body == "1" else f"{head} = {body}"


class _Plain(StrPrinter):
    """A small expression in one neuron's letters as plain text: a(1 − a), 1 − z², [z > 0]."""

    def __init__(self, names: dict[sympy.Symbol, str]) -> None:
        super().__init__({"order": "none"})
        self.names = names

    def _print_Symbol(self, expr: sympy.Symbol) -> str:
        return self.names.get(expr, expr.name)

    def _print_Function(self, expr: sympy.Expr) -> str:
        written = activations.written(type(expr))
        if written is not None:
            return written.text(*(self._print(arg) for arg in expr.args))
        return super()._print_Function(expr)

    def _print_Pow(self, expr: sympy.Expr, rational: bool = False) -> str:
        if expr.exp == 2:
            return self.parenthesize(expr.base, precedence(expr) + 1) + "²"
        return super()._print_Pow(expr, rational)

    def _print_Mul(self, expr: sympy.Expr) -> str:
        coeff, rest = expr.as_coeff_Mul()
        parts = [self.parenthesize(f, precedence(expr)) for f in sympy.Mul.make_args(rest)]
        parts.sort(key=lambda part: part.startswith("("))  # a(1 − a): the bracket last
        body = "".join(p if p.startswith("(") or k == 0 else f" {p}" for k, p in enumerate(parts))
        if coeff == -1:
            return f"-{body}"
        return body if coeff == 1 else f"{self._print(coeff)}{body}"

    def doprint(self, expr: sympy.Expr) -> str:
        out = super().doprint(expr).replace(" - ", " − ")
        return f"−{out[1:]}" if out.startswith("-") else out


WHOLE = 40  # a list of at most this many values is shown whole (all the parameters of a network of up to 40)
FIRST = 3  # of a longer list, the first values are shown,
SHOWN = 8  # and those the formula uses, up to this many in all


@dataclass(frozen=True)
class Listing:
    """Values as a verdict shows them: (name, value) in order, None where some are left out, and how many there are.

    A counterexample on 784 inputs shows three of them and says "… (784 values)", not all 784.
    """

    shown: tuple[tuple[str, float] | None, ...]
    count: int
    more: bool  # values follow the last one shown

    @property
    def whole(self) -> bool:
        return not self.more and None not in self.shown


def listing(values: Mapping[str, float], named: Collection[str] = ()) -> Listing:
    """The values to show: all of them up to WHOLE, else the first FIRST and those ``named``, SHOWN at most."""
    items = list(values.items())
    if len(items) <= WHOLE:
        return Listing(tuple(items), len(items), False)
    keep = sorted({*range(FIRST), *(k for k, (name, _) in enumerate(items) if name in named)})[:SHOWN]
    shown: list[tuple[str, float] | None] = []
    for before, k in zip([-1, *keep], keep, strict=False):
        if k != before + 1:
            shown.append(None)
        shown.append(items[k])
    return Listing(tuple(shown), len(items), keep[-1] < len(items) - 1)


def render(v: Verdict, lang: str = "en") -> str:
    """The verdict in ``lang`` (en or zh)."""
    require_lang(lang)
    c = v.counterexample
    shown = None
    if c is not None:
        shown = {key: listing(getattr(c, key), c.named) for key in ("inputs", "targets", "parameters")}
    template = ENV.get_template(f"verdict/verdict_{lang}.j2")
    return template.render(v=v, n=_notation(v.network), shown=shown).rstrip() + "\n"


@dataclass(frozen=True)
class Row:
    """One line of the table of a formula list."""

    verdict: str
    where: str
    param: str
    formula: str
    right: bool
    correct: str
    diagnoses: tuple[Diagnosis, ...]
    error: str


def table(results: list[tuple[Entry, Verdict | None, str | None]], net: Network, lang: str = "en") -> str:
    """A table of verdicts with the closing line ``N passed, M failed``."""
    require_lang(lang)
    rows = []
    for entry, v, error in results:
        status = "error" if error else ("right" if v else "wrong")
        rows.append(
            Row(
                verdict=f"{status:5}",
                where=entry.where,
                param=v.param if v is not None else (entry.param or ""),
                formula=v.formula if v is not None else entry.formula,
                right=bool(v),
                correct=v.correct if v is not None else "",
                diagnoses=v.diagnoses if v is not None else (),
                error=(error or "").removeprefix("formula: "),
            )
        )
    passed = sum(1 for r in rows if r.right)
    errors = sum(1 for r in rows if r.error)
    return (
        ENV.get_template(f"verdict/table_{lang}.j2")
        .render(rows=rows, passed=passed, failed=len(rows) - passed - errors, errors=errors, n=_notation(net))
        .rstrip()
        + "\n"
    )
