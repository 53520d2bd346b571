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
import tempfile
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
    is_parquet,
    open_input,
    policy_files,
    report_policy_error,
    warn_carried_forward,
    worker_count,
)
from fangpin_rules.cli.outputs import Outputs, check_collisions
from fangpin_rules.columnar.parquet import BATCH_ROWS, file_batches, flat_pool

PARQUET_BATCH_ROWS = BATCH_ROWS  # rows decided at a time from a Parquet file
INDEX_RUN_ROWS = 1 << 21  # the most ids in one sorted run of the id index (32 MiB)
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
    if args.jobs != 1 and not parquet_in:
        raise UsageError("--engine columnar takes --jobs for a Parquet file only: for JSON "
                         "lines use --engine record")
    jobs = worker_count(args.jobs, "eval") if parquet_in else 1
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
        if parquet_in:
            from fangpin_rules.engine.parallel import PolicySource
            read, decided, rejected, used = _parquet(
                policy, args.records, out, rejects, as_of, cases, args.engine, jobs,
                PolicySource.of(policy, args.policy_path))
        else:
            read, decided, rejected, used = _jsonl(
                policy, ColumnarChunkDecider(policy, as_of, cases), args.records, out, rejects)
    case_note = "" if cases is None else \
        f"; cases: read {case_read}, used {used}, rejected {case_rejected}"
    print(f"read {read}, decided {decided}, rejected {rejected}{case_note}"
          + (f" (see {args.rejects})" if rejected and args.rejects else ""), file=sys.stderr)
    return EXIT_REJECTED if rejected or (cases is not None and case_rejected) else EXIT_OK


def _jsonl(policy: Any, decider: Any, path: str, out: Any, rejects: Any
           ) -> tuple[int, int, int, int]:
    from fangpin_rules.engine.stream import COLUMNAR_CHUNK, chunks, numbered_items

    read = decided = rejected = used = 0
    binary = getattr(out, "buffer", None)
    with open_input(path) as source, \
            IndexedIds(decider.policy.checked.record_id) as unique:
        for chunk in chunks(numbered_items(source), COLUMNAR_CHUNK):
            result = unique.filter(decider.decide(chunk))
            if binary is not None:
                out.flush()
                binary.write(result.decisions)
            else:
                out.write(result.decisions.decode("utf-8"))
            rejects.write(result.rejects)
            read, decided, rejected = (read + result.read, decided + result.decided,
                                       rejected + result.rejected)
            used += result.cases_used
    return read, decided, rejected, used


def _parquet_file(path: str) -> Any:
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(path)
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read the Parquet file '{path}': {exc}") from None


