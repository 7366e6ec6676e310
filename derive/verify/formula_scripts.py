"""Names and their scripts in a formula: subscripts, superscripts, primes, transpose marks, Σ's head and the
arguments of \\frac and of a script, read token by token for the grammar of :mod:`derive.verify.formula`.

A mixin of the parser: it reads with the parser's cursor (``tok``, ``take``, ``at``, ``expect``, ``error``,
``enter``/``leave``) and calls back into its grammar (``expr``, ``_command``, ``_starts_factor``) for what a
script or an argument holds. Kept apart because what a name carries is its own small grammar, and the parser's
expression levels read more easily without it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from derive.verify import formula_forms as forms
from derive.verify.syntax import (
    MAX_DEPTH,
    Call,
    Entry,
    LimitError,
    Name,
    Neg,
    Node,
    Num,
    Paren,
    Pow,
    Transpose,
)
from derive.verify.tokens import Token


class Scripts:
    """The parser's reading of a name's index, its scripts and the arguments of commands."""

    def _name(self, t: Token) -> Name:
        digits = ""
        if self.at("num") and not self.tok.space and self.tok.text.isdigit():
            digits = self.take().text
        name = Name(t.text, t.pos, digits=digits)
        if self._index_bracket():
            self.take()
            parts = [self._index_item()]
            while self.at("op", ","):
                self.take()
                parts.append(self._index_item())
            self.expect("op", "]", "']'")
            name = Name(name.base, name.pos, digits, tuple(parts), bracket=True)
        return name

    def _index_bracket(self) -> bool:
        """An ASCII index W1[1,2] follows: '[' right after the name, then numbers or letters and commas."""
        if not self.at("op", "[") or self.tok.space:
            return False
        k = self.i + 1
        while True:
            t = self.tokens[k]
            if t.kind not in ("num", "name") or (t.kind == "name" and len(t.text) > 1):
                return False
            k += 1
            t = self.tokens[k]
            if t.kind == "op" and t.text == "]":
                return True
            if not (t.kind == "op" and t.text == ","):
                return False
            k += 1

    def _index_item(self) -> Node:
        t = self.take()
        return Num(t.text, t.pos) if t.kind == "num" else Name(t.text, t.pos)

    def _argument(self) -> Node:
        """A brace group or one token, as LaTeX reads the argument of \\frac or a script."""
        self.enter()
        t = self.tok
        if self.at("op", "{"):
            self.take()
            body = self.expr()
            self.expect("op", "}", f"'}}' to match the '{{' at character {t.pos + 1}")
            self.leave()
            return body
        if t.kind == "num" and len(t.text) > 1 and t.text.isdigit():  # \frac12 is ½
            self.take()
            rest = t.text[1:]
            self.tokens.insert(self.i, Token("num", rest, t.pos + 1))
            self.leave()
            return Num(t.text[0], t.pos)
        if t.kind in ("num", "name", "word"):
            self.take()
            self.leave()
            return Num(t.text, t.pos) if t.kind == "num" else Name(t.text, t.pos)
        if t.kind == "cmd" and t.text in ("partial",):
            node = self._command(t)
            self.leave()
            return node
        if t.kind == "cmd":
            self.take()
            self.leave()
            return Name(t.text, t.pos)
        if self.at("op", "("):  # ASCII a^(2)
            self.take()
            body = self.expr()
            self.expect("op", ")", "')'")
            self.leave()
            return Paren(body, t.pos)
        raise self.error("expected an argument")

    def script_argument(self) -> Node:
        """As formula_forms' readers call it."""
        return self._script_argument()

    def _script_argument(self) -> Node:
        """A subscript or superscript: a group (possibly a comma list), one token, or (…)."""
        t = self.tok
        if self.at("op", "{"):
            self.enter()
            self.take()
            if self.at("op", "-") or self.at("op", "+") or self._starts_factor():
                first = self.expr()
            else:
                raise self.error("an empty script")
            items = [first]
            while self.at("op", ","):
                self.take()
                items.append(self.expr())
            self.expect("op", "}", f"'}}' to match the '{{' at character {t.pos + 1}")
            self.leave()
            return first if len(items) == 1 else _Items(tuple(items), t.pos)
        if t.kind == "num":
            self.take()
            return Num(t.text, t.pos)
        if self.at("op", "-"):  # x^-1
            self.take()
            self.enter()
            inner = self._script_argument()
            self.leave()
            return Neg(inner, t.pos)
        return self._argument()

    def scripts(self, node: Node) -> Node:
        """Subscripts, superscripts (transpose marks included) and primes, in any order."""
        for count in range(MAX_DEPTH + 1):
            t = self.tok
            if count == MAX_DEPTH:
                message = f"more than {MAX_DEPTH} scripts, primes or transposes on one term"
                raise self.error(message, t.pos, LimitError)
            if t.kind == "op" and t.text == "'":
                self.take()
                node = _prime(node, t.pos, self)
            elif t.kind == "cmd" and t.text in ("top", "intercal"):  # ᵀ written straight after
                self.take()
                node = Transpose(node, t.pos)
            elif t.kind == "op" and t.text == "_":
                self.take()
                arg = self._script_argument()
                parts = arg.items if isinstance(arg, _Items) else (arg,)
                if isinstance(node, (Call, Paren)):  # softmax(z)_1, (W^T δ)_j: an entry of a vector's value
                    node = Entry(node, parts, t.pos)
                    continue
                if not isinstance(node, Name) or node.sub is not None:
                    raise self.error("a subscript needs a name before it, such as x_1", t.pos)
                node = Name(node.base, node.pos, node.digits, parts, node.sup, node.primes, node.hat)
            elif t.kind == "op" and t.text == "^":
                self.take()
                if self._transpose_mark():
                    node = Transpose(node, t.pos)
                    continue
                if self.at("cmd", "prime") or (self.at("op", "{") and self.peek().text == "prime"):
                    braced = self.at("op", "{")
                    self.i += 3 if braced else 1
                    if braced and self.tokens[self.i - 1].text != "}":
                        raise self.error("expected '}' after \\prime", self.tokens[self.i - 1].pos)
                    node = _prime(node, t.pos, self)
                    continue
                arg = self._script_argument()
                if isinstance(arg, _Items) and _sampled(node, arg):  # Nielsen's δ^{x,l}: sample x, layer l
                    node = replace(node, sup=arg.items[1], sample=arg.items[0])  # type: ignore[type-var]
                    continue
                if isinstance(arg, _Items):
                    raise self.error("a superscript cannot be a list", t.pos)
                if isinstance(arg, Transpose) and isinstance(node, Name) and node.sup is None:  # h^{(l-1)\top}
                    node = Name(
                        node.base, node.pos, node.digits, node.sub, arg.body, node.primes, node.hat, node.bracket
                    )
                    node = Transpose(node, arg.pos)
                    continue
                if isinstance(node, Name) and node.sup is None and not node.primes:
                    node = Name(node.base, node.pos, node.digits, node.sub, arg, node.primes, node.hat, node.bracket)
                else:
                    node = Pow(node, arg, t.pos)
            else:
                return node

    def _transpose_mark(self) -> bool:
        """^T, ^{T}, ^\\top, ^{\\top}, ^{\\mathsf T}, ^\\intercal: consumed when present."""
        t = self.tok
        if (t.kind == "name" and t.text == "T") or (t.kind == "word" and t.text == "T"):
            self.take()
            return True
        if t.kind == "cmd" and t.text in ("top", "intercal"):
            self.take()
            return True
        if t.kind == "op" and t.text == "{":
            inner, close = self.peek(), self.peek(2)
            is_t = (inner.kind in ("name", "word") and inner.text == "T") or (
                inner.kind == "cmd" and inner.text in ("top", "intercal")
            )
            if is_t and close.kind == "op" and close.text == "}":
                self.i += 3
                return True
        return False

    def _sum_head(self, pos: int) -> _SumHead:
        """\\sum_k, \\sum_{k}, \\sum_{k=1}^{n}; ASCII sum_k; \\sum ‖W‖^2 (index "": every layer's W)."""
        if not self.at("op", "_") and self.at("cmd", "norm"):
            return _SumHead("", None, None, pos)
        if not self.at("op", "_"):
            raise self.error("a sum needs its index, such as \\sum_k or \\sum_{k=1}^{n}", pos)
        self.take()
        lower = upper = None
        if self.at("op", "{"):
            self.take()
            index = self._sum_index()
            if self.at("op", "="):
                self.take()
                lower = self.expr()
            self.expect("op", "}", "'}' after the sum's index")
        else:
            index = self._sum_index()
        if self.at("op", "^"):
            self.take()
            upper = self._script_argument()
        return _SumHead(index, lower, upper, pos)

    def _sum_index(self) -> str:
        t = self.tok
        if t.kind != "name" or len(t.text) != 1:
            raise self.error("a sum's index must be one letter")
        self.take()
        return t.text


