"""The textbook collection (examples/formulas/textbooks.toml): six sources' backprop formulas in their own notation.

Every formula a source prints verifies right under that source's preset, in Python and through `derive verify
SPEC --file`, and every typical student mistake is wrong with the diagnosis the collection names for it and words
of that diagnosis in the verdict.
"""

from __future__ import annotations

import tomllib

import pytest
from conftest import ROOT
from inprocess import run_cli

import derive
from derive.verify import verify

COLLECTION = tomllib.loads((ROOT / "examples" / "formulas" / "textbooks.toml").read_text(encoding="utf-8"))
SOURCES = COLLECTION["sources"]
# A source may hold a second network of its own, a table beside its lists (Goodfellow's with weight decay): its
# formulas are the source's too, under the same preset, named source/table.
ENTRIES = {name: entry for name, entry in SOURCES.items()}
ENTRIES |= {
    f"{name}/{key}": table for name, entry in SOURCES.items() for key, table in entry.items() if isinstance(table, dict)
}
NETS = {name: derive.derive(derive.loads(entry["spec"])) for name, entry in ENTRIES.items()}
RIGHT = [(name, f) for name, entry in ENTRIES.items() for f in entry["right"]]
WRONG = [(name, w["formula"], w["code"]) for name, entry in ENTRIES.items() for w in entry["wrong"]]
# a source's regularised statements: its spec with the [regularization] table its cost has (``l2``)
NETS |= {f"{name}+l2": derive.derive(derive.loads(e["spec"] + e["l2"])) for name, e in SOURCES.items() if "l2" in e}
RIGHT += [(f"{name}+l2", f) for name, entry in SOURCES.items() for f in entry.get("right_l2", [])]
WRONG += [(f"{name}+l2", w["formula"], w["code"]) for name, entry in SOURCES.items() for w in entry.get("wrong_l2", [])]

# words of each diagnosis the verdict must print (the English text), beside its code
WORDS = {
    "missing_derivative": "activation is missing",
    "extra_derivative": "an extra activation derivative",
    "sign": "the sign is wrong",
    "transposed": "indices are transposed",
    "factor_two": "half the derivative",
    "batch_sum": "a sum where the mean belongs",
    "batch_mean": "a mean where this notation's E is the sum",
    "wrong_layer_derivative": "taken in the wrong place",
    "index_clash": "the indices do not match",
    "shape": "the shapes do not fit",
    "penalty": "the L2 penalty's term",
    "penalty_scale": ": the form ",
    "penalty_form": "it would be right with the penalty's form half",
    "penalty_without": "the formula has an L2 penalty (λ)",
    "convention": "it would be right with",
    "missing_transpose": "a transpose is missing",
    "bias_missing": "the bias is missing",
    "bias_unit_missing": "the bias is missing: with bias = unit",
    "wrong_input_layer": "the layer is wrong",
    "activation_missing": "the activation is missing",
    "loss_scale": "twice the spec's loss",
}


def test_every_source_is_in_the_collection_with_its_preset() -> None:
    assert sorted(SOURCES) == ["bishop", "cs231n", "goodfellow", "ng", "nielsen", "wikipedia"]
    for name, entry in ENTRIES.items():
        assert f'preset = "{name.split("/")[0]}"' in entry["spec"]
        assert entry["right"] and entry["wrong"], name
        assert all(w["code"] in WORDS and w["mistake"] for w in entry["wrong"] + entry.get("wrong_l2", [])), name


@pytest.mark.parametrize(("name", "formula"), RIGHT)
def test_the_sources_formulas_are_right_under_their_preset(name: str, formula: str) -> None:
    v = verify(NETS[name], None, formula)
    assert v.right, v.text()


@pytest.mark.parametrize(("name", "formula", "code"), WRONG)
def test_the_typical_mistakes_are_wrong_with_the_reason(name: str, formula: str, code: str) -> None:
    v = verify(NETS[name], None, formula)
    assert not v.right, formula
    assert code in v.codes, v.text()
    assert WORDS[code] in v.text(), v.text()


@pytest.mark.parametrize("name", sorted(ENTRIES))
def test_verify_file_reads_each_sources_formulas(tmp_path, name: str) -> None:
    """The same formulas as a list in a Markdown file, through the command line: all right, exit 0."""
    entry = ENTRIES[name]
    spec = tmp_path / f"{name.replace('/', '_')}.toml"
    spec.write_text(entry["spec"], encoding="utf-8")
    listing = tmp_path / f"{name.replace('/', '_')}.md"
    lines = "".join(f"- formula {i}: ${f}$\n" for i, f in enumerate(entry["right"], 1))
    listing.write_text(f"# {name}\n\n{lines}", encoding="utf-8")
    result = run_cli("verify", str(spec), "--file", str(listing))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{len(entry['right'])} passed, 0 failed" in result.stdout
