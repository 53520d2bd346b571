"""The columnar runs' first pass over a file's ids (columnar/ids.py): the hashes given twice,
found through a bounded spill; the id index holding only those ids and naming the same first
rows; and a Parquet run so screened writing what it writes holding every id."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fangpin_rules import Policy
from fangpin_rules.cli.main import main
from fangpin_rules.columnar import records_to_arrow
from fangpin_rules.columnar.ids import (
    IdIndex,
    IdScreen,
    parquet_screen,
    repeated_id_keys,
    screen_key,
)
from fangpin_rules.engine.repeats import ID_SPACES

from support import FUJIAN, benchmark_module

pl = pytest.importorskip("polars")

SPACED_IDS = st.lists(st.lists(st.one_of(
    st.none(), st.builds(lambda a, i, b: a + i + b, st.sampled_from(["", " ", "\u3000", "\x1c"]),
                         st.sampled_from([f"H{k}" for k in range(12)]),
                         st.sampled_from(["", "\t", "\xa0"]))), max_size=30), max_size=8)


@settings(max_examples=50, deadline=None)
@given(SPACED_IDS, st.integers(1, 50))
def test_the_repeated_keys_are_those_of_ids_given_twice(batches: list[list[str | None]],
                                                        memory: int) -> None:
    """As a count of the stripped ids says, whether the spill's memory filled or not; null
    ids are no one's."""
    counts = Counter(i.strip(ID_SPACES) for batch in batches for i in batch if i is not None)
    expected = sorted(screen_key(pl.Series([i for i, n in counts.items() if n > 1],
                                           dtype=pl.String)).to_list())
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("fangpin_rules.engine.repeats.MEMORY_KEYS", memory)
        got = repeated_id_keys(pl.Series(batch, dtype=pl.String) for batch in batches)
    assert got.to_list() == expected


def _colliding(ids: Any) -> Any:
    return ids.str.len_bytes().cast(pl.UInt64)


@pytest.mark.parametrize("key", [None, _colliding], ids=["hash", "colliding"])
@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.sampled_from([f"H{k}" for k in range(30)]), max_size=25),
                max_size=10))
def test_the_screened_index_names_the_same_first_rows(key: Any,
                                                      batches: list[list[str]]) -> None:
    """The index under the input's screen gives every batch the rows the index of every id
    gives, and holds only the ids that repeat."""
    screen = IdScreen(repeated_id_keys(pl.Series(b, dtype=pl.String) for b in batches))
    counts = Counter(i for batch in batches for i in batch)
    row = 0
    with IdIndex(key) as every, IdIndex(key, screen=screen) as screened:
        for batch in batches:
            ids = pl.Series(batch, dtype=pl.String)
            rows = pl.Series(range(row, row + len(batch)), dtype=pl.Int64)
            assert screened.first_rows(ids, rows).to_list() == \
                every.first_rows(ids, rows).to_list()
            row += len(batch) + 2
        assert sum(run.height for run in screened.runs) == \
            sum(1 for n in counts.values() if n > 1)


def test_a_parquet_files_screen_reads_its_id_column(tmp_path: Path) -> None:
    """Strings plain or dictionary-encoded are screened; a file with no id column has no
    repeats; an id column of numbers, or two columns of the name, make no screen (every id is
    held)."""
    plain = tmp_path / "plain.parquet"
    pq.write_table(pa.table({"household_id": ["A", " A", "B", None, None], "n": range(5)}), plain)
    screen = parquet_screen(str(plain), "household_id")
    assert screen is not None
    assert screen.may_repeat(pl.Series(["A", "B", None])).to_list() == [True, False, False]
    encoded = tmp_path / "encoded.parquet"
    pq.write_table(pa.table({"household_id": pa.array(["C", "D", "C"]).dictionary_encode()}),
                   encoded)
    screen = parquet_screen(str(encoded), "household_id")
    assert screen is not None and screen.may_repeat(pl.Series(["C", "D"])).to_list() == \
        [True, False]
    none = tmp_path / "none.parquet"
    pq.write_table(pa.table({"n": [1, 2]}), none)
    screen = parquet_screen(str(none), "household_id")
    assert screen is not None and not screen.may_repeat(pl.Series(["A"])).any()
    numbers = tmp_path / "numbers.parquet"
    pq.write_table(pa.table({"household_id": [1, 1]}), numbers)
    assert parquet_screen(str(numbers), "household_id") is None
    twice = tmp_path / "twice.parquet"
    pq.write_table(pa.Table.from_arrays([pa.array(["A"]), pa.array(["A"])],
                                        names=["household_id", "household_id"]), twice)
    assert parquet_screen(str(twice), "household_id") is None
    assert parquet_screen(str(plain), None) is None


def test_a_screened_parquet_run_writes_what_holding_every_id_writes(
        tmp_path: Path, fujian: Policy, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Boundary households with ids repeated within a batch, across batches, spaced (read by
    the per-row reader, which strips them) and on a rejected row: the same decisions, rejects
    and counts as the run with no screen."""
    monkeypatch.setattr("fangpin_rules.cli.columnar_eval.PARQUET_BATCH_ROWS", 100)
    households = list(benchmark_module("boundary_households").boundary_households(400, 6))
    schema = records_to_arrow(fujian, households[:1]).schema
    rows = records_to_arrow(fujian, households).to_pylist()
    for at, copy in ((30, 10), (150, 10), (151, 150), (260, 20), (399, 5)):
        rows[at] = dict(rows[copy])
    rows[300] = dict(rows[40], household_id=" " + rows[40]["household_id"])
    rows[41]["net_income"] = Decimal("-2000000000000")  # rejected: its id is free ...
    rows[350] = dict(rows[42], household_id=rows[41]["household_id"])  # ... decided here
    table = pa.Table.from_pylist(rows, schema=schema)
    source = tmp_path / "in.parquet"
    pq.write_table(table, source)
    runs = {}
    for way in ("screened", "every id"):
        if way == "every id":
            monkeypatch.setattr("fangpin_rules.cli.columnar_eval.parquet_screen",
                                lambda *_: None)
        out, rejects = tmp_path / f"{way}.parquet", tmp_path / f"{way}.rejects"
        code = main(["eval", str(FUJIAN), str(source), "--as-of", "2021-09-01", "--engine",
                     "columnar", "-o", str(out), "--rejects", str(rejects)])
        runs[way] = (code, pq.read_table(out).to_pylist(), rejects.read_bytes(),
                     capsys.readouterr().err.splitlines()[-1].split(" (see")[0])
    assert runs["screened"] == runs["every id"]
    assert runs["screened"][2].count(b"the id is given to another record already") == 6
