"""Procedure deadlines of the Fujian policy on China's working-day calendar (§7, §8, §11, §14),
across the holiday periods of 2021-2026."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from fangpin_rules import Policy

from support import RECORDS_MD_HOUSEHOLD, household


def _case(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"case_id": "C-1", "household_id": "350181-0001",
                            "source": "hotline_12317", "received_on": "2021-09-30"}
    base.update(fields)
    return base


def _steps(fujian: Policy, as_of: str, **case: Any) -> dict[str, dict[str, Any]]:
    d = fujian.evaluate(RECORDS_MD_HOUSEHOLD, as_of=as_of, cases=[_case(**case)])
    return {e["step"]: e for e in d["deadlines"]}


def test_warning_on_the_last_working_day_before_national_day(fujian: Policy) -> None:
    # 2021-09-30 (Thu) is the last working day before 1-7 October; 9 October (Sat) is worked.
    steps = _steps(fujian, "2021-10-20", received_on="2021-09-30", assigned_on="2021-10-08")
    assert steps["summary"]["due"] == date(2021, 9, 30)
    assert steps["assignment"]["due"] == date(2021, 10, 8)
    assert steps["assignment"]["status"] == "on_time"
    # 5 working days after 8 October: 9 (make-up Sat), 11, 12, 13, 14
    assert steps["preliminary_review"]["due"] == date(2021, 10, 14)
    assert steps["preliminary_review"]["status"] == "overdue"
    assert steps["verification"]["due"] == date(2021, 11, 8)
    assert steps["verification"]["status"] == "pending"


def test_assignment_due_on_a_make_up_saturday(fujian: Policy) -> None:
    # Summary on Fri 2021-10-08: the next working day is Sat 2021-10-09, a make-up working day.
    steps = _steps(fujian, "2021-10-11", received_on="2021-10-08")
    assert steps["assignment"]["due"] == date(2021, 10, 9)
    assert steps["assignment"]["status"] == "overdue"
    # Done on Monday 11 October: one working day late.
    steps = _steps(fujian, "2021-10-11", received_on="2021-10-08", assigned_on="2021-10-11")
    assert steps["assignment"]["status"] == "late"
    assert steps["assignment"]["late_working_days"] == 1


def test_preliminary_review_late_by_working_days_across_a_weekend(fujian: Policy) -> None:
    # Assigned Mon 2023-03-06: due Mon 13 March; done Wed 15 March is 2 working days late.
    d = fujian.evaluate(RECORDS_MD_HOUSEHOLD, as_of="2023-03-20", cases=[_case(
        received_on="2023-03-03", assigned_on="2023-03-06",
        preliminary_review_on="2023-03-15")])
    review = next(e for e in d["deadlines"] if e["step"] == "preliminary_review")
    assert (review["due"], review["status"], review["late_working_days"]) == (
        date(2023, 3, 13), "late", 2)
    assert review in d["violations"]
    assert review["cite"] == "§7"


@pytest.mark.parametrize(("start", "end", "status"), [
    # Spring Festival 2022: 31 Jan - 6 Feb off, Sat 29 and Sun 30 Jan worked.
    ("2022-01-27", "2022-02-06", "too_short"),
    ("2022-01-27", "2022-02-07", "on_time"),
    # Starting on a rest day, counting begins on the next working day.
    ("2022-01-31", "2022-02-10", "too_short"),
    ("2022-01-31", "2022-02-11", "on_time"),
])
def test_public_notice_spanning_spring_festival(fujian: Policy, start: str, end: str,
                                               status: str) -> None:
    steps = _steps(fujian, "2022-03-01", received_on="2022-01-04",
                   publicity=[{"purpose": "identification", "start": start, "end": end}])
    notice = steps["publicity_identification"]
    assert notice["status"] == status
    assert notice["done"] == date.fromisoformat(end)


def test_too_short_notice_is_a_violation_citing_article_8(fujian: Policy) -> None:
    d = fujian.evaluate(RECORDS_MD_HOUSEHOLD, as_of="2022-03-01", cases=[_case(
        received_on="2022-01-04",
        publicity=[{"purpose": "measures", "start": "2022-01-27", "end": "2022-02-06"}])])
    (violation,) = [v for v in d["violations"] if v["step"] == "publicity_measures"]
    assert (violation["status"], violation["cite"]) == ("too_short", "§8")


@pytest.mark.parametrize(("assigned", "due"), [
    ("2023-01-31", date(2023, 2, 28)),   # month end clamps
    ("2023-03-31", date(2023, 5, 4)),    # clamps to Sun 30 April, in the Labour Day holiday
    ("2021-06-17", date(2021, 7, 19)),   # Sat 17 July moves to Monday
    ("2024-01-31", date(2024, 2, 29)),   # leap year
    ("2021-09-01", date(2021, 10, 8)),   # 1 October is in the National Day holiday
])
def test_one_month_verification(fujian: Policy, assigned: str, due: date) -> None:
    steps = _steps(fujian, assigned, received_on=assigned, assigned_on=assigned)
    assert steps["verification"]["due"] == due


def test_confirmation_before_the_notice_ends_is_too_early(fujian: Policy) -> None:
    steps = _steps(fujian, "2021-11-30", received_on="2021-10-11",
                   publicity=[{"purpose": "identification", "start": "2021-10-20",
                               "end": "2021-10-26"}],
                   commitment_signed_on="2021-10-19", confirmed_on="2021-10-25")
    assert steps["confirmation"]["status"] == "too_early"
    assert steps["commitment"]["status"] == "on_time"


def test_commitment_after_the_notice_started_is_late(fujian: Policy) -> None:
    steps = _steps(fujian, "2021-11-30", received_on="2021-10-11",
                   publicity=[{"purpose": "identification", "start": "2021-10-20"}],
                   commitment_signed_on="2021-10-22")
    assert (steps["commitment"]["status"], steps["commitment"]["late_working_days"]) == (
        "late", 2)


def test_a_home_visit_every_quarter_while_monitored(fujian: Policy) -> None:
    d = fujian.evaluate(RECORDS_MD_HOUSEHOLD, as_of="2022-05-10", cases=[_case(
        received_on="2021-09-01", confirmed_on="2021-10-28",
        visits=["2021-11-02", "2022-04-01"])])
    visits = {e["step"]: e for e in d["deadlines"] if e["step"].startswith("visit_")}
    assert list(visits) == ["visit_2021Q4", "visit_2022Q1", "visit_2022Q2"]
    assert visits["visit_2021Q4"]["status"] == "on_time"
    assert visits["visit_2022Q1"]["status"] == "overdue"
    assert visits["visit_2022Q1"]["due"] == date(2022, 3, 31)
    assert visits["visit_2022Q2"]["status"] == "on_time"
    assert [e["step"] for e in d["overdue"]].count("visit_2022Q1") == 1
    d = fujian.evaluate(RECORDS_MD_HOUSEHOLD, as_of="2022-05-10", cases=[_case(
        received_on="2021-09-01", confirmed_on="2021-10-28", visits=["2021-11-02"])])
    current = next(e for e in d["deadlines"] if e["step"] == "visit_2022Q2")
    assert current["status"] == "pending"


def test_dibao_grace_period_from_29_february(fujian: Policy) -> None:
    h = household(dibao={"enrolled": True, "income_above_standard_on": "2024-02-29"})
    d = fujian.evaluate(h, as_of="2025-03-01")
    assert d["dibao"]["grace_until"] == date(2025, 2, 27)
    (end,) = d["deadlines"]  # a household-level step: decided without a case
    assert (end["step"], end["due"], end["status"], end["cite"]) == (
        "dibao_grace_end", date(2025, 2, 27), "overdue", "§14")
    assert d["overdue"] == [end]


def test_dibao_grace_period_july(fujian: Policy) -> None:
    h = household(dibao={"enrolled": True, "income_above_standard_on": "2021-07-15"})
    d = fujian.evaluate(h, as_of="2021-09-01")
    assert d["dibao"]["grace_until"] == date(2022, 7, 14)
    assert d["deadlines"][0]["status"] == "pending"


def test_a_year_without_an_official_schedule_is_unknown_and_says_why(fujian: Policy) -> None:
    """Edition 2: the deadline alone is unknown, never a rejected household."""
    d = fujian.evaluate(RECORDS_MD_HOUSEHOLD, as_of="2027-03-10",
                        cases=[_case(received_on="2027-03-01")])
    assignment = next(e for e in d["deadlines"] if e["step"] == "assignment")
    assert assignment["status"] == "unknown" and assignment["due"] is None
    reason = assignment["reason"]
    assert "2027" in reason and "calendar: years: 2027:" in reason
    assert d["category"] == "unstable"


def test_several_cases_of_one_household(fujian: Policy) -> None:
    d = fujian.evaluate(RECORDS_MD_HOUSEHOLD, as_of="2021-10-20", cases=[
        _case(case_id="A", received_on="2021-09-30"),
        _case(case_id="B", received_on="2021-10-11")])
    summaries = [(e["case_id"], e["due"]) for e in d["deadlines"] if e["step"] == "summary"]
    assert summaries == [("A", date(2021, 9, 30)), ("B", date(2021, 10, 11))]


def test_without_cases_there_are_no_case_steps(fujian: Policy) -> None:
    d = fujian.evaluate(RECORDS_MD_HOUSEHOLD, as_of="2021-10-20")
    assert d["deadlines"] == [] and d["overdue"] == [] and d["violations"] == []


def test_what_happened_after_the_evaluation_date_has_not_happened_yet(fujian: Policy) -> None:
    record = dict(received_on="2021-09-30", assigned_on="2021-10-08",
                  preliminary_review_on="2021-10-12", verified_on="2021-11-03",
                  publicity=[{"purpose": "identification", "start": "2021-10-20",
                              "end": "2021-10-26"}],
                  confirmed_on="2021-10-28", visits=["2021-11-02"])
    early = _steps(fujian, "2021-10-22", **record)
    assert early["preliminary_review"]["status"] == "on_time"
    assert early["verification"]["done"] is None
    assert early["verification"]["status"] == "pending"
    assert early["publicity_identification"]["status"] == "pending"  # still posted
    assert early["confirmation"]["done"] is None
    late = _steps(fujian, "2021-11-10", **record)
    assert late["verification"]["done"] == date(2021, 11, 3)
    assert late["publicity_identification"]["status"] == "on_time"
    assert late["visit_2021Q4"]["status"] == "on_time"
    assert _steps(fujian, "2021-10-30", **record)["visit_2021Q4"]["status"] == "pending"


def test_the_records_md_deadline_example(fujian: Policy) -> None:
    # records.md: the case of 2021-09-30, assigned on 2021-10-01 (a holiday): the review is due
    # 2021-10-14 and, not done, overdue. An act on a rest day counts from the next working day.
    case = {"case_id": "W-2021-0930-01", "household_id": "350181-0001",
            "source": "hotline_12317", "received_on": "2021-09-30", "assigned_on": "2021-10-01",
            "preliminary_review_on": None, "verified_on": None, "commitment_signed_on": None,
            "publicity": [{"purpose": "identification", "start": "2021-10-20",
                           "end": "2021-10-26"}],
            "confirmed_on": None, "visits": ["2021-11-02"]}
    d = fujian.evaluate(RECORDS_MD_HOUSEHOLD, as_of="2021-11-15", cases=[case])
    review = next(e for e in d["deadlines"] if e["step"] == "preliminary_review")
    assert {k: review[k] for k in ("step", "due", "done", "status", "late_working_days",
                                   "cite")} == {
        "step": "preliminary_review", "due": date(2021, 10, 14), "done": None,
        "status": "overdue", "late_working_days": None, "cite": "§7"}
    assert [e["step"] for e in d["deadlines"]][:9] == [
        "summary", "assignment", "preliminary_review", "verification", "commitment",
        "publicity_identification", "publicity_measures", "publicity_risk_elimination",
        "confirmation"]


def test_decisions_with_deadlines_validate_against_the_contract(fujian: Policy) -> None:
    from fangpin_rules.model import Decision

    d = fujian.evaluate(RECORDS_MD_HOUSEHOLD, as_of="2021-11-30", cases=[_case(
        received_on="2021-10-11", assigned_on="2021-10-15",
        publicity=[{"purpose": "identification", "start": "2021-10-20", "end": "2021-10-22"}],
        confirmed_on="2021-10-21", visits=["2021-11-02"])])
    model = Decision.model_validate(d)
    statuses = {e.status for e in model.deadlines}
    assert {"late", "too_short", "too_early", "not_started", "on_time"} <= statuses
    assert all(e.case_id == "C-1" for e in model.deadlines)
    assert {e.step for e in model.violations} >= {"assignment", "publicity_identification",
                                                  "confirmation"}
