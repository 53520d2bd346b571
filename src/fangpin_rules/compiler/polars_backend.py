"""The columnar back end: a checked policy as one lazy Polars query over a household table.

Each definition and decision becomes columns, computed once, in dependency order; a batch is
decided by one `collect`. Exactness (docs/columnar.md): every number is held as an exact
fraction of two integer columns (numerator, positive denominator), never a Polars Decimal or a
float, since Polars divides a Decimal to the dividend's scale (21455.99 / 3 -> 7152.00).
`a / n < t` is decided as `a * t.den < t.num * n` (n > 0): cross-multiplied, no rounding.
Money comes in at
`MONEY_MAX_FRACTION_DIGITS` (integer 1/10000 yuan), other numbers at
`NUMBER_MAX_FRACTION_DIGITS`; a bound on every integer is carried at compile time and an
expression whose integers could leave Int128 is refused. Output numbers become decimal text
through Python's Decimal in `limits.DECIMAL_CONTEXT`, the one division the record path makes,
so the digits are the record path's. Arithmetic on a quotient keeps the exact fraction and
accounts for the record path's 74-digit rounding (`derive`, `derived_arithmetic`,
`on_the_line`): a proved error bound where the values differ, the record path where they are
equal on a row it rounded. Region tables read a parameter by county code (`regional`); the
working-day functions look days up in a `CalendarTable`; an aggregate reading household values
is computed over the exploded list and joined back (`exploded_aggregate`).

A construct this back end cannot express is refused when the policy is compiled for it
(`ColumnarUnsupported`, a PolicyError naming the construct and its file:line:col): nothing
falls back silently. Rows whose answer only the record path can give (a zero divisor, a
working-day question outside the calendar, a value whose exact fraction and 74-digit value may
decide differently) are reported as `hazard` so the caller decides them there.
"""

from __future__ import annotations

import dataclasses
import decimal
import functools
import itertools
import math
import operator
from calendar import isleap
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any

import polars as pl

from fangpin_rules.checker.checked import CheckedExpr, CheckedNode, CheckedPolicy
from fangpin_rules.compiler.procedure import due_link
from fangpin_rules.compiler.runtime import UNCOVERED_REASON
from fangpin_rules.diagnostics import Location, PolicyError, error
from fangpin_rules.language import ast
from fangpin_rules.language import types as t
from fangpin_rules.language.values import DurationValue
from fangpin_rules.limits import (
    MONEY_MAX_ABS,
    MONEY_MAX_FRACTION_DIGITS,
    NUMBER_MAX_ABS,
    NUMBER_MAX_FRACTION_DIGITS,
)
from fangpin_rules.policy.document import FirstMatchDecision

_ROUNDING = Fraction(1, 10**73)  # the relative error of one rounding to 74 digits, and more
_FITS_DIGITS = 73  # a value of this many significant digits the record path holds exactly
_INT64_SAFE = 2**62
_INT128_SAFE = 2**126
_TEXT_EQUALITIES = 8  # text membership in at most this many literals: equalities, not is_in
_MAX_LIST_ITEMS = 10**6  # a bound on a list's length, for the integer bounds of counts and sums
_PREFIX = "__fpc_"
REGION_COLUMN = _PREFIX + "region"  # a region table's county code of each household
ROW_COLUMN = _PREFIX + "row"  # the row's number, by which an exploded aggregate joins back
ITEM_COLUMN = _PREFIX + "item"  # an exploded list's item
HAZARD_COLUMN = _PREFIX + "hazard"  # whether a row divides by zero (the record path decides it)
# the frame of the steps read with a case: one row per (household, case), the household's
# columns beside the case's
CASE_COLUMN = _PREFIX + "case"  # the case's fields, a struct
CASE_HOUSEHOLD_COLUMN = _PREFIX + "case_household"  # the household's row in the batch
CASE_ORDER_COLUMN = _PREFIX + "case_order"  # the case's place among its household's cases
CASE_HAZARD_COLUMN = _PREFIX + "case_hazard"  # whether the record path decides the household


_DTYPES: dict[str, Any] = {"date": pl.Date, "bool": pl.Boolean, "text": pl.String}


class ColumnarUnsupported(PolicyError):
    """A construct of the policy the columnar back end cannot express exactly."""


@dataclass(frozen=True)
class Num:
    """An exact number: num / den, den > 0. `num`/`den` are Polars expressions or Python
    ints (constants); `bound` is a bound on |num| and `den_bound` on den. `quotient`: made by
    a division (may be compared or output, not computed with)."""

    num: pl.Expr | int | None  # None: the null literal
    den: pl.Expr | int
    bound: int
    den_bound: int
    quotient: bool = False
    nullable: bool = False
    # a value computed from a quotient: `inexact` holds (per row) where the record path's
    # 74-digit value x' may differ from this exact fraction x; |x' - x| <= err * |x| (a
    # relative error: x = 0 means x' = 0)
    inexact: pl.Expr | None = None
    err: Fraction = Fraction(0)


@dataclass(frozen=True)
class Val:
    """Any other value: a Polars expression (bool, string, enum, date) or a Python constant."""

    expr: pl.Expr
    kind: str  # bool | text | date | duration
    nullable: bool
    const: Any = None
    is_const: bool = False
    # a first_match decision's text: its rule's number and the value of each number
    choice: tuple[pl.Expr, tuple[str | None, ...]] | None = None


@dataclass(frozen=True)
class DurationColumn:
    """A duration parameter whose amount differs between the regions of a region table (its
    unit the same in all): each household's amount, by its region (a `Val`'s `const`)."""

    unit: str
    amounts: pl.Expr  # Int64


@dataclass(frozen=True)
class Labels:
    """A collect decision: one boolean column per label, in first-added order."""

    flags: dict[str, pl.Expr]


Value = Num | Val | Labels


def _lit_int(value: int) -> pl.Expr:
    return pl.lit(value, dtype=pl.Int128 if abs(value) >= _INT64_SAFE else pl.Int64)


def _as_expr(value: pl.Expr | int, bound: int) -> pl.Expr:
    if isinstance(value, int):
        return _lit_int(value)
    return value.cast(pl.Int128) if bound >= _INT64_SAFE else value


def _mul(a: pl.Expr | int, b: pl.Expr | int, bound: int) -> pl.Expr | int:
    if isinstance(a, int) and isinstance(b, int):
        return a * b
    if isinstance(a, int) and a == 1:
        return _as_expr(b, bound)
    if isinstance(b, int) and b == 1:
        return _as_expr(a, bound)
    if bound >= _INT64_SAFE:
        return _as_expr(a, bound) * _as_expr(b, bound)
    return _as_expr(a, 0) * _as_expr(b, 0)


def _same_int(a: pl.Expr | int, b: pl.Expr | int) -> bool:
    return isinstance(a, int) and isinstance(b, int) and a == b


def _add(a: pl.Expr | int, b: pl.Expr | int, bound: int, sign: int = 1) -> pl.Expr | int:
    if isinstance(a, int) and isinstance(b, int):
        return a + sign * b
    left, right = _as_expr(a, bound), _as_expr(b, bound)
    return left + right if sign == 1 else left - right


_CALENDAR_FUNCTIONS = ("next_working_day", "is_working_day", "working_days_between")
_EPOCH = date(1970, 1, 1).toordinal()  # a Polars Date is days since 1970-01-01


