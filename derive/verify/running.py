"""Goodfellow's running gradient g (algorithm 6.4): what g holds, fixed from the line it is written in.

The algorithm carries one gradient g down the network and overwrites it line by line: ``g ← ∇_{\\hat{y}} J = …``,
``g ← ∇_{a^{(k)}} J = g ⊙ f'(a^{(k)})``, ``∇_{W^{(k)}} J = g h^{(k-1)⊤} + …``, ``g ← ∇_{h^{(k-1)}} J = W^{(k)⊤} g``.
The gradient a line states names what g holds before it: by the pre-activation a^{(e)}, g is ∇_{h^{(e)}} J (the
line before ended there); by the activation h^{(e)}, or by W^{(e)} or b^{(e)}, g is ∇_{a^{(e+1)}} J or ∇_{a^{(e)}} J.
A line is rewritten with each g as that gradient (``∇_{…} J``, which the reader knows), and the verdict notes every
g it read. g is the running gradient only where the notation gives it no other meaning (a function letter f or h).
A g whose gradient the line does not fix is not understood, naming why.
"""

from __future__ import annotations

from dataclasses import fields, replace

import sympy

from derive.model.network import Network
from derive.verify.findings import RunningGradient
from derive.verify.syntax import BinOp, Call, Formula, FormulaError, Name, Node, Num, Paren, PartialNode, walk

LETTER = "g"
WEIGHTS = ("W", "w", "theta", "Theta")


def applies(formula: Formula, net: Network) -> bool:
    """Whether the formula writes the running gradient g: a bare g, under a notation whose function letter is not g."""
    if net.notation.function in ("named", LETTER) or LETTER in net.notation.letters:
        return False
    return any(_uses_g(side) for side in (formula.lhs, formula.rhs, *formula.more) if side is not None)


def read(formula: Formula, net: Network) -> tuple[Formula, tuple[RunningGradient, ...]]:
    """The formula with every g written as the gradient it holds there, and the notes saying so."""
    cost = Name("J" if net.regularization is not None else net.notation.cost, 0)  # Goodfellow's J = L + λΩ
    lhs = formula.lhs
    if lhs is not None and _is_g(lhs):
        if formula.relation == "=":
            raise _unfixed(formula, "g = … compares the running gradient with a value; assign it, g ← …")
        if formula.more:  # g ← ∇_v J = … : the statement is ∇_v J = …, and g holds ∇_v J after the line
            stated = formula.rhs
            if not _gradient_by(stated):
                raise _unfixed(formula, "g ← … = … needs the gradient g takes, such as g ← \\nabla_{a^{(k)}} J = …")
            rest = tuple(_substitute(side, _before(formula, stated, net)) for side in formula.more)
            rewritten = Formula(stated, rest[0], formula.text, formula.relations[1:], rest[1:], formula.spans[1:])
            notes = [RunningGradient(_text(stated.wrt, stated.of), after=True)]  # type: ignore[union-attr]
            return rewritten, (*notes, *_said(formula.more, formula, stated, net))
        if _gradient_by(formula.rhs):
            raise _unfixed(formula, "g ← ∇_v J names what g holds and states nothing to check; write g ← ∇_v J = …")
        stated = _assigned(formula, net, cost)  # g ← g ⊙ f'(a^{(k)}), g ← W^{(k)⊤} g
        rhs = _substitute(formula.rhs, _before(formula, stated, net))
        notes = [RunningGradient(_text(stated.wrt, cost), after=True)]
        return replace(formula, lhs=stated, rhs=rhs), (*notes, *_said((formula.rhs,), formula, stated, net))
    if lhs is None or not _gradient_by(lhs):
        raise _unfixed(formula, "the left side must be a gradient such as \\nabla_{W^{(k)}} J for g to have a meaning")
    before = _before(formula, lhs, net)
    sides = tuple(_substitute(side, before) for side in (formula.rhs, *formula.more))
    rewritten = replace(formula, rhs=sides[0], more=sides[1:])
    return rewritten, _said((formula.rhs, *formula.more), formula, lhs, net)


# ------------------------------------------------------------------ what g holds
def _before(formula: Formula, stated: PartialNode, net: Network) -> PartialNode | None:
    """The gradient g holds before a line that states ``stated``: by a^{(e)}, ∇_{h^{(e)}} J; by h^{(e)}, ∇_{a^{(e+1)}}
    J; by W^{(e)} or b^{(e)}, ∇_{a^{(e)}} J; by the output ŷ, none (g has no value before the first line)."""
    n = net.notation
    wrt = stated.wrt
    assert isinstance(wrt, Name)
    pos = getattr(wrt, "pos", 0)
    if _is_output(wrt, net):
        return None
    layer = wrt.sup.body if isinstance(wrt.sup, Paren) else wrt.sup
    if layer is None or wrt.sub:
        return None
    if wrt.base == n.pre_activation:
        return _gradient(stated.of, n.activation, layer, pos)
    if wrt.base == n.activation:
        return _gradient(stated.of, n.pre_activation, BinOp("+", layer, Num("1", pos), pos), pos)
    if wrt.base in (*WEIGHTS, "b"):
        return _gradient(stated.of, n.pre_activation, layer, pos)
    return None


