"""The repairs of latex2mathml's output for MathML Core, each a small step on the element tree.

It exists apart from :mod:`derive.present.mathml`, which converts LaTeX and assembles the ``<math>``
elements, because the repairs are many and each needs its own explanation of what latex2mathml writes
and what browsers (Chromium, Firefox, Safari) make of it. Every fix takes the converted content and the
LaTeX it came from (for its error message) and changes the tree in place; :data:`FIXES` is their order.
"""

from __future__ import annotations

import re
import unicodedata
from xml.etree.ElementTree import Element

_ENTITY = re.compile(r"&#x([0-9A-Fa-f]+);")
_TEXT_ESCAPE = re.compile(r"\\([%&#$_{} ])")
_STRAY = frozenset("&{}")  # raw in <mi>/<mo>: a tab or brace latex2mathml did not parse
_ARITY = {"mfrac": 2, "msub": 2, "msup": 2, "msubsup": 3, "mover": 2, "munder": 2, "munderover": 3, "mroot": 2}
_PRIMES = {"′": 1, "″": 2, "‴": 3, "⁗": 4}
_PRIME_BY_COUNT = {count: char for char, count in _PRIMES.items()}
_LARGE_OPERATORS = frozenset("∑∏∐∫∬∭∮⋀⋁⋂⋃⨀⨁⨂⨄⨆")
_INTEGRALS = frozenset("∫∬∭∮")
_LIMIT_NAMES = frozenset({"max", "min", "lim", "sup", "inf", "det", "gcd", "Pr"})
_TALL = frozenset({"mfrac", "mtable", "msqrt", "mroot", "munder", "munderover"})
_SCRIPTS = {"msub": "munder", "msup": "mover", "msubsup": "munderover"}
_ROWS = frozenset({"mrow", "mtd", "mstyle", "msqrt", "mpadded", "mphantom", "menclose"})
_SIGNS = frozenset("+−±∓")
_CLOSING = frozenset(")]}|‖⟩⌉⌋")
_DOTS = frozenset("⋯…⋮⋱")  # TeX's \cdots: an inner atom, after which a sign stays binary (a + ⋯ + b)
_OPENING = frozenset("([{|‖⟨⌈⌊")
ALIGN_CSS = {"left": "-webkit-left", "center": "-webkit-center", "right": "-webkit-right"}
_NAMED_SPACES = {
    "veryverythinmathspace": "0.0556em",
    "verythinmathspace": "0.1111em",
    "thinmathspace": "0.1667em",
    "mediummathspace": "0.2222em",
    "thickmathspace": "0.2778em",
    "verythickmathspace": "0.3333em",
    "veryverythickmathspace": "0.3889em",
}
_NAMED_SPACES |= {"negative" + name: "-" + width for name, width in _NAMED_SPACES.items()}
# MathML mathvariant -> the style word in Unicode's names of mathematical alphanumerics.
_VARIANTS = {
    "bold": "BOLD",
    "italic": "ITALIC",
    "bold-italic": "BOLD ITALIC",
    "double-struck": "DOUBLE-STRUCK",
    "script": "SCRIPT",
    "bold-script": "BOLD SCRIPT",
    "fraktur": "FRAKTUR",
    "bold-fraktur": "BOLD FRAKTUR",
    "sans-serif": "SANS-SERIF",
    "bold-sans-serif": "SANS-SERIF BOLD",
    "sans-serif-italic": "SANS-SERIF ITALIC",
    "sans-serif-bold-italic": "SANS-SERIF BOLD ITALIC",
    "monospace": "MONOSPACE",
}
THICK_SPACE = "0.2778em"  # TeX's \thickmuskip, the space either side of a relation
THIN_SPACE = "0.1667em"  # TeX's \thinmuskip, after an operator name such as max


def wrap(tag: str, children: list[Element]) -> Element:
    """A new ``tag`` element holding ``children``."""
    element = Element(tag)
    element.extend(children)
    return element


