"""Helpers the generated code calls: the only functions a policy can reach at run time."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from dateutil.relativedelta import relativedelta

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


def add_duration(d: date, duration: DurationValue, sign: int = 1, calendar: Any = None) -> date:
    """Calendar arithmetic: months, quarters and years clamp to the month's end."""
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
    result: date = calendar.add_working_days(d, n)
    return result


class EvaluationError(Exception):
    """A record that the policy cannot decide (its reason names the definition)."""
