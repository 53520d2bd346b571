"""The columnar back end: a checked policy as one lazy Polars query over a household table.

Each definition and decision becomes columns, computed once, in dependency order; a batch is
decided by one `collect`. Exactness (docs/columnar.md): every number is held as an exact
fraction of two integer columns (numerator, positive denominator), never a Polars Decimal or a
float, since Polars divides a Decimal to the dividend's scale (21455.99 / 3 -> 7152.00).
`a / n < t` is decided as `a * t.den < t.num * n` (n > 0): cross-multiplied, no rounding.
Money comes in at
`MONEY_MAX_FRACTION_DIGITS` (integer 1/10000 yuan), other numbers at
`NUMBER_MAX_FRACTION_DIGITS`; a bound on every integer is carried at compile time and an
expression whose integers could leave Int128 is refused. A quotient is compared or output,
never computed with further (the record path rounds it to 74 digits there, the fraction would
not): such an expression is refused. Output numbers become decimal text through Python's
Decimal in `limits.DECIMAL_CONTEXT`, the one division the record path makes, so the digits are
the record path's.

A construct this back end cannot express is refused when the policy is compiled for it
(`ColumnarUnsupported`, a PolicyError naming the construct and its file:line:col): nothing
falls back silently. Rows where some divisor is zero are reported as `hazard` so the caller
decides them on the record path, which names the definition that failed.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any

import polars as pl

from fangpin_rules.checker.checked import CheckedExpr, CheckedNode, CheckedPolicy
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

_INT64_SAFE = 2**62
_INT128_SAFE = 2**126
_MAX_LIST_ITEMS = 10**6  # a bound on a list's length, for the integer bounds of counts and sums
_PREFIX = "__fpc_"
STEP_KINDS = ("deadline",)


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


@dataclass(frozen=True)
class Val:
    """Any other value: a Polars expression (bool, string, enum, date) or a Python constant."""

    expr: pl.Expr
    kind: str  # bool | text | date | duration
    nullable: bool
    const: Any = None
    is_const: bool = False


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


@dataclass
class _Translator:
    policy: CheckedPolicy
    params: dict[str, Any]
    as_of: date
    columns: dict[str, Value] = dataclasses.field(default_factory=dict)  # node -> its value
    hazards: list[pl.Expr] = dataclasses.field(default_factory=list)
    source: CheckedExpr | None = None
    bound_var: str | None = None
    item: pl.Expr | None = None  # the bound item where it is not pl.element() (ITEM_COLUMN)

    # -- refusals ---------------------------------------------------------------------------
    def refuse(self, node: ast.Expr, what: str) -> ColumnarUnsupported:
        location = self.source.source.location(node.span[0]) if self.source is not None \
            else Location(self.policy.path, 0, 0)
        return ColumnarUnsupported([error(
            "columnar-unsupported", f"the columnar engine cannot decide {what}", location,
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

    def null_of(self, kind: t.Type) -> Value:
        inner = t.strip(kind)
        if inner in t.NUMERIC:
            return Num(None, 1, 0, 1, nullable=True)
        if inner == t.DATE:
            return Val(pl.lit(None, dtype=pl.Date), "date", True, None, True)
        if inner == t.BOOL:
            return Val(pl.lit(None, dtype=pl.Boolean), "bool", True, None, True)
        return Val(pl.lit(None, dtype=pl.String), "text", True, None, True)

    def field(self, node: ast.Expr, base: pl.Expr, kind: t.Type) -> Value:
        inner = t.strip(kind)
        nullable = isinstance(kind, t.Opt)
        if inner == t.MONEY:
            scale = 10 ** MONEY_MAX_FRACTION_DIGITS
            return Num((base * scale).cast(pl.Int64), scale, int(MONEY_MAX_ABS) * scale, scale,
                       nullable=nullable)
        if inner == t.COUNT:
            return Num(base.cast(pl.Int64), 1, int(NUMBER_MAX_ABS), 1, nullable=nullable)
        if inner in t.NUMERIC:
            scale = 10 ** NUMBER_MAX_FRACTION_DIGITS
            return Num((base * scale).cast(pl.Int64), scale, int(NUMBER_MAX_ABS) * scale, scale,
                       nullable=nullable)
        if inner == t.BOOL:
            return Val(base, "bool", nullable)
        if inner == t.DATE:
            return Val(base, "date", nullable)
        if inner == t.STRING or isinstance(inner, t.Enum):
            return Val(base.cast(pl.String), "text", nullable)
        raise self.refuse(node, f"a field of type {kind} read as a value")

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
        if name == self.bound_var:
            raise self.refuse(node, "a list item used as a whole value")
        if name == "as_of":
            return self.constant(node, self.as_of, t.DATE)
        if name in self.policy.parameters:
            return self.constant(node, self.params[name], self.type_of(node))
        if self.bound_var is not None:
            raise self.refuse(node, f"'{name}' read inside an aggregate over a list (only the "
                              "item, parameters and literals can be)")
        if name in self.policy.nodes:
            if name not in self.columns:
                raise self.refuse(node, f"'{name}' before it is computed")
            return self.columns[name]
        if name in ("case", "steps"):
            raise self.refuse(node, f"'{name}' (the procedure reads cases on the record path)")
        kind = self.type_of(node)
        return self.field(node, pl.col(name), kind)

    def attribute(self, node: ast.Attribute, base: ast.Expr, attr: str) -> Value:
        if isinstance(base, ast.Name) and base.id != self.bound_var:
            full = f"{base.id}.{attr}"
            if full in self.policy.nodes:
                return self.name(node, full)
            if base.id in self.policy.nodes or base.id in ("case", "steps"):
                raise self.refuse(node, f"the field '{attr}' of a computed value")
            if self.bound_var is not None:
                raise self.refuse(node, f"'{base.id}.{attr}' read inside an aggregate over a "
                                  "list")
            return self.field(node, pl.col(base.id).struct.field(attr), self.type_of(node))
        if isinstance(base, ast.Name):  # the aggregate's item
            item = pl.element() if self.item is None else self.item
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
                return self.check_bound(node, Num(pl.when(cond).then(a_num).otherwise(b_num),
                                                  common, bound, common,
                                                  a.quotient or b.quotient, nullable))
            num = pl.when(cond).then(self.num_expr(a)).otherwise(self.num_expr(b))
            den = pl.when(cond).then(_as_expr(a.den, a.den_bound)).otherwise(
                _as_expr(b.den, b.den_bound))
            return Num(num, den, max(a.bound, b.bound), max(a.den_bound, b.den_bound),
                       a.quotient or b.quotient, nullable)
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
        if a.quotient or b.quotient:
            raise self.refuse(node, "arithmetic on a quotient (the record path rounds it to "
                              "74 digits first; compare or output a quotient only)")
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
        duration = self.expr(dur_node)
        if not isinstance(day, Val) or day.kind != "date" or not isinstance(duration, Val) or \
                not isinstance(duration.const, DurationValue):
            raise self.refuse(node, "date arithmetic with a duration that is not a constant")
        amount, unit = duration.const.amount * sign, duration.const.unit
        if unit == "days":
            shifted = day.expr + pl.duration(days=amount)
        elif unit in ("months", "quarters", "years"):
            months = amount * {"months": 1, "quarters": 3, "years": 12}[unit]
            shifted = day.expr.dt.offset_by(f"{months}mo")  # clamps to the month's end
        else:
            raise self.refuse(node, f"date arithmetic in {unit} (the working-day calendar)")
        return Val(shifted, "date", day.nullable)

    def compare(self, node: ast.Expr, op: str, left: ast.Expr, right: ast.Expr) -> pl.Expr:
        a, b = self.expr(left), self.expr(right)
        if isinstance(a, Labels) or isinstance(b, Labels):
            raise self.refuse(node, "a comparison of sets of labels")
        equality = op in ("==", "!=")
        if isinstance(a, Num) or isinstance(b, Num):
            na, nb = self.as_num(node, a), self.as_num(node, b)
            if na.num is None or nb.num is None:  # `x == null`
                other: Value = nb if na.num is None else na
                known = self.is_known(other)
                if not equality:
                    return pl.lit(False)
                return ~known if op == "==" else known
            bound = max(na.bound * nb.den_bound, nb.bound * na.den_bound)
            if bound >= _INT128_SAFE:
                raise self.refuse(node, "a comparison whose exact integers could exceed 128 "
                                  "bits")
            lhs = _as_expr(_mul(na.num, nb.den, bound), bound)
            rhs = _as_expr(_mul(nb.num, na.den, bound), bound)
            nullable = na.nullable or nb.nullable
        else:
            assert isinstance(a, Val) and isinstance(b, Val)
            if (a.is_const and a.const is None) or (b.is_const and b.const is None):
                other = b if a.is_const and a.const is None else a
                known = self.is_known(other)
                return ~known if op == "==" else known if equality else pl.lit(False)
            lhs, rhs = a.expr, b.expr
            nullable = a.nullable or b.nullable
        if op == "==":
            return lhs.eq_missing(rhs) if nullable else lhs == rhs
        if op == "!=":
            return lhs.ne_missing(rhs) if nullable else lhs != rhs
        test = {"<": lhs < rhs, "<=": lhs <= rhs, ">": lhs > rhs, ">=": lhs >= rhs}[op]
        return test.fill_null(False) if nullable else test

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
            if not isinstance(node.item, ast.String):
                raise self.refuse(node, "membership of a computed value in a set of labels")
            flag = labels.flags.get(node.item.value, pl.lit(False))
            return ~flag if node.negated else flag
        if not isinstance(container, ast.ListLit) or not all(
                isinstance(i, ast.String | ast.Number | ast.DateLit) for i in container.items):
            raise self.refuse(node, "membership in anything but a list of literals or a set "
                              "of labels")
        item = self.expr(node.item)
        if isinstance(item, Num):
            values = [self.constant(i, _literal(i), t.NUMBER) for i in container.items]
            tests = [self.compare(node, "==", node.item, i) for i in container.items]
            del values
            found = tests[0]
            for test in tests[1:]:
                found = found | test
        elif isinstance(item, Val) and item.kind in ("text", "date"):
            found = item.expr.is_in([_literal(i) for i in container.items]).fill_null(False)
        else:
            raise self.refuse(node, "membership of this kind of value")
        return ~found if node.negated else found

    def call(self, node: ast.Call) -> Value:
        func, args = node.func, node.args
        if func == "count":
            (arg,) = args
            value = None
            if isinstance(arg, ast.Name):
                value = self.columns.get(arg.id)
            if isinstance(value, Labels):
                flags = [flag.cast(pl.Int64) for flag in value.flags.values()]
                total: pl.Expr = pl.sum_horizontal(flags) if flags else pl.lit(0, pl.Int64)
                return Num(total, 1, len(flags), 1)
            if isinstance(arg, ast.Name) and arg.id not in self.policy.nodes and \
                    self.bound_var is None and isinstance(t.strip(self.type_of(arg)), t.ListOf):
                return Num(pl.col(arg.id).list.len().cast(pl.Int64), 1, _MAX_LIST_ITEMS, 1)
            raise self.refuse(node, "count() of this value")
        if func == "age":
            day = self.expr(args[0])
            assert isinstance(day, Val)
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

    def aggregate(self, node: ast.Aggregate) -> Value:
        iterable = node.iterable
        if self.bound_var is not None or not isinstance(iterable, ast.Name) or \
                iterable.id in self.policy.nodes or iterable.id in self.policy.parameters or \
                iterable.id in ("case", "steps", "as_of"):
            raise self.refuse(node, f"{node.func}() over anything but a list of the record")
        column = pl.col(iterable.id)
        self.bound_var = node.var
        try:
            keep = self.truth(node.filter) if node.filter is not None else None
            if node.func in ("any", "all", "count"):
                body = self.truth(node.body)
                if node.func == "all":
                    body = body | ~keep if keep is not None else body
                    return Val(column.list.eval(body).list.all(), "bool", False)
                if keep is not None:
                    body = body & keep
                if node.func == "any":
                    return Val(column.list.eval(body).list.any(), "bool", False)
                return Num(column.list.eval(body.cast(pl.Int64)).list.sum(), 1,
                           _MAX_LIST_ITEMS, 1)
            value = self.expr(node.body)
            if isinstance(value, Num):
                if not isinstance(value.den, int) or value.num is None:
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
            self.bound_var = None

    def truth_of(self, checked: CheckedExpr) -> pl.Expr:
        self.source = checked
        return self.truth(checked.tree)

    def checked(self, checked: CheckedExpr) -> Value:
        self.source = checked
        return self.expr(checked.tree)


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
    form: str  # number | count | plain | labels | object
    columns: tuple[str, ...]  # the query's columns holding it
    fields: tuple[OutputColumn, ...] = ()  # object decisions
    labels: tuple[str, ...] = ()  # label sets: the label of each column, in first-added order
    den: int | None = None  # numbers: the constant denominator (else the second column)


@dataclass
class ColumnarPlan:
    """A policy compiled for one date: the query's expressions and how to read them back."""

    stages: list[list[pl.Expr]]
    outputs: list[OutputColumn]
    warnings: list[pl.Expr]
    warning_columns: list[WarningColumn]
    deadlines: pl.Expr
    hazard: pl.Expr
    emit_labels: dict[str, dict[str, str]]  # first_match key -> value -> label text

    def query(self, frame: pl.LazyFrame) -> pl.LazyFrame:
        for stage in self.stages:
            frame = frame.with_columns(stage)
        frame = frame.with_columns(*self.warnings[:-1])  # the last reads them all
        return frame.with_columns(self.warnings[-1],
                                  self.deadlines.alias(_PREFIX + "deadlines"),
                                  self.hazard.alias(_PREFIX + "hazard"))


