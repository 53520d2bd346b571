"""The decisions of a table (`output_schema`) written as JSON lines in columns, the record
path's bytes (`engine.serialize.DecisionWriter`), without a Python object per value.

Polars encodes each row's struct as JSON (`struct.json_encode`), escaping texts as msgspec does
(tests/columnar/test_columnar_jsonl.py holds this for every ASCII character and others). Two
things the record path writes differently are marked in the names and put right on the text:

- an exact number is a JSON number, its digits (`_decimal_text`'s: no trailing zeros); the
  table holds it as a text, so its field is named with `_NUMBER_MARK` before the name and the
  quotes around its value are taken off;
- a deadline entry's `reason` is written only when it has one: its field is named with
  `_REASON_MARK` before it, and `,"<that name>":null` is removed.

What is put right is always matched as a name: a quoted text starting with the escape of a
mark (`\\u0001`, `\\u0002`), then a colon right after its closing quote. A text of the data
may start with a mark too, but it is a value, never a name: no colon follows it (an unescaped
quote never appears inside a JSON text, so the match cannot start or end inside one).
"""

from __future__ import annotations

from typing import Any

import polars as pl

from fangpin_rules.columnar.arrow import PROCEDURE_KEYS

__all__ = ["decision_lines"]

_NUMBER_MARK = "\x01"
_REASON_MARK = "\x02"
# what is put right on each row's text: a marked reason that is null goes with its comma,
# another loses its mark; a marked number (a regular expression: `\\` is its backslash) loses
# its mark and the quotes around its text
_NULL_REASON = ',"\\u0002reason":null'
_REASON = ('"\\u0002reason":', '"reason":')
_QUOTED_NUMBER = (r'"\\u0001([^"]+)":"([^"]+)"', '"${1}":${2}')


def decision_lines(table: Any, numbers: list[tuple[str, str | None]]) -> bytes:
    """Each decision of `table` (an Arrow table of `output_schema`) as a line of JSON, with its
    newline, as the record path writes it; `numbers` are the paths of exact numbers
    (`(key, None)` or `(key, field)` of a record), held as texts in the table."""
    import pyarrow as pa

    if table.num_rows == 0:
        return b""
    frame = pl.from_arrow(_marked(table, numbers))
    assert isinstance(frame, pl.DataFrame)
    numbers_of: dict[str, list[str]] = {}
    for key, field in numbers:
        if field is not None:
            numbers_of.setdefault(key, []).append(_NUMBER_MARK + field)
    fields = [_json_number(pl.col(name)) if name.startswith(_NUMBER_MARK) else
              pl.col(name).struct.with_fields(*(_json_number(pl.field(f))
                                                for f in numbers_of[name]))
              if name in numbers_of else pl.col(name) for name in frame.columns]
    fields.append(pl.lit([], dtype=pl.List(pl.String)).alias("trace"))
    # each row's text, put right (Rust's replacements over each row: a third of the time of
    # Python's over the whole text), with its newline after it
    text = (frame.select(pl.struct(fields).struct.json_encode()).to_series()
            .str.replace_all(_NULL_REASON, "", literal=True)
            .str.replace_all(*_REASON, literal=True))
    if numbers:
        text = text.str.replace_all(*_QUOTED_NUMBER)
    lines = (text + "\n").to_arrow()
    assert lines.type == pa.large_string()
    # the lines' bytes are the values' buffer between the first and the last offset
    _, offsets, values = lines.buffers()
    bounds = pa.Array.from_buffers(pa.int64(), len(lines) + 1, [None, offsets],
                                   offset=lines.offset)
    text_bytes: bytes = values[bounds[0].as_py():bounds[-1].as_py()].to_pybytes()
    return text_bytes


def _marked(table: Any, numbers: list[tuple[str, str | None]]) -> Any:
    """`table` with the marked names (the same buffers: each column is a view of the old)."""
    import pyarrow as pa

    paths = set(numbers)
    columns, fields = [], []
    for field, column in zip(table.schema, table.columns, strict=True):
        name, kind = field.name, field.type
        if (name, None) in paths:
            name = _NUMBER_MARK + name
        elif pa.types.is_struct(kind) and any(path[0] == name for path in paths):
            kind = pa.struct([f.with_name(_NUMBER_MARK + f.name) if (name, f.name) in paths
                              else f for f in kind])
        elif name in PROCEDURE_KEYS:
            kind = pa.list_(pa.struct([f.with_name(_REASON_MARK + f.name) if f.name == "reason"
                                       else f for f in kind.value_type]))
        fields.append(pa.field(name, kind))
        columns.append(column if kind == field.type else
                       pa.chunked_array([chunk.view(kind) for chunk in column.chunks], kind))
    return pa.Table.from_arrays(columns, schema=pa.schema(fields))


def _json_number(text: pl.Expr) -> pl.Expr:
    """An exact number's text as the record path writes it (`_decimal_text` of its Decimal):
    a fraction's trailing zeros dropped, then its point if nothing is left after it; "null"
    for none (written as it is, unquoted, as every value of a marked name)."""
    return pl.when(text.str.contains(".", literal=True)).then(
        text.str.strip_chars_end("0").str.strip_chars_end(".")).otherwise(text) \
        .fill_null("null")
