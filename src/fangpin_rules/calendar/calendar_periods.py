"""Calendar periods: days, weeks, months, quarters and half-years.

A duty owed once a period (the policy file's `duties:`, e.g. §7's daily summary and weekly
verification, §5's monthly screening) or a visit owed every calendar quarter (§11) is counted in
these periods. A date's *current period* is the one containing it, labelled ``2021-10-08``
(day), ``2021-W40`` (ISO week, Monday to Sunday), ``2021-10`` (month), ``2021Q4`` (quarter) or
``2021H2`` (half-year); it ends on the period's last calendar day.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

__all__ = [
    "CalendarPeriod",
    "Frequency",
    "parse_period",
    "period_containing",
    "periods_between",
    "quarter_of",
    "quarters_between",
]


class Frequency(StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    HALF_YEARLY = "half_yearly"


_MONTHS_PER_PERIOD = {Frequency.MONTHLY: 1, Frequency.QUARTERLY: 3, Frequency.HALF_YEARLY: 6}


@dataclass(frozen=True)
class CalendarPeriod:
    """A calendar month, quarter or half-year: ``label`` and its first and last days."""

    label: str
    first_day: date
    last_day: date

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.first_day <= day <= self.last_day


def period_containing(day: date, frequency: Frequency) -> CalendarPeriod:
    """The calendar day, ISO week, month, quarter or half-year that contains ``day``."""
    if frequency is Frequency.DAILY:
        return CalendarPeriod(day.isoformat(), day, day)
    if frequency is Frequency.WEEKLY:
        monday = day - timedelta(days=day.weekday())
        year, week, _ = day.isocalendar()
        return CalendarPeriod(f"{year}-W{week:02d}", monday, monday + timedelta(days=6))
    length = _MONTHS_PER_PERIOD[frequency]
    index = (day.month - 1) // length  # 0-based period number within the year
    first_month = index * length + 1
    first_day = date(day.year, first_month, 1)
    if first_month + length > 12:
        last_day = date(day.year, 12, 31)
    else:
        last_day = date(day.year, first_month + length, 1) - timedelta(days=1)
    if frequency is Frequency.MONTHLY:
        label = f"{day.year}-{day.month:02d}"
    elif frequency is Frequency.QUARTERLY:
        label = f"{day.year}Q{index + 1}"
    else:
        label = f"{day.year}H{index + 1}"
    return CalendarPeriod(label, first_day, last_day)


def quarter_of(day: date) -> str:
    """The calendar quarter of ``day``: ``2021-10-08`` -> ``"2021Q4"``."""
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def quarters_between(start: date, end: date) -> tuple[CalendarPeriod, ...]:
    """The calendar quarters that ``[start, end]`` touches, both days included, in order;
    empty when ``end`` is before ``start``."""
    quarters: list[CalendarPeriod] = []
    day = start
    while day <= end:  # one step a quarter, not a day
        quarter = period_containing(day, Frequency.QUARTERLY)
        quarters.append(quarter)
        day = quarter.last_day + timedelta(days=1)
    return tuple(quarters)


_LABELS = {
    Frequency.DAILY: re.compile(r"(\d{4})-(\d{2})-(\d{2})"),
    Frequency.WEEKLY: re.compile(r"(\d{4})-W(\d{2})"),
    Frequency.MONTHLY: re.compile(r"(\d{4})-(\d{2})"),
    Frequency.QUARTERLY: re.compile(r"(\d{4})Q([1-4])"),
    Frequency.HALF_YEARLY: re.compile(r"(\d{4})H([12])"),
}
_LABEL_EXAMPLES = {Frequency.DAILY: "2021-10-08", Frequency.WEEKLY: "2021-W40",
                   Frequency.MONTHLY: "2021-10", Frequency.QUARTERLY: "2021Q4",
                   Frequency.HALF_YEARLY: "2021H2"}


def parse_period(label: str, frequency: Frequency) -> CalendarPeriod:
    """The period a label names (the inverse of :func:`period_containing`'s ``label``);
    ValueError, saying the form expected, for a label that is not one of ``frequency``."""
    match = _LABELS[frequency].fullmatch(label)
    expected = (f"a {frequency.value} period is written like "
                f"{_LABEL_EXAMPLES[frequency]}")
    if match is None:
        raise ValueError(expected)
    numbers = [int(group) for group in match.groups()]
    try:
        if frequency is Frequency.DAILY:
            first = date(numbers[0], numbers[1], numbers[2])
        elif frequency is Frequency.WEEKLY:
            first = date.fromisocalendar(numbers[0], numbers[1], 1)
        elif frequency is Frequency.MONTHLY:
            first = date(numbers[0], numbers[1], 1)
        else:
            months = _MONTHS_PER_PERIOD[frequency]
            first = date(numbers[0], (numbers[1] - 1) * months + 1, 1)
    except ValueError:
        raise ValueError(f"no such {frequency.value} period; {expected}") from None
    return period_containing(first, frequency)


def periods_between(start: date, end: date, frequency: Frequency) -> tuple[CalendarPeriod, ...]:
    """The periods of ``frequency`` that ``[start, end]`` touches, in order; empty when ``end``
    is before ``start``."""
    periods: list[CalendarPeriod] = []
    day = start
    while day <= end:
        period = period_containing(day, frequency)
        periods.append(period)
        day = period.last_day + timedelta(days=1)
    return tuple(periods)
