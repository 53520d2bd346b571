"""Working days and periods of the mainland China calendar (see ``docs/calendar.md``).

Working days (:mod:`.working_days`)::

    cal = WorkingDayCalendar()                      # official schedules from `holidays`
    cal = WorkingDayCalendar(CalendarOverrides.from_policy_years(policy["calendar"]["years"]))
    cal = WorkingDayCalendar.with_overrides(rest_days=..., working_days=..., covered_years=...)
    cal.covered_years -> frozenset[int]
    cal.is_working_day(d) -> bool
    cal.next_working_day(d) -> date                 # first working day on or after d
    cal.previous_working_day(d) -> date             # last working day on or before d
    cal.add_working_days(d, n) -> date              # n-th working day strictly after d (n > 0)
    cal.working_days_between(a, b) -> int           # working days in (a, b]
    official_schedule_years() -> frozenset[int]     # years `holidays` has a notice for

A date in a year without a schedule raises :class:`CalendarCoverageError` (a
:class:`CalendarError`, itself a ``ValueError``).

Periods of the procedure (:mod:`.periods`; Civil Code arts. 201-203)::

    add_months(d, n) -> date                        # month-end clamped
    assignment_due(cal, summary_day) -> date        # §7 次日交办
    due_within_working_days(cal, event, n) -> date  # §7 5个工作日内
    due_within_months(cal, event, n) -> date        # §7 1个月内
    notice_earliest_end(cal, start, n) -> date      # §8 公示不少于5个工作日
    grace_period_last_day(start, months=12) -> date # §14 延保渐退期
    working_days_late(cal, due, done) -> int

Calendar periods (:mod:`.calendar_periods`; the policy's duties and quarterly visits)::

    period_containing(d, Frequency.QUARTERLY) -> CalendarPeriod
    quarter_of(d) -> "2021Q4"; quarters_between(a, b) -> tuple[CalendarPeriod, ...]
    parse_period("2021-W40", Frequency.WEEKLY); periods_between(a, b, Frequency.DAILY)
"""

from fangpin_rules.calendar.calendar_periods import (
    CalendarPeriod,
    Frequency,
    parse_period,
    period_containing,
    periods_between,
    quarter_of,
    quarters_between,
)
from fangpin_rules.calendar.periods import (
    add_months,
    assignment_due,
    due_within_months,
    due_within_working_days,
    grace_period_last_day,
    notice_earliest_end,
    working_days_late,
)
from fangpin_rules.calendar.working_days import (
    FIRST_NOTICE_YEAR,
    CalendarCoverageError,
    CalendarError,
    CalendarOverrides,
    WorkingDayCalendar,
    official_schedule_years,
)

__all__ = [
    "FIRST_NOTICE_YEAR",
    "CalendarCoverageError",
    "CalendarError",
    "CalendarOverrides",
    "CalendarPeriod",
    "Frequency",
    "WorkingDayCalendar",
    "add_months",
    "assignment_due",
    "due_within_months",
    "due_within_working_days",
    "grace_period_last_day",
    "notice_earliest_end",
    "official_schedule_years",
    "parse_period",
    "period_containing",
    "periods_between",
    "quarter_of",
    "quarters_between",
    "working_days_late",
]
