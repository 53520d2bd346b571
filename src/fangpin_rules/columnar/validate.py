"""The data contract checked in columns: which rows of an Arrow table need the per-row reader.

Reading every row of a table through the typed reader (engine/typed_json.py) costs more than
deciding it. Here the same checks are column expressions derived from the record model (the
one definition of the contract, as the typed reader derives its structs from it): a required
field or a field with a default that is null, a text with whitespace to strip, too short or too
long, or not of its pattern, an enumeration value outside it, a count outside its bounds, an
amount above its bound, below zero where it must not be, or with more decimal places than the
contract allows, a list (of members, or of values: a case's visits) too short or too long or
holding a null, and the same member twice. A row for which any of them holds is *suspect*;
only suspect rows go through the per-row reader, which accepts them (a lax form, a default to
fill) or rejects them with the same row, id, field and every problem as the record path.

The check is conservative by construction: it flags every row the per-row reader would refuse
or read differently from its columns, and may flag a row it would take as it is (a non-ASCII
text in a field with a pattern): such a row costs only its own speed. A table whose columns are
not in `input_schema(policy)`'s types (numbers as text, a column of another type), or a model
with a constraint this module does not know, is not checked here: every row goes the per-row
way, as before (`suspect_rows` returns None).
"""

from __future__ import annotations

import functools
import operator
import types
import typing
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

import polars as pl
from pydantic import BaseModel

from fangpin_rules.engine.typed_json import Unsupported, _constraints, _flatten, typed_reader

__all__ = ["suspect_rows"]

# str.isspace() of Python 3.11 (tests/columnar/test_columnar_validate.py holds this equal to
# the running Python's): written out, since finding them costs a pass over all code points.
_PYTHON_SPACES = (0x9, 0xA, 0xB, 0xC, 0xD, 0x1C, 0x1D, 0x1E, 0x1F, 0x20, 0x85, 0xA0, 0x1680,
                  *range(0x2000, 0x200B), 0x2028, 0x2029, 0x202F, 0x205F, 0x3000)

# The characters Python's str.strip() removes (str.isspace), as a regular expression class:
# Polars' strip_chars() follows Rust's definition, which differs (U+001C..U+001F).
_SPACES = "".join(chr(code) for code in _PYTHON_SPACES)
# The dates Python's date holds (the years 1 to 9999).
_FIRST_DATE, _LAST_DATE = date.min, date.max


