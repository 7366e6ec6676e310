"""One jinja2 environment for every template: found in the source, and every template loads through it."""

from __future__ import annotations

import ast
from pathlib import Path

import jinja2
import jinja2.meta
import pytest
from conftest import ROOT

import derive.cli  # noqa: F401  every module that gives the environment a filter
from derive import templating
from derive.templating import ENV, add_filters, display_width, pad

PACKAGE = ROOT / "derive"
TEMPLATE_FILES = sorted(p.relative_to(ROOT / "templates").as_posix() for p in (ROOT / "templates").rglob("*.j2"))


def calls(name: str) -> list[str]:
    """``file:line`` of every call of something named ``name`` (``Environment(…)``, ``jinja2.Environment(…)``)."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                func = node.func
                called = (
                    func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
                )
                if called == name:
                    found.append(f"{path.relative_to(ROOT).as_posix()}:{node.lineno}")
    return found


def jinja_importers() -> list[str]:
    """The derive modules that import jinja2 at all."""
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            if any(n == "jinja2" or n.startswith("jinja2.") for n in names):
                out.append(path.relative_to(ROOT).as_posix())
    return out


def test_exactly_one_environment_is_constructed_in_the_package():
    found = calls("Environment")
    assert len(found) == 1 and found[0].startswith("derive/templating.py:"), found
    for other in ("Template", "FileSystemLoader", "PackageLoader", "from_string", "Overlay", "overlay"):
        assert [c for c in calls(other) if not c.startswith("derive/templating.py:")] == [], other


def test_only_templating_imports_jinja2():
    assert jinja_importers() == ["derive/templating.py"]


def test_the_environment_reads_the_installed_templates_folder():
    assert isinstance(ENV.loader, jinja2.FileSystemLoader)
    assert ENV.loader.searchpath == [str(templating.TEMPLATES)]
    assert templating.TEMPLATES.resolve() == (ROOT / "templates").resolve()
    assert sorted(ENV.list_templates(extensions=["j2"])) == TEMPLATE_FILES
    assert len(TEMPLATE_FILES) >= 20 and "check/report_zh.j2" in TEMPLATE_FILES


def test_one_set_of_rules():
    assert ENV.undefined is jinja2.StrictUndefined
    assert ENV.trim_blocks and ENV.lstrip_blocks and ENV.keep_trailing_newline
    assert ENV.autoescape is False  # picture.svg.j2 asks for escaping itself
    with pytest.raises(jinja2.UndefinedError):
        ENV.from_string("{{ nothing }}").render()
    text = ENV.from_string("  {% if true %}\nx\n  {% endif %}\n<&>\n").render()
    assert text == "x\n<&>\n"


@pytest.mark.parametrize("name", TEMPLATE_FILES)
def test_every_template_loads_through_the_one_environment(name):
    """Compiling checks every filter name; each template it names by a constant loads too."""
    template = ENV.get_template(name)
    assert template.environment is ENV and Path(template.filename).resolve() == (ROOT / "templates" / name).resolve()
    source = ENV.loader.get_source(ENV, name)[0]
    for other in jinja2.meta.find_referenced_templates(ENV.parse(source)):
        if other is not None:  # "text/" ~ lang ~ ".j2" is named at render time
            assert ENV.get_template(other).environment is ENV, (name, other)


def test_templates_name_one_another_from_the_templates_folder():
    assert list(
        jinja2.meta.find_referenced_templates(ENV.parse(ENV.loader.get_source(ENV, "verdict/verdict_en.j2")[0]))
    )
    names = {
        other
        for name in TEMPLATE_FILES
        for other in jinja2.meta.find_referenced_templates(ENV.parse(ENV.loader.get_source(ENV, name)[0]))
        if other is not None
    }
    assert names == {
        "body.j2",
        "format/md.j2",
        "format/tex.j2",
        "format/html.j2",
        "sections/score.j2",  # forward.j2 shows the score h before the cost (article 003)
        "code/layouts.py.j2",  # compare.py.j2: the user's array layout
        "code/report.py.j2",  # compare.py.j2: the failure report's table and hints
        "verdict/words_en.j2",
        "verdict/words_zh.j2",
    }


def test_only_the_svg_picture_escapes():
    svg = ENV.loader.get_source(ENV, "picture.svg.j2")[0]
    assert "{% autoescape true %}" in svg and svg.rstrip().endswith("{% endautoescape %}")
    others = [n for n in TEMPLATE_FILES if n != "picture.svg.j2"]
    assert not any("autoescape" in ENV.loader.get_source(ENV, n)[0] for n in others)


def test_a_filter_name_has_one_meaning():
    def shout(text: str) -> str:
        return text.upper()

    add_filters(test_only_shout=shout)
    add_filters(test_only_shout=shout)  # the same function again: nothing changes
    with pytest.raises(ValueError, match="'test_only_shout' is defined twice"):
        add_filters(test_only_shout=str.upper)
    with pytest.raises(ValueError, match="'px' is defined twice"):
        add_filters(px=str)
    assert ENV.from_string("{{ 'a' | test_only_shout }}").render() == "A"
    del ENV.filters["test_only_shout"]


def test_pad_counts_display_columns():
    assert display_width("W1") == 2
    assert display_width("参数组") == 6  # CJK: two columns each
    assert display_width("（抽样 3 个）") == 2 + 4 + 1 + 1 + 1 + 2 + 2
    assert display_width("e\u0301") == 1  # a combining accent takes no column
    assert pad("参数", 6) == "参数  " and pad("ab", 6) == "ab    "
    assert pad("个数", 7, ">") == "   个数" and pad(12, 7, ">") == "     12"
    assert pad("abcdef", 3) == "abcdef"  # never cut
    assert ENV.from_string("[{{ '通过' | pad(6) }}]").render() == "[通过  ]"
