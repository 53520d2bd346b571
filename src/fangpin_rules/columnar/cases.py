"""The households' cases in columns: the case table and the deadlines of its steps.

A batch's cases (`cases={household_id: [case, ...]}`) are checked as the record path checks
them (`checked_cases`) and become one Polars frame, a row per case (`CaseTable`). The steps
read with a case are decided over the cases joined to their households' columns
(`CaseSteps.query`: one row per (household, case)); each household with cases then has the
entries of its cases in their order in place of the deadlines it has without one, as the
record path writes them (`with_case_deadlines`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

import polars as pl

from fangpin_rules.compiler.polars_backend import (
    CASE_COLUMN,
    CASE_ENTRIES_COLUMN,
    CASE_HAZARD_COLUMN,
    CASE_HOUSEHOLD_COLUMN,
    CASE_ORDER_COLUMN,
    DEADLINES_COLUMN,
    HAZARD_COLUMN,
    CaseSteps,
)
from fangpin_rules.engine.records import CASE_ORDER, RecordError, checked_cases, read_case
from fangpin_rules.language import types as t
from fangpin_rules.model import Case

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
        half of the cases' check: 0.87 of 1.9 s for 95,467 cases)."""
        try:
            read = {household: [read_case(case) for case in listed]
                    for household, listed in (cases or {}).items()}
        except RecordError:
            checked_cases(cases)  # the record path's error, of the first bad case
            raise
        table = cls.of_checked(read)
        if table.frame.height and table.frame.select(_out_of_order()).item():
            checked_cases(cases)
        return table

    @classmethod
    def of_checked(cls, by_household: Mapping[str, list[Any]],
                   ids: Iterable[Any] | None = None) -> CaseTable:
        """The table of cases checked already (`checked_cases`, or `fangpin eval --cases`'s
        reader): of the households `ids` only, when given (a chunk's, a batch's)."""
        from fangpin_rules.columnar.arrow import _arrow_type, _pyarrow

        pa = _pyarrow()
        if ids is not None:
            by_household = {household: by_household[household] for household in
                            dict.fromkeys(ids) if household in by_household}
        case_type = _arrow_type(pa, t.record_type(Case), output=False)
        households: list[str] = []
        orders: list[int] = []
        listed_cases: list[Any] = []
        for household, listed in by_household.items():
            households += [household] * len(listed)
            orders += range(len(listed))
            listed_cases += listed
        table = pa.table({_ID_COLUMN: pa.array(households, pa.string()),
                          CASE_ORDER_COLUMN: pa.array(orders, pa.int64()),
                          CASE_COLUMN: _column(pa, case_type, listed_cases)})
        frame = pl.from_arrow(table)
        assert isinstance(frame, pl.DataFrame)
        return cls(by_household, frame)

    def __bool__(self) -> bool:
        return self.frame.height > 0

    def used(self, ids: Iterable[Any]) -> int:
        """The case records of the households `ids` (one count per household decided)."""
        return sum(len(self.by_household.get(household, ())) for household in ids)


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


def _column(pa: Any, kind: Any, values: list[Any]) -> Any:
    """The Arrow array of type `kind` of `values`: records (`Case`s or the typed reader's,
    read by attribute), lists or scalars, None for absent. Built a field at a time, which is
    several times faster than pyarrow's reading of a dict per record (and than dumping one)."""
    if pa.types.is_struct(kind):
        fields = list(kind)
        absent = [value is None for value in values]
        if any(absent):
            children = [_column(pa, field.type, [None if value is None else
                                                 getattr(value, field.name) for value in values])
                        for field in fields]
            return pa.StructArray.from_arrays(children, fields=fields, mask=pa.array(absent))
        children = [_column(pa, field.type, list(map(attrgetter(field.name), values)))
                    for field in fields]
        return pa.StructArray.from_arrays(children, fields=fields)
    if pa.types.is_list(kind):
        offsets: list[int | None] = [0]
        items: list[Any] = []
        for value in values:
            if value is None:  # a null offset makes the slot before it a null list
                offsets.append(None)
                continue
            items += value
            offsets.append(len(items))
        return pa.ListArray.from_arrays(pa.array(offsets, pa.int32()),
                                        _column(pa, kind.value_type, items), type=kind)
    return pa.array(values, kind)


def with_case_deadlines(steps: CaseSteps, result: pl.DataFrame, id_column: str,
                        cases: CaseTable) -> pl.DataFrame:
    """The query's `result` with each household of some case given its cases' deadlines (in
    case order) and its hazard raised where a case's step needs the record path. `result`
    holds `id_column` and the columns the steps read (`steps.columns`)."""
    ids = result.select(pl.col(id_column).cast(pl.String).alias(_ID_COLUMN),
                        pl.int_range(pl.len(), dtype=pl.Int64).alias(CASE_HOUSEHOLD_COLUMN))
    # one row per (household row, case): a household id given twice has its cases twice,
    # as each of its records is decided with them on the record path
    pairs = ids.join(cases.frame, on=_ID_COLUMN, how="inner").sort(
        CASE_HOUSEHOLD_COLUMN, CASE_ORDER_COLUMN)
    if pairs.height == 0:
        return result
    beside = result.select(steps.columns)[pairs.get_column(CASE_HOUSEHOLD_COLUMN)]
    entries, hazard = steps.decide(pl.concat([pairs.drop(_ID_COLUMN), beside],
                                             how="horizontal").lazy())
    rows = pl.DataFrame({CASE_HOUSEHOLD_COLUMN: pl.int_range(result.height, dtype=pl.Int64,
                                                             eager=True)})
    placed = rows.join(hazard, on=CASE_HOUSEHOLD_COLUMN, how="left", maintain_order="left") \
        .join(entries, on=CASE_HOUSEHOLD_COLUMN, how="left", maintain_order="left")
    has_case = placed.get_column(CASE_HAZARD_COLUMN).is_not_null()
    # a household with cases whose steps all stay silent has no entries: an empty list
    lists = placed.get_column(CASE_ENTRIES_COLUMN).fill_null(
        pl.lit([], dtype=placed.get_column(CASE_ENTRIES_COLUMN).dtype))
    return result.with_columns(
        pl.when(has_case).then(lists).otherwise(pl.col(DEADLINES_COLUMN)).alias(DEADLINES_COLUMN),
        (pl.col(HAZARD_COLUMN) | placed.get_column(CASE_HAZARD_COLUMN).fill_null(False))
        .alias(HAZARD_COLUMN))
