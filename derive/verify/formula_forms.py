"""The LaTeX people type beyond derive's own: one small definition each, in the tables the parser consults.

:mod:`derive.verify.formula` reads the grammar (sums, fractions, scripts, products); what a textbook's construct
means is said here once: ``\\nabla_{v} C`` is ∂C/∂v, the operator ``\\frac{\\partial}{\\partial v} C`` too,
``\\mathbb{1}(y = k)`` an indicator, ``x_1 + \\cdots + x_n`` a sum, ``≡`` an equality, ``←`` an update. Each
reader is a function of the parser (duck-typed: it calls the parser's ``take``, ``at``, ``factor``, ``expr``,
``error``) and builds syntax nodes only; nothing is evaluated.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from typing import Any

from derive.verify.syntax import (
    BinOp,
    Call,
    Formula,
    FormulaError,
    Indicator,
    MatrixNode,
    Name,
    Neg,
    Node,
    Num,
    Paren,
    PartialNode,
    Sum,
    walk,
)
from derive.verify.tokens import Token

# The relations a formula may state between its sides, and what each is called in a Formula (the engine's
# Equation spells them the same way): ≡ is tokenized as =, \coloneqq as :=, \leftarrow and \gets as <-, and
# Nielsen's \rightarrow and \to (w → w − η ∂C/∂w: the old value on the left, as with ←) as ->.
RELATIONS = {"=": "=", ":=": ":=", "<-": "<-", "->": "->"}


def relations(tokens: list[Token]) -> list[Token]:
    """The relations between a formula's sides: those outside every bracket."""
    out, depth = [], 0
    for t in tokens:
        if t.kind == "op" and t.text in "([{":
            depth += 1
        elif t.kind == "op" and t.text in ")]}":
            depth -= 1
        elif depth == 0 and t.kind == "op" and t.text in RELATIONS:
            out.append(t)
    return out


# A command that starts a term, and the function that reads it (the parser at the command's token).
TERMS: dict[str, Callable[[Any, Token], Node]] = {}


def term(name: str) -> Callable[[Callable[[Any, Token], Node]], Callable[[Any, Token], Node]]:
    def register(read: Callable[[Any, Token], Node]) -> Callable[[Any, Token], Node]:
        TERMS[name] = read
        return read

    return register


@term("nabla")
def _nabla(p: Any, t: Token) -> Node:
    """∇_{v} C: the gradient of the cost by v, in v's shape (∂C/∂v); ``\\nabla_{\\Theta} J(\\Theta)`` too."""
    p.take()
    if not p.at("op", "_"):
        raise p.error("∇ needs what it differentiates by, such as \\nabla_{W^{(2)}} C", t.pos)
    p.take()
    wrt = p.script_argument()
    if not p.starts_factor():
        raise p.error("∇ needs what it differentiates, such as \\nabla_{a^{(L)}} C")
    return PartialNode(operand(p), wrt, t.pos, nabla=True)


@term("indicator")
def _indicator(p: Any, t: Token) -> Node:
    """𝟙(y = k), 𝟙\\{y = k\\}: 1 where y is class k; 𝟙(z > 0): the unit step."""
    p.take()
    if not (p.at("op", "(") or p.at("op", "{") or p.at("op", "[")):
        raise p.error("𝟙 needs a condition in brackets, such as \\mathbb{1}(y = k)", t.pos)
    close = {"(": ")", "{": "}", "[": "]"}[p.take().text]
    left = p.expr()
    if p.at("op", ">"):
        p.take()
        if not (p.at("num") and p.tok.text == "0"):
            raise p.error("a comparison with > is read only as the unit step 𝟙(z > 0)")
        p.take()
        p.close_bracket(close, t)
        return Call(Name("step", t.pos), (left,), t.pos)
    if not p.at("op", "="):
        raise p.error("𝟙 needs a condition, such as \\mathbb{1}(y = k) or \\mathbb{1}(z > 0)")
    p.take()
    right = p.expr()
    p.close_bracket(close, t)
    return Indicator(left, right, t.pos)


