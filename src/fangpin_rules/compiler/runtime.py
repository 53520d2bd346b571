"""Helpers the generated code calls: the only functions a policy can reach at run time."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from dateutil.relativedelta import relativedelta

from fangpin_rules.calendar import CalendarCoverageError, quarters_between
from fangpin_rules.language.values import DurationValue


def age(birth: date | None, as_of: date) -> int | None:
    """Whole years completed on `as_of` (a Feb 29 birthday completes on Mar 1 in common years)."""
    if birth is None:
        return None
    years = as_of.year - birth.year
    if (as_of.month, as_of.day) < (birth.month, birth.day):
        years -= 1
    return years


def min2(a: Any, b: Any) -> Any:
    return a if a <= b else b


def max2(a: Any, b: Any) -> Any:
    return a if a >= b else b


def abs_(a: Any) -> Any:
    return -a if a < 0 else a


def round_half_up(value: Any, places: int = 0) -> Any:
    if isinstance(value, int):
        return value
    return value.quantize(Decimal(1).scaleb(-int(places)), rounding=ROUND_HALF_UP)


def count(items: Any) -> int:
    return len(items)


def days_between(a: date, b: date) -> int:
    return (b - a).days


def year(d: date) -> int:
    return d.year


def month(d: date) -> int:
    return d.month


def to_decimal(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(value)


class Uncovered:
    """A procedure date the working-day calendar cannot give: its year has no schedule. It
    carries the reason (naming the year) to the deadline entry, whose status is `unknown`;
    a step counted from it is unknown too."""

    __slots__ = ("reason", "year")

    def __init__(self, year: int, reason: str) -> None:
        self.year, self.reason = year, reason

    # An unknown date is before or after no date, as null is: a step's condition comparing
    # it is false, and the household is still decided (docs/calendar.md).
    def __lt__(self, other: object) -> bool:
        return False

    __le__ = __gt__ = __ge__ = __lt__


UNCOVERED_REASON = ("the working-day calendar does not cover {year} (add the State Council's "
                    "{year} schedule under `calendar: years: {year}:` in the policy file)")


def known_date(d: Any) -> Any:
    """A step's date read off the path of a due date (compiler/procedure.py): an unknown one
    reads as missing."""
    return None if type(d) is Uncovered else d


def given_date(d: Any) -> Any:
    """A working day a step's expression needs off its due date's path: one the calendar
    cannot give makes the step unknown (CalendarCoverageError, caught around the step)."""
    if type(d) is Uncovered:
        raise CalendarCoverageError(d.year, d.reason)
    return d


# What a step's working-day question the calendar cannot answer raises: caught around the step
coverage_error = CalendarCoverageError


def uncovered(error: CalendarCoverageError) -> Uncovered:
    """The date of a step that asked the calendar about a year it does not cover."""
    return Uncovered(error.year, uncovered_reason(error.year))


def uncovered_reason(year: int) -> str:
    return UNCOVERED_REASON.format(year=year)


class ProcedureCalendar:
    """The calendar as the procedure's steps read it: a year it does not cover makes that
    deadline unknown (an `Uncovered` date) instead of failing the household."""

    def __init__(self, calendar: Any) -> None:
        self.calendar = calendar

    def add_working_days(self, day: date, n: int) -> date | Uncovered:
        try:
            result: date = self.calendar.add_working_days(day, n)
        except CalendarCoverageError as exc:
            return uncovered(exc)
        return result

    def next_working_day(self, day: date) -> date | Uncovered:
        return self.add_working_days(day, 0)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.calendar, name)


def procedure_calendar(calendar: Any) -> Any:
    return None if calendar is None else ProcedureCalendar(calendar)


def add_duration(d: Any, duration: DurationValue, sign: int = 1,
                 calendar: Any = None) -> Any:
    """Calendar arithmetic: months, quarters and years clamp to the month's end; N working days
    is the Nth working day after the date; an unknown date stays unknown (and an uncovered one
    uncovered)."""
    if d is None or type(d) is Uncovered:
        return d
    n = duration.amount * sign
    unit = duration.unit
    if unit == "days":
        return d + timedelta(days=n)
    if unit == "months":
        return d + relativedelta(months=n)
    if unit == "quarters":
        return d + relativedelta(months=3 * n)
    if unit == "years":
        return d + relativedelta(years=n)
    if calendar is None:
        raise EvaluationError("working-day arithmetic needs the policy's calendar")
    return calendar.add_working_days(d, n)


def next_working_day(d: Any, calendar: Any) -> Any:
    if d is None or type(d) is Uncovered:
        return d
    return calendar.next_working_day(d)


def is_working_day(d: date, calendar: Any) -> bool:
    return bool(calendar.is_working_day(d))


def working_days_between(a: date, b: date, calendar: Any) -> int:
    return int(calendar.working_days_between(a, b))


class EvaluationError(Exception):
    """A record that the policy cannot decide (its reason names the definition)."""


def known_by(done: date | None, as_of: date) -> date | None:
    """A step's date as known on `as_of`: a date after it has not happened yet."""
    return done if done is None or done <= as_of else None


