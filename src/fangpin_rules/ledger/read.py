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

import codecs
import csv
import dataclasses
import io
import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from operator import itemgetter
from pathlib import Path
from typing import IO, Any

from pydantic import BaseModel

from fangpin_rules.diagnostics import Diagnostic, Location, did_you_mean, error, suggest
from fangpin_rules.ledger.format import ColumnSpec, LedgerFormat, label_lookup, squeeze_label
from fangpin_rules.ledger.ids import id_key, mask_id
from fangpin_rules.limits import MAX_LEDGER_FILE_BYTES, MAX_LEDGER_ROWS
from fangpin_rules.model import Household
from fangpin_rules.source.files import FileRefused, read_bounded

_FEN = Decimal("0.01")
_MISSING = object()
_MAX_SHOWN = 60  # characters of a cell quoted in a message
_DECODE_PIECE = 1 << 20  # bytes of a CSV checked for its encoding at a time


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
    head: int | None = None  # the row of its head


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
    """A sheet's rows, handed over one at a time as the reader asks for them: the rows are
    never all held as Python lists (python-calamine keeps a workbook's cells in its own compact
    form; a CSV file is decoded as it is read)."""

    sheet: str
    rows: Iterator[list[Any]]
    first_row: int  # the Excel row number of the first row `rows` gives
    first_column: int  # the 0-based column of each row's first cell
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
        end_row = data.end[0] if data.end else -1
        merged = data.merged_cell_ranges or []
        # calamine's rows run from the sheet's first row, its cells from the first column
        # that holds anything; each row becomes a Python list only when it is read.
        rows: Iterator[list[Any]] = data.iter_rows()
    except LedgerError:
        raise
    except Exception as exc:  # calamine's errors: not a workbook, a broken zip, bad XML
        raise LedgerError([error("ledger-file", f"'{path}' is not a readable .xlsx workbook "
                                 f"({type(exc).__name__})", Location(path, 0, 0),
                                 hint="save it from Excel as .xlsx, or export it as CSV")]
                          ) from None
    if end_row - start_row + 1 > MAX_LEDGER_ROWS:
        raise _too_many_rows(path)
    return Grid(sheet, _filled(_xlsx_rows(rows, path), merged, start_column), 1, start_column,
                "xlsx")


def _xlsx_rows(rows: Iterator[list[Any]], path: str) -> Iterator[list[Any]]:
    """calamine's rows, its errors while reading one as the ledger's."""
    while True:
        try:
            line = next(rows)
        except StopIteration:
            return
        except Exception as exc:
            raise LedgerError([error("ledger-file", f"'{path}' is not a readable .xlsx "
                                     f"workbook ({type(exc).__name__})", Location(path, 0, 0),
                                     hint="save it from Excel as .xlsx, or export it as "
                                     "CSV")]) from None
        yield line


def _filled(rows: Iterator[list[Any]], merged: Sequence[Any],
            first_column: int) -> Iterator[list[Any]]:
    """The rows with a merged range's value in every cell it covers (a household's fields
    merged down its member rows, as some exports do); calamine gives it in the top-left cell
    only. The ranges are known before the rows, so each row is filled as it passes."""
    by_top: dict[int, list[tuple[int, int, int]]] = {}
    for (top, left), (bottom, right) in merged:
        if bottom > top or right > left:
            by_top.setdefault(top, []).append((bottom, left - first_column,
                                               right - first_column))
    if not by_top:
        yield from rows
        return
    active: list[tuple[int, int, int, Any]] = []  # (last row, first, last column, value)
    for index, line in enumerate(rows):
        starting = by_top.get(index)
        if starting:
            active.extend((bottom, c0, c1, line[c0]) for bottom, c0, c1 in starting
                          if 0 <= c0 < len(line))
        if active:
            active = [span for span in active if span[0] >= index]
            for _, c0, c1, value in active:
                for column in range(max(c0, 0), min(c1 + 1, len(line))):
                    line[column] = value
        yield line


def _csv_grid(path: str, raw: bytes) -> Grid:
    if raw.startswith(b"\xef\xbb\xbf"):
        codec, encoding, skip = "utf-8", "UTF-8 with BOM", 3
        if not _decodes(raw, codec, skip):
            raise LedgerError([error("ledger-encoding", f"'{path}' starts as UTF-8 but is not "
                                     "UTF-8 text", Location(path, 0, 0),
                                     hint="save it from Excel as 'CSV UTF-8'")])
    elif _decodes(raw, "utf-8", 0):
        codec, encoding, skip = "utf-8", "UTF-8", 0
    elif _decodes(raw, "gb18030", 0):
        codec, encoding, skip = "gb18030", "GB18030", 0
    else:
        raise LedgerError([error("ledger-encoding", f"'{path}' is neither UTF-8 nor "
                                 "GB18030 text", Location(path, 0, 0),
                                 hint="save it from Excel as 'CSV UTF-8'")])
    text = io.TextIOWrapper(io.BytesIO(memoryview(raw)[skip:]), encoding=codec, newline="")
    return Grid(Path(path).name, _csv_rows(text, path), 1, 0, encoding)


