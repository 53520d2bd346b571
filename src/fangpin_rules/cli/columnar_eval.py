"""`fangpin eval --engine columnar`: JSON lines in and out (the record path's bytes), or a
Parquet file in and a Parquet file out, decided in columns batch by batch (memory stays flat:
one batch is held at a time). A Parquet file with `--engine record` is the same run, each
batch decided row by row (`decide_batch(engine="record")`): the same bytes. Rejects are JSONL
with line (or, for Parquet, `row`, 0-based in the file), household id, field and reason; the
counts add up as with the record engine."""

from __future__ import annotations

import argparse
import contextlib
import queue
import sys
import threading
from collections.abc import Iterator
from typing import Any

import polars as pl  # imported for --engine columnar or a Parquet file only (cli/eval.py)

from fangpin_rules.cli.common import (
    EXIT_OK,
    EXIT_REJECTED,
    EXIT_USAGE,
    Reported,
    UsageError,
    check_unchanged,
    first_pass_items,
    is_parquet,
    open_input,
    parquet_read_errors,
    policy_files,
    report_policy_error,
    warn_carried_forward,
    worker_count,
)
from fangpin_rules.cli.outputs import Outputs, check_collisions
from fangpin_rules.cli.progress import Progress, progress_for, rows_progress_for
from fangpin_rules.columnar.ids import IdIndex, IdScreen, IndexedIds, jsonl_screen, parquet_screen
from fangpin_rules.columnar.parquet import BATCH_ROWS, file_batches, flat_pool

PARQUET_BATCH_ROWS = BATCH_ROWS  # rows decided at a time from a Parquet file
PIPELINE_DEPTH = 1  # batches read ahead, and decided batches waiting to be written
_POLL_SECONDS = 0.1  # how often a reader thread that cannot hand on its batch checks for a stop


def run_columnar(args: argparse.Namespace, policy: Any) -> int:
    """`fangpin eval` on the columnar engine, or of a Parquet file on either engine."""
    from fangpin_rules.cli.eval import read_cases
    from fangpin_rules.columnar.engine import (
        ColumnarChunkDecider,
        ColumnarUnsupported,
        columnar_plan,
    )
    from fangpin_rules.engine.policy import DateError, parse_date

    parquet_in = is_parquet(args.records)
    if args.explain and args.engine == "columnar":
        raise UsageError("--engine columnar does not take --explain: use --engine record")
    if args.explain:  # a Parquet file's decisions are a table: no trace in it
        raise UsageError("a Parquet file's run does not take --explain: give the records as "
                         "JSON lines")
    jobs = worker_count(args.jobs, "eval")
    if args.regions:  # each household decided with its region's values, as --engine record
        from fangpin_rules.cli.common import load_regions_or_report
        policy = load_regions_or_report(policy, args.regions)
    try:
        as_of = parse_date(args.as_of)
        policy.check_date(as_of)
        carried = policy.carried_forward(as_of)
        if args.engine == "columnar":  # a policy it cannot express: refused before any record
            columnar_plan(policy, as_of)
    except DateError as exc:
        raise UsageError(str(exc)) from None
    except ColumnarUnsupported as exc:
        report_policy_error(exc)
        raise Reported(EXIT_USAGE) from None
    warn_carried_forward(carried)
    if parquet_in != bool(args.output and args.output.endswith(".parquet")):
        raise UsageError("a Parquet file's decisions go to a .parquet -o" if parquet_in else
                          "--engine columnar reads a .parquet file into a .parquet -o, and "
                          "JSON lines into JSON lines")
    check_collisions({"the policy": policy_files(policy), "the records": [args.records],
                      "the cases": [args.cases]},
                     {"-o": args.output or "-", "--rejects": args.rejects})
    from fangpin_rules.engine.stream import quiet_collector
    quiet_collector()  # as the record engine's run: each chunk's rows and decisions are short-lived
    with Outputs() as outputs:
        rejects = outputs.open(args.rejects) if args.rejects else sys.stderr
        cases: dict[str, list[Any]] | None = None
        case_read = case_rejected = 0
        if args.cases:  # as the record engine reads them: a bad case to the rejects
            with open_input(args.cases) as case_source:
                cases, case_read, case_rejected = read_cases(case_source, rejects)
        out = outputs.open(args.output)
        from fangpin_rules.engine.parallel import PolicySource
        source = PolicySource.of(policy, args.policy_path)
        if parquet_in:
            read, decided, rejected, used = _parquet(
                policy, args.records, out, rejects, as_of, cases, args.engine, jobs, source)
        else:
            read, decided, rejected, used = _jsonl(
                ColumnarChunkDecider(policy, as_of, cases), args.records, out, rejects, jobs,
                source)
    case_note = "" if cases is None else \
        f"; cases: read {case_read}, used {used}, rejected {case_rejected}"
    print(f"read {read}, decided {decided}, rejected {rejected}{case_note}"
          + (f" (see {args.rejects})" if rejected and args.rejects else ""), file=sys.stderr)
    return EXIT_REJECTED if rejected or (cases is not None and case_rejected) else EXIT_OK


