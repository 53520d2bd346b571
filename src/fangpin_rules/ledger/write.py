"""Write decisions as a spreadsheet ledger: `.xlsx` (xlsxwriter) or `.csv` (UTF-8 with BOM).

The columns are the policy's output fields, headed by their titles and filled with the labels
of the policy's vocabularies, in Chinese or English (`lang`). A workbook has the sheets
decisions, warnings, rejects, deadlines (when cases are given), the monthly ledger summary of
the date's month (ledger/summary.py; any table handed to `write_summary_sheet`), and about
(the policy, its sha256, the date, the engine's version, the counts, and the article each
column cites). Rows are written as they come and the workbook is
written in xlsxwriter's constant-memory mode, so a run never holds its decisions twice.

Money is exact: an amount is a number cell only when the number Excel keeps (15 significant
digits) reads back as the same decimal; any other amount (10000/3 per capita) is a text cell
holding its exact digits. No cell is a formula: text is always written as text, and in a CSV a
text cell that Excel would take for a formula (=, +, -, @) is written with a leading `'`.
With `mask`, household ids are shown with only their first 6 and last 4 characters, as an ID
number is, and so are the cell values quoted by the rejects.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import IO, Any

from fangpin_rules.checker.checked import CheckedPolicy
from fangpin_rules.explain.labels import (
    field_words,
    input_label,
    short_title,
    title_in,
    vocabulary_labels,
    word,
)
from fangpin_rules.language import types as t
from fangpin_rules.ledger.ids import mask_id

Cell = str | int | Decimal | None
LANGS = ("zh", "en")
_WIDTH_ROWS = 1000  # columns are sized by the header and the first rows
_MAX_WIDTH = 60
_EXCEL_DIGITS = 15  # significant digits Excel keeps of a number
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_AMOUNTS_KEPT = 10_000  # distinct amounts whose number cell is remembered

_SHEETS = {"decisions": ("决策结果", "decisions"), "warnings": ("数据提示", "warnings"),
           "rejects": ("未判定记录", "rejects"), "deadlines": ("办理时限", "deadlines"),
           "about": ("说明", "about")}
_HEADERS: dict[str, tuple[str, str]] = {
    "cites": ("依据条款", "articles"), "warning": ("提示", "warning"),
    "field_label": ("字段", "field"), "field": ("字段路径", "field path"),
    "cite": ("条款", "article"), "record": ("记录", "record"), "sheet": ("工作表", "sheet"),
    "row": ("行", "row"), "column": ("列", "column"), "header": ("表头", "header"),
    "value": ("值", "value"), "reason": ("原因", "reason"), "case_id": ("案件编号", "case id"),
    "step": ("环节", "step"), "due": ("应完成日期", "due"), "done": ("完成日期", "done"),
    "status": ("状态", "status"), "late_working_days": ("逾期工作日", "late working days"),
    "item": ("项目", "item"),
}
STATUS_WORDS: dict[str, tuple[str, str]] = {  # every DeadlineStatus (model/decision.py)
    "pending": ("待办", "pending"), "overdue": ("已逾期", "overdue"),
    "on_time": ("按期完成", "done on time"), "late": ("逾期完成", "done late"),
    "too_short": ("公示期不足", "notice too short"),
    "too_early": ("早于规定时间", "done too early"), "not_started": ("未开始", "not started"),
    "no_notice": ("未公示", "no notice"), "unknown": ("无法判定", "cannot be worked out"),
}
_RECORDS = {"household": ("家庭", "household"), "case": ("案件", "case")}
_ABOUT: dict[str, tuple[str, str]] = {
    "policy": ("政策", "policy"), "title": ("政策名称", "policy title"),
    "sha256": ("政策文件 sha256", "policy file sha256"), "as_of": ("评估日期", "as of"),
    "engine": ("引擎版本", "engine version"), "read": ("读取户数", "households read"),
    "decided": ("判定户数", "households decided"),
    "rejected": ("未判定户数", "households rejected"),
    "warnings": ("数据提示条数", "warnings"),
    "rows_read": ("台帐成员行：读取", "ledger member rows read"),
    "rows_used": ("台帐成员行：使用", "ledger member rows used"),
    "rows_rejected": ("台帐成员行：未用", "ledger member rows rejected"),
    "masked": ("证件号码已遮蔽", "ids masked"),
    "money": ("金额", "money"),
    "money_note": ("可精确表示的金额为数字，其余为文本（精确值）",
                   "amounts Excel holds exactly are numbers; the others are text (exact)"),
    "column": ("列", "column"),
}


def _in(pair: tuple[str, str], lang: str) -> str:
    return pair[1] if lang == "en" else pair[0]


def _header(key: str, lang: str) -> str:
    return _in(_HEADERS[key], lang)


@dataclass(frozen=True)
class Column:
    """One column of the decisions sheet: a decision's key (or an object decision's field)."""

    key: str  # dotted: `category`, `cadre.rank`
    header: str
    kind: str  # money, number, bool, date, label, labels, text
    labels: Mapping[str, str] = field(default_factory=dict)
    cite: str | None = None
    parts: tuple[str, ...] = field(init=False)
    cites: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:  # worked out once, read for every row
        object.__setattr__(self, "parts", tuple(self.key.split(".")))
        object.__setattr__(self, "cites", tuple(_cites(self.cite)))

    def value(self, decision: Mapping[str, Any]) -> Any:
        value: Any = decision
        for part in self.parts:
            if not isinstance(value, dict):
                return None
            value = value.get(part)
        return value


def _kind(type_: t.Type) -> str:
    base = t.strip(type_)
    if base == t.MONEY:
        return "money"
    if base in (t.RATIO, t.COUNT, t.NUMBER):
        return "number"
    if base == t.BOOL:
        return "bool"
    if base == t.DATE:
        return "date"
    if isinstance(base, t.Enum):
        return "label"
    if isinstance(base, t.LabelSet | t.ListOf):
        return "labels"
    return "text"


def decision_columns(policy: CheckedPolicy, lang: str) -> list[Column]:
    """The decisions sheet's columns: the record's id, then the policy's output fields in the
    file's order (an object decision's fields each in a column; a category's `_label` key is
    left out, its column already shows the label), then the articles cited."""
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {', '.join(LANGS)}")
    by_key = {policy.output_name(name): name for name in policy.outputs}
    id_key = policy.record_id or "household_id"
    columns = [Column(id_key, input_label(id_key, lang), "text")]
    for key, type_ in policy.output_fields():
        name = by_key.get(key)
        if name is None:
            continue  # the `_label` twin of a decision
        node = policy.nodes[name]
        spec = policy.document.decisions[name]
        base = t.strip(type_)
        if isinstance(base, t.Record) and node.fields:
            title = short_title(title_in(spec.title, lang, name))
            for field_name in node.fields:
                field_node = policy.nodes[field_name]
                field_spec = getattr(spec, "fields", {}).get(field_name.partition(".")[2])
                field_title = short_title(title_in(getattr(field_spec, "title", None), lang,
                                                   field_name))
                columns.append(Column(
                    f"{key}.{field_name.partition('.')[2]}", f"{title}：{field_title}"
                    if lang == "zh" else f"{title}: {field_title}", _kind(field_node.type),
                    vocabulary_labels(policy.vocabularies, field_node.type, lang),
                    field_node.cite or node.cite))
            continue
        columns.append(Column(key, short_title(title_in(spec.title, lang, name)), _kind(type_),
                              vocabulary_labels(policy.vocabularies, type_, lang), node.cite))
    columns.append(Column("", _header("cites", lang), "cites"))
    return columns


def _getter(parts: tuple[str, ...]) -> Callable[[Mapping[str, Any]], Any]:
    """`Column.value` for a key of one part (a dict's get) or more (each step a dict)."""
    if len(parts) == 1:
        only = parts[0]
        return lambda decision: decision.get(only)
    if len(parts) == 2:
        first, second = parts

        def two(decision: Mapping[str, Any]) -> Any:
            inner = decision.get(first)
            return inner.get(second) if isinstance(inner, dict) else None
        return two

    def deep(decision: Mapping[str, Any]) -> Any:
        value: Any = decision
        for part in parts:
            if not isinstance(value, dict):
                return None
            value = value.get(part)
        return value
    return deep


def exact_number(value: Decimal) -> float | None:
    """The float to write for an amount when Excel holds it exactly (its 15 significant digits
    read back as the same decimal), else None: the amount is written as text."""
    if not value.is_finite():
        return None
    number = float(value)
    if Decimal(f"{number:.{_EXCEL_DIGITS}g}") != value:
        return None
    return number


def plain_decimal(value: Decimal) -> str:
    """An exact decimal in positional notation: 7.152E+3 -> '7152'."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def _article_key(cite: str) -> tuple[int, str]:
    digits = re.match(r"§(\d+)", cite)
    return (int(digits.group(1)) if digits else 10**6, cite)


def _cites(text: str | None) -> list[str]:
    return [part for part in re.split(r"[,，;；\s]+", text or "") if part]


class Labeller:
    """Decisions into rows of cells: the words of one language, the masking."""

    def __init__(self, policy: CheckedPolicy, lang: str = "zh", mask: bool = False) -> None:
        self.policy = policy
        self.lang = lang
        self.mask = mask
        self.columns = decision_columns(policy, lang)
        self.cited_columns = [c for c in self.columns[1:-1] if c.cite]
        self._cites_shown: dict[frozenset[str], str] = {}
        self.list_separator = "; " if lang == "en" else "、"
        self.steps = {step.name: step for step in policy.steps}
        self.warning_titles: dict[str, str] = {}
        self._cellers: list[Callable[[Mapping[str, Any]], Cell]] | None = None
        self._cited_getters: list[tuple[Callable[[Mapping[str, Any]], Any],
                                        tuple[str, ...]]] | None = None
        for warning in policy.warnings:
            title = warning.title_en if lang == "en" and warning.title_en else warning.title_zh
            self.warning_titles.setdefault(warning.id, title)
            self.warning_titles.setdefault(warning.code, title)

    def identity(self, value: Any) -> str | None:
        if value is None:
            return None
        text = str(value)
        return mask_id(text) if self.mask else text

    def cell(self, column: Column, decision: Mapping[str, Any]) -> Cell:
        if column.kind == "cites":
            return self.cites(decision)
        value = column.value(decision)
        if column.key == self.columns[0].key:
            return self.identity(value)
        if value is None:
            return None
        if column.kind == "bool" or isinstance(value, bool):
            return word("yes" if value else "no", self.lang)
        if isinstance(value, list):
            if not value:
                return word("none", self.lang)
            return self.list_separator.join(column.labels.get(str(v), str(v)) for v in value)
        if isinstance(value, int | Decimal):
            return value
        if isinstance(value, float):  # never from the engine's JSON; kept exact as its text
            return Decimal(repr(value))
        return column.labels.get(str(value), str(value))

    def cites(self, decision: Mapping[str, Any]) -> str:
        """The articles behind the decisions that say something of this household (a value
        that is not null, false or empty), and, when the trace was asked for, those of the
        rules whose condition held."""
        found: set[str] = set()
        getters = self._cited_getters
        if getters is None:
            getters = self._cited_getters = [(_getter(c.parts), c.cites)
                                             for c in self.cited_columns]
        for get, cites in getters:
            value = get(decision)
            if value is not None and value is not False and value != [] and value != "":
                found.update(cites)
        for step in decision.get("trace") or ():
            if isinstance(step, Mapping):
                for rule in step.get("rules") or ():
                    if isinstance(rule, Mapping) and rule.get("value") is True:
                        found.update(_cites(rule.get("cite")))  # a rule whose condition held
        key = frozenset(found)
        shown = self._cites_shown.get(key)
        if shown is None:  # households share few sets of articles
            shown = self._cites_shown[key] = " ".join(sorted(found, key=_article_key))
        return shown

    def decision_row(self, decision: Mapping[str, Any]) -> list[Cell]:
        cellers = self._cellers
        if cellers is None:
            cellers = self._cellers = [self._celler(column) for column in self.columns]
        return [celler(decision) for celler in cellers]

    def _celler(self, column: Column) -> Callable[[Mapping[str, Any]], Cell]:
        """`cell` for one column, worked out once: its value read by a getter made for its
        key, then by the value's type (what `cell` does, without asking for every row what
        kind the column is); a value of an unexpected type goes the general way."""
        if column.kind == "cites":
            return self.cites
        get = _getter(column.parts)
        if column is self.columns[0]:
            return lambda decision: self.identity(get(decision))
        labels, separator = column.labels, self.list_separator
        yes, no, none = (word(w, self.lang) for w in ("yes", "no", "none"))
        boolean = column.kind == "bool"

        def cell(decision: Mapping[str, Any]) -> Cell:
            value: Any = get(decision)
            if value is None:
                return None
            kind = type(value)
            if kind is bool:
                return yes if value else no
            if boolean:
                return self.cell(column, decision)
            if kind is str:
                shown: str = labels.get(value, value)
                return shown
            if kind is int or kind is Decimal:
                return value  # type: ignore[no-any-return]
            if kind is list:
                if not value:
                    return none
                if all(type(v) is str for v in value):
                    return separator.join([labels.get(v, v) for v in value])
            return self.cell(column, decision)  # anything else: the general way
        return cell

    def warning_rows(self, decision: Mapping[str, Any]) -> Iterable[list[Cell]]:
        household = self.identity(decision.get(self.columns[0].key))
        for warning in decision.get("warnings") or ():
            code = str(warning.get("code"))
            path = str(warning.get("field") or "")
            yield [household, self.warning_titles.get(code, code),
                   field_words(path, self.lang) if path else None, path or None,
                   warning.get("cite")]

    def deadline_rows(self, decision: Mapping[str, Any]) -> Iterable[list[Cell]]:
        household = self.identity(decision.get(self.columns[0].key))
        for entry in decision.get("deadlines") or ():
            status = str(entry.get("status"))
            late = entry.get("late_working_days")
            yield [household, entry.get("case_id"), self.step_title(str(entry.get("step"))),
                   entry.get("due"), entry.get("done"),
                   _in(STATUS_WORDS[status], self.lang) if status in STATUS_WORDS else status,
                   late if isinstance(late, int) else None, entry.get("cite"),
                   entry.get("reason")]

    def step_title(self, name: str) -> str:
        """A step's title; a quarterly step's entry (`visit_2021Q3`) with its quarter."""
        step, period = self.steps.get(name), ""
        if step is None:
            base, _, period = name.rpartition("_")
            step = self.steps.get(base)
            if step is None:
                return name
        title = step.title_en if self.lang == "en" and step.title_en else step.title_zh
        return f"{title} ({period})" if period and self.lang == "en" else \
            f"{title}（{period}）" if period else title

    def reject_rows(self, rejection: Mapping[str, Any]) -> Iterable[list[Cell]]:
        """One row a problem: a ledger's rejection names each cell; a JSON line's, its line."""
        record = str(rejection.get("record") or "household")
        record_words = _in(_RECORDS[record], self.lang) if record in _RECORDS else record
        household = self.identity(rejection.get("household_id"))
        problems = rejection.get("problems") or [rejection]
        for problem in problems:
            row = problem.get("row", rejection.get("row", rejection.get("line")))
            value = problem.get("value")
            yield [record_words, household, problem.get("sheet", rejection.get("sheet")),
                   row if isinstance(row, int) else None, problem.get("column"),
                   problem.get("header"), problem.get("field"),
                   self.identity(value) if value not in (None, "") else None,
                   self.masked_text(problem.get("reason"), rejection.get("household_id"))]

    def masked_text(self, text: Any, household_id: Any) -> str | None:
        if text is None:
            return None
        shown = str(text)
        if self.mask and isinstance(household_id, str) and household_id:
            shown = shown.replace(household_id, mask_id(household_id))
        return shown

    def headers(self, sheet: str) -> list[str]:
        h = self.lang
        household = self.columns[0].header
        if sheet == "decisions":
            return [column.header for column in self.columns]
        if sheet == "warnings":
            return [household, _header("warning", h), _header("field_label", h),
                    _header("field", h), _header("cite", h)]
        if sheet == "deadlines":
            return [household, _header("case_id", h), _header("step", h), _header("due", h),
                    _header("done", h), _header("status", h),
                    _header("late_working_days", h), _header("cite", h), _header("reason", h)]
        if sheet == "rejects":
            return [_header("record", h), household, _header("sheet", h), _header("row", h),
                    _header("column", h), _header("header", h), _header("field", h),
                    _header("value", h), _header("reason", h)]
        return [_header("item", h), _header("value", h), _header("cite", h)]

    def about_rows(self, as_of: date | str, engine_version: str,
                   counts: Mapping[str, int], *, columns: bool = True) -> list[list[Cell]]:
        """The about sheet's rows; `columns`: with a row for each decisions column."""
        policy = self.policy
        lang = self.lang
        title = title_in(policy.document.policy.title, lang, policy.id)
        rows: list[list[Cell]] = [
            [_in(_ABOUT["policy"], lang), policy.id, None],
            [_in(_ABOUT["title"], lang), title, None],
            [_in(_ABOUT["sha256"], lang), policy.sha256, None],
            [_in(_ABOUT["as_of"], lang), str(as_of), None],
            [_in(_ABOUT["engine"], lang), engine_version, None],
        ]
        for key in ("read", "decided", "rejected", "warnings", "rows_read", "rows_used",
                    "rows_rejected"):
            if key in counts:
                rows.append([_in(_ABOUT[key], lang), counts[key], None])
        rows.append([_in(_ABOUT["masked"], lang), word("yes" if self.mask else "no", lang),
                     None])
        rows.append([_in(_ABOUT["money"], lang), _in(_ABOUT["money_note"], lang), None])
        column_word = _in(_ABOUT["column"], lang)
        for column in self.columns if columns else ():
            rows.append([f"{column_word}: {column.header}" if lang == "en"
                         else f"{column_word}：{column.header}", column.key or None,
                         column.cite])
        return rows


