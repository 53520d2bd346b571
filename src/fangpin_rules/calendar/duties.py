"""Periodic duties of the Fujian 2021 measures (reference item 12) and calendar periods.

A periodic duty is done once in every calendar month, quarter or half-year; a date's *current
period* is the one containing it, labelled ``2021-10`` (month), ``2021Q4`` (quarter) or ``2021H2``
(half-year), and it ends on the period's last calendar day.

- :data:`PERIODIC_DUTIES`: the seven duties of §5, §6, §11 and §16.
- :func:`current_duty_periods`: each duty's current period on a date.
- :func:`period_containing`, :func:`quarter_of`, :func:`quarters_between`: calendar periods (the
  cadre's quarterly home visit, §11, is owed in every calendar quarter while monitored).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

__all__ = [
    "PERIODIC_DUTIES",
    "CalendarPeriod",
    "DutyPeriod",
    "Frequency",
    "PeriodicDuty",
    "current_duty_periods",
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


@dataclass(frozen=True)
class PeriodicDuty:
    """A duty owed once a period: its id, titles, article and the document's words."""

    id: str
    title_zh: str
    title_en: str
    cite: str
    frequency: Frequency
    text: str


PERIODIC_DUTIES: tuple[PeriodicDuty, ...] = (
    PeriodicDuty(
        "routine_screening",
        "常态化摸排",
        "routine screening by village and township staff",
        "§5",
        Frequency.MONTHLY,
        "每月组织开展常态化摸排",
    ),
    PeriodicDuty(
        "ledger_summary",
        "风险预警信息台帐汇总",
        "risk-warning ledger summary (per county)",
        "§5",
        Frequency.MONTHLY,
        "建立风险预警信息台帐，每月一汇总",
    ),
    PeriodicDuty(
        "sector_screening",
        "行业部门专项筛查",
        "sector departments' screening",
        "§6",
        Frequency.MONTHLY,
        "各相关行业主管部门根据职责分工，每月组织开展一次专项筛查",
    ),
    PeriodicDuty(
        "dispatch",
        "风险预警调度",
        "risk-warning dispatch (per county)",
        "§5",
        Frequency.QUARTERLY,
        "每季一调度",
    ),
    PeriodicDuty(
        "regional_risk_review",
        "规模性返贫风险集中研判",
        "review of large-scale return-to-poverty risks",
        "§16",
        Frequency.QUARTERLY,
        "每季度集中研判规模性返贫风险隐患，制定应对措施",
    ),
    PeriodicDuty(
        "cadre_visit",
        "挂钩干部入户帮扶",
        "assigned cadre's home visit",
        "§11",
        Frequency.QUARTERLY,
        "挂钩干部每季度至少入户帮扶一次",
    ),
    PeriodicDuty(
        "concentrated_screening",
        "集中排查",
        "concentrated screening",
        "§5",
        Frequency.HALF_YEARLY,
        "每半年开展一次集中排查",
    ),
)


@dataclass(frozen=True)
class DutyPeriod:
    """A duty's current period on a date; the duty is owed by ``period.last_day``."""

    duty: PeriodicDuty
    period: CalendarPeriod


def current_duty_periods(day: date) -> tuple[DutyPeriod, ...]:
    """Each periodic duty's current period on ``day``, in the order of :data:`PERIODIC_DUTIES`."""
    return tuple(
        DutyPeriod(duty, period_containing(day, duty.frequency)) for duty in PERIODIC_DUTIES
    )
