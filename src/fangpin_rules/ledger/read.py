"""Read a ledger (`.xlsx` or `.csv`) by a ledger format into household records.

One row is one member; a household's rows share its 户编号 and repeat its fields. The header
row is found below the title rows; member rows are grouped into households, each mapped onto
the data contract as the same dict a JSON line would give. Every problem is reported with the
sheet, the row and column as Excel shows them, the header and the value (an ID number or a
name masked), and the household it spoils is rejected whole - a household decided without one
of its members would be decided on the wrong size. The rest goes on. The counts reconcile:
member rows read = used + rejected, households read = handed on + rejected.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from fangpin_rules.diagnostics import Diagnostic, Location, did_you_mean, error, suggest
from fangpin_rules.ledger.format import ColumnSpec, LedgerFormat, label_lookup, squeeze_label
from fangpin_rules.limits import MAX_LEDGER_FILE_BYTES, MAX_LEDGER_ROWS
from fangpin_rules.model import Household
from fangpin_rules.source.files import FileRefused, read_bounded

_FEN = Decimal("0.01")
_MISSING = object()
_MAX_SHOWN = 60  # characters of a cell quoted in a message


class LedgerError(Exception):
    """A ledger that cannot be read at all (no such sheet, no header row, a required column
    missing): its diagnostics say where and what to do."""

    def __init__(self, diagnostics: Sequence[Diagnostic]) -> None:
        self.diagnostics = list(diagnostics)
        super().__init__("; ".join(d.message for d in self.diagnostics))

    def render(self) -> str:
        return "\n\n".join(d.render() for d in self.diagnostics)


@dataclass(frozen=True, slots=True)
class CellProblem:
    """One problem at one cell (or a note about it, when it did not stop the household)."""

    sheet: str
    row: int
    column: str  # the column's letter, as Excel shows it
    header: str
    value: str  # as the cell shows it; an ID number or a name masked
    field: str | None  # the contract field the column fills
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"sheet": self.sheet, "row": self.row, "column": self.column,
                "header": self.header, "value": self.value, "field": self.field,
                "reason": self.reason}


@dataclass(frozen=True)
class LedgerRejection:
    """A household (or a row with no household number) that is not handed to the engine."""

    household_id: str | None
    rows: tuple[int, ...]
    problems: tuple[CellProblem, ...]

    def to_json(self) -> dict[str, Any]:
        first = self.problems[0]
        reason = first.reason + (f" (and {len(self.problems) - 1} more problem(s))"
                                 if len(self.problems) > 1 else "")
        return {"record": "household", "household_id": self.household_id,
                "sheet": first.sheet, "row": first.row, "column": first.column,
                "header": first.header, "field": first.field, "reason": reason,
                "rows": list(self.rows), "problems": [p.to_json() for p in self.problems]}


@dataclass
class HouseholdCells:
    """Where a handed-on household's values stand, to place the engine's rejection of it."""

    rows: list[int]  # its members' rows, in member order


@dataclass
class LedgerRead:
    """What reading a ledger gave: the records in sheet order, the rejections, the counts."""

    path: str
    sheet: str
    encoding: str  # "xlsx", or the CSV's: "UTF-8", "UTF-8 with BOM", "GB18030"
    header_row: int
    households: list[tuple[int, dict[str, Any]]]  # (first row, record)
    rejections: list[LedgerRejection]
    rows_read: int = 0
    rows_used: int = 0
    rows_rejected: int = 0
    notes: list[CellProblem] = field(default_factory=list)
    unread_columns: list[str] = field(default_factory=list)
    columns: dict[str, tuple[str, str]] = field(default_factory=dict)  # field -> (letter, header)
    cells: dict[int, HouseholdCells] = field(default_factory=dict)  # by first row

    @property
    def households_read(self) -> int:
        return len(self.households) + sum(1 for r in self.rejections if r.household_id)

    def place(self, first_row: int, field_path: str | None) -> dict[str, Any]:
        """Sheet, row, column and header of a field of the household whose first row is
        `first_row` (a pydantic path such as `members.1.birth_date` or `dibao.since`)."""
        where: dict[str, Any] = {"sheet": self.sheet, "row": first_row, "column": None,
                                 "header": None}
        if not field_path:
            return where
        parts = field_path.split(".")
        rows = self.cells[first_row].rows if first_row in self.cells else [first_row]
        if parts[0] == "members" and len(parts) >= 2 and parts[1].isdigit():
            index = int(parts[1])
            if index < len(rows):
                where["row"] = rows[index]
            parts = ["members", *parts[2:]]
        while parts:
            found = self.columns.get(".".join(parts))
            if found is not None:
                where["column"], where["header"] = found
                break
            parts = parts[:-1]
        return where


def mask_id(text: str) -> str:
    """An ID number with all but its first 6 and last 4 characters hidden."""
    if len(text) <= 10:
        return "*" * len(text)
    return text[:6] + "*" * (len(text) - 10) + text[-4:]


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA, as Excel names columns."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


# -- the grid of cells ------------------------------------------------------------------------

@dataclass
class Grid:
    sheet: str
    rows: list[list[Any]]
    first_row: int  # the Excel row number of rows[0]
    first_column: int  # the 0-based column of rows[i][0]
    encoding: str


def read_grid(path: str, sheet: str | None) -> Grid:
    """The cells of the ledger's sheet (a CSV file is one sheet, named by the file)."""
    try:
        raw = read_bounded(path, MAX_LEDGER_FILE_BYTES)
    except FileRefused as exc:
        raise LedgerError([error(exc.code, f"cannot read ledger '{path}': {exc.message}",
                                 Location(path, 0, 0), hint=exc.hint)]) from None
    if path.lower().endswith(".csv"):
        return _csv_grid(path, raw)
    return _xlsx_grid(path, raw, sheet)