def _decodes(raw: bytes, codec: str, skip: int) -> bool:
    """Whether the bytes are text in `codec`: decoded a piece at a time and thrown away, so
    that the check never holds the whole text."""
    decoder = codecs.getincrementaldecoder(codec)()
    view = memoryview(raw)
    try:
        for offset in range(skip, len(raw), _DECODE_PIECE):
            decoder.decode(view[offset:offset + _DECODE_PIECE])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _csv_rows(text: IO[str], path: str) -> Iterator[list[Any]]:
    reader = csv.reader(text, strict=True)
    count = 0
    try:
        for line in reader:
            count += 1
            if count > MAX_LEDGER_ROWS:
                raise _too_many_rows(path)
            yield line
    except csv.Error as exc:
        raise LedgerError([error("ledger-csv", f"CSV error at row {reader.line_num}: {exc}",
                                 Location(path, reader.line_num, 1),
                                 hint="a quote opened in this row is not closed")]) from None


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
    # where the value goes: in the member's dict, or in the household's
    path: list[str] = dataclasses.field(init=False, compare=False)

    def __post_init__(self) -> None:
        parts = self.field.split(".")
        object.__setattr__(self, "path", parts[1:] if self.member else parts)


def read_ledger(path: str | Path, ledger_format: LedgerFormat,
                record_model: type[BaseModel] = Household) -> LedgerRead:
    """Read the ledger at `path` by `ledger_format` into records of `record_model` (the
    policy's); raises LedgerError when it cannot be read at all."""
    file = str(path)
    document = ledger_format.document
    grid = read_grid(file, document.sheet)
    top = list(itertools.islice(grid.rows, document.header_search_rows))
    header_index = _find_header(top, grid, ledger_format, file)
    headers = [_squeeze(cell) for cell in top[header_index]]
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
    personal_indexes = {positions[n] for n in map(_squeeze, document.personal) if n in positions}
    if person_index is not None:
        personal_indexes.add(person_index)
    reader = _RowReader(grid, ledger_format, columns, result, headers, personal_indexes)
    first = grid.first_row + header_index + 1
    reader.read(zip(itertools.count(first), itertools.chain(top[header_index + 1:], grid.rows)),
                head_index, person_index, group_indexes)
    return result


def _find_header(top: list[list[Any]], grid: Grid, ledger_format: LedgerFormat,
                 file: str) -> int:
    """The row, among the first `header_search_rows`, that holds the most known headers."""
    document = ledger_format.document
    names = {_squeeze(n) for spec in ledger_format.columns.values() for n in spec.names}
    names |= {_squeeze(n) for n in document.head.names}
    best, best_count = -1, 0
    for index, row in enumerate(top):
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


class _Household:
    """A household's rows as they are read: grouped by its number wherever they stand."""

    __slots__ = ("given", "heads", "last", "members", "problems", "relation", "rows")

    def __init__(self) -> None:
        self.rows: list[int] = []
        self.members: list[dict[str, Any]] = []
        self.given: dict[str, tuple[int, Any, Any]] = {}  # field -> (row, raw, value)
        self.heads: list[int] = []
        self.problems: list[CellProblem] = []
        self.last: tuple[Any, ...] | None = None  # the household's cells on its last row
        self.relation: Any = ""  # the relation cell of its first row


Converter = Callable[["_Column", Any, int], Any]