class _Checks:
    """The suspect conditions of one model's fields, as Polars expressions."""

    def __init__(self) -> None:
        self.lists: list[tuple[str, type[BaseModel]]] = []  # top-level lists of models
        # the texts to strip, checked in Arrow (`_untrimmed`): each one's path from its column
        self.stripped: list[tuple[str | None, ...]] = []

    def field_bad(self, annotation: Any, metadata: list[Any], value: pl.Expr, strip: bool,
                  path: tuple[str | None, ...], nullable: bool = False) -> list[pl.Expr]:
        """Conditions under which the value at `value` (at `path` from its column, `_ITEMS`
        for a list's items) makes its row suspect. A null is one unless the type admits it
        (`X | None`): a field with a default the per-row reader fills, or a required one it
        rejects."""
        origin = typing.get_origin(annotation)
        if origin is Annotated:
            inner, *extra = typing.get_args(annotation)
            return self.field_bad(inner, [*metadata, *_flatten(extra)], value, strip, path,
                                  nullable)
        if origin in (typing.Union, types.UnionType):
            rest = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(rest) != 1:
                raise Unsupported(f"union {annotation}")
            return self.field_bad(rest[0], metadata, value, strip, path, True)
        out = [] if nullable else [value.is_null()]
        constraints = _constraints(metadata)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            # a null struct: the per-row reader says what it means (a default, or nothing)
            return [value.is_null(), *self.model_bad(annotation, value, path)]
        if origin is list:
            raise Unsupported("a list inside a struct")
        if origin is Literal:
            allowed = list(typing.get_args(annotation))
            # a few values: equality tests cost half a hash set's look-up
            out.append(~functools.reduce(operator.or_, [value == v for v in allowed])
                       if len(allowed) <= _FEW_VALUES else ~value.is_in(allowed))
            return out
        if annotation is str:
            if strip:  # stripping these characters (not Rust's whitespace) changes the text
                self.stripped.append(path)
            if constraints.get("min_length") == 1:  # one character at least: one byte
                out.append(value.str.len_bytes() == 0)
            elif "min_length" in constraints:
                out.append(value.str.len_chars() < constraints["min_length"])
            if "max_length" in constraints:
                out.append(value.str.len_chars() > constraints["max_length"])
            if "pattern" in constraints:  # ASCII only: there Python's and Rust's classes agree
                # (a text is ASCII when each character is one byte)
                out.append((value.str.len_bytes() != value.str.len_chars()) |
                           ~value.str.contains(constraints["pattern"]))
            return out
        if annotation is int:
            out += _bounds(constraints, value, lambda number: number)
            return out
        if annotation is Decimal:
            dtype = pl.Decimal(*_INPUT_DECIMAL)

            def lit(number: Any) -> pl.Expr:
                return pl.lit(Decimal(number), dtype=dtype)

            out += _bounds(constraints, value, lit)
            if "limits" in constraints:
                max_abs, places = constraints["limits"]
                out.append((value > lit(max_abs)) | (value < lit(-max_abs)))
                if places < _INPUT_DECIMAL[1]:  # more places than allowed: not a whole tick
                    # (of the stored integer, in units of 10**-10: the column's type is checked)
                    tick = 10 ** (_INPUT_DECIMAL[1] - places)
                    out.append(value.to_physical() % pl.lit(tick, dtype=pl.Int128) != 0)
            return out
        if annotation is bool:
            return out
        if annotation is date:  # a year Python's date cannot hold: the per-row reader's matter
            out.append((value < _FIRST_DATE) | (value > _LAST_DATE))
            return out
        raise Unsupported(f"type {annotation}")

    def model_bad(self, model: type[BaseModel], value: pl.Expr,
                  path: tuple[str | None, ...]) -> list[pl.Expr]:
        """The conditions of a struct's fields (a nested model, a list item)."""
        strip = bool(model.model_config.get("str_strip_whitespace"))
        out: list[pl.Expr] = []
        for name, info in model.model_fields.items():
            out += self.field_bad(info.annotation, list(info.metadata),
                                  value.struct.field(name), strip, (*path, name))
        return out

    def top_level(self, model: type[BaseModel], present: list[str]) -> list[pl.Expr]:
        """The conditions of the record's columns; its lists of models are noted in
        `self.lists`, their items checked flattened (`list_items_bad`)."""
        strip = bool(model.model_config.get("str_strip_whitespace"))
        out: list[pl.Expr] = []
        for name, info in model.model_fields.items():
            if name not in present:
                continue
            bare = _bare(info.annotation)
            if typing.get_origin(bare) is list:
                (annotation,) = typing.get_args(bare)
                item = _bare(annotation)
                if _is_optional(annotation):
                    raise Unsupported(f"a list of {annotation}")
                column = pl.col(name)
                if isinstance(item, type) and issubclass(item, BaseModel):
                    self.lists.append((name, item))
                else:  # a list of values (a case's visits): each item's conditions
                    out.append(column.list.eval(pl.any_horizontal(self.field_bad(
                        annotation, [], pl.element(), strip, (name, _ITEMS))).fill_null(False)
                    ).list.any())
                constraints = _constraints(_list_metadata(info.annotation, info.metadata))
                if not _is_optional(info.annotation):
                    out.append(column.is_null())
                length = column.list.len()
                if "min_length" in constraints:
                    out.append(length < constraints["min_length"])
                if "max_length" in constraints:
                    out.append(length > constraints["max_length"])
                continue
            out += self.field_bad(info.annotation, list(info.metadata), pl.col(name), strip,
                                  (name,))
        return out

    def list_items_bad(self, name: str, model: type[BaseModel]) -> pl.Expr:
        """Whether some item of the list `name` is null, breaks its model's checks, or repeats
        the `member_id` of another item of its list (engine/records.py, household_problems):
        computed on the items of all rows at once, then per list."""
        item = pl.element()
        items = pl.col(name)
        bad = items.list.eval(pl.any_horizontal(
            [item.is_null(), *self.model_bad(model, item, (name, _ITEMS))]
        ).fill_null(False)).list.any()
        if "member_id" not in model.model_fields:
            return bad
        # two nulls count as one id here: a null id is a condition of its own
        ids = items.list.eval(item.struct.field("member_id")).list.n_unique()
        return bad | (ids != items.list.len())


_INPUT_DECIMAL = (38, 10)  # columnar/arrow.py's INPUT_DECIMAL
_ITEMS = None  # in a field's path: the items of the list before it
_FEW_VALUES = 8


def _bounds(constraints: dict[str, Any], value: pl.Expr, lit: Any) -> list[pl.Expr]:
    out = []
    if "ge" in constraints:
        out.append(value < lit(constraints["ge"]))
    if "gt" in constraints:
        out.append(value <= lit(constraints["gt"]))
    if "le" in constraints:
        out.append(value > lit(constraints["le"]))
    if "lt" in constraints:
        out.append(value >= lit(constraints["lt"]))
    return out


def _bare(annotation: Any) -> Any:
    """The type without Annotated and `| None`."""
    while typing.get_origin(annotation) is Annotated:
        annotation = typing.get_args(annotation)[0]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        rest = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _bare(rest[0]) if len(rest) == 1 else annotation
    return annotation


def _list_metadata(annotation: Any, metadata: list[Any]) -> list[Any]:
    out = list(metadata)
    while typing.get_origin(annotation) is Annotated:
        annotation, *extra = typing.get_args(annotation)
        out += _flatten(extra)
    return out


