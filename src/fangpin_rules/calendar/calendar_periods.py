"""Calendar periods: months, quarters and half-years.

A duty owed once a period (the policy file's `duties:`, e.g. §5's monthly screening) or a visit
owed every calendar quarter (§11) is counted in these periods. A date's *current period* is the
one containing it, labelled ``2021-10`` (month), ``2021Q4`` (quarter) or ``2021H2``
(half-year); it ends on the period's last calendar day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

__all__ = [
    "CalendarPeriod",
    "Frequency",
    "period_containing",
    "quarter_of",
    "quarters_between",
]


class Frequency(StrEnum):
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
    """The calendar month, quarter or half-year that contains ``day``."""
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