@dataclass(frozen=True)
class _SumHead(Node):
    """Σ with its limits, waiting for the product it sums."""

    index: str
    lower: Node | None
    upper: Node | None
    pos: int


@dataclass(frozen=True)
class _PartialHead(Node):
    """∂X, waiting to be the numerator or denominator of a derivative (None: the operator's bare ∂)."""

    body: Node | None
    pos: int


@dataclass(frozen=True)
class _Items(Node):
    items: tuple[Node, ...]
    pos: int


def _sampled(node: Node, arg: _Items) -> bool:
    """Whether a superscript list is Nielsen's sample and layer, δ^{x,l}: a letter, then the layer, on a bare name."""
    if not isinstance(node, Name) or node.sup is not None or node.primes or len(arg.items) != 2:
        return False
    sample = arg.items[0]
    return isinstance(sample, Name) and len(sample.base) == 1 and not (sample.sub or sample.sup or sample.digits)


def _prime(node: Node, pos: int, parser: Scripts) -> Node:
    node = forms.unwrap(node)  # (g^{(l)})'
    if not isinstance(node, Name):
        raise parser.error("a prime needs a function before it, such as \\sigma'", pos)
    return Name(node.base, node.pos, node.digits, node.sub, node.sup, node.primes + 1, node.hat, node.bracket)
