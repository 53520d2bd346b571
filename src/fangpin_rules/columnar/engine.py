"""Deciding an Arrow batch in columns with the policy's Polars query (compiler/polars_backend.py).

Rows are first read by the same typed reader as the record path (a row it does not take is
validated by pydantic), so a bad row is rejected with the same row, id, field and reason, and
the household problems the contract refuses (the same member twice) too. The good rows are then
decided by one lazy query. A row where some divisor is zero is decided by the record path,
which names the definition that could not be computed: exactly its rejection.
"""

from __future__ import annotations

import decimal
import functools
import weakref
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

import polars as pl

from fangpin_rules.columnar.arrow import (
    BatchResult,
    _builtins,
    _drop_nulls,
    _pyarrow,
    arrow_decision,
    in_input_types,
    input_schema,
    output_schema,
    records_table,
    rejects_schema,
    row_record,
)
from fangpin_rules.columnar.cases import CaseTable, case_deadlines
from fangpin_rules.columnar.jsonl import decision_lines
from fangpin_rules.columnar.validate import check_rows
from fangpin_rules.compiler.polars_backend import (
    CASE_HOUSEHOLD_COLUMN,
    DEADLINE_FIELDS,
    HAZARD_COLUMN,
    REGION_COLUMN,
    ColumnarPlan,
    ColumnarUnsupported,
    OutputColumn,
    WarningColumn,
    compile_columnar,
    fraction_text_column,
    step_entries,
)
from fangpin_rules.engine.policy import Policy, _refuse_inconsistent
from fangpin_rules.engine.records import RecordError
from fangpin_rules.engine.regions import COUNTY_DIGITS, RegionalPolicy, base_of
from fangpin_rules.engine.serialize import decimal_text
from fangpin_rules.engine.typed_json import typed_reader
from fangpin_rules.language import types as t
from fangpin_rules.limits import DECIMAL_CONTEXT
from fangpin_rules.model import Case

__all__ = ["ColumnarUnsupported", "ReadRecords", "columnar_plan", "decide_columns",
           "decide_records"]

_PLANS: weakref.WeakKeyDictionary[Policy | RegionalPolicy, dict[date, ColumnarPlan]] = \
    weakref.WeakKeyDictionary()


def columnar_plan(policy: Policy | RegionalPolicy, as_of: date) -> ColumnarPlan:
    """The policy compiled for columns on `as_of` (cached): ColumnarUnsupported names the first
    construct it cannot express, with its file:line:col. Under a region table each region's
    parameters in force on `as_of` are given to the query, read by the household's region."""
    plans = _PLANS.setdefault(policy, {})
    plan = plans.get(as_of)
    if plan is None:
        base = base_of(policy)
        if isinstance(policy, RegionalPolicy):
            # each region's values (the base's own decide no household: an ended one of the
            # base is not refused, as on the record path)
            policy.check_date(as_of)
            regions = {code: {name: value for name, (value, _) in
                              region.policy._resolve(as_of).items()}
                       for code, region in policy.regions.items()}
            plan = compile_columnar(base.checked, next(iter(regions.values())), as_of, regions)
            plan.region_refs = {code: region.policy.ref
                                for code, region in policy.regions.items()}
        else:
            params = {name: value for name, (value, _) in base._resolve(as_of).items()}
            plan = compile_columnar(base.checked, params, as_of)
        plans[as_of] = plan
    return plan


def decide_columns(policy: Policy | RegionalPolicy, batch: Any, as_of: date, *,
                   cases: Mapping[str, Iterable[Case | Mapping[str, Any]]] | CaseTable | None
                   = None) -> BatchResult:
    """`decide_batch(engine="columnar")`; `cases` as it takes them, or a `CaseTable` of
    cases checked already."""
    pa = _pyarrow()
    base = base_of(policy)
    columnar_plan(policy, as_of)  # a policy it cannot express is refused before any row
    # a bad case is refused before any row too
    case_table = cases if isinstance(cases, CaseTable) else CaseTable.of(cases) if cases \
        else None
    schema = input_schema(base)
    table = in_input_types(_compact_lists(batch if isinstance(batch, pa.Table) else
                                          pa.Table.from_batches([batch])), schema)
    regional = policy if isinstance(policy, RegionalPolicy) else None
    good, rejected, unplaced, table, frame = _valid_rows(base, table, schema, regional)
    if regional is not None:
        table = with_region_column(table)
        if frame is not None:
            frame = frame.with_columns(_county(pl.col("region_code")))
    decided, kept, failed = decide_validated(policy, table, as_of, frame=frame,
                                             cases=case_table)
    del kept
    for index, exc in failed:
        rejection = exc.rejection
        rejected.append({"row": int(good[index]), "household_id": rejection.household_id,
                         "field": rejection.field, "reason": rejection.reason})
    rejected.sort(key=lambda r: int(r["row"]))
    rejects = pa.Table.from_pylist(rejected, schema=rejects_schema())
    if unplaced is not None:
        rejects = pa.concat_tables([rejects, unplaced]).sort_by("row") if rejected else unplaced
    return BatchResult(decided, rejects)


def _compact_lists(table: Any) -> Any:
    """`table` with each chunk of a list column holding only its own items. A slice of a list
    array keeps its parent's whole array of items, and Polars converts all of them: 100 rows
    sliced from 100,000 households took 3.7 ms to convert, their copy 0.13 ms."""
    pa = _pyarrow()

    def sliced(chunk: Any) -> bool:
        return bool(chunk.offsets[0].as_py() != 0 or
                    chunk.offsets[-1].as_py() != len(chunk.values))

    for index, field in enumerate(table.schema):
        if not (pa.types.is_list(field.type) or pa.types.is_large_list(field.type)):
            continue
        chunks = table.column(index).chunks
        if any(sliced(chunk) for chunk in chunks):  # a copy of those chunks only
            table = table.set_column(index, field, pa.chunked_array(
                [pa.concat_arrays([chunk]) if sliced(chunk) else chunk for chunk in chunks],
                field.type))
    return table