def _jsonl(decider: Any, path: str, out: Any, rejects: Any, jobs: int = 1,
           policy_source: Any = None) -> tuple[int, int, int, int]:
    """The run of JSON lines in columns, a chunk at a time: here, or (`jobs` > 1) in worker
    processes loading the policy from `policy_source` (a PolicySource), each chunk decided by a
    `ColumnarChunkDecider` of its own and the results taken in input order, so the output
    is the one-process run's, byte for byte."""
    from fangpin_rules.cli.eval import write_results
    from fangpin_rules.columnar.engine import ColumnarChunkDecider
    from fangpin_rules.engine.parallel import decide_in_workers
    from fangpin_rules.engine.repeats import FileStamp, rereadable
    from fangpin_rules.engine.stream import COLUMNAR_CHUNK, chunks, numbered_items

    binary = getattr(out, "buffer", None)
    id_field = decider.policy.checked.record_id
    screen = None
    if rereadable(path):  # the ids that may repeat, from a first pass: the index holds those
        stamp = FileStamp.of(path)
        with open_input(path) as first:  # on a terminal, with its own "ids: " line
            screen = jsonl_screen(first_pass_items(first, out), id_field, stamp)
    with open_input(path) as lines, IndexedIds(id_field, screen) as unique, \
            contextlib.ExitStack() as stack:
        progress = progress_for(sys.stderr, lines, out)  # as the record engine's run draws it
        parts = chunks(numbered_items(lines), COLUMNAR_CHUNK)
        results: Iterator[Any] = map(decider.decide, parts)
        if jobs > 1:
            workers = decide_in_workers(policy_source, decider.as_of, parts, jobs,
                                        cases=decider.cases, policy=decider.deciding,
                                        make_decider=ColumnarChunkDecider,
                                        start_method="spawn")
            stack.callback(workers.close)  # the workers ended however the run ends
            results = workers
        read, decided, rejected, used = write_results(map(unique.filter, results), out,
                                                      binary, rejects, progress)
    check_unchanged(screen, path)
    return read, decided, rejected, used


def _parquet_file(path: str) -> Any:
    import pyarrow.parquet as pq

    with parquet_read_errors(path):
        return pq.ParquetFile(path)


def _parquet(policy: Any, path: str, out: Any, rejects: Any, as_of: Any,
             cases: dict[str, list[Any]] | None, engine: str = "columnar", jobs: int = 1,
             source: Any = None) -> tuple[int, int, int, int]:
    """The run of a Parquet file: its batches decided here, read one ahead (`Ahead`), or in
    `jobs` worker processes loading the policy from `source` (a PolicySource)."""
    from fangpin_rules.columnar.parquet import decided_in_workers

    with flat_pool(), contextlib.ExitStack() as stack:
        parquet = _parquet_file(path)  # in the pool: its reader allocates from the pool it had
        # the ids that may repeat, from a first pass over the id column: the index holds those
        screen = parquet_screen(path, getattr(policy, "base", policy).checked.record_id)
        if jobs > 1:
            decided = decided_in_workers(source, path, parquet.metadata, as_of, cases, engine,
                                         PARQUET_BATCH_ROWS, jobs)
        else:
            batches = stack.enter_context(Ahead(file_batches(parquet, PARQUET_BATCH_ROWS)))
            decided = _decided_here(policy, batches, as_of, cases, engine)
        progress = rows_progress_for(sys.stderr, parquet.metadata.num_rows, out)
        counts = _parquet_batches(policy, decided, out, rejects, cases, screen, progress)
    check_unchanged(screen, path)
    return counts


def _decided_here(policy: Any, batches: Iterator[Any], as_of: Any,
                  cases: dict[str, list[Any]] | None, engine: str
                  ) -> Iterator[tuple[int, Any, Any]]:
    """(rows, decisions, rejects) of each batch decided in this process; nothing of a batch
    is held here once it is handed on (the writer holds its decisions until they are
    written)."""
    from fangpin_rules.columnar.parquet import decide_parquet_batch

    for batch in batches:
        result = decide_parquet_batch(policy, batch, as_of, cases, engine)
        handed = (batch.num_rows, result.decisions, result.rejects)
        del batch, result
        yield handed
        del handed


