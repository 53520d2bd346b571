"""Procedure periods of the Fujian 2021 measures (reference items 7 and 11), as date rules.

The measures give periods in working days and in months; the PRC Civil Code says how a period is
counted (art. 201: a period counted in days, months or years starts on the day after the event;
art. 202: a period of months ends on the corresponding day of the last month, or that month's
last day when it has no corresponding day; art. 203: a period whose last day is a statutory rest
day ends on the day after the rest days, that is, on the next working day).

- :func:`add_months`: calendar month arithmetic, clamped to the month's end.
- :func:`assignment_due` (§7 次日交办): the next working day after the daily summary.
- :func:`due_within_working_days` (§7 "5个工作日内"): the n-th working day after the event.
- :func:`due_within_months` (§7 "1个月内"): the same day n months later (clamped), moved to the
  next working day when that is a rest day.
- :func:`notice_earliest_end` (§8 公示 "不少于5个工作日"): the n-th working day of the notice,
  counting its first day when that is a working day.
- :func:`grace_period_last_day` (§14 12个月延保渐退期): the last day a grace period of n months
  from a date covers.
- :func:`working_days_late`: how many working days after its due date a step was done.

The calendar is passed in, so a policy's calendar overrides apply.
"""

from __future__ import annotations

from calendar import monthrange
from datetime import date, timedelta

from fangpin_rules.calendar.working_days import WorkingDayCalendar

__all__ = [
    "add_months",
    "assignment_due",
    "due_within_months",
    "due_within_working_days",
    "grace_period_last_day",
    "notice_earliest_end",
    "working_days_late",
]


def add_months(day: date, months: int) -> date:
    """The same day ``months`` calendar months later (earlier when negative), clamped to the end
    of the target month: 2021-01-31 + 1 -> 2021-02-28; 2024-02-29 + 12 -> 2025-02-28."""
    month_index = day.year * 12 + (day.month - 1) + months
    year, month0 = divmod(month_index, 12)
    last_day = monthrange(year, month0 + 1)[1]
    return date(year, month0 + 1, min(day.day, last_day))


def _require_positive(count: int, what: str) -> None:
    if count < 1:
        raise ValueError(f"{what} must be at least 1, not {count}")


def assignment_due(calendar: WorkingDayCalendar, summary_day: date) -> date:
    """§7 "每天汇总一次信息，次日交办": the next working day after the summary day.

    "次日" (the next day) is read as the next *working* day, the offices being closed on rest
    days (reference item 11, interpretation).
    """
    return calendar.add_working_days(summary_day, 1)


def due_within_working_days(calendar: WorkingDayCalendar, event: date, working_days: int) -> date:
    """Due day of a period "within N working days" after ``event``: the N-th working day after
    the event date (art. 201: the period starts the day after the event). §7: the township's
    preliminary review, within 5 working days after the assignment."""
    _require_positive(working_days, "a period of working days")
    return calendar.add_working_days(event, working_days)


def due_within_months(calendar: WorkingDayCalendar, event: date, months: int) -> date:
    """Due day of a period "within N months" after ``event``: the same day N months later,
    clamped to the month's end (art. 202), then the next working day when that day is a rest
    day (art. 203). §7: verification, within 1 month after the assignment."""
    _require_positive(months, "a period of months")
    return calendar.next_working_day(add_months(event, months))


def notice_earliest_end(calendar: WorkingDayCalendar, start: date, working_days: int) -> date:
    """The earliest day a public notice of at least ``working_days`` working days starting on
    ``start`` may end (§8 公示 "不少于5个工作日"): its N-th working day, the first day counted
    when it is a working day; a notice posted on a rest day counts from the next working day."""
    _require_positive(working_days, "a public notice")
    return calendar.add_working_days(calendar.next_working_day(start), working_days - 1)


def grace_period_last_day(start: date, months: int = 12) -> date:
    """The last day covered by a grace period of ``months`` months beginning on ``start``
    (§14 dibao 延保渐退期, reference item 7): the day before the same date ``months`` later,
    month ends clamped. 2021-07-15 -> 2022-07-14; 2024-02-29 -> 2025-02-27. Calendar days, not
    working days: the household keeps its dibao on every day of the period."""
    _require_positive(months, "a grace period")
    return add_months(start, months) - timedelta(days=1)


def working_days_late(calendar: WorkingDayCalendar, due: date, done: date) -> int:
    """Working days in ``(due, done]`` for a step done after its due date, 0 when done on or
    before it. A step done on a rest day just after its due date is late by 0 working days: it
    is still late (done after due), the count says only how many working days were lost."""
    if done <= due:
        return 0
    return calendar.working_days_between(due, done)
