"""The procedure's edition-2 statuses (reference item 11): notices with no deadline of their own
are `not_started`, never overdue; a deadline in a year the working-day calendar does not cover
is `unknown` for that deadline alone, with the year named; the household still stands."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from fangpin_rules import Policy
from fangpin_rules.engine.serialize import decision_writer
from fangpin_rules.model.decision import Decision

from support import household, province_with_steps

CASE: dict[str, Any] = {"case_id": "W-9", "household_id": "T-1", "source": "routine_visit"}


def _by_step(decision: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {entry["step"]: entry for entry in decision["deadlines"]}


def test_unrecorded_notices_without_a_deadline_are_not_started_and_never_overdue(
        fujian: Policy) -> None:
    case = {**CASE, "received_on": "2021-09-30", "assigned_on": "2021-10-08"}
    decision = fujian.evaluate(household(), "2023-06-30", cases=[case])
    steps = _by_step(decision)
    for name in ("publicity_measures", "publicity_risk_elimination"):
        assert steps[name]["status"] == "not_started" and steps[name]["due"] is None
    assert {e["step"] for e in decision["overdue"]}.isdisjoint(
        {"publicity_measures", "publicity_risk_elimination"})


def test_a_recorded_measures_notice_is_still_checked_for_its_length(fujian: Policy) -> None:
    case = {**CASE, "received_on": "2021-09-30",
            "publicity": [{"purpose": "measures", "start": "2021-10-20", "end": "2021-10-22"}]}
    steps = _by_step(fujian.evaluate(household(), "2021-11-30", cases=[case]))
    assert steps["publicity_measures"]["status"] == "too_short"
    assert steps["publicity_measures"]["due"] == date(2021, 10, 26)


def test_a_deadline_in_an_uncovered_year_is_unknown_for_that_deadline_alone(
        fujian: Policy) -> None:
    """Received 2026-12-28: the assignment (12-29) is in 2026, the review's 5th working day
    and the verification month fall in 2027, which the calendar data does not cover."""
    covered = fujian.checked.calendar.covered_years
    assert 2026 in covered and 2027 not in covered
    case = {**CASE, "received_on": "2026-12-28"}
    decision = fujian.evaluate(household(), "2026-12-31", cases=[case])
    steps = _by_step(decision)
    assert steps["assignment"]["status"] == "overdue"
    assert steps["assignment"]["due"] == date(2026, 12, 29)
    for name in ("preliminary_review", "verification"):
        assert steps[name]["status"] == "unknown" and steps[name]["due"] is None
        assert "2027" in steps[name]["reason"]
    assert "reason" not in steps["assignment"]
    assert decision["category"] is None  # the household is decided
    Decision.model_validate(decision)
    line = json.loads(decision_writer(fujian.checked).encode(dict(decision)))
    reasons = {e["step"]: e.get("reason") for e in line["deadlines"]}
    assert reasons["verification"] == reasons["preliminary_review"] == (
        "the working-day calendar does not cover 2027 (add the State Council's 2027 schedule "
        "under `calendar: years: 2027:` in the policy file)")


def test_an_uncovered_year_reaches_the_arrow_output(fujian: Policy) -> None:
    from fangpin_rules.columnar import decide_batch, records_to_arrow

    table = records_to_arrow(fujian, [household()])
    result = decide_batch(fujian, table, "2026-12-31", engine="record",
                          cases={"T-1": [{**CASE, "received_on": "2026-12-28"}]})
    deadlines = result.decisions.column("deadlines").to_pylist()[0]
    review = next(e for e in deadlines if e["step"] == "preliminary_review")
    assert review["status"] == "unknown" and "2027" in review["reason"]


def test_a_case_step_after_a_household_step_reads_the_case_steps_before_it(
        tmp_path: Any) -> None:
    """A step resolved after the province's household step (the end of the dibao grace
    period) reads the case steps resolved before it: their dates are kept, not cleared when
    the case's steps resume."""
    policy = province_with_steps(tmp_path, """
  follow_up:
    title: {zh: 测试, en: A follow-up once the review is due}
    cite: §7
    when: steps.preliminary_review != null
    due: steps.preliminary_review + 2 days
""")
    names = [step.name for step in policy.checked.steps]
    assert names.index("dibao_grace_end") < names.index("follow_up")
    case = {**CASE, "received_on": "2021-09-30", "assigned_on": "2021-10-08"}
    steps = _by_step(policy.evaluate(household(), "2021-11-30", cases=[case]))
    review = steps["preliminary_review"]
    assert review["done"] is None and review["due"] == date(2021, 10, 14)
    assert steps["follow_up"]["due"] == date(2021, 10, 16)


