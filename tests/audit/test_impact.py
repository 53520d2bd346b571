"""`impact`: whom a new version decides differently, counted while streaming."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from fangpin_rules import Policy
from fangpin_rules.audit import ChangedHousehold, impact
from fangpin_rules.engine.policy import DateError
from fangpin_rules.engine.records import RecordError, Rejection
from fangpin_rules.engine.serialize import dumps

from support import household, members

# (id, members, net income): per-capita incomes on both sides of 7152 and 7500 and on them.
HOUSEHOLDS = [
    ("below", 1, "7000"), ("just-below-old", 1, "7151.99"), ("old-line", 1, "7152"),
    ("old-line-2", 2, "14304"), ("above-old", 1, "7152.01"), ("middle", 1, "7300"),
    ("just-below-new", 1, "7499.99"), ("just-below-new-3", 3, "22499.97"),
    ("just-below-new-4", 4, "29999.96"), ("new-line", 1, "7500"), ("new-line-2", 2, "15000"),
    ("above-new", 1, "7500.01"), ("far-above", 1, "9000"),
]
IN_BETWEEN = {"old-line", "old-line-2", "above-old", "middle", "just-below-new",
              "just-below-new-3", "just-below-new-4"}


def _records() -> list[dict[str, Any]]:
    return [household(household_id=hid, members=members(n), net_income=Decimal(income))
            for hid, n, income in HOUSEHOLDS]


def test_raising_the_line_changes_in_range_for_exactly_the_incomes_between(
        fujian: Policy, revised: Policy) -> None:
    seen: list[ChangedHousehold] = []
    report = impact(fujian, revised, _records(), "2022-03-01", on_change=seen.append,
                    sample_size=100)
    in_range_changed = {h.household_id for h in seen if "in_range" in h.changed}
    assert in_range_changed == IN_BETWEEN
    assert report.by_output["in_range"] == len(IN_BETWEEN)
    assert set(report.samples["in_range"]) == IN_BETWEEN
    for changed in seen:
        if changed.household_id in IN_BETWEEN:
            assert (changed.old["in_range"], changed.new["in_range"]) == (False, True)
            assert (changed.old["monitoring_line"], changed.new["monitoring_line"]) == (7152, 7500)
    # these households are not formerly poor: each one in between becomes marginal
    assert report.transitions["category"][(None, "marginal")] == len(IN_BETWEEN)
    assert report.gained["risks"]["low_income"] == len(IN_BETWEEN)
    assert report.changed == len(IN_BETWEEN)
    assert (report.read, report.compared, report.rejected) == (13, 13, 0)


def test_before_the_raised_line_applies_no_household_changes_range(
        fujian: Policy, revised: Policy) -> None:
    report = impact(fujian, revised, _records(), "2021-09-01")
    assert report.by_output["in_range"] == 0 and report.by_output["monitoring_line"] == 0
    assert report.changed == 0 and report.samples == {}


def test_the_line_in_force_is_the_same_for_everyone_and_makes_no_household_changed(
        fujian: Policy, revised: Policy) -> None:
    records = [household(household_id="rich", net_income=90000)]
    report = impact(fujian, revised, records, "2022-03-01")
    assert "monitoring_line" in report.uniform and "in_range" not in report.uniform
    assert report.by_output["monitoring_line"] == 1
    assert report.changed == 0 and "monitoring_line" not in report.samples


def test_measures_gained_by_the_changed_rule(fujian: Policy, revised: Policy) -> None:
    # weak labour only, income below the line: the revised rule gives employment support too
    weak = household(household_id="weak", net_income=5000,
                     members=members(1, labour_capacity="weak"))
    normal = household(household_id="normal", net_income=5000)
    report = impact(fujian, revised, [weak, normal], "2021-09-01")
    assert dict(report.gained["measures"]) == {"employment": 1}
    assert dict(report.lost["measures"]) == {}
    assert report.samples["measures +employment"] == ["weak"]
    assert report.by_output["measures"] == 1 and report.changed >= 1


def test_samples_stay_bounded_however_many_households_change(fujian: Policy,
                                                               revised: Policy) -> None:
    records = (household(household_id=f"H{i}", net_income=7300 + i % 100) for i in range(600))
    report = impact(fujian, revised, records, "2022-03-01", sample_size=3)
    assert report.changed == 600
    assert report.samples and all(len(ids) <= 3 for ids in report.samples.values())
    assert report.samples["in_range"] == ["H0", "H1", "H2"]  # the first ones, in input order
    cells = sum(len(table) for table in report.transitions.values())
    assert cells <= 4 * 4 * len(report.transitions)  # labels and null, not households


def test_bad_records_are_rejected_and_the_batch_goes_on(fujian: Policy, revised: Policy) -> None:
    rejected: list[Rejection] = []
    items: list[tuple[int, Any]] = [
        (1, household(household_id="ok-1", net_income=7300)),
        (2, RecordError(Rejection(2, None, None, "not valid JSON"))),
        (4, {"household_id": "no-income", "formerly_poor": False, "members": members(1)}),
        (5, household(household_id="ok-2", net_income=8000)),
    ]
    report = impact(fujian, revised, items, "2022-03-01", numbered=True,
                    on_reject=rejected.append)
    assert (report.read, report.compared, report.rejected) == (4, 2, 2)
    assert report.read == report.compared + report.rejected
    assert [(r.line, r.household_id, r.field) for r in rejected] == [
        (2, None, None), (4, "no-income", "net_income")]
    assert report.rejections == rejected


def test_jsonl_lines_are_read_by_the_typed_reader_or_by_pydantic_alike(
        fujian: Policy, revised: Policy) -> None:
    """What `fangpin diff --impact` passes: the numbered lines of a JSONL file. A line the typed
    reader takes and the same household in a lax form that only pydantic reads compare alike;
    a line that is not JSON is rejected and the run goes on."""
    import io
    import json

    from fangpin_rules.engine.stream import numbered_items

    lines = [dumps(record) for record in _records()]
    lax = dict(json.loads(lines[3]), household_id=" old-line-2 ", net_income="14304")
    text = "\n".join([*lines, json.dumps(lax), "{not json"]) + "\n"
    seen: list[ChangedHousehold] = []
    report = impact(fujian, revised, numbered_items(io.StringIO(text)), "2022-03-01",
                    numbered=True, on_change=seen.append, sample_size=100)
    assert (report.read, report.compared, report.rejected) == (15, 14, 1)
    changed = [h.household_id for h in seen]
    assert changed.count("old-line-2") == 2  # the typed line and its lax twin
    assert {h.household_id for h in seen} == IN_BETWEEN
    assert report.rejections[0].line == 15


def test_a_date_either_version_cannot_answer_for_fails_before_any_record(
        fujian: Policy, revised: Policy) -> None:
    def records() -> Any:
        raise AssertionError("no record is read")
        yield  # pragma: no cover

    with pytest.raises(DateError):
        impact(fujian, revised, records(), "2020-01-01")


def test_the_report_as_json(fujian: Policy, revised: Policy) -> None:
    data = impact(fujian, revised, _records(), "2022-03-01").to_json()
    assert data["as_of"] == "2022-03-01" and data["changed"] == len(IN_BETWEEN)
    outputs = {o["output"]: o for o in data["outputs"]}
    assert outputs["in_range"]["changed"] == len(IN_BETWEEN)
    assert outputs["monitoring_line"]["same_for_every_household"] is True
    cell = next(c for c in data["transitions"]["category"]
                if (c["old"], c["new"]) == (None, "marginal"))
    assert cell["households"] == len(IN_BETWEEN) and len(cell["sample"]) == 5
    low = next(row for row in data["labels"]["risks"] if row["label"] == "low_income")
    assert (low["gained"], low["lost"]) == (len(IN_BETWEEN), 0)


def test_deadlines_of_the_cases_are_compared(fujian: Policy, variant: Any) -> None:
    import json

    from fangpin_rules.model import Case

    from support import ROOT

    shorter = variant(("    value: 5 working_days\n  verification_period:",
                       "    value: 3 working_days\n  verification_period:"))
    lines = (ROOT / "examples" / "households.jsonl").read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    cases: dict[str, list[Case]] = {}
    for line in (ROOT / "examples" / "cases.jsonl").read_text(encoding="utf-8").splitlines():
        case = Case.model_validate(json.loads(line))
        cases.setdefault(case.household_id, []).append(case)
    without = impact(fujian, shorter, records, "2022-06-30")
    assert without.by_output["deadlines"] == 0  # no case: no review step to be late for
    seen: list[ChangedHousehold] = []
    report = impact(fujian, shorter, records, "2022-06-30", cases=cases, on_change=seen.append)
    changed = {h.household_id for h in seen if "deadlines" in h.changed}
    assert changed and changed <= set(cases)
    assert report.by_output["deadlines"] == len(changed)
    for changed_household in seen:
        old_due = {e["step"]: e["due"] for e in changed_household.old["deadlines"]}
        new_due = {e["step"]: e["due"] for e in changed_household.new["deadlines"]}
        old_review, new_review = old_due["preliminary_review"], new_due["preliminary_review"]
        if old_review is None:  # unknown: it fell in 2027, which the calendar does not cover
            assert new_review is not None and new_review.year == 2026  # two days sooner: known
            continue
        assert new_review < old_review