def _col(name: str, part: str = "") -> str:
    return f"{_PREFIX}{name}{part}"


def compile_columnar(policy: CheckedPolicy, params: dict[str, Any], as_of: date) -> ColumnarPlan:
    """The policy as Polars expressions for the date `as_of` with the parameter values in force
    then (`params`); ColumnarUnsupported names the first construct it cannot express."""
    tr = _Translator(policy, params, as_of)
    stages: list[list[pl.Expr]] = []
    node_columns: dict[str, OutputColumn] = {}
    for index, name in enumerate(policy.order):
        node = policy.nodes[name]
        stage, value, column = _node(tr, index, node, node_columns)
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
    hazard = pl.any_horizontal([h.fill_null(False) for h in tr.hazards]) if tr.hazards \
        else pl.lit(False)
    warnings, warning_columns = _warnings(tr)
    return ColumnarPlan(stages, outputs, warnings, warning_columns, _deadlines(tr), hazard,
                        emit_labels)


def _node(tr: _Translator, index: int, node: CheckedNode,
          node_columns: dict[str, OutputColumn]) -> tuple[list[pl.Expr], Value, OutputColumn]:
    base = f"n{index}"
    kind = node.type
    if node.kind in ("definition", "value"):
        assert node.expr is not None
        value = tr.checked(node.expr)
        return _materialise(tr, node, base, value, kind)
    if node.kind == "first_match":
        chain: Any = None
        for rule in node.rules:
            cond = tr.truth_of(rule.when)
            then = pl.lit(rule.label, dtype=pl.String)
            chain = pl.when(cond).then(then) if chain is None else chain.when(cond).then(then)
        otherwise = pl.lit(node.otherwise, dtype=pl.String)
        expr = otherwise if chain is None else chain.otherwise(otherwise)
        name = _col(base)
        return [expr.alias(name)], Val(pl.col(name), "text", node.otherwise is None), \
            OutputColumn(node.name, kind, "plain", (name,))
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
        return stage, held, OutputColumn(node.name, kind, form, columns,
                                         den=den if isinstance(den, int) else None)
    if isinstance(value, Labels):
        raise tr.refuse(node.expr.tree if node.expr else ast.Null((0, 0)),
                        "a set of labels copied into another definition")
    name = _col(base)
    return [value.expr.alias(name)], dataclasses.replace(value, expr=pl.col(name),
                                                         is_const=False, const=None), \
        OutputColumn(node.name, kind, "plain", (name,))


