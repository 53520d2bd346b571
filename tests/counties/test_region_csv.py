"""A region table as CSV (one dated value per row, as a province's spreadsheet lists them)
decides exactly as the same table in YAML, and its errors point at the CSV's line and column."""

from __future__ import annotations

from pathlib import Path

import pytest

from fangpin_rules import PolicyError, load_policy
from fangpin_rules.engine.regions import load_regions

from support import FUJIAN, ROOT, household, members

YAML_TABLE = ROOT / "policies" / "regions" / "fujian_example_regions.yaml"
CSV_TABLE = ROOT / "policies" / "regions" / "fujian_example_regions.csv"


@pytest.mark.parametrize("as_of", ["2022-06-30", "2023-06-30", "2024-06-30"])
def test_csv_and_yaml_tables_decide_alike(as_of: str) -> None:
    policy = load_policy(FUJIAN)
    from_yaml, from_csv = load_regions(policy, YAML_TABLE), load_regions(policy, CSV_TABLE)
    assert sorted(from_yaml.regions) == sorted(from_csv.regions) == ["350121", "350526",
                                                                     "350582"]
    for code in from_yaml.regions:
        assert from_csv.regions[code].name == from_yaml.regions[code].name
        for income in (24000, 27000, 28600, 29340, 31500, 58680):
            h = household(region_code=code, members=members(3), net_income=income)
            a, b = from_yaml.evaluate(h, as_of), from_csv.evaluate(h, as_of)
            assert {k: v for k, v in a.items() if k != "policy"} == \
                {k: v for k, v in b.items() if k != "policy"}
    dehua = from_csv.evaluate(household(region_code="350526"), "2024-06-30")
    assert dehua["monitoring_line"] == 19560  # 2 × 9780, the formula row


def _table(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "table.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_line_below_the_floor_is_an_error_at_its_cell(tmp_path: Path) -> None:
    path = _table(tmp_path, "region_code,name,parameter,from,value\n"
                            "350121,闽侯县,monitoring_line,2022-01-01,9000\n"
                            "350122,连江县,monitoring_line,2022-01-01,7000\n")
    with pytest.raises(PolicyError) as info:
        load_regions(load_policy(FUJIAN), path)
    located = [d for d in info.value.diagnostics if d.location.file == str(path)]
    assert located and located[0].location.line == 3
    assert "7152" in located[0].message and "§2" in located[0].message


def test_unknown_and_missing_columns_are_named(tmp_path: Path) -> None:
    path = _table(tmp_path, "region_code,nmae,parameter,value\n350121,x,monitoring_line,9000\n")
    with pytest.raises(PolicyError) as info:
        load_regions(load_policy(FUJIAN), path)
    codes = {(d.code, d.location.line) for d in info.value.diagnostics}
    assert ("unknown-key", 1) in codes and ("missing-key", 1) in codes
    unknown = next(d for d in info.value.diagnostics if d.code == "unknown-key")
    assert unknown.location.column == len("region_code,") + 1 and "name" in unknown.hint


def test_a_dibao_standard_below_the_province_minimum_is_an_error_at_its_cell(
        tmp_path: Path) -> None:
    # [E2] §2: the province's minimum dibao standard is the floor of every county's.
    path = _table(tmp_path, "region_code,name,parameter,from,value\n"
                            "350121,闽侯县,dibao_standard,2022-01-01,8880\n"
                            "350122,连江县,dibao_standard,2022-01-01,7000\n")
    with pytest.raises(PolicyError) as info:
        load_regions(load_policy(FUJIAN), path)
    located = [d for d in info.value.diagnostics if d.location.file == str(path)]
    assert [(d.location.line, d.location.column) for d in located] == [(3, 38)]
    assert "'dibao_standard' is 7000" in located[0].message
    assert "below its minimum 7152" in located[0].message and "§2" in located[0].message
