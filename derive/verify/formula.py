"""Reading a hand-written formula: the recursive-descent parser that turns tokens into a syntax tree.

The parser builds a small syntax tree of frozen dataclasses and nothing else:
it never calls ``eval``, ``exec``, ``sympify`` or ``parse_expr``, so text such as
``__import__('os')`` can only be a syntax error. What a name means (a weight, a
δ, a layer or a power in a superscript) is decided later by
:mod:`derive.verify.reading`, against a network and its notation.

It reads LaTeX as the articles write it (``w^{(2)}_{11}``, ``\\delta^{(2)}_1``,
``\\hat{y}``, ``\\sigma'(z)``, ``\\frac{…}{…}``, ``\\sum_{k=1}^{n}``, ``\\odot``,
``^{\\mathsf T}``, an optional left side) and a plain ASCII form
(``delta2_1 * a1_2``, ``sigmoid(z1_2)``, ``W2[1,1]``).

The textbooks' LaTeX (``\\nabla_{v} C``, the operator ``\\frac{\\partial}{\\partial v} C``, ``\\mathbb{1}(y = k)``,
``x_1 + \\cdots + x_n``, relations ``\\equiv``, ``:=``, ``\\leftarrow`` and chains ``A = B = C``) is read by the
small definitions of :mod:`derive.verify.formula_forms`, which this parser consults. The tree's nodes and errors
are in :mod:`derive.verify.syntax`, the tokenizer in :mod:`derive.verify.tokens`, and what a name carries (its
index, scripts, primes and transposes, Σ's head, a command's arguments) in :mod:`derive.verify.formula_scripts`.
"""

from __future__ import annotations

import re

from derive.rules import activations
from derive.verify import formula_forms as forms
from derive.verify.formula_scripts import Scripts, _Items, _PartialHead, _SumHead
from derive.verify.syntax import (
    MAX_DEPTH,
    MAX_LENGTH,
    BinOp,
    Call,
    Formula,
    FormulaError,
    LimitError,
    Limits,
    Name,
    Neg,
    Node,
    Num,
    Paren,
    PartialNode,
    Sum,
    fail,
    walk,
)
from derive.verify.tokens import FUNCTIONS, GREEK, Token, tokenize

# Names that are functions when an argument follows; f and g only before "(".
FUNCTION_NAMES = {"exp", "log", "ln", "max", "step"}  # and every activation's (activations.read)


