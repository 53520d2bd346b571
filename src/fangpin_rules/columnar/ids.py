"""One decision per household id in a columnar run: the index of the ids decided (`IdIndex`,
16 bytes an id) and, for a file that can be read twice, the screen of the ids that may repeat
in it (`repeated_id_keys`, from a first pass over its ids: `engine.repeats`), so that the index
holds only those and memory stays flat however many households the file has."""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import polars as pl

from fangpin_rules.columnar.arrow import holds_texts
from fangpin_rules.engine.repeats import (
    BUCKET_BITS,
    ID_SPACES,
    FileStamp,
    KeySpill,
    RepeatScreen,
    Unscreened,
    item_ids,
    screen_of,
)

INDEX_RUN_ROWS = 1 << 21  # the most ids in one sorted run of the id index (32 MiB)
PARQUET_ID_ROWS = 1 << 20  # ids read at a time in a Parquet file's first pass
_PYTHON_IDS = 1 << 16  # of those, made Python texts at a time (a million: some 70 MB)


def screen_key(ids: pl.Series) -> pl.Series:
    """Each id's hash in both passes: of its text stripped of `ID_SPACES` (a row is decided
    with its id stripped, or as given: either way it hashes as its raw text did)."""
    return _id_hash(ids.cast(pl.String).str.strip_chars(ID_SPACES))


