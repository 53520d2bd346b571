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
        # the price fall of April in township 004: every one of its 10 villages, by the share
        # of households newly at the income-drop risk and by the fall of the village's mean
        # per-capita income against March (a sum of decided values)
        ("village_income_drop_wave", "2022-04", "350181004"): 10,
        ("village_income_mean_fall", "2022-04", "350181004"): 10,
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
        assert figures["selected"] >= 5
        if warning["direction"] == "above":
            assert figures["figure"] > figures["threshold"]
        else:
            assert figures["figure"] < figures["threshold"] == Decimal("0.9")


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
    assert len(lines) == 20 and all("[§3, §16]" in line for line in lines)
    assert lines[0].startswith("2022-04 village 350181004001: 村内多户收入同时大幅缩减")
    fall = next(line for line in lines if "村户均人均纯收入较上月大幅下降" in line)
    assert fall.startswith("2022-04 village 350181004001: ")
    assert "24 of 24 households summing " in fall and "< 0.9 [§3, §16]" in fall
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


def county_policy(tmp_path: Path, rules: str, parameters: str = "") -> Policy:
    from fangpin_rules import load_policy

    county = tmp_path / "county.yaml"
    county.write_text(
        "extends: fujian-2021\n"
        "policy: {id: test-county, title: {zh: 测试县}, effective: 2021-06-04}\n"
        + (f"parameters:\n{parameters}" if parameters else "")
        + f"regional_warnings:\n{rules}", encoding="utf-8")
    return load_policy(county, search_path=[Path(__file__).parents[2] / "policies"])


RATIO = ("  {name}:\n    type: ratio\n    title: {{zh: 阈值}}\n    cite: §3\n"
         "    basis: interpretation\n    value: {value}\n")
MONEY = RATIO.replace("type: ratio", "type: money")


def per_capita(fujian: Policy, records: list[dict[str, Any]], month: str,
               ) -> list[tuple[str, Decimal, list[str]]]:
    """(village, decided per-capita income, risks) of each household, decided one by one."""
    from fangpin_rules.population.history import month_of

    last = month_of(month)[1]
    return [(r["region_code"], d["per_capita_income"], d["risks"])
            for r, d in zip(records, fujian.evaluate_many(records, last), strict=True)]


def test_sums_of_decided_values_reconcile_with_the_households(tmp_path: Path,
                                                              fujian: Policy) -> None:
    months, _ = benchmark_module("gen_county").county(seed=0, code="350181")
    april = months["2022-04"]
    for number, record in enumerate(april[:7]):  # money to the fen: the sums stay exact
        record["net_income"] = f"{record['net_income']}.{number}7"
    policy = county_policy(tmp_path, """  township_income_sum:
    title: {zh: 乡镇人均收入合计}
    cite: §3
    level: township
    sum: per_capita_income
    above: sum_floor
  township_drop_income_share:
    title: {zh: 收入骤降户收入占比}
    cite: §3
    level: township
    where: {risk: income_drop}
    sum: per_capita_income
    as: share
    above: tiny
""", MONEY.format(name="sum_floor", value=1) + RATIO.format(name="tiny", value="0.000001"))
    found = regional_warnings(policy, county_files({"2022-04": april}))
    decided = per_capita(fujian, april, "2022-04")
    sums = {w["region"]: w["figures"] for w in found if w["rule"] == "township_income_sum"}
    assert len(sums) == 5
    for township, figures in sums.items():
        mine = [pci for village, pci, _ in decided if village.startswith(township)]
        assert figures["sum"] == figures["figure"] == sum(mine, Decimal(0))
        assert figures["selected"] == figures["households"] == len(mine)
    assert any(f["sum"] != f["sum"].to_integral_value() for f in sums.values())  # fen kept
    shares = {w["region"]: w["figures"] for w in found
              if w["rule"] == "township_drop_income_share"}
    assert "350181004" in shares  # the price fall's township, at least
    for township, figures in shares.items():
        dropped = sum((pci for village, pci, risks in decided
                       if village.startswith(township) and "income_drop" in risks), Decimal(0))
        total = sum((pci for village, pci, _ in decided if village.startswith(township)),
                    Decimal(0))
        assert (figures["sum"], figures["total"]) == (dropped, total)
        assert figures["figure"] == (dropped / total).quantize(Decimal("0.0001"))


