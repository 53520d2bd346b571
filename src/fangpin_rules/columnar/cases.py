"""The households' cases in columns: the case table and the deadlines of its steps.

A batch's cases (`cases={household_id: [case, ...]}`) are checked as the record path checks
them (`checked_cases`) and become one Polars frame, a row per case (`CaseTable`). The steps
read with a case are decided over the cases joined to their households' columns
(`CaseSteps.query`: one row per (household, case)); each household with cases then has the
entries of its cases in their order in place of the deadlines it has without one, as the
record path writes them (`case_deadlines`).
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from fangpin_rules.compiler.polars_backend import (
    CASE_COLUMN,
    CASE_HAZARD_COLUMN,
    CASE_HOUSEHOLD_COLUMN,
    CASE_ORDER_COLUMN,
    HAZARD_COLUMN,
    CaseSteps,
)
from fangpin_rules.engine.records import CASE_ORDER, RecordError, checked_cases, read_case
from fangpin_rules.language import types as t
from fangpin_rules.model import Case
from fangpin_rules.model.case import Publicity

CaseInput = Case | Mapping[str, Any]
_ID_COLUMN = "__fpc_case_household_id"


@dataclass(frozen=True)
class CaseTable:
    """A batch's checked cases: by household id (for the rows the record path decides) and
    as a frame of one row per case: the household id, the case's place among its household's
    cases (CASE_ORDER_COLUMN) and its fields (CASE_COLUMN, a struct of the contract's
    types). A checked case is a `Case` or the typed reader's record of one (`checked_case`):
    the same fields, read by attribute."""

    by_household: Mapping[str, list[Any]]
    frame: pl.DataFrame

    @classmethod
    def of(cls, cases: Mapping[str, Iterable[CaseInput]] | None) -> CaseTable:
        """The table of cases given as the caller gives them, checked here as `checked_cases`
        checks them: each read against the contract, then the procedure's order checked in
        columns (`_out_of_order`); where a case fails either, `checked_cases` raises the
        record path's error, that of the first bad case (the order checked case by case cost
        half of the cases' check: 0.87 of 1.9 s for 95,467 cases). Cases given as plain dicts
        are read in columns when they can be (`_in_columns`)."""
        # each household's cases as a list (an iterable is read once); a list is not copied
        given = {household: listed if type(listed) is list else list(listed)
                 for household, listed in (cases or {}).items()}
        positions = _positions(given)  # the same for the cases read one by one
        table = _in_columns(given, positions)
        if table is None:
            try:
                read = {household: [read_case(case) for case in listed]
                        for household, listed in given.items()}
            except RecordError:
                checked_cases(given)  # the record path's error, of the first bad case
                raise
            table = cls._built(read, positions)
        if table.frame.height and table.frame.select(_out_of_order()).item():
            checked_cases(given)
        return table

    @classmethod
    def of_checked(cls, by_household: Mapping[str, list[Any]],
                   ids: Iterable[Any] | None = None) -> CaseTable:
        """The table of cases checked already (`checked_cases`, or `fangpin eval --cases`'s
        reader): of the households `ids` only, when given (a chunk's, a batch's)."""
        if ids is not None:
            by_household = {household: by_household[household] for household in
                            dict.fromkeys(ids) if household in by_household}
        return cls._built(by_household, _positions(by_household))

    @classmethod
    def _built(cls, by_household: Mapping[str, list[Any]], positions: _Positions
               ) -> CaseTable:
        """The table of cases read already, at their `positions` (`_positions`)."""
        from fangpin_rules.columnar.arrow import records_column

        return cls(by_household, _frame(positions, records_column(_case_type(),
                                                                  _listed(by_household))))

    def __bool__(self) -> bool:
        return self.frame.height > 0

    def used(self, ids: Iterable[Any]) -> int:
        """The case records of the households `ids` (one count per household decided)."""
        return cases_used(self.by_household, ids)


def cases_used(by_household: Mapping[str, Sequence[Any]], ids: Iterable[Any]) -> int:
    """The case records in `by_household` of the households `ids`, one count per household
    decided: the `cases: used` of a run."""
    return sum(len(by_household.get(household, ())) for household in ids)


def _case_type() -> Any:
    from fangpin_rules.columnar.arrow import _arrow_type, _pyarrow
    return _arrow_type(_pyarrow(), t.record_type(Case), output=False)


_Positions = tuple[pl.Series, pl.Series]


def _positions(by_household: Mapping[str, list[Any]]) -> _Positions:
    """(the household id, the place among its household's cases) of each case, in the order
    of `_listed`, as columns (made in Polars from the households' counts: a Python loop over
    the households building two lists, then Arrow arrays of them, cost 58 against 16 ms for
    95,467 cases)."""
    counts = pl.Series(list(map(len, by_household.values())), dtype=pl.Int64)
    each = pl.int_range(0, len(by_household), eager=True).repeat_by(counts).explode(
        keep_nulls=False)
    households = pl.Series(list(by_household), dtype=pl.String).gather(each)
    orders = pl.int_ranges(0, counts, eager=True).explode(keep_nulls=False)
    return households, orders


def _listed(by_household: Mapping[str, list[Any]]) -> list[Any]:
    """Every case, household after household."""
    return list(itertools.chain.from_iterable(by_household.values()))


def _frame(positions: _Positions, case_column: Any) -> pl.DataFrame:
    households, orders = positions
    frame = pl.from_arrow(case_column)
    assert isinstance(frame, pl.Series)
    return pl.DataFrame([households.alias(_ID_COLUMN), orders.cast(pl.Int64)
                         .alias(CASE_ORDER_COLUMN), frame.alias(CASE_COLUMN)])


_CASE_KEYS = frozenset(Case.model_fields)
_NOTICE_KEYS = frozenset(Publicity.model_fields)
_LISTS = ("publicity", "visits")  # the case's lists, [] when absent (never null)


def _in_columns(given: dict[str, list[Any]], positions: _Positions) -> CaseTable | None:
    """The table of cases given as plain dicts of texts (parsed JSON: dates as `YYYY-MM-DD`),
    made in columns: Arrow reads the dicts, the dates are parsed in columns and the contract
    is checked there (columnar/validate.py, as for households); each household's cases are
    read one by one only when the record path asks for them (`_ReadWhenAsked`: a row with a
    zero divisor). None, and every case is read one by one, wherever the columns might not
    hold what the per-case reader reads: a case that is not a plain dict of the contract's
    keys, a list given as null, a value Arrow does not read as its field's type (a date given
    as a `date`), a date not written `YYYY-MM-DD` or not in the calendar, or a case the checks
    flag (a text to strip, a source outside the list). Measured on 95,467 boundary cases, best
    of 3: `CaseTable.of` 0.63 -> 0.32 CPU-s (read one by one, the cases' 250,000 new lists
    set off two of the collector's full passes over the caller's heap, half of that time)."""
    from fangpin_rules.columnar.arrow import _pyarrow
    from fangpin_rules.columnar.validate import check_rows

    pa = _pyarrow()
    listed = _listed(given)
    if not listed or not _plain(listed):
        return None
    case_type = _case_type()
    try:
        texts = pa.array(listed, _with_text_dates(pa, case_type))
        cases = _dated(pa, texts, case_type)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, UnicodeEncodeError, _NotADate):
        return None  # (a lone surrogate: refused by the per-case reader)
    table = pa.Table.from_arrays(cases.flatten(), schema=pa.schema(list(case_type)))
    checked = check_rows(Case, table.schema, table)
    if checked is None or checked[0].any():
        return None
    return CaseTable(_ReadWhenAsked(given), _frame(positions, cases))


def _plain(cases: list[Any]) -> bool:
    """Whether the cases are plain dicts of the contract's keys whose lists are given as lists
    (or not given) and whose notices are plain dicts of a notice's keys (a visit may be
    anything: Arrow refuses what is not a date's text). Found by set operations over all the
    cases at once (a test per case cost as much as Arrow's reading of them)."""
    if set(map(type, cases)) != {dict} or not set().union(*cases) <= _CASE_KEYS:
        return False
    # a list given as null: the per-case reader refuses it (not given: [])
    publicity = list(map(operator.methodcaller("get", "publicity", ()), cases))
    if None in publicity or None in list(map(operator.methodcaller("get", "visits", ()),
                                             cases)):
        return False
    try:
        notices = list(itertools.chain.from_iterable(publicity))
    except TypeError:  # not a list
        return False
    return not notices or (set(map(type, notices)) == {dict}
                           and set().union(*notices) <= _NOTICE_KEYS)


class _NotADate(ValueError):
    """A date text the columns do not read as the per-case reader does."""


def _with_text_dates(pa: Any, kind: Any) -> Any:
    """`kind` with each date a text (as the dicts give them)."""
    if pa.types.is_struct(kind):
        return pa.struct([pa.field(f.name, _with_text_dates(pa, f.type)) for f in kind])
    if pa.types.is_list(kind):
        return pa.list_(_with_text_dates(pa, kind.value_type))
    return pa.string() if pa.types.is_date(kind) else kind


_ISO_DATE_TEXT = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


def _dated(pa: Any, array: Any, kind: Any) -> Any:
    """`array` (of `_with_text_dates(kind)`) as `kind`: each date text parsed, `_NotADate`
    where one is not written YYYY-MM-DD, ArrowInvalid where it is not a day of the calendar
    (Arrow's cast refuses February 30th; its strptime would carry it into March); the cases'
    lists not given are empty, as the contract's default."""
    import pyarrow.compute as pc
    if pa.types.is_struct(kind):
        children = [_dated(pa, array.field(i), field.type) for i, field in enumerate(kind)]
        for i, field in enumerate(kind):
            if field.name in _LISTS and children[i].null_count:  # absent: the default []
                children[i] = pa.ListArray.from_arrays(children[i].offsets,
                                                       children[i].values, type=field.type)
        return pa.StructArray.from_arrays(children, fields=list(kind),
                                          mask=array.is_null() if array.null_count else None)
    if pa.types.is_list(kind):
        return pa.ListArray.from_arrays(array.offsets, _dated(pa, array.values,
                                                              kind.value_type),
                                        type=kind, mask=array.is_null()
                                        if array.null_count else None)
    if not pa.types.is_date(kind):
        return array
    if pc.any(pc.invert(pc.match_substring_regex(array, _ISO_DATE_TEXT))).as_py():
        raise _NotADate
    return pc.cast(array, pa.date32())  # a day not in the calendar: ArrowInvalid


class _ReadWhenAsked(Mapping[str, list[Any]]):
    """Each household's cases as the per-case reader reads them (`read_case`), read when
    asked for and kept: the table checked them in columns already."""

    def __init__(self, given: dict[str, list[Any]]) -> None:
        self.given = given
        self.read: dict[str, list[Any]] = {}

    def __getitem__(self, household: str) -> list[Any]:
        cases = self.read.get(household)
        if cases is None:
            cases = self.read[household] = [read_case(case) for case in self.given[household]]
        return cases

    def __iter__(self) -> Iterator[str]:
        return iter(self.given)

    def __len__(self) -> int:
        return len(self.given)


def _out_of_order() -> pl.Expr:
    """Whether some case of the table contradicts the procedure's order or names another
    household than the one it is given with, as `case_problems` finds them (a comparison
    with a missing date holds for nothing)."""
    case = pl.col(CASE_COLUMN)
    bad = [case.struct.field("household_id") != pl.col(_ID_COLUMN)]
    bad += [case.struct.field(later) < case.struct.field(earlier)
            for later, earlier, _ in CASE_ORDER]
    notice = pl.element()
    publicity = case.struct.field("publicity")
    bad.append(publicity.list.eval((notice.struct.field("end") < notice.struct.field("start"))
                                   .fill_null(False)).list.any())
    first_identification = publicity.list.eval(
        pl.when(notice.struct.field("purpose") == "identification")
        .then(notice.struct.field("start"))).list.min()
    bad.append(case.struct.field("confirmed_on") < first_identification)
    return pl.any_horizontal([b.fill_null(False) for b in bad]).any()


def case_deadlines(steps: CaseSteps, result: pl.DataFrame, id_column: str, cases: CaseTable
                   ) -> tuple[pl.DataFrame, tuple[pl.DataFrame, pl.Series] | None]:
    """The query's `result` with its hazard raised where a case's step needs the record path,
    and (None when no household of `result` has a case) the deadline entries of the
    households of some case, their cases' entries in case order (`CaseSteps.decide`'s, each
    with its household's row, CASE_HOUSEHOLD_COLUMN), with whether each row has a case (a
    household with cases whose steps all stay silent has no entries: an empty list, not the
    entries it has without a case). `result` holds `id_column` and the columns the steps read
    (`steps.columns`)."""
    ids = result.select(pl.col(id_column).cast(pl.String).alias(_ID_COLUMN),
                        pl.int_range(pl.len(), dtype=pl.Int64).alias(CASE_HOUSEHOLD_COLUMN))
    # one row per (household row, case): a household id given twice has its cases twice,
    # as each of its records is decided with them on the record path
    pairs = ids.join(cases.frame, on=_ID_COLUMN, how="inner").sort(
        CASE_HOUSEHOLD_COLUMN, CASE_ORDER_COLUMN)
    if pairs.height == 0:
        return result, None
    beside = result.select(steps.columns)[pairs.get_column(CASE_HOUSEHOLD_COLUMN)]
    entries, hazard = steps.decide(pl.concat([pairs.drop(_ID_COLUMN), beside],
                                             how="horizontal").lazy())
    rows = hazard.get_column(CASE_HOUSEHOLD_COLUMN)
    raised = pl.repeat(False, result.height, eager=True).scatter(
        rows, hazard.get_column(CASE_HAZARD_COLUMN))
    with_case = pl.repeat(False, result.height, eager=True).scatter(rows, True)
    return result.with_columns((pl.col(HAZARD_COLUMN) | raised).alias(HAZARD_COLUMN)), \
        (entries.drop(CASE_ORDER_COLUMN), with_case)
