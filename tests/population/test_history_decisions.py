"""Histories from earlier decision files: each month's household file beside the decisions
`fangpin eval` wrote of it, read instead of deciding again; the findings at their boundaries are
the same, a decision of another day or policy rejects its household for that month."""

from __future__ import annotations

import io
import json
from datetime import date
from typing import Any

from fangpin_rules import Policy
from fangpin_rules.engine.serialize import dumps
from fangpin_rules.population.history import HistoryRun, MonthFile, history, month_of

from population_support import UNSTABLE_INCOME, household

Months = dict[str, list[dict[str, Any]]]


def decisions_of(fujian: Policy, month: str, records: list[dict[str, Any]]) -> list[str]:
    """The decision lines `fangpin eval --as-of` the month's last day writes."""
    _, last = month_of(month)
    return [dumps(d) for d in fujian.evaluate_many(records, last)]


def run(fujian: Policy, months: Months, decisions: dict[str, list[str]] | None,
        visits: dict[str, list[date]] | None = None,
        ) -> tuple[list[dict[str, Any]], HistoryRun, list[tuple[str, Any]]]:
    files = []
    for month, records in months.items():
        lines = None if decisions is None else decisions[month]
        files.append(MonthFile(
            month, f"{month}.jsonl", io.StringIO("".join(json.dumps(r) + "\n" for r in records)),
            None if lines is None else io.StringIO("".join(line + "\n" for line in lines)),
            f"decisions-{month}.jsonl"))
    counts = HistoryRun()
    rejected: list[tuple[str, Any]] = []
    out = list(history(fujian, files, visits=visits, run=counts,
                       on_reject=lambda name, r: rejected.append((name, r))))
    return out, counts, rejected


def both(fujian: Policy, months: Months, visits: dict[str, list[date]] | None = None,
         ) -> list[dict[str, Any]]:
    """The histories from the decision files, checked equal to those decided afresh."""
    decisions = {m: decisions_of(fujian, m, records) for m, records in months.items()}
    from_decisions, counts, rejected = run(fujian, months, decisions, visits)
    afresh, _, _ = run(fujian, months, None, visits)
    assert from_decisions == afresh and rejected == []
    assert counts.decisions_read == counts.decisions_used == counts.decided
    return from_decisions


def codes(result: dict[str, Any]) -> list[tuple[str, Any]]:
    return [(f["code"], f.get("month") or f.get("quarter")) for f in result["findings"]]


def test_eliminated_at_the_boundary_from_decision_files(fujian: Policy) -> None:
    in_time = both(fujian, {"2022-01": [household(income=UNSTABLE_INCOME)],
                            "2022-02": [household(status="risk_eliminated")]})
    assert codes(in_time[0]) == []
    early = both(fujian, {"2022-01": [household(income=UNSTABLE_INCOME)],
                          "2022-02": [household(income=UNSTABLE_INCOME,
                                                status="risk_eliminated")],
                          "2022-03": [household(status="risk_eliminated")]})
    assert codes(early[0]) == [("eliminated_not_eligible", "2022-02")]
    no_labour = both(fujian, {"2022-01": [household(labour="lost")],
                              "2022-02": [household(labour="lost", status="risk_eliminated")]})
    assert codes(no_labour[0]) == [("eliminated_without_labour", "2022-02")]


def test_visits_and_the_range_from_decision_files(fujian: Policy) -> None:
    quarter = {m: [household()] for m in ("2022-01", "2022-02", "2022-03")}
    assert codes(both(fujian, quarter, {"H1": [date(2022, 3, 31)]})[0]) == []
    assert codes(both(fujian, quarter, {"H1": [date(2022, 4, 1)]})[0]) == [
        ("quarter_without_visit", "2022Q1")]
    poor, fine = household(income=6000, status="none"), household(status="none")
    blip = both(fujian, {"2022-01": [poor], "2022-02": [fine], "2022-03": [poor]})
    assert codes(blip[0]) == [("left_range_one_month", "2022-02")]


def test_the_decision_file_is_read_not_decided_again(fujian: Policy) -> None:
    months = {m: [household(status="none")] for m in ("2022-01", "2022-02", "2022-03")}
    decisions = {m: decisions_of(fujian, m, r) for m, r in months.items()}
    # the decision of February says out of range, January's and March's in it
    for month, in_range in (("2022-01", True), ("2022-02", False), ("2022-03", True)):
        decision = json.loads(decisions[month][0])
        decision["in_range"] = in_range
        decisions[month] = [json.dumps(decision)]
    out, _, rejected = run(fujian, months, decisions)
    assert rejected == [] and codes(out[0]) == [("left_range_one_month", "2022-02")]
    assert codes(run(fujian, months, None)[0][0]) == []


def test_a_decision_of_another_day_or_policy_rejects_that_month(fujian: Policy) -> None:
    months = {"2022-01": [household("A"), household("B"), household("C")],
              "2022-02": [household("A"), household("B"), household("C")]}
    decisions = {m: decisions_of(fujian, m, r) for m, r in months.items()}
    february = [json.loads(line) for line in decisions["2022-02"]]
    february[0]["as_of"] = "2022-02-27"
    february[1]["policy"] = {"id": "another-county"}
    del february[2]["in_range"]
    decisions["2022-02"] = [json.dumps(d) for d in february]
    out, counts, rejected = run(fujian, months, decisions)
    assert [r["months"] for r in out] == [["2022-01"]] * 3
    assert [(name, r.line, r.household_id, r.field) for name, r in rejected] == [
        ("2022-02.jsonl", 1, "A", "as_of"), ("2022-02.jsonl", 2, "B", "policy"),
        ("2022-02.jsonl", 3, "C", "in_range")]
    assert rejected[0][1].reason.endswith("(decisions-2022-02.jsonl:1)")
    assert (counts.read, counts.decided, counts.rejected) == (6, 3, 3)
    assert (counts.decisions_read, counts.decisions_used, counts.decisions_rejected) == (6, 3, 0)


def test_decisions_without_their_household_and_households_without_theirs(
        fujian: Policy) -> None:
    months = {"2022-01": [household("A"), household("C")]}
    decided = decisions_of(fujian, "2022-01", [household("A"), household("B"), household("D")])
    decisions = {"2022-01": [*decided, "not json", json.dumps(household("E"))]}
    out, counts, rejected = run(fujian, months, decisions)
    assert [r["household_id"] for r in out] == ["A"]
    assert [(name, r.line, r.household_id, r.field) for name, r in rejected] == [
        ("decisions-2022-01.jsonl", 2, "B", "household_id"),  # B is in no household file
        ("2022-01.jsonl", 2, "C", "household_id"),  # no decision for C
        ("decisions-2022-01.jsonl", 3, "D", "household_id"),
        ("decisions-2022-01.jsonl", 4, None, None),  # the line that is not JSON
        ("decisions-2022-01.jsonl", 5, None, "household_id")]  # a household, not a decision
    assert rejected[-1][1].reason == "not a decision: a decision has household_id and as_of"
    assert (counts.read, counts.decided, counts.rejected) == (2, 1, 1)
    assert (counts.decisions_read, counts.decisions_used, counts.decisions_rejected) == (5, 1, 4)