def _valid_rows(policy: Policy, table: Any, schema: Any, regional: RegionalPolicy | None = None
                ) -> tuple[Any, list[dict[str, Any]], Any, Any, pl.DataFrame | None]:
    """(the batch's index of each row taken, a rejection for each other row the per-row
    reader read, the rejections of the households of no region in the region table written
    in columns (an Arrow table of `rejects_schema()`, or None), the rows taken in `schema`,
    and them as a Polars frame when the checks made one). The contract is checked in columns
    (columnar/validate.py); only the rows that check flags go through the per-row reader,
    which takes them as the record path does (its record then fills the row) or rejects them
    with its row, id, field and every problem. Under a region table a row the check does not
    flag is placed in its region in columns (`_unplaced`); a flagged one, by the reader."""
    model = policy.checked.record_model
    checked = None if regional is not None and not _placeable(model) else \
        check_rows(model, schema, table)
    if checked is None:  # not a table of the input schema's types: every row read one by one
        good, rejected, read = _read_rows(policy, table, schema, _row_numbers(table.num_rows),
                                          regional)
        return good, rejected, None, read, None
    suspect, frame = checked
    unplaced = rejects = None
    if regional is not None:
        unplaced = _unplaced(regional, frame) & ~suspect
        if unplaced.any():
            rejects = _unplaced_rejects(regional, frame, unplaced)
        else:
            unplaced = None
    positions = suspect.arg_true().cast(pl.Int64).to_arrow()
    clean = _conformed(table, schema)
    if len(positions) == 0:
        whole = frame if frame.width == len(schema) else None  # else columns to add as nulls
        if unplaced is None:
            return _row_numbers(table.num_rows), [], None, clean, whole
        placed = ~unplaced
        rows = pl.int_range(0, table.num_rows, dtype=pl.Int64, eager=True).filter(placed)
        if whole is None:
            return rows.to_arrow(), [], rejects, clean.filter(placed.to_arrow()), None
        # the rows placed, as the frame's Arrow form (9.6 ms at 100,000, filtering the table
        # as well 27 ms): only the rows of a zero divisor are read from it
        kept = whole.filter(placed)
        return rows.to_arrow(), [], rejects, kept.to_arrow(), kept
    listed = positions.to_pylist()
    good, rejected, read = _read_rows(policy, _taken(table, listed), schema, positions,
                                      regional)
    gone = pl.Series([r["row"] for r in rejected], dtype=pl.Int64)
    replaced = listed
    if unplaced is not None:  # left out with the rows read one by one and rejected
        dropped = unplaced.arg_true().cast(pl.Int64)
        gone = pl.concat([gone, dropped])
        replaced = pl.concat([pl.Series(listed, dtype=pl.Int64), dropped]).sort().to_list()
    # the rows read one by one in their places (a table in one piece again, for the query)
    merged = _spliced(clean, replaced, read, good.to_pylist()).combine_chunks()
    rows = pl.int_range(0, table.num_rows, dtype=pl.Int64, eager=True)
    if gone.len():
        rows = rows.filter(pl.repeat(True, table.num_rows, eager=True).scatter(gone, False))
    return rows.to_arrow(), rejected, rejects, merged, None


def _placeable(model: Any) -> bool:
    """Whether the model's households can be placed in a region table's regions in columns
    (`RegionalPolicy.policy_for` reads these fields)."""
    return "region_code" in model.model_fields and "household_id" in model.model_fields


def _county(code: pl.Expr) -> pl.Expr:
    """`with_region_column`'s column, of a frame."""
    return code.str.slice(0, COUNTY_DIGITS).alias(REGION_COLUMN)


def _unplaced(regional: RegionalPolicy, frame: pl.DataFrame) -> pl.Series:
    """For each row (read as it is), whether its household is of no region in the table:
    `RegionalPolicy.policy_for`'s test, in columns."""
    codes = _region_codes(frame)
    return frame.select((~_county(codes).is_in(list(regional.regions))).fill_null(True)
                        ).to_series()


def _region_codes(frame: pl.DataFrame) -> pl.Expr:
    return pl.col("region_code") if "region_code" in frame.columns else \
        pl.lit(None, dtype=pl.String)


def _unplaced_rejects(regional: RegionalPolicy, frame: pl.DataFrame, unplaced: pl.Series
                      ) -> Any:
    """The rejections of the households of no region in the table (at `unplaced`), as
    `RegionalPolicy.policy_for` words them, written in columns."""
    before, after = regional.around_unplaced_code()
    code = _region_codes(frame)
    picked = frame.filter(unplaced).select(
        pl.col("household_id").cast(pl.String),
        pl.lit("region_code", dtype=pl.String).alias("field"),
        pl.when(code.is_null() | (code == "")).then(pl.lit(regional.unplaced_reason(None)))
        .otherwise(pl.concat_str([pl.lit(before), code, pl.lit(after)])).alias("reason"))
    rows = unplaced.arg_true().cast(pl.Int64).alias("row")
    return picked.insert_column(0, rows).to_arrow().cast(rejects_schema())


def _taken(table: Any, positions: list[int]) -> Any:
    """The rows of `table` at `positions` (ascending), in one chunk: a few are sliced out,
    since a take first joins a table's chunks (all of its rows)."""
    pa = _pyarrow()
    if len(positions) > table.num_rows // _ROWS_PER_SPLICE:
        return table.take(pa.array(positions, pa.int64()))
    return pa.concat_tables([table.slice(position, 1) for position in positions]
                            ).combine_chunks() if positions else table.slice(0, 0)


def _row_numbers(n: int) -> Any:
    """0 .. n-1 as an Arrow int64 array (made in Polars: from a Python range it costs 0.13 us a
    row)."""
    return pl.int_range(0, n, dtype=pl.Int64, eager=True).to_arrow()


def _read_rows(policy: Policy, table: Any, schema: Any, positions: Any,
               regional: RegionalPolicy | None = None) -> tuple[Any, list[dict[str, Any]], Any]:
    """The rows of `table` (at `positions` in the batch) read one by one: (the positions of
    those taken, the rejections, the rows taken in `schema`)."""
    pa = _pyarrow()
    good, rejected, normalised = _validate(policy, table, regional)
    for rejection in rejected:
        rejection["row"] = positions[rejection["row"]].as_py()
    if normalised:  # rebuilt from the records as read: the columns hold what they decide on
        rows = table.to_pylist()
        table = pa.Table.from_pylist([normalised.get(row, rows[row]) for row in good],
                                     schema=schema)
    elif len(good) < table.num_rows:
        table = table.take(pa.array(good, pa.int64()))
    return positions.take(pa.array(good, pa.int64())), rejected, _conformed(table, schema)


