"""MathML for the HTML output: derive's LaTeX, converted for browsers' native math rendering.

latex2mathml does the parsing; this module repairs what it gets wrong for
MathML Core (the MathML that Chromium, Firefox and Safari render) with a few
small, separate steps, each documented where it is defined:

* before conversion, ``:=`` becomes ``\\coloneqq`` (latex2mathml writes the
  colon as a variable ``<mi>:</mi>``) and ``\\mathrm{d}`` becomes
  ``\\operatorname{d}`` (latex2mathml drops the upright style of one letter);
* after conversion, on the element tree: character references are decoded
  safely (latex2mathml's own serialiser lets ``<`` and ``&`` from ``\\text``
  through unescaped); ``mathvariant`` styles that Chromium ignores become
  Unicode mathematical letters (𝖳, 𝟙, 𝟏); ∑ and max take limits below and
  above in display style; operator names such as ReLU become upright
  identifiers; primes move out of superscripts; ``\\left``/``\\right`` fences
  around flat content stop stretching; a sign after an operator is unary;
  operators in scripts lose their spacing; ``mtd`` cells get CSS alignment;
  named spaces become lengths.

Input that latex2mathml cannot convert, or converts only in part (an unknown
command left as raw TeX, a fraction with one argument), raises ``ValueError``
naming the LaTeX. Output is deterministic and well-formed XML, without an XML
namespace declaration: it is meant for HTML5, where ``<math>`` needs none.
"""

from __future__ import annotations

import re
import unicodedata
from xml.etree.ElementTree import Element, SubElement, tostring

from latex2mathml.converter import convert_to_element

__all__ = ["block", "inline", "rows"]

# ------------------------------------------------------------ pre-processing
_PRE = (
    # ":=" would be <mi>:</mi><mo>=</mo>; U+2254 COLON EQUALS is one relation.
    (re.compile(r":="), r"\\coloneqq "),
    # \mathrm{d} would be an italic <mi>d</mi>; \operatorname keeps it upright.
    (re.compile(r"\\mathrm\s*\{([A-Za-z]+)\}"), r"\\operatorname{\1}"),
    # \mathopen{} and \mathclose{} only stop TeX's space between a function name and its growing brackets
    # (σ(…)); latex2mathml makes each an empty operator, and MathML's brackets take no space anyway.
    (re.compile(r"\\math(?:open|close)\s*\{\s*\}"), ""),
)

# derive's Equation spells an update "<-"; the LaTeX for it is \leftarrow.
_RELATIONS = {"<-": r"\leftarrow"}

# ----------------------------------------------------------- post-processing
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
_ALIGN_CSS = {"left": "-webkit-left", "center": "-webkit-center", "right": "-webkit-right"}
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


# An inline formula and the punctuation right after it, as the HTML documents write them.
_PUNCTUATION_AFTER = r"[)\]}.,;:!?’”）］」』。，、；：！？]"
_FORMULA_THEN_PUNCTUATION = re.compile(rf"(<math>(?:(?!</math>).)*</math>{_PUNCTUATION_AFTER}+)", re.DOTALL)


def glue_punctuation(html: str) -> str:
    """``html`` with each inline ``<math>`` and the punctuation after it in one ``<span class="nobr">``.

    Browsers may break a line between a formula and the closing parenthesis or full stop after it (the
    formula counts as an object, not a letter), which leaves a lone ``)`` or 「。」 at the start of a
    line on a narrow screen; the span, set ``white-space: nowrap`` by the page, keeps them together.
    """
    return _FORMULA_THEN_PUNCTUATION.sub(r'<span class="nobr">\1</span>', html)


def inline(tex: str) -> str:
    """``tex`` as an inline ``<math>`` element."""
    return _serialise(_math(_convert(tex)))


def block(tex: str) -> str:
    """``tex`` as a display ``<math display="block">`` element."""
    return _serialise(_math(_convert(tex), block=True))


def rows(rows: list[tuple[str, str, str]]) -> str:
    """Aligned equations ``(lhs, relation, rhs)`` as one display block.

    A three-column ``<mtable>``: left sides right-aligned, relations centred,
    right sides left-aligned, each cell converted on its own (latex2mathml's
    ``aligned`` environment misplaces the columns). Empty cells stay empty.
    Alignment is given twice, as MathML's ``columnalign`` and as CSS, because
    Chromium reads only the CSS.
    """
    if not rows:
        raise ValueError("rows() needs at least one equation")
    table = Element("mtable", {"displaystyle": "true", "columnalign": "right center left", "columnspacing": "0"})
    for lhs, relation, rhs in rows:
        tr = SubElement(table, "mtr")
        relation = _RELATIONS.get(relation.strip(), relation)
        for tex, align, padding in (
            (lhs, "right", "padding-right: 0"),
            (relation, "center", f"padding-left: {THICK_SPACE}; padding-right: {THICK_SPACE}"),
            (rhs, "left", "padding-left: 0"),
        ):
            td = SubElement(tr, "mtd", {"columnalign": align, "style": f"text-align: {_ALIGN_CSS[align]}; {padding}"})
            if tex.strip():
                td.append(_convert(tex))
        _own_spacing(tr[1])
    return _serialise(_math(table, block=True))


# ---------------------------------------------------------------- conversion
def _convert(tex: str) -> Element:
    """The fixed-up MathML content (an ``<mrow>``) for one LaTeX string."""
    if not tex.strip():
        raise ValueError("cannot convert empty LaTeX to MathML")
    source = tex
    for pattern, replacement in _PRE:
        source = pattern.sub(replacement, source)
    if r"\operatorname*" in tex:  # latex2mathml turns the star into a stray <mo>*</mo>
        raise ValueError(f"unsupported LaTeX \\operatorname* in {tex!r}")
    try:
        root = convert_to_element(source, xmlns="")
    except Exception as error:  # latex2mathml raises bare Exception subclasses, or IndexError on junk
        raise ValueError(f"cannot convert LaTeX to MathML ({type(error).__name__}): {tex!r}") from error
    content = root[0] if len(root) == 1 else _wrap("mrow", list(root))
    fixes = (
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
    for fix in fixes:
        fix(content, tex)
    return content


def _math(content: Element, block: bool = False) -> Element:
    math = Element("math", {"display": "block"} if block else {})
    math.append(content)
    return math


def _serialise(element: Element) -> str:
    return tostring(element, encoding="unicode")


def _wrap(tag: str, children: list[Element]) -> Element:
    element = Element(tag)
    element.extend(children)
    return element


def _own_spacing(cell: Element) -> None:
    """A relation alone in its cell gets its spacing from the cell's padding, not from the operator."""
    operators = [e for e in cell.iter() if e is not cell and e.tag != "mrow"]
    if len(operators) == 1 and operators[0].tag == "mo":
        operators[0].set("lspace", "0")
        operators[0].set("rspace", "0")


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
        primed = _wrap("mrow", [base, prime])
        rest = [] if not parts else [parts[0] if len(parts) == 1 else _wrap("mrow", parts)]
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
        if align in _ALIGN_CSS and "style" not in cell.attrib:
            cell.set("style", f"text-align: {_ALIGN_CSS[align]}")
