"""The monthly ledger: every figure reconciles with the per-household decisions (summed here
independently, from `Policy.evaluate_many` and the raw records), regions add up to their
parent's, a rejected record is counted and in no figure, and the three formats agree."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from typing import Any

import pytest

from fangpin_rules.population.deciding import Counts, month
from fangpin_rules.population.ledger import monthly_ledger, roll_up
from fangpin_rules.population.tables import render

from population_support import NOVEMBER, cases_by_household, decided, records

NOV = month("2021-11")


def _independent_sums(policy: Any, level_digits: int) -> dict[str, Counter[str]]:
    """The ledger's figures counted straight from the decisions and the raw records."""
    raw = {r["household_id"]: r for r in records()}
    cases = cases_by_household()
    sums: dict[str, Counter[str]] = {}
    for decision in policy.evaluate_many(list(raw.values()), "2021-11-30", cases=cases):
        record = raw[decision["household_id"]]
        code = record["region_code"]
        code = code[:level_digits] if len(code) >= level_digits else code
        row = sums.setdefault(code, Counter())
        row["screened"] += 1
        status = record["monitoring"]["status"]
        since = record["monitoring"]["since"] or ""
        if status == "monitored":
            row["monitored"] += 1
            row["monitored." + (record["monitoring"]["category"] or decision["category"])] += 1
            row.update(f"risk.{r}" for r in decision["risks"])
            row.update(f"measure.{m}" for m in decision["measures"])
            row["newly_identified"] += since.startswith("2021-11")
        if status == "risk_eliminated":
            row["eliminated"] += since.startswith("2021-11")
        row["should_monitor_not_monitored"] += status == "none" and \
            decision["category"] is not None
        row["dibao_not_enrolled"] += decision["dibao"]["recommend_enrolment"] and \
            not record["dibao"].get("enrolled")
        for case in cases.get(record["household_id"], []):
            row["cases.received"] += case.received_on.isoformat().startswith("2021-11")
            for name, day in (("assigned", case.assigned_on),
                              ("reviewed", case.preliminary_review_on),
                              ("verified", case.verified_on)):
                row[f"cases.{name}"] += day is not None and day.month == 11
        for entry in decision["deadlines"]:
            if entry["status"] == "overdue":
                row[f"steps.overdue.{entry['cite']}"] += 1
            if entry["status"] == "late" and str(entry["done"]).startswith("2021-11"):
                row[f"steps.late.{entry['cite']}"] += 1
        row.update(f"warnings.{w['code']}" for w in decision["warnings"])
    return sums


@pytest.mark.parametrize(("level", "digits"), [("village", 12), ("township", 9),
                                               ("county", 6)])
def test_every_figure_reconciles_with_the_decisions(fujian: Any, level: Any,
                                                    digits: int) -> None:
    table = monthly_ledger(fujian, decided(fujian, NOV), NOV, level)
    expected = _independent_sums(fujian, digits)
    assert {row.region for row in table.rows} == set(expected)
    for row in table.rows:
        for name, value in row.figures.items():
            if name.startswith("cases.received.source."):
                continue
            assert value == expected[row.region][name], (row.region, name)
    assert table.total is not None
    assert table.total.figures["screened"] == len(records())


def test_the_example_shows_what_the_ledger_is_for(fujian: Any) -> None:
    table = monthly_ledger(fujian, decided(fujian, NOV), NOV, "county")
    assert table.total is not None
    total = table.total.figures
    # each of these is non-zero in the example, so a figure that is never counted fails
    for name in ("monitored", "newly_identified", "eliminated", "should_monitor_not_monitored",
                 "dibao_not_enrolled", "cases.received", "cases.assigned", "cases.reviewed",
                 "steps.overdue.§7", "steps.late.§7", "risk.disaster", "measure.dibao"):
        assert isinstance(total[name], int) and total[name] > 0, name


def test_regions_add_up_to_their_parents(fujian: Any) -> None:
    village = monthly_ledger(fujian, decided(fujian, NOV), NOV, "village")
    township = monthly_ledger(fujian, decided(fujian, NOV), NOV, "township")
    county = monthly_ledger(fujian, decided(fujian, NOV), NOV, "county")
    assert roll_up(village, "township") == {r.region: dict(r.figures) for r in township.rows}
    assert roll_up(township, "county") == {r.region: dict(r.figures) for r in county.rows}
    # the households known only by their county keep their own row at village level
    assert {"350181", "350181103"} <= {r.region for r in village.rows}
    assert village.total == township.total == county.total


def test_a_rejected_record_is_counted_and_in_no_figure(fujian: Any) -> None:
    text = NOVEMBER.read_text(encoding="utf-8")
    bad = json.dumps({**records()[0], "household_id": "BAD-1", "net_income": "lots",
                      "region_code": "3501811"})
    rejected: list[Any] = []
    counts = Counts()
    table = monthly_ledger(fujian, decided(fujian, NOV, text=text + bad + "\n",
                                           rejected=rejected, counts=counts), NOV)
    assert (counts.read, counts.decided, counts.rejected) == (33, 32, 1)
    (rejection,) = rejected
    assert rejection.household_id == "BAD-1" and rejection.line == 33
    assert {p.field for p in rejection.problems} >= {"net_income", "region_code"}
    assert table.total is not None and table.total.figures["screened"] == 32


def test_the_formats_carry_the_same_figures(fujian: Any) -> None:
    table = monthly_ledger(fujian, decided(fujian, NOV), NOV, "township")
    as_json = json.loads(render(table, "json"))
    rows = list(csv.DictReader(io.StringIO(render(table, "csv"))))
    markdown = render(table, "markdown")
    assert [r["region"] for r in rows] == [r["region"] for r in as_json["rows"]] + ["total"]
    for row, json_row in zip(rows, as_json["rows"], strict=False):
        assert {k: int(v) for k, v in row.items() if k not in ("region", "level")} == \
            json_row["figures"]
    assert as_json["period"] == "2021-11" and as_json["as_of"] == "2021-11-30"
    screened = "| screened | " + " | ".join(r["screened"] for r in rows) + " |"
    assert screened in markdown


def test_a_household_without_a_region_code_has_the_unknown_row(fujian: Any) -> None:
    record = {k: v for k, v in records()[1].items() if k != "region_code"}
    text = NOVEMBER.read_text(encoding="utf-8") + json.dumps({**record,
                                                              "household_id": "NO-CODE"}) + "\n"
    table = monthly_ledger(fujian, decided(fujian, NOV, text=text), NOV, "township")
    unknown = next(row for row in table.rows if row.region == "unknown")
    assert unknown.level == "unknown" and unknown.figures["screened"] == 1
    assert table.total is not None and table.total.figures["screened"] == 33