def _is_optional(annotation: Any) -> bool:
    while typing.get_origin(annotation) is Annotated:
        annotation = typing.get_args(annotation)[0]
    return typing.get_origin(annotation) in (typing.Union, types.UnionType)


def _same_types(table: Any, schema: Any, model: type[BaseModel]) -> list[str] | None:
    """The table's columns the model does not know (each must be null in a row that is not
    suspect), or None when a column's type is not the input schema's or a column the model
    needs is missing (with its default, or required)."""
    extra = []
    for field in table.schema:
        if schema.get_field_index(field.name) < 0:
            extra.append(field.name)
        elif field.type != schema.field(field.name).type:
            return None
    for name, info in model.model_fields.items():
        if name not in table.column_names and \
                (info.is_required() or info.default is not None or
                 info.default_factory is not None):
            return None
    return extra


def suspect_rows(model: type[BaseModel], schema: Any, table: Any) -> pl.Series | None:
    """For each row of `table` (an Arrow table), whether it must go through the per-row reader;
    None when the table or the model is not one these checks cover (every row must)."""
    checked = check_rows(model, schema, table)
    return None if checked is None else checked[0]


def check_rows(model: type[BaseModel], schema: Any, table: Any
               ) -> tuple[pl.Series, pl.DataFrame] | None:
    """`suspect_rows`, and the table as the Polars frame the checks read (its columns those of
    the table the model knows, converted once: the query can read the same frame)."""
    if typed_reader(model) is None:
        return None
    extra = _same_types(table, schema, model)
    if extra is None:
        return None
    checks = _Checks()
    present = [name for name in model.model_fields if name in table.column_names]
    try:
        conditions = checks.top_level(model, present)
        conditions += [checks.list_items_bad(name, item) for name, item in checks.lists]
    except (Unsupported, ValueError):
        return None
    conditions += [pl.col(name).is_not_null() for name in extra]
    read = table.select(present + extra)
    frame = pl.from_arrow(read, rechunk=not _aligned(read))
    assert isinstance(frame, pl.DataFrame)
    # collected lazily: the streaming engine evaluates them morsel by morsel (37 ms rather
    # than 42 ms at 100,000 households, the in-memory select's)
    bad = frame.lazy().select(_any(conditions)).collect().to_series() if conditions else \
        pl.zeros(table.num_rows, dtype=pl.Boolean, eager=True).alias("bad")
    if checks.stripped:
        bad = bad | _untrimmed(table, checks.stripped)
    return bad, frame.select(present)


def _untrimmed(table: Any, paths: list[tuple[str | None, ...]]) -> pl.Series:
    """For each row, whether stripping Python's whitespace changes some text at `paths`
    (from a column, through struct fields and a list's items): in Arrow, whose utf8_trim
    costs half of Polars' strip_chars with these characters (4.5 against 8.7 ms for 342,000
    member ids). A null struct or item holds no text here: it is a condition of its own."""
    import pyarrow.compute as pc
    hits: list[pl.Series] = []
    for path in paths:
        start = 0
        for chunk in table.column(path[0]).chunks:
            values, lists = chunk, None
            for part in path[1:]:
                if part is _ITEMS:  # (a list inside a list is not checked here: Unsupported)
                    lists = values
                    # the items between the first and last offsets, a missing list's too
                    # (Arrow lets it span some), as list_parent_indices numbers them
                    first, last = values.offsets[0].as_py(), values.offsets[-1].as_py()
                    values = values.values.slice(first, last - first)
                else:
                    values = pc.struct_field(values, part)
            changed = pc.not_equal(pc.binary_length(pc.utf8_trim(values, _SPACES)),
                                   pc.binary_length(values))
            at = pc.indices_nonzero(pc.fill_null(changed, False))
            if len(at) and lists is not None:  # the rows of those items, of lists present
                at = pc.list_parent_indices(lists).take(at)
                at = at.filter(lists.is_valid().take(at))
            if len(at):
                hits.append(pl.Series(at).cast(pl.Int64) + start)
            start += len(chunk)
    bad = pl.zeros(table.num_rows, dtype=pl.Boolean, eager=True)
    return bad.scatter(pl.concat(hits), True) if hits else bad


def _aligned(table: Any) -> bool:
    """Whether the table's columns are cut into chunks at the same rows: then its frame may
    keep them (joining them copies every column: 100 ms at 1,000,000 households), since
    Polars realigns only chunks that differ between columns, on every select."""
    bounds = None
    for column in table.columns:
        lengths = [len(chunk) for chunk in column.chunks]
        if bounds is not None and lengths != bounds:
            return False
        bounds = lengths
    return True


def _any(conditions: list[pl.Expr]) -> pl.Expr:
    """Whether some condition holds (one on a null value is false: whether a null is allowed
    is a condition of its own), all computed in one select."""
    return pl.any_horizontal(conditions).fill_null(False).alias("bad")
