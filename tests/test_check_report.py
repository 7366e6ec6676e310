"""derive check's report through templates: English as before, Chinese with the same numbers, ``--lang``."""

from __future__ import annotations

import math
import re
import tomllib
import unicodedata

import pytest
from conftest import ROOT

import derive
from derive import cli
from derive.check import CheckReport, ParameterCheck, check, format_report
from derive.errors import DeriveError

SEEDS = ("seed000", "seed003", "seed004")
NUMBER = re.compile(r"\d+(?:\.\d+)?(?:e[-+]\d+)?|inf")


def spec(name: str) -> dict:
    return tomllib.loads((ROOT / "examples" / f"{name}.toml").read_text(encoding="utf-8"))


def arrays(name: str) -> dict[str, int]:
    """Each parameter array's size, from the TOML itself: W_l has units × inputs entries, b_l has units."""
    raw = spec(name)
    widths = [raw["inputs"], *(layer["units"] for layer in raw["layer"])]
    out = {}
    for l in range(1, len(widths)):
        out[f"W{l}"] = widths[l] * widths[l - 1]
        if raw.get("bias", True):
            out[f"b{l}"] = widths[l]
    return out


@pytest.fixture(scope="module", params=SEEDS)
def reports(request) -> tuple[str, str, str]:
    net = derive.load(ROOT / "examples" / f"{request.param}.toml")
    report = check(derive.derive(net), points=2, use_torch=False)
    return request.param, format_report(net, report), format_report(net, report, "zh")


def test_the_english_report_counts_what_the_spec_declares(reports):
    name, en, _ = reports
    sizes = arrays(name)
    raw = spec(name)
    units = [raw["inputs"], *(layer["units"] for layer in raw["layer"])]
    total = sum(n * (m + 1 if raw.get("bias", True) else m) for m, n in zip(units, units[1:], strict=False))
    assert total == sum(sizes.values())
    lines = en.split("\n")
    assert lines[0] == (
        f"check {name}: {'-'.join(map(str, units))}, {'/'.join(layer['activation'] for layer in raw['layer'])},"
        f" {raw['loss']}, {total} parameters"
    )
    rows = {line.split()[0]: line for line in lines if re.match(r"[Wb]\d+ ", line)}
    assert list(rows) == list(sizes)  # W1, b1, W2, … in order
    for array, row in rows.items():
        count = sizes[array]
        assert row.split()[1] == str(count)
        assert f"  {count} exact " in row and row.endswith("ok")  # the seeds are small: sympy decides each exactly
    matrix = [line for line in lines if line.startswith("matrix form: ")]
    assert matrix and all(line.endswith("ok") for line in matrix)
    assert lines[-1] == f"{total + len(matrix)} passed, 0 failed"
    assert not en.endswith("\n")


def test_the_chinese_report_carries_the_same_numbers_line_by_line(reports):
    _, en, zh = reports
    en_lines, zh_lines = en.split("\n"), zh.split("\n")
    assert len(en_lines) == len(zh_lines)
    for e, z in zip(en_lines, zh_lines, strict=True):
        assert NUMBER.findall(e) == NUMBER.findall(z), (e, z)
    assert zh_lines[-1] == en_lines[-1]  # "N passed, M failed" for scripts, in both languages
    assert "个参数" in zh_lines[0] and "个完全相等" in zh and "通过" in zh and "矩阵形式：" in zh
    body = "\n".join(zh_lines[:-1])
    for english in ("parameters", "seeded", "finite differences", "tolerance", "exact", "sampled", "matrix form", "ok"):
        assert english not in body


def width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in ("W", "F") else 1 for c in text)


def cells(line: str) -> list[tuple[int, int, str]]:
    """Each cell of a table line (cells are apart by two spaces or more) with its first and end display columns."""
    out = []
    for m in re.finditer(r"\S+(?: \S+)*", line):
        start = width(line[: m.start()])
        out.append((start, start + width(m.group()), m.group()))
    return out


def test_the_chinese_table_lines_up_on_a_terminal(reports):
    _, _, zh = reports
    lines = zh.split("\n")
    header = cells(next(line for line in lines if line.startswith("参数组")))
    assert [c[2] for c in header] == [
        "参数组",
        "个数",
        "sympy 对复合代价函数求导",
        "有限差分",
        "生成的 NumPy",
        "torch 自动求导",
        "结果",
    ]
    assert header[-1][0] > len("".join(c[2] for c in header))  # wide characters count two columns
    rows = [cells(line) for line in lines if re.match(r"[Wb]\d+ ", line)]
    assert rows
    for row in rows:
        assert len(row) == len(header) and row[-1][2] == "通过"
        assert row[1][1] == header[1][1]  # the count, right-aligned under its title
        assert [c[0] for c in row[2:]] == [c[0] for c in header[2:]]  # every other cell starts under its title
    for line in (line for line in lines if line.startswith("矩阵形式：")):
        assert cells(line)[-1] == (header[-1][0], header[-1][0] + 4, "通过")