# ------------------------------------------------------------------- the fixes
def _fix_text(content: Element, tex: str) -> None:
    """Decode latex2mathml's ``&#x…;`` text ourselves and reject raw TeX left in the output.

    latex2mathml writes characters as ``&#x…;`` strings and serialises with an
    unescape that also lets a ``<`` or ``&`` from ``\\text{…}`` through as
    markup; decoding the tree ourselves keeps the XML well formed. A backslash
    (or a stray ``&``, ``{``, ``}``) still in the raw text means TeX that
    latex2mathml did not understand, such as an unknown command.
    """
    for element in content.iter():
        text = element.text or ""
        if element.tag == "mtext":
            text = _TEXT_ESCAPE.sub(r"\1", text)
        if "\\" in text or (element.tag in ("mi", "mo") and text in _STRAY):
            raise ValueError(f"unsupported LaTeX {text!r} left unconverted in {tex!r}")
        if element.text is not None:
            element.text = _ENTITY.sub(lambda m: chr(int(m[1], 16)), text)
        width = element.get("width")
        if element.tag == "mspace" and width in _NAMED_SPACES:
            element.set("width", _NAMED_SPACES[width])  # MathML Core dropped named spaces


def _check_arity(content: Element, tex: str) -> None:
    """A script or fraction missing an argument (``\\frac{a}``) is an error, not a one-child ``mfrac``."""
    for element in content.iter():
        wanted = _ARITY.get(element.tag)
        if wanted is not None and len(element) != wanted:
            raise ValueError(f"<{element.tag}> with {len(element)} of {wanted} arguments from LaTeX {tex!r}")


def _fix_variants(content: Element, tex: str) -> None:
    """``mathvariant`` (``\\mathsf T``, ``\\mathbb{1}``, ``\\mathbf{1}``) as Unicode mathematical characters.

    Chromium honours only ``mathvariant="normal"``, so a sans-serif T would show
    as an italic T and a double-struck 1 as a plain 1.
    """
    for element in content.iter():
        variant = element.get("mathvariant")
        if element.tag not in ("mi", "mn", "mo") or variant not in _VARIANTS or not element.text:
            continue
        styled = [_styled(char, _VARIANTS[variant]) for char in element.text]
        if all(styled):
            element.text = "".join(styled)
            del element.attrib["mathvariant"]


def _styled(char: str, style: str) -> str | None:
    """``char`` in a Unicode mathematical style, e.g. ('T', 'SANS-SERIF') -> '𝖳', or None."""
    name = unicodedata.name(char, "")
    name = re.sub(r"^(LATIN|GREEK) (CAPITAL|SMALL) LETTER ", r"\2 ", name)
    for candidate in (f"MATHEMATICAL {style} {name}", f"{style} {name}", f"BLACK-LETTER {name}"):
        try:
            return unicodedata.lookup(candidate)
        except KeyError:
            continue
    return "ℎ" if (char, style) == ("h", "ITALIC") else None  # the one hole outside those names


def _fix_limits(content: Element, tex: str) -> None:
    """``\\sum_{s=1}^{m}``, ``\\max_{z}`` with movable limits, as TeX sets them.

    latex2mathml writes side scripts (``msubsup``), so a display block shows
    ∑ with its limits beside it; ``munderover`` with ``movablelimits`` puts
    them below and above in display style and beside it inline, like TeX.
    Integrals keep side scripts, as in TeX.
    """
    for element in content.iter():
        if element.tag not in _SCRIPTS or element[0].tag != "mo":
            continue
        base = element[0]
        if base.text in _LIMIT_NAMES:  # outside the operator dictionary: TeX's spacing for an operator name
            base.set("lspace", "0")
            base.set("rspace", THIN_SPACE)
        elif base.text not in _LARGE_OPERATORS or base.text in _INTEGRALS:
            continue
        element.tag = _SCRIPTS[element.tag]
        base.set("movablelimits", "true")


def _fix_operator_names(content: Element, tex: str) -> None:
    """``\\operatorname{ReLU}``, ``\\max`` as upright identifiers, not ``<mo>``.

    As an ``<mo>`` outside the operator dictionary, a name gets the default
    operator spacing on both sides ("diag  (x)"); ``\\log`` and ``\\tanh`` are
    already ``<mi>``. A one-letter name needs ``mathvariant="normal"`` to stay upright.
    """
    for element in content.iter("mo"):
        text = element.text or ""
        if text.isalpha() and text.isascii() and "movablelimits" not in element.attrib:
            element.tag = "mi"
            if len(text) == 1:
                element.set("mathvariant", "normal")


