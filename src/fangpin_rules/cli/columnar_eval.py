"""`fangpin eval --engine columnar`: JSON lines in and out (the record path's bytes), or a
Parquet file in and a Parquet file out, decided in columns batch by batch (memory stays flat:
one batch is held at a time). Rejects are JSONL with line (or, for Parquet, `row`, 0-based in
the file), household id, field and reason; the counts add up as with the record engine."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from fangpin_rules.cli.common import (
    EXIT_OK,
    EXIT_REJECTED,
    EXIT_USAGE,
    Reported,
    UsageError,
    open_input,
    policy_files,
    report_policy_error,
)
from fangpin_rules.cli.outputs import Outputs, check_collisions

PARQUET_BATCH_ROWS = 65_536  # rows decided at a time from a Parquet file


def run_columnar(args: argparse.Namespace, policy: Any) -> int:
    from fangpin_rules.columnar.engine import ColumnarChunkDecider, ColumnarUnsupported
    from fangpin_rules.engine.policy import DateError, parse_date

    for flag, used in (("--explain", args.explain), ("--cases", args.cases),
                       ("--regions", args.regions), ("--jobs", args.jobs != 1)):
        if used:
            raise UsageError(f"--engine columnar does not take {flag}: use --engine record")
    try:
        as_of = parse_date(args.as_of)
        policy.evaluator(as_of)
        carried = policy.carried_forward(as_of)
        decider = ColumnarChunkDecider(policy, as_of)
    except DateError as exc:
        raise UsageError(str(exc)) from None
    except ColumnarUnsupported as exc:
        report_policy_error(exc)
        raise Reported(EXIT_USAGE) from None
    for notice in carried:
        print(f"warning[carried-forward]: {notice.message()}", file=sys.stderr)
    parquet_in = str(args.records).endswith(".parquet")
    if parquet_in != bool(args.output and args.output.endswith(".parquet")):
        raise UsageError("--engine columnar reads a .parquet file into a .parquet -o, and "
                         "JSON lines into JSON lines")
    check_collisions({"the policy": policy_files(policy), "the records": [args.records]},
                     {"-o": args.output or "-", "--rejects": args.rejects})
    with Outputs() as outputs:
        rejects = outputs.open(args.rejects) if args.rejects else sys.stderr
        out = outputs.open(args.output)
        if parquet_in:
            read, decided, rejected = _parquet(policy, args.records, out, rejects, as_of)
        else:
            read, decided, rejected = _jsonl(policy, decider, args.records, out, rejects)
    print(f"read {read}, decided {decided}, rejected {rejected}"
          + (f" (see {args.rejects})" if rejected and args.rejects else ""), file=sys.stderr)
    return EXIT_REJECTED if rejected else EXIT_OK


def _jsonl(policy: Any, decider: Any, path: str, out: Any, rejects: Any) -> tuple[int, int, int]:
    from fangpin_rules.engine.stream import CHUNK_LINES, OneDecisionPerId, chunks, numbered_items

    unique = OneDecisionPerId(policy.checked.record_id)
    read = decided = rejected = 0
    binary = getattr(out, "buffer", None)
    with open_input(path) as source:
        for chunk in chunks(numbered_items(source), max(CHUNK_LINES, 20_000)):
            result = unique.filter(decider.decide(chunk))
            if binary is not None:
                out.flush()
                binary.write(result.decisions)
            else:
                out.write(result.decisions.decode("utf-8"))
            rejects.write(result.rejects)
            read, decided, rejected = (read + result.read, decided + result.decided,
                                       rejected + result.rejected)
    return read, decided, rejected


def _parquet(policy: Any, path: str, out: Any, rejects: Any, as_of: Any) -> tuple[int, int, int]:
    import pyarrow.parquet as pq

    from fangpin_rules.columnar import output_schema
    from fangpin_rules.columnar.engine import decide_columns
    from fangpin_rules.engine.serialize import dumps

    try:
        source = pq.ParquetFile(path)
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read the Parquet file '{path}': {exc}") from None
    read = decided = rejected = 0
    first_row: dict[Any, int] = {}  # each id decided, with its row: one decision per household
    with pq.ParquetWriter(out.buffer, output_schema(policy)) as writer:
        for batch in source.iter_batches(batch_size=PARQUET_BATCH_ROWS):
            result = decide_columns(policy, batch, as_of)
            table = result.decisions
            rows = _decided_rows(batch.num_rows, result.rejects)
            ids = table.column("household_id").to_pylist()
            duplicate = _duplicates(first_row, ids, rows, read)
            if duplicate:  # one decision per household in a run, as the record engine keeps
                for i in duplicate:
                    rejects.write(dumps({
                        "row": read + rows[i], "household_id": ids[i], "field": "household_id",
                        "reason": f"the id is given to another record already (row "
                        f"{first_row[ids[i]]}); each household is one record in a run"}) + "\n")
                gone = set(duplicate)
                table = table.take([i for i in range(len(ids)) if i not in gone])
                rejected += len(duplicate)
            writer.write_table(table)
            for rejection in result.rejects.to_pylist():
                rejection["row"] += read
                rejects.write(dumps(rejection) + "\n")
            read += batch.num_rows
            decided += table.num_rows
            rejected += result.rejects.num_rows
    return read, decided, rejected


def _decided_rows(n: int, rejects: Any) -> list[int]:
    """The batch's row of each decision (the rows not rejected, in order)."""
    gone = set(rejects.column("row").to_pylist())
    return [row for row in range(n) if row not in gone] if gone else list(range(n))


def _duplicates(first_row: dict[Any, int], ids: list[Any], rows: list[int], read: int
                ) -> list[int]:
    """The decisions (by index) whose id was decided before in the run, the others noted with
    their row. Most batches have none: that is found with a dict and a set operation."""
    fresh = dict(zip(ids, rows, strict=True))
    if len(fresh) == len(ids) and None not in fresh and first_row.keys().isdisjoint(fresh):
        first_row.update(zip(fresh, map(read.__add__, fresh.values()), strict=True))
        return []
    duplicate = []
    for index, (record_id, row) in enumerate(zip(ids, rows, strict=True)):
        if record_id is None:
            continue
        if record_id in first_row:
            duplicate.append(index)
        else:
            first_row[record_id] = read + row
    return duplicate
