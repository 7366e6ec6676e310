"""An identity about an activation, such as σ'(z) = σ(z)(1 − σ(z)): both sides as functions of one variable z.

Not a gradient of the network: the left side is an activation's derivative at a variable (``\\sigma'(z)``,
``\\mathrm{ReLU}'(z)``, ``f'(z)``, the notation's function letter: Bishop's ``h'(a)``) or the notation's output
letter primed (``a' = a(1 - a)``, the derivative of the activation the network uses, in its output). The right
side is built from the variable, the output letter (the same function at the variable), the activations of the
registry, exp, log, the unit step and arithmetic; it is compared with the registry's derivative at seeded values
of z over the real line. The function read is named: the network's (with its layer's options) or, when the network
does not use it, the registry's. The variable may be the notation's pre-activation letter (Bishop's a, with z his
activation), and the notation's function letter is read as a function where it is written with its argument
(``h(a)^2``); a letter read with a meaning not derive's own is noted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import sympy
from sympy import Expr, Symbol

from derive.model.network import Network
from derive.model.notation import DEFAULT_MEANINGS, LETTER_LATEX
from derive.present.latex import latex
from derive.rules import activations, floats
from derive.rules.faces import Activation
from derive.rules.functions import step
from derive.verify.findings import Judged, LetterMeaning, Note
from derive.verify.points import close
from derive.verify.scalars import Arithmetic
from derive.verify.syntax import (
    BinOp,
    Call,
    Formula,
    Name,
    Node,
    Paren,
    Pow,
    UndefinedError,
    fail,
)

VARIABLES = ("z", "x", "u", "t", "s", "v")  # the letters an identity's variable is written with
SPAN = 6.0  # the values of z drawn from [−SPAN, SPAN]
VALUES = 12  # how many, seeded
POWER = 8  # the largest power written in an identity (σ^2, tanh^3)
_FUNCTIONS = {"exp": sympy.exp, "log": sympy.log, "ln": sympy.log, "step": step}


@dataclass(frozen=True)
class IdentityFunction(Note):
    """The function an identity's left side differentiates: ``name`` as the registry calls it, and ``layers`` of
    the network that use it (empty: read from derive's registry of activations, the network does not use it)."""

    code = "identity_function"
    name: str
    layers: tuple[int, ...]
    span: float = 0.0  # the variable's values were drawn from [−span, span]
    options: str = ""  # the network's options of the function, such as "alpha = 0.5"


@dataclass(frozen=True)
class Identity:
    """An identity read: the activation, its variable, both sides as sympy expressions in that variable."""

    act: Activation
    variable: Symbol
    left: Expr
    right: Expr
    note: IdentityFunction
    letters: tuple[Note, ...] = ()  # letters read with the notation's meaning, not derive's own


def recognize(formula: Formula, net: Network) -> bool:
    """Whether a formula states an identity about an activation: its left side is g'(v) or a primed output letter."""
    lhs = formula.lhs
    if lhs is None or formula.relation != "=":
        return False
    if isinstance(lhs, Call):
        func = lhs.func
        return (
            func.primes == 1
            and func.sub is None
            and func.sup is None
            and len(lhs.args) == 1
            and _variable(lhs.args[0], net) is not None
            and (func.base in net.notation.function_letters or _elementwise(func.base) is not None)
        )
    return isinstance(lhs, Name) and lhs.primes == 1 and not (lhs.digits or lhs.sub or lhs.sup or lhs.bracket)


def read(formula: Formula, net: Network) -> Identity:
    """Both sides of an identity as functions of its variable; FormulaError for what an identity cannot hold."""
    lhs = formula.lhs
    assert lhs is not None
    if isinstance(lhs, Call):
        variable = Symbol(_variable(lhs.args[0], net) or net.notation.pre_activation, real=True)
        base = lhs.func.base
        generic = base in net.notation.function_letters
        act, layers = _network_function(formula, net, lhs) if generic else _named(net, base)
    elif lhs.base == net.notation.function:  # Bishop's h' = 1 − z²: h' at his pre-activation a
        variable = Symbol(net.notation.pre_activation, real=True)
        lhs = Call(lhs, (Name(variable.name, lhs.pos),), lhs.pos)
        act, layers = _network_function(formula, net, lhs)
    else:
        if not _is_output(lhs, net):
            letters = " or ".join(sorted(_output_letters(net)))
            raise fail(
                formula.text,
                0,
                f"{formula.side(0)} is read as an identity only of the activation's output, {letters} in this"
                " notation; another letter for it needs the notation's letter option, or name the function:"
                " \\sigma'(z) = …",
            )
        variable = Symbol(net.notation.pre_activation, real=True)  # h' = 1 - h^2: in the notation's letter
        act, layers = _network_function(formula, net, lhs)
    assert act.derivative is not None and act.formula is not None
    builder = _Builder(formula, net, act, variable)
    right = builder.build(formula.rhs)
    options = ", ".join(f"{key} = {float(value):g}" for key, value in act.options.items()) if layers else ""
    note = IdentityFunction(act.name, layers, SPAN, options)
    if isinstance(lhs, Call) and lhs.func.base == net.notation.function:
        builder.meant(lhs.func.base, "function")
    if variable.name == net.notation.pre_activation:
        builder.meant(variable.name, "pre_activation")
    return Identity(act, variable, act.derivative(variable), right, note, tuple(dict.fromkeys(builder.notes)))


def judge(formula: Formula, net: Network, seed: int) -> Judged:
    """Right when both sides agree at every seeded value of the variable; else the first value where they differ."""
    found = read(formula, net)
    z = found.variable
    drawn = values(seed)
    counter = None
    rights = [evaluate(found.right, z, value) for value in drawn]
    if not any(math.isfinite(right) for right in rights):
        raise fail(formula.text, formula.spans[1][0], f"the right side has no value for any {z} tried", UndefinedError)
    for value, right in zip(drawn, rights, strict=True):
        left = evaluate(found.left, z, value)
        if not close(right, left):
            counter = (z.name, {z.name: value}, right, left)
            break
    function = found.act.formula(z)  # type: ignore[misc]
    correct = f"{found.act.latex}'({_shown(z, z, net)}) = {_shown(found.left, z, net)}"  # in the variable as read
    target = _shown(function, z, net)
    notes = (found.note, *found.letters)
    return Judged(counter is None, target, correct, len(drawn), counter, notes, variable=z.name)


def values(seed: int) -> list[float]:
    """The seeded values of z both sides are compared at: over [−SPAN, SPAN], both signs, none at a kink (0)."""
    drawn = [float(v) if abs(v) > 1e-3 else 0.5 for v in np.random.default_rng(seed).uniform(-SPAN, SPAN, VALUES)]
    if all(v > 0 for v in drawn) or all(v < 0 for v in drawn):  # ReLU' = 1 is wrong only below 0
        drawn[0] = -drawn[0]
    return drawn


def evaluate(expr: Expr, variable: Symbol, value: float) -> float:
    """One side at one value of the variable, in float64 (nan where it is undefined)."""
    try:
        return floats.evaluate(expr, {variable: value})
    except (ValueError, ZeroDivisionError, OverflowError, TypeError):  # TypeError: sympy's zoo (1/0)
        return float("nan")


def _shown(expr: Expr, variable: Symbol, net: Network) -> str:
    """An expression in LaTeX with the variable written as read (the printer would spell z as the notation's
    pre-activation letter, and a as its activation)."""
    shown = sympy.Dummy("variable", real=True)
    letter = LETTER_LATEX.get(variable.name, variable.name)
    return latex(expr.xreplace({variable: shown}), net, symbol_names={shown: letter})


# ---------------------------------------------------------------- reading the sides
def _variable(node: Node, net: Network) -> str | None:
    """The identity's variable: one of VARIABLES, or the notation's pre-activation letter (Goodfellow's a); never the
    letter of the activation's output."""
    letters = {*VARIABLES, net.notation.pre_activation} - _output_letters(net)
    return node.base if isinstance(node, Name) and _bare(node) and node.base in letters else None


def _bare(node: Name) -> bool:
    return not (node.digits or node.sub or node.sup or node.hat or node.bracket)


def _output_letters(net: Network) -> set[str]:
    """The letters of an activation's output in the notation: its activation letter (a, or h, o … as declared),
    and the output's own letter when it is one."""
    output = net.notation.output
    return {net.notation.activation, "y" if output == "yhat" else output}


def _is_output(node: Name, net: Network) -> bool:
    """Whether a name is the activation's output letter: a, or the output's (ŷ written with its hat)."""
    return node.base in _output_letters(net) and node.hat == (node.base == "y" and net.notation.output == "yhat")


def _elementwise(base: str) -> Activation | None:
    act = activations.read(base)
    return act if act is not None and act.elementwise and act.derivative is not None else None


def _named(net: Network, base: str) -> tuple[Activation, tuple[int, ...]]:
    """The activation a name reads as: the network's own (with its options) where its layers use it."""
    act = _elementwise(base)
    assert act is not None
    layers = tuple(k for k in range(1, net.depth + 1) if net.layers[k - 1].activation == act.name)
    options = {tuple(net.activation(k).options.items()) for k in layers}
    if len(options) == 1:
        return net.activation(layers[0]), layers
    return act, layers if not layers else ()


def _network_function(formula: Formula, net: Network, node: Node) -> tuple[Activation, tuple[int, ...]]:
    """f, g or a primed output letter: the one per-neuron activation of the network (the output's, for its letter)."""
    if isinstance(node, Name) and node.base != net.notation.activation:  # ŷ, y, o: the output layer's
        layers: tuple[int, ...] = (net.depth,)
    else:
        layers = tuple(range(1, net.depth + 1))
    used = {net.activation(k).name for k in layers if net.activation(k).elementwise}
    hidden = tuple(range(1, net.depth))
    if len(used) != 1 and isinstance(node, Call) and node.func.base == net.notation.function and hidden:
        layers = hidden  # Bishop's h is the hidden units' function; the output units have their own
        used = {net.activation(k).name for k in layers if net.activation(k).elementwise}
    if len(used) != 1:
        names = ", ".join(sorted({net.activation(k).name for k in layers}))
        what = formula.side(0)
        raise fail(formula.text, 0, f"{what}: the network's layers use {names}; name the function, such as \\sigma'(z)")
    (name,) = used
    own = tuple(k for k in layers if net.activation(k).name == name)
    options = {tuple(net.activation(k).options.items()) for k in own}
    if len(options) != 1:
        raise fail(formula.text, 0, f"{formula.side(0)}: its layers differ in their options; name the function")
    return net.activation(own[0]), own


class _Builder(Arithmetic):
    """The right side as a sympy expression in the variable: nothing else is a name in an identity."""

    def __init__(self, formula: Formula, net: Network, act: Activation, variable: Symbol) -> None:
        self.formula, self.net, self.act, self.variable = formula, net, act, variable
        self.notes: list[Note] = []

    PRODUCTS = ("*", "odot")

    def meant(self, letter: str, meaning: str) -> None:
        """Note a letter read with the notation's meaning where derive's own differs (Bishop's a, z and h)."""
        if DEFAULT_MEANINGS.get(letter, meaning) != meaning:
            self.notes.append(LetterMeaning(letter, meaning))

    def build(self, node: Node) -> Expr:
        if isinstance(node, BinOp) and node.op == "*":
            node = _applied(node, self.net.notation.function)
        return super().build(node)

    def other(self, node: Node) -> Expr:
        if isinstance(node, BinOp):  # its sides are read first, as for any operator, then the operator refused
            self.build(node.left), self.build(node.right)
            raise self.error(node, f"{node.op} is not read in an identity")
        if isinstance(node, Pow):
            return self.power(node, self.build(node.base), node.exp)
        if isinstance(node, Name):
            return self.name(node)
        if isinstance(node, Call):
            return self.call(node)
        raise self.error(node, "an identity about an activation is read only in its variable and functions of it")

    def power(self, node: Node, base: Expr, exp: Node) -> Expr:
        value = self.build(exp)
        if base is sympy.E:  # e^{-z}
            return sympy.exp(value)
        if not value.is_Integer or abs(int(value)) > POWER:
            raise self.error(node, f"a power in an identity is a whole number up to {POWER}, such as \\tanh^2(z)")
        return base ** int(value)

    def name(self, node: Name) -> Expr:
        if node.sub or node.digits or node.bracket or node.primes:
            raise self.error(node, f"{node.base}: an identity is read in one variable, such as z, and the output a")
        if node.base == self.variable.name and not node.hat:
            value: Expr = self.variable
        elif node.base in _output_letters(self.net) and node.hat == (
            node.base == "y" and self.net.notation.output == "yhat"
        ):
            value = self.act.formula(self.variable)  # type: ignore[misc]
            if node.base == self.net.notation.activation:
                self.meant(node.base, "activation")
        elif node.base == "e" and not node.hat:
            value = sympy.E
        else:
            raise self.error(node, f"{node.base} is not the identity's variable {self.variable} or its output a")
        return self.power(node, value, node.sup) if node.sup is not None else value

    def call(self, node: Call) -> Expr:
        func = node.func
        if len(node.args) != 1:
            raise self.error(node, f"{func.base} takes one argument in an identity")
        arg = self.build(node.args[0])
        if func.primes > 1 or func.sub is not None:
            raise self.error(node, f"{func.base}: an identity reads a first derivative, without a subscript")
        if func.base in self.net.notation.function_letters:
            act: Activation | None = self.act
        else:
            act = _named(self.net, func.base)[0] if _elementwise(func.base) is not None else None
        if act is not None:
            fn = act.derivative if func.primes else act.formula
        elif func.base in _FUNCTIONS and not func.primes:
            fn = _FUNCTIONS[func.base]
        else:
            raise self.error(node, f"{func.base} is not an activation, exp, log or the step")
        assert fn is not None
        value = fn(arg)
        return self.power(node, value, func.sup) if func.sup is not None else value


def _applied(node: BinOp, letter: str) -> Node:
    """A product whose factor is the notation's function letter followed by a bracket, h (a) or h (a)^2, with that
    factor read as the call h(a) (its square (h(a))^2): the parser, which knows no notation, reads h as a letter."""
    if letter == "named":
        return node
    factors: list[Node] = []
    stack: list[Node] = [node]
    while stack:  # the product's factors, left to right
        top = stack.pop()
        if isinstance(top, BinOp) and top.op == "*":
            stack += [top.right, top.left]
        else:
            factors.append(top)
    out: list[Node] = []
    k = 0
    while k < len(factors):
        here = factors[k]
        after = factors[k + 1] if k + 1 < len(factors) else None
        func = here if isinstance(here, Name) and here.base == letter and _bare(here) and not here.primes else None
        if func is not None and isinstance(after, Paren):
            out.append(Call(func, (after.body,), func.pos))
            k += 2
        elif func is not None and isinstance(after, Pow) and isinstance(after.base, Paren):
            out.append(Pow(Call(func, (after.base.body,), func.pos), after.exp, after.pos))
            k += 2
        else:
            out.append(here)
            k += 1
    if len(out) == len(factors):
        return node
    product = out[0]
    for factor in out[1:]:
        product = BinOp("*", product, factor, getattr(factor, "pos", node.pos))
    return product
