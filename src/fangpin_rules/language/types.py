"""Types of the policy language.

Numbers come in kinds, so that a checker can refuse what makes no sense: money (yuan), ratio,
count (whole numbers) and number (a bare literal, which fits any kind). The record schema a
policy reads is derived from the pydantic models of the data contract: one definition, two uses.
"""

from __future__ import annotations

import datetime as dt
import types as pytypes
import typing
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pydantic import BaseModel


@dataclass(frozen=True, slots=True)
class Type:
    def __str__(self) -> str:
        return type(self).__name__.lower()


@dataclass(frozen=True, slots=True)
class Prim(Type):
    """bool, money, ratio, count, number, date, duration, string, null."""

    name: str

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True, slots=True)
class Opt(Type):
    """A value that may be unknown (null)."""

    inner: Type

    def __str__(self) -> str:
        return f"{self.inner}?"


@dataclass(frozen=True, slots=True)
class Enum(Type):
    """A string from a fixed list (a contract enum or a policy vocabulary)."""

    name: str
    values: tuple[str, ...]

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True, slots=True)
class LabelSet(Type):
    """A set of labels of one vocabulary (the result of a `collect` decision)."""

    vocabulary: Enum

    def __str__(self) -> str:
        return f"set of {self.vocabulary.name}"


@dataclass(frozen=True, slots=True)
class ListOf(Type):
    element: Type

    def __str__(self) -> str:
        return f"list of {self.element}"


@dataclass(frozen=True)
class Record(Type):
    name: str
    fields: dict[str, Type]

    def __hash__(self) -> int:
        return hash(self.name)

    def __str__(self) -> str:
        return self.name


BOOL = Prim("bool")
MONEY = Prim("money")
RATIO = Prim("ratio")
COUNT = Prim("count")
NUMBER = Prim("number")
DATE = Prim("date")
DURATION = Prim("duration")
STRING = Prim("string")
NULL = Prim("null")
NUMERIC = frozenset({MONEY, RATIO, COUNT, NUMBER})
DIMENSIONLESS = frozenset({RATIO, COUNT, NUMBER})
BY_NAME: dict[str, Type] = {t.name: t for t in (BOOL, MONEY, RATIO, COUNT, NUMBER, DATE, DURATION,
                                                 STRING)}


def strip(t: Type) -> Type:
    return t.inner if isinstance(t, Opt) else t


def optional(t: Type) -> Type:
    return t if isinstance(t, Opt) or t == NULL else Opt(t)


def is_numeric(t: Type) -> bool:
    return t in NUMERIC


def add_kind(a: Type, b: Type) -> Type | None:
    """Result of a + b or a - b for numeric kinds, or None when the kinds do not mix."""
    if a == b:
        return a
    if a == NUMBER:
        return b
    if b == NUMBER:
        return a
    if a in DIMENSIONLESS and b in DIMENSIONLESS:
        return RATIO if RATIO in (a, b) else NUMBER
    return None


def multiply_kind(a: Type, b: Type) -> Type | None:
    if a == MONEY and b == MONEY:
        return None
    if MONEY in (a, b):
        return MONEY
    if a == b:
        return a
    return RATIO if RATIO in (a, b) else NUMBER


def divide_kind(a: Type, b: Type) -> Type | None:
    if a == MONEY and b == MONEY:
        return RATIO
    if a == MONEY:
        return MONEY
    if b == MONEY:
        return None
    return RATIO


def element_of(t: Type) -> Type | None:
    """What a list or a label set holds (None when `t` is neither)."""
    if isinstance(t, LabelSet):
        return t.vocabulary
    if isinstance(t, ListOf):
        return t.element
    return None


def comparable(a: Type, b: Type) -> bool:
    """Whether `a < b` makes sense."""
    if is_numeric(a) and is_numeric(b):
        return add_kind(a, b) is not None
    return a == b and a in (DATE, STRING)


def unify(a: Type, b: Type) -> Type | None:
    """The type of `if c then a else b` (and of list literals)."""
    if a == b:
        return a
    if a == NULL:
        return optional(b)
    if b == NULL:
        return optional(a)
    if isinstance(a, Opt) or isinstance(b, Opt):
        inner = unify(strip(a), strip(b))
        return optional(inner) if inner is not None else None
    if is_numeric(a) and is_numeric(b):
        return add_kind(a, b)
    if isinstance(a, Enum) and b == STRING:
        return a
    if isinstance(b, Enum) and a == STRING:
        return b
    return None


def from_annotation(annotation: Any, name: str) -> Type:
    """Map a pydantic field annotation of the data contract to a language type."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        base, *meta = typing.get_args(annotation)
        for m in meta:
            kind = getattr(m, "kind", None)
            if kind in BY_NAME:
                return BY_NAME[kind]
        return from_annotation(base, name)
    if origin in (typing.Union, pytypes.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        inner = from_annotation(args[0], name)
        return Opt(inner) if len(args) < len(typing.get_args(annotation)) else inner
    if origin is typing.Literal:
        return Enum(name, tuple(str(v) for v in typing.get_args(annotation)))
    if origin is list:
        return ListOf(from_annotation(typing.get_args(annotation)[0], name))
    if annotation is bool:
        return BOOL
    if annotation is int:
        return COUNT
    if annotation is Decimal:
        return NUMBER
    if annotation is dt.date:
        return DATE
    if annotation is str:
        return STRING
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return record_type(annotation)
    raise TypeError(f"field {name}: no language type for {annotation!r}")


_records: dict[type[BaseModel], Record] = {}


def record_type(model: type[BaseModel]) -> Record:
    """The language type of a contract model (cached: models are static)."""
    cached = _records.get(model)
    if cached is not None:
        return cached
    fields: dict[str, Type] = {}
    record = Record(model.__name__.lower(), fields)
    _records[model] = record
    for field_name, info in model.model_fields.items():
        annotation: Any = info.annotation
        if info.metadata:
            annotation = typing.Annotated[(annotation, *info.metadata)]
        fields[field_name] = from_annotation(annotation, field_name)
    return record


def describe(t: Type) -> str:
    """How a type reads in a message."""
    if isinstance(t, Enum):
        shown = ", ".join(t.values[:8]) + (", …" if len(t.values) > 8 else "")
        return f"{t.name} (one of {shown})"
    return str(t)
