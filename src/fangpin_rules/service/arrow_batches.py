"""Arrow batches over HTTP: `POST /v1/decide` with a body that is one Arrow IPC stream of
households (`input_schema`, as `fangpin schema` and `decide_batch` take them) is decided in
columns (docs/columnar.md) and answered with one Arrow IPC stream of decisions, so that a data
system (Java's, Spark's, DuckDB's) sends a table and gets a table back with no JSON between.

The answer's columns are `row` (the request's row, 0-based), `decision_id` (the batch's id and
the row) and the decision's columns (`output_schema`); its schema metadata holds the counts
(`fangpin.counts`), the rejects (`fangpin.rejects`: row, household id, field, reason, ID numbers
masked) and the engine of each policy used (`fangpin.engines`). Rows are routed to policies as
a JSON batch's are (`policy`, or each row's region_code); a policy the columnar engine cannot
express decides its rows on the record engine, which gives the same decisions, and the
metadata says so. A `cases` column (a list of case structs per row, the case record's fields)
gives each household its cases, whose deadlines its decision then holds, as a JSON batch's
`cases` do. pyarrow and polars are the `[columnar]` extra: without them this content type is
refused (415), never half-served.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from fangpin_rules.engine import Policy
from fangpin_rules.engine.policy import DateError
from fangpin_rules.engine.regions import RegionalPolicy
from fangpin_rules.model import Case
from fangpin_rules.service.deciding import (
    NO_REGION_POLICY,
    Deadline,
    Outcome,
    checked_case,
    named_policy,
)
from fangpin_rules.service.decision_log import masked
from fangpin_rules.service.problems import Problem
from fangpin_rules.service.registry import Snapshot

ARROW_STREAM_TYPE = "application/vnd.apache.arrow.stream"
CASES_COLUMN = "cases"  # each row's cases, not a field of the household
COLUMNAR_NEEDED = ("Arrow batches need pyarrow and polars on the server: pip install "
                   "'fangpin-rules[columnar]', or send JSON")


@dataclass
class ArrowAnswer:
    """The answer's Arrow IPC bytes and what the service counts and logs of it."""

    body: bytes
    counts: dict[str, int]
    # (policy, decisions) and (policy, rejects) counted per policy; None: rows of no policy
    decided_by: dict[str | None, int] = field(default_factory=dict)
    rejected_by: dict[str | None, int] = field(default_factory=dict)
    outcomes: list[Outcome] = field(default_factory=list)  # for the decision log, when kept


def available() -> bool:
    try:
        import polars  # noqa: F401
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    return True


def read_stream(body: bytes) -> Any:
    """The request's table, or a Problem saying why the body is not one Arrow IPC stream."""
    import pyarrow as pa
    import pyarrow.ipc

    if not body:
        raise Problem("invalid-request", "the body is empty: send one Arrow IPC stream of "
                      "households", reason="empty body")
    try:
        return pa.ipc.open_stream(pa.py_buffer(body)).read_all()
    except (pa.ArrowException, OSError, ValueError) as exc:
        # Arrow's own words about the stream's framing (they quote no value of it)
        raise Problem("invalid-request", f"the body is not an Arrow IPC stream: "
                      f"{str(exc)[:200]}", reason="not an Arrow IPC stream") from None