def _xlsx_grid(path: str, raw: bytes, sheet: str | None) -> Grid:
    try:
        import python_calamine
    except ImportError:
        raise LedgerError([error("ledger-reader-missing", "reading .xlsx needs python-calamine, "
                                 "which is not installed", Location(path, 0, 0),
                                 hint="pip install 'fangpin-rules[excel]', or export the sheet "
                                 "as CSV")]) from None

    try:
        book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(raw))
        names = list(book.sheet_names)
        if sheet is None:
            if not names:
                raise LedgerError([error("ledger-sheet", "the workbook has no sheet",
                                         Location(path, 0, 0))])
            sheet = names[0]
        elif sheet not in names:
            hint = did_you_mean(sheet, names)
            raise LedgerError([error("ledger-sheet", f"the workbook has no sheet '{sheet}'",
                                     Location(path, 0, 0), hint=(hint + " " if hint else "")
                                     + "Sheets: " + ", ".join(names) + ".")])
        data = book.get_sheet_by_name(sheet)
        start_row, start_column = data.start or (0, 0)
        rows: list[list[Any]] = data.to_python(skip_empty_area=True)
        merged = data.merged_cell_ranges or []
    except LedgerError:
        raise
    except Exception as exc:  # calamine's errors: not a workbook, a broken zip, bad XML
        raise LedgerError([error("ledger-file", f"'{path}' is not a readable .xlsx workbook "
                                 f"({type(exc).__name__})", Location(path, 0, 0),
                                 hint="save it from Excel as .xlsx, or export it as CSV")]
                          ) from None
    if len(rows) > MAX_LEDGER_ROWS:
        raise _too_many_rows(path)
    _fill_merged(rows, merged, start_row, start_column)
    return Grid(sheet, rows, start_row + 1, start_column, "xlsx")


def _fill_merged(rows: list[list[Any]], merged: Sequence[Any], start_row: int,
                 start_column: int) -> None:
    """A merged range shows its value in every cell it covers (a household's fields merged
    down its member rows, as some exports do); calamine gives it in the top-left cell only."""
    for (top, left), (bottom, right) in merged:
        r0, c0 = top - start_row, left - start_column
        if not (0 <= r0 < len(rows) and 0 <= c0 < len(rows[r0])):
            continue
        value = rows[r0][c0]
        for r in range(max(r0, 0), min(bottom - start_row + 1, len(rows))):
            line = rows[r]
            for c in range(max(c0, 0), min(right - start_column + 1, len(line))):
                line[c] = value