@term("norm")
def _norm(p: Any, t: Token) -> Node:
    """‖W‖ (``\\lVert W \\rVert``, ``\\|W\\|``), ‖W‖_F and ‖W‖_2 too: the square root of the sum of its squared
    entries, as the L2 penalty writes it (``\\frac{\\lambda}{2} \\sum_l \\lVert W^{(l)} \\rVert^2``)."""
    p.take()
    start, depth = p.i, 0
    for k in range(start, len(p.tokens)):  # the closing ‖: the first at the opening's depth (‖ opens and closes)
        tok = p.tokens[k]
        if tok.kind == "op" and tok.text in "([{":
            depth += 1
        elif tok.kind == "op" and tok.text in ")]}":
            depth -= 1
        elif depth == 0 and (tok.kind == "op" and tok.text == "‖" or tok.kind == "cmd" and tok.text == "norm"):
            break
        if depth < 0 or tok.kind == "end":
            raise p.error("a norm ‖ needs its closing ‖ (\\rVert or \\|)", t.pos)
    sub = p.over([*p.tokens[start:k], Token("end", "", p.tokens[k].pos)])
    body = sub.expr()
    if not sub.at("end"):
        raise sub.error("unexpected text in a norm ‖…‖")
    p.i = k + 1
    if p.at("op", "_") and p.peek().text in ("F", "2"):  # the Frobenius norm, the entries' 2-norm
        p.take()
        p.take()
    return Call(Name("norm", t.pos), (body,), t.pos)


def matrix(p: Any, t: Token) -> Node:
    """A matrix written out: entries parted by & and rows by \\\\ (a last \\\\ before \\end is allowed)."""
    p.take()
    rows: list[list[Node]] = [[]]
    while True:
        if p.at("cmd", "dots"):
            raise p.error("a matrix with entries left out (⋯, ⋮, ⋱) is not understood: write every entry", p.tok.pos)
        rows[-1].append(p.expr())
        if p.at("op", "&"):
            p.take()
        elif p.at("op", "\\\\"):
            p.take()
            if p.at("op", "matrix]"):
                break
            rows.append([])
        else:
            break
    p.close_bracket("matrix]", t)
    if len({len(row) for row in rows}) != 1:
        raise p.error("the rows of a matrix must have as many entries each", t.pos)
    return MatrixNode(tuple(e for row in rows for e in row), len(rows[0]), t.pos)


def operator(p: Any, t: Token, wrt: Node) -> Node:
    """The operator ∂/∂v (``\\frac{\\partial}{\\partial v}``) applied to what follows it: ∂(that)/∂v."""
    if not p.starts_factor():
        raise p.error("∂/∂v needs what it differentiates after it, such as \\frac{\\partial}{\\partial w} C")
    return PartialNode(operand(p), wrt, t.pos)


def operand(p: Any) -> Node:
    """What ∇ or ∂/∂v differentiates: a factor, the cost written with its arguments (``J(\\Theta)``) too."""
    node = p.factor()
    if isinstance(node, Name) and p.at("op", "(") and not p.tok.space:
        node = p.call(node)
    return node


def loss_call(p: Any, name: Name) -> bool:
    """Whether a cost letter and a bracket are the loss of two arguments, Goodfellow's L(ŷ, y): a comma inside."""
    if name.base not in ("C", "J", "E", "L") or name.sub or name.sup or name.digits or not p.at("op", "("):
        return False
    if p.tok.space:
        return False
    depth = 0
    for tok in p.tokens[p.i :]:
        if tok.kind == "op" and tok.text in "([{":
            depth += 1
        elif tok.kind == "op" and tok.text in ")]}":
            depth -= 1
            if depth == 0:
                return False
        elif depth == 1 and tok.kind == "op" and tok.text == ",":
            return True
        elif tok.kind == "end":
            return False
    return False


# ---------------------------------------------------------------- x_1 + ⋯ + x_n
@dataclass(frozen=True)
class DotsTerm(Node):
    """⋯ standing for the terms of a sum left out; the parser replaces it with the sum, or refuses."""

    pos: int


_FRESH = "kjipqrsuv"  # letters for the index of a sum written with ⋯ (one the formula does not use)


DOTS_ALONE = "\\cdots is read only between two terms of a sum, such as x_1 + \\cdots + x_n"