def writable(text: str) -> str:
    """Text a workbook can hold: a lone surrogate (a record can spell one, "\\ud800", and a
    rejection quotes its id) is written as that same escape, as the JSON outputs write it."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def _width(value: Cell) -> int:
    if value is None:
        return 0
    text = value if isinstance(value, str) else str(value)
    # a CJK character takes two columns' width
    return len(text) + sum(1 for char in text if char >= "\u2e80")


class _Sheet:
    """One worksheet written row by row: header bold and frozen, autofilter over the rows,
    columns sized by the header and the first rows."""

    def __init__(self, workbook: Any, name: str, headers: Sequence[str],
                 formats: Mapping[str, Any], *, filtered: bool = True) -> None:
        self.sheet = workbook.add_worksheet(name)
        self.formats = formats
        self.columns = len(headers)
        self.widths = [_width(h) for h in headers]
        self.rows = 0
        self.filtered = filtered
        self.write_string = self.sheet.write_string
        self.write_number = self.sheet.write_number
        self.amounts: dict[Decimal, tuple[float | None, Any]] = {}
        for index, text in enumerate(headers):
            self.sheet.write_string(0, index, text, formats["header"])

    def append(self, cells: Sequence[Cell]) -> None:
        self.rows += 1
        row = self.rows
        write_string, write_number = self.write_string, self.write_number
        size = row <= _WIDTH_ROWS
        for index, value in enumerate(cells):
            if value is None:
                continue
            kind = type(value)
            if kind is str:
                text = writable(value)  # type: ignore[arg-type]
                if text.startswith("<r>") and text.endswith("</r>"):
                    # xlsxwriter takes such a text for rich-string XML and writes it raw (the
                    # cell comes out empty): as three plain runs it is escaped like any text
                    self.sheet.write_rich_string(row, index, text[:1], text[1:2], text[2:])
                else:
                    write_string(row, index, text)
            elif kind is int:
                write_number(row, index, value)
            else:
                assert isinstance(value, Decimal)
                number, decimal_format = self.money(value)
                if number is None:
                    value = plain_decimal(value)
                    write_string(row, index, value)
                else:
                    write_number(row, index, number, decimal_format)
            if size:
                self.widths[index] = max(self.widths[index], _width(value))

    def money(self, value: Decimal) -> tuple[float | None, Any]:
        """The number to write for an amount and its format (amounts repeat: the line, the
        standards): worked out once an amount."""
        found = self.amounts.get(value)
        if found is None:
            number = exact_number(value)
            found = (number, self.formats["decimal"]
                     if number is not None and value != value.to_integral_value() else None)
            if len(self.amounts) < _AMOUNTS_KEPT:
                self.amounts[value] = found
        return found

    def finish(self) -> None:
        for index, width in enumerate(self.widths):
            self.sheet.set_column(index, index, min(width + 2, _MAX_WIDTH))
        self.sheet.freeze_panes(1, 0)
        if self.filtered:
            self.sheet.autofilter(0, 0, max(self.rows, 1), self.columns - 1)


class XlsxLedger:
    """A workbook written as the decisions come: `decision`, `rejection`, then `close`."""

    def __init__(self, out: IO[bytes], labeller: Labeller, *, deadlines: bool = False,
                 decisions: bool = True) -> None:
        """`decisions=False`: a workbook of summary sheets and the about sheet only (a
        report's, whose households are in no sheet of their own)."""
        import xlsxwriter

        self.labeller = labeller
        self.workbook = xlsxwriter.Workbook(out, {
            "constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
            "strings_to_numbers": False})
        self.formats = {"header": self.workbook.add_format({"bold": True, "bg_color": "#DDEBF7",
                                                            "border": 1}),
                        "decimal": self.workbook.add_format({"num_format": "0.00########"})}
        lang = labeller.lang
        names = ["decisions", "warnings", "rejects", *(["deadlines"] if deadlines else [])] \
            if decisions else []
        self.sheets = {name: _Sheet(self.workbook, _in(_SHEETS[name], lang),
                                    labeller.headers(name), self.formats) for name in names}
        self.extra: list[_Sheet] = []
        self.warnings = 0
        self.closed = False

    def decision(self, decision: Mapping[str, Any]) -> None:
        labeller = self.labeller
        self.sheets["decisions"].append(labeller.decision_row(decision))
        for row in labeller.warning_rows(decision):
            self.sheets["warnings"].append(row)
            self.warnings += 1
        deadlines = self.sheets.get("deadlines")
        if deadlines is not None:
            for row in labeller.deadline_rows(decision):
                deadlines.append(row)

    def rejection(self, rejection: Mapping[str, Any]) -> None:
        for row in self.labeller.reject_rows(rejection):
            self.sheets["rejects"].append(row)

    def summary_sheet(self, name: str, headers: Sequence[str],
                      rows: Iterable[Sequence[Cell]]) -> None:
        sheet = _Sheet(self.workbook, name, headers, self.formats)
        for row in rows:
            sheet.append(row)
        self.extra.append(sheet)

    def close(self, as_of: date | str, engine_version: str, counts: Mapping[str, int]) -> None:
        about = _Sheet(self.workbook, _in(_SHEETS["about"], self.labeller.lang),
                       self.labeller.headers("about"), self.formats, filtered=False)
        for row in self.labeller.about_rows(
                as_of, engine_version,
                {**counts, "warnings": self.warnings} if self.sheets else counts,
                columns=bool(self.sheets)):
            about.append(row)
        for sheet in [*self.sheets.values(), *self.extra, about]:
            sheet.finish()
        self.workbook.close()
        self.closed = True

    def discard(self) -> None:
        """A workbook the run will not finish: its sheets' temporary row files are closed
        (and so removed); nothing is written. Nothing to do once closed."""
        if self.closed:
            return
        self.closed = True
        for sheet in self.workbook.worksheets():
            close = getattr(sheet, "_opt_close", None)  # constant-memory mode's row file
            if close is not None:
                close()


def write_summary_sheet(ledger: XlsxLedger, name: str, headers: Sequence[str],
                        rows: Iterable[Sequence[Cell]]) -> None:
    """A summary table (the monthly ledger summary of a population report) as one more sheet
    of the workbook, with the same sizing, frozen header and filter; call before `close`."""
    ledger.summary_sheet(name, headers, rows)


def _csv_text(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return plain_decimal(value)
    if isinstance(value, int):
        return str(value)
    # Excel would run a cell starting so as a formula; the quote keeps it text.
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


class CsvLedger:
    """The decisions sheet's columns as CSV, UTF-8 with a BOM so that Excel reads it as such.
    Warnings, rejects and deadlines have no place in one table: the rejects go to --rejects."""

    def __init__(self, out: IO[str], labeller: Labeller) -> None:
        self.labeller = labeller
        out.write("\ufeff")
        self.writer = csv.writer(out, lineterminator="\r\n")
        self.writer.writerow(labeller.headers("decisions"))

    def decision(self, decision: Mapping[str, Any]) -> None:
        self.writer.writerow([_csv_text(c) for c in self.labeller.decision_row(decision)])

    def rejection(self, rejection: Mapping[str, Any]) -> None:
        """Not a row of the decisions table."""

    def close(self, as_of: date | str, engine_version: str, counts: Mapping[str, int]) -> None:
        """Nothing is held back: every row is written already."""

    def discard(self) -> None:
        """The run's outputs remove the file."""


SpreadsheetLedger = XlsxLedger | CsvLedger
SPREADSHEET_SUFFIXES = (".xlsx", ".csv")


def is_spreadsheet(path: str | None) -> bool:
    return path is not None and path.lower().endswith(SPREADSHEET_SUFFIXES)


def open_ledger(path: str, stream: IO[str], labeller: Labeller, *,
                deadlines: bool = False) -> SpreadsheetLedger:
    """The writer for an output path by its extension, over the output's text stream."""
    if path.lower().endswith(".xlsx"):
        stream.flush()
        binary: IO[bytes] = getattr(stream, "buffer")  # noqa: B009 - a text file's bytes
        return XlsxLedger(binary, labeller, deadlines=deadlines)
    return CsvLedger(stream, labeller)