def _csv_grid(path: str, raw: bytes) -> Grid:
    if raw.startswith(b"\xef\xbb\xbf"):
        text, encoding = raw[3:].decode("utf-8", errors="strict"), "UTF-8 with BOM"
    else:
        try:
            text, encoding = raw.decode("utf-8"), "UTF-8"
        except UnicodeDecodeError:
            try:
                text, encoding = raw.decode("gb18030"), "GB18030"
            except UnicodeDecodeError:
                raise LedgerError([error("ledger-encoding", f"'{path}' is neither UTF-8 nor "
                                         "GB18030 text", Location(path, 0, 0),
                                         hint="save it from Excel as 'CSV UTF-8'")]) from None
    rows: list[list[Any]] = []
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        for line in reader:
            rows.append(line)
            if len(rows) > MAX_LEDGER_ROWS:
                raise _too_many_rows(path)
    except csv.Error as exc:
        raise LedgerError([error("ledger-csv", f"CSV error at row {reader.line_num}: {exc}",
                                 Location(path, reader.line_num, 1),
                                 hint="a quote opened in this row is not closed")]) from None
    return Grid(Path(path).name, rows, 1, 0, encoding)


def _too_many_rows(path: str) -> LedgerError:
    return LedgerError([error("ledger-too-large", f"the ledger has more than "
                              f"{MAX_LEDGER_ROWS:,} rows", Location(path, 0, 0),
                              hint="split it by township")])


# -- reading ----------------------------------------------------------------------------------

def _squeeze(value: Any) -> str:
    return "".join(str(value).split()) if isinstance(value, str) else ""


@dataclass(frozen=True)
class _Column:
    field: str
    spec: ColumnSpec
    index: int
    letter: str
    header: str
    member: bool  # a member's field (members.*), or the household's

    @property
    def path(self) -> list[str]:
        """Where the value goes: in the member's dict, or in the household's."""
        parts = self.field.split(".")
        return parts[1:] if self.member else parts


def read_ledger(path: str | Path, ledger_format: LedgerFormat,
                record_model: type[BaseModel] = Household) -> LedgerRead:
    """Read the ledger at `path` by `ledger_format` into records of `record_model` (the
    policy's); raises LedgerError when it cannot be read at all."""
    file = str(path)
    document = ledger_format.document
    grid = read_grid(file, document.sheet)
    header_index = _find_header(grid, ledger_format, file)
    headers = [_squeeze(cell) for cell in grid.rows[header_index]]
    positions: dict[str, int] = {}
    for index, name in enumerate(headers):
        if name:
            positions.setdefault(name, index)

    def letter(index: int) -> str:
        return column_letter(grid.first_column + index)

    problems: list[Diagnostic] = []
    columns: list[_Column] = []
    real = [name for name in headers if name]
    known = {_squeeze(n) for spec in ledger_format.columns.values() for n in spec.names}
    known |= {_squeeze(n) for n in [*document.head.names,
                                    *(document.person_id.names if document.person_id else []),
                                    *document.personal, *document.ignore]}
    unclaimed = [name for name in real if name not in known]  # what a missing one may be
    for field_path, spec in ledger_format.columns.items():
        _check_field(record_model, field_path, ledger_format, problems)
        found = next((positions[n] for n in map(_squeeze, spec.names) if n in positions), None)
        if found is None:
            if spec.required:
                problems.append(_missing_column(spec.header, spec.names, unclaimed, real, grid,
                                                file,
                                                ledger_format.column_location(field_path),
                                                header_index))
            continue
        columns.append(_Column(field_path, spec, found, letter(found), headers[found],
                               field_path.startswith("members.")))
    head_index = next((positions[n] for n in map(_squeeze, document.head.names)
                       if n in positions), None)
    if head_index is None:
        problems.append(_missing_column(document.head.header, document.head.names, unclaimed,
                                        real, grid, file, ledger_format.location("head"),
                                        header_index))
    person = document.person_id
    person_index = next((positions[n] for n in map(_squeeze, person.names) if n in positions),
                        None) if person else None
    group_indexes: list[int] = []
    for header in document.group_by:
        found = positions.get(_squeeze(header))
        if found is None:
            problems.append(_missing_column(header, [header], unclaimed, real, grid, file,
                                            ledger_format.location("group_by"), header_index))
        else:
            group_indexes.append(found)
    if problems:
        raise LedgerError(problems)
    assert head_index is not None
    result = LedgerRead(file, grid.sheet, grid.encoding, grid.first_row + header_index, [], [],
                        unread_columns=[h for h in real if h not in known],
                        columns={c.field: (c.letter, c.header) for c in columns})
    reader = _RowReader(grid, ledger_format, columns, result)
    personal_indexes = {positions[n] for n in map(_squeeze, document.personal) if n in positions}
    if person_index is not None:
        personal_indexes.add(person_index)
    reader.personal = personal_indexes
    reader.group_indexes = group_indexes
    reader.read(header_index, head_index, person_index)
    return result


