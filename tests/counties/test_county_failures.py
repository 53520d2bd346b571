"""Broken county files, each beside the exact output `fangpin check` gives for it: exit 2, the
file:line of the offending text, the base's file:line and the article. Regenerate on purpose
with `FANGPIN_REGENERATE=1 pytest tests/counties` and review the diff."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fangpin_rules.cli.main import main

HERE = Path(__file__).parent
ROOT = HERE.parents[1]
BAD = sorted((HERE / "bad").glob("*.yaml"))


@pytest.mark.parametrize("path", BAD, ids=[p.stem for p in BAD])
def test_broken_county_file_fails_check(path: Path, at_root: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["check", str(path.relative_to(ROOT))])
    captured = capsys.readouterr()
    output = captured.err + captured.out
    expected = path.with_suffix(".expected")
    if os.environ.get("FANGPIN_REGENERATE"):
        expected.write_text(output, encoding="utf-8")
    assert code == 2
    assert output == expected.read_text(encoding="utf-8")


def _first_line(name: str) -> str:
    return (HERE / "bad" / f"{name}.expected").read_text(encoding="utf-8").splitlines()[0]


@pytest.mark.parametrize(("name", "where", "words"), [
    ("line_below_floor", "tests/counties/bad/line_below_floor.yaml:13:",
     ["7000", "below its minimum 7152", "§2 监测范围"]),
    ("dibao_below_floor", "tests/counties/bad/dibao_below_floor.yaml:10:",
     ["7100", "'dibao_standard'", "below its minimum 7152", "§2 监测范围"]),
    ("line_below_dibao", "tests/counties/bad/line_below_dibao.yaml:14:",
     ["8800", "below 'dibao_standard' (9000)", "§2 监测范围"]),
    ("notice_shortened", "tests/counties/bad/notice_shortened.yaml:9:",
     ["3 working_days", "below its minimum 5 working_days", "§8"]),
    ("locked_changed", "tests/counties/bad/locked_changed.yaml:8:", ["locked", "§14"]),
    ("rule_not_overridable", "tests/counties/bad/rule_not_overridable.yaml:10:",
     ["category.marginal", "overridable", "§1"]),
    ("missing_base", "tests/counties/bad/missing_base.yaml:2:", ["fujian-2099"]),
    ("cycle_a", "tests/counties/bad/cycle_b.yaml:2:", ["cycle_a.yaml -> ", "cycle_b.yaml"]),
])
def test_the_message_names_the_place_and_the_article(name: str, where: str,
                                                     words: list[str]) -> None:
    first = _first_line(name)
    assert first.startswith(where)
    for word in words:
        assert word in first


@pytest.mark.parametrize("name", ["line_below_floor", "line_below_dibao", "notice_shortened",
                                  "locked_changed", "rule_not_overridable"])
def test_the_base_file_and_line_are_named_too(name: str) -> None:
    text = (HERE / "bad" / f"{name}.expected").read_text(encoding="utf-8")
    assert "note: " in text and "at policies/fujian_2021.yaml:" in text


def test_every_broken_file_has_its_expectation() -> None:
    assert not [p.name for p in BAD if not p.with_suffix(".expected").exists()]
