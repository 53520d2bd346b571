"""The policy file expresses the procedure's periods in the language (`steps.summary +
1 working_day`, `start - 1 day + public_notice_period`, …). `fangpin_rules.calendar.periods`
implements the same rules of the Civil Code and the document directly. For every day of
2021-2026 both must agree: a check of the policy's encoding against an independent one."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from fangpin_rules import Policy
from fangpin_rules.calendar import (
    WorkingDayCalendar,
    assignment_due,
    due_within_months,
    due_within_working_days,
    grace_period_last_day,
    notice_earliest_end,
)

from support import RECORDS_MD_HOUSEHOLD

CALENDAR = WorkingDayCalendar()
FIRST, LAST = date(2021, 6, 4), date(2026, 10, 31)


def _days(step: int) -> list[date]:
    return [FIRST + timedelta(days=i) for i in range(0, (LAST - FIRST).days, step)]


@pytest.mark.parametrize("year", [2021, 2022, 2023, 2024, 2025, 2026])
def test_procedure_dates_agree_with_the_period_rules(fujian: Policy, year: int) -> None:
    evaluator = fujian.evaluator(date(2026, 12, 31))
    from fangpin_rules.model import Case, Household

    household = Household.model_validate(RECORDS_MD_HOUSEHOLD)
    disagreements = []
    for day in (d for d in _days(1) if d.year == year):
        case = Case.model_validate({
            "case_id": "C", "household_id": household.household_id, "source": "media",
            "received_on": day, "publicity": [
                {"purpose": "identification", "start": day, "end": None}]})
        due = {e["step"]: e["due"] for e in evaluator(household, case)["deadlines"]}
        assigned = assignment_due(CALENDAR, day)
        expected = {
            "assignment": assigned,
            "preliminary_review": due_within_working_days(CALENDAR, assigned, 5),
            "verification": due_within_months(CALENDAR, assigned, 1),
            "publicity_identification": notice_earliest_end(CALENDAR, day, 5),
        }
        for step, want in expected.items():
            if due[step] != want:
                disagreements.append((day, step, due[step], want))
    assert not disagreements, disagreements[:5]


def test_grace_period_agrees_for_every_day(fujian: Policy) -> None:
    from fangpin_rules.model import Household

    evaluator = fujian.evaluator(date(2026, 12, 31))
    for day in _days(3):
        h = Household.model_validate({
            **RECORDS_MD_HOUSEHOLD,
            "dibao": {"enrolled": True, "income_above_standard_on": day}})
        assert evaluator(h)["dibao"]["grace_until"] == grace_period_last_day(day), day
