"""`fangpin eval --engine columnar`: JSON lines in and out (the record path's bytes), or a
Parquet file in and a Parquet file out, decided in columns batch by batch (memory stays flat:
one batch is held at a time). Rejects are JSONL with line (or, for Parquet, `row`, 0-based in
the file), household id, field and reason; the counts add up as with the record engine."""

from __future__ import annotations

import argparse
import sys
from typing import Any

import polars as pl  # this module is imported for --engine columnar only (cli/eval.py)

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
    index = IdIndex()  # each id decided, with its row: one decision per household
    base = getattr(policy, "base", policy)  # a region table decides with its policy's types
    with pq.ParquetWriter(out.buffer, output_schema(base)) as writer:
        for batch in source.iter_batches(batch_size=PARQUET_BATCH_ROWS):
            result = decide_columns(policy, batch, as_of)
            table = result.decisions
            rows = _decided_rows(batch.num_rows, result.rejects)
            ids = pl.from_arrow(table.column("household_id"))
            assert isinstance(ids, pl.Series)
            first = index.first_rows(ids, pl.Series(rows, dtype=pl.Int64) + read)
            duplicate = first.is_not_null()
            if duplicate.any():  # one decision per household in a run, as the record engine
                for i in duplicate.arg_true().to_list():
                    rejects.write(dumps({
                        "row": read + rows[i], "household_id": ids[i], "field": "household_id",
                        "reason": f"the id is given to another record already (row "
                        f"{first[i]}); each household is one record in a run"}) + "\n")
                table = table.filter((~duplicate).to_arrow())
                rejected += int(duplicate.sum())
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


class IdIndex:
    """The household ids decided in a run, with the row of each: sorted runs of ids (Polars
    frames, more compact than a Python dict of them), each searched with `search_sorted`; two
    runs of about one size are merged, so there are few."""

    def __init__(self) -> None:
        self.runs: list[pl.DataFrame] = []

    def first_rows(self, ids: pl.Series, rows: pl.Series) -> pl.Series:
        """For each id of a batch (its rows `rows`), the row of the id's first decision in the
        run, or null for an id not decided before; the batch's ids are noted."""
        found = pl.Series("first", [None] * len(ids), dtype=pl.Int64)
        if len(ids) == 0:
            return found
        known = ids.is_not_null()
        for run in self.runs:
            at = run.get_column("id").search_sorted(ids).clip(0, run.height - 1)
            same = (run.get_column("id").gather(at) == ids).fill_null(False)
            found = pl.select(pl.when(pl.lit(same)).then(pl.lit(run.get_column("row").gather(
                at))).otherwise(pl.lit(found))).to_series().alias("first")
        batch = pl.DataFrame({"id": ids, "row": rows, "first": found})
        # an id twice in the batch: the later ones name the first
        within = batch.filter(known).with_columns(
            pl.col("row").first().over("id").alias("earliest"))
        earliest = batch.select("row").join(within.select("row", "earliest"), on="row",
                                            how="left", maintain_order="left")
        found = pl.select(pl.when(pl.lit(found).is_null() & (
            pl.lit(earliest.get_column("earliest")) != pl.lit(rows))).then(
            pl.lit(earliest.get_column("earliest"))).otherwise(pl.lit(found))).to_series()
        fresh = batch.filter(known & found.is_null())
        if fresh.height:
            self.runs.append(fresh.select("id", "row").sort("id"))
            while len(self.runs) > 1 and self.runs[-2].height <= 2 * self.runs[-1].height:
                last = self.runs.pop()
                self.runs[-1] = pl.concat([self.runs[-1], last]).sort("id")
        return found.alias("first")