def with_region_column(table: Any) -> Any:
    """The table with `REGION_COLUMN`, each household's county code (the first 6 digits of
    its region code), by which a region table's parameters are read."""
    import pyarrow.compute as pc
    return table.append_column(REGION_COLUMN, pc.utf8_slice_codeunits(
        table.column("region_code"), 0, COUNTY_DIGITS))


def decide_validated(policy: Policy | RegionalPolicy, table: Any, as_of: date,
                     lines: list[int] | None = None, frame: pl.DataFrame | None = None,
                     cases: CaseTable | None = None
                     ) -> tuple[Any, Sequence[int], list[tuple[int, RecordError]]]:
    """Decide a table of validated rows in `input_schema(policy)` (under a region table, of
    households in its regions, with `with_region_column`): (decisions, the index of the row
    of each decision, the rows the record path rejected, with their RecordError). `lines`
    numbers the rows for those rejections; `frame`, the table as a Polars frame already
    (converted once); `cases`, the households' cases (`CaseTable`), whose steps' deadlines
    the decisions then hold."""
    plan = columnar_plan(policy, as_of)
    if frame is None:
        converted = pl.from_arrow(table)
        assert isinstance(converted, pl.DataFrame)
        frame = converted
    base = base_of(policy)
    id_field = base.checked.record_id
    # a record without an id has no cases (as on the record path, which finds them by it)
    steps = plan.case_steps if cases and id_field else None
    result = _collected(base, plan, frame, steps is not None)
    entries = _household_entries(plan, result)
    if steps is not None:
        assert cases is not None and id_field is not None
        result, with_cases = case_deadlines(steps, result, id_field, cases)
        if with_cases is not None:  # the cases' entries in place of the household's
            case_entries, with_case = with_cases
            entries = entries.filter(~with_case.gather(entries.get_column(_ROW))).merge_sorted(
                case_entries.select(pl.col(CASE_HOUSEHOLD_COLUMN).alias(_ROW), *DEADLINE_FIELDS),
                key=_ROW)
    hazard = result.get_column(HAZARD_COLUMN)
    decided = _assemble(base, plan, result, as_of, entries)
    if not hazard.any():  # (a range: a list of a million rows costs 20 ms)
        return decided, range(table.num_rows), []
    return _redecide(policy, table, decided, hazard, as_of, lines,
                     cases.by_household if cases else None)


def _collected(policy: Policy, plan: ColumnarPlan, frame: pl.DataFrame,
               with_cases: bool = False) -> pl.DataFrame:
    """The query's result: the columns the decisions are read from (and, `with_cases`, those
    the steps read with a case read), in one chunk each (a frame whose columns are cut into
    different chunks is realigned, all of it, by every select on it: the output's reads then
    cost more than the query)."""
    query = plan.query(frame.lazy())
    produced = plan.read_back.get((tuple(frame.columns), with_cases))
    if produced is None:  # found once per input's columns (its schema cost 1.2 of 9 ms a call
        # at 5,000 rows)
        read = {policy.checked.record_id, REGION_COLUMN}
        if with_cases:
            assert plan.case_steps is not None
            read.update(plan.case_steps.columns)

        def note(columns: Any) -> None:
            for column in columns:
                read.update(column.columns)
                note(column.fields)

        note(plan.outputs)
        read.update(column.column for column in plan.warning_columns)
        read.add(HAZARD_COLUMN)
        read.update(name for step in plan.household_steps for name in step.columns)
        # only what the output reads: the query's other columns (definitions, the parts of a
        # quotient) would be joined into one chunk for nothing (21 of 98 for the province's
        # policy)
        produced = [name for name in query.collect_schema().names() if name in read]
        if len(plan.read_back) >= _READ_BACK_KEPT:  # tables of ever new sets of columns
            plan.read_back.clear()
        plan.read_back[(tuple(frame.columns), with_cases)] = produced
    return query.select(produced).collect().rechunk()


_READ_BACK_KEPT = 64  # the most sets of input columns whose read-back columns a plan keeps


def decide_records(policy: Policy | RegionalPolicy, records: Sequence[Any], as_of: date,
                   lines: Sequence[int | None] | None = None,
                   keys: Sequence[str] | None = None,
                   cases: Mapping[str, list[Case]] | None = None
                   ) -> list[dict[str, Any] | RecordError]:
    """Records read already (by the typed reader or the policy's model) decided in columns:
    for each, what `policy.decide_record(policy.evaluator(as_of), record, as_of, line)`
    returns (the decision dict in the record path's form, numbers as Decimals, the keys in its
    order, an empty trace) or the RecordError it raises (the same member twice, a zero divisor).
    `lines` numbers the records for those rejections. Under a region table each household is
    decided with its region's parameters, and one of no region in it is rejected naming
    `region_code`, as on the record path. With `keys`, each decision holds those keys only
    (their values as above; a caller that reads a few spares building the rest). `cases`:
    the households' cases, checked already (`CaseTable.of_checked`), whose deadlines the
    decisions hold. For the callers that decide a stream chunk by chunk (`fangpin diff
    --impact`, the population reports)."""
    return ReadRecords(policy, records, lines, cases).decide(policy, as_of, keys=keys)