def _parquet(policy: Any, path: str, out: Any, rejects: Any, as_of: Any,
             cases: dict[str, list[Any]] | None, engine: str = "columnar", jobs: int = 1,
             source: Any = None) -> tuple[int, int, int, int]:
    """The run of a Parquet file: its batches decided here, read one ahead (`Ahead`), or in
    `jobs` worker processes loading the policy from `source` (a PolicySource)."""
    from fangpin_rules.columnar.parquet import decided_in_workers

    with flat_pool(), contextlib.ExitStack() as stack:
        parquet = _parquet_file(path)  # in the pool: its reader allocates from the pool it had
        if jobs > 1:
            decided = decided_in_workers(source, path, parquet.metadata, as_of, cases, engine,
                                         PARQUET_BATCH_ROWS, jobs)
        else:
            batches = stack.enter_context(Ahead(file_batches(parquet, PARQUET_BATCH_ROWS)))
            decided = _decided_here(policy, batches, as_of, cases, engine)
        return _parquet_batches(policy, decided, out, rejects, cases)


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
                     rejects: Any, cases: dict[str, list[Any]] | None
                     ) -> tuple[int, int, int, int]:
    """Each decided batch ((rows, decisions, rejects), in the file's order) written: one
    decision per household id across the file, the rejects with their row in it, the counts
    (read, decided, rejected, cases used)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from fangpin_rules.columnar import output_schema
    from fangpin_rules.columnar.cases import cases_used
    from fangpin_rules.engine.serialize import dumps
    from fangpin_rules.engine.stream import repeated_id

    pool = pa.default_memory_pool()
    read = written = rejected = used = 0
    base = getattr(policy, "base", policy)  # a region table decides with its policy's types
    # each id decided, with its row: one decision per household
    schema = output_schema(base)
    with IdIndex() as index, pq.ParquetWriter(
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
                    rejects.write(dumps(repeated_id(read + rows[i], ids[i], "household_id",
                                                    first[i], "row").to_json("row")) + "\n")
                table = table.filter((~duplicate).to_arrow())
                rejected += int(duplicate.sum())
            writer(table)
            if cases:
                used += cases_used(cases, table.column("household_id").to_pylist())
            for rejection in batch_rejects.to_pylist():
                rejection["row"] += read
                rejects.write(dumps(rejection) + "\n")
            read += batch_rows
            written += table.num_rows
            rejected += batch_rejects.num_rows
            del table, batch_rejects
            pool.release_unused()  # the batch's buffers go back to the system, not kept
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


class IdIndex:
    """The household ids decided in a run, with the row of each, in 16 bytes an id: sorted runs
    of (a 64-bit hash of the id, its row) in Polars frames, each searched with `search_sorted`
    (two runs of about one size are merged, so there are few, up to `max_run` ids a run, so a
    merge's copies stay bounded: about a dozen runs for 10,000,000 households). The ids
    themselves are spilled to a temporary file, one Arrow IPC blob per batch: a batch id whose
    hash is in the index is compared with the ids kept for that hash, read back from the file,
    so a hash collision never makes a duplicate and a duplicate is never missed."""

    def __init__(self, key: Any = None, max_run: int = INDEX_RUN_ROWS) -> None:
        self.key = key or _id_hash  # the hash (a parameter so that tests can make collisions)
        self.max_run = max_run  # runs are merged up to this many ids: a merge copies two runs
        self.runs: list[pl.DataFrame] = []
        # removed when closed (close, or the end of a `with`)
        self.spill = tempfile.TemporaryFile(prefix="fangpin-ids-")  # noqa: SIM115
        self.blobs: list[tuple[int, int, int]] = []  # (first row, offset, length) in the spill
        self.end = 0

    def close(self) -> None:
        self.spill.close()

    def __enter__(self) -> IdIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def first_rows(self, ids: pl.Series, rows: pl.Series) -> pl.Series:
        """For each id of a batch (its rows `rows`, larger than any given before), the row of
        the id's first decision in the run, or null for an id not decided before; the batch's
        ids are noted. The batch's hashes are searched in key order (sorted keys make the
        binary searches of a run walk nearby memory: about three times fewer CPU-seconds than
        in row order), each found by one search and a comparison."""
        n = len(ids)
        found = pl.repeat(None, n, dtype=pl.Int64, eager=True).alias("first")
        if n == 0:
            return found
        ids = ids.cast(pl.String)
        known = ids.is_not_null()
        keys = self.key(ids)
        order = keys.arg_sort()
        sorted_keys = keys.gather(order)
        candidates: list[tuple[int, int]] = []  # (position in the batch, a row of its hash)
        for run in self.runs:
            column = run.get_column("key")
            low = column.search_sorted(sorted_keys, side="left")
            match = (low < column.len()) & (
                column.gather(low.clip(upper_bound=column.len() - 1)) == sorted_keys)
            hit = match.arg_true()
            if hit.len():
                row_of = run.get_column("row")
                for i, lo in zip(order.gather(hit).to_list(), low.gather(hit).to_list(),
                                 strict=True):
                    if known[i]:
                        candidates.extend((i, row) for row in row_of.slice(
                            lo, int(column.search_sorted(column[lo], side="right")) - lo
                        ).to_list())
        if candidates:
            found = self._verified(ids, candidates, found)
        if (sorted_keys.slice(1) == sorted_keys.slice(0, n - 1)).any():  # an id twice, maybe
            found = self._earliest_in_batch(ids, rows, known, found)
        fresh = (known & found.is_null()).gather(order)
        if fresh.any():
            self._keep(pl.DataFrame({"id": ids, "row": rows}).filter(known & found.is_null()))
            self.runs.append(pl.DataFrame({"key": sorted_keys, "row": rows.gather(order)})
                             .filter(fresh))
            while len(self.runs) > 1 and self.runs[-2].height <= 2 * self.runs[-1].height \
                    and self.runs[-2].height + self.runs[-1].height <= self.max_run:
                last = self.runs.pop()
                self.runs[-1] = self.runs[-1].merge_sorted(last, key="key")
        return found

    @staticmethod
    def _earliest_in_batch(ids: pl.Series, rows: pl.Series, known: pl.Series,
                           found: pl.Series) -> pl.Series:
        """`found` with each id given earlier in the same batch (and not decided before it)
        set to the row of its first there."""
        batch = pl.DataFrame({"id": ids, "row": rows, "first": found})
        within = batch.filter(known).with_columns(
            pl.col("row").first().over("id").alias("earliest"))
        earliest = batch.select("row").join(within.select("row", "earliest"), on="row",
                                            how="left", maintain_order="left")
        return pl.select(pl.when(pl.lit(found).is_null() & (
            pl.lit(earliest.get_column("earliest")) != pl.lit(rows))).then(
            pl.lit(earliest.get_column("earliest"))).otherwise(pl.lit(found))).to_series() \
            .alias("first")

    def _keep(self, fresh: pl.DataFrame) -> None:
        """Spill the batch's new ids with their rows (ascending) to the temporary file."""
        import pyarrow as pa
        import pyarrow.ipc
        sink = pa.BufferOutputStream()
        table = fresh.to_arrow()
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
        blob = sink.getvalue()
        self.spill.seek(self.end)
        self.spill.write(blob.to_pybytes())
        self.blobs.append((int(fresh.get_column("row").min()), self.end, blob.size))  # type: ignore[arg-type]
        self.end += blob.size

    def _verified(self, ids: pl.Series, candidates: list[tuple[int, int]], found: pl.Series
                  ) -> pl.Series:
        """`found` with each batch id whose hash matched set to the row of the kept id equal
        to it (each distinct id is kept once), read back from the spill."""
        import bisect

        import pyarrow as pa
        import pyarrow.ipc
        starts = [start for start, _, _ in self.blobs]
        wanted: dict[int, set[int]] = {}
        for _, row in candidates:
            wanted.setdefault(bisect.bisect_right(starts, row) - 1, set()).add(row)
        kept: dict[int, str] = {}
        for blob, needed in wanted.items():
            _, offset, length = self.blobs[blob]
            self.spill.seek(offset)
            table = pa.ipc.open_stream(self.spill.read(length)).read_all()
            for row, value in zip(table.column("row").to_pylist(),
                                  table.column("id").to_pylist(), strict=True):
                if row in needed:
                    kept[row] = value
        values = found.to_list()
        batch_ids = ids.to_list()
        for i, row in candidates:
            if kept.get(row) == batch_ids[i]:
                values[i] = row
        return pl.Series("first", values, dtype=pl.Int64)