def _prime_count(element: Element) -> int:
    """How many primes a token holds (″ is two), 0 if it holds anything else."""
    text = element.text or ""
    if element.tag not in ("mi", "mo") or len(element) or not text or any(c not in _PRIMES for c in text):
        return 0
    return sum(_PRIMES[c] for c in text)


def _fix_primes(content: Element, tex: str) -> None:
    """``σ'`` as σ followed by a prime operator, not σ with a superscript prime.

    latex2mathml writes ``<msup><mi>σ</mi><mi>′</mi></msup>``, but U+2032 is
    already a raised glyph: as a superscript it is shrunk and raised again
    into a speck. Leading primes leave the superscript (whatever follows them
    stays there, as in ``f'^{2}``); a subscript moves after the prime.
    """
    for element in list(content.iter()):
        if element.tag not in ("msup", "msubsup"):
            continue
        base, *middle, sup = list(element)
        parts = list(sup) if sup.tag == "mrow" else [sup]
        count = 0
        while parts and _prime_count(parts[0]):
            count += _prime_count(parts.pop(0))
        if not count:
            continue
        prime = Element("mo")
        prime.text = _PRIME_BY_COUNT.get(count, "′" * count)
        primed = wrap("mrow", [base, prime])
        rest = [] if not parts else [parts[0] if len(parts) == 1 else wrap("mrow", parts)]
        children = [primed, *middle, *rest]
        element.clear()  # also drops attributes: latex2mathml puts none on scripts
        element.tag = {1: "mrow", 2: "msub" if middle else "msup", 3: "msubsup"}[len(children)]
        element.extend(children)


def _is_tall(element: Element) -> bool:
    """Whether ``element`` reaches beyond a normal parenthesis (fraction, table, big operator…)."""
    if element.tag in _TALL or (element.tag == "mover" and element.get("accent") != "true"):
        return True
    if element.tag in ("msub", "msup", "msubsup") and (element[0].text or "") in _LARGE_OPERATORS:
        return True
    return any(_is_tall(child) for child in element)


def _fix_fences(content: Element, tex: str) -> None:
    """``\\left( z \\right)`` around flat content as non-stretchy fences.

    Chromium gives every stretchy parenthesis the width of the font's widest
    variant (≈0.9 em in Latin Modern Math), so ``σ(z)`` shows as ``σ ( z )``;
    where TeX's ``\\left`` would not grow the parenthesis anyway (no fraction,
    table, root or big operator inside) the fences are marked non-stretchy.
    Around tall content they stay ``stretchy="true"``. The empty fences of ``\\left.`` and ``\\right.`` (a
    bracket opened on one line of a broken formula and closed on the next) are dropped: Chromium gives
    them the width of a bracket.
    """
    for parent in list(content.iter()):
        for child in list(parent):
            if child.tag == "mo" and child.get("fence") == "true" and not (child.text or "").strip():
                parent.remove(child)
    for element in content.iter("mrow"):
        if len(element) < 2:
            continue
        first, last = element[0], element[-1]
        if not all(e.tag == "mo" and e.get("fence") == "true" for e in (first, last)):
            continue
        if first.get("form") == "prefix" and last.get("form") == "postfix":
            if not any(_is_tall(child) for child in element[1:-1]):
                first.set("stretchy", "false")
                last.set("stretchy", "false")


def _fix_signs(content: Element, tex: str) -> None:
    """A sign after an operator or opening fence, as in ``\\left(- y\\right)``, is a prefix sign.

    MathML Core infers ``form`` only from the first and last place in a row,
    so latex2mathml's ``(−y`` gets binary-operator spacing around the minus;
    TeX makes such a sign unary.
    """
    for row in content.iter():
        if row.tag not in _ROWS:
            continue
        children = list(row)
        for place, (before, sign) in enumerate(zip(children, children[1:], strict=False)):
            if sign.tag != "mo" or sign.text not in _SIGNS or "form" in sign.attrib or before.tag != "mo":
                continue
            if (
                before.get("form") != "postfix"
                and not _closes(before.text or "", children[: place + 1])
                and (before.text or "") not in _DOTS
            ):
                sign.set("form", "prefix")