class ReadRecords:
    """Records read already, as one Arrow table of `input_schema(policy)`, for one or more
    policies of that schema to decide in columns (the two versions of an impact run and the
    variants of its attribution): the table is built once. Built with a region table
    (a RegionalPolicy), a household of no region in it is refused and the table carries each
    household's county (`with_region_column`) for the region table to decide it. With
    `cases` (checked already), each decision holds the deadlines of its household's cases."""

    def __init__(self, policy: Policy | RegionalPolicy, records: Sequence[Any],
                 lines: Sequence[int | None] | None = None,
                 cases: Mapping[str, list[Case]] | None = None) -> None:
        self.regional = policy if isinstance(policy, RegionalPolicy) else None
        policy = base_of(policy)
        id_field = policy.checked.record_id
        self.size = len(records)
        self.refused: dict[int, RecordError] = {}  # the same member twice
        self.positions: list[int] = []
        self.lines = None if lines is None else [-1 if n is None else n for n in lines]
        kept: list[Any] = []
        for index, record in enumerate(records):
            line = None if lines is None else lines[index]
            try:
                if self.regional is not None:  # as on the record path: before its members
                    self.regional.policy_for(record, line)
                _refuse_inconsistent(record, line, id_field)
            except RecordError as exc:
                self.refused[index] = exc
                continue
            kept.append(record)
            self.positions.append(index)
        self.records = kept
        self.schema = input_schema(policy)
        self.table = self._table(self.schema)
        self.cases = CaseTable.of_checked(cases, (getattr(r, id_field) for r in kept)) \
            if cases and id_field else None

    def _table(self, schema: Any) -> Any:
        table = records_table(self.records, schema)
        return table if self.regional is None else with_region_column(table)

    def decide(self, policy: Policy | RegionalPolicy, as_of: date,
               among: Sequence[int] | None = None, keys: Sequence[str] | None = None
               ) -> list[dict[str, Any] | RecordError]:
        """`decide_records` of the records (or of those at the positions `among`, in order;
        with `keys`, those keys of each decision only)."""
        wanted = range(self.size) if among is None else among
        decided, positions, failed = self.decide_arrow(policy, as_of, among)
        out: dict[int, dict[str, Any] | RecordError] = dict(failed)
        if positions:
            numbers = _number_paths(base_of(policy))
            if keys is not None:
                numbers = [(key, sub) for key, sub in numbers if key in keys]
                for position, decision in zip(positions, decided.select(list(keys)).to_pylist(),
                                              strict=True):
                    out[position] = _with_decimals(numbers, decision)
            else:
                for position, decision in zip(positions, decided.to_pylist(), strict=True):
                    out[position] = record_form(numbers, decision)
        return [out[index] for index in wanted]

    def decide_arrow(self, policy: Policy | RegionalPolicy, as_of: date,
                     among: Sequence[int] | None = None
                     ) -> tuple[Any, list[int], dict[int, RecordError]]:
        """The decisions as an Arrow table of `output_schema(policy)` (for a caller that reads
        a few columns of every row), the position of each of its rows, and the RecordError of
        each record it cannot decide, by position."""
        pa = _pyarrow()
        wanted = range(self.size) if among is None else among
        failed = {index: self.refused[index] for index in wanted if index in self.refused}
        if isinstance(policy, RegionalPolicy) != (self.regional is not None):
            raise ValueError("decide with a region table the records read with one, and only "
                             "those")
        schema = input_schema(base_of(policy))
        table = self.table if schema == self.schema else self._table(schema)
        positions = self.positions
        if among is not None:
            row_of = {position: row for row, position in enumerate(self.positions)}
            rows = [row_of[index] for index in among if index in row_of]
            positions = [self.positions[row] for row in rows]
            table = table.take(pa.array(rows, pa.int64()))
        if not positions:
            return pa.Table.from_pylist([], schema=output_schema(base_of(policy))), [], failed
        lines = None if self.lines is None else [self.lines[i] for i in positions]
        decided, kept, errors = decide_validated(policy, table, as_of, lines,
                                                 cases=self.cases)
        for index, exc in errors:
            failed[positions[index]] = exc
        return decided, [positions[index] for index in kept], failed


def _validate(policy: Policy, table: Any, regional: RegionalPolicy | None = None
              ) -> tuple[list[int], list[dict[str, Any]], dict[int, dict[str, Any]]]:
    """The rows the typed reader (or pydantic) takes, a rejection for each other one, and the
    record as read of each good row whose columns are not what the record path reads (a lax
    form pydantic normalises, a null struct whose defaults apply). Under a region table a
    household of no region in it is rejected, naming `region_code`, as on the record path."""
    reader = typed_reader(policy.checked.record_model)
    id_field = policy.checked.record_id
    structs = [name for name, kind in t.record_type(policy.checked.record_model).fields.items()
               if isinstance(t.strip(kind), t.Record)]
    good: list[int] = []
    rejected: list[dict[str, Any]] = []
    normalised: dict[int, dict[str, Any]] = {}
    for row, data in enumerate(table.to_pylist()):
        try:
            record = reader.convert(data) if reader is not None else None
            lax = record is None or any(data.get(name, 0) is None for name in structs)
            if record is None:
                record = policy.validate(_drop_nulls(data))
            if regional is not None:
                regional.policy_for(record)
            _refuse_inconsistent(record, None, id_field)
            if lax:
                normalised[row] = _builtins(record)
        except RecordError as exc:
            rejection = exc.rejection
            rejected.append({"row": row, "household_id": rejection.household_id,
                             "field": rejection.field, "reason": rejection.reason})
            continue
        good.append(row)
    return good, rejected, normalised


def _conformed(table: Any, schema: Any) -> Any:
    """The columns the policy reads, in the input schema's types (a validated row fits)."""
    pa = _pyarrow()
    columns = []
    for field in schema:
        if field.name in table.column_names:
            column = table.column(field.name)
            columns.append(column if column.type == field.type else column.cast(field.type))
        else:
            columns.append(pa.nulls(table.num_rows, field.type))
    return pa.Table.from_arrays(columns, schema=schema)