def test_english_rows_of_every_kind_are_as_before():
    """Every branch of a row, against the text derive printed before the report moved into templates.

    Since then a cell wider than its column keeps two spaces before the next, and the finite-differences
    column widens to its widest cell (here "max error inf (4 sampled)", 25 columns)."""
    net = derive.load(ROOT / "examples" / "seed004.toml")
    params = [
        ParameterCheck("W1[1,1]", "exact", 2e-11, True, 1e-17, None),
        ParameterCheck("W1[1,2]", "digits", None, True, 0.0, None),
        ParameterCheck("W1[1,3]", "failed", math.inf, False, 0.5, None),
        ParameterCheck("W1[2,1]", "exact", 3.25e-7, True, 0.0, None),
        ParameterCheck("W1[2,2]", "exact", None, True, 0.0, None),
        ParameterCheck("W1[2,3]", "exact", 1e-12, False, 2e-9, None),
        ParameterCheck("W2[1,1]", "exact", None, True, 0.0, None),
        ParameterCheck("W2[1,2]", "exact", None, True, 0.0, None),
    ]
    matrix = [("output delta", None, True), ("delta recursion", 1, False)]
    report = CheckReport("seed004", 2, 1e-6, 1e-6, params, matrix, 3, 1e-9, None)
    head = (
        "check seed004: 3-2-1, sigmoid/sigmoid, squared_error, 8 parameters\n"
        "numbers: {points} seeded batches of 3 samples, gradients of J = (1/m) sum C,"
        " error |value - closed form| / max(1, |closed form|)\n"
        "finite differences of the generated J: central step h = 1e-06, tolerance 1e-06\n"
    )
    table = (
        "group    params  sympy diff of composed cost   finite differences"
        + " " * 9
        + "generated NumPy   torch autograd"
        "    result\n"
    )
    assert format_report(net, report) == (
        head.format(points=2) + "generated NumPy gradients: tolerance 1e-09; torch autograd: not installed"
        " (pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu)\n"
        + table
        + "W1            6  4 exact, 1 to 30 digits, 1 differ  max error inf (4 sampled)  max 5.0e-01       -"
        "                 FAILED (2)\n"
        "W2            2  2 exact                       not sampled" + " " * 16 + "max 0.0e+00       -"
        "                 ok\n"
        "matrix form: output delta" + " " * 77 + "ok\n"
        "matrix form: delta recursion, layer 1" + " " * 65 + "FAILED\n"
        "7 passed, 3 failed"
    )
    torch = [1e-16, None, 2.0, 0.0, 1e-16, 1e-16, None, None]
    skipped = [
        ParameterCheck(p.name, "skipped", p.fd_error, p.passed, p.code_error, t)
        for p, t in zip(params, torch, strict=True)
    ]
    report = CheckReport("seed004", 3, 1e-6, 1e-6, skipped, [], 3, 1e-9, "2.13.0+cpu")
    assert format_report(net, report) == (
        head.format(points=3)
        + "generated NumPy gradients and torch 2.13.0+cpu autograd in float64: tolerance 1e-09\n"
        + table
        + "W1            6  skipped (too large)           max error inf (4 sampled)  max 5.0e-01       max 2.0e+00"
        "       FAILED (2)\n"
        "W2            2  skipped (too large)           not sampled" + " " * 16 + "max 0.0e+00       -"
        "                 ok\n"
        "6 passed, 2 failed"
    )
    zh = format_report(net, report, "zh")
    assert "略去（网络较大）" in zh and "未通过（2 个）" in zh and "（抽样 4 个）" in zh and "未抽样" in zh
    with pytest.raises(DeriveError, match="unknown value 'fr'"):
        format_report(net, report, "fr")


def test_check_lang_zh_on_the_command_line(capsys):
    seed = str(ROOT / "examples" / "seed004.toml")
    assert cli.main(["check", seed, "--lang", "zh", "--no-torch", "--points", "1"]) == 0
    out = capsys.readouterr()
    assert (
        out.out.startswith("检验 seed004：3-2-1，")
        and out.out.endswith(" passed, 0 failed\n")
        and out.err.startswith("用时：闭式表达式 ")
        and out.err.count("\n") == 1
    )
    assert cli.main(["check", seed, "--no-torch", "--points", "1"]) == 0
    assert capsys.readouterr().out.startswith("check seed004: 3-2-1, ")


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("xx", "derive: error: --lang: unknown value 'xx'; choose from en, zh"),
        ("zn", "derive: error: --lang: unknown value 'zn' (did you mean 'zh'?); choose from en, zh"),
        ("en,zh", "derive: error: --lang: give one language, en or zh"),
    ],
)
def test_check_refuses_another_language_in_one_line(capsys, value, says):
    assert cli.main(["check", str(ROOT / "examples" / "seed004.toml"), "--lang", value]) == 2
    out = capsys.readouterr()
    assert out.out == "" and out.err == says + "\n"
