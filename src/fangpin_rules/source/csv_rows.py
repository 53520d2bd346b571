"""Read a CSV file into rows of located cells (each knows its file, line and column), so that
a table a province publishes as a spreadsheet is checked with the same positioned messages as
a YAML file. Numbers with a fraction are read as exact decimals, ISO dates as dates; the text
of any other cell stays text."""

from __future__ import annotations

import csv
import re
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from fangpin_rules.diagnostics import Diagnostic, Location, PolicyError, error, remember_source
from fangpin_rules.limits import (
    MAX_TABLE_CELL_CHARS,
    MAX_TABLE_COLUMNS,
    MAX_TABLE_FILE_BYTES,
    MAX_TABLE_ROWS,
)
from fangpin_rules.source.files import FileRefused, read_bounded
from fangpin_rules.source.located import LScalar

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_NUMBER = re.compile(r"^-?\d{1,15}(\.\d{1,15})?$")


def read_table_bytes(path: str | Path, limit: int = MAX_TABLE_FILE_BYTES) -> bytes:
    """The bytes of a table the user named (a regular file, or a pipe read once), at most
    `limit`; a refusal is a PolicyError at the file."""
    file = str(path)
    try:
        return read_bounded(file, limit, allow_pipe=True)
    except FileRefused as exc:
        raise PolicyError([error(exc.code, f"cannot read table '{file}': {exc.message}",
                                 Location(file, 0, 0), hint=exc.hint)]) from None


def read_csv_rows(path: str | Path, raw: bytes | None = None
                  ) -> tuple[list[str], list[dict[str, LScalar]]]:
    """The header and the rows (column -> located cell) of a UTF-8 CSV file (`raw`: its
    bytes, if already read). A cell longer than MAX_TABLE_CELL_CHARS, a row of more than
    MAX_TABLE_COLUMNS cells, rows past MAX_TABLE_ROWS and a quote left open are errors at
    their line and column."""
    file = str(path)
    if raw is None:
        raw = read_table_bytes(file)
    try:
        text = raw.decode("utf-8-sig")  # spreadsheets often save UTF-8 with a BOM
    except UnicodeDecodeError as exc:
        raise PolicyError([error("file-encoding", f"table is not UTF-8 ({exc.reason})",
                                 Location(file, 1, 1),
                                 hint="save the table as CSV in UTF-8")]) from None
    remember_source(file, text)
    lines = text.splitlines()
    header: list[str] = []
    rows: list[dict[str, LScalar]] = []
    problems: list[Diagnostic] = []
    # The csv module's own bound (131,072 characters, process-wide) would end the read with
    # an unpositioned error; the whole file is bounded, so read every cell and bound it here.
    saved = csv.field_size_limit(max(len(text), 1))
    last_line = 0  # the last line of the last row read: a bad row starts after it
    try:
        # strict: a quote left open is an error, not the rest of the file read as one cell
        reader = csv.reader(lines, strict=True)
        for index, cells in enumerate(reader):
            line = last_line = reader.line_num
            if len(cells) > MAX_TABLE_COLUMNS:
                problems.append(error(
                    "row-too-wide", f"the row has {len(cells):,} cells, more than "
                    f"{MAX_TABLE_COLUMNS}", Location(file, line, 1),
                    hint="check the commas on this row"))
                continue
            columns = _cell_columns(lines[line - 1], len(cells))
            long_cells = [(name, column) for name, cell, column in
                          zip(header or [""] * len(cells), cells, columns, strict=False)
                          if len(cell) > MAX_TABLE_CELL_CHARS]
            for name, column in long_cells:
                problems.append(error(
                    "cell-too-long", f"the cell{f' {name!r}' if name else ''} is longer than "
                    f"{MAX_TABLE_CELL_CHARS:,} characters", Location(file, line, column),
                    hint="a cell holds one code, date, number or short text: check the "
                    "quotes on this row"))
            if long_cells:
                continue
            if index == 0:
                header = [c.strip() for c in cells]
                continue
            if not any(c.strip() for c in cells):
                continue
            if len(rows) >= MAX_TABLE_ROWS:
                problems.append(error(
                    "table-too-long", f"the table has more than {MAX_TABLE_ROWS:,} rows",
                    Location(file, line, 1), hint="split it into several tables"))
                break
            row: dict[str, LScalar] = {}
            for name, cell, column in zip(header, cells, columns, strict=False):
                value = cell.strip()
                row[name] = LScalar(_value(value), Location(file, line, column), value, None)
            rows.append(row)
    except csv.Error as exc:
        problems.append(error("csv-syntax", f"this row is not valid CSV ({exc})",
                              Location(file, last_line + 1, 1),
                              hint="check the quotes on this row: a quoted cell starts and "
                              "ends with \", and a \" inside it is written \"\""))
    finally:
        csv.field_size_limit(saved)
    if problems:
        raise PolicyError(problems)
    return header, rows


def _value(text: str) -> Any:
    if not text:
        return None
    if _DATE.match(text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            return text
    if _NUMBER.match(text):
        try:
            return int(text) if "." not in text else Decimal(text)
        except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
            return text
    return text


def _cell_columns(line: str, count: int) -> list[int]:
    """The 1-based column where each cell starts (quoted cells included)."""
    columns, quoted = [1], False
    for position, char in enumerate(line, start=1):
        if char == '"':
            quoted = not quoted
        elif char == "," and not quoted:
            columns.append(position + 1)
    return (columns + [columns[-1]] * count)[:max(count, 1)]