def dotted(p: Any, terms: list) -> list:
    """The terms of a sum (sign, where, term, its tokens' range) with the first ``T_a + ⋯ + T_b`` made one sum
    over the index that varies between T_a and T_b (the terms before T_a and after T_b stay as written)."""
    k = next(k for k, term in enumerate(terms) if isinstance(term[2], DotsTerm))
    dots = p.tokens[terms[k][3][0]]
    ends = terms[k - 1 : k + 2] if 0 < k < len(terms) - 1 else []
    if len(ends) < 3 or any(isinstance(e[2], DotsTerm) for e in ends[::2]) or terms[k][0] != "+":
        raise p.error(DOTS_ALONE, dots.pos)
    if terms[k + 1][0] != "+":
        raise p.error("\\cdots is read only as + \\cdots +, between two terms of a sum", dots.pos)
    letter, low, high, template = dotted_sum(p, terms[k - 1][3], terms[k + 1][3], dots)
    sub = p.over([*template, Token("end", "", dots.pos)])
    body = sub.hadamard()
    if not sub.at("end"):
        raise sub.error("unexpected text in the term before \\cdots")
    total = Sum(letter, bound(low, dots.pos), bound(high, dots.pos), body, dots.pos)
    sign, at, _, (start, _) = terms[k - 1]
    return [*terms[: k - 1], (sign, at, total, (start, terms[k + 1][3][1])), *terms[k + 2 :]]


def dotted_sum(
    p: Any, first: tuple[int, int], last: tuple[int, int], dots: Token
) -> tuple[str, int, int | None, list[Token]]:
    """The index a sum ``T_a + ⋯ + T_b`` runs over: its two end terms (token ranges) differ in one index only.

    The terms are compared token by token, their subscripts index by index (``W_{31}`` against ``W_{10,1}``
    or ``W_{n1}``: derive writes indices above 9 with commas): every index where they differ must go from the
    same number to the same number or letter. Returns the index letter, the first value, the last (None: up to
    the index's range, as in ``w_n a_n``) and the first term's tokens with that letter in place of the varying
    index, which the parser reads as the body. Refused (a FormulaError naming ⋯) when the two ends differ
    otherwise: the sum would be a guess.
    """
    why = "\\cdots is not understood here: the terms on either side of it must differ in one index only, such as"
    why += " w_1 a_1 + \\cdots + w_n a_n; or write \\sum"
    a, b = _segments(p.tokens[first[0] : first[1]]), _segments(p.tokens[last[0] : last[1]])
    if len(a) != len(b):
        raise p.error(why, dots.pos)
    pairs: set[tuple[str, str]] = set()
    places: list[tuple[int, int, int]] = []  # (token, first character, end) of the varying index in T_a
    for x, y in zip(a, b, strict=True):
        if isinstance(x, tuple) or isinstance(y, tuple):
            if x != y:
                raise p.error(why, dots.pos)
            continue
        matched = _match(x, y)
        if matched is None:
            raise p.error(why, dots.pos)
        for (k, c, text), other in matched:
            if text != other:
                pairs.add((text, other))
                places.append((k, c, c + len(text)))
    if len(pairs) != 1:
        raise p.error(why, dots.pos)
    low, high = pairs.pop()
    used = {t.text for t in p.tokens if t.kind == "name"}
    letter = next((c for c in _FRESH if c not in used), None)
    if letter is None or not low.isdigit() or not (high.isdigit() or high.isalpha() and len(high) == 1):
        raise p.error(why, dots.pos)
    if high.isdigit() and int(high) < int(low):
        raise p.error(why, dots.pos)
    template: list[Token] = []
    for k, tok in enumerate(p.tokens[first[0] : first[1]]):
        cuts = sorted((c, e) for kk, c, e in places if kk == k)
        at, space = 0, tok.space
        for c, e in cuts:  # the number's digits before, the letter, then on
            if c > at:
                template.append(Token("num", tok.text[at:c], tok.pos + at, space))
                space = False
            template.append(Token("name", letter, tok.pos + c, space))
            space, at = False, e
        if not cuts:
            template.append(tok)
        elif at < len(tok.text):
            template.append(Token("num", tok.text[at:], tok.pos + at, False))
    return letter, int(low), int(high) if high.isdigit() else None, template


_Item = tuple[int, int, str]  # an index as written: (token, first character, text)