def decide_stream(snapshot: Snapshot, as_of: date, policy_id: str | None, table: Any,
                  batch_id: str, deadline: Deadline, *, max_batch: int,
                  keep_outcomes: bool = False) -> ArrowAnswer:
    """Decide every row of `table` (one policy named, or each row routed by its region code)
    and write the answer. `keep_outcomes`: also each decision as JSON with its input, for the
    decision log (as a JSON batch logs them)."""
    import pyarrow as pa

    if table.num_rows > max_batch:
        raise Problem("batch-too-large", f"the batch holds {table.num_rows} households; the "
                      f"limit is {max_batch}", limit=max_batch)
    table, cases = _row_cases(table)
    rejects: list[dict[str, Any]] = []
    answer = ArrowAnswer(b"", {})
    groups = _groups(snapshot, as_of, policy_id, table, rejects)
    answer.rejected_by[None] = len(rejects)
    parts: list[tuple[Any, Any]] = []  # (rows, decisions) of each policy
    engines: dict[str, str] = {}
    schema = None
    for policy, rows in groups:
        deadline.check()
        part = table.take(rows)
        decided, part_rejects, engine = _decided(snapshot, policy, part, as_of, cases)
        engines[policy.id] = engine
        gone = set()
        for rejection in part_rejects:
            rejection["row"] = rows[rejection["row"]].as_py()
            gone.add(rejection["row"])
            rejects.append(masked(rejection))
        kept = pa.array([row for row in rows.to_pylist() if row not in gone], pa.int64())
        if schema is not None and decided.schema != schema:
            raise Problem("invalid-request", "the households route to policies whose decisions "
                          f"have other columns ({sorted(engines)}): name one with `policy`, or "
                          "send each policy's households apart", field="policy",
                          reason="policies with other decision columns")
        schema = decided.schema
        parts.append((kept, decided))
        answer.decided_by[policy.id] = decided.num_rows
        answer.rejected_by[policy.id] = len(part_rejects)
        if keep_outcomes:
            answer.outcomes += _outcomes(policy, part, rows, kept, decided, batch_id)
    rejects.sort(key=lambda r: int(r["row"]))
    decided_table = _in_row_order(parts, batch_id, schema)
    counts = {"read": table.num_rows, "decided": decided_table.num_rows,
              "rejected": len(rejects)}
    answer.counts = counts
    answer.body = _ipc_bytes(decided_table.replace_schema_metadata({
        "fangpin.counts": json.dumps(counts), "fangpin.rejects": json.dumps(
            rejects, ensure_ascii=False), "fangpin.engines": json.dumps(engines)}))
    return answer


def _row_cases(table: Any) -> tuple[Any, dict[str, list[Case]] | None]:
    """The table without its `cases` column, and the cases that column gives by household id
    (None without one). Each case is checked as a JSON batch's (the request refused, naming
    `cases[row][index]` and the field, for a bad one); a field null in the struct is one not
    given, and a case's household_id, when given, must be its row's."""
    import pyarrow as pa

    if CASES_COLUMN not in table.column_names:
        return table, None
    kind = table.schema.field(CASES_COLUMN).type
    if not ((pa.types.is_list(kind) or pa.types.is_large_list(kind))
            and pa.types.is_struct(kind.value_type)):
        raise Problem("invalid-request", "the `cases` column holds each household's cases: a "
                      "list of structs with the case record's fields", field=CASES_COLUMN,
                      reason=f"a column of {kind}")
    ids = _ids(table)
    by_household: dict[str, list[Case]] = {}
    for row, items in enumerate(table.column(CASES_COLUMN).to_pylist()):
        for index, item in enumerate(items or []):
            path, label = f"cases[{row}][{index}]", f"row {row}, case {index + 1}"
            given = {key: value for key, value in (item or {}).items() if value is not None}
            if ids[row] is None:
                raise Problem("invalid-case", f"{label}: the row has no household_id to give "
                              "its cases to", field=f"{path}.household_id",
                              reason="a case of a row without household_id")
            if given.setdefault("household_id", ids[row]) != ids[row]:
                raise Problem("invalid-case", f"{label}: its household_id is not its row's",
                              field=f"{path}.household_id", reason="another household's case")
            case = checked_case(given, path, label)
            by_household.setdefault(case.household_id, []).append(case)
    return table.drop_columns([CASES_COLUMN]), by_household