def _assemble(policy: Policy, plan: ColumnarPlan, result: pl.DataFrame, as_of: date,
              entries: pl.DataFrame) -> Any:
    """The decisions' table of the query's `result`; `entries`, the rows' deadline entries
    (`_household_entries`, with the cases' in place of a household's)."""
    pa = _pyarrow()
    schema = output_schema(policy)
    n = result.height
    id_field = policy.checked.record_id
    arrays: dict[str, Any] = {}
    ids = result.get_column(id_field).cast(pl.String).to_arrow() if id_field \
        else pa.nulls(n, pa.string())
    arrays["household_id"] = ids
    ref = policy.ref
    if plan.region_refs is not None:  # each region's policy is the base with its values
        refs = {code: {"id": r["id"], "sha256": r["sha256"]}
                for code, r in plan.region_refs.items()}
        codes = result.get_column(REGION_COLUMN).to_list()
        arrays["policy"] = pa.array([refs[code] for code in codes],
                                    schema.field("policy").type)
    else:
        arrays["policy"] = pa.repeat(pa.scalar({"id": ref["id"], "sha256": ref["sha256"]},
                                               schema.field("policy").type), n)
    arrays["as_of"] = pa.repeat(pa.scalar(as_of.isoformat(), pa.string()), n)
    for column in plan.outputs:
        arrays[column.key] = _output_array(result, column, schema.field(column.key).type)
        labels = plan.emit_labels.get(column.key)
        if labels is not None:
            arrays[column.key + "_label"] = _choice_texts(
                result, column, [labels.get(v) if v is not None else None
                                 for v in column.values]) if column.form == "choice" else \
                result.get_column(column.columns[0]).replace_strict(
                    labels, default=None, return_dtype=pl.String).to_arrow()
    deadlines = _entry_lists(entries, n, schema.field("deadlines").type)
    arrays["deadlines"] = deadlines
    if len(deadlines.values) == 0:  # no deadline in any row
        arrays["overdue"] = arrays["violations"] = deadlines
    else:
        arrays["overdue"] = _with_status(deadlines, ["overdue"])
        arrays["violations"] = _with_status(deadlines, ["late", "too_short", "too_early",
                                                        "no_notice"])
    arrays["warnings"] = _warning_lists(plan, result, schema.field("warnings").type)
    columns = []
    for field in schema:
        array = arrays[field.name]
        if hasattr(array, "combine_chunks"):
            array = array.combine_chunks()
        columns.append(array if array.type == field.type else array.cast(field.type))
    return pa.Table.from_arrays(columns, schema=schema)


def _household_entries(plan: ColumnarPlan, result: pl.DataFrame) -> pl.DataFrame:
    """Each row's entries of the steps that read no case, in step order, one row each with its
    row's number (`_ROW`, ascending), from the steps' columns (`step_entries`): a list of
    structs built per row in the query cost 155 of its 680 ms at 1,000,000 rows, for one step
    few rows have."""
    columns = [name for step in plan.household_steps for name in step.columns]
    return step_entries(result.select(columns).with_row_index(_ROW).with_columns(
        pl.col(_ROW).cast(pl.Int64)), [_ROW], list(plan.household_steps))


def _entry_lists(entries: pl.DataFrame, n: int, arrow_type: Any) -> Any:
    """The `n` rows' lists of deadline entries (`entries`, sorted by `_ROW`) as an Arrow list
    array of `arrow_type`: each row's bounds found by a binary search of its number among the
    entries' (merging the cases' entries with the households' and building the lists once:
    building each household's and each case household's lists and choosing between them made
    the call about 7 % slower at 100,000 households with 95,467 cases)."""
    pa = _pyarrow()
    offsets = entries.get_column(_ROW).search_sorted(
        pl.int_range(0, n + 1, dtype=pl.Int64, eager=True), side="left").cast(pl.Int32)
    struct_type = arrow_type.value_type
    children = []
    for field in struct_type:
        array = entries.get_column(field.name).to_arrow()
        if isinstance(array, pa.ChunkedArray):
            array = array.combine_chunks()
        children.append(array if array.type == field.type else array.cast(field.type))
    return pa.ListArray.from_arrays(offsets.to_arrow(), pa.StructArray.from_arrays(
        children, fields=list(struct_type)), type=arrow_type)


_ROW = "__fpc_entry_row"


def _with_status(deadlines: Any, statuses: list[str]) -> Any:
    """Each row's deadlines (an Arrow list array) whose status is one of `statuses`, in their
    order: the entries of all rows filtered at once, each row's new bounds counted from them
    (a list.eval of a filter costs 5 us a row)."""
    pa = _pyarrow()
    entries = deadlines.values
    status, starts = pl.from_arrow(entries.field("status")), pl.from_arrow(deadlines.offsets)
    assert isinstance(status, pl.Series) and isinstance(starts, pl.Series)
    keep = status.is_in(statuses).fill_null(False)
    kept_before = pl.concat([pl.Series([0], dtype=pl.Int64), keep.cast(pl.Int64).cum_sum()])
    offsets = kept_before.gather(starts)
    lists = pa.LargeListArray if pa.types.is_large_list(deadlines.type) else pa.ListArray
    return lists.from_arrays(offsets.cast(pl.Int64 if lists is pa.LargeListArray else pl.Int32)
                             .to_arrow(), entries.filter(keep.to_arrow()), type=deadlines.type,
                             mask=deadlines.is_null() if deadlines.null_count else None)


