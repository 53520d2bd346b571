"""Output built in columns: the decimal text of a fraction equals the record path's one
division (compiler/polars_backend.py, fraction_text_column), carries and signs included; the
items a warning rule holds for are read from its flags per item (columnar/engine.py)."""

from __future__ import annotations

import decimal

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fangpin_rules.columnar.engine import _item_hits
from fangpin_rules.compiler.polars_backend import (
    WarningColumn,
    fraction_text_column,
    fraction_texts,
)
from fangpin_rules.engine.serialize import decimal_text
from fangpin_rules.limits import DECIMAL_CONTEXT

BIG = 10**30


def _both(nums: list[int | None], dens: list[int] | int) -> tuple[list[str | None], ...]:
    frame = pl.DataFrame({"n": pl.Series(nums, dtype=pl.Int128)})
    if not isinstance(dens, int):
        frame = frame.with_columns(pl.Series("d", dens, dtype=pl.Int128))
    with decimal.localcontext(DECIMAL_CONTEXT):
        expected = fraction_texts(nums, dens, decimal_text)
        got = fraction_text_column(frame, "n", dens if isinstance(dens, int) else "d",
                                   decimal_text).to_pylist()
    return expected, got


def _in_chunks(nums: list[int | None], dens: list[int], pieces: int
               ) -> tuple[list[str | None], ...]:
    """The record path's texts and the columns', of Int64 columns (money's type in the query)
    cut into `pieces` chunks."""
    step = -(-len(nums) // pieces)
    frame = pl.concat([pl.DataFrame({"n": pl.Series(nums[i:i + step], dtype=pl.Int64),
                                     "d": pl.Series(dens[i:i + step], dtype=pl.Int64)})
                       for i in range(0, len(nums), step)], rechunk=False)
    with decimal.localcontext(DECIMAL_CONTEXT):
        expected = fraction_texts(nums, dens, decimal_text)
        got = fraction_text_column(frame, "n", "d", decimal_text).to_pylist()
    return expected, got


def test_the_hard_cases() -> None:
    nums = [0, 1, -1, 2, 71519900, 214559900, 2 * 10**29 - 1, -(10**30) + 1, 10**30 - 1,
            999999, 1000000, None, 7, -7, 3 * 10**24 + 1]
    dens = [3, 3, 3, 3, 10000, 30000, 3, 7, 10**30, 1000000, 1000000, 5, 1, 9, 3]
    expected, got = _both(nums, dens)
    assert got == expected
    assert got[5] == "7151.99" + "6" * 67 + "7"  # 21455.99 / 3: 74 digits, rounded up
    assert got[8] == "0." + "9" * 30 and got[0] == "0" and got[2] == "-0." + "3" * 74
    for den in (1, 3, 10000, 70000):
        assert _both(nums, den)[1] == _both(nums, den)[0]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.one_of(st.none(), st.integers(-BIG, BIG)),
                          st.integers(1, 10**18)), min_size=1, max_size=40))
def test_any_fraction(pairs: list[tuple[int | None, int]]) -> None:
    expected, got = _both([n for n, _ in pairs], [d for _, d in pairs])
    assert got == expected


@settings(max_examples=20, deadline=None)
@given(st.lists(st.integers(-10**20, 10**20), min_size=1, max_size=30),
       st.sampled_from([1, 3, 7, 10000, 30000, 70000, 10**10, 3 * 10**17]))
def test_a_constant_denominator(nums: list[int], den: int) -> None:
    expected, got = _both(list(nums), den)
    assert got == expected


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.one_of(st.none(), st.integers(-3 * 10**8, 3 * 10**8)),
                          st.sampled_from([3, 7, 10000, 30000, 70000])), min_size=1,
                max_size=60), st.booleans(), st.integers(1, 3))
def test_int64_columns_in_chunks(pairs: list[tuple[int | None, int]], wide: bool,
                                 pieces: int) -> None:
    """Int64 columns, as money in 1/10000 yuan is (the others here are Int128): a few whole
    yuan repeated, or with one row of 10**15 among them; negative zero and nulls included, in
    chunks."""
    nums = [n for n, _ in pairs] + ([10**15] if wide else [])
    dens = [d for _, d in pairs] + ([3] if wide else [])
    expected, got = _in_chunks(nums, dens, pieces)
    assert got == expected


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.one_of(st.none(), st.integers(-BIG, BIG)),
                          st.sampled_from([1, 2, 3, 7, 10000, 30000, 70000, 2**28])),
                min_size=1, max_size=40))
def test_small_denominators(pairs: list[tuple[int | None, int]]) -> None:
    """Denominators small enough for one code per (remainder, denominator, digits), and whole
    quotients among them (a denominator of 1)."""
    expected, got = _both([n for n, _ in pairs], [d for _, d in pairs])
    assert got == expected


@settings(max_examples=200, deadline=None)
@given(st.lists(st.none() | st.lists(st.none() | st.booleans(), max_size=6), max_size=40),
       st.integers(0, 5))
