"""Characters of a Chinese input method where YAML needs ASCII, and dates not YYYY-MM-DD: named
with their code point where they stand, never where Chinese text uses them rightly. The
county files of tests/counties/bad/ hold the exact messages; these are the edges."""

from __future__ import annotations

from pathlib import Path

import pytest

from fangpin_rules.diagnostics import Location, error, remember_source
from fangpin_rules.source import load_located
from fangpin_rules.source.typography import lookalike_problems

from support import ROOT


def _codes(text: str) -> list[tuple[str, int, int]]:
    return [(d.code, d.location.line, d.location.column)
            for d in lookalike_problems(text, "f.yaml")]


def test_chinese_text_keeps_its_own_punctuation() -> None:
    text = ("title: {zh: 脱贫户：扣除刚性支出后，收入低于监测范围, en: x}\n"
            "note: 县级文件，2021年6月4日起执行：见§2  # 注释里的 ： ， × 2025/1/1 不算\n"
            "text: |-\n  教育部门监测……；\n  卫健部门：大病、重残救助\n"
            "list: [甲，乙]\n")
    assert _codes(text) == []


def test_every_policy_and_test_file_of_the_repository_reads_clean() -> None:
    files = sorted((ROOT / "policies").rglob("*.yaml")) + sorted((ROOT / "examples").rglob(
        "*.yaml"))
    assert len(files) > 10
    for path in files:
        assert lookalike_problems(path.read_text(encoding="utf-8"), str(path)) == [], path


@pytest.mark.parametrize(("text", "expected"), [
    ("a：1\n", [("fullwidth-colon", 1, 2)]),
    ("- key ：1\n", [("fullwidth-colon", 1, 7)]),
    ("m: {a: 1， b: 2}\n", [("fullwidth-comma", 1, 9)]),
    ("m: [§1， §2]\n", [("fullwidth-comma", 1, 7)]),
    ("a:\n\t b: 1\n", [("tab-indent", 2, 1)]),
    ("a:\n \u3000b: 1\n", [("fullwidth-space", 2, 2)]),
    ("expr: a × b ÷ c\n", [("operator-sign", 1, 9), ("operator-sign", 1, 13)]),
    ("from: 2025.1.1\n", [("date-format", 1, 7)]),
    ("dates: [2025-01-01, 2025/1/2]\n", [("date-format", 1, 21)]),
    ("from: 2025-01-01\nuntil: 2025-13-01\n", []),  # a right form: the date parser's to judge
    ("note: '#1：x'\n", []),
])
def test_each_lookalike_at_its_column(text: str, expected: list[tuple[str, int, int]]) -> None:
    assert _codes(text) == expected


def test_the_message_names_the_character_its_code_point_and_the_fix() -> None:
    (problem,) = lookalike_problems("m: {a: 1， b: 2}\n", "f.yaml")
    assert "'，'（U+FF0C）" in problem.message and "(U+FF0C)" in problem.message
    assert "','" in problem.hint


def test_a_file_with_a_lookalike_is_refused_before_yaml_reads_it(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("policy：\n  id: x\n", encoding="utf-8")
    from fangpin_rules.diagnostics import PolicyError
    with pytest.raises(PolicyError) as caught:
        load_located(path)
    assert [d.code for d in caught.value.diagnostics] == ["fullwidth-colon"]


def test_the_caret_stands_under_the_character_after_wide_text(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("title: 测试县x\n", encoding="utf-8")
    remember_source(str(path), path.read_text(encoding="utf-8"))  # as the reader does
    shown = error("e", "m", Location(str(path), 1, 11), length=1).render().splitlines()
    # 'title: ' is 7 columns, 测试县 six more: the caret is in column 14 of the source line
    assert shown[2] == "      | " + " " * 13 + "^"
    wide = error("e", "m", Location(str(path), 1, 8), length=3).render().splitlines()
    assert wide[2] == "      | " + " " * 7 + "^" * 6


def test_a_times_sign_in_text_for_people_is_left_alone() -> None:
    text = ("title: 人均低于 7152 × 1.1 元\n"
            "t: {zh: 两倍, en: 2 × the standard}\n"
            "note: 2 × 815 × 12\n"
            "value: 750 × 12\n")
    assert _codes(text) == [("operator-sign", 4, 12)]


def test_a_times_sign_in_a_value_beside_chinese_text_is_found() -> None:
    assert _codes("- {from: 2022-01-01, value: 750 × 12, source: 县民政局文件}\n") == [
        ("operator-sign", 1, 33)]
    assert _codes("text: |-\n  人均 7152 × 1.1 元\n") == []


def test_a_date_inside_an_expression_is_found_too() -> None:
    assert _codes("    expr: as_of > 2021/6/4 and x\n") == [("date-format", 1, 19)]
    assert _codes("    when: as_of >= 2021-06-04 + 1 month\n") == []
    assert _codes("    title: 自2021年6月4日起\n") == []  # text, not a value that is a date
