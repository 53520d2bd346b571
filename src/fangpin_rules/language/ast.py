"""The expression tree. Every node carries its span (start, end) in the expression's text."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

Span = tuple[int, int]


@dataclass(frozen=True, slots=True)
class Expr:
    span: Span


@dataclass(frozen=True, slots=True)
class Number(Expr):
    value: Decimal
    text: str


@dataclass(frozen=True, slots=True)
class Duration(Expr):
    amount: int
    unit: str  # canonical: working_days, days, months, quarters, years


@dataclass(frozen=True, slots=True)
class String(Expr):
    value: str


@dataclass(frozen=True, slots=True)
class DateLit(Expr):
    value: date


@dataclass(frozen=True, slots=True)
class Bool(Expr):
    value: bool


@dataclass(frozen=True, slots=True)
class Null(Expr):
    pass


@dataclass(frozen=True, slots=True)
class Name(Expr):
    id: str


@dataclass(frozen=True, slots=True)
class Attribute(Expr):
    value: Expr
    attr: str
    attr_span: Span


@dataclass(frozen=True, slots=True)
class Call(Expr):
    func: str
    args: tuple[Expr, ...]
    func_span: Span


@dataclass(frozen=True, slots=True)
class Aggregate(Expr):
    """`any(m.age >= 60 for m in members)`: a quantifier or aggregate with a bound name."""

    func: str
    var: str
    iterable: Expr
    body: Expr
    func_span: Span
    filter: Expr | None = None  # `… for m in members if cond`


@dataclass(frozen=True, slots=True)
class ListLit(Expr):
    items: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Not(Expr):
    operand: Expr


@dataclass(frozen=True, slots=True)
class Neg(Expr):
    operand: Expr


@dataclass(frozen=True, slots=True)
class BoolOp(Expr):
    op: str  # "and" | "or"
    operands: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class BinOp(Expr):
    op: str  # + - * /
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class Compare(Expr):
    op: str  # < <= > >= == !=
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class Contains(Expr):
    item: Expr
    container: Expr
    negated: bool


@dataclass(frozen=True, slots=True)
class Coalesce(Expr):
    """`a ?? b`: a when known, else b."""

    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class IfExpr(Expr):
    cond: Expr
    then: Expr
    orelse: Expr


def children(node: Expr) -> tuple[Expr, ...]:
    """The direct sub-expressions of a node, in source order."""
    match node:
        case Attribute(value=v):
            return (v,)
        case Call(args=args):
            return args
        case Aggregate(iterable=it, body=body, filter=None):
            return (it, body)
        case Aggregate(iterable=it, body=body, filter=cond) if cond is not None:
            return (it, body, cond)
        case ListLit(items=items):
            return items
        case Not(operand=o) | Neg(operand=o):
            return (o,)
        case BoolOp(operands=ops):
            return ops
        case BinOp(left=left, right=right) | Compare(left=left, right=right) | \
                Coalesce(left=left, right=right):
            return (left, right)
        case Contains(item=item, container=container):
            return (item, container)
        case IfExpr(cond=c, then=t, orelse=e):
            return (c, t, e)
    return ()


def walk(node: Expr) -> list[Expr]:
    """Every node of the tree, iteratively (no recursion limit to hit)."""
    out: list[Expr] = []
    stack = [node]
    while stack:
        current = stack.pop()
        out.append(current)
        stack.extend(reversed(children(current)))
    return out


def depth(node: Expr) -> int:
    best = 0
    stack: list[tuple[Expr, int]] = [(node, 1)]
    while stack:
        current, d = stack.pop()
        best = max(best, d)
        stack.extend((child, d + 1) for child in children(current))
    return best