def test_a_mean_against_the_previous_quarter_and_a_threshold_below(tmp_path: Path,
                                                                   fujian: Policy) -> None:
    months, _ = benchmark_module("gen_county").county(seed=0, code="350181")
    policy = county_policy(tmp_path, """  county_mean_quarter:
    title: {zh: 全县户均人均收入较上季度}
    cite: §16
    level: county
    sum: per_capita_income
    as: mean
    against: previous_quarter
    below: hardly_any_fall
""", RATIO.format(name="hardly_any_fall", value="1.5"))
    found = [w for w in regional_warnings(policy, county_files(months))
             if w["rule"] == "county_mean_quarter"]
    assert [w["period"] for w in found] == ["2022Q2", "2022Q3", "2022Q4"]
    q3 = found[1]["figures"]
    summed = {}
    for quarter, labels in (("q2", ("2022-04", "2022-05", "2022-06")),
                            ("q3", ("2022-07", "2022-08", "2022-09"))):
        values = [pci for m in labels for _, pci, _ in per_capita(fujian, months[m], m)]
        summed[quarter] = (sum(values, Decimal(0)), len(values))
    assert (q3["sum"], q3["selected"]) == summed["q3"]
    mean_q2 = summed["q2"][0] / summed["q2"][1]
    mean_q3 = summed["q3"][0] / summed["q3"][1]
    assert q3["previous"] == mean_q2.quantize(Decimal("0.0001"))
    assert q3["figure"] == (mean_q3 / mean_q2).quantize(Decimal("0.0001"))
    assert found[1]["direction"] == "below" and q3["figure"] < Decimal("1.5")


def test_an_unknown_value_is_in_no_sum(tmp_path: Path) -> None:
    from fangpin_rules import load_policy

    county = tmp_path / "county.yaml"
    county.write_text(
        "extends: fujian-2021\n"
        "policy: {id: test-county, title: {zh: 测试县}, effective: 2021-06-04}\n"
        "decisions:\n  last_year_income:\n    expr: previous_net_income\n"
        "parameters:\n" + MONEY.format(name="floor", value=0) +
        "regional_warnings:\n  county_last_year:\n    title: {zh: 上年收入合计}\n"
        "    cite: §3\n    level: county\n    sum: last_year_income\n    above: floor\n",
        encoding="utf-8")
    policy = load_policy(county, search_path=[Path(__file__).parents[2] / "policies"])
    months, _ = benchmark_module("gen_county").county(seed=0, code="350181")
    records = months["2022-01"][:10]
    for record in records[:3]:
        del record["previous_net_income"]
    (warning,) = [w for w in regional_warnings(policy, county_files({"2022-01": records}))
                  if w["rule"] == "county_last_year"]
    figures = warning["figures"]
    assert (figures["households"], figures["selected"], figures["unknown"]) == (10, 7, 3)
    assert figures["sum"] == sum(Decimal(r["previous_net_income"]) for r in records[3:])


def test_a_warnings_sum_reads_the_same_whatever_places_the_records_spell() -> None:
    """The text of a sum (a total, a previous sum) is its value's, as in the JSON form: 18.50
    and 18.5000000000 (a Parquet file's decimal) are one sum; a mean and the figure keep
    their four places."""
    from fangpin_rules.population.regional import describe

    def warning(figures: dict[str, Any]) -> str:
        return describe({"period": "2022-04", "level": "village", "region": "350181004001",
                         "title": "t", "cite": "§3", "direction": "below",
                         "figures": {"selected": 2, "households": 2, "figure": Decimal("0.8534"),
                                     "threshold": Decimal("0.9"), **figures}})

    for places in ("18.50", "18.5000000000"):
        assert "summing 18.5 (previous 20.25)," in warning(
            {"sum": Decimal(places), "previous": Decimal("20.2500000000")})
        assert "summing 18.5, mean 9.2500 (previous 10.1250), figure 0.8534" in warning(
            {"sum": Decimal(places), "mean": Decimal("9.2500"), "previous": Decimal("10.1250")})