def _segments(tokens: list[Token]) -> list[tuple[str, str] | list[_Item]]:
    """A term as its tokens (kind, text), each subscript a list of its indices (``_{10,1}``, ``_{31}``, ``_k``)."""
    out: list[tuple[str, str] | list[_Item]] = []
    k = 0
    while k < len(tokens):
        t = tokens[k]
        if t.kind == "op" and t.text == "_" and k + 1 < len(tokens):
            nxt = tokens[k + 1]
            if nxt.kind in ("num", "name"):
                out.append([(k + 1, 0, nxt.text)])
                k += 2
                continue
            end = k + 2
            while end < len(tokens) and (tokens[end].kind in ("num", "name") or tokens[end].text == ","):
                end += 1
            if nxt.text == "{" and end < len(tokens) and tokens[end].text == "}" and end > k + 2:
                out.append([(j, 0, tokens[j].text) for j in range(k + 2, end) if tokens[j].text != ","])
                k = end + 1
                continue
        out.append((t.kind, t.text))
        k += 1
    return out


def _match(x: list[_Item], y: list[_Item]) -> list[tuple[_Item, str]] | None:
    """The indices of two subscripts paired: as written, or a number's digits one index each (``31`` and ``10,1``)."""
    if len(x) == 1 and len(y) == 1 and x[0][2].isdigit() and y[0][2].isdigit() and len(x[0][2]) == len(y[0][2]) > 1:
        x = _digits(x[0])  # W_{31} and W_{91}: two indices each
        y = _digits(y[0])
    elif len(x) == 1 and len(y) > 1 and x[0][2].isdigit() and len(x[0][2]) == len(y):
        x = _digits(x[0])
    elif len(y) == 1 and len(x) > 1 and y[0][2].isdigit() and len(y[0][2]) == len(x):
        y = _digits(y[0])
    if len(x) != len(y):
        return None
    return [(item, other[2]) for item, other in zip(x, y, strict=True)]


def _digits(item: _Item) -> list[_Item]:
    k, c, text = item
    return [(k, c + d, ch) for d, ch in enumerate(text)]


def bound(value: int | None, pos: int) -> Node | None:
    return None if value is None else Num(str(value), pos)


def unwrap(node: Node) -> Node:
    """(g^{(l)})' is g^{(l)}': the prime of a bracketed function name."""
    while isinstance(node, Paren) and isinstance(node.body, (Name, Paren)):
        node = node.body
    return node


# ------------------------------------------------------------ updates and assignments
def statement(formula: Formula) -> Formula:
    """A formula whose relation is an update or an assignment, as the equality derive verifies.

    ``θ ← θ − η ∂C/∂θ`` (and ``θ := θ − …``, Ng's assignment) is the update Δθ = −η ∂C/∂θ, which the reader
    knows (the left side ``\\Delta θ``); Ng's accumulator ``\\Delta^{(l)} := \\Delta^{(l)} + R`` sums each
    sample's gradient of the weights θ^{(l)}, so R is read as one sample's ∂C/∂θ^{(l)} (:func:`accumulates`; the
    verdict says so); ``A ← B`` where B does not use A, and a definition ``A := B``, say A = B. What derive cannot
    check is refused, naming what it would need: a running variable updated in place (``g ← g \\odot f'(a)``).
    """
    if formula.lhs is None or formula.relation == "=":
        return formula
    lhs, rhs = formula.lhs, formula.rhs
    first, rest = _first_term(rhs)
    said = f"formula: {formula.side(0)} {SHOWN[formula.relation]} {formula.side(0)}"
    if first is not None and same(first, lhs):
        if rest is None:
            raise FormulaError(f"{said} changes nothing")
        if accumulates(formula):
            assert isinstance(lhs, Name) and isinstance(rest, Node)
            weights = Name("W", lhs.pos, lhs.digits, lhs.sub, lhs.sup)  # the notation's weight letter and numbering
            return replace(formula, lhs=PartialNode(Name("C", lhs.pos), weights, lhs.pos), rhs=rest)
        if isinstance(lhs, Name) and lhs.base == "Delta" or _is_update(lhs):
            raise FormulaError(
                f"{said} ± … is read only as Ng's accumulator of one layer's weight gradients, \\Delta^{{(l)}} :="
                " \\Delta^{(l)} + R with R the term one sample adds"
            )
        update = BinOp("*", Name("Delta", lhs.pos), lhs, lhs.pos)
        return replace(formula, lhs=update, rhs=rest)
    if isinstance(lhs, Name) and isinstance(rhs, BinOp) and rhs.op in ("odot", "*") and same(rhs.left, lhs):
        raise FormulaError(  # Goodfellow's algorithm 6.4: g ← g ⊙ f'(a^{(k)})
            f"formula: {formula.side(0)} {SHOWN[formula.relation]} {formula.side(0)} ⊙ … updates g in place: a running"
            " gradient, ∂C by the activation before the line and by the pre-activation after, which no notation"
            " option of derive says; verify the equation the line states, such as"
            " \\frac{\\partial C}{\\partial z^{(l)}} = \\frac{\\partial C}{\\partial a^{(l)}} \\odot f'(z^{(l)})"
        )
    if isinstance(lhs, Name) and any(same(node, lhs) for node in walk(rhs)):
        raise FormulaError(
            f"formula: {formula.side(0)} {SHOWN[formula.relation]} … updates {formula.side(0)} in place, which derive"
            " reads only as a weight's or bias's update θ ← θ − η ∂C/∂θ; what the letter holds before and after"
            " (a running gradient) would need a notation option derive does not have"
        )
    return formula