def _closes(fence: str, upto: list[Element]) -> bool:
    """Whether ``fence``, the last of ``upto``, closes: | and ‖ open and close, so every second one closes."""
    if fence not in _CLOSING:
        return False
    if fence not in _OPENING:
        return True
    return sum(1 for e in upto if e.tag == "mo" and e.text == fence) % 2 == 0


def _is_name(element: Element) -> bool:
    """An operator name such as log or ReLU, possibly with scripts or a prime."""
    text = element.text or ""
    if element.tag == "mi" or (element.tag == "mo" and text in _LIMIT_NAMES):
        return len(text) > 1 and text.isascii() and text.isalpha()
    return element.tag in ("mrow", "msub", "msup", "msubsup", "munder") and len(element) > 0 and _is_name(element[0])


def _ends_ordinary(element: Element) -> bool:
    """Whether ``element`` ends like a variable or a closing fence (TeX's Ord or Close)."""
    if element.tag == "mo":
        text = element.text or ""
        return element.get("form") == "postfix" or text in _CLOSING or (text != "" and text[-1] in _PRIMES)
    if element.tag == "mrow":
        return len(element) > 0 and _ends_ordinary(element[-1])
    return element.tag != "mspace"


def _name_token(element: Element) -> Element:
    """The token that holds an operator name (the ``mi`` of log in ``log``, ``log^2``, ``log′``)."""
    return element if element.tag in ("mi", "mo") else _name_token(element[0])


def _opens(element: Element) -> bool:
    """Whether ``element`` begins with an opening bracket (TeX's Open), as the argument in ``\\log(1 - y)``."""
    if element.tag == "mo":
        return element.get("form") == "prefix" or (element.text or "") in _OPENING
    return element.tag == "mrow" and len(element) > 0 and _opens(element[0])


def _fix_name_spacing(content: Element, tex: str) -> None:
    """Thin spaces around an operator name as TeX sets them: ``t \\log y`` is t log y, not tlogy.

    TeX puts \\thinmuskip between an ordinary symbol (or a closing fence) and
    an operator, and between the operator and an argument that is not in
    brackets; latex2mathml's ``<mi>log</mi>`` has no operator spacing. Before
    a bracket there is none: log(1 − y), σ(z).
    """
    for row in list(content.iter()):
        if row.tag not in _ROWS:
            continue
        for index in range(len(row) - 1, -1, -1):
            if not _is_name(row[index]):
                continue
            after = row[index + 1] if index + 1 < len(row) else None
            spaced = _name_token(row[index]).get("rspace") is not None  # max already has its space after
            if after is not None and not spaced and after.tag not in ("mspace", "mo") and not _opens(after):
                row.insert(index + 1, Element("mspace", {"width": THIN_SPACE}))
            if index > 0 and _ends_ordinary(row[index - 1]):
                row.insert(index, Element("mspace", {"width": THIN_SPACE}))


def _fix_script_spacing(content: Element, tex: str) -> None:
    """No operator spacing inside sub- and superscripts (``s=1``, ``>0``), as in TeX's script style."""
    for element in content.iter():
        if element.tag not in _SCRIPTS and element.tag not in _SCRIPTS.values():
            continue
        for argument in element[1:]:
            for operator in argument.iter("mo"):
                if "lspace" not in operator.attrib and "rspace" not in operator.attrib:
                    operator.set("lspace", "0")
                    operator.set("rspace", "0")


def _fix_cells(content: Element, tex: str) -> None:
    """``columnalign`` on table cells (``cases``) also as CSS, the only alignment Chromium reads."""
    for cell in content.iter("mtd"):
        align = cell.get("columnalign")
        if align in ALIGN_CSS and "style" not in cell.attrib:
            cell.set("style", f"text-align: {ALIGN_CSS[align]}")


# The fixes in the order they run; a later one may read what an earlier one set (the names' spacing reads
# the rspace that the limits gave max).
FIXES = (
    _fix_text,
    _check_arity,
    _fix_variants,
    _fix_limits,
    _fix_operator_names,
    _fix_primes,
    _fix_fences,
    _fix_signs,
    _fix_name_spacing,
    _fix_script_spacing,
    _fix_cells,
)