class IndexedIds:
    """`engine.stream.OneDecisionPerId`'s filter of a JSON-lines run's chunks (the same
    rejections, in the same order and words), on an `IdIndex`: 16 bytes an id in memory where
    a dict of the ids held about 100, so a run of 10,000,000 households does not grow by a
    gigabyte. An id is compared as its text (a record's id is of one type in a run)."""

    def __init__(self, id_field: str | None) -> None:
        self.id_field = id_field
        self.index = IdIndex()

    def __enter__(self) -> IndexedIds:
        return self

    def __exit__(self, *exc: object) -> None:
        self.index.close()

    def filter(self, result: Any) -> Any:
        """The chunk's result (`ChunkResult`) with the decisions of ids decided before (in
        this chunk or an earlier one) moved to its rejects."""
        from fangpin_rules.engine.stream import repeated_id, without_repeats

        if not result.decided_ids:
            return result
        ids = pl.Series([None if i is None else str(i) for i, _ in result.decided_ids],
                        dtype=pl.String)
        first = self.index.first_rows(ids, pl.Series([line for _, line in result.decided_ids],
                                                     dtype=pl.Int64))
        firsts = first.to_list()
        return without_repeats(result, {
            i: repeated_id(result.decided_ids[i][1], result.decided_ids[i][0], self.id_field,
                           firsts[i]) for i in first.is_not_null().arg_true().to_list()})


def _id_hash(ids: pl.Series) -> pl.Series:
    return ids.hash(seed=0x66616E67)