def repeated_id_keys(batches: Iterable[pl.Series]) -> pl.Series:
    """The `screen_key`s given more than once among the ids of `batches` (null ids left out),
    sorted: the ids found here are the only ones a run must hold. The hashes go through a
    `KeySpill` (memory bounded), each batch sorted and cut at its buckets' bounds."""
    shift = 64 - BUCKET_BITS
    with KeySpill() as spill:
        for ids in batches:
            keys = screen_key(ids.drop_nulls()).sort()
            if keys.len() == 0:
                continue
            values = keys.rechunk().to_arrow()
            data = memoryview(values.buffers()[1]).cast("B")[values.offset * 8:]
            buckets = (keys // (1 << shift)).cast(pl.UInt64)
            bounds = buckets.search_sorted(
                pl.Series(range((1 << BUCKET_BITS) + 1), dtype=pl.UInt64)).to_list()
            for bucket in buckets.unique().to_list():
                spill.add(bucket, data[bounds[bucket] * 8:bounds[bucket + 1] * 8])
        repeated = [_repeats(bucket) for bucket in spill.buckets()]
    return pl.concat(repeated).sort() if repeated else pl.Series([], dtype=pl.UInt64)


def _repeats(bucket: bytes) -> pl.Series:
    import pyarrow as pa
    keys = pl.from_arrow(pa.Array.from_buffers(pa.uint64(), len(bucket) // 8,
                                               [None, pa.py_buffer(bucket)]))
    assert isinstance(keys, pl.Series)
    keys = keys.sort()
    n = keys.len()
    if n < 2:
        return keys.clear()
    later = keys.slice(1)
    return later.filter(later == keys.slice(0, n - 1)).unique()


def text_series(texts: Sequence[str | None]) -> pl.Series:
    """Ids as a Polars string Series. A text Polars cannot hold (a lone surrogate, from a JSON
    escape such as \\ud800) is written with backslash escapes instead: the same text always
    gives the same one, so a repeat is still found (no reader here takes such an id: its
    record is rejected)."""
    try:
        return pl.Series(texts, dtype=pl.String)
    except UnicodeEncodeError:
        return pl.Series([text if text is None or _encodable(text) else
                          text.encode("utf-8", "backslashreplace").decode("utf-8")
                          for text in texts], dtype=pl.String)


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class IdScreen:
    """The screen of one input (`repeated_id_keys`): the keys of the ids that may repeat, and
    what says the file is the one read (`FileStamp`)."""

    def __init__(self, keys: pl.Series, stamp: FileStamp | None = None) -> None:
        self.keys = keys
        self.stamp = stamp

    def may_repeat(self, ids: pl.Series) -> pl.Series:
        """For each id (a text), whether another row of the input may have it."""
        if self.keys.len() == 0:
            return pl.repeat(False, ids.len(), dtype=pl.Boolean, eager=True)
        return screen_key(ids).is_in(self.keys.implode()) & ids.is_not_null()


def parquet_screen(path: str, id_field: str | None) -> IdScreen | None:
    """The screen of a Parquet file's ids (its id column read alone), or None when its id
    column is not text or the name is given to two columns (every id is held then)."""
    stamp = FileStamp.of(path)
    columns = _id_columns(path, id_field)
    if columns is None:
        return None

    def batches() -> Iterable[pl.Series]:
        for column in columns:
            ids = pl.from_arrow(column)
            assert isinstance(ids, pl.Series)
            yield ids

    return IdScreen(repeated_id_keys(batches()), stamp)


def parquet_repeat_screen(path: str, id_field: str | None) -> RepeatScreen | None:
    """`parquet_screen` for the record path (`engine.stream.OneDecisionPerId`, Python's hash
    of each id): the screen of the households a Parquet file gives as `NumberedRecords`."""
    stamp = FileStamp.of(path)
    columns = _id_columns(path, id_field)
    if columns is None:
        return None
    return screen_of((column.slice(start, _PYTHON_IDS).to_pylist() for column in columns
                      for start in range(0, len(column), _PYTHON_IDS)), stamp)


def _id_columns(path: str, id_field: str | None) -> Iterator[Any] | None:
    """The id column of a Parquet file, read alone in pieces (Arrow arrays; none when the
    file has no such column), or None when there is no text column of that name to read."""
    import pyarrow.parquet as pq

    if id_field is None:
        return None
    parquet = pq.ParquetFile(path)
    schema = parquet.schema_arrow
    named = schema.get_all_field_indices(id_field)
    if not named:
        return iter(())  # no row has an id
    if len(named) > 1:  # which column a reader takes is not for this pass to guess
        return None
    if not holds_texts(schema.field(named[0]).type):
        return None
    return (batch.column(0) for batch in
            parquet.iter_batches(batch_size=PARQUET_ID_ROWS, columns=[id_field]))


def jsonl_screen(items: Iterable[tuple[int, Any]], id_field: str | None,
                 stamp: FileStamp | None = None) -> IdScreen | None:
    """The screen of a JSON-lines input's numbered items, or None when there is none to make
    (no id field, an id that is not a text)."""
    if id_field is None:
        return None
    try:
        keys = repeated_id_keys(text_series(batch) for batch in item_ids(items, id_field))
    except Unscreened:
        return None
    return IdScreen(keys, stamp)


class IdIndex:
    """The household ids decided in a run, with the row of each, in 16 bytes an id: sorted runs
    of (a 64-bit hash of the id, its row) in Polars frames, each searched with `search_sorted`
    (two runs of about one size are merged, so there are few, up to `max_run` ids a run, so a
    merge's copies stay bounded: about a dozen runs for 10,000,000 households). The ids
    themselves are spilled to a temporary file, one Arrow IPC blob per batch: a batch id whose
    hash is in the index is compared with the ids kept for that hash, read back from the file,
    so a hash collision never makes a duplicate and a duplicate is never missed."""

    def __init__(self, key: Any = None, max_run: int = INDEX_RUN_ROWS,
                 screen: IdScreen | None = None) -> None:
        self.key = key or _id_hash  # the hash (a parameter so that tests can make collisions)
        self.screen = screen  # when given, only the ids it says may repeat are held
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
        ids are noted (under a screen, only those it says may repeat: another is the only row
        of its id in the input)."""
        if self.screen is None:
            return self._first_rows(ids, rows)
        ids = ids.cast(pl.String)
        found = pl.repeat(None, len(ids), dtype=pl.Int64, eager=True).alias("first")
        held = self.screen.may_repeat(ids)
        if not held.any():
            return found
        at = held.arg_true()
        return found.scatter(at, self._first_rows(ids.gather(at), rows.gather(at)))

    def _first_rows(self, ids: pl.Series, rows: pl.Series) -> pl.Series:
        """`first_rows` of every id given. The batch's hashes are searched in key order
        (sorted keys make the binary searches of a run walk nearby memory: about three times
        fewer CPU-seconds than in row order), each found by one search and a comparison."""
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

    def __init__(self, id_field: str | None, screen: IdScreen | None = None) -> None:
        self.id_field = id_field
        self.index = IdIndex(screen=screen)

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
        ids = text_series([None if i is None else str(i) for i, _ in result.decided_ids])
        first = self.index.first_rows(ids, pl.Series([line for _, line in result.decided_ids],
                                                     dtype=pl.Int64))
        firsts = first.to_list()
        return without_repeats(result, {
            i: repeated_id(result.decided_ids[i][1], result.decided_ids[i][0], self.id_field,
                           firsts[i]) for i in first.is_not_null().arg_true().to_list()})


def _id_hash(ids: pl.Series) -> pl.Series:
    return ids.hash(seed=0x66616E67)