ITEM_COLUMN = _PREFIX + "item"  # one item of a list, in a frame of all rows' items


@dataclass(frozen=True)
class WarningColumn:
    """One warning rule: a boolean column of the query, or (a rule `for:` a list) a condition
    on one item (`item_condition`, over the struct column ITEM_COLUMN of a frame holding every
    row's items of `iterable`, evaluated once over them all rather than list by list). The
    entries are built only for the rows that have one: building a list of structs for every
    row costs more than all the rules."""

    code: str
    field: str
    cite: str
    column: str
    per_item: bool
    iterable: str | None = None
    item_condition: pl.Expr | None = None


def _warnings(tr: _Translator) -> tuple[list[pl.Expr], list[WarningColumn]]:
    exprs: list[pl.Expr] = []
    columns: list[WarningColumn] = []
    for number, rule in enumerate(tr.policy.warnings):
        tr.source = rule.when
        name = _col(f"w{number}")
        if rule.iterable is None:
            exprs.append(tr.truth(rule.when.tree).alias(name))
            columns.append(WarningColumn(rule.code, rule.field, rule.cite, name, False))
            continue
        assert rule.var is not None
        tr.bound_var, tr.item = rule.var, pl.col(ITEM_COLUMN)
        try:
            cond = tr.truth(rule.when.tree)
        finally:
            tr.bound_var, tr.item = None, None
        columns.append(WarningColumn(rule.code, rule.field, rule.cite, name, True,
                                     rule.iterable, cond.alias(name)))
    plain = [pl.col(c.column) for c in columns if not c.per_item]
    exprs.append((pl.any_horizontal(plain) if plain else pl.lit(False)).alias(_col("warned")))
    return exprs, columns


