"""A household's monitoring history from monthly snapshots: its timeline, and the findings
only a history shows, at their boundaries."""

from __future__ import annotations

import copy
import io
import json
from datetime import date
from typing import Any

import pytest

from fangpin_rules import Policy
from fangpin_rules.population.history import (
    HistoryInputError,
    HistoryRun,
    MonthFile,
    history,
)

from population_support import MONTHS, UNSTABLE_INCOME, household


def run(fujian: Policy, months: dict[str, list[dict[str, Any]]],
        visits: dict[str, list[date]] | None = None,
        ) -> tuple[list[dict[str, Any]], HistoryRun, list[Any]]:
    files = [MonthFile(month, f"{month}.jsonl",
                       io.StringIO("".join(json.dumps(r) + "\n" for r in records)))
             for month, records in months.items()]
    counts = HistoryRun()
    rejected: list[Any] = []
    out = list(history(fujian, files, visits=visits, run=counts,
                       on_reject=lambda name, r: rejected.append((name, r))))
    return out, counts, rejected


def series(*snapshots: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    return {MONTHS[i]: [s] for i, s in enumerate(snapshots)}


def codes(result: dict[str, Any]) -> list[tuple[str, Any]]:
    return [(f["code"], f.get("month") or f.get("quarter")) for f in result["findings"]]


def test_eliminated_in_the_month_it_became_eligible_is_no_finding(fujian: Policy) -> None:
    out, _, _ = run(fujian, series(household(income=UNSTABLE_INCOME),
                                   household(status="risk_eliminated")))
    assert codes(out[0]) == []
    assert [e["event"] for e in out[0]["timeline"]] == ["first_seen", "marked_eliminated"]


def test_eliminated_the_month_before_it_became_eligible_is_found(fujian: Policy) -> None:
    out, _, _ = run(fujian, series(household(income=UNSTABLE_INCOME),
                                   household(income=UNSTABLE_INCOME, status="risk_eliminated"),
                                   household(status="risk_eliminated")))
    assert codes(out[0]) == [("eliminated_not_eligible", "2022-02")]
    assert out[0]["findings"][0]["reason"] == "income_not_stable"
    assert out[0]["findings"][0]["cite"] == "§9"


def test_eliminated_without_labour(fujian: Policy) -> None:
    out, _, _ = run(fujian, series(household(labour="lost"),
                                   household(labour="lost", status="risk_eliminated")))
    assert codes(out[0]) == [("eliminated_without_labour", "2022-02")]


def test_timeline_events_and_return_kinds(fujian: Policy) -> None:
    out, _, _ = run(fujian, {
        "2022-01": [household("A", status="none"), household("B", formerly_poor=True)],
        "2022-02": [household("A"), household("B", status="risk_eliminated", formerly_poor=True)],
        "2022-03": [household("A", category="sudden_hardship"),
                    household("B", formerly_poor=True)],
    })
    a, b = out
    assert [(e["month"], e["event"]) for e in a["timeline"]] == [
        ("2022-01", "first_seen"), ("2022-02", "identified"), ("2022-03", "category_changed")]
    assert a["timeline"][2]["from"] == "marginal"
    assert b["timeline"][2] == {"month": "2022-03", "event": "returned_to_monitoring",
                                "kind": "返贫", "status": "monitored", "category": "marginal"}


def quarter(visit: date | None) -> dict[str, list[date]]:
    return {"H1": [visit]} if visit else {}


def test_a_visit_on_the_last_day_of_the_quarter_counts(fujian: Policy) -> None:
    months = series(household(), household(), household(), household())
    out, _, _ = run(fujian, months, quarter(date(2022, 3, 31)))
    assert codes(out[0]) == []


def test_a_visit_the_day_after_the_quarter_does_not(fujian: Policy) -> None:
    months = series(household(), household(), household())
    out, _, _ = run(fujian, months, quarter(date(2022, 4, 1)))
    assert codes(out[0]) == [("quarter_without_visit", "2022Q1")]
    out, _, _ = run(fujian, months, quarter(date(2022, 1, 1)))
    assert codes(out[0]) == []


def test_a_quarter_not_wholly_monitored_owes_no_visit(fujian: Policy) -> None:
    months = series(household(status="none"), household(), household())
    out, _, _ = run(fujian, months)
    assert codes(out[0]) == []


def dibao(record: dict[str, Any], *, enrolled: bool = True,
          above_on: str | None = None) -> dict[str, Any]:
    record = copy.deepcopy(record)
    record["dibao"] = {"enrolled": enrolled, "since": "2019-01-01",
                       "income_above_standard_on": above_on}
    return record


@pytest.mark.parametrize(("recorded", "found"), [
    ("2022-02-28", False),  # the last day of the first month above: started in time
    ("2022-03-01", True),   # the day after: a month late
    (None, True),           # never started
])
def test_dibao_grace_starts_in_the_first_month_above_the_standard(
        fujian: Policy, recorded: str | None, found: bool) -> None:
    low = dibao(household(income=5000))
    later = None if recorded is None else recorded
    months = series(low, dibao(household(), above_on=later if later == "2022-02-28" else None),
                    dibao(household(), above_on=later))
    out, _, _ = run(fujian, months)
    expected = [("dibao_grace_not_started", "2022-02")] if found else []
    assert [c for c in codes(out[0]) if c[0].startswith("dibao")] == expected


def test_left_the_range_for_one_month_and_came_back(fujian: Policy) -> None:
    poor, fine = household(income=6000, status="none"), household(status="none")
    out, _, _ = run(fujian, series(poor, fine, poor))
    assert codes(out[0]) == [("left_range_one_month", "2022-02")]
    assert out[0]["findings"][0]["cite"] == "§4"
    out, _, _ = run(fujian, series(poor, fine, fine, poor))
    assert codes(out[0]) == []  # out for two months: a change, not a blip


def test_months_merged_by_id_with_gaps_and_counts_add_up(fujian: Policy) -> None:
    bad = household("B")
    bad["net_income"] = "lots"
    out, counts, rejected = run(fujian, {
        "2022-01": [household("A"), household("C")],
        "2022-02": [household("A"), bad, household("C")],
        "2022-03": [household("C")],
    })
    assert [r["household_id"] for r in out] == ["A", "C"]
    assert out[0]["months"] == ["2022-01", "2022-02"]
    assert out[0]["timeline"][-1] == {"month": "2022-03", "event": "missing"}
    assert (counts.read, counts.decided, counts.rejected) == (6, 5, 1)
    assert counts.households == 2
    name, rejection = rejected[0]
    assert (name, rejection.line, rejection.field) == ("2022-02.jsonl", 2, "net_income")


def test_a_file_out_of_order_is_refused_with_its_line(fujian: Policy) -> None:
    with pytest.raises(HistoryInputError, match=r"2022-01.jsonl:2: household ids must be in "
                       "ascending order"):
        run(fujian, {"2022-01": [household("B"), household("A")]})


def test_the_same_household_twice_in_a_month_is_rejected(fujian: Policy) -> None:
    out, counts, rejected = run(fujian, {"2022-01": [household("A"), household("A")]})
    assert len(out) == 1 and counts.rejected == 1
    assert rejected[0][1].line == 2


def test_a_month_given_twice_is_refused(fujian: Policy) -> None:
    files = [MonthFile("2022-01", "a", io.StringIO("")), MonthFile("2022-01", "b",
                                                                  io.StringIO(""))]
    with pytest.raises(HistoryInputError, match="given twice"):
        list(history(fujian, files))
    with pytest.raises(HistoryInputError, match="not a month"):
        list(history(fujian, [MonthFile("2022-13", "a", io.StringIO(""))]))


def test_a_month_before_the_policy_took_effect_is_refused(fujian: Policy) -> None:
    with pytest.raises(HistoryInputError, match="takes effect on 2021-06-04"):
        run(fujian, {"2021-01": [household("A")]})
