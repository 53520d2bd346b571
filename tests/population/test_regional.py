"""Regional warnings (§3, §16) declared in the policy: the synthetic county with a typhoon and
a price fall gives the expected warnings, the quiet control county none."""

from __future__ import annotations

import io
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from fangpin_rules import Policy
from fangpin_rules.cli.main import main
from fangpin_rules.population.history import HistoryInputError, MonthFile
from fangpin_rules.population.regional import read_events, regional_warnings

from support import benchmark_module


def county_files(months: dict[str, list[dict[str, Any]]]) -> list[MonthFile]:
    import json

    return [MonthFile(label, f"{label}.jsonl",
                      io.StringIO("".join(json.dumps(r) + "\n" for r in records)))
            for label, records in months.items()]


@pytest.fixture(scope="module")
def stormy(fujian: Policy) -> list[dict[str, Any]]:
    months, events = benchmark_module("gen_county").county(seed=0, code="350181")
    events_csv = "kind,region,month\n" + "".join(f"{k},{r},{m}\n" for k, r, m in events)
    return regional_warnings(fujian, county_files(months),
                             read_events(io.StringIO(events_csv), "events.csv"))


def test_the_typhoon_and_the_price_fall_give_their_warnings(stormy: list[dict[str, Any]]) -> None:
    found = Counter((w["rule"], w["period"], w["region"][:9]) for w in stormy)
    assert found == {
        # the price fall of April in township 004: every one of its 10 villages
        ("village_income_drop_wave", "2022-04", "350181004"): 10,
        # the August typhoon in townships 001 and 002: both townships, all their villages
        ("township_disaster_wave", "2022-08", "350181001"): 1,
        ("township_disaster_wave", "2022-08", "350181002"): 1,
        ("village_disaster_after_event", "2022-08", "350181001"): 10,
        ("village_disaster_after_event", "2022-08", "350181002"): 10,
        # and the identifications that followed, against the second quarter
        ("township_identified_jump", "2022Q3", "350181001"): 1,
        ("township_identified_jump", "2022Q3", "350181002"): 1,
    }
    for warning in stormy:
        assert warning["cite"] == "§3, §16"
        figures = warning["figures"]
        assert figures["selected"] >= 5 and figures["figure"] > figures["threshold"]


def test_a_warning_carries_the_region_and_its_figures(stormy: list[dict[str, Any]]) -> None:
    township = next(w for w in stormy if w["rule"] == "township_disaster_wave")
    figures = township["figures"]
    assert (township["level"], township["region"], figures["households"]) == (
        "township", "350181001", 240)
    assert figures["figure"] == (Decimal(figures["selected"]) / 240).quantize(Decimal("0.0001"))
    assert township["threshold_parameter"] == "regional_new_disaster_share"


def test_the_quiet_county_gives_none(fujian: Policy) -> None:
    months, events = benchmark_module("gen_county").county(seed=1, code="350121", quiet=True)
    assert events == []
    assert regional_warnings(fujian, county_files(months)) == []


def test_a_county_threshold_changes_the_warnings(tmp_path: Path) -> None:
    from fangpin_rules import load_policy

    months, _ = benchmark_module("gen_county").county(seed=0, code="350181")
    county = tmp_path / "county.yaml"
    county.write_text(
        "extends: fujian-2021\n"
        "policy: {id: test-county, title: {zh: 测试县}, effective: 2021-06-04}\n"
        "parameters:\n  regional_income_drop_share: {value: 0.3}\n", encoding="utf-8")
    policy = load_policy(county, search_path=[Path(__file__).parents[2] / "policies"])
    april = {k: v for k, v in months.items() if k in ("2022-03", "2022-04")}
    found = [w for w in regional_warnings(policy, county_files(april))
             if w["rule"] == "village_income_drop_wave"]
    assert found and all(w["figures"]["figure"] > w["figures"]["threshold"] == Decimal("0.3")
                          for w in found)
    assert len(found) < 10  # fewer villages above the county's 30 %


def test_bad_events_are_refused_with_the_line() -> None:
    with pytest.raises(HistoryInputError, match=r"ev.csv:2: region: .*; month: written YYYY-MM"):
        read_events(io.StringIO("kind,region,month\ntyphoon,3501,2022-13\n"), "ev.csv")
    with pytest.raises(HistoryInputError, match="header"):
        read_events(io.StringIO("kind,township\n"), "ev.csv")


def test_report_regional_on_the_command_line(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    benchmark_module("gen_county").write(tmp_path, seed=0, code="350181")
    months = [f"2022-{m:02d}={tmp_path / f'2022-{m:02d}.jsonl'}" for m in (3, 4)]
    assert main(["report", "regional", *months, "--events", str(tmp_path / "events.csv")]) == 0
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert len(lines) == 10 and all("[§3, §16]" in line for line in lines)
    assert lines[0].startswith("2022-04 village 350181004001: 村内多户收入同时大幅缩减")
    assert "records read 2400, decided 2400, rejected 0" in captured.err


def test_a_county_adds_its_own_regional_warning(tmp_path: Path) -> None:
    from fangpin_rules import load_policy

    county = tmp_path / "county.yaml"
    county.write_text(
        "extends: fujian-2021\n"
        "policy: {id: test-county, title: {zh: 测试县}, effective: 2021-06-04}\n"
        "regional_warnings:\n"
        "  county_disaster_count:\n"
        "    title: {zh: 全县新增灾害风险户}\n    cite: §3\n    level: county\n"
        "    where: {risk: disaster}\n    new: true\n    above: regional_min_households\n",
        encoding="utf-8")
    policy = load_policy(county, search_path=[Path(__file__).parents[2] / "policies"])
    months, _ = benchmark_module("gen_county").county(seed=0, code="350181")
    august = {k: v for k, v in months.items() if k in ("2022-07", "2022-08")}
    found = [w for w in regional_warnings(policy, county_files(august))
             if w["rule"] == "county_disaster_count"]
    assert [(w["region"], w["period"]) for w in found] == [("350181", "2022-08")]
    assert found[0]["figures"]["selected"] > 150  # a third of two townships' 480 households


def test_a_new_rule_is_not_judged_without_the_month_before(fujian: Policy) -> None:
    months, _ = benchmark_module("gen_county").county(seed=0, code="350181")
    april_alone = regional_warnings(fujian, county_files({"2022-04": months["2022-04"]}))
    assert april_alone == []  # the April price fall needs March to be seen as new
