"""The assessment (§17): its counts reconcile with the decisions, its shares are exact
quotients rounded to 4 places, and the example county's figures are the ones its generator
builds in (every third review late, every other case visited, half the eliminations of
households without labour)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fangpin_rules.population.assessment import assessment, share
from fangpin_rules.population.deciding import quarter

from population_support import cases_by_household, decided, records

Q4 = quarter("2021Q4")


def test_the_example_countys_figures(fujian: Any) -> None:
    table = assessment(fujian, decided(fujian, Q4), Q4)
    (county,) = table.rows
    figures = county.figures
    assert county.region == "350181" and county.level == "county"
    # 7 cases reviewed, the 3rd and the 6th late (examples/population/make_example.py)
    assert (figures["preliminary_review.done"], figures["preliminary_review.on_time"]) == (7, 5)
    assert figures["preliminary_review.share"] == Decimal("0.7143")
    assert (figures["verification.done"], figures["verification.on_time"]) == (7, 7)
    assert (figures["visit.household_quarters"], figures["visit.visited"]) == (7, 4)
    # 5 households of each eliminated profile: the recovered may be, the others have no labour
    assert (figures["elimination.marked"], figures["elimination.not_eligible"],
            figures["elimination.no_labour"]) == (10, 5, 5)


def test_counts_reconcile_with_the_decisions(fujian: Any) -> None:
    raw = records()
    decisions = list(fujian.evaluate_many(raw, "2021-12-31", cases=cases_by_household()))
    by_id = {r["household_id"]: r for r in raw}
    should = gap = recommended = dibao_gap = not_eligible = 0
    for decision in decisions:
        record = by_id[decision["household_id"]]
        status = record["monitoring"]["status"]
        should += status == "monitored" or (status == "none" and decision["category"] is not None)
        gap += status == "none" and decision["category"] is not None
        recommended += decision["dibao"]["recommend_enrolment"]
        dibao_gap += decision["dibao"]["recommend_enrolment"] and not record["dibao"]["enrolled"]
        if status == "risk_eliminated":
            as_monitored = {**record, "monitoring": {**record["monitoring"],
                                                     "status": "monitored"}}
            not_eligible += not fujian.evaluate(as_monitored, "2021-12-31")[
                "risk_elimination"]["eligible"]
    table = assessment(fujian, decided(fujian, Q4), Q4, "township")
    assert table.total is not None
    total = table.total.figures
    assert (total["inclusion.should_be_monitored"], total["inclusion.gap"]) == (should, gap)
    assert (total["dibao.recommended"], total["dibao.gap"]) == (recommended, dibao_gap)
    assert total["elimination.not_eligible"] == not_eligible
    assert total["inclusion.share"] == share(gap, should)
    for column in ("inclusion.gap", "dibao.gap", "preliminary_review.done"):
        assert sum(row.figures[column] or 0 for row in table.rows) == total[column]


def test_a_share_of_nothing_is_null_and_a_share_is_exact() -> None:
    assert share(0, 0) is None
    assert share(2, 3) == Decimal("0.6667")
    assert share(1, 8) == Decimal("0.1250")
    assert share(5, 5) == Decimal("1.0000")


def test_a_month_counts_only_its_own_steps(fujian: Any) -> None:
    from fangpin_rules.population.deciding import month

    october = month("2021-10")
    table = assessment(fujian, decided(fujian, october), october)
    assert table.total is not None
    # the reviews of the example are all in November; its households were received in October
    assert table.total.figures["preliminary_review.done"] == 0
    assert table.total.figures["preliminary_review.share"] is None
