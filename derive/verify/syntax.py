"""The syntax tree of a hand-written formula, its errors, and what one formula may cost.

Frozen dataclasses and nothing else: :mod:`derive.verify.tokens` cuts the text into tokens,
:mod:`derive.verify.formula` builds these nodes from them, and :mod:`derive.verify.reading`
decides what each name means against a network.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from derive.errors import DeriveError


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
    LINKS = 20  # relations in one chain A = B = C …: each link is verified on its own
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
    sample: Node | None = None  # Nielsen's δ^{x,l}: the sample x written before the layer in the superscript


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
    """A written ∂of/∂wrt (the sympy factor it becomes in a chain is :class:`derive.rules.functions.Partial`);
    ``nabla`` when written ∇_{wrt} of, which is read only of the cost."""

    of: Node
    wrt: Node
    pos: int
    nabla: bool = False


@dataclass(frozen=True)
class Entry(Node):
    """One entry of a vector or matrix written as a whole: ``\\operatorname{softmax}(z)_1``, ``(W^T δ)_j``."""

    body: Node
    index: tuple[Node, ...]
    pos: int


@dataclass(frozen=True)
class MatrixNode(Node):
    """``\\begin{matrix} a & b \\\\ c & d \\end{matrix}``: its entries row by row, ``cols`` to a row."""

    entries: tuple[Node, ...]
    cols: int
    pos: int


@dataclass(frozen=True)
class Indicator(Node):
    """𝟙(left = right): 1 where the two are equal, else 0, as ``\\mathbb{1}(y = k)`` writes a one-hot target."""

    left: Node
    right: Node
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
    """A parsed formula: the optional left side and the right side.

    ``relations`` are the relations written between the sides, in order: ``=`` (also ``\\equiv``), ``:=`` (a
    definition or an assignment), ``<-`` (an update, ``\\leftarrow``) or ``->`` (Nielsen's ``\\rightarrow``, the same
    update with the old value on the left); ``more`` the right sides after the first
    in a chain A = B = C; ``spans`` where each side is in the text, (start, end), the left side first.
    """

    lhs: Node | None
    rhs: Node
    text: str
    relations: tuple[str, ...] = ()
    more: tuple[Node, ...] = ()
    spans: tuple[tuple[int, int], ...] = ()

    @property
    def relation(self) -> str:
        """The relation between the left side and the first right side ("=" without a left side)."""
        return self.relations[0] if self.relations else "="

    def side(self, k: int) -> str:
        """The text of side ``k`` (0 the left side), as written."""
        start, end = self.spans[k]
        return self.text[start:end].strip()

    def links(self) -> tuple[Formula, ...]:
        """A chain A = B = C as the formulas A = B and A = C, each with its own spans; a plain formula as itself."""
        if not self.more:
            return (self,)
        sides = (self.rhs, *self.more)
        return tuple(
            Formula(self.lhs, rhs, self.text, (self.relations[k],), (), (self.spans[0], self.spans[k + 1]))
            for k, rhs in enumerate(sides)
        )


def visible(text: str) -> str:
    """Control characters and line breaks written as visible escapes, so a message stays on one line."""
    return "".join(c if c.isprintable() or c == " " else repr(c)[1:-1] for c in text)


def _show(text: str, pos: int) -> str:
    """The text around ``pos`` with the character marked, for one-line errors."""
    start = max(0, pos - 20)
    before = ("…" if start else "") + text[start:pos]
    here = text[pos : pos + 1] or "⟨end⟩"
    after = text[pos + 1 : pos + 21] + ("…" if pos + 21 < len(text) else "")
    return visible(f"{before}»{here}«{after}")


def fail(text: str, pos: int, message: str, kind: type[FormulaError] = FormulaError) -> FormulaError:
    """A FormulaError (or ``kind``) that names the character (1-based) and shows where it is."""
    return kind(f"formula: {message} at character {pos + 1}: {_show(text, pos)}")


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