class _FormulaParser(Scripts):
    def __init__(self, text: str, tokens: list[Token] | None = None, depth: int = 0) -> None:
        self.text = text
        self.tokens = tokenize(text) if tokens is None else tokens
        self.i = 0
        self.depth = depth

    # -------------------------------------------------------------- helpers
    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def peek(self, ahead: int = 1) -> Token:
        return self.tokens[min(self.i + ahead, len(self.tokens) - 1)]

    def at(self, kind: str, text: str | None = None) -> bool:
        t = self.tok
        return t.kind == kind and (text is None or t.text == text)

    def take(self) -> Token:
        t = self.tok
        self.i += 1
        return t

    def expect(self, kind: str, text: str, what: str) -> Token:
        if not self.at(kind, text):
            raise self.error(f"expected {what}")
        return self.take()

    def error(self, message: str, pos: int | None = None, kind: type[FormulaError] = FormulaError) -> FormulaError:
        t = self.tok
        if pos is None:
            found = "the end" if t.kind == "end" else repr(self.text[t.pos : t.pos + max(1, len(t.text))])
            message = f"{message}, found {found}"
        return fail(self.text, t.pos if pos is None else pos, message, kind)

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error(f"more than {MAX_DEPTH} levels of nesting", self.tok.pos, LimitError)

    def leave(self) -> None:
        self.depth -= 1

    # -------------------------------------------------------------- grammar
    def formula(self) -> Formula:
        """Sides joined by relations: B, A = B, A := B, A ← B, or a chain A = B = C …"""
        starts, sides, relations = [0], [self.expr()], []
        while self.tok.kind == "op" and self.tok.text in forms.RELATIONS:
            if len(relations) == Limits.LINKS:
                raise self.error(f"a chain of more than {Limits.LINKS} equalities", self.tok.pos, LimitError)
            relation = self.take()
            relations.append(forms.RELATIONS[relation.text])
            starts.append(_after(self.text, relation.pos))  # a side begins after its relation (\left( included)
            sides.append(self.expr())
        if not self.at("end"):
            raise self.error("unexpected text")
        for side in sides:
            _validate(side, self)
        ends = [*(t.pos for t in forms.relations(self.tokens)), len(self.text)]
        spans = tuple(zip(starts, ends[: len(starts)], strict=True))
        if len(sides) == 1:
            return Formula(None, sides[0], self.text, (), (), spans)
        return forms.renamed(Formula(sides[0], sides[1], self.text, tuple(relations), tuple(sides[2:]), spans))

    def expr(self) -> Node:
        """Terms joined by + and −, with an optional leading sign; ``T_1 + ⋯ + T_n`` is a sum."""
        self.enter()
        pos = self.tok.pos
        op = "+"
        if self.at("op", "-") or self.at("op", "+"):
            op = self.take().text
        terms = [(op, pos, *self.term())]  # (sign, where, term, its tokens' range)
        while self.at("op", "+") or self.at("op", "-"):
            t = self.take()
            terms.append((t.text, t.pos, *self.term()))
        while any(isinstance(term[2], forms.DotsTerm) for term in terms):
            terms = forms.dotted(self, terms)
        sign, _, node, _ = terms[0]
        node = Neg(node, pos) if sign == "-" else node
        for sign, at, term, _ in terms[1:]:
            node = BinOp(sign, node, term, at)
        self.leave()
        return node

    def term(self) -> tuple[Node, tuple[int, int]]:
        """One term of a sum and its tokens' range (for ⋯), or ⋯ itself."""
        start = self.i
        node = forms.DotsTerm(self.take().pos) if self.at("cmd", "dots") else self.hadamard()
        return node, (start, self.i)

    def over(self, tokens: list[Token]) -> _FormulaParser:
        """A parser of some tokens of this text (the term a ⋯ repeats), at this depth."""
        return _FormulaParser(self.text, tokens, self.depth)

    def hadamard(self) -> Node:
        node = self.product()
        while self.at("cmd", "odot") or self.at("cmd", "circ"):
            op = self.take()
            node = BinOp("odot", node, self.product(), op.pos)
        return node

    def _starts_factor(self) -> bool:
        t = self.tok
        if t.kind in ("num", "name", "word"):
            return True
        if t.kind == "op":
            return t.text in "([{" or t.text == "[matrix"
        if t.kind == "cmd":
            return t.text not in ("cdot", "times", "odot", "circ", "ast", "top", "intercal", "prime", "dots")
        return False

    starts_factor = _starts_factor  # as formula_forms' readers call it

    def close_bracket(self, close: str, opening: Token) -> None:
        self.expect("op", close, f"'{close}' to match the bracket at character {opening.pos + 1}")

    def product(self) -> Node:
        """Factors side by side or joined by ·, ×, * and /; a Σ takes the rest of the product."""
        if not self._starts_factor():
            raise self.error("expected a term")
        node = self.factor()
        while True:
            if isinstance(node, _SumHead):
                node = self._sum(node, self.product())
                break
            t = self.tok
            if t.kind == "cmd" and t.text in ("cdot", "times", "ast") or t.kind == "op" and t.text in "*/":
                self.take()
                op = "/" if t.text == "/" else "*"
                right = self.signed_factor()
                if isinstance(right, _SumHead):
                    right = self._sum(right, self.product())
                    node = BinOp(op, node, right, t.pos)
                    break
                node = BinOp(op, node, right, t.pos)
            elif self._starts_factor():
                right = self.factor()
                if isinstance(right, _SumHead):
                    node = BinOp("*", node, self._sum(right, self.product()), t.pos)
                    break
                node = BinOp("*", node, right, t.pos)
            elif self.at("cmd", "dots"):
                raise self.error(forms.DOTS_ALONE, t.pos)
            else:
                break
        return _partials(node, self)

    def signed_factor(self) -> Node:
        if self.at("op", "-"):
            pos = self.take().pos
            return Neg(self.factor(), pos)
        if not self._starts_factor():
            raise self.error("expected a term")
        return self.factor()

    def _sum(self, head: _SumHead, body: Node) -> Sum:
        return Sum(head.index, head.lower, head.upper, body, head.pos)

    def factor(self) -> Node:
        """A primary with its subscripts, superscripts and primes; a function with its argument."""
        self.enter()
        node = self.primary()
        node = self.scripts(node)
        if isinstance(node, Name) and self._is_function(node):
            node = self.call(node)
        self.leave()
        return node

    def _is_function(self, name: Name) -> bool:
        if name.base in FUNCTION_NAMES or activations.read(name.base) is not None:
            return True
        if name.base in ("f", "g", "phi") and not name.digits and self.at("op", "(") and not self.tok.space:
            return True
        if name.base == "h" and name.primes and not name.digits and self.at("op", "("):  # Bishop's h'(a_j)
            return True
        if name.base == "Omega" and self.at("op", "("):  # Goodfellow's Ω(θ)
            return True
        return forms.loss_call(self, name)  # Goodfellow's L(ŷ, y)

    def call(self, func: Name) -> Node:
        pos = func.pos
        if self.at("op", "(") or self.at("op", "["):
            close = ")" if self.take().text == "(" else "]"
            args = [self.expr()]
            while self.at("op", ","):
                self.take()
                args.append(self.expr())
            self.expect("op", close, f"'{close}' to close the argument of {func.base}")
            node: Node = Call(func, tuple(args), pos)
            return self.scripts(node)
        if self.at("op", "{"):
            self.take()
            arg = self.expr()
            self.expect("op", "}", "'}'")
            return Call(func, (arg,), pos)
        if not self._starts_factor():
            raise self.error(f"{func.base} needs an argument")
        return Call(func, (self.factor(),), pos)

    def primary(self) -> Node:
        t = self.tok
        if t.kind == "num":
            self.take()
            return Num(t.text, t.pos)
        if t.kind == "name":
            self.take()
            return self._name(t)
        if t.kind == "word":
            self.take()
            return Name(t.text, t.pos)
        if t.kind == "op" and t.text == "[matrix":
            return forms.matrix(self, t)
        if t.kind == "op" and t.text in "([{":
            self.take()
            close = {"(": ")", "[": "]", "{": "}"}[t.text]
            body = self.expr()
            if t.text == "[" and self.at("op", ">"):  # the unit step [z > 0] (Iverson's bracket), as derive prints it
                self.take()
                if not (self.at("num") and self.tok.text == "0"):
                    raise self.error("a comparison is read only as the unit step [z > 0]")
                self.take()
                self.expect("op", "]", f"']' to close the step [… > 0] at character {t.pos + 1}")
                return Call(Name("step", t.pos), (body,), t.pos)
            self.expect("op", close, f"'{close}' to match the '{t.text}' at character {t.pos + 1}")
            return body if t.text == "{" else Paren(body, t.pos)
        if t.kind == "cmd":
            return self._command(t)
        raise self.error("expected a term")

    def _command(self, t: Token) -> Node:
        name = t.text
        if name in forms.TERMS:
            return forms.TERMS[name](self, t)
        if name in ("frac", "dfrac", "tfrac"):
            self.take()
            num = self._argument()
            den = self._argument()
            if isinstance(num, _PartialHead) and num.body is None and isinstance(den, _PartialHead):
                return forms.operator(self, t, den.body)  # \frac{\partial}{\partial v} C
            if isinstance(num, _PartialHead) and isinstance(den, _PartialHead) and den.body is not None:
                return PartialNode(num.body, den.body, t.pos)
            if isinstance(num, _PartialHead) or isinstance(den, _PartialHead):
                raise self.error("a fraction of ∂ needs ∂ above and below", t.pos)
            return BinOp("/", num, den, t.pos)
        if name == "partial":
            self.take()
            if self.at("op", "}"):  # the operator \frac{\partial}{\partial v}
                return _PartialHead(None, t.pos)
            if not self._starts_factor():
                raise self.error("∂ needs something to differentiate")
            return _PartialHead(forms.operand(self), t.pos)
        if name == "sum":
            self.take()
            return self._sum_head(t.pos)
        if name in ("hat", "widehat"):
            self.take()
            inner = self._argument()
            if not isinstance(inner, Name) or inner.hat:
                raise self.error("\\hat takes one letter, such as \\hat{y}", t.pos)
            return Name(inner.base, inner.pos, inner.digits, inner.sub, inner.sup, inner.primes, True, inner.bracket)
        if name in GREEK or name in FUNCTIONS or name in activations.commands():
            self.take()
            return Name(name, t.pos)
        raise self.error(f"\\{name} cannot start a term", t.pos)


