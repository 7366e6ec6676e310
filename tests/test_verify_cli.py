"""``derive verify`` on the command line: verdicts, exit codes, languages and formula lists.

Exit codes: 0 the formula is right, 1 it is wrong, 2 the input cannot be understood
(one line on stderr starting ``derive: error: ``). Article 004 (seed004) writes
w_ij from input i to hidden j and uses the error term δ = −∂E/∂z, so for the
canonical parameter W1[1,2] (hidden neuron 1, input 2) the gradient is −δ_1 x_2.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from inprocess import Ran, run_cli

ROOT = Path(__file__).resolve().parent.parent
SEED4 = str(ROOT / "examples" / "seed004.toml")
SEED3 = str(ROOT / "examples" / "seed003.toml")

DELTA2_RIGHT = r"(y-\hat y)\hat y(1-\hat y)"
DELTA2_WRONG = r"(\hat y - y)\hat y(1-\hat y)"
W112_RIGHT = r"-\delta_1 x_2"
W211_LHS = r"\frac{\partial E}{\partial w^{(2)}_{11}} = -\delta^{(2)}_1 a^{(1)}_1"
NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def run(*args: str, cwd: Path = ROOT) -> Ran:
    return run_cli("verify", *args, cwd=cwd)


def assert_bad_input(out: Ran, *says: str) -> None:
    """Exit 2, nothing on stdout, exactly one line on stderr, no traceback."""
    assert "Traceback" not in out.stderr, out.stderr[-2000:]
    assert out.returncode == 2, (out.returncode, out.stdout, out.stderr)
    assert out.stdout == ""
    assert out.stderr.endswith("\n") and len(out.stderr.splitlines()) == 1, repr(out.stderr)
    assert out.stderr.startswith("derive: error: ")
    for text in says:
        assert text in out.stderr, (text, out.stderr)


def last_line(out: Ran) -> str:
    return out.stdout.rstrip("\n").splitlines()[-1]


# ----------------------------------------------------------------- one formula
@pytest.mark.parametrize(
    ("spec", "items", "element"),
    [
        (SEED4, ("delta2", DELTA2_RIGHT), "delta2[1]"),
        (SEED4, ("W1[1,2]", W112_RIGHT), "W1[1,2]"),
        (SEED4, ("W1[1,2]", r"-\delta^{(1)}_1 x_2"), "W1[1,2]"),
        (SEED4, ("W1[1,2]", "-delta1_1 * x2"), "W1[1,2]"),
        (SEED4, ("W2[1,1]", r"-(y-\hat y)\hat y(1-\hat y) a^{(1)}_1"), "W2[1,1]"),
        (SEED4, (W211_LHS,), "W2[1,1]"),
        (SEED4, ("W2[1,1]", W211_LHS), "W2[1,1]"),
        (SEED3, ("delta2", "a^{(2)} - y"), "delta2"),
        (SEED3, ("W2[1,2]", r"\delta^{(2)}_1 a^{(1)}_2"), "W2[1,2]"),
        (SEED3, ("W1", r"\delta^{(1)} x^{\mathsf T}"), "W1"),
    ],
    ids=[
        "delta2",
        "W1-1-2",
        "W1-1-2-layered",
        "W1-1-2-ascii",
        "W2-1-1-closed",
        "left-side-only",
        "left-side-and-param",
        "seed003-delta2",
        "seed003-W2-1-2",
        "seed003-W1-matrix",
    ],
)
def test_right_formula_exits_0(spec, items, element):
    out = run(spec, *items)
    assert out.returncode == 0, (out.stdout, out.stderr)
    assert out.stderr == ""
    lines = out.stdout.splitlines()
    assert lines[0].startswith("right: ")
    assert lines[0].endswith(" = " + items[-1].split("=", 1)[-1].strip())
    assert "checked" in lines[1] and "seeded random points" in lines[1]
    assert "wrong" not in out.stdout and "counterexample" not in out.stdout
    assert f"({element})" in lines[1]


def test_right_formula_says_how_names_were_read():
    out = run(SEED4, "W1[1,2]", W112_RIGHT)
    assert out.returncode == 0
    # \delta_1 has no layer: in a 3-2-1 network the reading must say it took the hidden layer.
    assert any(line.strip().startswith("reading:") and "hidden layer 1" in line for line in out.stdout.splitlines())
    assert "δ = −∂E/∂z (the error term)" in out.stdout


def test_wrong_sign_exits_1_with_counterexample_and_reason():
    out = run(SEED4, "delta2", DELTA2_WRONG)
    assert out.returncode == 1, (out.stdout, out.stderr)
    assert out.stderr == ""
    lines = out.stdout.splitlines()
    assert lines[0] == f"wrong: delta2 = {DELTA2_WRONG}"
    correct = [line for line in lines if line.strip().startswith("correct:")]
    assert len(correct) == 1 and r"(y - \hat{y})" in correct[0]
    counter = [line for line in lines if "counterexample" in line]
    assert len(counter) == 1, out.stdout
    given, derived = (float(n) for n in NUMBER.findall(counter[0].split(":", 1)[1]))
    assert given != derived
    assert given == pytest.approx(-derived), "a sign error gives the negative of the derivative"
    why = [line.strip() for line in lines if line.strip().startswith("why:")]
    assert why and "sign" in why[0], out.stdout
    # The values the counterexample was found at are printed (inputs, target, weights).
    assert re.search(r"x\[1\] = -?\d", out.stdout) and re.search(r"y\[1\] = -?\d", out.stdout)
    assert re.search(r"W1\[1,1\] = -?\d", out.stdout)


@pytest.mark.parametrize(
    ("spec", "param", "formula", "why"),
    [
        (SEED4, "W1[1,2]", r"-\delta_2 x_1", "transposed"),
        (SEED4, "W2[1,1]", r"-(y-\hat y) a^{(1)}_1", "derivative"),
        (SEED3, "delta2", "y - a^{(2)}", "sign"),
        (SEED3, "W2[1,2]", r"\delta^{(2)}_2 a^{(1)}_1", "transposed"),
    ],
    ids=["seed004-indices-swapped", "seed004-missing-sigma-prime", "seed003-sign", "seed003-indices-swapped"],
)
def test_wrong_formula_exits_1(spec, param, formula, why):
    out = run(spec, param, formula)
    assert out.returncode == 1, (out.stdout, out.stderr)
    assert out.stdout.startswith(f"wrong: {param} = {formula}\n")
    assert "counterexample" in out.stdout
    assert any(line.strip().startswith("why:") and why in line for line in out.stdout.splitlines()), out.stdout


@pytest.mark.parametrize(
    ("args", "says"),
    [
        ((SEED4, "W1[1,2]", r"\sqrt{x_2}"), (r"unknown command \sqrt", "at character 1")),
        ((SEED4, "W1[1,2]", "(x_2"), ("at character",)),
        ((SEED4, "W9[1,1]", "x_1"), ("layer 9",)),
        ((SEED4, "W1[1,2]", "q_1"), ("unknown name", "q_1")),
        ((SEED4, "W1[1,2]", ""), ("empty",)),
        ((SEED4, "x_1"), ("left side",)),
        ((SEED4, "W1[1,1]", W211_LHS), ("W2[1,1]", "W1[1,1]")),
        ((SEED4,), ("PARAM FORMULA",)),
        ((SEED4, "a", "b", "c"), ("PARAM FORMULA",)),
        (("--lang", "fr", SEED4, "delta2", DELTA2_RIGHT), ("--lang", "'fr'")),
        ((str(ROOT / "examples" / "nope.toml"), "delta2", DELTA2_RIGHT), ("nope.toml",)),
    ],
    ids=[
        "unknown-command",
        "unbalanced",
        "no-such-layer",
        "unknown-name",
        "empty-formula",
        "no-param-no-left-side",
        "left-side-disagrees",
        "no-formula",
        "three-items",
        "unknown-language",
        "missing-spec",
    ],
)
def test_bad_input_exits_2_with_one_line(args, says):
    assert_bad_input(run(*args), *says)


@pytest.mark.parametrize(
    "formula", [r"-x_2\delta_1", r"-\delta_1x_2", "-delta1_1*x2"], ids=["x-first", "delta-first", "ascii"]
)
def test_formula_starting_with_minus_is_a_formula_not_an_option(formula):
    """A right formula that starts with '-' and has no space is not mistaken for an option."""
    out = run(SEED4, "W1[1,2]", formula)
    assert out.returncode == 0, (out.stdout, out.stderr)
    assert out.stdout.startswith(f"right: W1[1,2] = {formula}\n")


def test_double_dash_ends_the_options():
    out = run(SEED4, "--", "W1[1,2]", r"-x_2\delta_1")
    assert out.returncode == 0, (out.stdout, out.stderr)
    assert out.stdout.startswith("right: ")


# ----------------------------------------------------------------- languages
@pytest.mark.parametrize(
    "where", ["before-spec", "after-spec", "at-the-end"], ids=["before-spec", "after-spec", "at-the-end"]
)
def test_lang_zh_anywhere_on_the_line(where):
    args = {
        "before-spec": ("--lang", "zh", SEED4, "delta2", DELTA2_WRONG),
        "after-spec": (SEED4, "--lang", "zh", "delta2", DELTA2_WRONG),
        "at-the-end": (SEED4, "delta2", DELTA2_WRONG, "--lang", "zh"),
    }[where]
    out = run(*args)
    assert out.returncode == 1, (out.stdout, out.stderr)
    assert out.stdout.startswith("错误：delta2 = ")


def test_lang_zh_wrong_formula():
    out = run("--lang", "zh", SEED4, "delta2", DELTA2_WRONG)
    assert out.returncode == 1
    lines = out.stdout.splitlines()
    assert lines[0] == f"错误：delta2 = {DELTA2_WRONG}"
    assert any(line.strip().startswith("正确形式：") for line in lines)
    counter = [line for line in lines if "反例" in line]
    assert len(counter) == 1
    given, derived = (float(n) for n in NUMBER.findall(counter[0].split("：", 1)[1]))
    assert given == pytest.approx(-derived) and given != derived
    assert any(line.strip().startswith("原因：") and "符号" in line for line in lines)
    assert "wrong" not in out.stdout and "counterexample" not in out.stdout


def test_lang_zh_right_formula():
    out = run("--lang", "zh", SEED4, "W1[1,2]", W112_RIGHT)
    assert out.returncode == 0
    assert out.stdout.startswith(f"正确：W1[1,2] = {W112_RIGHT}\n")
    assert "检查了" in out.stdout and "right" not in out.stdout


def test_lang_en_and_zh_agree_on_the_numbers():
    en = run(SEED4, "delta2", DELTA2_WRONG).stdout
    zh = run("--lang", "zh", SEED4, "delta2", DELTA2_WRONG).stdout
    en_numbers = NUMBER.findall(next(line for line in en.splitlines() if "counterexample" in line).split(":", 1)[1])
    zh_numbers = NUMBER.findall(next(line for line in zh.splitlines() if "反例" in line).split("：", 1)[1])
    assert en_numbers == zh_numbers


# ----------------------------------------------------------------- formula lists
TOML_MIXED = rf"""
# Three right, one wrong.
[[formula]]
param = "delta2"
formula = '{DELTA2_RIGHT}'

