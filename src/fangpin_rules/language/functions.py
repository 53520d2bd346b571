"""The fixed list of functions an expression may call, with their signatures.

Nothing outside this table can be called: a policy file cannot reach Python.
Each entry names the runtime helper the compiler emits a call to (see compiler/runtime.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fangpin_rules.language import types as t

# A signature checker receives the argument types and returns the result type, or an error text.
Signature = Callable[[list[t.Type]], "t.Type | str"]


@dataclass(frozen=True)
class Function:
    name: str
    doc: str
    arity: tuple[int, int]
    signature: Signature
    runtime: str  # name of the helper in compiler/runtime.py
    needs_as_of: bool = False
    needs_calendar: bool = False


def _age(args: list[t.Type]) -> t.Type | str:
    if t.strip(args[0]) != t.DATE:
        return f"age() takes a date, not {args[0]}"
    return t.Opt(t.COUNT) if isinstance(args[0], t.Opt) else t.COUNT


def _min_max(args: list[t.Type]) -> t.Type | str:
    a, b = args
    if isinstance(a, t.Opt) or isinstance(b, t.Opt):
        return "min()/max() of values that may be unknown: give a default with ??"
    if a == b == t.DATE:
        return t.DATE
    kind = t.add_kind(a, b) if t.is_numeric(a) and t.is_numeric(b) else None
    return kind if kind is not None else f"cannot take min/max of {a} and {b}"


def _numeric_unary(args: list[t.Type]) -> t.Type | str:
    if not t.is_numeric(args[0]):
        return f"expects a number, not {args[0]}"
    return args[0]


def _round(args: list[t.Type]) -> t.Type | str:
    if not t.is_numeric(args[0]):
        return f"round() takes a number, not {args[0]}"
    if len(args) == 2 and args[1] not in (t.COUNT, t.NUMBER):
        return "round()'s second argument is a whole number of decimal places"
    return args[0]


def _count(args: list[t.Type]) -> t.Type | str:
    if t.element_of(args[0]) is None:
        return f"count() takes a list or a set, not {args[0]}"
    return t.COUNT


def _days_between(args: list[t.Type]) -> t.Type | str:
    if any(a != t.DATE for a in args):
        return "days_between() takes two dates (give unknown dates a default with ??)"
    return t.COUNT


def _date_part(args: list[t.Type]) -> t.Type | str:
    if args[0] != t.DATE:
        return f"expects a date, not {args[0]}"
    return t.COUNT


def _date_to_date(args: list[t.Type]) -> t.Type | str:
    if t.strip(args[0]) != t.DATE:
        return f"expects a date, not {args[0]}"
    return args[0]


def _is_working_day(args: list[t.Type]) -> t.Type | str:
    if args[0] != t.DATE:
        return f"is_working_day() takes a known date, not {args[0]}"
    return t.BOOL


def _working_days_between(args: list[t.Type]) -> t.Type | str:
    if any(a != t.DATE for a in args):
        return "working_days_between() takes two known dates (give defaults with ??)"
    return t.COUNT


FUNCTIONS: dict[str, Function] = {f.name: f for f in (
    Function("age", "whole years completed on the evaluation date", (1, 1), _age, "age",
             needs_as_of=True),
    Function("min", "the smaller of two values", (2, 2), _min_max, "min2"),
    Function("max", "the larger of two values", (2, 2), _min_max, "max2"),
    Function("abs", "the absolute value", (1, 1), _numeric_unary, "abs_"),
    Function("round", "round half up to N decimal places (default 0)", (1, 2), _round,
             "round_half_up"),
    Function("count", "the number of items of a list or set", (1, 1), _count, "count"),
    Function("days_between", "calendar days from the first date to the second", (2, 2),
             _days_between, "days_between"),
    Function("year", "the year of a date", (1, 1), _date_part, "year"),
    Function("month", "the month (1-12) of a date", (1, 1), _date_part, "month"),
    Function("next_working_day", "the date itself when it is a working day, else the next one",
             (1, 1), _date_to_date, "next_working_day", needs_calendar=True),
    Function("is_working_day", "whether a date is a working day in the policy's calendar",
             (1, 1), _is_working_day, "is_working_day", needs_calendar=True),
    Function("working_days_between", "working days after the first date up to and including "
             "the second", (2, 2), _working_days_between, "working_days_between",
             needs_calendar=True),
)}

# Aggregates with a bound name: any(cond for m in members), all, count, sum, min, max.
AGGREGATES = ("any", "all", "count", "sum", "min", "max")
