"""Reading a hand-written formula: a tokenizer and a recursive-descent parser.

The parser builds a small syntax tree of frozen dataclasses and nothing else:
it never calls ``eval``, ``exec``, ``sympify`` or ``parse_expr``, so text such as
``__import__('os')`` can only be a syntax error. What a name means (a weight, a
δ, a layer or a power in a superscript) is decided later by
:mod:`derive.reading`, against a network and its notation.

It reads LaTeX as the articles write it (``w^{(2)}_{11}``, ``\\delta^{(2)}_1``,
``\\hat{y}``, ``\\sigma'(z)``, ``\\frac{…}{…}``, ``\\sum_{k=1}^{n}``, ``\\odot``,
``^{\\mathsf T}``, an optional left side) and a plain ASCII form
(``delta2_1 * a1_2``, ``sigmoid(z1_2)``, ``W2[1,1]``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from derive.errors import DeriveError
from derive.rules import activations


class Limits:
    """What one formula may cost, so that every input is answered or refused within about a second.

    A formula of 2000 characters can still ask for a great deal: Σ_iΣ_jΣ_k… multiplies its terms by each
    range, a product of matrices multiplies the size of every entry, (x_1+x_2)^{60} or a product of sums
    is harmless until something expands it, and evaluating, comparing exactly and diagnosing repeat the
    work for every element, every point and every reading. Each limit is a count, never a time, so a
    formula gets the same answer on any machine (and the tests can say which); the counts are set so
    that the slowest formula within all of them answers in well under a second on a 2-core machine,
    on networks up to derive verify's own size limits (``benchmarks/bench_verify.py`` prints the times).

    The first group refuses the formula with a one-line LimitError naming the limit and the character;
    the second checks fewer elements (at least one, and the verdict says how many); the third skips or
    shortens a stage that would only say more (another reading, the exact comparison, a diagnosis, a
    closed form), never the verdict itself.
    """

    # Refused (LimitError).
    LENGTH = 2000  # characters in one formula: what follows is bounded per character
    DEPTH = 40  # nested brackets, fractions, scripts and calls: bounds recursion in the parser and in sympy
    NUMBER = 30  # digits in one written number
    POWER = 64  # largest exponent written as a number: x^{99999999} would be expanded term by term
    DIGITS = 5000  # decimal digits of a number computed on the way, such as (10^{30})^{64}: far beyond
    # float64 (10^{308}), and each further power costs time and memory without saying anything more
    SUM_TERMS = 2500  # terms of nested sums for one element (the product of their ranges): Σ_iΣ_jΣ_k…
    # over 3 neurons grows as 3^n; 2500 still allows a double sum over 50-neuron layers
    MATRIX = 2500  # entries of one vector or matrix (a 50×50 weight matrix); bigger ones are verified
    # element by element, W1[i,j]
    SIZE = 20000  # operations in the value of one element, shared parts counted each time they occur:
    # evaluating and comparing walk the whole tree, and products of matrices or sums (σ'(σ'(…)), W^T W W^T
    # W …) multiply it without multiplying the text
    WORK = 8000  # sympy operations to build the formula (one per scalar operation, per entry of a matrix
    # operation, per multiplication in a matrix product), charged before each: one element over it is
    # refused, and once it is spent the remaining elements are not built (the second group)
    # Fewer elements checked.
    CHECKED = 400  # elements compared numerically; above this a seeded sample, drawn before building
    EVALUATE = 25000  # operations in the values of all elements checked, each evaluated at every point
    # Skipped or shortened.
    READINGS = 4000  # sympy operations for reading the formula again under the other conventions (δ's
    # sign, index order, θ's layer numbering), all of them together
    EXACT_OPS = 400  # sympy's count_ops of a formula compared exactly, after substituting δ and the forward
    # equations (networks of up to 40 parameters only)
    EXACT_TERMS = 2000  # terms that expanding the differences over a common denominator could give, all
    # elements together: expand and cancel never stop early, so (x_1+x_2)^{60} is never expanded
    DIAGNOSED = 40  # elements compared with each common mistake (a mistake must fit every one)
    DIAGNOSES = 20000  # values of the common mistakes computed in all: a deep network has one per neuron
    # for a misplaced activation derivative, so fewer elements are compared there
    CLOSED_FORM = 2000  # operations in a closed form or recursion printed as the correct answer; a deep
    # network's closed form repeats every path through the layers, and the δ form says the same


MAX_LENGTH = Limits.LENGTH
MAX_DEPTH = Limits.DEPTH
MAX_NUMBER = Limits.NUMBER


class FormulaError(DeriveError):
    """A formula that cannot be read; the message points at the character."""


class LimitError(FormulaError):
    """A formula that would cost more than one of the :class:`Limits`; the message names the limit."""


class UndefinedError(FormulaError):
    """A formula whose value is undefined for every input (1/0, 0/0, log 0) or not a real number."""


# ------------------------------------------------------------------- syntax tree
@dataclass(frozen=True)
class Node:
    """Base of the syntax tree; ``pos`` is the 0-based character where it starts."""


@dataclass(frozen=True)
class Num(Node):
    text: str
    pos: int


@dataclass(frozen=True)
class Name(Node):
    """A letter or word with its scripts: ``\\delta^{(2)}_1``, ``\\hat{y}_k``, ``delta2_1``, ``W1[1,2]``.

    ``digits`` are ASCII digits written straight after the letters (``x1``,
    ``w11``, ``delta2``); ``sub`` holds the comma-separated parts of the
    subscript (or of an ASCII ``[i,j]``); ``sup`` the superscript; ``primes``
    the number of primes.
    """

    base: str
    pos: int
    digits: str = ""
    sub: tuple[Node, ...] | None = None
    sup: Node | None = None
    primes: int = 0
    hat: bool = False
    bracket: bool = False  # the subscript was written as ASCII [i,j]


@dataclass(frozen=True)
class Paren(Node):
    body: Node
    pos: int


@dataclass(frozen=True)
class Call(Node):
    func: Name
    args: tuple[Node, ...]
    pos: int


@dataclass(frozen=True)
class BinOp(Node):
    """op: ``+``, ``-``, ``*`` (any product), ``/``, or ``odot`` (Hadamard)."""

    op: str
    left: Node
    right: Node
    pos: int


@dataclass(frozen=True)
class Neg(Node):
    body: Node
    pos: int


@dataclass(frozen=True)
class Pow(Node):
    base: Node
    exp: Node
    pos: int


@dataclass(frozen=True)
class Transpose(Node):
    body: Node
    pos: int


@dataclass(frozen=True)
class PartialNode(Node):
    """A written ∂of/∂wrt (the sympy factor it becomes in a chain is :class:`derive.rules.functions.Partial`)."""

    of: Node
    wrt: Node
    pos: int


@dataclass(frozen=True)
class Sum(Node):
    index: str
    lower: Node | None
    upper: Node | None
    body: Node
    pos: int


@dataclass(frozen=True)
class Formula:
    """A parsed formula: the optional left side and the right side."""

    lhs: Node | None
    rhs: Node
    text: str


# ----------------------------------------------------------------------- tokens
@dataclass(frozen=True)
class Token:
    kind: str  # num, name, cmd, op, word (\operatorname{…}), end
    text: str
    pos: int
    space: bool = False  # whitespace right before


# Commands that only size or space things; \left. and \right. drop their dot too.
_IGNORED = {
    "left", "right", "big", "Big", "bigg", "Bigg", "bigl", "bigr", "Bigl", "Bigr", "biggl", "biggr",
    "Biggl", "Biggr", "limits", "nolimits", "displaystyle", "textstyle", "quad", "qquad", ",", ";", ":",
    "!", " ", "mathbf", "boldsymbol", "bm", "mathit",
}  # fmt: skip
# The activations' names (\sigma, \tanh, sigmoid, ReLU, …) are their registry entries' (activations.read).
_GREEK = {"delta", "Delta", "theta", "Theta", "eta", "alpha"}
_FUNCTIONS = {"exp", "log", "ln", "max"}
_COMMANDS = {
    "frac", "dfrac", "tfrac", "partial", "sum", "cdot", "times", "odot", "circ", "hat", "widehat",
    "top", "intercal", "prime", "ast",
} | _GREEK | _FUNCTIONS  # fmt: skip
_WORD_COMMANDS = ("operatorname", "mathrm", "text", "mathsf", "textrm", "mathtt")
# ASCII words read as one name; anything else made of letters is letters side by side.
ASCII_WORDS = {"delta", "Delta", "theta", "Theta", "exp", "log", "ln", "eta", "sum", "yhat", "max", "step"}
_UNICODE = {
    "δ": ("cmd", "delta"), "Δ": ("cmd", "Delta"), "θ": ("cmd", "theta"), "η": ("cmd", "eta"),
    "∂": ("cmd", "partial"), "Σ": ("cmd", "sum"), "∑": ("cmd", "sum"),
    "·": ("cmd", "cdot"), "⋅": ("cmd", "cdot"), "×": ("cmd", "times"), "⊙": ("cmd", "odot"),
    "∘": ("cmd", "circ"), "′": ("op", "'"), "ᵀ": ("cmd", "top"), "−": ("op", "-"), "ŷ": ("yhat", "y"),
}  # fmt: skip
_OPS = set("+-*/=()[]{}_^',")
_WORD = re.compile(r"[A-Za-z]+")
_NUMBER = re.compile(r"\d+(?:\.\d+)?|\.\d+")
_COMMAND = re.compile(r"\\([A-Za-z]+|.)")
_STEP = re.compile(r"\s*\{\s*1\s*\}\s*_\s*\{\s*>\s*0\s*\}")
_BRACED_WORD = re.compile(r"\s*(?:\{\s*([A-Za-z]+(?:\s+[A-Za-z]+)*)\s*\}|([A-Za-z]))")


def _visible(text: str) -> str:
    """Control characters and line breaks written as visible escapes, so a message stays on one line."""
    return "".join(c if c.isprintable() or c == " " else repr(c)[1:-1] for c in text)


def _show(text: str, pos: int) -> str:
    """The text around ``pos`` with the character marked, for one-line errors."""
    start = max(0, pos - 20)
    before = ("…" if start else "") + text[start:pos]
    here = text[pos : pos + 1] or "⟨end⟩"
    after = text[pos + 1 : pos + 21] + ("…" if pos + 21 < len(text) else "")
    return _visible(f"{before}»{here}«{after}")


def fail(text: str, pos: int, message: str, kind: type[FormulaError] = FormulaError) -> FormulaError:
    """A FormulaError (or ``kind``) that names the character (1-based) and shows where it is."""
    return kind(f"formula: {message} at character {pos + 1}: {_show(text, pos)}")


def tokenize(text: str) -> list[Token]:
    """Split a formula into tokens; unknown commands and characters are errors."""
    tokens: list[Token] = []
    i, n, space = 0, len(text), False

    def add(kind: str, value: str, pos: int) -> None:
        nonlocal space
        tokens.append(Token(kind, value, pos, space))
        space = False

    while i < n:
        c = text[i]
        if c.isspace() or c in "~&":
            space, i = True, i + 1
            continue
        if c == ":" and text.startswith(":=", i):
            add("op", "=", i)
            i += 2
            continue
        if c in _UNICODE:
            kind, value = _UNICODE[c]
            if kind == "yhat":  # ŷ is \hat{y}
                add("cmd", "hat", i)
                add("name", "y", i)
            else:
                add(kind, value, i)
            i += 1
            continue
        if c in activations.letters():  # σ is \sigma
            add("cmd", activations.letters()[c], i)
            i += 1
            continue
        if c == "\\":
            m = _COMMAND.match(text, i)
            if m is None:
                raise fail(text, i, "a backslash with no command")
            name = m.group(1)
            end = m.end()
            if name in _IGNORED:
                if name in ("left", "right") and text[end : end + 1] in (".",):
                    end += 1
                space, i = True, end
                continue
            if name == "mathbb":  # 𝟙_{>0}(z), the unit step as derive prints it
                w = _STEP.match(text, end)
                if w is None:
                    raise fail(text, i, "\\mathbb is read only as the unit step \\mathbb{1}_{>0}(z)")
                add("word", "step", i)
                i = w.end()
                continue
            if name in _WORD_COMMANDS:
                w = _BRACED_WORD.match(text, end)
                if w is None:
                    raise fail(text, end, f"\\{name} needs a word in braces, such as \\{name}{{ReLU}}")
                add("word", (w.group(1) or w.group(2)).replace(" ", ""), i)
                i = w.end()
                continue
            if name in ("{", "}"):
                add("op", "(" if name == "{" else ")", i)
                i = end
                continue
            if name not in _COMMANDS and name not in activations.commands():
                raise fail(text, i, f"unknown command \\{name}")
            add("cmd", name, i)
            i = end
            continue
        if c in "0123456789" or (c == "." and text[i + 1 : i + 2] in tuple("0123456789")):
            m = _NUMBER.match(text, i)
            assert m is not None
            if len(m.group()) > MAX_NUMBER:
                raise fail(text, i, f"a number longer than {MAX_NUMBER} digits", LimitError)
            add("num", m.group(), i)
            i = m.end()
            continue
        if c.isascii() and c.isalpha():
            m = _WORD.match(text, i)
            assert m is not None
            word = m.group()
            if word in ASCII_WORDS or activations.read(word) is not None:
                add("name", word, i)
            else:
                for k, letter in enumerate(word):
                    add("name", letter, i + k)
            i = m.end()
            continue
        if c in _OPS:
            add("op", c, i)
            i += 1
            continue
        raise fail(text, i, f"unexpected character {_visible(c)!r}")
    tokens.append(Token("end", "", n, space))
    return tokens


# ----------------------------------------------------------------------- parser
# Names that are functions when an argument follows; f and g only before "(".
FUNCTION_NAMES = {"exp", "log", "ln", "max", "step"}  # and every activation's (activations.read)


class _FormulaParser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0
        self.depth = 0

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
        first = self.expr()
        lhs = None
        if self.at("op", "="):
            self.take()
            lhs, first = first, self.expr()
            if self.at("op", "="):
                raise self.error("only one '=' is allowed (left side = right side)", self.tok.pos)
        if not self.at("end"):
            raise self.error("unexpected text")
        for side in (lhs, first):
            if side is not None:
                _validate(side, self)
        return Formula(lhs, first, self.text)

    def expr(self) -> Node:
        """Terms joined by + and −, with an optional leading sign."""
        self.enter()
        pos = self.tok.pos
        sign = None
        if self.at("op", "-") or self.at("op", "+"):
            sign = self.take().text
        node = self.hadamard()
        if sign == "-":
            node = Neg(node, pos)
        while self.at("op", "+") or self.at("op", "-"):
            op = self.take()
            node = BinOp(op.text, node, self.hadamard(), op.pos)
        self.leave()
        return node

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
            return t.text in "([{"
        if t.kind == "cmd":
            return t.text not in ("cdot", "times", "odot", "circ", "ast", "top", "intercal", "prime")
        return False

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
        if name.base in ("f", "g") and not name.digits and self.at("op", "(") and not self.tok.space:
            return True
        return False

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
        if t.kind == "op" and t.text in "([{":
            self.take()
            close = {"(": ")", "[": "]", "{": "}"}[t.text]
            body = self.expr()
            self.expect("op", close, f"'{close}' to match the '{t.text}' at character {t.pos + 1}")
            return body if t.text == "{" else Paren(body, t.pos)
        if t.kind == "cmd":
            return self._command(t)
        raise self.error("expected a term")

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

    def _command(self, t: Token) -> Node:
        name = t.text
        if name in ("frac", "dfrac", "tfrac"):
            self.take()
            num = self._argument()
            den = self._argument()
            if isinstance(num, _PartialHead) and isinstance(den, _PartialHead):
                return PartialNode(num.body, den.body, t.pos)
            if isinstance(num, _PartialHead) or isinstance(den, _PartialHead):
                raise self.error("a fraction of ∂ needs ∂ above and below", t.pos)
            return BinOp("/", num, den, t.pos)
        if name == "partial":
            self.take()
            if not self._starts_factor():
                raise self.error("∂ needs something to differentiate")
            return _PartialHead(self.factor(), t.pos)
        if name == "sum":
            self.take()
            return self._sum_head(t.pos)
        if name in ("hat", "widehat"):
            self.take()
            inner = self._argument()
            if not isinstance(inner, Name) or inner.hat:
                raise self.error("\\hat takes one letter, such as \\hat{y}", t.pos)
            return Name(inner.base, inner.pos, inner.digits, inner.sub, inner.sup, inner.primes, True, inner.bracket)
        if name in _GREEK or name in _FUNCTIONS or name in activations.commands():
            self.take()
            return Name(name, t.pos)
        raise self.error(f"\\{name} cannot start a term", t.pos)

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
                if not isinstance(node, Name) or node.sub is not None:
                    raise self.error("a subscript needs a name before it, such as x_1", t.pos)
                parts = arg.items if isinstance(arg, _Items) else (arg,)
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
                if isinstance(arg, _Items):
                    raise self.error("a superscript cannot be a list", t.pos)
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
        """\\sum_k, \\sum_{k}, \\sum_{k=1}^{n}; ASCII sum_k."""
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
    """∂X, waiting to be the numerator or denominator of a derivative."""

    body: Node
    pos: int


@dataclass(frozen=True)
class _Items(Node):
    items: tuple[Node, ...]
    pos: int


def _prime(node: Node, pos: int, parser: _FormulaParser) -> Node:
    if not isinstance(node, Name):
        raise parser.error("a prime needs a function before it, such as \\sigma'", pos)
    return Name(node.base, node.pos, node.digits, node.sub, node.sup, node.primes + 1, node.hat, node.bracket)


def _partials(node: Node, parser: _FormulaParser) -> Node:
    """∂X/∂Y written with a slash becomes a derivative."""
    if isinstance(node, BinOp) and node.op == "/":
        left, right = node.left, node.right
        if isinstance(left, _PartialHead) and isinstance(right, _PartialHead):
            return PartialNode(left.body, right.body, left.pos)
    return node


def walk(node: Node) -> Iterator[Node]:
    """Every node of a syntax tree, the node itself first."""
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        for value in vars(n).values():
            if isinstance(value, Node):
                stack.append(value)
            elif isinstance(value, tuple):
                stack.extend(v for v in value if isinstance(v, Node))


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