_WARNING_DTYPE = pl.Struct({"code": pl.String, "field": pl.String, "cite": pl.String})
DEADLINE_DTYPE = pl.Struct({"step": pl.String, "due": pl.Date, "done": pl.Date,
                            "status": pl.String, "late_working_days": pl.Int64,
                            "cite": pl.String, "case_id": pl.String, "reason": pl.String})


def _deadlines(tr: _Translator) -> pl.Expr:
    """The steps that read no case (without cases the record path runs only these); each of
    the plain kind with nothing done: pending, or overdue once `as_of` is past its due date."""
    parts: list[pl.Expr] = []
    for step in tr.policy.steps:
        if step.needs_case:
            continue
        if step.kind not in STEP_KINDS or step.done is not None or \
                step.required_by is not None or step.until is not None:
            tr.source = step.due
            raise tr.refuse(step.due.tree, f"a step of kind {step.kind} that reads no case")
        due = tr.checked(step.due)
        if not isinstance(due, Val) or due.kind != "date":
            raise tr.refuse(step.due.tree, "a step's due date of this form")
        past = due.expr < pl.lit(tr.as_of, dtype=pl.Date)
        status = pl.when(due.expr.is_not_null() & past).then(
            pl.lit("overdue")).otherwise(pl.lit("pending"))
        entry = pl.struct(pl.lit(step.name, dtype=pl.String).alias("step"),
                          due.expr.cast(pl.Date).alias("due"),
                          pl.lit(None, dtype=pl.Date).alias("done"), status.alias("status"),
                          pl.lit(None, dtype=pl.Int64).alias("late_working_days"),
                          pl.lit(step.cite, dtype=pl.String).alias("cite"),
                          pl.lit(None, dtype=pl.String).alias("case_id"),
                          pl.lit(None, dtype=pl.String).alias("reason"))
        cond = tr.truth_of(step.when) if step.when is not None else pl.lit(True)
        parts.append(pl.when(cond).then(pl.concat_list([entry])).otherwise(
            pl.lit([], dtype=pl.List(DEADLINE_DTYPE))))
    if not parts:
        return pl.lit([], dtype=pl.List(DEADLINE_DTYPE))
    return pl.concat_list(parts)


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



