"""The example counties decide households with their own parameters, and only there differ."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from fangpin_rules import Policy
from fangpin_rules.engine.policy import DateError

from support import household, members

EXCLUDED = {"policy", "monitoring_line", "trace"}


def _comparable(decision: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in decision.items() if k not in EXCLUDED}


def _grid() -> list[dict[str, Any]]:
    """Households of one to four people, per-capita incomes from 6000 to 12000 yuan."""
    out = []
    for size in (1, 2, 4):
        for per_capita in range(6000, 12001, 250):
            for poor in (False, True):
                out.append(household(household_id=f"H-{size}-{per_capita}-{poor}",
                                     members=members(size), net_income=per_capita * size,
                                     formerly_poor=poor))
    return out


def test_minhou_line_rises_year_by_year(county: dict[str, Policy]) -> None:
    minhou = county["minhou"]
    assert [minhou.parameters_on(f"{y}-08-01")["monitoring_line"] for y in (2021, 2022, 2023,
                                                                         2024)] == [
        Decimal(8600), Decimal(9000), Decimal(9500), Decimal(10000)]


def test_before_the_county_takes_effect_is_an_error(county: dict[str, Policy]) -> None:
    with pytest.raises(DateError, match="takes effect on 2021-07-01"):
        county["minhou"].evaluate(household(), "2021-06-30")


def test_same_household_differs_exactly_where_the_lines_differ(
        county: dict[str, Policy], fujian: Policy) -> None:
    """Minhou (line 9000 on 2022-03-01) against the province (7152): with the same dibao
    standard a household's decisions differ only if its income lies between the lines."""
    minhou, day = county["minhou"], "2022-03-01"
    assert minhou.parameters_on(day)["monitoring_line"] == Decimal(9000)
    differing = []
    for record in _grid():
        here = minhou.evaluate(record, day)
        there = fujian.evaluate(record, day)
        per_capita = Decimal(record["net_income"]) / len(record["members"])
        between = Decimal(7152) <= per_capita < Decimal(9000)
        below_dibao = per_capita < Decimal(8880)  # minhou's 2022 dibao standard, for dibao
        same = _comparable(here) == _comparable(there)
        if not between and not below_dibao:
            assert same, record["household_id"]
        if between:
            assert not same and here["in_range"] and not there["in_range"]
            differing.append(record["household_id"])
    assert differing


def test_two_counties_on_one_date(county: dict[str, Policy]) -> None:
    """德化 (8160) and 闽侯 (9000) in 2022: a household at 8500 yuan a head is in 闽侯's
    range and not in 德化's; one at 10000 is in neither and decided alike."""
    day = "2022-03-01"
    middle = household(net_income=8500)
    high = household(net_income=10000)
    minhou, dehua = county["minhou"], county["dehua"]
    assert minhou.evaluate(middle, day)["category"] == "marginal"
    assert dehua.evaluate(middle, day)["category"] is None
    assert _comparable(minhou.evaluate(high, day)) == _comparable(dehua.evaluate(high, day))


def test_dehua_line_is_twice_its_dibao_standard_from_2024(county: dict[str, Policy]) -> None:
    dehua = county["dehua"]
    assert dehua.parameters_on("2024-03-01")["monitoring_line"] == Decimal(19560)
    assert dehua.parameters_on("2023-03-01")["monitoring_line"] == Decimal(9000)
    decision = dehua.evaluate(household(net_income=19000), "2024-03-01", explain=True)
    assert decision["in_range"] is True
    entry = next(e for e in decision["trace"] if e.get("name") == "monitoring_line")
    assert entry["formula"] == "2 * dibao_standard" and entry["value"] == Decimal(19560)
    assert entry["file"].endswith("policies/counties/dehua_350526.yaml")


def test_dehua_local_measure(county: dict[str, Policy], fujian: Policy) -> None:
    ill = household(net_income=7000, members=members(1, health="serious_illness"))
    day = "2022-03-01"
    assert "poverty_prevention_insurance" in county["dehua"].evaluate(ill, day)["measures"]
    assert "poverty_prevention_insurance" not in county["minhou"].evaluate(ill, day)["measures"]
    assert "poverty_prevention_insurance" not in fujian.evaluate(ill, day)["measures"]


def test_jinjiang_keeps_its_city_figures_until_its_own(county: dict[str, Policy]) -> None:
    jinjiang, quanzhou = county["jinjiang"], county["quanzhou"]
    for day in ("2021-08-01", "2022-08-01"):
        assert jinjiang.parameters_on(day) == quanzhou.parameters_on(day)
    assert jinjiang.parameters_on("2023-03-01")["monitoring_line"] == Decimal(10500)
    assert quanzhou.parameters_on("2023-03-01")["monitoring_line"] == Decimal(9120)


def test_jinjiang_replaced_rule_decides(county: dict[str, Policy]) -> None:
    """Income above the line with the margin, but not after rigid spending: the province
    marks the risk eliminated-eligible, Jinjiang's own test does not."""
    record = household(net_income=12000, rigid_expenditure={"medical": 1000},
                       monitoring={"status": "monitored", "category": "marginal"})
    day = "2023-03-01"
    jinjiang = county["jinjiang"].evaluate(record, day, explain=True)
    quanzhou = county["quanzhou"].evaluate(record, day)
    assert quanzhou["risk_elimination"]["reason"] is None
    assert jinjiang["risk_elimination"]["reason"] == "income_not_stable"


def test_trace_names_the_override(county: dict[str, Policy]) -> None:
    decision = county["jinjiang"].evaluate(household(), "2023-03-01", explain=True)
    entry = next(e for e in decision["trace"] if e.get("name") == "monitoring_line")
    assert entry["file"].endswith("jinjiang_350582.yaml") and entry["line"] == 20
    assert entry["overrides"]["file"].endswith("quanzhou_350500.yaml")
    assert entry["overrides"]["value"] == 9120
    untouched = next(e for e in decision["trace"] if e.get("name") == "sharp_drop_ratio")
    assert untouched["file"].endswith("fujian_2021.yaml") and "overrides" not in untouched


def test_chain_identity(county: dict[str, Policy], fujian: Policy) -> None:
    chain = county["jinjiang"].checked.inheritance.chain
    assert [link.id for link in chain] == ["fujian-2021", "quanzhou-350500", "jinjiang-350582"]
    assert county["jinjiang"].sha256 not in {fujian.sha256, county["quanzhou"].sha256}
    decision = county["jinjiang"].evaluate(household(), "2023-03-01")
    assert decision["policy"] == {"id": "jinjiang-350582", "sha256": county["jinjiang"].sha256}
