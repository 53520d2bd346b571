"""Procedure periods (reference items 7 and 11) and periodic duties (item 12) on real calendars."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from itertools import pairwise

import pytest

from fangpin_rules.calendar import (
    CalendarPeriod,
    Frequency,
    WorkingDayCalendar,
    add_months,
    assignment_due,
    due_within_months,
    due_within_working_days,
    grace_period_last_day,
    notice_earliest_end,
    period_containing,
    quarter_of,
    quarters_between,
    working_days_late,
)

D = date.fromisoformat


@pytest.fixture(scope="module")
def cal() -> WorkingDayCalendar:
    return WorkingDayCalendar()


# Month arithmetic -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        ("2021-01-31", 1, "2021-02-28"),
        ("2024-01-31", 1, "2024-02-29"),
        ("2024-02-29", 12, "2025-02-28"),
        ("2024-02-29", 48, "2028-02-29"),
        ("2021-03-31", 1, "2021-04-30"),
        ("2021-12-15", 1, "2022-01-15"),
        ("2021-03-31", -1, "2021-02-28"),
        ("2022-01-15", -1, "2021-12-15"),
        ("2021-07-15", 0, "2021-07-15"),
        ("2021-08-31", 18, "2023-02-28"),
    ],
)
def test_add_months_clamps_to_the_month_end(start: str, months: int, expected: str) -> None:
    assert add_months(D(start), months) == D(expected)


# §7: summary, assignment, preliminary review, verification --------------------------------------


def test_warning_on_the_last_working_day_before_national_day(cal: WorkingDayCalendar) -> None:
    """records.md's case: received Thursday 2021-09-30; 1-7 October off, 9 October worked."""
    assigned = assignment_due(cal, D("2021-09-30"))
    assert assigned == D("2021-10-08")
    assert due_within_working_days(cal, assigned, 5) == D("2021-10-14")
    assert due_within_months(cal, assigned, 1) == D("2021-11-08")


def test_assignment_on_a_make_up_saturday(cal: WorkingDayCalendar) -> None:
    """2021-09-18 (Saturday) was worked for the Mid-Autumn holiday of 19-21 September."""
    assigned = assignment_due(cal, D("2021-09-17"))
    assert assigned == D("2021-09-18")
    # 22, 23, 24, then Sunday the 26th (worked for National Day), then the 27th.
    assert due_within_working_days(cal, assigned, 5) == D("2021-09-27")


def test_assignment_after_an_ordinary_friday_is_monday(cal: WorkingDayCalendar) -> None:
    assert assignment_due(cal, D("2021-10-15")) == D("2021-10-18")
    assert assignment_due(cal, D("2021-10-16")) == D("2021-10-18")


def test_a_period_of_months_ending_on_a_rest_day_ends_on_the_next_working_day(
    cal: WorkingDayCalendar,
) -> None:
    assert due_within_months(cal, D("2021-01-31"), 1) == D("2021-03-01")  # 28 Feb a Sunday
    assert due_within_months(cal, D("2024-01-31"), 1) == D("2024-02-29")  # a Thursday
    assert due_within_months(cal, D("2021-09-01"), 1) == D("2021-10-08")  # National Day
    assert due_within_months(cal, D("2022-09-30"), 1) == D("2022-10-31")  # 30 Oct a Sunday
    assert due_within_months(cal, D("2021-09-15"), 1) == D("2021-10-15")  # a Friday


def test_periods_must_be_at_least_one_unit(cal: WorkingDayCalendar) -> None:
    calls: list[Callable[[], date]] = [
        lambda: due_within_working_days(cal, D("2021-10-08"), 0),
        lambda: due_within_months(cal, D("2021-10-08"), 0),
        lambda: notice_earliest_end(cal, D("2021-10-08"), 0),
        lambda: grace_period_last_day(D("2021-10-08"), 0),
    ]
    for call in calls:
        with pytest.raises(ValueError, match="at least 1"):
            call()


# §8: public notice ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "earliest_end"),
    [
        ("2021-02-08", "2021-02-19"),  # Mon: 8, 9, 10, (11-17 Spring Festival), 18, 19
        ("2021-02-07", "2021-02-18"),  # the make-up Sunday counts as the first day
        ("2021-02-13", "2021-02-23"),  # posted during the holiday: 18, 19, Sat 20, 22, 23
        ("2021-10-18", "2021-10-22"),  # an ordinary Monday to Friday
        ("2021-10-23", "2021-10-29"),  # posted on a Saturday: counts from Monday
        ("2021-10-20", "2021-10-26"),  # records.md's identification notice
    ],
)
def test_public_notice_earliest_end(cal: WorkingDayCalendar, start: str, earliest_end: str) -> None:
    assert notice_earliest_end(cal, D(start), 5) == D(earliest_end)