class _RowReader:
    def __init__(self, grid: Grid, ledger_format: LedgerFormat, columns: list[_Column],
                 result: LedgerRead, headers: list[str], personal: set[int]) -> None:
        self.grid = grid
        self.format = ledger_format
        self.columns = columns
        self.result = result
        self.headers = headers
        self.labels = label_lookup(ledger_format)
        self.forms = ledger_format.document.date_forms
        self.personal = personal
        self.closed: dict[str, tuple[int, _Household | None]] = {}  # where each finished went
        self.reopened = False
        self.household_columns = [c for c in columns
                                  if not c.member and c.field != "household_id"]
        self.dropped: tuple[set[int], set[int]] = (set(), set())  # households, rejections

    def problem(self, row: int, index: int, header: str, value: Any, field_path: str | None,
                reason: str) -> CellProblem:
        shown = _shown(value)
        if index in self.personal:
            shown = mask_id(shown)
        return CellProblem(self.grid.sheet, row, column_letter(self.grid.first_column + index),
                           header, shown, field_path, reason)

    def read(self, rows: Iterable[tuple[int, list[Any]]], head_index: int,
             person_index: int | None, group_indexes: list[int]) -> None:
        """Group the member rows into households as they stream past, converting each cell
        as its row passes (a household's cells repeated on its rows are converted once). A
        household is checked and made a record when a row of another household follows it, so
        what is held is the records, never the sheet's rows.

        A sheet need not be sorted by 户编号: a household whose rows come back after another
        household's is taken back out of the records and finished again with its later rows
        (a sheet sorted by name reads as one sorted by household, only slower). The records
        and rejections come out in the order of each household's first row."""
        result = self.result
        key = next(c for c in self.columns if c.field == "household_id")
        key_index = key.index
        head_label = "".join(self.format.document.head.value.split())
        member_plan: list[tuple[int, _Column, dict[Any, Any], str | None, list[str]]] = [
            (c.index, c, {}, c.path[0] if len(c.path) == 1 else None, c.path)
            for c in self.columns if c.member]
        household_plan: list[tuple[int, _Column, dict[Any, Any]]] = [
            (c.index, c, {}) for c in self.columns
            if not c.member and c.field != "household_id"]
        household_cells = _getter([index for index, _, _ in household_plan])
        width = 1 + max([key_index, head_index, *group_indexes,
                         *([person_index] if person_index is not None else []),
                         *(c.index for c in self.columns)])
        open_id: str | None = None
        household = _Household()
        seen_people: dict[str, int] = {}
        for row, cells in rows:
            if len(cells) < width:
                cells = [*cells, *([""] * (width - len(cells)))]
            hid = _text(cells[key_index])
            if not hid:
                if all(cell is None or (type(cell) is str and not cell.strip())
                       for cell in cells):
                    continue  # an empty row: no member
                result.rows_read += 1
                result.rejections.append(LedgerRejection(None, (row,), (self.problem(
                    row, key_index, key.header, "", key.field,
                    "no household number: the row belongs to no household"),)))
                result.rows_rejected += 1
                continue
            result.rows_read += 1
            if group_indexes:
                hid = "/".join([*(_text(cells[i]) for i in group_indexes), hid])
            relation = cells[head_index]
            if hid != open_id:
                if open_id is not None:
                    self.finish(open_id, household, head_index)
                household = self.reopen(hid) if hid in self.closed else _Household()
                open_id = hid
                if not household.rows:
                    household.relation = relation
            household.rows.append(row)
            if type(relation) is str and "".join(relation.split()) == head_label:
                household.heads.append(row)
            if person_index is not None:
                self.person(household, row, cells[person_index], person_index, seen_people)
            member: dict[str, Any] = {"member_id": str(len(household.members) + 1)}
            for index, column, cache, name, path in member_plan:
                raw = cells[index]
                if raw is None or raw == "":
                    value = None
                else:
                    value = cache.get(raw if type(raw) is str else (type(raw), raw), _MISSING)
                    if value is _MISSING:
                        value = self.cached(column, cache, raw, row, household)
                        if value is _MISSING:
                            continue
                if name is not None:
                    member[name] = value
                else:
                    _put(member, path, value)
            household.members.append(member)
            shown = household_cells(cells)
            if shown != household.last:  # the same cells as its last row: nothing new
                household.last = shown
                self.household_fields(household, hid, row, shown, household_plan)
        if open_id is not None:
            self.finish(open_id, household, head_index)
        if self.reopened:  # an unsorted sheet: records and rejections by their first row
            gone, refused = self.dropped
            result.households = sorted((h for i, h in enumerate(result.households)
                                        if i not in gone), key=lambda h: h[0])
            result.rejections = sorted((r for i, r in enumerate(result.rejections)
                                        if i not in refused), key=lambda r: r.rows[0])

    def reopen(self, hid: str) -> _Household:
        """A household finished already whose rows come back: its record (or rejection) taken
        out, its rows, members and household fields as they were read."""
        result = self.result
        self.reopened = True
        index, kept = self.closed.pop(hid)
        # a household's rows keep their order: the later ones follow its earlier
        if kept is not None:  # rejected: kept whole (rejections are few)
            self.dropped[1].add(index)
            result.rows_rejected -= len(kept.rows)
            kept.last = None
            return kept
        first_row, record = result.households[index]
        self.dropped[0].add(index)
        cells = result.cells.pop(first_row)
        result.rows_used -= len(cells.rows)
        household = _Household()
        household.rows = list(cells.rows)
        household.heads = [cells.head] if cells.head is not None else []
        household.members = record["members"]
        for column in self.household_columns:
            value: Any = record
            for part in column.path:
                value = value.get(part) if isinstance(value, dict) else None
            if value is not None:
                household.given[column.field] = (first_row, self.words(column, value), value)
        return household

    def words(self, column: _Column, value: Any) -> Any:
        """A value as the sheet shows it (its label), for a message about a reopened row."""
        if column.spec.labels is not None:
            for label, meant in self.format.document.labels.get(column.spec.labels,
                                                                {}).items():
                if meant == value and type(meant) is type(value):
                    return label
        return value

    def cached(self, column: _Column, cache: dict[Any, Any], raw: Any, row: int,
               household: _Household) -> Any:
        """A cell's value: labels and repeated cells are converted once (keyed by type: 1.0
        is not True); _MISSING when the cell is a problem (added to the household's)."""
        cell_key: Any = raw if type(raw) is str else (type(raw), raw)
        value = cache.get(cell_key, _MISSING)
        if value is not _MISSING:
            return value
        notes = len(self.result.notes)
        try:
            value = self.convert(column, raw, row)
        except _CellError as exc:
            household.problems.append(self.problem(row, column.index, column.header, raw,
                                                   column.field, str(exc)))
            return _MISSING
        if len(self.result.notes) == notes:  # a noted cell is noted where it stands
            cache[cell_key] = value
        return value

    def household_fields(self, household: _Household, hid: str, row: int,
                         shown: tuple[Any, ...],
                         plan: list[tuple[int, _Column, dict[Any, Any]]]) -> None:
        given = household.given
        for raw, (_, column, cache) in zip(shown, plan, strict=True):
            if raw is None or raw == "":
                continue  # a household field written on one of its rows suffices
            earlier = given.get(column.field)
            if earlier is not None and type(earlier[1]) is type(raw) and earlier[1] == raw:
                continue
            value = cache.get(raw if type(raw) is str else (type(raw), raw), _MISSING)
            if value is _MISSING:
                value = self.cached(column, cache, raw, row, household)
            if value is _MISSING or value is None:
                continue
            if earlier is None:
                given[column.field] = (row, raw, value)
            elif earlier[2] != value:
                household.problems.append(self.problem(
                    row, column.index, column.header, raw, column.field,
                    f"the rows of household {hid} disagree on {column.header}: row "
                    f"{earlier[0]} says {_shown(earlier[1])}"))

    def person(self, household: _Household, row: int, raw: Any, index: int,
               seen: dict[str, int]) -> None:
        """The member's ID number: checked (GB 11643-1999) and looked for on other rows."""
        text = _text(raw)
        if not text:
            return
        person_key, wrong = id_key(text)
        if person_key is None:
            household.problems.append(self.problem(row, index, self.headers[index], text, None,
                                                   wrong or "not an ID number"))
            return
        first = seen.setdefault(person_key, row)
        if first != row:
            household.problems.append(self.problem(row, index, self.headers[index], text, None,
                                                   f"duplicate ID number: also on row {first}"))

    def finish(self, hid: str, household: _Household, head_index: int) -> None:
        result = self.result
        problems = list(household.problems)  # its cells' (the household's own are added)
        rows = household.rows
        head = self.format.document.head.value
        head_header = self.headers[head_index]
        if not household.heads:
            problems.append(self.problem(rows[0], head_index, head_header, household.relation,
                                         None,
                                         f"household {hid} has no row whose {head_header} is "
                                         f"{head}"))
        for extra in household.heads[1:]:
            problems.append(self.problem(extra, head_index, head_header, head, None,
                                         f"household {hid} has a second {head} (the first on "
                                         f"row {household.heads[0]})"))
        record: dict[str, Any] = {}
        given = household.given
        for column in self.household_columns:
            found = given.get(column.field)
            if found is None:
                if column.spec.required:
                    problems.append(self.problem(rows[0], column.index, column.header, "",
                                                 column.field, "empty cell in a required "
                                                 "column"))
                continue
            path = column.path
            if len(path) == 1:
                record[path[0]] = found[2]
            else:
                _put(record, path, found[2])
        row_numbers = tuple(rows)
        if problems:
            self.closed[hid] = (len(result.rejections), household)
            problems = sorted(problems, key=lambda p: (p.row, len(p.column), p.column))
            result.rejections.append(LedgerRejection(hid, row_numbers, tuple(problems)))
            result.rows_rejected += len(rows)
            return
        self.closed[hid] = (len(result.households), None)
        result.households.append((rows[0], {"household_id": hid, **record,
                                            "members": household.members}))
        result.cells[rows[0]] = HouseholdCells(list(row_numbers), household.heads[0])
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
            if code.isascii() and code.isdigit() and len(code) in (6, 9, 12):
                return code  # county, township or village: the contract takes all three
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


def _getter(indexes: list[int]) -> Callable[[list[Any]], tuple[Any, ...]]:
    """The cells at `indexes` of a row as a tuple, taken in one call."""
    if not indexes:
        return lambda cells: ()
    if len(indexes) == 1:
        only = indexes[0]
        return lambda cells: (cells[only],)
    return itemgetter(*indexes)


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