@dataclass(frozen=True)
class CalendarTable:
    """The policy's working-day calendar as columns over the days of its covered years, so a
    working-day question is a lookup by day number (the record path's WorkingDayCalendar asks
    the same tables): per day its flag (0 rest, 1 working, 2 not covered), its rank (working
    days on or before it), the run of consecutive covered years it lies in (`segment`, -1 when
    not covered) and that run's range of working-day indices [lo, hi); and the working days
    in order. A question the calendar cannot answer (a day outside the covered years, or an
    answer beyond them) is a hazard: the row is decided by the record path, which rejects it
    naming the year, or (in a step) gives the deadline as unknown."""

    first: int  # the epoch day number of the first day
    flags: pl.Series
    ranks: pl.Series
    segments: pl.Series
    lows: pl.Series
    highs: pl.Series
    working: pl.Series

    @classmethod
    def of(cls, calendar: Any) -> CalendarTable | None:
        years = sorted(calendar.covered_years) if calendar is not None else []
        if not years:
            return None
        first = date(years[0], 1, 1).toordinal()
        stop = date(years[-1] + 1, 1, 1).toordinal()
        covered = set(years)
        flags: list[int] = []
        ranks: list[int] = []
        segments: list[int] = []
        working: list[date] = []
        for ordinal in range(first, stop):
            day = date.fromordinal(ordinal)
            flag = (1 if calendar.is_working_day(day) else 0) if day.year in covered else 2
            if flag == 1:
                working.append(day)
            flags.append(flag)
            ranks.append(len(working))
        lows, highs = [-1] * len(flags), [-1] * len(flags)
        number, start = 0, 0
        for index, year in enumerate(years):
            if index + 1 < len(years) and years[index + 1] == year + 1:
                continue
            run = range(date(years[start], 1, 1).toordinal() - first,
                        date(year + 1, 1, 1).toordinal() - first)
            lo = ranks[run.start - 1] if run.start else 0
            for offset in run:
                lows[offset], highs[offset] = lo, ranks[run.stop - 1]
            segments.extend([-1] * (run.start - len(segments)))
            segments.extend([number] * len(run))
            number, start = number + 1, index + 1
        return cls(first - _EPOCH, pl.Series(flags, dtype=pl.Int64),
                   pl.Series(ranks, dtype=pl.Int64), pl.Series(segments, dtype=pl.Int64),
                   pl.Series(lows, dtype=pl.Int64), pl.Series(highs, dtype=pl.Int64),
                   pl.Series(working, dtype=pl.Date))

    @staticmethod
    def _at(table: pl.Series, index: pl.Expr) -> pl.Expr:
        """`table` at each row's `index`; at a constant index (a date written in the policy, a
        quarterly step's null date) one value, which a frame broadcasts to its rows (a gather
        by a constant is a one-row column, which the in-memory engine refuses beside them)."""
        taken = pl.lit(table).gather(index)
        return taken if index.meta.root_names() else taken.first()

    def offset(self, day: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
        """(the day's index in the tables, clipped; whether the calendar covers the day)."""
        offset = day.cast(pl.Int64) - self.first
        index = offset.clip(0, self.flags.len() - 1)
        inside = (offset >= 0) & (offset < self.flags.len())
        return index, inside & (self._at(self.flags, index) != 2)

    def is_working_day(self, day: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
        """(whether it is a working day, the hazard)."""
        index, covered = self.offset(day)
        return self._at(self.flags, index) == 1, ~covered.fill_null(True)

    def _target(self, day: pl.Expr, n: int | pl.Expr) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
        """(the day's index, whether it is covered, the index among the working days of the
        n-th working day after it), as WorkingDayCalendar.add_working_days counts (n a
        constant, or each row's)."""
        index, covered = self.offset(day)
        rank = self._at(self.ranks, index)
        if isinstance(n, pl.Expr):
            return index, covered, pl.when(n > 0).then(rank + n - 1) \
                .otherwise(rank - self._at(self.flags, index) + n)
        return index, covered, \
            rank + (n - 1) if n > 0 else rank - self._at(self.flags, index) + n

    def _found(self, target: pl.Expr) -> pl.Expr:
        return self._at(self.working, target.clip(0, self.working.len() - 1))

    def _year_of(self, working_index: pl.Expr) -> pl.Expr:
        """The year of the working day at an index (clipped to the table)."""
        return self._found(working_index).dt.year().cast(pl.Int64)

    def add_working_days(self, day: pl.Expr, n: int | pl.Expr) -> tuple[pl.Expr, pl.Expr]:
        """(the n-th working day after `day` (before, n < 0; on or after, n = 0), the
        hazard: the calendar cannot give it), as WorkingDayCalendar.add_working_days counts."""
        found, year = self.add_working_days_or_year(day, n)
        return found, year.is_not_null()

    def add_working_days_or_year(self, day: pl.Expr, n: int | pl.Expr
                                 ) -> tuple[pl.Expr, pl.Expr]:
        """(the n-th working day after `day`, as `add_working_days`; the year the calendar
        would need for it, as WorkingDayCalendar's coverage error names it: null where the
        day is found or `day` is null). The day is null where the year is not."""
        index, covered, target = self._target(day, n)
        low, high = self._at(self.lows, index), self._at(self.highs, index)
        year = pl.when(day.is_null()).then(pl.lit(None, dtype=pl.Int64)) \
            .when(~covered).then(day.dt.year().cast(pl.Int64)) \
            .when(target >= high).then(self._year_of(high - 1) + 1) \
            .when(target < low).then(self._year_of(low) - 1)
        return pl.when(year.is_null()).then(self._found(target)), year

    def between(self, start: pl.Expr, end: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
        """(working days in (start, end], negative when end < start; the hazard: the calendar
        cannot count them)."""
        count, year = self.between_or_year(start, end)
        return count, year.is_not_null()

    def between_or_year(self, start: pl.Expr, end: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
        """(working days in (start, end]; the year the calendar would need to count them, as
        WorkingDayCalendar.working_days_between's coverage error names it: the start's, the
        end's, or, the two in different runs of covered years, the year after the earlier
        run; null where they are counted or a day is null)."""
        a, a_covered = self.offset(start)
        b, b_covered = self.offset(end)
        a_segment, b_segment = self._at(self.segments, a), self._at(self.segments, b)
        earlier_high = pl.when(a_segment <= b_segment).then(self._at(self.highs, a)) \
            .otherwise(self._at(self.highs, b))
        year = pl.when(start.is_null() | end.is_null()).then(pl.lit(None, dtype=pl.Int64)) \
            .when(~a_covered).then(start.dt.year().cast(pl.Int64)) \
            .when(~b_covered).then(end.dt.year().cast(pl.Int64)) \
            .when(a_segment != b_segment).then(self._year_of(earlier_high - 1) + 1)
        return self._at(self.ranks, b) - self._at(self.ranks, a), year


class _ZeroSigns:
    """Which values may carry a sign on the record path: `minus_zero(e)`, whether e may be
    Decimal's -0; `signed(e)`, whether it may be negative or -0; `zero(e)`, whether it may be
    a zero. Decimal keeps the sign of a zero by IEEE 754's rules (under limits.DECIMAL_CONTEXT's
    ROUND_HALF_EVEN): a product or quotient of a zero and a signed value, -0 - 0, -0 + -0, a
    signed value rounded to zero, and the record path's abs() and min() of a -0 are -0; -x of
    a zero, x - x and 0 + -0 are +0, and a nonzero result of these bounded amounts is never
    rounded to zero. A record's amount is never -0 here (Arrow and the JSON reader hold a zero
    without its sign). What is not known here may be either (the safe side: such a written
    zero is the record path's to write). So `net_income / size` is never -0, a count being
    never signed: every household of no income had gone to the record path (416 of 1,000,000
    boundary households, 6 % of the call)."""

    def __init__(self, tr: _Translator) -> None:
        self.tr = tr
        self.seen: set[str] = set()  # the definitions being read (a cycle is refused before)

    def minus_zero(self, e: ast.Expr) -> bool:
        match e:
            case ast.Number(value=value):
                return value == 0 and value.is_signed()
            case ast.Neg():  # Decimal's -x of a zero is +0
                return False
            case ast.Name() | ast.Attribute():
                return self.named(e, self.minus_zero, lambda v: v == 0 and v.is_signed(),
                                  field=False)
            case ast.BinOp(op="+", left=a, right=b):
                return self.minus_zero(a) and self.minus_zero(b)
            case ast.BinOp(op="-", left=a):
                return self.minus_zero(a)
            case ast.BinOp(op="*", left=a, right=b):  # a zero times a signed value
                return self.minus_zero(a) or self.minus_zero(b) or \
                    (self.signed(a) and self.zero(b)) or (self.signed(b) and self.zero(a))
            case ast.BinOp(op="/", left=a, right=b):  # a zero over a signed value
                return self.minus_zero(a) or (self.signed(b) and self.zero(a))
            case ast.Call(func="count" | "year" | "month" | "days_between" |
                          "working_days_between"):
                return False  # whole numbers: Python's int has no -0
            case ast.Call(func="round", args=(value, *_)):
                return self.signed(value)
            case ast.Call(func="abs" | "min" | "max", args=args):  # abs keeps a -0
                return any(self.minus_zero(arg) for arg in args)
            case ast.Aggregate(func="count"):
                return False
            case ast.Aggregate(func="sum" | "min" | "max", body=body):
                return self.minus_zero(body)
            case ast.IfExpr(then=a, orelse=b) | ast.Coalesce(left=a, right=b):
                return self.minus_zero(a) or self.minus_zero(b)
        return True

    def signed(self, e: ast.Expr) -> bool:
        match e:
            case ast.Number(value=value):
                return value.is_signed()
            case ast.Name() | ast.Attribute():
                return self.named(e, self.signed, lambda v: v.is_signed(), field=True)
            case ast.BinOp(op="+" | "*" | "/", left=a, right=b):
                return self.signed(a) or self.signed(b)
            case ast.Call(func="count" | "year" | "month"):
                return False
            case ast.Call(func="abs", args=(value,)):
                return self.minus_zero(value)
            case ast.Call(func="round" | "min" | "max", args=args):
                return any(self.signed(arg) for arg in args)
            case ast.Aggregate(func="count"):
                return False
            case ast.Aggregate(func="sum" | "min" | "max", body=body):
                return self.signed(body)
            case ast.IfExpr(then=a, orelse=b) | ast.Coalesce(left=a, right=b):
                return self.signed(a) or self.signed(b)
        return True

    def zero(self, e: ast.Expr) -> bool:
        """Whether e may be a zero (of either sign)."""
        match e:
            case ast.Number(value=value):
                return value == 0
            case ast.Neg(operand=value):
                return self.zero(value)
            case ast.Name() | ast.Attribute():
                return self.named(e, self.zero, lambda v: v == 0, field=True)
        return True

    def named(self, e: ast.Name | ast.Attribute, of_expr: Callable[[ast.Expr], bool],
              of_value: Callable[[Decimal], bool], *, field: bool) -> bool:
        """A definition (its expression), a parameter (its values in force: each region's
        under a region table) or a record's field (`field`: a field may be signed, never
        -0)."""
        if isinstance(e, ast.Name):
            name = e.id
        elif isinstance(e.value, ast.Name):
            name = f"{e.value.id}.{e.attr}"
        else:
            return True
        policy = self.tr.policy
        if name in policy.nodes:
            node = policy.nodes[name]
            if node.expr is None or name in self.seen:
                return True
            self.seen.add(name)
            try:
                return of_expr(node.expr.tree)
            finally:
                self.seen.discard(name)
        if name in policy.parameters:
            values = [region[name] for region in self.tr.regions.values()] \
                if self.tr.regions else [self.tr.params[name]]
            return any(of_value(Decimal(v)) for v in values
                       if isinstance(v, int | Decimal) and not isinstance(v, bool))
        return field


@dataclass
class _Translator:
    policy: CheckedPolicy
    params: dict[str, Any]
    as_of: date
    columns: dict[str, Value] = dataclasses.field(default_factory=dict)  # node -> its value
    hazards: list[pl.Expr] = dataclasses.field(default_factory=list)
    source: CheckedExpr | None = None
    bound_var: str | None = None
    # a region table: region code -> the parameter values in force on as_of there; a
    # parameter whose value differs between regions is read from a column by region code
    regions: dict[str, dict[str, Any]] | None = None
    calendar: CalendarTable | None = None
    # an aggregate whose body reads household values is computed over the list exploded
    # (one row per item, the household's columns beside it) and joined back by row number:
    # `exploded` while its body is translated; `joins` the frame steps not yet placed
    exploded: bool = False
    # the exploded item's column; inside an aggregate nested in an exploded one, the outer
    # aggregates' names and their items' columns, and the column of the outer item's row
    # (the inner aggregate's rows are grouped by it, as a household's by ROW_COLUMN)
    item_column: str = ITEM_COLUMN
    outer_items: dict[str, str] = dataclasses.field(default_factory=dict)
    row_key: str = ROW_COLUMN
    # each exploded aggregate translated (by the id of its node): its value and the hazards
    # it adds, so that translating it again (`x in [a, b]` reads x once per item) reads the
    # same joined column instead of joining it again
    exploded_values: dict[tuple[int, int, bool], tuple[Value, list[pl.Expr]]] = \
        dataclasses.field(default_factory=dict)
    written: frozenset[str] = frozenset()  # the nodes whose values the decision record holds
    joins: list[Callable[[pl.LazyFrame], pl.LazyFrame]] = dataclasses.field(
        default_factory=list)
    # each `age(d)` call translated (by the id of its node): its date d, so that comparing
    # it with a constant can compare d with a date instead (`age_threshold`)
    ages: dict[int, Val] = dataclasses.field(default_factory=dict)
    # the record's decimal fields as integers, by column name: computed before the stages
    prelude: dict[str, pl.Expr] = dataclasses.field(default_factory=dict)
    # while the steps read with a case are translated: `case.x` is a field of CASE_COLUMN
    in_case: bool = False
    step_values: dict[str, Val] = dataclasses.field(default_factory=dict)  # `steps.X`
    # the year the calendar would need for `steps.X` where it cannot give its due date (null
    # elsewhere), for the steps whose due date may need one (`step_due`)
    step_uncovered: dict[str, pl.Expr] = dataclasses.field(default_factory=dict)

    # -- refusals ---------------------------------------------------------------------------
    def refuse(self, node: ast.Expr, what: str) -> ColumnarUnsupported:
        location = self.source.source.location(node.span[0]) if self.source is not None \
            else Location(self.policy.path, 0, 0)
        return ColumnarUnsupported([error(
            "columnar-unsupported",
            f"the columnar engine cannot decide {what}: pass engine='record' to decide this "
            "policy row by row", location,
            hint="decide this policy with the record engine (engine='record', "
            "`fangpin eval --engine record`)")])

    def check_bound(self, node: ast.Expr, value: Num) -> Num:
        if value.bound >= _INT128_SAFE or value.den_bound >= _INT128_SAFE:
            raise self.refuse(node, "an expression whose exact integers could exceed 128 bits")
        return value

    def type_of(self, node: ast.Expr) -> t.Type:
        return self.policy.expr_types.get(id(node), t.Prim("error"))

    # -- leaves -----------------------------------------------------------------------------
    def constant(self, node: ast.Expr, value: Any, kind: t.Type) -> Value:
        if value is None:
            return self.null_of(kind)
        if isinstance(value, bool):
            return Val(pl.lit(value), "bool", False, value, True)
        if isinstance(value, int | Decimal):
            fraction = Fraction(value)
            return Num(fraction.numerator, fraction.denominator, abs(fraction.numerator),
                       fraction.denominator)
        if isinstance(value, date):
            return Val(pl.lit(value, dtype=pl.Date), "date", False, value, True)
        if isinstance(value, DurationValue):
            return Val(pl.lit(None), "duration", False, value, True)
        if isinstance(value, str):
            return Val(pl.lit(value, dtype=pl.String), "text", False, value, True)
        raise self.refuse(node, f"a constant of type {kind}")

    def signed_zero(self, name: str) -> bool:
        """Whether the node's value may be Decimal's -0 on the record path (written "-0",
        where the fraction is 0): `_zero_signs` of its expression."""
        node = self.policy.nodes.get(name)
        if node is None or node.expr is None:
            return False
        return _ZeroSigns(self).minus_zero(node.expr.tree)

    def regional(self, node: ast.Expr, name: str) -> Value:
        """A parameter under a region table: a constant when every region has the same value
        on as_of, else the value of the household's region, looked up by its county code in
        the column `REGION_COLUMN` (a household of no region in the table is rejected before
        the query, as on the record path)."""
        assert self.regions is not None
        kind = self.type_of(node)
        codes = list(self.regions)
        values = [self.regions[code][name] for code in codes]
        if not self.differs(name):
            return self.constant(node, values[0], kind)
        if self.bound_var is not None and not self.exploded:  # pragma: no cover - exploded
            raise self.refuse(node, f"the parameter '{name}', which differs between regions, "
                              "in a rule over a list")
        key = pl.col(REGION_COLUMN)
        nullable = any(v is None for v in values)
        if all(v is None or (isinstance(v, int | Decimal) and not isinstance(v, bool))
               for v in values):
            fractions = [None if v is None else Fraction(v) for v in values]
            common = math.lcm(*(f.denominator for f in fractions if f is not None))
            nums = [None if f is None else f.numerator * (common // f.denominator)
                    for f in fractions]
            bound = max(abs(n) for n in nums if n is not None)
            wide: Any = pl.Int128 if bound >= _INT64_SAFE else pl.Int64
            column = key.replace_strict(codes, nums, default=None, return_dtype=wide)
            return self.check_bound(node, Num(column, common, bound, common,
                                              nullable=nullable))
        if all(isinstance(v, DurationValue) for v in values):
            units = {v.unit for v in values}
            if len(units) > 1:  # (a region table's values are bounded in the policy's unit)
                raise self.refuse(node, f"the parameter '{name}', a duration in different "
                                  "units in different regions")
            amounts = key.replace_strict(codes, [v.amount for v in values], default=None,
                                         return_dtype=pl.Int64)
            return Val(pl.lit(None), "duration", False, DurationColumn(units.pop(), amounts))
        kinds: tuple[tuple[str, type, Any], ...] = (
            ("bool", bool, pl.Boolean), ("date", date, pl.Date), ("text", str, pl.String))
        for kind_name, test, dtype in kinds:
            if all(v is None or isinstance(v, test) for v in values):
                column = key.replace_strict(codes, values, default=None, return_dtype=dtype)
                return Val(column, kind_name, nullable)
        raise self.refuse(node, f"the parameter '{name}', of a kind that cannot differ "
                          "between regions in columns")

    def differs(self, name: str) -> bool:
        """Whether the parameter's value on as_of differs between the regions of the table (a
        value of the household then, read by its region; else a constant)."""
        if not self.regions:
            return False
        values = [region[name] for region in self.regions.values()]
        return not all(v == values[0] and type(v) is type(values[0]) for v in values)

    def null_of(self, kind: t.Type) -> Value:
        inner = t.strip(kind)
        if inner in t.NUMERIC:
            return Num(None, 1, 0, 1, nullable=True)
        if inner == t.DATE:
            return Val(pl.lit(None, dtype=pl.Date), "date", True, None, True)
        if inner == t.BOOL:
            return Val(pl.lit(None, dtype=pl.Boolean), "bool", True, None, True)
        return Val(pl.lit(None, dtype=pl.String), "text", True, None, True)

    def field(self, node: ast.Expr, base: pl.Expr, kind: t.Type, path: str | None = None
              ) -> Value:
        """A field of the record (`path`, its dotted name) or of a list's item (None)."""
        inner = t.strip(kind)
        nullable = isinstance(kind, t.Opt)
        if inner == t.MONEY:
            scale = 10 ** MONEY_MAX_FRACTION_DIGITS
            return Num(self.scaled(base, scale, path), scale, int(MONEY_MAX_ABS) * scale, scale,
                       nullable=nullable)
        if inner == t.COUNT:
            return Num(base.cast(pl.Int64), 1, int(NUMBER_MAX_ABS), 1, nullable=nullable)
        if inner in t.NUMERIC:
            scale = 10 ** NUMBER_MAX_FRACTION_DIGITS
            return Num(self.scaled(base, scale, path), scale, int(NUMBER_MAX_ABS) * scale,
                       scale, nullable=nullable)
        if inner == t.BOOL:
            return Val(base, "bool", nullable)
        if inner == t.DATE:
            return Val(base, "date", nullable)
        if inner == t.STRING or isinstance(inner, t.Enum):
            return Val(base.cast(pl.String), "text", nullable)
        raise self.refuse(node, f"a field of type {kind} read as a value")

    def scaled(self, base: pl.Expr, scale: int, path: str | None) -> pl.Expr:
        """A decimal field as the integer of its value times `scale`; a field of the record
        is converted once, in a column computed before the stages (`prelude`), not in each
        stage reading it (a Decimal product costs about 1.2 ms per 100,000 rows)."""
        integer = (base * scale).cast(pl.Int64)
        if path is None:
            return integer
        name = _col("f_" + path.replace(".", "__"))
        self.prelude.setdefault(name, integer.alias(name))
        return pl.col(name)

    # -- expressions ------------------------------------------------------------------------
    def expr(self, node: ast.Expr) -> Value:
        match node:
            case ast.Number(value=v):
                return self.constant(node, v, t.NUMBER)
            case ast.Duration(amount=a, unit=u):
                return self.constant(node, DurationValue(a, u), t.DURATION)
            case ast.String(value=v):
                return self.constant(node, v, t.STRING)
            case ast.DateLit(value=v):
                return self.constant(node, v, t.DATE)
            case ast.Bool(value=v):
                return self.constant(node, v, t.BOOL)
            case ast.Null():
                return self.null_of(self.type_of(node))
            case ast.Name(id=name):
                return self.name(node, name)
            case ast.Attribute(value=base, attr=attr):
                return self.attribute(node, base, attr)
            case ast.Call():
                return self.call(node)
            case ast.Aggregate():
                return self.aggregate(node)
            case ast.Not(operand=o):
                return Val(~self.truth(o), "bool", False)
            case ast.Neg(operand=o):
                value = self.number(o)
                return dataclasses.replace(value, num=None if value.num is None else -value.num)
            case ast.BoolOp(op=op, operands=ops):
                parts = [self.truth(o) for o in ops]
                combined = parts[0]
                for part in parts[1:]:
                    combined = (combined & part) if op == "and" else (combined | part)
                return Val(combined, "bool", False)
            case ast.BinOp(op=op, left=left, right=right):
                return self.binop(node, op, left, right)
            case ast.Compare(op=op, left=left, right=right):
                return Val(self.compare(node, op, left, right), "bool", False)
            case ast.Contains():
                return Val(self.contains(node), "bool", False)
            case ast.Coalesce(left=left, right=right):
                return self.choose(node, True, left, right)  # cond: left is known
            case ast.IfExpr(cond=c, then=a, orelse=b):
                return self.choose(node, self.truth(c), a, b)
        raise self.refuse(node, f"the construct {type(node).__name__}")

    def name(self, node: ast.Expr, name: str) -> Value:
        if name == self.bound_var or name in self.outer_items:
            raise self.refuse(node, "a list item used as a whole value")
        if name == "as_of":
            return self.constant(node, self.as_of, t.DATE)
        if name in self.policy.parameters:
            if self.regions:
                return self.regional(node, name)
            return self.constant(node, self.params[name], self.type_of(node))
        if self.bound_var is not None and not self.exploded:
            raise self.refuse(node, f"'{name}' read inside an aggregate over a list (only the "
                              "item, parameters and literals can be)")
        if name in self.policy.nodes:
            if name not in self.columns:
                raise self.refuse(node, f"'{name}' before it is computed")
            return self.columns[name]
        if name in ("case", "steps"):
            raise self.refuse(node, f"'{name}' as a whole value")
        kind = self.type_of(node)
        return self.field(node, pl.col(name), kind, name)

    def attribute(self, node: ast.Attribute, base: ast.Expr, attr: str) -> Value:
        if isinstance(base, ast.Name) and base.id in ("case", "steps") and \
                base.id != self.bound_var and (self.bound_var is None or self.exploded):
            if base.id == "steps":  # the day the step was done, or its due date (null: none,
                # or one the calendar cannot give, read off a due date's path:
                # compiler/procedure.py)
                return self.step_values.get(attr, self.null_of(t.DATE))
            if self.in_case:
                return self.field(node, pl.col(CASE_COLUMN).struct.field(attr),
                                  self.type_of(node))
        if isinstance(base, ast.Name) and base.id != self.bound_var and \
                base.id in self.outer_items:  # an enclosing aggregate's item
            return self.field(node, pl.col(self.outer_items[base.id]).struct.field(attr),
                              self.type_of(node))
        if isinstance(base, ast.Name) and base.id != self.bound_var:
            full = f"{base.id}.{attr}"
            if full in self.policy.nodes:
                return self.name(node, full)
            if base.id in self.policy.nodes or base.id in ("case", "steps"):
                raise self.refuse(node, f"the field '{attr}' of a computed value")
            if self.bound_var is not None and not self.exploded:
                raise self.refuse(node, f"'{base.id}.{attr}' read inside an aggregate over a "
                                  "list")
            return self.field(node, pl.col(base.id).struct.field(attr), self.type_of(node),
                              full)
        if isinstance(base, ast.Name):  # the aggregate's item
            item = pl.col(self.item_column) if self.exploded else pl.element()
            return self.field(node, item.struct.field(attr), self.type_of(node))
        raise self.refuse(node, "a field of a nested value")

    def is_known(self, value: Value) -> pl.Expr:
        if isinstance(value, Num):
            if value.num is None:
                return pl.lit(False)
            if isinstance(value.num, int):
                return pl.lit(True)
            return value.num.is_not_null()
        if isinstance(value, Val):
            if value.is_const:
                return pl.lit(value.const is not None)
            if value.choice is not None:  # a first_match decision: by its rule's number
                rule, values = value.choice
                return _numbered(rule, [number for number, known in enumerate(values)
                                        if known is not None], len(values))
            return value.expr.is_not_null()
        return pl.lit(True)

    def truth(self, node: ast.Expr) -> pl.Expr:
        value = self.expr(node)
        if not isinstance(value, Val) or value.kind != "bool":
            raise self.refuse(node, "a condition that is not true/false")
        return value.expr.fill_null(False) if value.nullable else value.expr

    def number(self, node: ast.Expr) -> Num:
        value = self.expr(node)
        if not isinstance(value, Num):
            raise self.refuse(node, "a number of this form")
        return value

    def choose(self, node: ast.Expr, cond: pl.Expr | bool, left: ast.Expr,
               right: ast.Expr) -> Value:
        """`if cond then left else right` (and `left ?? right`, whose cond is: left known)."""
        a = self.reached(left, cond if isinstance(node, ast.IfExpr) else True)
        b = self.reached(right, ~cond if isinstance(node, ast.IfExpr) and
                         isinstance(cond, pl.Expr) else True)
        if isinstance(a, Num) or isinstance(b, Num):
            if isinstance(a, Val) and a.is_const and a.const is None:
                a = Num(None, 1, 0, 1, nullable=True)
            if isinstance(b, Val) and b.is_const and b.const is None:
                b = Num(None, 1, 0, 1, nullable=True)
            if not (isinstance(a, Num) and isinstance(b, Num)):
                raise self.refuse(node, "a choice between a number and another kind of value")
            if isinstance(cond, bool):
                cond = pl.lit(cond)
            if isinstance(node, ast.Coalesce):
                cond = self.is_known(a)
            nullable = (a.nullable or b.nullable) if not isinstance(node, ast.Coalesce) \
                else b.nullable
            if isinstance(a.den, int) and isinstance(b.den, int):
                # one constant denominator for both branches: the column keeps no denominator
                common = math.lcm(a.den, b.den)
                bound = max(a.bound * (common // a.den), b.bound * (common // b.den))
                a_num = self.num_expr(dataclasses.replace(
                    a, num=None if a.num is None else _mul(a.num, common // a.den, bound),
                    bound=bound))
                b_num = self.num_expr(dataclasses.replace(
                    b, num=None if b.num is None else _mul(b.num, common // b.den, bound),
                    bound=bound))
                return self.check_bound(node, self.chosen(a, b, Num(
                    pl.when(cond).then(a_num).otherwise(b_num), common, bound, common,
                    a.quotient or b.quotient, nullable)))
            num = pl.when(cond).then(self.num_expr(a)).otherwise(self.num_expr(b))
            den = pl.when(cond).then(_as_expr(a.den, a.den_bound)).otherwise(
                _as_expr(b.den, b.den_bound))
            return self.chosen(a, b, Num(num, den, max(a.bound, b.bound),
                                         max(a.den_bound, b.den_bound),
                                         a.quotient or b.quotient, nullable))
        if isinstance(a, Labels) or isinstance(b, Labels):
            raise self.refuse(node, "a choice between sets of labels")
        if isinstance(node, ast.Coalesce):
            return Val(pl.coalesce(a.expr, b.expr), a.kind if not a.is_const else b.kind,
                       b.nullable)
        if isinstance(cond, bool):
            cond = pl.lit(cond)
        kind = a.kind if not (a.is_const and a.const is None) else b.kind
        dtype = _DTYPES.get(kind, pl.String)
        then = pl.lit(None, dtype=dtype) if a.is_const and a.const is None else a.expr
        otherwise = pl.lit(None, dtype=dtype) if b.is_const and b.const is None else b.expr
        return Val(pl.when(cond).then(then).otherwise(otherwise), kind,
                   a.nullable or b.nullable)

    def chosen(self, a: Num, b: Num, result: Num) -> Num:
        """A choice between two numbers: inexact where either may be (the safe side), and a
        quotient beside a computed value is one too."""
        if a.inexact is None and b.inexact is None:
            return result
        a, b = self.derive(a), self.derive(b)
        parts = [p for p in (a.inexact, b.inexact) if p is not None]
        inexact = parts[0] if len(parts) == 1 else parts[0] | parts[1]
        return dataclasses.replace(result, quotient=False, inexact=inexact,
                                   err=max(a.err, b.err))

    def reached(self, node: ast.Expr, cond: pl.Expr | bool) -> Value:
        """`node`, whose divisions by zero matter only where `cond` holds (a branch of an
        `if`): the record path never computes a branch not taken."""
        before = len(self.hazards)
        value = self.expr(node)
        if isinstance(cond, pl.Expr):
            self.hazards[before:] = [hazard.fill_null(False) & cond
                                     for hazard in self.hazards[before:]]
        return value

    def num_expr(self, value: Num) -> pl.Expr:
        if value.num is None:
            return pl.lit(None, dtype=pl.Int64)
        return _as_expr(value.num, value.bound)

    def binop(self, node: ast.BinOp, op: str, left: ast.Expr, right: ast.Expr) -> Value:
        lt, rt = t.strip(self.type_of(left)), t.strip(self.type_of(right))
        if lt == t.DATE or rt == t.DATE:
            date_node, dur_node = (left, right) if lt == t.DATE else (right, left)
            return self.add_duration(node, self.expr(date_node), dur_node, -1 if op == "-" else 1)
        a, b = self.number(left), self.number(right)
        if a.quotient or b.quotient or a.inexact is not None or b.inexact is not None:
            return self.derived_arithmetic(node, op, self.derive(a), self.derive(b))
        return self.arithmetic(node, op, a, b)

    # -- values computed from a quotient ---------------------------------------------------
    def fits(self, value: Num) -> pl.Expr:
        """Per row: the exact value has at most `_FITS_DIGITS` significant digits, so the
        record path's Decimal (74 digits) holds it exactly: |x| < 10**D (D the digits of the
        bound) and x * 10**(73 - D) is a whole number, tested as (num mod den) times powers of
        ten mod den, each step inside Int128. False where it cannot be shown (the row is
        then taken as inexact: the safe side)."""
        if value.num is None:
            return pl.lit(True)
        places = _FITS_DIGITS - len(str(value.bound))
        if isinstance(value.num, int) and isinstance(value.den, int):
            return pl.lit(places >= 0 and value.num * 10 ** places % value.den == 0)
        step = 0
        while value.den_bound * 10 ** (step + 1) < _INT128_SAFE:
            step += 1
        if places < 0 or step == 0:
            return pl.lit(False)
        den = _as_expr(value.den, _INT128_SAFE - 1).cast(pl.Int128)
        rest = _as_expr(value.num, _INT128_SAFE - 1).cast(pl.Int128) % den
        while places > 0:
            k = min(step, places)
            rest = rest * _lit_int(10 ** k).cast(pl.Int128) % den
            places -= k
        return rest == 0

    def derive(self, value: Num) -> Num:
        """A quotient entering arithmetic: the record path rounded it to 74 digits, so the
        row is inexact where its exact value does not fit them, and the error is at most one
        rounding of its magnitude. Other values are returned as they are."""
        if not value.quotient:
            return value
        return dataclasses.replace(value, quotient=False, inexact=~self.fits(value),
                                   err=_ROUNDING)

    def derived_arithmetic(self, node: ast.Expr, op: str, a: Num, b: Num) -> Num:
        """`a op b` where an operand is computed from a quotient: the exact fraction, inexact
        where an operand is or where the exact result does not fit 74 digits (else the
        record path's Decimal operation is exact too), with the error bound carried: the
        operands' errors propagated, and one more rounding."""
        result = self.arithmetic(node, op, a, b)
        if result.num is None:
            return result
        inexact = ~self.fits(result)
        for part in (a.inexact, b.inexact):
            if part is not None:
                inexact = inexact | part
        one = Fraction(1)
        if op in "+-":
            # |x' - x| <= |a| ra + |b| rb + one rounding; a nonzero x is at least 1/den, so
            # relative to x that is at most (bound a * ra + bound b * rb) * den bound. An exact
            # zero the record path may hold as a tiny remainder: such a row is its own.
            spread = (Fraction(a.bound) * a.err + Fraction(b.bound) * b.err) * result.den_bound
            err = spread * (one + _ROUNDING) + _ROUNDING
            self.hazards.append(inexact & (self.num_expr(result) == 0))
        elif op == "*":  # a zero operand is exactly zero on both paths
            err = (one + a.err) * (one + b.err) * (one + _ROUNDING) - one
        else:
            if b.err >= one:  # pragma: no cover - errors are far below 1
                raise self.refuse(node, "a division by a value computed from a quotient "
                                  "whose 74-digit rounding could be zero")
            err = (one + a.err) * (one + _ROUNDING) / (one - b.err) - one
        return dataclasses.replace(result, quotient=False, inexact=inexact, err=err)

    def arithmetic(self, node: ast.Expr, op: str, a: Num, b: Num) -> Num:
        """`a op b` of two exact fractions (a division gives a quotient)."""
        if a.num is None or b.num is None:
            return Num(None, 1, 0, 1, nullable=True)
        nullable = a.nullable or b.nullable
        if op in "+-":
            sign = 1 if op == "+" else -1
            if _same_int(a.den, b.den):
                bound = a.bound + b.bound
                return self.check_bound(node, Num(_add(a.num, b.num, bound, sign), a.den, bound,
                                                  a.den_bound, nullable=nullable))
            bound = a.bound * b.den_bound + b.bound * a.den_bound
            num = _add(_mul(a.num, b.den, bound), _mul(b.num, a.den, bound), bound, sign)
            den_bound = a.den_bound * b.den_bound
            return self.check_bound(node, Num(num, _mul(a.den, b.den, den_bound), bound,
                                              den_bound, nullable=nullable))
        if op == "*":
            bound, den_bound = a.bound * b.bound, a.den_bound * b.den_bound
            return self.check_bound(node, Num(_mul(a.num, b.num, bound),
                                              _mul(a.den, b.den, den_bound), bound, den_bound,
                                              nullable=nullable))
        # a / b = (a.num * b.den) / (a.den * b.num), the sign moved to the numerator
        bound, den_bound = a.bound * b.den_bound, a.den_bound * b.bound
        if isinstance(b.num, int):
            if b.num == 0:
                raise self.refuse(node, "a division by the constant zero")
            sign = 1 if b.num > 0 else -1
            num = _mul(_mul(a.num, b.den, bound), sign, bound)
            den = _mul(a.den, abs(b.num), den_bound)
        else:
            self.hazards.append(b.num == 0)
            b_num = _as_expr(b.num, max(bound, den_bound))
            num = _mul(_mul(a.num, b.den, bound), b_num.sign(), bound)
            den = _mul(a.den, b_num.abs(), den_bound)
        return self.check_bound(node, Num(num, den, bound, den_bound, True, nullable))

    def add_duration(self, node: ast.Expr, day: Value, dur_node: ast.Expr, sign: int) -> Value:
        shifted, year = self.shifted(node, day, dur_node, sign, None)
        if year is not None:  # a working day the calendar cannot give: the record path's
            self.hazards.append(year.is_not_null())
        return shifted

    def shifted(self, node: ast.Expr, day: Value, dur_node: ast.Expr, sign: int,
                year: pl.Expr | None) -> tuple[Val, pl.Expr | None]:
        """The date `day` shifted by a duration (a constant, or each household's region's),
        and the year the calendar would need for it where it cannot give it (null where the
        date is known; None: it always is). `year` is the year `day` itself needs, which the
        shift keeps: an uncovered date stays uncovered, as `runtime.add_duration` keeps it."""
        duration = self.expr(dur_node)
        if not isinstance(day, Val) or day.kind != "date" or not isinstance(duration, Val) or \
                not isinstance(duration.const, DurationValue | DurationColumn):
            raise self.refuse(node, "date arithmetic with a duration that is not a constant")
        unit = duration.const.unit
        # a constant, or each household's (a parameter that differs between regions)
        amount: int | pl.Expr = duration.const.amount * sign \
            if isinstance(duration.const, DurationValue) else duration.const.amounts * sign
        if unit == "days":
            shifted = day.expr + pl.duration(days=amount)
        elif unit in ("months", "quarters", "years"):
            months = amount * {"months": 1, "quarters": 3, "years": 12}[unit]
            by = f"{months}mo" if isinstance(months, int) else \
                pl.concat_str(months.cast(pl.String), pl.lit("mo"))
            shifted = day.expr.dt.offset_by(by)  # clamps to the month's end
        else:
            shifted, needed = self.calendar_table(node).add_working_days_or_year(day.expr, amount)
            year = needed if year is None else pl.coalesce(year, needed)
        return Val(shifted, "date", day.nullable), year

    def step_due(self, node: ast.Expr, stage: Callable[[pl.Expr, str], pl.Expr]
                 ) -> tuple[Value, pl.Expr | None]:
        """A step's due date, and the year the working-day calendar would need for it where it
        cannot give it (null where the date is known; None: it always is). The procedure's
        steps read a calendar that makes such a deadline unknown rather than the household
        rejected (`runtime.ProcedureCalendar`): along the path of `procedure.due_link`
        (another step's date, a shift by a duration, `next_working_day`) an uncovered date
        stays uncovered, and its year is carried here; a date of another form is translated
        as any value (a step's uncovered date reads as missing there, its value being null;
        a working day the calendar cannot give there is a hazard: the record path decides
        the row). `stage` makes a column of each date (and year) shifted on the way,
        read by the next shift: a calendar lookup reads its day several times, so a lookup of
        a lookup written out whole grows with each level (26,000 characters for Fujian's
        review, 20 ms a stage on 10 rows)."""
        link = due_link(node, lambda side: t.strip(self.type_of(side)) == t.DATE)
        if link is not None and link[0] == "step" and self.bound_var is None and \
                link[1] in self.step_values:
            return self.step_values[link[1]], self.step_uncovered.get(link[1])
        if link is not None and link[0] == "shift":
            _, date_node, dur_node, sign = link
            day, year = self.step_due(date_node, stage)
            return _staged_due(*self.shifted(node, day, dur_node, sign, year), stage)
        if link is not None and link[0] == "next":
            day, year = self.step_due(link[1], stage)
            if isinstance(day, Val) and day.kind == "date":
                found, needed = self.calendar_table(node).add_working_days_or_year(day.expr, 0)
                return _staged_due(Val(found, "date", day.nullable),
                                   needed if year is None else pl.coalesce(year, needed), stage)
        return self.expr(node), None

    def calendar_table(self, node: ast.Expr) -> CalendarTable:
        if self.bound_var is not None and not self.exploded:  # pragma: no cover - exploded
            raise self.refuse(node, "a working-day question inside an aggregate over a list")
        if self.calendar is None:
            raise self.refuse(node, "a working-day question: the policy's calendar covers "
                              "no year")
        return self.calendar

    def compare(self, node: ast.Expr, op: str, left: ast.Expr, right: ast.Expr) -> pl.Expr:
        a, b = self.expr(left), self.expr(right)
        if isinstance(a, Labels) or isinstance(b, Labels):
            raise self.refuse(node, "a comparison of sets of labels")
        equality = op in ("==", "!=")
        by_date = self.age_threshold(op, left, right, a, b)
        if by_date is not None:
            return by_date
        if isinstance(a, Num) or isinstance(b, Num):
            na, nb = self.as_num(node, a), self.as_num(node, b)
            if na.num is None or nb.num is None:  # `x == null`
                other: Value = nb if na.num is None else na
                known = self.is_known(other)
                if not equality:
                    return pl.lit(False)
                return ~known if op == "==" else known
            if (na.quotient and nb.quotient) or na.inexact is not None or \
                    nb.inexact is not None:
                na, nb = self.derive(na), self.derive(nb)
            assert na.num is not None and nb.num is not None
            bound = max(na.bound * nb.den_bound, nb.bound * na.den_bound)
            if bound >= _INT128_SAFE:
                raise self.refuse(node, "a comparison whose exact integers could exceed 128 "
                                  "bits")
            lhs = _as_expr(_mul(na.num, nb.den, bound), bound)
            rhs = _as_expr(_mul(nb.num, na.den, bound), bound)
            nullable = na.nullable or nb.nullable
            self.on_the_line(node, na, nb, lhs, rhs)
        else:
            assert isinstance(a, Val) and isinstance(b, Val)
            if (a.is_const and a.const is None) or (b.is_const and b.const is None):
                other = b if a.is_const and a.const is None else a
                known = self.is_known(other)
                return ~known if op == "==" else known if equality else pl.lit(False)
            if equality:
                value, constant = (a, b) if b.is_const else (b, a)
                if value.choice is not None and constant.is_const:
                    found = _chosen(value.choice, [constant.const])
                    return found if op == "==" else ~found
            lhs, rhs = a.expr, b.expr
            nullable = a.nullable or b.nullable
        if op == "==":
            return lhs.eq_missing(rhs) if nullable else lhs == rhs
        if op == "!=":
            return lhs.ne_missing(rhs) if nullable else lhs != rhs
        test = {"<": lhs < rhs, "<=": lhs <= rhs, ">": lhs > rhs, ">=": lhs >= rhs}[op]
        return test.fill_null(False) if nullable else test

    def age_threshold(self, op: str, left: ast.Expr, right: ast.Expr, a: Value, b: Value
                      ) -> pl.Expr | None:
        """`age(d) op c` for a constant c of the plan, as a comparison of d with one date
        (three date parts per row cost several times more). age(d) does not increase with d:
        age(d) >= K exactly when d <= T(K), the last day of year as_of.year - K whose
        (month, day) is not after as_of's (Feb 28 for an as_of of Feb 29 in a common year),
        since a birthday later in the year than as_of is not yet completed. For whole
        numbers, `>= c` and `< c` are about K = ceil(c), `> c` and `<= c` about
        K = floor(c) + 1. An unknown d compares false, as the general formula. None where
        this does not apply (then the general formula)."""
        if op not in ("<", "<=", ">", ">="):
            return None
        if id(right) in self.ages and id(left) not in self.ages:  # c op age(d)
            left, right, a, b = right, left, b, a
            op = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}[op]
        day = self.ages.get(id(left))
        if day is None or not isinstance(b, Num) or not isinstance(b.num, int) or \
                not isinstance(b.den, int) or b.inexact is not None:
            return None
        limit = Fraction(b.num, b.den)
        years = math.ceil(limit) if op in (">=", "<") else math.floor(limit) + 1
        year = self.as_of.year - years
        if not 1 <= year <= 9999:
            return None
        month, day_of_month = self.as_of.month, self.as_of.day
        if (month, day_of_month) == (2, 29) and not isleap(year):
            day_of_month = 28
        last = pl.lit(date(year, month, day_of_month), dtype=pl.Date)
        test = day.expr <= last if op in (">=", ">") else day.expr > last
        return test.fill_null(False) if day.nullable else test

    def on_the_line(self, node: ast.Expr, a: Num, b: Num, lhs: pl.Expr, rhs: pl.Expr) -> None:
        """A comparison of values computed from a quotient. Two fractions that differ, differ
        by at least 1 / (den a * den b); the record path's values are within err a + err b of
        them, less than half that (else refused), so it orders them the same. Where the exact
        values are equal the record path's may not be (1/3 * 3 is 0.99…9 there): such a row,
        where some value is inexact, is decided by the record path."""
        parts = [p for p in (a.inexact, b.inexact) if p is not None]
        if not parts:
            return
        spread = Fraction(a.bound) * a.err + Fraction(b.bound) * b.err  # |x| <= bound
        if 2 * spread >= Fraction(1, a.den_bound * b.den_bound):
            raise self.refuse(node, "a comparison of values computed from a quotient that the "
                              "record path's 74-digit rounding could decide")
        inexact = parts[0] if len(parts) == 1 else parts[0] | parts[1]
        self.hazards.append((lhs == rhs) & inexact)

    def as_num(self, node: ast.Expr, value: Value) -> Num:
        if isinstance(value, Num):
            return value
        if isinstance(value, Val) and value.is_const and value.const is None:
            return Num(None, 1, 0, 1, nullable=True)
        raise self.refuse(node, "a comparison of a number with another kind of value")

    def contains(self, node: ast.Contains) -> pl.Expr:
        container = node.container
        if isinstance(container, ast.Name) and isinstance(self.columns.get(container.id),
                                                          Labels):
            labels = self.columns[container.id]
            assert isinstance(labels, Labels)
            if isinstance(node.item, ast.String):
                flag = labels.flags.get(node.item.value, pl.lit(False))
            else:
                flag = self.computed_label(node, labels)
            return ~flag if node.negated else flag
        if not isinstance(container, ast.ListLit):
            raise self.refuse(node, "membership in anything but a list or a set of labels")
        item = self.expr(node.item)
        if isinstance(item, Num) or not all(isinstance(i, ast.String | ast.Number | ast.DateLit)
                                            for i in container.items):
            # the record path builds the list and tests `==` item by item (Python's `in`):
            # the same equalities, each compiled as `==` is (a null equals a null)
            tests = [self.compare(node, "==", node.item, i) for i in container.items]
            found = functools.reduce(operator.or_, tests) if tests else pl.lit(False)
        elif isinstance(item, Val) and item.choice is not None and \
                all(isinstance(i, ast.String) for i in container.items):
            found = _chosen(item.choice, [_literal(i) for i in container.items])
        elif isinstance(item, Val) and item.kind == "text" and \
                len(container.items) <= _TEXT_EQUALITIES and \
                all(isinstance(i, ast.String) for i in container.items):
            # a few equalities cost a third of `is_in` on text (4.9 -> 1.8 ms, 342,000 items)
            tests = [item.expr == pl.lit(_literal(i), dtype=pl.String) for i in container.items]
            found = tests[0]
            for test in tests[1:]:
                found = found | test
            found = found.fill_null(False)
        elif isinstance(item, Val) and item.kind in ("text", "date"):
            found = item.expr.is_in([_literal(i) for i in container.items]).fill_null(False)
        else:
            raise self.refuse(node, "membership of this kind of value")
        return ~found if node.negated else found

    def computed_label(self, node: ast.Contains, labels: Labels) -> pl.Expr:
        """Whether a computed text (a parameter, a field, a first_match decision) is one of
        the labels a set holds: its equality with each label the set can hold, and that
        label's flag (an unknown text is in no set, as on the record path)."""
        item = self.expr(node.item)
        if not isinstance(item, Val) or item.kind != "text":
            raise self.refuse(node, "membership of this kind of value in a set of labels")
        found: pl.Expr = pl.lit(False)
        for label, flag in labels.flags.items():
            if item.choice is not None:
                same = _chosen(item.choice, [label])
            elif item.is_const:
                same = pl.lit(item.const == label)
            else:
                same = (item.expr == pl.lit(label, dtype=pl.String)).fill_null(False)
            found = found | (same & flag)
        return found

    def call(self, node: ast.Call) -> Value:
        func, args = node.func, node.args
        if func == "count":
            (arg,) = args
            value = None
            if isinstance(arg, ast.Name):
                value = self.columns.get(arg.id)
            if isinstance(value, Labels):
                flags = list(value.flags.values())  # summed as booleans: no cast of each
                total: pl.Expr = pl.sum_horizontal(flags).cast(pl.Int64) if flags else \
                    pl.lit(0, pl.Int64)
                return Num(total, 1, len(flags), 1)
            if isinstance(arg, ast.Name) and arg.id not in self.policy.nodes and \
                    (self.bound_var is None or self.exploded) and \
                    arg.id != self.bound_var and isinstance(t.strip(self.type_of(arg)), t.ListOf):
                return Num(pl.col(arg.id).list.len().cast(pl.Int64), 1, _MAX_LIST_ITEMS, 1)
            raise self.refuse(node, "count() of this value")
        if func == "age":
            day = self.expr(args[0])
            assert isinstance(day, Val)
            self.ages[id(node)] = day
            as_of = self.as_of
            later_in_year = (day.expr.dt.month().cast(pl.Int64) * 100
                             + day.expr.dt.day().cast(pl.Int64)) > (as_of.month * 100 + as_of.day)
            years = as_of.year - day.expr.dt.year().cast(pl.Int64) - later_in_year.cast(pl.Int64)
            return Num(years, 1, 10**5, 1, nullable=day.nullable)
        if func in ("year", "month"):
            day = self.expr(args[0])
            assert isinstance(day, Val)
            part = day.expr.dt.year() if func == "year" else day.expr.dt.month()
            return Num(part.cast(pl.Int64), 1, 10**5, 1, nullable=day.nullable)
        if func == "days_between":
            a, b = self.expr(args[0]), self.expr(args[1])
            assert isinstance(a, Val) and isinstance(b, Val)
            return Num((b.expr - a.expr).dt.total_days().cast(pl.Int64), 1, 10**7, 1)
        if func == "abs":
            value = self.number(args[0])
            if value.num is None or isinstance(value.num, int):
                return value
            return dataclasses.replace(value, num=self.num_expr(value).abs())
        if func == "round":
            return self.round_half_up(node, args)
        if func in _CALENDAR_FUNCTIONS:
            calendar = self.calendar_table(node)
            days = [self.expr(arg) for arg in args]
            if not all(isinstance(d, Val) and d.kind == "date" for d in days):
                raise self.refuse(node, f"{func}() of this kind of value")
            exprs = [d.expr for d in days if isinstance(d, Val)]
            if func == "next_working_day":
                found, hazard = calendar.add_working_days(exprs[0], 0)
                self.hazards.append(hazard)
                return Val(found, "date", days[0].nullable if isinstance(days[0], Val) else True)
            if func == "is_working_day":
                flag, hazard = calendar.is_working_day(exprs[0])
                self.hazards.append(hazard)
                return Val(flag, "bool", False)
            count, hazard = calendar.between(exprs[0], exprs[1])
            self.hazards.append(hazard)
            return Num(count, 1, 10**7, 1)
        if func in ("min", "max"):
            a, b = self.expr(args[0]), self.expr(args[1])
            if isinstance(a, Num) and isinstance(b, Num):
                pick_a = self.compare(node, "<=" if func == "min" else ">=", args[0], args[1])
                return self.choose(node, pick_a, args[0], args[1])
            if isinstance(a, Val) and isinstance(b, Val) and a.kind == b.kind == "date":
                both = pl.min_horizontal(a.expr, b.expr) if func == "min" else \
                    pl.max_horizontal(a.expr, b.expr)
                return Val(both, "date", False)
        raise self.refuse(node, f"the function {func}()")

    def round_half_up(self, node: ast.Call, args: tuple[ast.Expr, ...] | list[ast.Expr]
                      ) -> Value:
        """`round(x, N)` as the record path rounds: half away from zero to N places, the
        result an exact fraction over 10**N (no longer a quotient). x = num/den is rounded as
        k = floor((2 |num| 10**N + den) / (2 den)) with num's sign. A whole number (a count)
        is left as it is, as the record path leaves an int. On a quotient the record path
        rounds its 74-digit value: that equals rounding the exact fraction when no tie lies
        within the 74-digit rounding, which the bounds prove (else refused)."""
        value = self.number(args[0])
        places = 0
        if len(args) == 2:
            given = self.number(args[1])
            if not isinstance(given.num, int) or given.den != 1:
                raise self.refuse(node, "round() to a number of places that is not a constant")
            places = given.num
        if t.strip(self.type_of(args[0])) == t.COUNT or value.num is None:
            return value
        if places < 0:
            raise self.refuse(node, "round() to negative places")
        scale = 10 ** places
        if value.quotient and value.bound * value.den_bound * scale >= 10 ** 72:
            raise self.refuse(node, "round() of a quotient whose 74-digit rounding on the "
                              "record path could reach a tie")
        if value.inexact is not None and \
                2 * value.err * value.bound >= Fraction(1, 2 * scale * value.den_bound):
            raise self.refuse(node, "round() of a value computed from a quotient whose "
                              "74-digit rounding on the record path could reach a tie")
        if isinstance(value.num, int) and isinstance(value.den, int):
            magnitude = (2 * abs(value.num) * scale + value.den) // (2 * value.den)
            if value.num < 0 and magnitude == 0:
                raise self.refuse(node, "round() of a negative constant to zero (-0)")
            exact = magnitude if value.num >= 0 else -magnitude
            return Num(exact, scale, abs(exact), scale)
        bound = 2 * value.bound * scale + value.den_bound
        if bound >= _INT128_SAFE:
            raise self.refuse(node, "round() whose exact integers could exceed 128 bits")
        num = self.num_expr(dataclasses.replace(value, bound=bound))
        num = num.cast(pl.Int128) if bound >= _INT64_SAFE else num
        den = _as_expr(value.den, bound)
        twice = _as_expr(_mul(value.den, 2, bound), bound)
        magnitude = (num.abs() * _lit_int(2 * scale) + den) // twice
        if value.inexact is not None:
            # exactly half-way, the record path's value (a little off) may round either way
            doubled = num.abs() * _lit_int(2 * scale)
            tie = (doubled % den == 0) & ((doubled // den) % 2 == 1)
            self.hazards.append(value.inexact & tie)
        # a negative amount rounding to zero is Decimal's -0 on the record path ("-0" in an
        # output, -0 again times a number): such a row is decided there
        self.hazards.append((num < 0) & (magnitude == 0))
        result = magnitude * num.sign()
        result_bound = value.bound * scale // 1 + 1
        if result_bound < _INT64_SAFE:
            result = result.cast(pl.Int64)
        return Num(result, scale, result_bound, scale, nullable=value.nullable)

    def aggregate(self, node: ast.Aggregate) -> Value:
        iterable = node.iterable
        if self.in_case and self.bound_var is None and isinstance(iterable, ast.Attribute) \
                and isinstance(iterable.value, ast.Name) and iterable.value.id == "case":
            # a list of the case (its notices, its visits): over the item only
            if self.reads_household(node):
                raise self.refuse(node, f"{node.func}() over a case's list reading values "
                                  "beside its item")
            before = len(self.hazards)
            listed = self.listed_aggregate(node, pl.col(CASE_COLUMN).struct.field(iterable.attr))
            if len(self.hazards) > before:
                raise self.refuse(node, f"{node.func}() over a case's list dividing by an "
                                  "item's value")
            return listed
        if (self.in_case and self.bound_var is not None) or \
                not isinstance(iterable, ast.Name) or iterable.id in self.policy.nodes or \
                iterable.id in self.policy.parameters or iterable.id in self.outer_items or \
                iterable.id in ("case", "steps", "as_of", self.bound_var):
            raise self.refuse(node, f"{node.func}() over anything but a list of the record")
        if self.bound_var is not None and not self.exploded:  # pragma: no cover
            # (an aggregate inside one reads a value beside that one's item: it is exploded)
            raise self.refuse(node, "an aggregate inside an aggregate over a list")
        if self.reads_household(node):
            return self.exploded_aggregate(node, iterable.id)
        before = len(self.hazards)
        listed = self.listed_aggregate(node, pl.col(iterable.id))
        if len(self.hazards) > before:  # a division by an item's value: a hazard per row
            del self.hazards[before:]
            return self.exploded_aggregate(node, iterable.id)
        return listed

    def listed_aggregate(self, node: ast.Aggregate, column: pl.Expr) -> Value:
        """An aggregate whose body reads its item, parameters and literals only: one
        `list.eval` over the list column (inside an exploded aggregate, per outer item)."""
        outer = self.bound_var, self.exploded
        self.bound_var, self.exploded = node.var, False
        try:
            keep = self.truth(node.filter) if node.filter is not None else None
            if node.func in ("any", "all", "count"):
                # the flags counted: `count_matches` is one pass over all items, where
                # `list.any/all/sum` reduce list by list (ten times slower); an unknown
                # flag counts as neither, as they ignore it
                body = self.truth(node.body)
                if node.func == "all":
                    body = body | ~keep if keep is not None else body
                    return Val(column.list.eval(body).list.count_matches(False) == 0, "bool",
                               False)
                if keep is not None:
                    body = body & keep
                flags = column.list.eval(body)
                if node.func == "any":
                    return Val(flags.list.count_matches(True) > 0, "bool", False)
                return Num(flags.list.count_matches(True).cast(pl.Int64), 1, _MAX_LIST_ITEMS, 1)
            value = self.expr(node.body)
            if isinstance(value, Num):
                if not isinstance(value.den, int) or value.num is None or \
                        value.inexact is not None:
                    raise self.refuse(node, f"{node.func}() of a quotient")
                item = self.num_expr(value)
                if node.func == "sum":
                    if value.nullable:
                        raise self.refuse(node, "sum() of values that may be unknown")
                    if keep is not None:
                        item = pl.when(keep).then(item).otherwise(0)
                    bound = value.bound * _MAX_LIST_ITEMS
                    return self.check_bound(node, Num(column.list.eval(item).list.sum(),
                                                      value.den, bound, value.den_bound))
                if keep is not None:
                    item = pl.when(keep).then(item)
                reduced = column.list.eval(item)
                reduced = reduced.list.min() if node.func == "min" else reduced.list.max()
                return Num(reduced, value.den, value.bound, value.den_bound, nullable=True)
            if isinstance(value, Val) and value.kind == "date" and node.func in ("min", "max"):
                item = value.expr if keep is None else pl.when(keep).then(value.expr)
                reduced = column.list.eval(item)
                reduced = reduced.list.min() if node.func == "min" else reduced.list.max()
                return Val(reduced, "date", True)
            raise self.refuse(node, f"{node.func}() of this kind of value")
        finally:
            self.bound_var, self.exploded = outer

    def reads_household(self, node: ast.Aggregate) -> bool:
        """Whether the aggregate's body or filter reads a value of the household (a field, a
        definition, a parameter that differs between regions) beside its item, or asks the
        calendar: then it is computed over the exploded list."""
        parts = [node.body] + ([node.filter] if node.filter is not None else [])
        return self.reads_beside_item(parts, node.var)

    def reads_beside_item(self, parts: list[ast.Expr], var: str) -> bool:
        for part in parts:
            for sub in ast.walk(part):
                if isinstance(sub, ast.Name) and sub.id not in (var, "as_of") and \
                        (sub.id not in self.policy.parameters or self.differs(sub.id)):
                    return True
                if isinstance(sub, ast.Name) and isinstance(self.params.get(sub.id),
                                                            DurationValue) and \
                        self.params[sub.id].unit == "working_days":
                    return True
                if isinstance(sub, ast.Call) and sub.func in _CALENDAR_FUNCTIONS:
                    return True  # the calendar's tables are looked up by row
                if isinstance(sub, ast.Duration) and sub.unit == "working_days":
                    return True
        return False

    def exploded_aggregate(self, node: ast.Aggregate, iterable: str) -> Value:
        """An aggregate reading household values: its body over the list exploded, one row per
        item with the household's columns beside it, reduced per row number and joined back
        (a household with an empty list gets the empty list's value: false for any, true for
        all, 0 for count and sum, unknown for min and max)."""
        # (in the same list of joins: a stage's, or an enclosing aggregate's rows)
        cache_key = (id(node), id(self.joins), self.in_case)
        known = self.exploded_values.get(cache_key)
        if known is not None:
            self.hazards.extend(known[1])
            return known[0]
        before = len(self.hazards)
        exploding = self.exploding(node.var)
        try:
            keep = self.truth(node.filter) if node.filter is not None else None
            name = _col(f"a{id(node)}")
            result: Value
            if node.func in ("any", "all", "count"):
                body = self.truth(node.body)
                if node.func == "all":
                    reduced = (body | ~keep if keep is not None else body).all()
                    default: Any = True
                else:
                    body = body & keep if keep is not None else body
                    reduced = body.any() if node.func == "any" else body.cast(pl.Int64).sum()
                    default = False if node.func == "any" else 0
                column = pl.col(name).fill_null(default)
                result = Val(column, "bool", False) if node.func != "count" else \
                    Num(column, 1, _MAX_LIST_ITEMS, 1)
            else:
                value = self.expr(node.body)
                if not isinstance(value, Num) or not isinstance(value.den, int) or \
                        value.num is None or value.inexact is not None:
                    raise self.refuse(node, f"{node.func}() of a quotient (or of this kind of "
                                      "value) over a list read with household values")
                item = self.num_expr(value)
                if node.func == "sum":
                    if value.nullable:
                        raise self.refuse(node, "sum() of values that may be unknown")
                    if keep is not None:
                        item = pl.when(keep).then(item).otherwise(0)
                    bound = value.bound * _MAX_LIST_ITEMS
                    reduced = _as_expr(item, bound).sum()
                    result = self.check_bound(node, Num(
                        pl.col(name).fill_null(0), value.den, bound, value.den_bound))
                else:
                    if keep is not None:
                        item = pl.when(keep).then(item)
                    reduced = item.min() if node.func == "min" else item.max()
                    result = Num(pl.col(name), value.den, value.bound, value.den_bound,
                                 nullable=True)
        finally:
            item_column, key, nested = self.exploded_back(exploding)
        inner = [h.fill_null(False) for h in self.hazards[before:]]
        del self.hazards[before:]
        aggregates = [reduced.alias(name)]
        if inner:  # a division by zero for some item: the row is the record path's
            aggregates.append(pl.any_horizontal(inner).any().alias(name + "_hazard"))
            self.hazards.append(pl.col(name + "_hazard").fill_null(False))
        self.exploded_values[cache_key] = result, self.hazards[before:]

        def join(frame: pl.LazyFrame) -> pl.LazyFrame:
            frame = frame.cache()  # read twice: uncached, each join doubled the plan
            per_item = _per_item(frame, iterable, item_column, nested)
            reduced_rows = per_item.group_by(key).agg(aggregates)
            return frame.join(reduced_rows, on=key, how="left", maintain_order="left")

        self.joins.append(join)
        return result

    def exploded_positions(self, tree: ast.Expr, var: str, iterable: str, name: str
                           ) -> pl.Expr:
        """A warning rule over a list reading household values: whether it holds for each
        item (as `_warnings` gives it), found over the exploded list and joined back by row
        number, in the items' order; an empty list for a household without items."""
        before = len(self.hazards)
        exploding = self.exploding(var)
        try:
            cond = self.truth(tree)
        finally:
            item_column, key, nested = self.exploded_back(exploding)
        inner = [h.fill_null(False) for h in self.hazards[before:]]
        del self.hazards[before:]
        position = _PREFIX + "position"
        aggregates = [cond.sort_by(position).alias(name)]
        if inner:
            aggregates.append(pl.any_horizontal(inner).any().alias(name + "_hazard"))
            self.hazards.append(pl.col(name + "_hazard").fill_null(False))

        def join(frame: pl.LazyFrame) -> pl.LazyFrame:
            frame = frame.cache()  # read twice: uncached, each join doubled the plan
            per_item = _per_item(frame, iterable, item_column, nested).with_columns(
                pl.int_range(pl.len(), dtype=pl.UInt32).over(key).alias(position))
            found = per_item.group_by(key).agg(aggregates)
            return frame.join(found, on=key, how="left", maintain_order="left")

        self.joins.append(join)
        return pl.col(name).fill_null(pl.lit([], dtype=pl.List(pl.Boolean))).alias(name)

    def exploding(self, var: str) -> tuple[Any, ...]:
        """Enter an exploded aggregate over `var`'s list: an enclosing exploded aggregate's
        item becomes an outer item (a name the inner one hides is the inner's), the new item
        gets a column of its own depth, and the aggregates inside this one group by the
        row of this one's item. Returns what `exploded_back` restores."""
        saved = (self.bound_var, self.exploded, self.item_column, self.row_key,
                 self.outer_items, len(self.joins))
        outer = dict(self.outer_items)
        if self.bound_var is not None:
            outer[self.bound_var] = self.item_column
        outer.pop(var, None)
        depth = len(outer)
        self.outer_items = outer
        self.bound_var, self.exploded = var, True
        self.item_column = ITEM_COLUMN if depth == 0 else f"{ITEM_COLUMN}{depth}"
        self.row_key = _col("item_row", str(depth))
        return saved

    def exploded_back(self, saved: tuple[Any, ...]) -> tuple[str, str, list[Any]]:
        """Leave the exploded aggregate entered by `exploding`: (its item's column, the column
        its rows are grouped by, the joins of the exploded aggregates inside it, which run on
        its own exploded rows, numbered by `row_key`)."""
        item_column, inner_key = self.item_column, self.row_key
        (self.bound_var, self.exploded, self.item_column, self.row_key, self.outer_items,
         joins_before) = saved
        nested = [(inner_key, join) for join in self.joins[joins_before:]]
        del self.joins[joins_before:]
        return item_column, self.row_key, nested

    def truth_of(self, checked: CheckedExpr) -> pl.Expr:
        self.source = checked
        return self.truth(checked.tree)

    def checked(self, checked: CheckedExpr) -> Value:
        self.source = checked
        return self.expr(checked.tree)


def _chosen(choice: tuple[pl.Expr, tuple[str | None, ...]], texts: list[Any]) -> pl.Expr:
    """Whether a first_match decision's text is one of `texts`, from its rule's number: the
    numbers whose value is one of them (a null text is none of them; a string gather and a
    comparison of the texts cost 60 ms at 1,000,000 rows)."""
    rule, values = choice
    return _numbered(rule, [number for number, value in enumerate(values)
                            if value is not None and value in texts], len(values))


def _numbered(rule: pl.Expr, numbers: list[int], count: int) -> pl.Expr:
    """Whether `rule` (a number below `count`) is one of `numbers`."""
    if not numbers or len(numbers) == count:
        return pl.lit(bool(numbers))
    found = rule == numbers[0]
    for number in numbers[1:]:
        found = found | (rule == number)
    return found


def _literal(node: ast.Expr) -> Any:
    if isinstance(node, ast.String):
        return node.value
    if isinstance(node, ast.Number):
        return node.value
    if isinstance(node, ast.DateLit):
        return node.value
    raise TypeError(node)  # pragma: no cover


@dataclass(frozen=True)
class OutputColumn:
    """How one key of the decision record is read back from the query's columns."""

    key: str
    kind: t.Type
    form: str  # number | count | plain | choice | labels | object
    columns: tuple[str, ...]  # the query's columns holding it
    fields: tuple[OutputColumn, ...] = ()  # object decisions
    labels: tuple[str, ...] = ()  # label sets: the label of each column, in first-added order
    values: tuple[str | None, ...] = ()  # a choice (first_match): the value of each rule number
    den: int | None = None  # numbers: the constant denominator (else the second column)


@dataclass
class ColumnarPlan:
    """A policy compiled for one date: the query's expressions and how to read them back."""

    stages: list[list[pl.Expr]]
    outputs: list[OutputColumn]
    warnings: list[pl.Expr]
    warning_columns: list[WarningColumn]
    # the steps that read no case, each entry's fields a column of the query: the deadlines'
    # lists are built from them after it (`columnar/engine.py`: a list of structs built per
    # row cost a fifth of the query)
    household_steps: list[StepColumns]
    hazard: pl.Expr
    emit_labels: dict[str, dict[str, str]]  # first_match key -> value -> label text
    # under a region table: county code -> the policy reference of its region's policy
    region_refs: dict[str, dict[str, Any]] | None = None
    # stage number -> the exploded aggregates joined in before it (len(stages): before the
    # warnings and deadlines)
    joins: dict[int, list[Callable[[pl.LazyFrame], pl.LazyFrame]]] = dataclasses.field(
        default_factory=dict)
    # the record's decimal fields as integers, computed once before the stages
    prelude: list[pl.Expr] = dataclasses.field(default_factory=list)
    # the steps read with a case (None: no step reads one)
    case_steps: CaseSteps | None = None
    # the household steps' dates, a column each (a stage each), in the steps' order: read by
    # the steps after them by name (`CaseSteps.stages` for the case frame)
    step_stages: list[list[pl.Expr]] = dataclasses.field(default_factory=list)
    # the query's columns that the output reads, by the input's columns (columnar/engine.py)
    read_back: dict[tuple[tuple[str, ...], bool], list[str]] = dataclasses.field(
        default_factory=dict, repr=False)

    def query(self, frame: pl.LazyFrame) -> pl.LazyFrame:
        if self.joins:
            frame = frame.with_row_index(ROW_COLUMN)
        if self.prelude:
            frame = frame.with_columns(self.prelude)
        for number, stage in enumerate(self.stages):
            for join in self.joins.get(number, ()):
                frame = join(frame)
            frame = frame.with_columns(stage)
        for join in self.joins.get(len(self.stages), ()):
            frame = join(frame)
        for stage in self.step_stages:
            frame = frame.with_columns(stage)
        return frame.with_columns(*self.warnings, *(expr.alias(name) for step in
                                                    self.household_steps
                                                    for name, expr in step.columns.items()),
                                  self.hazard.alias(HAZARD_COLUMN))


def _per_item(frame: pl.LazyFrame, iterable: str, item_column: str,
              nested: list[tuple[str, Callable[[pl.LazyFrame], pl.LazyFrame]]]
              ) -> pl.LazyFrame:
    """One row per item of the list column `iterable` (the item in `item_column`, the row's
    columns beside it), with the aggregates nested in this one joined in by item row."""
    per_item = frame.with_columns(pl.col(iterable).alias(item_column)).explode(
        item_column).filter(pl.col(item_column).is_not_null())
    if nested:
        per_item = per_item.with_row_index(nested[0][0])
        for _, join in nested:
            per_item = join(per_item)
    return per_item


def _col(name: str, part: str = "") -> str:
    return f"{_PREFIX}{name}{part}"


def compile_columnar(policy: CheckedPolicy, params: dict[str, Any], as_of: date,
                     regions: dict[str, dict[str, Any]] | None = None) -> ColumnarPlan:
    """The policy as Polars expressions for the date `as_of` with the parameter values in force
    then (`params`; under a region table `regions`, each region's, read by the column
    `REGION_COLUMN`, and `params` one region's: it is read only where the regions agree);
    ColumnarUnsupported names the first construct it cannot express."""
    written = set(policy.outputs)
    for name in policy.outputs:
        written.update(policy.nodes[name].fields)
    tr = _Translator(policy, params, as_of, regions=regions,
                     calendar=_calendar_table(policy.calendar), written=frozenset(written))
    stages: list[list[pl.Expr]] = []
    node_columns: dict[str, OutputColumn] = {}
    joins: dict[int, list[Callable[[pl.LazyFrame], pl.LazyFrame]]] = {}
    for index, name in enumerate(policy.order):
        node = policy.nodes[name]
        stage, value, column = _node(tr, index, node, node_columns)
        if tr.joins:
            joins[index], tr.joins = tr.joins, []
        stages.append(stage)
        tr.columns[name] = value
        node_columns[name] = column
    outputs = [dataclasses.replace(node_columns[name], key=policy.output_name(name))
               for name in policy.outputs]
    emit_labels: dict[str, dict[str, str]] = {}
    for name in policy.outputs:
        spec = policy.document.decisions[name]
        if isinstance(spec, FirstMatchDecision) and spec.emit_label:
            vocab = policy.vocabularies[spec.type]
            emit_labels[policy.output_name(name)] = {k: v[0] for k, v in vocab.labels.items()}
    warnings, warning_columns = _warnings(tr)
    household_steps, step_stages, case_steps = _procedure(tr)
    hazard = pl.any_horizontal([h.fill_null(False) for h in tr.hazards]) if tr.hazards \
        else pl.lit(False)
    if tr.joins:
        joins[len(stages)] = tr.joins
    return ColumnarPlan(stages, outputs, warnings, warning_columns, household_steps, hazard,
                        emit_labels, joins=joins, prelude=list(tr.prelude.values()),
                        case_steps=case_steps, step_stages=step_stages)


_CALENDARS: dict[Any, CalendarTable | None] = {}


def _calendar_table(calendar: Any) -> CalendarTable | None:
    """The calendar's table, made once per calendar (equal calendars share one)."""
    if calendar not in _CALENDARS:
        _CALENDARS[calendar] = CalendarTable.of(calendar)
    return _CALENDARS[calendar]


def _node(tr: _Translator, index: int, node: CheckedNode,
          node_columns: dict[str, OutputColumn]) -> tuple[list[pl.Expr], Value, OutputColumn]:
    base = f"n{index}"
    kind = node.type
    if node.kind in ("definition", "value"):
        assert node.expr is not None
        value = tr.checked(node.expr)
        return _materialise(tr, node, base, value, kind)
    if node.kind == "first_match":
        # the number of the first rule that holds (len(rules): none holds), then its label
        # gathered from the labels: a chain of small integers and one gather cost a tenth
        # of a chain of strings (replace_strict three times the gather)
        labels = [rule.label for rule in node.rules] + [node.otherwise]
        code = pl.UInt8 if len(labels) <= 256 else pl.UInt32
        chain: Any = None
        for number, rule in enumerate(node.rules):
            cond = tr.truth_of(rule.when)
            then = pl.lit(number, dtype=code)
            chain = pl.when(cond).then(then) if chain is None else chain.when(cond).then(then)
        name = _col(base)
        if chain is None:
            return [pl.lit(node.otherwise, dtype=pl.String).alias(name)], \
                Val(pl.col(name), "text", node.otherwise is None), \
                OutputColumn(node.name, kind, "plain", (name,))
        # the output is read from the rule's number (its label a take of the few labels: 6.5
        # against 33 ms for a replace_strict of the texts at 1,000,000 rows), and so is a
        # comparison with a text (`_chosen`): the text column is computed only where another
        # expression reads it
        rule = chain.otherwise(pl.lit(len(node.rules), dtype=code))
        rule_name = _col(base, "_rule")
        value = Val(pl.col(name), "text", node.otherwise is None,
                    choice=(pl.col(rule_name), tuple(labels)))
        return [rule.alias(rule_name),
                pl.lit(pl.Series(labels, dtype=pl.String)).gather(rule).alias(name)], value, \
            OutputColumn(node.name, kind, "choice", (rule_name,), values=tuple(labels))
    if node.kind == "collect":
        added: dict[str, pl.Expr] = {}
        for rule in node.rules:
            cond = tr.truth_of(rule.when)
            for label in rule.labels:
                added[label] = added[label] | cond if label in added else cond
        names = {label: _col(base, f"_{number}") for number, label in enumerate(added)}
        stage = [flag.alias(names[label]) for label, flag in added.items()]
        # the record path's order: a label where the first rule adding it comes
        flags = {label: pl.col(names[label]) for label in added}
        return stage, Labels(flags), OutputColumn(node.name, kind, "labels",
                                                  tuple(names[label] for label in added),
                                                  labels=tuple(added))
    if node.kind == "object":
        fields = tuple(dataclasses.replace(node_columns[f], key=f.split(".", 1)[1])
                       for f in node.fields)
        name = _col(base, "_present")
        present = tr.truth_of(node.when) if node.when is not None else pl.lit(True)
        return [present.alias(name)], Val(pl.col(name), "bool", False), \
            OutputColumn(node.name, kind, "object", (name,), fields)
    raise tr.refuse(ast.Null((0, 0)), f"a decision of kind {node.kind}")  # pragma: no cover


def _materialise(tr: _Translator, node: CheckedNode, base: str, value: Value,
                 kind: t.Type) -> tuple[list[pl.Expr], Value, OutputColumn]:
    if isinstance(value, Num):
        num_name, den_name = _col(base, "_n"), _col(base, "_d")
        stage = [tr.num_expr(value).alias(num_name)]
        den: pl.Expr | int = value.den
        if not isinstance(value.den, int):
            stage.append(value.den.alias(den_name))
            den = pl.col(den_name)
        form = "count" if t.strip(kind) == t.COUNT else "number"
        columns = (num_name,) if isinstance(den, int) else (num_name, den_name)
        held = dataclasses.replace(value, num=pl.col(num_name), den=den)
        if node.name in tr.written and form == "number" and tr.signed_zero(node.name):
            # Decimal keeps the sign of a zero (0 * -1 is -0, written "-0"); the fraction
            # does not: a written zero of such an expression is the record path's to write
            tr.hazards.append(pl.col(num_name) == 0)
        if value.inexact is not None:
            inexact_name = _col(base, "_x")
            stage.append(value.inexact.alias(inexact_name))
            held = dataclasses.replace(held, inexact=pl.col(inexact_name))
            if node.name in tr.written:  # its digits would be the exact fraction's
                tr.hazards.append(pl.col(inexact_name))
        return stage, held, OutputColumn(node.name, kind, form, columns,
                                         den=den if isinstance(den, int) else None)
    if isinstance(value, Labels):
        raise tr.refuse(node.expr.tree if node.expr else ast.Null((0, 0)),
                        "a set of labels copied into another definition")
    name = _col(base)
    return [value.expr.alias(name)], dataclasses.replace(value, expr=pl.col(name),
                                                         is_const=False, const=None), \
        OutputColumn(node.name, kind, "plain", (name,))


@dataclass(frozen=True)
class WarningColumn:
    """One warning rule's column: a boolean, or (a rule `for:` a list) a list of booleans,
    whether it holds for each item, in the list's order. The entries are built from them only
    where a rule holds: building a list of structs for every row costs more than all the
    rules."""

    code: str
    field: str
    cite: str
    column: str
    per_item: bool


def _warnings(tr: _Translator) -> tuple[list[pl.Expr], list[WarningColumn]]:
    exprs: list[pl.Expr] = []
    columns: list[WarningColumn] = []
    for number, rule in enumerate(tr.policy.warnings):
        tr.source = rule.when
        name = _col(f"w{number}")
        if rule.iterable is None:
            exprs.append(tr.truth(rule.when.tree).alias(name))
        else:
            assert rule.var is not None
            if tr.reads_beside_item([rule.when.tree], rule.var):
                exprs.append(tr.exploded_positions(rule.when.tree, rule.var, rule.iterable,
                                                   name))
            else:
                tr.bound_var = rule.var
                before = len(tr.hazards)
                try:
                    cond = tr.truth(rule.when.tree)
                finally:
                    tr.bound_var = None
                if len(tr.hazards) > before:  # a division by an item's value: per row
                    del tr.hazards[before:]
                    exprs.append(tr.exploded_positions(rule.when.tree, rule.var,
                                                       rule.iterable, name))
                else:  # a flag per item: `arg_where` in list.eval runs list by list
                    exprs.append(pl.col(rule.iterable).list.eval(cond).alias(name))
        columns.append(WarningColumn(rule.code, rule.field, rule.cite, name,
                                     rule.iterable is not None))
    return exprs, columns


_WARNING_DTYPE = pl.Struct({"code": pl.String, "field": pl.String, "cite": pl.String})
DEADLINE_DTYPE = pl.Struct({"step": pl.String, "due": pl.Date, "done": pl.Date,
                            "status": pl.String, "late_working_days": pl.Int64,
                            "cite": pl.String, "case_id": pl.String, "reason": pl.String})


_EMPTY_DEADLINES = pl.lit([], dtype=pl.List(DEADLINE_DTYPE))
_DEADLINE_SCHEMA = DEADLINE_DTYPE.to_schema()  # an entry's fields and their types, in order
DEADLINE_FIELDS = tuple(_DEADLINE_SCHEMA)
# the fields of a deadline entry that a step's columns hold (the others are the step's own)
ENTRY_FIELDS = ("due", "done", "status", "late_working_days", "reason")


def step_entries(frame: pl.DataFrame, keys: list[str], parts: list[StepColumns | pl.Expr],
                 lists: dict[int, str] | None = None) -> pl.DataFrame:
    """The deadline entries of the steps `parts` in `frame` (a step's entry as columns, or,
    its number in `lists`, a column of a list of entries per row: a quarterly step's), one
    row per entry: `keys`, then the entry's fields in `DEADLINE_DTYPE`'s order, sorted by
    `keys` and the step's number, each step's entries of a row in their order. A step's
    entries are the rows it holds for, read from its columns: building a list of structs per
    row and step in the query, then exploding them, cost most of the steps' time."""
    schema = _DEADLINE_SCHEMA
    number_column = _col("part")
    pieces = []
    for number, part in enumerate(parts):
        if isinstance(part, StepColumns):
            read = {"step": pl.lit(part.name, pl.String), "cite": pl.lit(part.cite, pl.String),
                    "case_id": pl.lit(None, pl.String) if part.case_id is None
                    else pl.col(part.case_id),
                    **{field: pl.col(column) for field, column in part.fields.items()}}
            pieces.append(frame.lazy().filter(pl.col(part.on)).select(
                *keys, pl.lit(number, pl.Int64).alias(number_column),
                *(read[field].cast(kind).alias(field) for field, kind in schema.items()))
                .collect())
        else:
            assert lists is not None
            pieces.append(frame.select(*keys, pl.lit(number, pl.Int64).alias(number_column),
                                       pl.col(lists[number]).alias("entry"))
                          .explode("entry", keep_nulls=False).unnest("entry")
                          .select(*keys, number_column, *schema))
    flat = pl.concat(pieces, how="vertical") if pieces else pl.DataFrame(
        {**{key: frame.get_column(key).head(0) for key in keys},
         number_column: pl.Series([], dtype=pl.Int64)}).with_columns(
        pl.lit(None, kind).alias(field) for field, kind in schema.items())
    if len(pieces) > 1:
        flat = flat.sort([*keys, number_column], maintain_order=True)
    return flat.drop(number_column)


@dataclass(frozen=True)
class StepColumns:
    """A step's entry as columns: `on` (whether the row has the entry), each of
    `ENTRY_FIELDS` and, for a step read with a case, the case's id, by column name; its name
    and cite are constant. The entries' lists are built from them (building a list of
    structs per row and step, then exploding them, cost most of the steps' time)."""

    name: str
    cite: str
    on: str
    fields: dict[str, str]  # entry field -> column
    case_id: str | None  # the column of the case's id (None: the entry has none)
    columns: dict[str, pl.Expr]  # column -> its expression


@dataclass
class CaseSteps:
    """The procedure as it is read with a case, over a frame of one row per (household, case):
    the household's columns the steps read (`columns`) beside the case (CASE_COLUMN), its place
    among the household's cases (CASE_ORDER_COLUMN) and the household's row
    (CASE_HOUSEHOLD_COLUMN). A household's entries are in the record path's order: it decides
    a household with its first case, every step in order (those that read no case too), then
    adds the case steps' entries of each further case."""

    columns: list[str]
    # each step's dates, a column each (a stage each), in the steps' order: a step reads the
    # columns of the steps it reads, not their expressions written into it again (3,000
    # cases took 17 s so)
    stages: list[list[pl.Expr]]
    joins: list[_QuarterlyEntries]  # the quarterly steps' entries
    # each step's entry as columns, or a quarterly step's entries (a list), in the steps'
    # order
    parts: list[StepColumns | pl.Expr]
    hazard: pl.Expr

    def decide(self, frame: pl.LazyFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
        """(the entries of all steps, one row each (`step_entries`), sorted by household
        (CASE_HOUSEHOLD_COLUMN), case and step, not made into lists by `concat_list` (2.7 s for
        29,000 cases, against milliseconds); whether the record path decides each household,
        CASE_HAZARD_COLUMN, by CASE_HOUSEHOLD_COLUMN)."""
        for stage in self.stages:
            frame = frame.with_columns(stage)
        for join in self.joins:
            frame = join(frame)
        keys = [CASE_HOUSEHOLD_COLUMN, CASE_ORDER_COLUMN]
        lists = {number: _col("part", str(number)) for number, part in enumerate(self.parts)
                 if not isinstance(part, StepColumns)}
        # collected in memory: the streaming engine took 1.3 to 1.6 times as long over this
        # plan of some fifty stages of a column each (28,722 cases)
        wide = frame.select(*keys, *(expr.alias(name) for part in self.parts
                                     if isinstance(part, StepColumns)
                                     for name, expr in part.columns.items()),
                            *(part.alias(lists[number]) for number, part in
                              enumerate(self.parts) if not isinstance(part, StepColumns)),
                            self.hazard.alias(CASE_HAZARD_COLUMN)).collect(engine="in-memory")
        flat = step_entries(wide, keys, self.parts, lists)
        hazard = wide.group_by(CASE_HOUSEHOLD_COLUMN).agg(pl.col(CASE_HAZARD_COLUMN).any())
        return flat, hazard


def _procedure(tr: _Translator
               ) -> tuple[list[StepColumns], list[list[pl.Expr]], CaseSteps | None]:
    """The steps that read no case, as the columns of their entries (the deadlines of a
    household decided without a case: the record path runs only these then) and the stages
    of their dates, and the steps read with a case (None: no step reads one)."""
    joins: list[_QuarterlyEntries] = []
    no_case = pl.lit(None, dtype=pl.String)
    household: list[StepColumns] = []
    household_stages: list[list[pl.Expr]] = []
    for step in tr.policy.steps:
        if not step.needs_case:
            columns = _step(tr, step, no_case, joins, household_stages)
            if isinstance(columns, StepColumns):  # (a quarterly one is refused below)
                household.append(columns)
    if joins:  # a quarterly step reading no case: its quarters would be joined by row
        step = next(s for s in tr.policy.steps if s.kind == "quarterly" and not s.needs_case)
        tr.source = step.due
        raise tr.refuse(step.due.tree, "a quarterly step that reads no case")
    if not any(step.needs_case for step in tr.policy.steps):
        return household, household_stages, None
    household_hazards, tr.hazards = tr.hazards, []
    joins_before = len(tr.joins)
    tr.in_case, tr.step_values, tr.step_uncovered = True, {}, {}
    try:
        case_id = pl.col(CASE_COLUMN).struct.field("case_id")
        first = pl.col(CASE_ORDER_COLUMN) == 0  # a step that reads no case: its first case's
        parts: list[StepColumns | pl.Expr] = []
        stages: list[list[pl.Expr]] = []
        for step in tr.policy.steps:
            parts.append(_step(tr, step, case_id if step.needs_case else no_case, joins,
                               stages, None if step.needs_case else first))
        if len(tr.joins) > joins_before:  # pragma: no cover - refused in `aggregate`
            raise tr.refuse(tr.policy.steps[0].due.tree, "an aggregate in a step")
        case_hazards = tr.hazards
    finally:
        tr.hazards, tr.in_case = household_hazards, False
        tr.step_values, tr.step_uncovered = {}, {}
    hazard = pl.any_horizontal([h.fill_null(False) for h in case_hazards]) if case_hazards \
        else pl.lit(False)
    staged = [expr for stage in stages for expr in stage]
    own = {CASE_COLUMN, CASE_ORDER_COLUMN, CASE_HOUSEHOLD_COLUMN, *(j.column for j in joins),
           *(expr.meta.output_name() for expr in staged)}
    exprs = [e for part in parts for e in (part.columns.values() if isinstance(
        part, StepColumns) else [part])]
    read = sorted({name for expr in (*exprs, hazard, *staged, *(e for j in joins
                                                                for e in j.reads()))
                   for name in expr.meta.root_names()} - own)
    return household, household_stages, CaseSteps(read, stages, joins, parts, hazard)


def _step(tr: _Translator, step: Any, case_id: pl.Expr, joins: list[_QuarterlyEntries],
          stages: list[list[pl.Expr]], gate: pl.Expr | None = None) -> StepColumns | pl.Expr:
    """A step's entry as columns (`StepColumns`: none where its `when`, or `gate`, does not
    hold), as `runtime.step_entry` writes it, or a quarterly step's entries (a list column
    joined in: `joins`, as `quarterly_entries` writes them); `steps.X` then reads its value,
    the day it was done (known by as_of) or else its due date. Its dates are each a stage of
    `stages` (the main query's for a household's step, the case frame's while `tr.in_case`),
    read by name: a step reading another's date, written out whole, grows with each step
    (three household steps shifting the one before by working days made an expression of
    660 million characters)."""
    as_of = pl.lit(tr.as_of, dtype=pl.Date)
    where = "case" if tr.in_case else "household"

    def staged(expr: pl.Expr, part: str) -> pl.Expr:
        name = _col(f"{where}_stage{step.index}_", part)
        stages.append([expr.alias(name)])  # read by the next ones: a stage of its own
        return pl.col(name)

    cond = staged(tr.truth_of(step.when), "when") if step.when is not None else None
    if step.kind == "quarterly":
        assert step.done is not None  # the checker requires it
        due = staged(_step_date(tr, step.due), "due")
        until = staged(_step_date(tr, step.until), "until") if step.until is not None else None
        done_list = _date_list(tr, step.done)
        owed = cond if cond is not None else pl.lit(True)
        column = _col("quarterly_", str(step.index))
        joins.append(_QuarterlyEntries(step.name, step.cite, tr.as_of, column, due, until,
                                       done_list, owed, case_id))
        # a quarterly step has no one date: a constant null (shifted, it stays null)
        tr.step_values[step.name] = Val(pl.lit(None, dtype=pl.Date), "date", True, None, True)
        return pl.col(column)
    shifts = itertools.count()
    due_date, uncovered = _step_due_date(
        tr, step.due, lambda expr, kind: staged(expr, f"due_shift{next(shifts)}_{kind}"))
    due = staged(due_date, "due")
    if uncovered is not None:
        uncovered = staged(uncovered, "due_uncovered")
    done = _step_date(tr, step.done) if step.done is not None else None
    if done is not None:  # as of a date, what happened after it has not happened yet
        done = staged(pl.when(done <= as_of).then(done), "done")
    value = due if done is None else pl.coalesce(done, due)
    value = staged(value if cond is None else pl.when(cond).then(value), "value")
    tr.step_values[step.name] = Val(value, "date", True)
    if uncovered is not None:  # the step's date is its due date where it is not done
        value_uncovered = uncovered if done is None else pl.when(done.is_null()).then(uncovered)
        tr.step_uncovered[step.name] = staged(
            value_uncovered if cond is None else pl.when(cond).then(value_uncovered),
            "value_uncovered")
    required_by = staged(_step_date(tr, step.required_by), "required_by") \
        if step.required_by is not None else None
    status, shown_due, late, reason = _status(tr, step, due, done, required_by, uncovered)
    prefix = f"{where}_step{step.index}_"
    values = dict(zip(ENTRY_FIELDS, (
        shown_due, done if done is not None else pl.lit(None, dtype=pl.Date), status, late,
        reason), strict=True))
    names = {field: _col(prefix, field) for field in ENTRY_FIELDS}
    on = pl.lit(True) if cond is None else cond.fill_null(False)
    columns = {_col(prefix, "on"): on if gate is None else on & gate,
               **{names[field]: values[field] for field in ENTRY_FIELDS}}
    if step.needs_case:
        columns[_col(prefix, "case_id")] = case_id
    return StepColumns(step.name, step.cite, _col(prefix, "on"), names,
                       _col(prefix, "case_id") if step.needs_case else None, columns)


def _uncovered_reason(year: pl.Expr) -> pl.Expr:
    """`runtime.uncovered_reason` of each row's year."""
    pieces = UNCOVERED_REASON.split("{year}")
    parts: list[pl.Expr] = [pl.lit(pieces[0])]
    for piece in pieces[1:]:
        parts += [year.cast(pl.String), pl.lit(piece)]
    return pl.concat_str(parts)


def _status(tr: _Translator, step: Any, due: pl.Expr, done: pl.Expr | None,
            required_by: pl.Expr | None, uncovered: pl.Expr | None
            ) -> tuple[pl.Expr, pl.Expr, pl.Expr, pl.Expr]:
    """(status, the due date shown, late working days, reason) of `runtime.step_entry`;
    `uncovered`, the year the calendar would need for the due date where it cannot give it
    (the due date is null there): the status is `unknown`, the reason names the year."""
    status, shown_due, late, reason = _known_status(tr, step, due, done, required_by)
    if uncovered is None:
        return status, shown_due, late, reason
    unknown = uncovered.is_not_null()
    return pl.when(unknown).then(pl.lit("unknown")).otherwise(status), \
        pl.when(~unknown).then(shown_due), pl.when(~unknown).then(late), \
        pl.when(unknown).then(_uncovered_reason(uncovered)).otherwise(reason)


def _known_status(tr: _Translator, step: Any, due: pl.Expr, done: pl.Expr | None,
                  required_by: pl.Expr | None) -> tuple[pl.Expr, pl.Expr, pl.Expr, pl.Expr]:
    """`_status` of a due date the calendar gives (or null)."""
    as_of = pl.lit(tr.as_of, dtype=pl.Date)
    no_late = pl.lit(None, dtype=pl.Int64)
    no_reason = pl.lit(None, dtype=pl.String)
    overdue = pl.when(due.is_not_null() & (as_of > due)).then(pl.lit("overdue")) \
        .otherwise(pl.lit("pending"))
    if done is None:
        done = pl.lit(None, dtype=pl.Date)
        if step.kind == "deadline":
            return overdue, due, no_late, no_reason
    undone = done.is_null()
    if step.kind == "deadline":
        late = ~undone & due.is_not_null() & (done > due)
        if tr.calendar is None:
            raise tr.refuse(step.due.tree, "the working days a step is late by: the policy's "
                            "calendar covers no year")
        count, year = tr.calendar.between_or_year(due, done)
        counted = late & year.is_null()  # late for sure; by how much, the calendar may not say
        status = pl.when(undone).then(overdue).when(late).then(pl.lit("late")) \
            .otherwise(pl.lit("on_time"))
        return status, due, pl.when(counted).then(count.cast(pl.Int64)), \
            pl.when(late & ~counted).then(_uncovered_reason(year))
    if step.kind == "not_before":
        return pl.when(undone).then(pl.lit("pending")).when(due.is_not_null() & (done < due)) \
            .then(pl.lit("too_early")).otherwise(pl.lit("on_time")), due, no_late, no_reason
    # a public notice: `due` is the earliest day it may end
    period = pl.when(undone | due.is_null()).then(pl.lit("pending")).when(done < due) \
        .then(pl.lit("too_short")).otherwise(pl.lit("on_time"))
    if step.kind == "minimum_period":
        return period, due, no_late, no_reason
    assert step.kind == "notice"
    missing = pl.lit(False) if required_by is None else \
        required_by.is_not_null() & (undone | (done > required_by))
    started = missing | ~undone  # a notice not held has no deadline of its own
    status = pl.when(missing).then(pl.lit("no_notice")).when(undone) \
        .then(pl.lit("not_started")).otherwise(period)
    return status, pl.when(started).then(due), no_late, no_reason


def _step_date(tr: _Translator, checked: CheckedExpr) -> pl.Expr:
    value = tr.checked(checked)
    if not isinstance(value, Val) or value.kind != "date":
        raise tr.refuse(checked.tree, "a step's date of this form")
    return value.expr.cast(pl.Date)


def _staged_due(value: Val, year: pl.Expr | None,
                stage: Callable[[pl.Expr, str], pl.Expr]) -> tuple[Val, pl.Expr | None]:
    """A date shifted on the way to a step's due date (and the year it needs), as columns
    (`step_due`)."""
    return dataclasses.replace(value, expr=stage(value.expr, "date")), \
        None if year is None else stage(year, "year")


def _step_due_date(tr: _Translator, checked: CheckedExpr,
                   stage: Callable[[pl.Expr, str], pl.Expr]) -> tuple[pl.Expr, pl.Expr | None]:
    """A step's due date and the year the calendar would need for it (`step_due`)."""
    tr.source = checked
    value, uncovered = tr.step_due(checked.tree, stage)
    if not isinstance(value, Val) or value.kind != "date":
        raise tr.refuse(checked.tree, "a step's date of this form")
    return value.expr.cast(pl.Date), uncovered


def _date_list(tr: _Translator, checked: CheckedExpr) -> pl.Expr:
    """A quarterly step's dates done: a list of the case or of the record."""
    tr.source = checked
    tree = checked.tree
    if isinstance(tree, ast.Attribute) and isinstance(tree.value, ast.Name) and \
            tree.value.id == "case" and tr.in_case:
        return pl.col(CASE_COLUMN).struct.field(tree.attr)
    if isinstance(tree, ast.Name) and tree.id not in tr.policy.nodes and \
            isinstance(t.strip(tr.type_of(tree)), t.ListOf):
        return pl.col(tree.id)
    raise tr.refuse(tree, "a quarterly step's dates of this form (a list of the case or of "
                    "the record is expressed)")


@dataclass(frozen=True)
class _QuarterlyEntries:
    """A quarterly step's entries as `runtime.quarterly_entries` writes them, joined to the
    case frame as `column`: one per calendar quarter from `start`'s through as_of's (or
    `until`'s, when earlier), done on the first day in it (known by as_of), overdue once it
    has ended without one. The quarters are numbered year * 4 + its index; each owed one
    is a row, the first visit of each (row, quarter) is joined to it."""

    name: str
    cite: str
    as_of: date
    column: str
    start: pl.Expr
    until: pl.Expr | None
    done: pl.Expr
    owed: pl.Expr
    case_id: pl.Expr

    def reads(self) -> list[pl.Expr]:
        """The expressions it reads (for the columns the case frame needs)."""
        return [self.start, self.done, self.owed, self.case_id,
                *([self.until] if self.until is not None else [])]

    def __call__(self, frame: pl.LazyFrame) -> pl.LazyFrame:
        as_of = pl.lit(self.as_of, dtype=pl.Date)
        key, quarter, day, entry = (_col("quarter_", part) for part in
                                    ("row", "number", "day", "entry"))
        end = as_of if self.until is None else pl.min_horizontal(as_of, self.until)
        owed = self.owed & self.start.is_not_null() & (self.start <= as_of) & (end >= self.start)

        def number(d: pl.Expr) -> pl.Expr:
            return d.dt.year().cast(pl.Int64) * 4 + (d.dt.month().cast(pl.Int64) - 1) // 3

        rows = frame.with_row_index(key).cache()  # read three times (as `_per_item`'s joins)
        owing = rows.filter(owed)
        quarters = owing.select(key, self.case_id.alias("case_id"), pl.int_ranges(
            number(self.start), number(end) + 1, dtype=pl.Int64).alias(quarter)).explode(quarter)
        visits = owing.select(key, self.done.alias(day)).explode(day).filter(
            pl.col(day).is_not_null() & (pl.col(day) <= as_of)).group_by(
            key, number(pl.col(day)).alias(quarter)).agg(pl.col(day).min())
        year, index = pl.col(quarter) // 4, pl.col(quarter) % 4
        last = pl.date(year, index * 3 + 1, 1).dt.offset_by("3mo") - pl.duration(days=1)
        status = pl.when(pl.col(day).is_not_null()).then(pl.lit("on_time")) \
            .when(as_of > last).then(pl.lit("overdue")).otherwise(pl.lit("pending"))
        entries = quarters.join(visits, on=[key, quarter], how="left", maintain_order="left") \
            .select(key, pl.struct(
                pl.concat_str(pl.lit(self.name + "_"), year.cast(pl.String), pl.lit("Q"),
                              (index + 1).cast(pl.String)).alias("step"),
                last.alias("due"), pl.col(day).alias("done"), status.alias("status"),
                pl.lit(None, dtype=pl.Int64).alias("late_working_days"),
                pl.lit(self.cite, dtype=pl.String).alias("cite"),
                pl.col("case_id").cast(pl.String), pl.lit(None, dtype=pl.String)
                .alias("reason")).alias(entry)).group_by(key, maintain_order=True).agg(entry)
        return rows.join(entries, on=key, how="left", maintain_order="left").with_columns(
            pl.col(entry).fill_null(_EMPTY_DEADLINES).alias(self.column)).drop(key, entry)


def fraction_texts(nums: list[Any], dens: list[Any] | int,
                   text: Callable[[Decimal], str]) -> list[str | None]:
    """The decimal text of each num/den as the record path writes its quotient: one Decimal
    division in the caller's decimal context (`limits.DECIMAL_CONTEXT`)."""
    out: list[str | None] = []
    if isinstance(dens, int):
        den = Decimal(dens)
        for num in nums:
            out.append(None if num is None else text(Decimal(num) / den))
        return out
    for num, den_value in zip(nums, dens, strict=True):
        out.append(None if num is None else text(Decimal(num) / Decimal(den_value)))
    return out



_INT64_DIGITS, _INT128_DIGITS = 19, 39  # the most digits of an Int64, an Int128 value


def fraction_text_column(frame: pl.DataFrame, num: str, den: str | int,
                         text: Callable[[Decimal], str]) -> Any:
    """The decimal text of each row's num/den (columns of `frame`, den > 0 or a constant) as
    `fraction_texts` writes it, as an Arrow string array, built in columns: one Decimal division
    per distinct (remainder, denominator, digits of the integer part), not per row.

    Why that is the same text: the record path writes q = a / d (a = |num|) rounded to
    `DECIMAL_PRECISION` significant digits, half to even, trailing zeros dropped, a minus
    sign before it when num < 0 (the rounding is symmetric). Write q = I + r / d with
    I = a // d of k digits and r = a % d. The digits kept are I's and the first P - k of
    r / d (P - k plus the leading zeros of r / d when I = 0); which they are, and whether
    rounding carries into I, depend on (r, d, k) only. So the text of J + r / d for
    J = 10**(k-1) (J = 0 when k = 0), which has k digits too, has the same fraction, and its
    integer part is J plus the carry (0 or 1): the text of q is I + carry, then that fraction.
    A whole quotient (r = 0) is I's digits, exact (an integer column has at most 39 digits, fewer
    than the precision) and written as `text` writes a whole Decimal, its digits: only the
    other rows' (r, d, k) are divided.
    """
    import pyarrow as pa
    whole_exact = decimal.getcontext().prec > _INT128_DIGITS
    if frame.height == 0:
        return pa.array([], pa.string())
    if whole_exact and isinstance(den, int) and den == 1:
        return frame.select(pl.col(num).cast(pl.String)).to_series().to_arrow().cast(pa.string())
    a = pl.col(num).abs()
    d = _lit_int(den) if isinstance(den, int) else pl.col(den)
    parts = frame.select(
        (pl.col(num) < 0).fill_null(False).alias("neg"), pl.col(num).is_null().alias("null"),
        (a // d).alias("i"), (a % d).alias("r"),
        (d if isinstance(den, str) else pl.repeat(den, frame.height)).alias("d"))
    whole_part = parts.get_column("i")
    if whole_part.dtype != pl.Int64:
        whole_part = whole_part.cast(pl.Int128)
    # k, the digits of I (0 for I = 0): how many powers of ten are <= I (a binary search
    # costs a third of writing I out)
    most = _INT64_DIGITS if whole_part.dtype == pl.Int64 else _INT128_DIGITS
    powers = pl.Series([10**j for j in range(most)], dtype=whole_part.dtype)
    parts = parts.with_columns(powers.search_sorted(whole_part, side="right").cast(pl.Int64)
                               .alias("k"))
    divided = ~pl.col("null") & (pl.col("r") != 0) if whole_exact else ~pl.col("null")
    largest = parts.get_column("d").max()
    assert largest is None or isinstance(largest, int)
    # each row's key's place among the distinct keys (null for a row not divided)
    if largest is not None and (largest + 1) ** 2 * 64 < 2**63:
        # r < d <= largest and k < 64: one Int64 per (r, d, k), hashed faster than three, and
        # dictionary-encoded by Arrow: the distinct keys and each row's place in one pass (a
        # join back costs more)
        import pyarrow.compute as pc
        width = largest + 1
        codes = parts.select(pl.when(divided).then(
            (pl.col("r").cast(pl.Int64) * width + pl.col("d").cast(pl.Int64)) * 64 +
            pl.col("k"))).to_series().to_arrow()
        encoded = pc.dictionary_encode(codes)  # one array (a Series is joined by to_arrow)
        keys = [(code // 64 // width, code // 64 % width, code % 64)
                for code in encoded.dictionary.to_pylist()]
        place = pl.from_arrow(encoded.indices)
        assert isinstance(place, pl.Series)
    else:
        found = parts.filter(divided).select("r", "d", "k").unique()
        keys = list(zip(*(found.get_column(name).to_list() for name in ("r", "d", "k")),
                        strict=True))
        place = parts.join(found.with_row_index("place"), on=["r", "d", "k"], how="left",
                           maintain_order="left").get_column("place")
    fractions, carries = _fraction_parts(keys, text)
    # a whole quotient has no key: no carry, no fraction
    carry = pl.Series(carries, dtype=pl.Int64).gather(place).fill_null(0)
    return _joined_texts(parts.get_column("i") + carry, parts.get_column("neg"), fractions,
                         place)


def _joined_texts(integer: pl.Series, negative: pl.Series, fractions: list[str],
                  place: pl.Series) -> Any:
    """Each row's text: "-" when `negative`, `integer`'s digits (null: a null text), then the
    fraction at its `place` in `fractions` (null: none). Built at the Arrow level: one take
    from a table of the rows' signed digits ("-0" for a negative row of integer part 0) and
    the fractions, each row's two pieces taken next to each other, so that the values' bytes
    are the texts' and every other offset bounds a text (a `concat_str` of the pieces costs
    about twice as much)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    signed = pl.DataFrame([integer.alias("i"), negative.alias("neg")]).select(
        pl.when(pl.col("neg")).then(pl.lit(0, integer.dtype) - pl.col("i"))  # no Int128 negate
        .otherwise(pl.col("i"))).to_series()
    digits = pc.cast(signed.to_arrow(), pa.string()) if signed.dtype == pl.Int64 else \
        signed.cast(pl.String).to_arrow().cast(pa.string())  # Arrow's cast of Int64: faster
    if digits.offset:
        digits = pa.concat_arrays([digits])  # its validity read from offset 0
    n = len(digits)
    table = pa.concat_arrays([digits, pa.array(["-0", "", *fractions], pa.string())])
    # each row's two pieces, next to each other: its digits (or "-0") and its fraction
    pieces = pl.DataFrame({
        "digits": pl.int_range(n, dtype=pl.Int64, eager=True),
        "negative_zero": (negative & (integer == 0)).fill_null(False),
        "fraction": place.cast(pl.Int64).fill_null(-1) + (n + 2)}).select(pl.concat_arr(
            pl.when(pl.col("negative_zero")).then(pl.lit(n, pl.Int64))
            .otherwise(pl.col("digits")), "fraction")).to_series().arr.explode()
    # (an array of two per row, exploded: 9 ms at 1,000,000 rows; a list's, 280)
    values = table.take(pieces.to_arrow())
    value_offsets = pl.from_arrow(pa.Array.from_buffers(
        pa.int32(), len(values) + 1, [None, values.buffers()[1]], offset=values.offset))
    assert isinstance(value_offsets, pl.Series)
    bounds = value_offsets.gather_every(2).rechunk().to_arrow()
    return pa.StringArray.from_buffers(
        n, bounds.buffers()[1], values.buffers()[2],
        digits.buffers()[0] if digits.null_count else None, digits.null_count)


def _fraction_parts(keys: list[tuple[int, int, int]], text: Callable[[Decimal], str]
                    ) -> tuple[list[str], list[int]]:
    """For each (r, d, k) of `fraction_text_column`, the text after the integer part of
    J + r / d (J = 10**(k-1), 0 for k = 0; "" or "." and its digits) and the carry into the
    integer part (0 or 1): one Decimal division each, kept for the next batches (a run's
    batches share most of their keys; the divisions were a third of a batch's texts)."""
    context = decimal.getcontext()
    if len(_FRACTIONS) > _FRACTION_TABLES:
        _FRACTIONS.clear()
    known = _FRACTIONS.setdefault((text, context.prec, context.rounding, context.Emin,
                                   context.Emax, context.clamp), {})
    if len(known) > _FRACTIONS_KEPT:
        known.clear()
    fractions: list[str] = []
    carries: list[int] = []
    for key in keys:
        part = known.get(key)
        if part is None:
            r, d_value, k = key
            whole = 10 ** (k - 1) if k else 0
            written = text(Decimal(whole * d_value + r) / Decimal(d_value))
            integer, _, fraction = written.partition(".")
            part = known[key] = ("." + fraction if fraction else "", int(integer) - whole)
        fractions.append(part[0])
        carries.append(part[1])
    return fractions, carries


# The divisions made, by text function and decimal context, then by (r, d, k): at most this
# many of each (about 250 bytes each), in at most this many tables
_FRACTIONS: dict[tuple[Any, ...], dict[tuple[int, int, int], tuple[str, int]]] = {}
_FRACTIONS_KEPT = 100_000
_FRACTION_TABLES = 8