def _after(text: str, pos: int) -> int:
    """Where the relation written at ``pos`` ends: after its command (\\rightarrow), its two characters (:=) or one."""
    if text.startswith("\\", pos):
        word = re.match(r"\\[A-Za-z]+", text[pos:])
        return pos + (len(word.group()) if word else 2)
    return pos + (2 if text.startswith((":=", "<-"), pos) else 1)


def _partials(node: Node, parser: _FormulaParser) -> Node:
    """∂X/∂Y written with a slash becomes a derivative."""
    if isinstance(node, BinOp) and node.op == "/":
        left, right = node.left, node.right
        if isinstance(left, _PartialHead) and isinstance(right, _PartialHead):
            return PartialNode(left.body, right.body, left.pos)
    return node


def _validate(node: Node, parser: _FormulaParser) -> None:
    """No ∂ outside a derivative, no list outside a subscript."""
    for n in walk(node):
        if isinstance(n, _PartialHead):
            raise parser.error("∂ must be part of a derivative such as \\frac{\\partial C}{\\partial w}", n.pos)
        if isinstance(n, _Items):
            raise parser.error("a list with commas is only allowed in a subscript", n.pos)


def parse(text: str) -> Formula:
    """Parse a formula; FormulaError (one line, pointing at the character) when it cannot be read."""
    if not isinstance(text, str):
        raise FormulaError(f"formula: expected text, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise LimitError(f"formula: {len(text)} characters is longer than the {MAX_LENGTH} allowed")
    if not text.strip():
        raise FormulaError("formula: empty")
    return _FormulaParser(text).formula()