def test_the_items_a_warning_holds_for(flags: list[list[bool | None] | None], skip: int
                                       ) -> None:
    """(row, index) of every true flag, rows in order and items in order within a row; an
    unknown flag, an empty list and a missing list hold for nothing; on a slice of a frame
    too (its lists' offsets do not start at 0)."""
    rule = WarningColumn("code", "members[].x", "§1", "w", per_item=True)
    whole = pl.DataFrame({"w": pl.Series([[True]] * skip + flags, dtype=pl.List(pl.Boolean))})
    frame = whole.slice(skip)
    expected = [(row, index) for row, items in enumerate(flags) for index, flag
                in enumerate(items or []) if flag]
    hits = _item_hits(frame, [rule])
    assert all(h.schema == {"row": pl.Int64, "index": pl.Int64} for h in hits.values())
    got = [] if "w" not in hits else list(hits["w"].select("row", "index").iter_rows())
    assert got == expected
    assert "w" in hits or not expected


@settings(max_examples=15, deadline=None)
@given(st.lists(st.tuples(st.integers(-10**6, 10**6), st.sampled_from([3, 7, 30000, 70000])),
                min_size=1, max_size=20), st.integers(2, 4))
def test_many_rows_of_few_keys_in_chunks(pairs: list[tuple[int, int]], pieces: int) -> None:
    """Rows repeating a few (remainder, denominator, digits) keys, in a frame of several
    chunks: each row's text is read by its key's place among the distinct keys."""
    nums = [n for n, _ in pairs] * 50
    dens = [d for _, d in pairs] * 50
    expected, got = _in_chunks(nums, dens, pieces)
    assert got == expected


@settings(max_examples=20, deadline=None)
@given(st.lists(st.tuples(st.integers(0, BIG), st.sampled_from([1, 3, 7, 70000, 10**18])),
                min_size=64, max_size=130), st.sets(st.integers(0, 63), max_size=2),
       st.booleans())
def test_a_few_negative_rows_or_none(pairs: list[tuple[int, int]], negated: set[int],
                             small: bool) -> None:
    """A few negative rows or none among many (the sign a piece of each row's text only when
    some row is negative; small numerators too: a quotient -0.xxx keeps its sign)."""
    nums = [(n % 10 if small else n) * (-1 if i in negated else 1)
            for i, (n, _) in enumerate(pairs)]
    expected, got = _both(nums, [d for _, d in pairs])
    assert got == expected


def test_an_arrow_string_array_of_valid_buffers() -> None:
    """The texts are built from Arrow buffers (one take of their pieces): the array is a
    valid string array, its nulls where the numerator is null."""
    import pyarrow as pa
    frame = pl.DataFrame({"n": pl.Series([-1, None, 10**20, 0, None, -7] * 3, dtype=pl.Int128),
                          "d": pl.Series([3, 3, 7, 5, 9, 7] * 3, dtype=pl.Int128)})
    with decimal.localcontext(DECIMAL_CONTEXT):
        column = fraction_text_column(frame.slice(1), "n", "d", decimal_text)
    column.validate(full=True)
    assert column.type == pa.string() and column.null_count == 6
    nums, dens = frame.slice(1).get_column("n").to_list(), frame.slice(1).get_column("d").to_list()
    with decimal.localcontext(DECIMAL_CONTEXT):
        assert column.to_pylist() == fraction_texts(nums, dens, decimal_text)
    assert column.to_pylist()[:5] == [None, "14285714285714285714." + "285714" * 9, "0", None,
                                      "-1"]


def test_divisions_kept_by_context(monkeypatch: pytest.MonkeyPatch) -> None:
    """The divisions kept for the next batches are read under the context they were made in
    only (a batch in another precision divides again), and their table is bounded."""
    from fangpin_rules.compiler import polars_backend
    nums, dens = [1, -2, 71519900, 5, 2 * 10**12 + 1], [3, 3, 30000, 7, 7]
    frame = pl.DataFrame({"n": pl.Series(nums, dtype=pl.Int64),
                          "d": pl.Series(dens, dtype=pl.Int64)})
    for context in (DECIMAL_CONTEXT, decimal.Context(prec=12), DECIMAL_CONTEXT):
        with decimal.localcontext(context):
            assert fraction_text_column(frame, "n", "d", decimal_text).to_pylist() == \
                fraction_texts(nums, dens, decimal_text)
    monkeypatch.setattr(polars_backend, "_FRACTIONS_KEPT", 2)
    monkeypatch.setattr(polars_backend, "_FRACTIONS", {})
    with decimal.localcontext(DECIMAL_CONTEXT):
        for _ in range(3):
            assert fraction_text_column(frame, "n", "d", decimal_text).to_pylist() == \
                fraction_texts(nums, dens, decimal_text)
    assert all(len(table) <= 2 + len(nums) for table in polars_backend._FRACTIONS.values())