def renamed(formula: Formula) -> Formula:
    """Nielsen's ``w \\rightarrow w' = w - \\eta \\frac{\\partial C}{\\partial w}``: an update whose first right side is
    the left side primed names the new value w', which the next side states; read as the update w → (that side)."""
    lhs, rhs = formula.lhs, formula.rhs
    if not formula.more or formula.relation not in UPDATES or set(formula.relations[1:]) != {"="}:
        return formula
    if not (isinstance(lhs, Name) and isinstance(rhs, Name) and rhs.primes == lhs.primes + 1):
        return formula
    if not same(replace(rhs, primes=lhs.primes), lhs):
        return formula
    relations = (formula.relation,) * (len(formula.relations) - 1)  # w → w' = R = S: R and S are both the new w
    spans = (formula.spans[0], *formula.spans[2:])
    return replace(formula, rhs=formula.more[0], relations=relations, more=formula.more[1:], spans=spans)


UPDATES = ("<-", "->", ":=")  # the relations of an update or an assignment


def accumulates(formula: Formula) -> bool:
    """Whether a formula is an accumulator Δ^{(l)} := Δ^{(l)} + R (or ←): Δ with a layer, and a term added."""
    lhs = formula.lhs
    if formula.relation == "=" or not isinstance(lhs, Name) or lhs.base != "Delta" or lhs.sup is None:
        return False
    first, rest = _first_term(formula.rhs)
    return first is not None and same(first, lhs) and rest is not None and not isinstance(rest, Neg)


SHOWN = {"=": "=", ":=": ":=", "<-": "←", "->": "→"}  # a relation as a verdict writes it


def _is_update(node: Node) -> bool:
    return isinstance(node, BinOp) and node.op == "*" and isinstance(node.left, Name) and node.left.base == "Delta"


def _first_term(node: Node) -> tuple[Node | None, Node | None]:
    """The first term of a sum and the rest as a value (θ − η g gives θ and −η g); (None, None) for no sum."""
    terms: list[tuple[str, Node, int]] = []
    while isinstance(node, BinOp) and node.op in "+-":
        terms.append((node.op, node.right, node.pos))
        node = node.left
    if not terms:
        return node, None
    terms.reverse()
    op, right, pos = terms[0]
    rest: Node = right if op == "+" else Neg(right, pos)
    for op, right, pos in terms[1:]:
        rest = BinOp(op, rest, right, pos)
    return node, rest


def same(a: object, b: object) -> bool:
    """Whether two syntax trees are written alike, wherever they are in the text."""
    if type(a) is not type(b):
        return False
    if isinstance(a, tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))  # type: ignore[arg-type]
    if not isinstance(a, Node):
        return a == b
    return all(same(getattr(a, f.name), getattr(b, f.name)) for f in fields(a) if f.name != "pos")