[[formula]]
param = "W1[1,2]"
formula = '{W112_RIGHT}'
note = "row 1 is hidden neuron 1, column 2 is input 2"

[[formula]]
param = "delta2"
formula = '{DELTA2_WRONG}'

[[formula]]
formula = '{W211_LHS}'
"""

MD_MIXED = rf"""# Homework 4

The output error term `delta2` is ${DELTA2_RIGHT}$.

For `W1[1,2]` I get ${W112_RIGHT}$, and a classmate wrote `delta2` ${DELTA2_WRONG}$.

$$
{W211_LHS}
$$

```
$(\hat y - y)$ in a code block is not a formula
```
"""


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def table_rows(out: Ran) -> list[str]:
    return [line for line in out.stdout.splitlines() if re.match(r"\s*\d+  (right|wrong|error) ", line)]


def test_toml_list_with_a_wrong_formula(tmp_path):
    out = run(SEED4, "--file", write(tmp_path, "list.toml", TOML_MIXED))
    assert out.returncode == 1, (out.stdout, out.stderr)
    assert out.stderr == ""
    assert last_line(out) == "3 passed, 1 failed"
    rows = table_rows(out)
    assert [row.split()[1] for row in rows] == ["right", "right", "wrong", "right"]
    assert "list.toml: formula 3" in rows[2] and DELTA2_WRONG in rows[2]
    assert any(line.strip().startswith("why:") and "sign" in line for line in out.stdout.splitlines())


def test_markdown_list_with_a_wrong_formula(tmp_path):
    out = run(SEED4, "--file", write(tmp_path, "homework.md", MD_MIXED))
    assert out.returncode == 1, (out.stdout, out.stderr)
    assert last_line(out) == "3 passed, 1 failed"
    rows = table_rows(out)
    assert [row.split()[1] for row in rows] == ["right", "right", "wrong", "right"]
    assert [row.split()[2] for row in rows] == ["homework.md:3", "homework.md:5", "homework.md:5", "homework.md:7"]
    assert "W1[1,2] = " + W112_RIGHT in rows[1]


def test_toml_list_all_right(tmp_path):
    text = "\n".join(
        f"[[formula]]\nparam = '{param}'\nformula = '{formula}'\n"
        for param, formula in [("delta2", DELTA2_RIGHT), ("W1[1,2]", W112_RIGHT), ("W1[1,2]", "-delta1_1 * x2")]
    )
    out = run(SEED4, "--file", write(tmp_path, "right.toml", text))
    assert out.returncode == 0, (out.stdout, out.stderr)
    assert last_line(out) == "3 passed, 0 failed"
    assert [row.split()[1] for row in table_rows(out)] == ["right"] * 3


def test_markdown_list_all_right(tmp_path):
    text = f"`delta2`: ${DELTA2_RIGHT}$\n\n`W1[1,2]`: ${W112_RIGHT}$\n\n$${W211_LHS}$$\n"
    out = run(SEED4, "--file", write(tmp_path, "right.md", text))
    assert out.returncode == 0, (out.stdout, out.stderr)
    assert last_line(out) == "3 passed, 0 failed"


def test_toml_list_with_an_unreadable_entry(tmp_path):
    text = TOML_MIXED + "\n[[formula]]\nparam = 'W1[1,2]'\nformula = '\\sqrt{x_2}'\n"
    out = run(SEED4, "--file", write(tmp_path, "list.toml", text))
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert last_line(out) == "3 passed, 1 failed, 1 not understood"
    rows = table_rows(out)
    assert [row.split()[1] for row in rows] == ["right", "right", "wrong", "right", "error"]
    reasons = [line for line in out.stdout.splitlines() if "cannot read it:" in line]
    assert len(reasons) == 1 and r"unknown command \sqrt" in reasons[0]


def test_markdown_list_with_unreadable_entries(tmp_path):
    text = MD_MIXED + "\nNo parameter and no left side: $x_1$. And `W1[1,2]` $\\sqrt{x_2}$.\n"
    out = run(SEED4, "--file", write(tmp_path, "list.md", text))
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert last_line(out) == "3 passed, 1 failed, 2 not understood"
    assert [row.split()[1] for row in table_rows(out)][-2:] == ["error", "error"]


def test_list_in_chinese_keeps_the_closing_line(tmp_path):
    out = run("--lang", "zh", SEED4, "--file", write(tmp_path, "list.toml", TOML_MIXED))
    assert out.returncode == 1
    assert last_line(out) == "3 passed, 1 failed"
    assert "正确形式：" in out.stdout and "原因：" in out.stdout


def test_seed003_list(tmp_path):
    text = (
        "[[formula]]\nparam = 'delta2'\nformula = 'a^{(2)} - y'\n\n"
        "[[formula]]\nparam = 'delta2'\nformula = 'y - a^{(2)}'\n\n"
        "[[formula]]\nparam = 'b1[2]'\nformula = '\\delta^{(1)}_2'\n"
    )
    out = run(SEED3, "--file", write(tmp_path, "list.toml", text))
    assert out.returncode == 1
    assert last_line(out) == "2 passed, 1 failed"


@pytest.mark.parametrize("order", ["formula-first", "file-first"])
def test_file_and_formula_together_exit_2(tmp_path, order):
    listing = write(tmp_path, "list.toml", TOML_MIXED)
    args = {
        "formula-first": (SEED4, "delta2", DELTA2_RIGHT, "--file", listing),
        "file-first": (SEED4, "--file", listing, "delta2", DELTA2_RIGHT),
    }[order]
    assert_bad_input(run(*args))


@pytest.mark.parametrize("name", ["missing.toml", "missing.md"])
def test_missing_file_exits_2_with_one_line(tmp_path, name):
    assert_bad_input(run(SEED4, "--file", str(tmp_path / name)), f"{name}: no such file")


@pytest.mark.parametrize(
    ("name", "text", "says"),
    [
        ("broken.toml", "[[formula]\nparam = 'delta2'\n", "broken.toml"),
        ("key.toml", "[[formula]]\nparam = 'delta2'\nformula = 'x_1'\nanswer = 42\n", "unknown key 'answer'"),
        ("noformula.toml", "[[formula]]\nparam = 'delta2'\n", "needs formula"),
        ("empty.toml", "", "no formulas found"),
        ("nomath.md", "# Notes\n\nNo formulas here, only `W1[1,2]`.\n", "no formulas found"),
        ("binary.md", None, "not UTF-8"),
    ],
    ids=["broken-toml", "unknown-key", "no-formula-key", "empty-toml", "no-math", "not-utf8"],
)
def test_unusable_file_exits_2_with_one_line(tmp_path, name, text, says):
    path = tmp_path / name
    if text is None:
        path.write_bytes(b"`delta2` $\xff\xfe$\n")
    else:
        path.write_text(text, encoding="utf-8")
    assert_bad_input(run(SEED4, "--file", str(path)), says)


def test_directory_as_file_exits_2(tmp_path):
    assert_bad_input(run(SEED4, "--file", str(tmp_path)), f"{tmp_path}: is a directory, not a formula list file")