def _assigned(formula: Formula, net: Network, cost: Name) -> PartialNode:
    """The gradient ``g ← R`` leaves in g, from R alone: g ⊙ f'(a^{(e)}) is ∇_{a^{(e)}} J, W^{(e)⊤} g is ∇_{h^{(e-1)}}
    J; else not understood."""
    n = net.notation
    derivatives = [
        c.args[0]
        for c in walk(formula.rhs)
        if isinstance(c, Call) and c.func.base == n.function and c.func.primes == 1 and len(c.args) == 1
    ]
    weights = [w for w in walk(formula.rhs) if isinstance(w, Name) and w.base in WEIGHTS and w.sup is not None]
    pos = getattr(formula.lhs, "pos", 0)
    if len(derivatives) == 1 and not weights:
        arg = derivatives[0]
        arg = arg.body if isinstance(arg, Paren) else arg
        if isinstance(arg, Name) and arg.base == n.pre_activation and arg.sup is not None and not arg.sub:
            layer = arg.sup.body if isinstance(arg.sup, Paren) else arg.sup
            return _gradient(cost, n.pre_activation, layer, pos)
    if len(weights) == 1 and not derivatives:
        layer = _layer_of(weights[0])
        if layer is not None:
            return _gradient(cost, n.activation, BinOp("-", layer, Num("1", pos), pos), pos)
    raise _unfixed(
        formula,
        "which gradient g ← … leaves in g cannot be fixed from the line: it needs one f'(a^{(k)}) (g holds"
        " \\nabla_{a^{(k)}} J after it) or one W^{(k)} (g holds \\nabla_{h^{(k-1)}} J); or write g ← \\nabla_{…} J = …",
    )


def _said(sides: tuple[Node, ...], formula: Formula, stated: PartialNode, net: Network) -> tuple[RunningGradient, ...]:
    """The note for the g the right side reads, or not understood when the line leaves it without a value."""
    if not any(_uses_g(side) for side in sides):
        return ()
    before = _before(formula, stated, net)
    if before is None:
        raise _unfixed(
            formula, f"g on the right of a line stating the gradient by {_text(stated.wrt, None)} holds nothing yet"
        )
    return (RunningGradient(_text(before.wrt, before.of)),)


# ------------------------------------------------------------------ syntax
def _is_g(node: object) -> bool:
    return (
        isinstance(node, Name)
        and node.base == LETTER
        and not (node.sub or node.sup or node.digits or node.primes or node.hat or node.bracket)
    )


def _uses_g(node: Node) -> bool:
    """Whether a side writes g as a value (a function's name, g(z), is not the running gradient)."""
    heads = {id(n.func) for n in walk(node) if isinstance(n, Call)}
    return any(_is_g(n) and id(n) not in heads for n in walk(node))


def _gradient_by(node: Node | None) -> bool:
    """Whether a node is ∇_v J (or ∂J/∂v) by a plain name v."""
    return isinstance(node, PartialNode) and isinstance(node.wrt, Name)


def _is_output(node: Name, net: Network) -> bool:
    output = net.notation.output
    return node.hat and node.base == "y" or node.base == {"y": "y", "o": "o"}.get(output) and node.sup is None


def _layer_of(node: Name) -> Node | None:
    return node.sup.body if isinstance(node.sup, Paren) else None


def _gradient(cost: Node, letter: str, layer: Node, pos: int) -> PartialNode:
    return PartialNode(_at(cost, pos), Name(letter, pos, sup=Paren(_at(layer, pos), pos)), pos, nabla=True)


def _substitute(node: Node, value: Node | None) -> Node:
    """The node with every g replaced by ``value`` (None: left as g, which the reader then refuses)."""
    if value is None:
        return node
    if _is_g(node):
        return _at(value, node.pos)  # type: ignore[attr-defined]
    changes = {}
    for f in fields(node):
        if isinstance(node, Call) and f.name == "func":  # g(z) names a function, not the gradient
            continue
        old = getattr(node, f.name)
        if isinstance(old, Node):
            changes[f.name] = _substitute(old, value)
        elif isinstance(old, tuple) and any(isinstance(x, Node) for x in old):
            changes[f.name] = tuple(_substitute(x, value) if isinstance(x, Node) else x for x in old)
    return replace(node, **changes) if changes else node


def _at(node: Node, pos: int) -> Node:
    """A copy of a node placed at ``pos`` (so the reader's errors point at the g it stands for)."""
    changes: dict[str, object] = {"pos": pos} if "pos" in {f.name for f in fields(node)} else {}
    for f in fields(node):
        old = getattr(node, f.name)
        if isinstance(old, Node):
            changes[f.name] = _at(old, pos)
        elif isinstance(old, tuple) and any(isinstance(x, Node) for x in old):
            changes[f.name] = tuple(_at(x, pos) if isinstance(x, Node) else x for x in old)
    return replace(node, **changes)


def _text(wrt: Node, cost: Node | None) -> str:
    """∇_{h^{(k)}} J as LaTeX, the layer simplified (k − 1 + 1 is k)."""
    assert isinstance(wrt, Name)
    name = r"\hat{y}" if wrt.hat else wrt.base
    layer = wrt.sup.body if isinstance(wrt.sup, Paren) else wrt.sup
    if layer is not None:
        name += f"^{{({str(_layer_expr(layer)).replace(' ', '')})}}"
    of = cost.func.base if isinstance(cost, Call) else cost.base if isinstance(cost, Name) else "J"
    return rf"\nabla_{{{name}}} {of}" if cost is not None else name


def _layer_expr(node: Node) -> sympy.Expr:
    if isinstance(node, Paren):
        return _layer_expr(node.body)
    if isinstance(node, Num) and node.text.isdigit():
        return sympy.Integer(int(node.text))
    if isinstance(node, Name):
        return sympy.Symbol(node.base)
    if isinstance(node, BinOp) and node.op in "+-":
        right = _layer_expr(node.right)
        return _layer_expr(node.left) + (right if node.op == "+" else -right)
    return sympy.Symbol("?")


def _unfixed(formula: Formula, why: str) -> FormulaError:
    return FormulaError(f"formula: g is Goodfellow's running gradient, but {why}")