def _parquet_batches(policy: Any, decided: Iterator[tuple[int, Any, Any]], out: Any,
                     rejects: Any, cases: dict[str, list[Any]] | None,
                     screen: IdScreen | None = None, progress: Progress | None = None
                     ) -> tuple[int, int, int, int]:
    """Each decided batch ((rows, decisions, rejects), in the file's order) written: one
    decision per household id across the file (holding the ids `screen` says may repeat, or
    all), the rejects with their row in it, the counts (read, decided, rejected, cases
    used); `progress`, the line counting the rows (cleared before rejects written to it)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from fangpin_rules.columnar import output_schema
    from fangpin_rules.columnar.cases import cases_used
    from fangpin_rules.engine.serialize import dumps
    from fangpin_rules.engine.stream import repeated_id

    pool = pa.default_memory_pool()
    read = written = rejected = used = 0

    def reject(text: str) -> None:
        if progress is not None:
            progress.clear_for(rejects)
        rejects.write(text)

    base = getattr(policy, "base", policy)  # a region table decides with its policy's types
    # each id decided, with its row: one decision per household
    schema = output_schema(base)
    with IdIndex(screen=screen) as index, pq.ParquetWriter(
            out.buffer, schema, write_statistics=statistics_columns(schema)) as parquet, \
            Beside(parquet.write_table) as writer:
        for batch_rows, table, batch_rejects in decided:
            rows = _decided_rows(batch_rows, batch_rejects)
            ids = pl.from_arrow(table.column("household_id"))
            assert isinstance(ids, pl.Series)
            first = index.first_rows(ids, pl.Series(rows, dtype=pl.Int64) + read)
            duplicate = first.is_not_null()
            if duplicate.any():  # one decision per household in a run, as the record engine
                for i in duplicate.arg_true().to_list():
                    reject(dumps(repeated_id(read + rows[i], ids[i], "household_id",
                                             first[i], "row").to_json("row")) + "\n")
                table = table.filter((~duplicate).to_arrow())
                rejected += int(duplicate.sum())
            writer(table)
            if cases:
                used += cases_used(cases, table.column("household_id").to_pylist())
            for rejection in batch_rejects.to_pylist():
                rejection["row"] += read
                reject(dumps(rejection) + "\n")
            read += batch_rows
            if progress is not None:
                progress.update(batch_rows)
            written += table.num_rows
            rejected += batch_rejects.num_rows
            del table, batch_rejects
            pool.release_unused()  # the batch's buffers go back to the system, not kept
    if progress is not None:
        progress.finish()
    return read, written, rejected, used


class Ahead:
    """The items of an iterator made in a thread of their own, up to `depth` ahead of the one
    taking them: a Parquet run's next batch is read (Arrow's reader lets the interpreter go
    meanwhile) while this one is decided. An exception of the iterator is raised where the
    item it failed to make is taken; leaving the `with` early stops the thread."""

    def __init__(self, items: Iterator[Any], depth: int = PIPELINE_DEPTH) -> None:
        self._queue: queue.Queue[tuple[str, Any]] = queue.Queue(depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(items,), daemon=True,
                                        name="fangpin-read-ahead")

    def _run(self, items: Iterator[Any]) -> None:
        try:
            for item in items:
                if not self._put(("item", item)):
                    return
        except BaseException as exc:  # raised again in the taker's thread
            self._put(("error", exc))
            return
        self._put(("end", None))

    def _put(self, entry: tuple[str, Any]) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(entry, timeout=_POLL_SECONDS)
                return True
            except queue.Full:
                continue
        return False

    def __enter__(self) -> Iterator[Any]:
        self._thread.start()
        return self._taken()

    def _taken(self) -> Iterator[Any]:
        while True:
            kind, value = self._queue.get()
            if kind == "end":
                return
            if kind == "error":
                raise value
            yield value

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


class Beside:
    """`write` called in a thread of its own for each item given, in order, at most `depth`
    items behind: a Parquet run's batch is encoded and written (Arrow lets the interpreter go
    meanwhile) while the next is decided. A failed write is raised at the next item given or
    when the `with` ends; leaving it on an exception drops what was not written yet (the
    run's outputs are not kept then)."""

    def __init__(self, write: Any, depth: int = PIPELINE_DEPTH) -> None:
        self._write = write
        self._queue: queue.Queue[tuple[bool, Any]] = queue.Queue(depth)
        self._failed: BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True, name="fangpin-write")

    def _run(self) -> None:
        while True:
            more, item = self._queue.get()
            if not more:
                return
            if self._failed is None:
                try:
                    self._write(item)
                except BaseException as exc:  # raised again in the giver's thread
                    self._failed = exc

    def __call__(self, item: Any) -> None:
        if self._failed is not None:
            raise self._failed
        self._queue.put((True, item))

    def __enter__(self) -> Beside:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, *exc: object) -> None:
        if kind is not None:  # nothing more is written: the run failed
            self._failed = self._failed or RuntimeError("the run ended")
        self._queue.put((False, None))
        self._thread.join()
        if kind is None and self._failed is not None:
            raise self._failed



def statistics_columns(schema: Any) -> list[str]:
    """The Parquet columns (leaf paths) written with statistics: those outside lists. A
    list's statistics (the least and greatest of all its rows' items) let no reader skip a
    row group, and writing them cost 8 % of the writing (0.32 against 0.30 CPU-s for 262,144
    decisions, best of 5)."""
    import pyarrow as pa

    def leaves(prefix: str, kind: Any) -> list[str]:
        if pa.types.is_struct(kind):
            return [path for field in kind for path in leaves(f"{prefix}.{field.name}",
                                                             field.type)]
        return [] if pa.types.is_list(kind) or pa.types.is_large_list(kind) else [prefix]

    return [path for field in schema for path in leaves(field.name, field.type)]


def _decided_rows(n: int, rejects: Any) -> list[int]:
    """The batch's row of each decision (the rows not rejected, in order)."""
    gone = set(rejects.column("row").to_pylist())
    return [row for row in range(n) if row not in gone] if gone else list(range(n))
