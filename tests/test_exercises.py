"""The documents end with exercises whose answers ``derive verify`` checks (issue 13, "Prose").

Each exercise keeps a right answer in the document data (the derivation's own form in the reader's
notation); the document prints the question and the command line. Here the command is run as a student
would run it: the kept answer passes (exit 0) and a wrong one fails (exit 1), for every example spec.
"""

from __future__ import annotations

import re

import pytest
from conftest import EXAMPLES, net
from inprocess import run_cli

import derive
from derive.present.document import build
from derive.present.render import render_document

CASES = [(path, k) for path in EXAMPLES for k in range(3)]


def _exercise(documents, path, k):
    exercises = documents[path.stem].exercises
    if k >= len(exercises):
        pytest.skip(f"{path.stem} has {len(exercises)} exercises")
    return exercises[k]


@pytest.mark.parametrize(("path", "k"), CASES, ids=[f"{p.stem}-{k + 1}" for p, k in CASES])
def test_the_kept_answer_passes_derive_verify(documents, path, k):
    e = _exercise(documents, path, k)
    ran = run_cli("verify", str(path), e.param, e.answer)
    assert ran.returncode == 0, (e.param, e.answer, ran.stdout, ran.stderr)


@pytest.mark.parametrize(("path", "k"), CASES, ids=[f"{p.stem}-{k + 1}" for p, k in CASES])
def test_a_wrong_answer_fails_derive_verify(documents, path, k):
    e = _exercise(documents, path, k)
    for wrong in (rf"2 \left({e.answer}\right)", rf"-\left({e.answer}\right)"):
        ran = run_cli("verify", str(path), e.param, wrong)
        assert ran.returncode == 1, (e.param, wrong, ran.stdout, ran.stderr)


def test_each_example_has_three_exercises_in_its_body(documents, rendered):
    for path in EXAMPLES:
        doc = documents[path.stem]
        assert [e.kind for e in doc.exercises] == ["output delta", "hidden delta", "weight"]
        assert [e.param for e in doc.exercises] == [f"delta{doc.depth}[1]", f"delta{doc.depth - 1}[1]", "W1[1,1]"]
        assert "exercises" in doc.sections and doc.sections[-1] == "exercises"
        for lang, heading in (("en", "## Exercises"), ("zh", "## 练习")):
            md = rendered[f"{path.stem}.md" if lang == "en" else f"{path.stem}.zh.md"]
            body = md.split("## Appendix")[0].split("## 附录")[0]
            assert heading in body
            commands = re.findall(r"^derive verify .*$", md, re.MULTILINE)
            assert commands == [f"derive verify {path.name} '{e.param}' 'FORMULA'" for e in doc.exercises]


def test_the_commands_are_shown_in_every_format(documents, rendered):
    e = documents["seed003"].exercises[2]
    assert "derive verify seed003.toml &#x27;W1[1,1]&#x27; &#x27;FORMULA&#x27;" in rendered["seed003.html"]
    assert (
        r"derive verify seed003.toml \textquotesingle{}W1[1,1]\textquotesingle{} \textquotesingle{}FORMULA"
        in rendered["seed003.tex"].replace(r"\allowbreak{}", "")
    )
    assert e.param == "W1[1,1]"


def test_a_network_without_a_hidden_layer_has_two_exercises(tmp_path):
    network = net((3, 2), ["sigmoid"], "squared_error")
    doc = build(derive.derive(network))
    assert [e.kind for e in doc.exercises] == ["output delta", "weight"]
    spec = tmp_path / "one.toml"
    spec.write_text(
        'name = "one"\ninputs = 3\nloss = "squared_error"\n[[layer]]\nunits = 2\nactivation = "sigmoid"\n',
        encoding="utf-8",
    )
    for e in doc.exercises:
        assert run_cli("verify", str(spec), e.param, e.answer).returncode == 0
    md = render_document(doc, "md", "en")
    assert "Write the error term" in md and "the hidden layer" not in md.split("## Exercises")[1]