def fraction_text_column(frame: pl.DataFrame, num: str, den: str | int,
                         text: Callable[[Decimal], str]) -> pl.Series:
    """The decimal text of each row's num/den (columns of `frame`, den > 0 or a constant) as
    `fraction_texts` writes it, built in columns: one Decimal division per distinct
    (remainder, denominator, digits of the integer part), not per row.

    Why that is the same text: the record path writes q = a / d (a = |num|) rounded to
    `DECIMAL_PRECISION` significant digits, half to even, trailing zeros dropped, a minus
    sign before it when num < 0 (the rounding is symmetric). Write q = I + r / d with
    I = a // d of k digits and r = a % d. The digits kept are I's and the first P - k of
    r / d (P - k plus the leading zeros of r / d when I = 0); which they are, and whether
    rounding carries into I, depend on (r, d, k) only. So the text of J + r / d for
    J = 10**(k-1) (J = 0 when k = 0), which has k digits too, has the same fraction, and its
    integer part is J plus the carry (0 or 1): the text of q is I + carry, then that fraction.
    """
    a = pl.col(num).abs()
    d = _lit_int(den) if isinstance(den, int) else pl.col(den)
    parts = frame.select(
        (pl.col(num) < 0).alias("neg"), pl.col(num).is_null().alias("null"),
        (a // d).alias("i"), (a % d).alias("r"),
        (d if isinstance(den, str) else pl.repeat(den, frame.height)).alias("d"))
    parts = parts.with_columns(pl.when(pl.col("i") == 0).then(0).otherwise(
        pl.col("i").cast(pl.String).str.len_bytes()).cast(pl.Int64).alias("k"))
    keys = parts.filter(~pl.col("null")).select("r", "d", "k").unique()
    fractions: list[str] = []
    carries: list[int] = []
    for r, d_value, k in keys.iter_rows():
        whole = 10 ** (k - 1) if k else 0
        written = text(Decimal(whole * d_value + r) / Decimal(d_value))
        integer, _, fraction = written.partition(".")
        carries.append(int(integer) - whole)
        fractions.append("." + fraction if fraction else "")
    table = keys.with_columns(pl.Series("fraction", fractions, dtype=pl.String),
                              pl.Series("carry", carries, dtype=pl.Int64))
    joined = parts.join(table, on=["r", "d", "k"], how="left", maintain_order="left")
    return joined.select(pl.when(~pl.col("null")).then(pl.concat_str(
        pl.when(pl.col("neg")).then(pl.lit("-")).otherwise(pl.lit("")),
        (pl.col("i") + pl.col("carry")).cast(pl.String), pl.col("fraction")))).to_series()