def test_a_condition_comparing_an_unknown_date_is_false_and_the_household_stands(
        tmp_path: Any) -> None:
    """The review's 5th working day falls in 2027, which the calendar does not cover: a step
    whose condition compares that unknown date is not owed (as with no date), and the household
    is decided, not rejected."""
    policy = province_with_steps(tmp_path, """
  follow_up:
    title: {zh: 测试, en: A follow-up after a late review}
    cite: §7
    when: steps.preliminary_review > case.received_on or case.received_on < steps.verification
    due: case.received_on + 2 days
""")
    decision = policy.evaluate(household(), "2026-12-31",
                               cases=[{**CASE, "received_on": "2026-12-28"}])
    steps = _by_step(decision)
    assert steps["preliminary_review"]["status"] == steps["verification"]["status"] == "unknown"
    assert "follow_up" not in steps


def test_a_step_reading_one_that_does_not_apply_has_no_date(tmp_path: Path) -> None:
    """A step that reads no case and does not apply (its `when` false) has no date for the
    steps after it: they read null, as the columnar engine does (the record path had read an
    unassigned variable and failed), with a case and without."""
    policy = province_with_steps(tmp_path, """
  monitoring_review:
    title: {zh: 测试, en: A review five working days after the monitoring began}
    cite: §9
    when: monitoring.since != null
    due: monitoring.since + 5 working_days
  follow_up:
    title: {zh: 测试, en: A follow-up three working days after the review}
    cite: §9
    due: steps.monitoring_review + 3 working_days
""")
    unmonitored = household()  # no monitoring date
    for cases in ([], [{**CASE, "received_on": "2021-09-30"}]):
        steps = _by_step(policy.evaluate(unmonitored, "2021-11-30", cases=cases))
        assert "monitoring_review" not in steps
        assert steps["follow_up"]["due"] is None and steps["follow_up"]["status"] == "pending"
    monitored = household(monitoring={"status": "monitored", "category": "marginal",
                                      "since": "2021-09-01"})
    steps = _by_step(policy.evaluate(monitored, "2021-11-30"))
    assert steps["monitoring_review"]["due"] == date(2021, 9, 8)
    assert steps["follow_up"]["due"] == date(2021, 9, 13)


@pytest.mark.parametrize("when", [
    "is_working_day(monitoring.since ?? as_of)",
    "working_days_between(monitoring.since ?? as_of, as_of) > 10",
    "next_working_day(monitoring.since) != null",
    "year(next_working_day(monitoring.since) ?? as_of) == 2027",
    "days_between((monitoring.since + 2 working_days) ?? as_of, as_of) > 3",
])
def test_a_step_asking_the_calendar_about_an_uncovered_year_is_unknown(tmp_path: Path,
                                                                      when: str) -> None:
    """A step whose own condition needs a working day of a year the calendar does not cover
    is `unknown`, the year named (it had rejected the household, failed the batch with an
    AttributeError, or read the unknown date as a date); the steps counted from it are unknown
    too, the household's other deadlines stand, and in a covered year it is decided."""
    policy = province_with_steps(tmp_path, f"""
  monitoring_review:
    title: {{zh: 测试, en: A review of a monitoring begun on a working day}}
    cite: §9
    when: '{when}'
    due: monitoring.since + 5 working_days
  follow_up:
    title: {{zh: 测试, en: A follow-up after the review}}
    cite: §9
    due: steps.monitoring_review + 3 working_days
""")
    late = household(monitoring={"status": "monitored", "category": "marginal",
                                 "since": "2027-03-01"})
    decision = policy.evaluate(late, "2021-09-01")
    steps = _by_step(decision)
    for name in ("monitoring_review", "follow_up"):
        assert steps[name]["status"] == "unknown" and steps[name]["due"] is None
        assert "does not cover 2027" in steps[name]["reason"]
    assert decision["in_range"] is False  # the household decided
    covered = household(monitoring={"status": "monitored", "category": "marginal",
                                    "since": "2021-03-01"})
    steps = _by_step(policy.evaluate(covered, "2021-09-01"))
    assert all(entry["status"] != "unknown" for entry in steps.values())