def _find_header(grid: Grid, ledger_format: LedgerFormat, file: str) -> int:
    """The row, among the first `header_search_rows`, that holds the most known headers."""
    document = ledger_format.document
    names = {_squeeze(n) for spec in ledger_format.columns.values() for n in spec.names}
    names |= {_squeeze(n) for n in document.head.names}
    best, best_count = -1, 0
    for index, row in enumerate(grid.rows[:document.header_search_rows]):
        count = sum(1 for cell in row if _squeeze(cell) in names)
        if count > best_count:
            best, best_count = index, count
    if best < 0 or best_count < 2:
        key = ledger_format.columns["household_id"].header
        raise LedgerError([error(
            "ledger-header", f"no header row in the first {document.header_search_rows} rows "
            f"of sheet '{grid.sheet}' (looked for headers such as {key}, "
            f"{document.head.header})", Location(file, 0, 0),
            hint=f"check that this is the platform's export, or give a ledger format that "
            f"names its headers (--ledger-format; this one is '{ledger_format.id}')")])
    return best


def _missing_column(header: str, names: Sequence[str], unclaimed: Sequence[str],
                    real: Sequence[str], grid: Grid, file: str, loc: Location,
                    header_index: int) -> Diagnostic:
    guess = None
    for name in names:
        guess = suggest(_squeeze(name), unclaimed)
        if guess:
            break
    listing = ", ".join(real[:40])
    return error("ledger-column", f"sheet '{grid.sheet}' of '{file}' has no column "
                 f"'{header}' (header row {grid.first_row + header_index})", loc,
                 length=len(header),
                 hint=(f"did you mean '{guess}'? " if guess else "")
                 + f"Its headers: {listing}. Rename the column, or add the sheet's name to "
                 "this column's aliases in a ledger format of your own (extends: national).")


def _check_field(model: type[BaseModel], path: str, ledger_format: LedgerFormat,
                 problems: list[Diagnostic]) -> None:
    """A column's field must be one the policy's records have."""
    current: Any = model
    parts = path.split(".")
    for depth, part in enumerate(parts):
        fields = getattr(current, "model_fields", None)
        if not isinstance(fields, dict) or part not in fields:
            hint = did_you_mean(part, fields or ())
            problems.append(error("ledger-field", f"the records have no field "
                                  f"'{'.'.join(parts[:depth + 1])}'",
                                  ledger_format.column_location(path), length=len(path),
                                  hint=hint or "name a field of the data contract "
                                  "(fangpin schema household)"))
            return
        current = _inner_model(fields[part].annotation)


