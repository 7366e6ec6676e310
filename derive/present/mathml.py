"""MathML for the HTML output: derive's LaTeX, converted for browsers' native math rendering.

latex2mathml does the parsing; this module repairs what it gets wrong for
MathML Core (the MathML that Chromium, Firefox and Safari render) with a few
small, separate steps, each documented where it is defined (the pre-processing here, the fixes of
the element tree in :mod:`derive.present.mathml_fixes`):

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
from xml.etree.ElementTree import Element, SubElement, tostring

from latex2mathml.converter import convert_to_element

from derive.present.mathml_fixes import ALIGN_CSS, FIXES, THICK_SPACE, wrap
from derive.present.mathml_fixes import THIN_SPACE as THIN_SPACE  # re-exported: tests read mathml.THIN_SPACE

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
            td = SubElement(tr, "mtd", {"columnalign": align, "style": f"text-align: {ALIGN_CSS[align]}; {padding}"})
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
    content = root[0] if len(root) == 1 else wrap("mrow", list(root))
    for fix in FIXES:
        fix(content, tex)
    return content


def _math(content: Element, block: bool = False) -> Element:
    math = Element("math", {"display": "block"} if block else {})
    math.append(content)
    return math


def _serialise(element: Element) -> str:
    return tostring(element, encoding="unicode")


def _own_spacing(cell: Element) -> None:
    """A relation alone in its cell gets its spacing from the cell's padding, not from the operator."""
    operators = [e for e in cell.iter() if e is not cell and e.tag != "mrow"]
    if len(operators) == 1 and operators[0].tag == "mo":
        operators[0].set("lspace", "0")
        operators[0].set("rspace", "0")
