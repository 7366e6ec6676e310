"""The HTML that keeps an inline formula and the punctuation after it on one line (no browser needed).

tests/test_phone.py sees the lines in Chromium; here the markup: ``mathml.glue_punctuation`` wraps an
inline ``<math>`` and the closing punctuation right after it in ``<span class="nobr">``, which the page
sets ``white-space: nowrap``, and leaves everything else as it was.
"""

from __future__ import annotations

import re

import pytest

from derive.present import mathml, render

X = mathml.inline("x")
Y = mathml.inline("y_{1} + y_{2} = 1")
CLOSING = r"[)\].,;:!?）。，、；：！？]"


@pytest.mark.parametrize(
    ("html", "glued"),
    [
        (f"<p>the input {X}).</p>", f'<p>the input <span class="nobr">{X}).</span></p>'),
        (f"<p>（{Y}）。下一句</p>", f'<p>（<span class="nobr">{Y}）。</span>下一句</p>'),
        (f"<p>{X}, {Y}:</p>", f'<p><span class="nobr">{X},</span> <span class="nobr">{Y}:</span></p>'),
        (f"<p>{X} and {Y}</p>", f"<p>{X} and {Y}</p>"),  # a space after a formula is a fine place to break
        (f"<p>{X}’s value</p>", f'<p><span class="nobr">{X}’</span>s value</p>'),
    ],
)
def test_glue_punctuation(html, glued):
    assert mathml.glue_punctuation(html) == glued


def test_display_formulas_are_left_alone():
    block = f'<div class="display scroll">{mathml.rows([("a", "=", "b")])}</div>.'
    assert mathml.glue_punctuation(block) == block


@pytest.mark.parametrize("lang", render.LANGS)
def test_documents_glue_every_formula_to_its_punctuation(documents, lang):
    for stem, doc in documents.items():
        html = render.render_document(doc, "html", lang)
        assert html.count('<span class="nobr"><math>') > 10, stem
        loose = re.findall(rf"</math>{CLOSING}+(?!{CLOSING}|</span>)", html)
        assert not loose, (stem, loose[:5])
        assert ".nobr { white-space: nowrap; }" in html