def _warning_lists(plan: ColumnarPlan, result: pl.DataFrame, arrow_type: Any) -> Any:
    """The warnings of each row, in rule order, then item order (the record path's), built in
    columns. The rules about the household (up to `_MASK_MOST` of them) are a bit each of a
    mask per row, whose list of rule numbers is taken by the mask, as a label set's is
    (`_numbered_lists`); the entries of the rest (the items a rule `for:` a list holds for,
    and any rules beyond the mask) are merged into them by (row, rule number), in item order.
    Each entry's code and cite, and a household rule's field, are taken from the rules' by
    number (80 against 103 ms at 1,000,000 rows with every rule's rows found and all the
    entries sorted: docs/performance.md)."""
    pa = _pyarrow()
    columns = plan.warning_columns
    n = result.height
    struct_type = arrow_type.value_type
    masked = [order for order, c in enumerate(columns) if not c.per_item][:_MASK_MOST]
    listed = _numbered_lists(result, [columns[order].column for order in masked], masked) \
        if masked else pa.array([[]] * n, pa.list_(pa.uint8()))
    by_rule = {name: pa.array([getattr(c, name) for c in columns], pa.string())
               for name in ("code", "field", "cite")}
    others = _unmasked_entries(result, columns, set(masked))
    if others is None:  # the rules about the household only: each row's list is its mask's
        orders = listed.values
        return pa.ListArray.from_arrays(listed.offsets, pa.StructArray.from_arrays(
            [by_rule[name].take(orders) for name in ("code", "field", "cite")],
            fields=list(struct_type)), type=arrow_type)
    import pyarrow.compute as pc
    width = len(columns)
    orders = pl.from_arrow(listed.values)
    rows = pl.from_arrow(pc.list_parent_indices(listed))
    assert isinstance(orders, pl.Series) and isinstance(rows, pl.Series)
    flat = pl.DataFrame({
        "key": rows.cast(pl.Int64) * width + orders.cast(pl.Int64),
        "order": orders.cast(pl.Int64),
        "field": pl.from_arrow(by_rule["field"].take(listed.values))})
    prefix = [c.field.split("[]", 1)[0] for c in columns]
    suffix = [c.field.split("[]", 1)[1] if c.per_item else "" for c in columns]

    def of_rule(texts: list[str]) -> pl.Expr:
        return pl.lit(pl.Series(texts, dtype=pl.String)).gather(pl.col("order"))

    # (row, rule, item) in order: the item entries of one rule and row are in item order
    entries = others.sort(["row", "order", "index"]).select(
        (pl.col("row") * width + pl.col("order")).alias("key"), "order",
        pl.when(pl.col("index") >= 0).then(pl.concat_str(
            of_rule(prefix), pl.lit("["), pl.col("index").cast(pl.String), pl.lit("]"),
            of_rule(suffix))).otherwise(of_rule([c.field for c in columns])).alias("field"))
    merged = flat.merge_sorted(entries, "key")
    counts = pl.from_arrow(listed.value_lengths()).cast(pl.Int64)
    assert isinstance(counts, pl.Series)
    per_row = others.group_by("row").len()
    counts = counts.scatter(per_row.get_column("row"),
                            counts.gather(per_row.get_column("row")) +
                            per_row.get_column("len").cast(pl.Int64))
    offsets = pl.concat([pl.Series([0], dtype=pl.Int64), counts.cum_sum()])
    order = merged.get_column("order").to_arrow()
    struct = pa.StructArray.from_arrays(
        [by_rule["code"].take(order), merged.get_column("field").to_arrow().cast(pa.string()),
         by_rule["cite"].take(order)], fields=list(struct_type))
    return pa.ListArray.from_arrays(offsets.cast(pl.Int32).to_arrow(), struct, type=arrow_type)


def _unmasked_entries(result: pl.DataFrame, columns: list[WarningColumn], masked: set[int]
                      ) -> pl.DataFrame | None:
    """(row, rule number, item index) of each hit of the rules not in the mask: the items a
    rule `for:` a list holds for, and (index -1) the rows a rule beyond the mask holds for; None
    when there is none."""
    hits = _item_hits(result, [c for c in columns if c.per_item])
    parts = []
    for order, column in enumerate(columns):
        if order in masked:
            continue
        if column.per_item:
            held = hits.get(column.column)
        else:
            rows = result.get_column(column.column).fill_null(False).arg_true().cast(pl.Int64)
            held = pl.DataFrame({"row": rows, "index": pl.repeat(-1, rows.len(), dtype=pl.Int64,
                                                                 eager=True)})
        if held is not None and held.height:
            parts.append(held.with_columns(pl.lit(order, pl.Int64).alias("order")))
    return pl.concat(parts, how="vertical") if parts else None


def _item_hits(result: pl.DataFrame, items: list[WarningColumn]) -> dict[str, pl.DataFrame]:
    """For each warning rule about list items, the (row, index) of the items it holds for,
    from its column of a flag per item, read on its Arrow form without copying: the position
    of each true flag among all the items, its row by the lists' offsets, its index within
    the list by the list's offset (a missing list holds for nothing)."""
    hits: dict[str, pl.DataFrame] = {}
    for column in items:
        flags = result.get_column(column.column).rechunk()
        lists = flags.to_arrow()
        offsets = pl.Series(lists.offsets).cast(pl.Int64)
        positions = pl.Series(lists.values).arg_true().cast(pl.Int64)
        positions = positions.filter((positions >= offsets[0]) & (positions < offsets[-1]))
        rows = offsets.search_sorted(positions, side="right").cast(pl.Int64) - 1
        if flags.null_count():  # Arrow lets a missing list span items
            known = flags.is_not_null().gather(rows)
            rows, positions = rows.filter(known), positions.filter(known)
        if rows.len():
            hits[column.column] = pl.DataFrame({"row": rows, "index": positions
                                                - offsets.gather(rows)})
    return hits


def _output_array(result: pl.DataFrame, column: OutputColumn, arrow_type: Any) -> Any:
    pa = _pyarrow()
    if column.form == "number":
        den = column.columns[1] if column.den is None else column.den
        with decimal.localcontext(DECIMAL_CONTEXT):
            return fraction_text_column(result, column.columns[0], den, decimal_text)
    if column.form == "count":
        nums_series = result.get_column(column.columns[0])
        if column.den != 1:  # pragma: no cover - the checker types a quotient as a number
            raise ValueError("a count that is not a whole number")
        return nums_series.cast(pl.Int64).to_arrow()
    if column.form == "plain":
        return result.get_column(column.columns[0]).to_arrow()
    if column.form == "choice":
        return _choice_texts(result, column, list(column.values))
    if column.form == "labels":
        return _label_lists(result, column)
    assert column.form == "object"
    present = result.get_column(column.columns[0])
    assert isinstance(arrow_type, pa.StructType)
    by_key = {f.key: f for f in column.fields}
    children = []
    for i in range(arrow_type.num_fields):
        sub = arrow_type.field(i)
        array = _output_array(result, by_key[sub.name], sub.type)
        if hasattr(array, "combine_chunks"):
            array = array.combine_chunks()
        children.append(array if array.type == sub.type else array.cast(sub.type))
    return pa.StructArray.from_arrays(children, fields=list(arrow_type),
                                      mask=(~present).to_arrow())


def _choice_texts(result: pl.DataFrame, column: OutputColumn, texts: list[str | None]) -> Any:
    """A first_match decision's text of each row (`texts[i]` for rule number i, the last its
    `otherwise`), taken by the rule's number."""
    pa = _pyarrow()
    return pa.array(texts, pa.string()).take(result.get_column(column.columns[0]).to_arrow())


