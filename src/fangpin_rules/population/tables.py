"""The one table the county reports share: rows keyed by region, each with named figures, and
its three writers (JSON, CSV, Markdown) in one place.

A figure is an integer count, an exact `Decimal` share, or `None` (a share of nothing); the
columns are the same for every row, in order, so a CSV of a ledger can be read back by any
spreadsheet and summed.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from fangpin_rules.text import safe_text

Figure = int | Decimal | None
Format = Literal["json", "csv", "markdown"]
FORMATS: tuple[Format, ...] = ("json", "csv", "markdown")


@dataclass(frozen=True)
class Row:
    region: str
    level: str  # the level of `region` (a coarser code than asked keeps its own)
    figures: Mapping[str, Figure]


@dataclass
class Table:
    """A report: `title`, what it covers (`meta`: period, level, policy...), the figure names
    in order and the rows; `total` sums the counted columns of every row."""

    title: str
    columns: Sequence[str]
    rows: list[Row]
    meta: dict[str, Any] = field(default_factory=dict)
    total: Row | None = None

    def to_json(self) -> dict[str, Any]:
        return {"title": self.title, **self.meta, "columns": list(self.columns),
                "rows": [_row_json(row) for row in self.rows],
                "total": _row_json(self.total) if self.total else None}


def _row_json(row: Row) -> dict[str, Any]:
    return {"region": row.region, "level": row.level, "figures": dict(row.figures)}


def render(table: Table, form: Format) -> str:
    """The table as text in `form`."""
    if form == "json":
        from fangpin_rules.engine.serialize import dumps

        return dumps(table.to_json()) + "\n"
    if form == "csv":
        return _csv(table)
    return _markdown(table)


def _cell(value: Figure) -> str:
    return "" if value is None else str(value)


def _csv(table: Table) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["region", "level", *table.columns])
    for row in [*table.rows, *([table.total] if table.total else [])]:
        writer.writerow([row.region, row.level, *(_cell(row.figures.get(c)) for c in
                                                  table.columns)])
    return out.getvalue()


def _markdown(table: Table) -> str:
    lines = [f"# {safe_text(table.title)}", ""]
    lines += [f"- {key}: {safe_text(str(value))}" for key, value in table.meta.items()]
    # One region per column keeps a ledger of many figures readable: figures run down.
    rows = [*table.rows, *([table.total] if table.total else [])]
    lines += ["", "| figure | " + " | ".join(safe_text(r.region) for r in rows) + " |",
              "|---|" + "---:|" * len(rows)]
    for column in table.columns:
        lines.append(f"| {column} | " + " | ".join(_cell(r.figures.get(column)) for r in rows)
                     + " |")
    return "\n".join(lines) + "\n"


def summed(rows: Sequence[Row], columns: Sequence[str], region: str, level: str) -> Row:
    """A row of the counts of `rows` summed (a share is not summed: it is left None)."""
    totals: dict[str, Figure] = {}
    for column in columns:
        values = [row.figures.get(column) for row in rows]
        totals[column] = (sum(v for v in values if isinstance(v, int))
                          if all(v is None or isinstance(v, int) for v in values) else None)
    return Row(region, level, totals)


Cell = str | int | Decimal | list[str] | None


@dataclass
class Listing:
    """A list of households (a department's list): one record per household, the same
    columns for each; a list value is one cell (joined with 、 in CSV and Markdown)."""

    title: str
    columns: Sequence[str]
    records: list[dict[str, Cell]]
    meta: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"title": self.title, **self.meta, "columns": list(self.columns),
                "records": self.records}


def _text_cell(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "、".join(value)
    return str(value)


def render_listing(listing: Listing, form: Format) -> str:
    if form == "json":
        from fangpin_rules.engine.serialize import dumps

        return dumps(listing.to_json()) + "\n"
    if form == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(listing.columns)
        for record in listing.records:
            writer.writerow([_text_cell(record.get(c)) for c in listing.columns])
        return out.getvalue()
    lines = [f"# {safe_text(listing.title)}", ""]
    lines += [f"- {key}: {safe_text(str(value))}" for key, value in listing.meta.items()]
    lines += ["", "| " + " | ".join(listing.columns) + " |",
              "|" + "---|" * len(listing.columns)]
    for record in listing.records:
        lines.append("| " + " | ".join(safe_text(_text_cell(record.get(c))).replace("|", "\\|")
                                       for c in listing.columns) + " |")
    return "\n".join(lines) + "\n"