def _inner_model(annotation: Any) -> Any:
    """The model inside `Model`, `Model | None` or `list[Model]`, if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def _shown(value: Any) -> str:
    if isinstance(value, float):
        text = repr(value)
    elif isinstance(value, datetime | date):
        text = value.isoformat()
    else:
        text = str(value)
    return text if len(text) <= _MAX_SHOWN else text[:_MAX_SHOWN] + "…"


class _CellError(ValueError):
    pass


class _RowReader:
    def __init__(self, grid: Grid, ledger_format: LedgerFormat, columns: list[_Column],
                 result: LedgerRead) -> None:
        self.grid = grid
        self.format = ledger_format
        self.columns = columns
        self.result = result
        self.labels = label_lookup(ledger_format)
        self.forms = ledger_format.document.date_forms
        self.personal: set[int] = set()
        self.group_indexes: list[int] = []

    def problem(self, row: int, index: int, header: str, value: Any, field_path: str | None,
                reason: str) -> CellProblem:
        shown = _shown(value)
        if index in self.personal:
            shown = mask_id(shown)
        return CellProblem(self.grid.sheet, row, column_letter(self.grid.first_column + index),
                           header, shown, field_path, reason)

    def read(self, header_index: int, head_index: int, person_index: int | None) -> None:
        grid, result = self.grid, self.result
        key = next(c for c in self.columns if c.field == "household_id")
        head_label = "".join(self.format.document.head.value.split())
        groups: dict[str, list[tuple[int, list[Any]]]] = {}
        for offset, cells in enumerate(grid.rows[header_index + 1:], start=header_index + 1):
            if all(cell is None or (type(cell) is str and not cell.strip()) for cell in cells):
                continue
            row = grid.first_row + offset
            result.rows_read += 1
            hid = _text(_cell(cells, key.index))
            if hid and self.group_indexes:
                hid = "/".join([*(_text(_cell(cells, i)) for i in self.group_indexes), hid])
            if not hid:
                result.rejections.append(LedgerRejection(None, (row,), (self.problem(
                    row, key.index, key.header, "", key.field,
                    "no household number: the row belongs to no household"),)))
                result.rows_rejected += 1
                continue
            groups.setdefault(hid, []).append((row, cells))
        seen_people: dict[str, int] = {}
        plan: list[tuple[_Column, list[str], dict[Any, Any]]] = [
            (c, c.path, {}) for c in self.columns if c.field != "household_id"]
        for hid, rows in groups.items():
            problems: list[CellProblem] = []
            record: dict[str, Any] = {}
            given: dict[str, tuple[int, Any, Any]] = {}  # field -> (row, raw, value)
            members: list[dict[str, Any]] = []
            heads = [row for row, cells in rows
                     if _squeeze(_cell(cells, head_index)) == head_label]
            head_header = _squeeze(grid.rows[header_index][head_index])
            if not heads:
                problems.append(self.problem(
                    rows[0][0], head_index, head_header, _cell(rows[0][1], head_index), None,
                    f"household {hid} has no row whose {head_header} is "
                    f"{self.format.document.head.value}"))
            for extra in heads[1:]:
                problems.append(self.problem(
                    extra, head_index, head_header, self.format.document.head.value, None,
                    f"household {hid} has a second {self.format.document.head.value} "
                    f"(the first on row {heads[0]})"))
            for number, (row, cells) in enumerate(rows, start=1):
                member: dict[str, Any] = {"member_id": str(number)}
                width = len(cells)
                if person_index is not None:
                    person = _text(_cell(cells, person_index))
                    if person:
                        first = seen_people.setdefault(person, row)
                        if first != row:
                            problems.append(self.problem(
                                row, person_index, _squeeze(grid.rows[header_index][
                                    person_index]), person, None,
                                f"duplicate ID number: also on row {first}"))
                for column, path, cache in plan:
                    index = column.index
                    raw = cells[index] if index < width else None
                    if raw is None or raw == "":
                        value = None
                    else:
                        # a household's cells repeat on its rows, and labels repeat on all:
                        # each distinct cell is converted once (keyed by type: 1.0 is not True)
                        cell_key: Any = raw if type(raw) is str else (type(raw), raw)
                        value = cache.get(cell_key, _MISSING)
                        if value is _MISSING:
                            notes = len(self.result.notes)
                            try:
                                value = self.convert(column, raw, row)
                            except _CellError as exc:
                                problems.append(self.problem(row, index, column.header, raw,
                                                             column.field, str(exc)))
                                continue
                            if len(self.result.notes) == notes:  # a noted cell: noted each time
                                cache[cell_key] = value
                    if column.member:
                        if len(path) == 1:
                            member[path[0]] = value
                        else:
                            _put(member, path, value)
                        continue
                    if value is None:
                        continue  # a household field written on one of its rows suffices
                    earlier = given.get(column.field)
                    if earlier is None:
                        given[column.field] = (row, raw, value)
                    elif earlier[2] != value:
                        problems.append(self.problem(
                            row, column.index, column.header, raw, column.field,
                            f"the rows of household {hid} disagree on {column.header}: row "
                            f"{earlier[0]} says {_shown(earlier[1])}"))
                members.append(member)
            for column in self.columns:
                if column.member or column.field == "household_id":
                    continue
                found = given.get(column.field)
                if found is None and column.spec.required:
                    problems.append(self.problem(rows[0][0], column.index, column.header, "",
                                                 column.field, "empty cell in a required "
                                                 "column"))
                if found is not None:
                    _put(record, column.path, found[2])
            row_numbers = tuple(row for row, _ in rows)
            if problems:
                problems.sort(key=lambda p: (p.row, len(p.column), p.column))  # as they stand
                result.rejections.append(LedgerRejection(hid, row_numbers, tuple(problems)))
                result.rows_rejected += len(rows)
                continue
            record = {"household_id": hid, **record, "members": members}
            result.households.append((row_numbers[0], record))
            result.cells[row_numbers[0]] = HouseholdCells(list(row_numbers))
            result.rows_used += len(rows)

    def convert(self, column: _Column, raw: Any, row: int) -> Any:
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            return None
        spec = column.spec
        if spec.labels is not None:
            table = self.labels[spec.labels]
            if isinstance(raw, bool):  # an Excel TRUE/FALSE cell in a 是/否 column
                if raw in table.values():
                    return raw
                raise _CellError(f"a TRUE/FALSE cell where {column.header} takes a label: "
                                 + ", ".join(table))
            text = squeeze_label(_text(raw))
            if text in table:
                return table[text]
            hint = did_you_mean(text, table)
            raise _CellError(f"unknown label for {column.header}"
                             + (f" ({hint})" if hint else "")
                             + "; the labels are: " + ", ".join(table))
        if spec.kind == "money":
            return self.money(column, raw, row)
        if spec.kind == "date":
            return self.date(raw)
        if spec.kind == "region_code":
            code = _text(raw)
            if code.isdigit() and len(code) in (6, 9, 12):
                return code[:6]
            raise _CellError("not a division code (6, 9 or 12 digits)")
        return _text(raw)

    def money(self, column: _Column, raw: Any, row: int) -> Decimal:
        if isinstance(raw, bool):
            raise _CellError("not an amount of money")
        if isinstance(raw, int):
            return Decimal(raw)
        if isinstance(raw, float):
            # The shortest text that reads back as this float is what Excel shows; a formula's
            # binary-float tail (7151.990000000001) is cut to the fen it shows, with a note.
            exact = Decimal(repr(raw))
            if not exact.is_finite():
                raise _CellError("not an amount of money")
            fen = exact.quantize(_FEN, rounding=ROUND_HALF_EVEN)
            if fen != exact:
                self.result.notes.append(self.problem(
                    row, column.index, column.header, raw, column.field,
                    f"read as {fen} (the fen the cell shows)"))
            return _plain(fen)
        text = _text(raw).replace(",", "").replace("，", "")
        text = text.removesuffix("元")
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise _CellError("text in a money column: not an amount of money") from None
        if not value.is_finite() or abs(value.adjusted()) > 15:
            raise _CellError("not a usable amount of money")
        return value

    def date(self, raw: Any) -> date:
        if isinstance(raw, datetime):
            return raw.date()
        if isinstance(raw, date):
            return raw
        text = _text(raw)
        for form in self.forms:
            parsed = _parse_date(text, form)
            if parsed is not None:
                return parsed
        raise _CellError("not a date in the forms " + ", ".join(self.forms)
                         + " (or an Excel date cell)")


def _parse_date(text: str, form: str) -> date | None:
    try:
        if form == "YYYYMMDD" and len(text) == 8 and text.isdigit():
            return date(int(text[:4]), int(text[4:6]), int(text[6:]))
        if form == "YYYYMM" and len(text) == 6 and text.isdigit():
            return date(int(text[:4]), int(text[4:]), 1)  # the platform's month: its 1st day
        if form == "YYYY-MM-DD" and len(text) == 10 and text[4] == text[7] == "-":
            return date.fromisoformat(text)
        if form == "YYYY/MM/DD":
            parts = text.split("/")
            if len(parts) == 3 and all(p.isdigit() for p in parts) and len(parts[0]) == 4:
                return date(int(parts[0]), int(parts[1]), int(parts[2]))
    except ValueError:
        return None
    return None


def _plain(value: Decimal) -> Decimal:
    """7151.99 as it is, 18000.00 as 18000: the decimal a JSON line would spell."""
    return Decimal(int(value)) if value == value.to_integral_value() else value


def _cell(cells: list[Any], index: int) -> Any:
    return cells[index] if index < len(cells) else None


def _text(value: Any) -> str:
    """A cell as text: a whole number cell (a code typed into a number cell) without `.0`."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value).strip()


def _put(target: dict[str, Any], parts: list[str], value: Any) -> None:
    for part in parts[:-1]:
        target = target.setdefault(part, {})
    target[parts[-1]] = value
