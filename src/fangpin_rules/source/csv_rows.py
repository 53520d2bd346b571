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

from fangpin_rules.diagnostics import Location, PolicyError, error
from fangpin_rules.source.located import LScalar

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_NUMBER = re.compile(r"^-?\d{1,15}(\.\d{1,15})?$")
_MAX_BYTES = 50_000_000


def read_csv_rows(path: str | Path) -> tuple[list[str], list[dict[str, LScalar]]]:
    """The header and the rows (column -> located cell) of a UTF-8 CSV file."""
    file = str(path)
    try:
        raw = Path(file).read_bytes()
    except OSError as exc:
        raise PolicyError([error("file-unreadable", f"cannot read '{file}': {exc.strerror}",
                                 Location(file, 0, 0))]) from None
    if len(raw) > _MAX_BYTES:
        raise PolicyError([error("file-too-large", f"table is larger than {_MAX_BYTES} bytes",
                                 Location(file, 1, 1))])
    try:
        text = raw.decode("utf-8-sig")  # spreadsheets often save UTF-8 with a BOM
    except UnicodeDecodeError as exc:
        raise PolicyError([error("file-encoding", f"table is not UTF-8 ({exc.reason})",
                                 Location(file, 1, 1),
                                 hint="save the table as CSV in UTF-8")]) from None
    lines = text.splitlines()
    reader = csv.reader(lines)
    header: list[str] = []
    rows: list[dict[str, LScalar]] = []
    for index, cells in enumerate(reader):
        line = reader.line_num
        if index == 0:
            header = [c.strip() for c in cells]
            continue
        if not any(c.strip() for c in cells):
            continue
        row: dict[str, LScalar] = {}
        columns = _cell_columns(lines[line - 1], len(cells))
        for name, cell, column in zip(header, cells, columns, strict=False):
            value = cell.strip()
            row[name] = LScalar(_value(value), Location(file, line, column), value, None)
        rows.append(row)
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
