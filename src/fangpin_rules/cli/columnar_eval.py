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
                       ("--jobs", args.jobs != 1)):
        if used:
            raise UsageError(f"--engine columnar does not take {flag}: use --engine record")
    if args.regions:  # each household decided with its region's values, as --engine record
        from fangpin_rules.cli.common import load_regions_or_report
        policy = load_regions_or_report(policy, args.regions)
    try:
        as_of = parse_date(args.as_of)
        if args.regions:
            policy.check_date(as_of)
        else:
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

    unique = OneDecisionPerId(decider.policy.checked.record_id)
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
    seen: set[Any] = set()
    base = getattr(policy, "base", policy)  # a region table decides with its policy's types
    with pq.ParquetWriter(out.buffer, output_schema(base)) as writer:
        for batch in source.iter_batches(batch_size=PARQUET_BATCH_ROWS):
            result = decide_columns(policy, batch, as_of)
            table = result.decisions
            ids = table.column("household_id").to_pylist()
            duplicate = []
            for i, record_id in enumerate(ids):
                if record_id is not None and record_id in seen:
                    duplicate.append(i)
                seen.add(record_id)
            if duplicate:  # one decision per household in a run, as the record engine keeps
                keep = [i for i in range(len(ids)) if i not in set(duplicate)]
                for i in duplicate:
                    rejects.write(dumps({"row": None, "household_id": ids[i], "field":
                                         "household_id", "reason": "a household decided "
                                         "already in this file"}) + "\n")
                table = table.take(keep)
                rejected += len(duplicate)
            writer.write_table(table)
            for rejection in result.rejects.to_pylist():
                rejection["row"] += read
                rejects.write(dumps(rejection) + "\n")
            read += batch.num_rows
            decided += table.num_rows
            rejected += result.rejects.num_rows
    return read, decided, rejected
