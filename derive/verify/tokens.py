"""Cutting a hand-written formula into tokens: numbers, names, LaTeX commands, words and operators.

LaTeX as the articles write it and plain ASCII alike; the activations' names and letters are read from
their registry (:mod:`derive.rules.activations`), so a new activation is read with no edit here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from derive.rules import activations
from derive.verify.code_names import WORDS as CODE_NAMES
from derive.verify.syntax import MAX_NUMBER, LimitError, fail, visible


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
# beta, xi, zeta, varepsilon: how a notation spells a quantity whose letter names a node (Notation.spelled).
GREEK = {"delta", "Delta", "theta", "Theta", "eta", "alpha", "beta", "xi", "zeta", "varepsilon", "epsilon", "lambda"}
GREEK |= {"Omega"}  # Goodfellow's regulariser Ω(θ) (verify/penalty.py)
GREEK |= {"phi"}  # φ: an activation function's letter (notation.function = "phi"), \varphi or \phi
FUNCTIONS = {"exp", "log", "ln", "max"}
_COMMANDS = {
    "frac", "dfrac", "tfrac", "partial", "sum", "cdot", "times", "odot", "circ", "hat", "widehat",
    "top", "intercal", "prime", "ast",
} | GREEK | FUNCTIONS  # fmt: skip
_WORD_COMMANDS = ("operatorname", "mathrm", "text", "mathsf", "textrm", "mathtt", "rm")  # {\\rm softmax} too
# Commands that spell a token the grammar reads already, one line each: what they mean, not how they look.
SPELLINGS = {
    "equiv": ("op", "="),  # A ≡ B, read as A = B
    "coloneqq": ("op", ":="),  # a definition or an assignment
    "leftarrow": ("op", "<-"), "gets": ("op", "<-"),  # an update θ ← θ − η ∂C/∂θ
    "rightarrow": ("op", "->"), "to": ("op", "->"),  # Nielsen's update w → w − η ∂C/∂w, the old value on the left
    "ell": ("name", "l"),  # ℓ is the letter l (a layer)
    "varphi": ("cmd", "phi"),  # φ, written \varphi or \phi: one letter
    "cdots": ("cmd", "dots"), "dots": ("cmd", "dots"), "ldots": ("cmd", "dots"), "dotsb": ("cmd", "dots"),
    "vdots": ("cmd", "dots"), "ddots": ("cmd", "dots"),  # in an elided matrix
    "nabla": ("cmd", "nabla"),  # ∇_{v} C, the gradient
    "cdotp": ("cmd", "cdot"),
    "lVert": ("cmd", "norm"), "|": ("cmd", "norm"), "Vert": ("cmd", "norm"), "rVert": ("op", "‖"),  # ‖W‖, a norm
}  # fmt: skip
# ASCII words read as one name; anything else made of letters is letters side by side.
ASCII_WORDS = {"delta", "Delta", "theta", "Theta", "exp", "log", "ln", "eta", "beta", "sum", "yhat", "max", "step"}
ASCII_WORDS |= {"lambda", "net"}  # net: Wikipedia's pre-activation net_j (notation.pre_activation)
_UNICODE = {
    "δ": ("cmd", "delta"), "Δ": ("cmd", "Delta"), "θ": ("cmd", "theta"), "η": ("cmd", "eta"),
    "α": ("cmd", "alpha"), "β": ("cmd", "beta"), "ξ": ("cmd", "xi"), "ζ": ("cmd", "zeta"), "ε": ("cmd", "varepsilon"),
    "λ": ("cmd", "lambda"), "Ω": ("cmd", "Omega"), "φ": ("cmd", "phi"), "ϕ": ("cmd", "phi"),
    "∂": ("cmd", "partial"), "Σ": ("cmd", "sum"), "∑": ("cmd", "sum"),
    "·": ("cmd", "cdot"), "⋅": ("cmd", "cdot"), "×": ("cmd", "times"), "⊙": ("cmd", "odot"),
    "∘": ("cmd", "circ"), "′": ("op", "'"), "ᵀ": ("cmd", "top"), "−": ("op", "-"), "ŷ": ("yhat", "y"),
    "≡": ("op", "="), "≔": ("op", ":="), "←": ("op", "<-"), "→": ("op", "->"), "ℓ": ("name", "l"), "⋯": ("cmd", "dots"),
    "…": ("cmd", "dots"), "∇": ("cmd", "nabla"), "𝟙": ("cmd", "indicator"), "‖": ("cmd", "norm"),
}  # fmt: skip
_OPS = set("+-*/=()[]{}_^',>")  # '>' only in the unit step [z > 0] and 𝟙(z > 0)
_WORD = re.compile(r"[A-Za-z]+")
_NUMBER = re.compile(r"\d+(?:\.\d+)?|\.\d+")
_COMMAND = re.compile(r"\\([A-Za-z]+|.)")
_STEP = re.compile(r"\s*\{\s*1\s*\}\s*_\s*\{\s*>\s*0\s*\}")
_ONE = re.compile(r"\s*\{\s*1\s*\}")
_BOLD_ONE = re.compile(r"\s*\{\s*1\s*\}\s*(?:\(|\\\{|\\left|\\[bB]ig)")  # \mathbf{1} is 𝟙 only before a condition
_TWO = {":=": ("op", ":="), "<-": ("op", "<-"), ".*": ("cmd", "odot")}
_ENVIRONMENT = re.compile(r"\s*\{\s*[bpv]?matrix\s*\}")
_CLOSE = re.compile(r"\s*\}")
_RM_WORD = re.compile(r"\s*()([A-Za-z]+)")  # {\rm softmax}: the rest of the group's word
_BRACED_WORD = re.compile(r"\s*(?:\{\s*([A-Za-z]+(?:\s+[A-Za-z]+)*)\s*\}|([A-Za-z]))")


def tokenize(text: str) -> list[Token]:
    """Split a formula into tokens; unknown commands and characters are errors."""
    tokens: list[Token] = []
    i, n, space = 0, len(text), False
    matrices = 0  # environments open: inside one, & and \\ part its entries (elsewhere they only align)

    def add(kind: str, value: str, pos: int) -> None:
        nonlocal space
        tokens.append(Token(kind, value, pos, space))
        space = False

    while i < n:
        c = text[i]
        if c == "&" and matrices:
            add("op", "&", i)
            i += 1
            continue
        if c.isspace() or c in "~&":
            space, i = True, i + 1
            continue
        if c in ":<." and text.startswith((":=", "<-", ".*"), i):  # a definition, an update, Octave's .*
            kind, value = _TWO[text[i : i + 2]]
            add(kind, value, i)
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
            if (
                name == "mathbb" and _ONE.match(text, end) or name == "mathbf" and _BOLD_ONE.match(text, end)
            ):  # 𝟙: the unit step or an indicator
                w = _STEP.match(text, end)
                if w is not None:  # 𝟙_{>0}(z), the unit step as derive printed it before [z > 0]
                    add("word", "step", i)
                    i = w.end()
                else:  # 𝟙(y = k), 𝟙{y = k}
                    add("cmd", "indicator", i)
                    i = _ONE.match(text, end).end()  # type: ignore[union-attr]
                continue
            if name == "mathbb":
                raise fail(
                    text, i, "\\mathbb is read only as 𝟙: \\mathbb{1}(y = k) or the unit step \\mathbb{1}_{>0}(z)"
                )
            if name in SPELLINGS:
                add(*SPELLINGS[name], i)
                i = end
                continue
            if name in _WORD_COMMANDS:
                w = (_RM_WORD if name == "rm" else _BRACED_WORD).match(text, end)
                if w is None:
                    raise fail(text, end, f"\\{name} needs a word in braces, such as \\{name}{{ReLU}}")
                add("word", (w.group(1) or w.group(2)).replace(" ", ""), i)
                i = w.end()
                if name == "rm" and len(tokens) > 1 and tokens[-2].text == "{" and _CLOSE.match(text, i):
                    del tokens[-2]  # {\rm softmax} is the word alone
                    i = _CLOSE.match(text, i).end()  # type: ignore[union-attr]
                continue
            if name in ("begin", "end"):  # \\begin{matrix} … \\end{matrix}, bmatrix and pmatrix too
                env = _ENVIRONMENT.match(text, end)
                if env is None:
                    raise fail(text, i, f"\\{name} is read only for a matrix: \\{name}{{matrix}}, bmatrix or pmatrix")
                matrices += 1 if name == "begin" else -1
                add("op", "[matrix" if name == "begin" else "matrix]", i)
                i = env.end()
                continue
            if name == "\\" and matrices:
                add("op", "\\\\", i)
                i = end
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
            if word in ASCII_WORDS or activations.read(word) is not None or _code_name(word, tokens):
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
        raise fail(text, i, f"unexpected character {visible(c)!r}")
    tokens.append(Token("end", "", n, space))
    return tokens


def _code_name(word: str, tokens: list[Token]) -> bool:
    """A gradient's code name (dW, dscores: :mod:`derive.verify.code_names`), kept whole outside a subscript, where
    letters side by side are indices or node letters (w_{db})."""
    if word not in CODE_NAMES:
        return False
    before = [t.text if t.kind == "op" else "" for t in tokens[-2:]]
    script = bool(before) and before[-1] in ("_", "^")
    return not (script or len(before) == 2 and before[0] in ("_", "^") and before[1] in ("{", "("))