def _groups(snapshot: Snapshot, as_of: date, policy_id: str | None, table: Any,
            rejects: list[dict[str, Any]]) -> list[tuple[Policy, Any]]:
    """(policy, the rows it decides, ascending) for each policy the rows go to; a row no
    policy covers goes to `rejects`, as a JSON batch's household does."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if policy_id is not None:
        return [(named_policy(snapshot, policy_id, as_of),
                 pa.array(range(table.num_rows), pa.int64()))]
    codes = _texts(table, "region_code")
    if codes is None:  # no text: routed as a missing code
        codes = pa.nulls(table.num_rows, pa.string())
    encoded = pc.dictionary_encode(codes)
    distinct = encoded.dictionary.to_pylist()
    policies = [snapshot.route(code) for code in distinct]
    null_policy = snapshot.route(None) if encoded.null_count else None
    by_policy: dict[str, tuple[Policy, list[int]]] = {}
    ids: list[str | None] | None = None  # read for the first reject only
    for row, index in enumerate(encoded.indices.to_pylist()):
        policy = null_policy if index is None else policies[index]
        if policy is None:
            ids = _ids(table) if ids is None else ids
            rejects.append(masked({"row": row, "household_id": ids[row],
                                   "field": "region_code", "reason": NO_REGION_POLICY}))
            continue
        by_policy.setdefault(policy.id, (policy, []))[1].append(row)
    return [(policy, pa.array(rows, pa.int64())) for policy, rows in by_policy.values()]


def _ids(table: Any) -> list[str | None]:
    ids = _texts(table, "household_id")
    return [None] * table.num_rows if ids is None else list(ids.to_pylist())


def _texts(table: Any, name: str) -> Any:
    """The column `name` of `table` as one Arrow string array (dictionary-encoded, large or
    view strings decoded), or None when the table has no such column of texts."""
    import pyarrow as pa

    from fangpin_rules.columnar.arrow import holds_texts

    if name not in table.column_names:
        return None
    column = table.column(name).combine_chunks()
    if pa.types.is_null(column.type):
        return pa.nulls(len(column), pa.string())
    return column.cast(pa.string()) if holds_texts(column.type) else None


def _decided(snapshot: Snapshot, policy: Policy, part: Any, as_of: date,
             cases: dict[str, list[Case]] | None = None
             ) -> tuple[Any, list[dict[str, Any]], str]:
    """(decisions, rejects with their row in `part`, the engine) of one policy's rows, with
    their `cases` (by household id): in columns, or on the record engine for a policy the
    columnar engine cannot express. A date the policy cannot answer for rejects every row,
    naming as_of, as a JSON batch does."""
    from fangpin_rules.columnar import decide_batch, output_schema
    from fangpin_rules.columnar.engine import ColumnarUnsupported, columnar_plan

    deciding: Policy | RegionalPolicy = snapshot.tables.get(policy.id, policy)
    try:
        deciding.check_date(as_of)
    except DateError as exc:
        import pyarrow as pa
        ids = _ids(part)
        return (pa.Table.from_pylist([], schema=output_schema(policy)),
                [{"row": row, "household_id": ids[row], "field": "as_of", "reason": str(exc)}
                 for row in range(part.num_rows)], "none")
    try:
        columnar_plan(deciding, as_of)
        engine = "columnar"
    except ColumnarUnsupported:
        engine = "record"
    result = decide_batch(deciding, part, as_of, engine=engine, cases=cases or None)
    return result.decisions, result.rejects.to_pylist(), engine


def _in_row_order(parts: list[tuple[Any, Any]], batch_id: str, schema: Any) -> Any:
    """One table of every policy's decisions, by request row, with `row` and `decision_id`."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if schema is None:  # no row went to a policy
        return pa.table({"row": pa.array([], pa.int64()),
                         "decision_id": pa.array([], pa.string())})
    rows = pa.concat_arrays([kept for kept, _ in parts])
    decisions = pa.concat_tables([decided for _, decided in parts])
    order = pc.sort_indices(rows)
    rows = rows.take(order)
    ids = pc.binary_join_element_wise(pa.repeat(pa.scalar(batch_id), len(rows)),
                                      pc.cast(rows, pa.string()), "-")
    table = decisions.take(order)
    return table.add_column(0, "decision_id", ids).add_column(0, "row", rows)


def _outcomes(policy: Policy, part: Any, rows: Any, kept: Any, decided: Any, batch_id: str
              ) -> list[Outcome]:
    """Each decision of one policy's rows (`part`, the request's `rows`) as the decision log
    takes it: its JSON (the record path's bytes) and its input row."""
    import pyarrow as pa

    from fangpin_rules.columnar.engine import _number_paths
    from fangpin_rules.columnar.jsonl import decision_lines

    lines = decision_lines(decided, _number_paths(policy)).split(b"\n")[:-1]
    place = {row: index for index, row in enumerate(rows.to_pylist())}
    decided_rows = kept.to_pylist()
    inputs = part.take(pa.array([place[row] for row in decided_rows], pa.int64())).to_pylist()
    return [Outcome(row, policy, f"{batch_id}-{row}", line, household=household)
            for row, line, household in zip(decided_rows, lines, inputs, strict=True)]


def _ipc_bytes(table: Any) -> bytes:
    import pyarrow as pa
    import pyarrow.ipc

    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue().to_pybytes())