def _label_lists(result: pl.DataFrame, column: OutputColumn) -> Any:
    """The label lists, built once per distinct set of labels (a bit mask per row): building a
    list per row is what costs, not the rules."""
    pa = _pyarrow()
    names = list(column.columns)
    if not names:
        return pa.array([[]] * result.height, pa.list_(pa.string()))
    label_of = dict(zip(names, column.labels, strict=True))
    if len(names) > _MASK_MOST:  # pragma: no cover - more labels than a mask holds
        return result.select(pl.concat_list([pl.when(pl.col(c)).then(pl.lit(label_of[c]))
                                              for c in names]).list.drop_nulls()
                             ).to_series().to_arrow()
    # each row's list of label numbers, then the labels' texts by one take of the flat
    # numbers: a take of lists of strings writes the same bytes but cost more on fresh memory
    # (the four label sets 0.54 against 0.39 s in a call at 1,000,000; warm, 72 against 63 ms
    # for `departments`: docs/performance.md)
    numbered = _numbered_lists(result, names, list(range(len(names))))
    texts = pa.array([label_of[c] for c in names], pa.string()).take(numbered.values)
    return pa.ListArray.from_arrays(numbered.offsets, texts)


def _numbered_lists(result: pl.DataFrame, names: list[str], numbers: list[int]) -> Any:
    """Each row's list of `numbers[i]` for the boolean columns `names[i]` that hold in it, in
    their order (an Arrow list array of small integers), built once per distinct set: a bit
    mask per row (at most `_MASK_MOST` columns), each mask's list taken by row from the lists
    of all masks (at most `_DENSE_MASK_BITS` columns) or of the distinct ones."""
    bits = pl.Int32 if len(names) <= _INT32_MASK_BITS else pl.Int64
    mask = result.select(_mask_of(tuple(names), bits)).to_series()
    if len(names) <= _DENSE_MASK_BITS:
        return _every_mask_list(tuple(numbers)).take(mask.to_arrow())
    uniques = mask.unique()
    inverse = mask.replace_strict(uniques, pl.int_range(0, uniques.len(), dtype=pl.Int64,
                                                        eager=True))
    return _mask_lists(uniques.to_list(), numbers).take(inverse.to_arrow())


@functools.lru_cache(maxsize=64)
def _every_mask_list(numbers: tuple[int, ...]) -> Any:
    """The list of each mask of len(numbers) bits, at its own place (made once per set of
    columns: a take by the mask itself costs less than finding the distinct masks, 2.5 of
    a call's 25 ms at 5,000 rows)."""
    return _mask_lists(range(1 << len(numbers)), list(numbers))


def _mask_lists(masks: Iterable[int], numbers: list[int]) -> Any:
    """For each mask, `numbers[i]` for each bit i it has, in order, as an Arrow list array."""
    pa = _pyarrow()
    # unsigned: a take by signed indices checks each for a negative one (a take by Int8
    # numbers cost 17.5 against 7.6 ms by UInt8 at 1,000,000 rows)
    kind = pa.uint8() if max(numbers) <= _UINT8_MOST else pa.uint16()
    return pa.array([[number for i, number in enumerate(numbers) if mask >> i & 1]
                     for mask in masks], pa.list_(kind))


@functools.lru_cache(maxsize=256)
def _mask_of(names: tuple[str, ...], bits: Any) -> pl.Expr:
    """The bit mask of the label columns `names` (bit i: `names[i]` holds) as integers of
    `bits`, built once per set of columns: building the expression cost more than evaluating
    it on a chunk of a few thousand rows. A chain of additions of Int32 bits costs a fifth of
    a sum_horizontal of Int64 bits (3.4 against 19 ms for 13 labels at 1,000,000 rows)."""
    mask: pl.Expr = pl.lit(0, bits)
    for i, name in enumerate(names):
        mask = mask + pl.when(pl.col(name)).then(pl.lit(1 << i, bits)).otherwise(
            pl.lit(0, bits))
    return mask


_DENSE_MASK_BITS = 16  # the lists of all 65,536 masks, made once, cost less than hashing them
_INT32_MASK_BITS = 31  # the most labels whose mask an Int32 holds
_MASK_MOST = 62  # the most columns whose mask an Int64 holds
_UINT8_MOST = 255


def _redecide(policy: Policy | RegionalPolicy, table: Any, decided: Any, hazard: pl.Series,
              as_of: date, lines: list[int] | None,
              cases: Mapping[str, list[Case]] | None = None
              ) -> tuple[Any, Sequence[int], list[tuple[int, RecordError]]]:
    """Decide the rows with a zero divisor (or another hazard) on the record path: its
    decision or its rejection (under a region table, with the household's region's policy;
    with the household's `cases`)."""
    pa = _pyarrow()
    base = base_of(policy)
    reader = typed_reader(base.checked.record_model)
    id_field = base.checked.record_id
    positions = hazard.arg_true().to_list()
    data = _taken(table, positions).to_pylist()
    again: list[dict[str, Any]] = []
    again_rows: list[int] = []
    failed: list[tuple[int, RecordError]] = []
    for position, row_data in zip(positions, data, strict=True):
        row_data.pop(REGION_COLUMN, None)
        record = row_record(base, reader, row_data)
        try:
            deciding = policy.policy_for(record) if isinstance(policy, RegionalPolicy) \
                else policy
            own = cases.get(getattr(record, id_field)) if cases and id_field else None
            decision = deciding.decide_record(deciding.evaluator(as_of), record, as_of,
                                              None if lines is None else lines[position], own)
        except RecordError as exc:
            failed.append((position, exc))
            continue
        again.append(arrow_decision(base, decision))
        again_rows.append(position)
    more = pa.Table.from_pylist(again, schema=output_schema(base))
    dropped = {position for position, _ in failed}
    n = table.num_rows
    kept = range(n) if not dropped else \
        [row for row in range(n) if row not in dropped]
    return _spliced(decided, positions, more, again_rows), kept, failed