def test_a_notice_ending_a_day_early_is_too_short(cal: WorkingDayCalendar) -> None:
    earliest = notice_earliest_end(cal, D("2021-02-08"), 5)
    assert cal.working_days_between(D("2021-02-08") - timedelta(days=1), earliest) == 5
    assert cal.working_days_between(D("2021-02-07"), D("2021-02-18")) == 4


# §14: dibao grace period ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("found_above", "months", "last_day"),
    [
        ("2021-07-15", 12, "2022-07-14"),
        ("2024-02-29", 12, "2025-02-27"),
        ("2021-01-31", 1, "2021-02-27"),
        ("2021-03-01", 12, "2022-02-28"),
        ("2021-07-15", 6, "2022-01-14"),
    ],
)
def test_grace_period_last_day(found_above: str, months: int, last_day: str) -> None:
    assert grace_period_last_day(D(found_above), months) == D(last_day)


def test_grace_period_is_twelve_months_by_default() -> None:
    assert grace_period_last_day(D("2021-07-15")) == D("2022-07-14")


# Lateness ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("due", "done", "late"),
    [
        ("2021-09-30", "2021-09-29", 0),
        ("2021-09-30", "2021-09-30", 0),
        ("2021-09-30", "2021-10-08", 1),
        ("2021-09-30", "2021-10-09", 2),  # the make-up Saturday counts
        ("2021-09-30", "2021-10-02", 0),  # after the due date, but no working day lost
        ("2021-10-08", "2021-10-11", 2),
        ("2021-10-14", "2021-11-08", 17),
    ],
)
def test_working_days_late(cal: WorkingDayCalendar, due: str, done: str, late: int) -> None:
    assert working_days_late(cal, D(due), D(done)) == late


# Calendar periods and periodic duties -----------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "quarter"),
    [
        ("2021-01-01", "2021Q1"),
        ("2021-03-31", "2021Q1"),
        ("2021-04-01", "2021Q2"),
        ("2021-09-30", "2021Q3"),
        ("2021-10-08", "2021Q4"),
        ("2021-12-31", "2021Q4"),
    ],
)
def test_quarter_of(day: str, quarter: str) -> None:
    assert quarter_of(D(day)) == quarter


def test_quarters_between() -> None:
    quarters = quarters_between(D("2021-09-30"), D("2022-01-05"))
    assert quarters == (
        CalendarPeriod("2021Q3", D("2021-07-01"), D("2021-09-30")),
        CalendarPeriod("2021Q4", D("2021-10-01"), D("2021-12-31")),
        CalendarPeriod("2022Q1", D("2022-01-01"), D("2022-03-31")),
    )
    assert [q.label for q in quarters_between(D("2021-10-01"), D("2021-12-31"))] == ["2021Q4"]
    assert [q.label for q in quarters_between(D("2021-12-31"), D("2022-01-01"))] == [
        "2021Q4",
        "2022Q1",
    ]
    assert quarters_between(D("2021-10-08"), D("2021-10-08"))[0].label == "2021Q4"
    assert quarters_between(D("2021-10-08"), D("2021-10-07")) == ()
    assert len(quarters_between(D("2021-06-04"), D("2026-06-03"))) == 21


def test_periods_of_a_year_tile_it_without_gaps() -> None:
    for frequency, labels in (
        (Frequency.MONTHLY, [f"2024-{m:02d}" for m in range(1, 13)]),
        (Frequency.QUARTERLY, ["2024Q1", "2024Q2", "2024Q3", "2024Q4"]),
        (Frequency.HALF_YEARLY, ["2024H1", "2024H2"]),
    ):
        periods: list[CalendarPeriod] = []
        day = date(2024, 1, 1)
        while day.year == 2024:
            period = period_containing(day, frequency)
            assert day in period
            if not periods or periods[-1] != period:
                periods.append(period)
            day += timedelta(days=1)
        assert [p.label for p in periods] == labels
        assert periods[0].first_day == date(2024, 1, 1)
        assert periods[-1].last_day == date(2024, 12, 31)
        for earlier, later in pairwise(periods):
            assert later.first_day == earlier.last_day + timedelta(days=1)
