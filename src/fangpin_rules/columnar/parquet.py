"""A Parquet file's batches: read a few row groups at a time, each decided in this process or
in worker processes (`fangpin eval FILE.parquet --jobs N`), the results in the file's order.

A worker reads its own run of row groups from the file (only the path and the groups' numbers
cross to it) and writes the decided batches to an Arrow IPC file in a private temporary folder,
which the parent maps into memory rather than receive through a pipe: measured at 10,000,000
households on 2 cores, tables pickled through the pipe cost 13.8 system CPU-seconds against
the one-process run's 5.1. Each batch is decided with the
function a one-process run uses (`decide_parquet_batch`), so the decisions are the same bytes
whatever the number of workers. What needs the whole file (one decision per household id, the
counts, writing the output) stays in the parent. Workers are spawned, not forked: a fork
copies Polars' and Arrow's thread pools in whatever state they are, which can hang the child.
Each worker's pools get the cores divided among the workers (unless POLARS_MAX_THREADS is set).

Polars and pyarrow are imported in a worker only when it starts, after its thread counts are
set; this module imports neither at load.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections import deque
from collections.abc import Iterator, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import date
from typing import Any

from fangpin_rules.engine.parallel import PolicyChanged, PolicySource, WorkerFailed, usable_cores
from fangpin_rules.engine.policy import Policy
from fangpin_rules.engine.regions import RegionalPolicy
from fangpin_rules.engine.stream import NumberedRecords

POOL_DECAY_MS = 1_000  # how long Arrow's jemalloc keeps freed pages in a Parquet run
BATCH_ROWS = 65_536  # rows read (and decided) at a time from a Parquet file
RECORD_ROWS = 2_048  # rows of a batch made Python values at a time (parquet_households)


def parquet_households(policy: Policy | RegionalPolicy, path: str, rows: int = BATCH_ROWS
                       ) -> NumberedRecords:
    """The households of the Parquet file at `path`, numbered by row (0-based), each the
    record the record path reads (`row_record`: the typed reader's, or the model's for a lax
    form) or the RecordError rejecting its row: what the county reports and `diff --impact`
    take where they take a JSON-lines stream (`MonthFile(month, name, parquet_households(
    policy, path))`). A few thousand rows are Python values at a time. The file is opened
    here: one that is not Parquet raises OSError or ValueError (pyarrow's) before any row."""
    import pyarrow.parquet as pq

    from fangpin_rules.columnar.arrow import row_record
    from fangpin_rules.engine.records import RecordError
    from fangpin_rules.engine.regions import base_of
    from fangpin_rules.engine.typed_json import typed_reader

    base = base_of(policy)
    reader = typed_reader(base.checked.record_model)
    source = pq.ParquetFile(path)

    def numbered() -> Iterator[tuple[int, Any]]:
        row = 0
        for batch in file_batches(source, rows):
            for start in range(0, batch.num_rows, RECORD_ROWS):
                for data in batch.slice(start, RECORD_ROWS).to_pylist():
                    try:
                        yield row, row_record(base, reader, data)
                    except RecordError as exc:
                        yield row, exc
                    row += 1

    return NumberedRecords(numbered())


def row_group_runs(metadata: Any, rows: int) -> Iterator[tuple[int, list[int]]]:
    """(first row, row groups) of each run of row groups holding at least `rows` rows (or the
    last ones), in the file's order: what is read at a time."""
    group: list[int] = []
    held = first = 0
    for index in range(metadata.num_row_groups):
        group.append(index)
        held += metadata.row_group(index).num_rows
        if held >= rows or index == metadata.num_row_groups - 1:
            yield first, group
            first, group, held = first + held, [], 0


def file_batches(source: Any, rows: int) -> Iterator[Any]:
    """The batches of a Parquet file (`pq.ParquetFile`), of `rows` rows at most, read a few row
    groups at a time (at least `rows` rows, or the last ones): measured, one reader over the
    whole file kept about 40 bytes a row read on Arrow's C++ default pool (mimalloc, which
    `pa.set_memory_pool` does not replace) until its end, 120 MiB at 3,000,000 households; a
    reader of a few row groups gives them back when it is done."""
    for _, groups in row_group_runs(source.metadata, rows):
        yield from source.iter_batches(batch_size=rows, row_groups=groups)


@contextlib.contextmanager
def flat_pool() -> Iterator[None]:
    """Arrow's jemalloc pool, freed pages returned after a second (`POOL_DECAY_MS`), for a
    Parquet run: measured (docs/performance.md), the default mimalloc pool's allocated bytes
    and the process's RSS grew with the batches, jemalloc's stayed flat. Pages returned at once
    (decay 0) were faulted in again by the next batch: half the run's system time (0.8 against
    0.45 CPU-s at 1,000,000 households) for 10 to 30 MiB less at the peak. Where Arrow was
    built without jemalloc the default pool stays; the previous pool is restored afterwards."""
    import pyarrow as pa

    before = pa.default_memory_pool()
    pool = _jemalloc_pool() or before
    pa.set_memory_pool(pool)
    try:
        yield
    finally:
        pool.release_unused()
        pa.set_memory_pool(before)


def _jemalloc_pool() -> Any:
    """Arrow's jemalloc pool with its decay set to `POOL_DECAY_MS`, or None where Arrow was
    built without it."""
    import pyarrow as pa

    try:
        pool = pa.jemalloc_memory_pool()
        pa.jemalloc_set_decay_ms(POOL_DECAY_MS)
    except (NotImplementedError, pa.ArrowNotImplementedError):
        return None
    return pool


def decide_parquet_batch(policy: Policy | RegionalPolicy, batch: Any, as_of: date,
                         cases: Mapping[str, list[Any]] | None, engine: str) -> Any:
    """A batch of a Parquet file decided (`BatchResult`): in columns, or row by row
    (`engine="record"`), with the cases of its households (checked already)."""
    from fangpin_rules.columnar import decide_batch
    from fangpin_rules.columnar.cases import CaseTable
    from fangpin_rules.columnar.engine import decide_columns
    from fangpin_rules.engine.regions import base_of

    id_field = base_of(policy).checked.record_id
    # the cases of the batch's households (a cases file is held whole, as the record engine
    # holds it)
    batch_cases = CaseTable.of_checked(cases, batch.column(id_field).to_pylist()) \
        if cases and id_field else None
    if engine == "columnar":
        return decide_columns(policy, batch, as_of, cases=batch_cases)
    return decide_batch(policy, batch, as_of, engine=engine,
                        cases=batch_cases.by_household if batch_cases else None)


@dataclass
class _Worker:
    policy: Policy | RegionalPolicy
    file: Any  # pq.ParquetFile
    as_of: date
    cases: Mapping[str, list[Any]] | None
    engine: str
    rows: int
    folder: str  # where the decided runs are written for the parent


_worker: _Worker | None = None
_start_error: str | None = None


def _start(source: PolicySource, path: str, as_of: date, cases: Mapping[str, list[Any]] | None,
           engine: str, rows: int, threads: int, folder: str) -> None:
    global _worker, _start_error
    # The parent answers Ctrl-C and SIGTERM for the run (and ends the workers).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.environ.setdefault("POLARS_MAX_THREADS", str(threads))  # before Polars is imported
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq

        pa.set_cpu_count(threads)
        pool = _jemalloc_pool()  # as `flat_pool`, for the worker's life
        if pool is not None:
            pa.set_memory_pool(pool)
        import fangpin_rules.columnar.engine  # noqa: F401  (Polars, with its thread count)
        from fangpin_rules.engine.records import checked_case

        checked = None if cases is None else {  # read again as the parent read them
            household: [checked_case(case) for case in own] for household, own in cases.items()}
        _worker = _Worker(source.load(), pq.ParquetFile(path), as_of, checked, engine, rows,
                          folder)
    except Exception as exc:  # kept, as text, for the first task to report in the parent
        _start_error = f"{type(exc).__name__}: {exc}" if isinstance(exc, PolicyChanged) \
            else f"the worker could not start ({type(exc).__name__})"


# the decisions' IPC file, and each batch's rows, rejects and record batches in the file
_Run = tuple[str, list[tuple[int, Any, int]]]


def _decide_groups(first: int, groups: list[int]) -> _Run | str:
    """The row groups `groups` (from the row `first`) decided: the Arrow IPC file holding the
    decisions of their batches, and each batch's rows, rejects and record batches in it; or
    the reason there are none (text: an exception object might not survive the way back)."""
    if _worker is None:
        return _start_error or "the worker was not started"
    import pyarrow as pa

    from fangpin_rules.columnar import output_schema
    from fangpin_rules.engine.regions import base_of

    path = os.path.join(_worker.folder, f"{first}.arrow")
    try:
        batches = []
        with pa.ipc.new_file(path, output_schema(base_of(_worker.policy))) as decided:
            for batch in _worker.file.iter_batches(batch_size=_worker.rows, row_groups=groups):
                result = decide_parquet_batch(_worker.policy, batch, _worker.as_of,
                                              _worker.cases, _worker.engine)
                parts = result.decisions.to_batches()
                for part in parts:
                    decided.write_batch(part)
                batches.append((batch.num_rows, result.rejects, len(parts)))
        return path, batches
    except Exception as exc:
        return f"the rows could not be decided ({type(exc).__name__})"
    finally:
        pa.default_memory_pool().release_unused()


def decided_in_workers(source: PolicySource, path: str, metadata: Any, as_of: date,
                       cases: Mapping[str, list[Any]] | None, engine: str, rows: int,
                       jobs: int) -> Iterator[tuple[int, Any, Any]]:
    """(rows, decisions, rejects) of each batch of the Parquet file at `path`, in the file's
    order, decided in `jobs` spawned workers (each loads `source`, and gets `cases` once).
    At most `jobs + 1` runs of row groups are in flight, so memory stays bounded. Raises
    WorkerFailed when a worker dies or a run fails."""
    import multiprocessing
    import shutil
    import tempfile

    if not source.rereadable():
        raise WorkerFailed(f"the policy '{source.path}' cannot be read again by worker "
                           "processes here (a pipe or stdin); give it as a file, or use "
                           "--jobs 1")
    threads = max(1, usable_cores() // jobs)
    # the cases as plain values: the typed reader's classes are made at run time, and a
    # spawned worker cannot unpickle them
    from fangpin_rules.columnar.arrow import _builtins

    portable = None if cases is None else {
        household: [_builtins(case) for case in own] for household, own in cases.items()}
    folder = tempfile.mkdtemp(prefix="fangpin-decided-")  # private (0700), removed at the end
    executor = ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_start, initargs=(source, path, as_of, portable,
                                                                 engine, rows, threads, folder))
    pending: deque[tuple[int, Future[_Run | str]]] = deque()
    finished = False
    try:
        for first, groups in row_group_runs(metadata, rows):
            try:
                pending.append((first, executor.submit(_decide_groups, first, groups)))
            except BrokenProcessPool:  # a worker died between two runs
                raise WorkerFailed(f"a worker process died before the rows from {first} "
                                   "(killed, or out of memory)") from None
            if len(pending) > jobs:
                yield from _taken(*pending.popleft())
        while pending:
            yield from _taken(*pending.popleft())
        finished = True
    finally:
        # On a failure or an interruption the runs not started are dropped, not decided.
        executor.shutdown(wait=True, cancel_futures=not finished)
        shutil.rmtree(folder, ignore_errors=True)


def _taken(first: int, future: Future[_Run | str]) -> Iterator[tuple[int, Any, Any]]:
    import pyarrow as pa

    try:
        result = future.result()
    except BrokenProcessPool:
        raise WorkerFailed(f"a worker process died while deciding the rows from {first} "
                           "(killed, or out of memory)") from None
    if isinstance(result, str):
        raise WorkerFailed(f"the rows from {first}: {result}")
    path, batches = result
    # mapped, not read: the pages are the file's; removing the name keeps them while mapped
    decided = pa.ipc.open_file(pa.memory_map(path))
    os.unlink(path)
    index = 0
    for rows, rejects, parts in batches:
        yield rows, pa.Table.from_batches(
            [decided.get_batch(i) for i in range(index, index + parts)], decided.schema), rejects
        index += parts