def _spliced(decided: Any, positions: list[int], more: Any, more_rows: list[int]) -> Any:
    """`decided` with its rows at `positions` (ascending) replaced by the rows of `more`, which
    are for `more_rows` (ascending, among `positions`), and the other ones left out. A few rows
    are spliced in by slicing (no copy of the table); many, by one take."""
    pa = _pyarrow()
    n = decided.num_rows
    if len(positions) > n // _ROWS_PER_SPLICE:
        replaced = pl.Series(more_rows, dtype=pl.Int64)
        index = pl.int_range(0, n, dtype=pl.Int64, eager=True).scatter(
            replaced, pl.int_range(n, n + len(more_rows), dtype=pl.Int64, eager=True))
        gone = pl.Series(sorted(set(positions) - set(more_rows)), dtype=pl.Int64)
        if gone.len():
            index = index.filter(pl.repeat(True, n, eager=True).scatter(gone, False))
        return pa.concat_tables([decided, more]).take(index.to_arrow())
    pieces = []
    start = 0
    by_row = {row: j for j, row in enumerate(more_rows)}
    for position in positions:
        if position > start:
            pieces.append(decided.slice(start, position - start))
        if position in by_row:
            pieces.append(more.slice(by_row[position], 1))
        start = position + 1
    if start < n or not pieces:
        pieces.append(decided.slice(start))
    return pa.concat_tables(pieces)


# Splicing by slices costs about what a take of this many rows costs, per row spliced in
# (measured at 100,000 rows of fujian_2021's decisions: 90 us a slice, 0.35 us a row taken).
_ROWS_PER_SPLICE = 500


class ColumnarChunkDecider:
    """`engine.stream.ChunkDecider` for the columnar engine: a chunk of JSON lines read and
    validated as the record path reads them (the same rejections, with their line), decided in
    columns, written as the record path writes its decisions, byte for byte."""

    def __init__(self, policy: Policy | RegionalPolicy, as_of: date,
                 cases: Mapping[str, list[Case]] | None = None) -> None:
        self.cases = cases  # checked already (`fangpin eval --cases`'s reader)
        self.regional = policy if isinstance(policy, RegionalPolicy) else None
        self.deciding = policy
        policy = base_of(policy)
        self.policy, self.as_of = policy, as_of
        columnar_plan(self.deciding, as_of)
        self.reader = typed_reader(policy.checked.record_model)
        self.id_field = policy.checked.record_id
        self.numbers = _number_paths(policy)  # written as JSON numbers (`decision_lines`)

    def decide(self, chunk: list[tuple[int, Any]]) -> Any:
        from fangpin_rules.engine.serialize import dumps
        from fangpin_rules.engine.stream import ChunkResult, read_item, unexpected_rejection
        policy, id_field = self.policy, self.id_field
        rows: list[Any] = []
        lines: list[int] = []
        rejects: list[tuple[int, str]] = []
        for number, item in chunk:
            record: Any = None
            try:
                record = read_item(policy, self.reader, number, item)
                if self.regional is not None:  # a household of no region: rejected
                    self.regional.policy_for(record, number)
                _refuse_inconsistent(record, number, id_field)
                rows.append(record)
                lines.append(number)
            except RecordError as exc:
                rejection = exc.rejection
                if rejection.line is None:
                    rejection = rejection.at_line(number)
                rejects.append((number, dumps(rejection.to_json())))
            except Exception as exc:  # as the record path: this record's rejection
                rejects.append((number, dumps(unexpected_rejection(
                    number, getattr(record, id_field, None) if id_field else None,
                    exc).to_json())))
        table = records_table(rows, input_schema(policy))
        if self.regional is not None:
            table = with_region_column(table)
        cases = CaseTable.of_checked(self.cases, (getattr(r, id_field) for r in rows)) \
            if self.cases and id_field else None
        decided, kept, failed = decide_validated(self.deciding, table, self.as_of, lines,
                                                 cases=cases)
        for index, failure in failed:
            rejection = failure.rejection
            if rejection.line is None:
                rejection = rejection.at_line(lines[index])
            rejects.append((lines[index], dumps(rejection.to_json())))
        rejects.sort(key=lambda pair: pair[0])
        ids = tuple((getattr(rows[index], id_field), lines[index]) for index in kept) \
            if id_field else tuple((None, lines[index]) for index in kept)
        text = "\n".join(line for _, line in rejects)
        return ChunkResult(decision_lines(decided, self.numbers),
                           text + "\n" if text else "", len(chunk), decided.num_rows,
                           len(rejects), ids,
                           cases.used(household for household, _ in ids) if cases else 0)


def record_form(numbers: list[tuple[str, str | None]], decision: dict[str, Any]
                ) -> dict[str, Any]:
    """A decision row in the record path's form: numbers (at `numbers`, `_number_paths`)
    as Decimals, the keys in its order, a deadline's `reason` only when it has one."""
    _with_decimals(numbers, decision)
    for key in ("deadlines", "overdue", "violations"):
        for entry in decision[key]:
            if entry.get("reason") is None:
                entry.pop("reason", None)
    # the record path's order: ... deadlines, overdue, violations, warnings, trace
    for key in ("overdue", "violations", "warnings"):
        decision[key] = decision.pop(key)
    decision["trace"] = []
    return decision


def _with_decimals(numbers: list[tuple[str, str | None]], decision: dict[str, Any]
                   ) -> dict[str, Any]:
    """The decision row with its numbers at `numbers` (`_number_paths`) as Decimals."""
    for key, sub in numbers:
        value = decision.get(key)
        if sub is None:
            if value is not None:
                decision[key] = Decimal(value)
        elif value is not None and value.get(sub) is not None:
            value[sub] = Decimal(value[sub])
    return decision


def _number_paths(policy: Policy) -> list[tuple[str, str | None]]:
    """The decision keys (and object fields) that hold exact decimal numbers."""
    paths: list[tuple[str, str | None]] = []
    for key, kind in policy.checked.output_fields():
        inner = t.strip(kind)
        if inner in t.NUMERIC and inner != t.COUNT:
            paths.append((key, None))
        elif isinstance(inner, t.Record):
            paths.extend((key, name) for name, sub in inner.fields.items()
                         if t.strip(sub) in t.NUMERIC and t.strip(sub) != t.COUNT)
    return paths
