"""Field types of the data contract that carry meaning beyond their Python type.

`Money` and `Ratio` are both exact decimals; the marker tells the policy language's type checker
which one a field is, so that money compared with a ratio (or summed with a date) is a type error.

Every type here is strict (docs/record-schema.md, "Types"): a number is a JSON number or a
string spelling one (never `1_000`, never a boolean), a boolean is `true` or `false` (never 0
or 1), a date is the text `YYYY-MM-DD` (never a number), a count or grade is an integer (never
`true`, never 1.0). Amounts are limited in size and decimal places (`fangpin_rules.limits`),
so that no record can make arithmetic or output explode.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, Strict

from fangpin_rules.limits import (
    MONEY_MAX_ABS,
    MONEY_MAX_FRACTION_DIGITS,
    NUMBER_MAX_ABS,
    NUMBER_MAX_FRACTION_DIGITS,
    decimal_problem,
)


@dataclass(frozen=True)
class Quantity:
    """Marks a decimal field with the kind of quantity it holds (`money`, `ratio`)."""

    kind: str


# A number given as a string must be spelt as a JSON number is: no `1_000`, no spaces, no
# `NaN` or `Infinity`, no `+1`, no `.5`.
_JSON_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")


def exact_number(value: Any) -> Any:
    """A number field takes a number, or a string spelling a JSON number (the same exact
    decimal); a boolean or any other string is refused, not converted. (A Python float, which
    JSON input never yields, is read as the decimal its text spells.)"""
    if isinstance(value, bool):
        raise ValueError("must be a number, not a boolean")
    if isinstance(value, str) and not (len(value) <= _LONGEST_NUMBER_TEXT
                                       and _JSON_NUMBER.fullmatch(value)):
        raise ValueError("must be a number (a string must spell a JSON number, e.g. \"7151.99\")")
    return value


_LONGEST_NUMBER_TEXT = 200  # more than any number within the limits needs


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def iso_date(value: Any) -> Any:
    """A date field takes `YYYY-MM-DD` text (or a `date`): never a number, never a time."""
    if isinstance(value, datetime):
        raise ValueError("must be a date YYYY-MM-DD, not a date and time")
    if isinstance(value, date):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        return value
    if isinstance(value, str):
        raise ValueError("must be a date written YYYY-MM-DD")
    raise ValueError(f"must be a date written YYYY-MM-DD, not a {_json_kind(value)}")


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float | Decimal):
        return "number"
    return type(value).__name__


DecimalCheck = Callable[[Decimal], Decimal]


def decimal_limits(max_abs: Decimal, max_fraction_digits: int) -> AfterValidator:
    """The check that a decimal is within the limits; the typed reader calls the same function
    (it finds the limits on it)."""
    def within_limits(value: Decimal) -> Decimal:
        problem = decimal_problem(value, max_abs, max_fraction_digits)
        if problem is not None:
            raise ValueError(problem)
        return value

    within_limits.decimal_limits = (max_abs, max_fraction_digits)  # type: ignore[attr-defined]
    return AfterValidator(within_limits)


_NUMBER_ONLY = BeforeValidator(exact_number)
_MONEY_LIMITS = decimal_limits(MONEY_MAX_ABS, MONEY_MAX_FRACTION_DIGITS)
_NUMBER_LIMITS = decimal_limits(NUMBER_MAX_ABS, NUMBER_MAX_FRACTION_DIGITS)

# Yuan per year. Read from JSON as the exact decimal the text spells (never a binary float).
Money = Annotated[Decimal, Quantity("money"), _NUMBER_ONLY, Field(allow_inf_nan=False),
                  _MONEY_LIMITS]
NonNegativeMoney = Annotated[Decimal, Quantity("money"), _NUMBER_ONLY,
                             Field(allow_inf_nan=False, ge=Decimal(0)), _MONEY_LIMITS]
Ratio = Annotated[Decimal, Quantity("ratio"), _NUMBER_ONLY, Field(allow_inf_nan=False),
                  _NUMBER_LIMITS]
Number = Annotated[Decimal, Quantity("number"), _NUMBER_ONLY, Field(allow_inf_nan=False),
                   _NUMBER_LIMITS]
Flag = Annotated[bool, Strict()]
Count = Annotated[int, Strict()]
IsoDate = Annotated[date, BeforeValidator(iso_date)]

# Validators the typed reader (engine/typed_json.py) need not run: msgspec's own typing refuses
# what they refuse (numbers given as strings are found by its scan of the line).
MIRRORED_BY_MSGSPEC: frozenset[Callable[[Any], Any]] = frozenset({exact_number, iso_date})
