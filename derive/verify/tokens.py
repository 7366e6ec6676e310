"""Cutting a hand-written formula into tokens: numbers, names, LaTeX commands, words and operators.

LaTeX as the articles write it and plain ASCII alike; the activations' names and letters are read from
their registry (:mod:`derive.rules.activations`), so a new activation is read with no edit here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from derive.rules import activations
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
FUNCTIONS = {"exp", "log", "ln", "max"}
_COMMANDS = {
    "frac", "dfrac", "tfrac", "partial", "sum", "cdot", "times", "odot", "circ", "hat", "widehat",
    "top", "intercal", "prime", "ast",
} | GREEK | FUNCTIONS  # fmt: skip
_WORD_COMMANDS = ("operatorname", "mathrm", "text", "mathsf", "textrm", "mathtt")
# ASCII words read as one name; anything else made of letters is letters side by side.
ASCII_WORDS = {"delta", "Delta", "theta", "Theta", "exp", "log", "ln", "eta", "beta", "sum", "yhat", "max", "step"}
ASCII_WORDS |= {"lambda"}
_UNICODE = {
    "δ": ("cmd", "delta"), "Δ": ("cmd", "Delta"), "θ": ("cmd", "theta"), "η": ("cmd", "eta"),
    "α": ("cmd", "alpha"), "β": ("cmd", "beta"), "ξ": ("cmd", "xi"), "ζ": ("cmd", "zeta"), "ε": ("cmd", "varepsilon"),
    "λ": ("cmd", "lambda"),
    "∂": ("cmd", "partial"), "Σ": ("cmd", "sum"), "∑": ("cmd", "sum"),
    "·": ("cmd", "cdot"), "⋅": ("cmd", "cdot"), "×": ("cmd", "times"), "⊙": ("cmd", "odot"),
    "∘": ("cmd", "circ"), "′": ("op", "'"), "ᵀ": ("cmd", "top"), "−": ("op", "-"), "ŷ": ("yhat", "y"),
}  # fmt: skip
_OPS = set("+-*/=()[]{}_^',>")  # '>' only in the unit step [z > 0]
_WORD = re.compile(r"[A-Za-z]+")
_NUMBER = re.compile(r"\d+(?:\.\d+)?|\.\d+")
_COMMAND = re.compile(r"\\([A-Za-z]+|.)")
_STEP = re.compile(r"\s*\{\s*1\s*\}\s*_\s*\{\s*>\s*0\s*\}")
_BRACED_WORD = re.compile(r"\s*(?:\{\s*([A-Za-z]+(?:\s+[A-Za-z]+)*)\s*\}|([A-Za-z]))")


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
            if name == "mathbb":  # 𝟙_{>0}(z), the unit step as derive printed it before [z > 0]
                w = _STEP.match(text, end)
                if w is None:
                    raise fail(text, i, "\\mathbb is read only as the unit step \\mathbb{1}_{>0}(z), or write [z > 0]")
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
        raise fail(text, i, f"unexpected character {visible(c)!r}")
    tokens.append(Token("end", "", n, space))
    return tokens