def step_entry(name: str, kind: str, due: Any, done: date | None, as_of: date,
               calendar: Any, cite: str, case_id: str | None,
               required_by: date | None = None) -> dict[str, Any]:
    """A deadline entry of the decision record (records.md, "Deadlines"). `required_by`: the
    day a notice must have ended by (the marking it precedes), else `no_notice`."""
    late: int | None = None
    reason: str | None = None
    if type(due) is Uncovered:
        reason, due, status = due.reason, None, "unknown"
    elif kind == "notice" and required_by is not None and (done is None or done > required_by):
        status = "no_notice"
    elif kind == "notice" and done is None:  # no deadline of its own: never overdue
        status, due = "not_started", None
    elif kind in ("minimum_period", "notice"):  # a public notice: `due` is the earliest end
        status = "pending" if done is None or due is None else (
            "too_short" if done < due else "on_time")
    elif kind == "not_before":
        status = "pending" if done is None else (
            "too_early" if due is not None and done < due else "on_time")
    elif done is None:
        status = "overdue" if due is not None and as_of > due else "pending"
    elif due is not None and done > due:
        status = "late"
        try:
            late = int(calendar.working_days_between(due, done))
        except CalendarCoverageError as exc:  # late for sure; by how much the calendar cannot say
            reason = uncovered_reason(exc.year)
    else:
        status = "on_time"
    entry = {"step": name, "due": due, "done": done, "status": status,
             "late_working_days": late, "cite": cite, "case_id": case_id}
    if reason is not None:
        entry["reason"] = reason
    return entry


def quarterly_entries(name: str, start: date | None, done: list[date], as_of: date,
                      cite: str, case_id: str | None, until: date | None = None
                      ) -> list[dict[str, Any]]:
    """One entry per calendar quarter from `start`'s through `as_of`'s (or `until`'s, when
    that is earlier: the duty ends with it): done when some date (known by `as_of`) falls in
    it, overdue once the quarter has ended without one."""
    if start is None or start > as_of:
        return []
    end = as_of if until is None or until > as_of else until
    if end < start:
        return []
    entries = []
    for quarter in quarters_between(start, end):
        in_quarter = sorted(d for d in done if d in quarter and d <= as_of)
        when = in_quarter[0] if in_quarter else None
        status = "on_time" if when else ("overdue" if as_of > quarter.last_day else "pending")
        entries.append({"step": f"{name}_{quarter.label}", "due": quarter.last_day,
                        "done": when, "status": status, "late_working_days": None,
                        "cite": cite, "case_id": case_id})
    return entries


indexed = enumerate  # (index, item) of a record's list, for the warning rules that walk it


def indexed_warning(code: str, prefix: str, index: int, suffix: str, cite: str
                    ) -> dict[str, Any]:
    """A warning about one item of a list: `members[2].labour_capacity`."""
    return {"code": code, "field": f"{prefix}[{index}]{suffix}", "cite": cite}
