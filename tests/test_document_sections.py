"""A spec's [document] table chooses the sections and their order, body and appendix (issue 13).

The headings a reader sees must follow the order the spec lists, the appendix must hold exactly the
sections listed there, and a bad table must be one line naming the key, with exit code 2.
"""

from __future__ import annotations

import re

import pytest
from conftest import ROOT
from inprocess import run_cli

import derive
from derive.errors import SpecError
from derive.model.document import SECTIONS

SPEC = """\
name = "small"
inputs = 2
loss = "squared_error"

[[layer]]
units = 2
activation = "sigmoid"

[[layer]]
units = 1
activation = "sigmoid"
"""
# The English heading of each section, as a reader finds it in the Markdown.
HEADINGS = {
    "network": "The network",
    "forward": "Forward pass",
    "backward": "Backward pass",
    "general": "Any layer: the four equations",
    "update": "Gradient descent",
    "inputs": "A remark on the inputs",
    "verification": "How each result was checked",
}


def _headings(md: str) -> list[tuple[int, str]]:
    return [(len(m.group(1)), m.group(2)) for m in re.finditer(r"^(#+) (.+)$", md, re.MULTILINE)]


def test_the_body_and_the_appendix_follow_the_spec(tmp_path):
    spec = SPEC + '\n[document]\nsections = ["network", "update", "forward"]\nappendix = ["inputs", "verification"]\n'
    path = tmp_path / "small.toml"
    path.write_text(spec, encoding="utf-8")
    ran = run_cli("render", str(path), "-o", str(tmp_path), "--format", "md", "--quiet")
    assert ran.returncode == 0, ran.stderr
    top = [text for level, text in _headings((tmp_path / "small.md").read_text(encoding="utf-8")) if level == 2]
    assert top == ["The network", "Gradient descent", "Forward pass", "Appendix"]
    sub = _headings((tmp_path / "small.md").read_text(encoding="utf-8"))
    after = sub[[t for _, t in sub].index("Appendix") + 1 :]
    assert [t for level, t in after if level == 3] == [HEADINGS["inputs"], HEADINGS["verification"]]
    assert "Backward pass" not in [t for _, t in sub]


def test_by_default_the_checks_go_to_the_appendix(tmp_path):
    d = derive.derive(derive.loads(SPEC))
    md = d.render("md")
    heads = [t for _, t in _headings(md)]
    assert heads.index("Appendix") < heads.index(HEADINGS["verification"])
    assert heads.index(HEADINGS["general"]) < heads.index("Appendix")


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('sections = ["network", "fwd"]', "document.sections[2]: unknown section 'fwd'"),
        ('sections = "network"', "document.sections: must be an array"),
        ('sections = ["network"]\nappendix = ["network"]', "document: section 'network' is listed twice"),
        ('detail = "some"', "document.detail: 'some' is not one of compact, full"),
        ("colour = 1", "document.colour: unknown key"),
    ],
)
def test_a_bad_document_table_is_one_line_naming_the_key(tmp_path, table, message):
    with pytest.raises(SpecError, match=re.escape(message)):
        derive.loads(SPEC + "\n[document]\n" + table + "\n")
    path = tmp_path / "bad.toml"
    path.write_text(SPEC + "\n[document]\n" + table + "\n", encoding="utf-8")
    ran = run_cli("render", str(path), "-o", str(tmp_path / "out"), "--format", "md", "--quiet")
    assert ran.returncode == 2
    assert message in ran.stderr and ran.stderr.count("\n") == 1
    assert not (tmp_path / "out" / "bad.md").exists()


def test_the_readme_lists_every_section():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for key, what in SECTIONS.items():
        assert f"| {what} | `{key}` |" in readme, key
