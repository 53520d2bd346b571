"""The contract checked in columns (columnar/validate.py): every row the per-row reader would
refuse or read differently is flagged, so the columnar engine rejects exactly the rows the
record path rejects, with the same row, id, field and every problem, and decides the rest as
it does; the rows not flagged never go through the per-row reader."""

from __future__ import annotations

import contextlib
import sys
from datetime import date
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fangpin_rules import Policy
from fangpin_rules.columnar import decide_batch, input_schema, records_to_arrow, validate

from columnar_support import rows_read_one_by_one
from support import benchmark_module

AS_OF = "2021-09-01"
LONG = "x" * 65


def _set(path: str, value: Any) -> Any:
    def change(row: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = row
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        target[last] = value
    return change


def _members(change: Any) -> Any:
    def apply(row: dict[str, Any]) -> None:
        row["members"] = change(row["members"])
    return apply


# Each a change of one row, within the Arrow types of input_schema (where the check applies):
# values the contract refuses, and values the per-row reader reads differently from the column.
CHANGES: dict[str, Any] = {
    "money above the bound": _set("net_income", Decimal("1000000000000.0001")),
    "money below the bound": _set("net_income", Decimal("-1000000000001")),
    "money at the bound": _set("net_income", Decimal("1000000000000")),
    "money with five places": _set("net_income", Decimal("7152.00001")),
    "money with four places": _set("net_income", Decimal("7152.0001")),
    "negative spending": _set("rigid_expenditure.medical", Decimal("-0.01")),
    "spending with five places": _set("rigid_expenditure.education", Decimal("0.00001")),
    "previous income too precise": _set("previous_net_income", Decimal("1.123456789")),
    "required flag null": _set("formerly_poor", None),
    "required income null": _set("net_income", None),
    "id null": _set("household_id", None),
    "id empty": _set("household_id", ""),
    "id too long": _set("household_id", LONG),
    "id with a space to strip": _set("household_id", " H1"),
    "id with a separator to strip": _set("household_id", "H1\x1c"),
    "id with an inner space": _set("household_id", "H 1"),
    "region of five digits": _set("region_code", "35010"),
    "region with full-width digits": _set("region_code", "３５０１０２"),
    "region with a newline": _set("region_code", "350102\n"),
    "region of nine digits": _set("region_code", "350102001"),
    "no member": _set("members", []),
    "101 members": _members(lambda ms: [dict(ms[0], member_id=str(i)) for i in range(101)]),
    "members null": _set("members", None),
    "a null member": _members(lambda ms: [*ms, None]),
    "the same member twice": _members(lambda ms: [*ms, dict(ms[0])]),
    "member id empty": _set("members.0.member_id", ""),
    "member id to strip": _set("members.0.member_id", "1 "),
    "member id null": _set("members.0.member_id", None),
    "grade 0": _set("members.0.disability_grade", 0),
    "grade 5": _set("members.0.disability_grade", 5),
    "grade 4": _set("members.0.disability_grade", 4),
    "labour not in the enumeration": _set("members.0.labour_capacity", "strong"),
    "health not in the enumeration": _set("members.0.health", "Healthy"),
    "monitoring null (its default applies)": _set("monitoring", None),
    "status null (its default applies)": _set("monitoring.status", None),
    "status not in the enumeration": _set("monitoring.status", "watched"),
    "category not in the enumeration": _set("monitoring.category", "poor"),
    "dibao null (its default applies)": _set("dibao", None),
    "spending null (its default applies)": _set("rigid_expenditure", None),
    "a birth date far back": _set("members.0.birth_date", date(1, 1, 1)),
}


def _rows(fujian: Policy, n: int) -> list[dict[str, Any]]:
    records = list(benchmark_module("boundary_households").boundary_households(n, seed=3))
    rows = records_to_arrow(fujian, records).to_pylist()
    for row in rows:  # every change applies to every row
        row["rigid_expenditure"] = row["rigid_expenditure"] or {}
        row["monitoring"] = row["monitoring"] or {"status": "none"}
        row["region_code"] = row["region_code"] or "350102"
    return rows


def _compare(fujian: Policy, rows: list[dict[str, Any]], changed: set[int]) -> None:
    schema = input_schema(fujian)
    table = pa.Table.from_pylist(rows, schema=schema)
    flagged = validate.suspect_rows(fujian.checked.record_model, schema, table)
    assert flagged is not None
    assert set(flagged.arg_true().to_list()) <= changed  # the rows left alone are not flagged
    by_column = decide_batch(fujian, table, AS_OF, engine="columnar")
    by_record = decide_batch(fujian, table, AS_OF, engine="record")
    assert by_column.rejects.to_pylist() == by_record.rejects.to_pylist()
    assert by_column.decisions.to_pylist() == by_record.decisions.to_pylist()
    assert by_column.decisions.num_rows + by_column.rejects.num_rows == len(rows)


def test_every_change_is_rejected_or_read_as_on_the_record_path(fujian: Policy) -> None:
    rows = _rows(fujian, 2 * len(CHANGES) + 10)
    for number, change in enumerate(CHANGES.values()):
        change(rows[2 * number + 1])
    _compare(fujian, rows, {2 * number + 1 for number in range(len(CHANGES))})
    # and what the record path refuses is flagged: no refused row is decided in columns
    rejected = {r["row"] for r in decide_batch(fujian, pa.Table.from_pylist(
        rows, schema=input_schema(fujian)), AS_OF, engine="record").rejects.to_pylist()}
    assert len(rejected) >= 25


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(0, 29), st.sampled_from(sorted(CHANGES))),
                min_size=1, max_size=12))
def test_changes_anywhere_in_a_batch(fujian: Policy, picks: list[tuple[int, str]]) -> None:
    rows = _rows(fujian, 30)
    for row, name in picks:
        # an earlier change may have taken what this one edits
        with contextlib.suppress(TypeError, KeyError, IndexError):
            CHANGES[name](rows[row])
    _compare(fujian, rows, {row for row, _ in picks})


def test_only_flagged_rows_are_read_one_by_one(fujian: Policy,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    rows = _rows(fujian, 40)
    CHANGES["money with five places"](rows[7])
    CHANGES["the same member twice"](rows[20])
    read = rows_read_one_by_one(monkeypatch)
    result = decide_batch(fujian, pa.Table.from_pylist(rows, schema=input_schema(fujian)),
                          AS_OF, engine="columnar")
    assert read == [2]
    assert [r["row"] for r in result.rejects.to_pylist()] == [7, 20]


def test_a_table_of_other_types_is_read_row_by_row(fujian: Policy) -> None:
    rows = _rows(fujian, 5)
    for row in rows:
        row["net_income"] = str(row["net_income"])  # numbers as text: the contract takes them
    table = pa.Table.from_pylist(rows)
    assert validate.suspect_rows(fujian.checked.record_model, input_schema(fujian), table) \
        is None
    assert decide_batch(fujian, table, AS_OF, engine="columnar").decisions.to_pylist() == \
        decide_batch(fujian, table, AS_OF, engine="record").decisions.to_pylist()


def test_an_unknown_column_is_refused_where_it_holds_a_value(fujian: Policy) -> None:
    rows = _rows(fujian, 4)
    extra = [None, "x", None, None]
    table = pa.Table.from_pylist(rows, schema=input_schema(fujian)).append_column(
        "nickname", pa.array(extra, pa.string()))
    by_column = decide_batch(fujian, table, AS_OF, engine="columnar")
    by_record = decide_batch(fujian, table, AS_OF, engine="record")
    assert by_column.rejects.to_pylist() == by_record.rejects.to_pylist()
    assert [r["row"] for r in by_column.rejects.to_pylist()] == [1]
    assert by_column.decisions.to_pylist() == by_record.decisions.to_pylist()


def test_the_whitespace_written_out_is_pythons() -> None:
    spaces = tuple(code for code in range(sys.maxunicode + 1) if chr(code).isspace())
    assert spaces == validate._PYTHON_SPACES



def test_a_date_python_cannot_hold_is_flagged(fujian: Policy) -> None:
    """A date32 before 0001-01-01 or after 9999-12-31 (Python's date cannot hold it) makes its
    row suspect; those two days themselves do not."""
    rows = _rows(fujian, 4)
    schema = input_schema(fujian)
    table = pa.Table.from_pylist(rows, schema=schema)
    epoch = date(1970, 1, 1)
    days = [(date.min - epoch).days - 1, (date.min - epoch).days, (date.max - epoch).days,
            (date.max - epoch).days + 1]
    position = schema.get_field_index("dibao")
    dibao = table.column("dibao").combine_chunks()
    since = pa.array(days, pa.int32()).cast(pa.date32())
    children = [since if field.name == "since" else dibao.field(field.name)
                for field in dibao.type]
    table = table.set_column(position, schema.field(position), pa.StructArray.from_arrays(
        children, fields=list(dibao.type)))
    flagged = validate.suspect_rows(fujian.checked.record_model, schema, table)
    assert flagged is not None
    assert flagged.to_list() == [True, False, False, True]


def test_a_few_flagged_rows_in_a_large_batch(fujian: Policy) -> None:
    """Among 1,500 rows, a few flagged ones (sliced out to be read, spliced back in): one
    rejected, one read with its default, one split over two chunks of the table."""
    rows = _rows(fujian, 1500)
    CHANGES["money with five places"](rows[3])
    CHANGES["monitoring null (its default applies)"](rows[900])
    CHANGES["id with a space to strip"](rows[750])
    schema = input_schema(fujian)
    table = pa.Table.from_pylist(rows, schema=schema)
    chunked = pa.concat_tables([table.slice(0, 750), table.slice(750)])
    by_column = decide_batch(fujian, chunked, AS_OF, engine="columnar")
    by_record = decide_batch(fujian, table, AS_OF, engine="record")
    assert by_column.rejects.to_pylist() == by_record.rejects.to_pylist()
    assert [r["row"] for r in by_column.rejects.to_pylist()] == [3]
    assert by_column.decisions.to_pylist() == by_record.decisions.to_pylist()


def test_chunks_kept_when_the_columns_share_them(fujian: Policy) -> None:
    """A table cut into chunks at the same rows in every column keeps them in the frame the
    query reads (joining them copies it all); one cut differently is joined. Both are decided
    as the record path decides them."""
    rows = _rows(fujian, 60)
    schema = input_schema(fujian)
    table = pa.Table.from_pylist(rows, schema=schema)
    aligned = pa.concat_tables([table.slice(0, 25), table.slice(25)])
    position = schema.get_field_index("net_income")
    income = table.column("net_income").combine_chunks()
    misaligned = aligned.set_column(position, schema.field(position), pa.chunked_array(
        [income.slice(0, 10), income.slice(10)]))
    expected = decide_batch(fujian, table, AS_OF, engine="record").decisions.to_pylist()
    for cut, kept in ((aligned, 2), (misaligned, 1)):
        checked = validate.check_rows(fujian.checked.record_model, schema, cut)
        assert checked is not None
        assert checked[1].n_chunks() == kept
        assert decide_batch(fujian, cut, AS_OF).decisions.to_pylist() == expected


# -- under a region table ----------------------------------------------------------------------

REGIONS_AS_OF = "2022-06-30"  # the example table's counties differ from 2022 on
# in the example table (a county's, a township's, a village's code), then not in it, or none
IN_TABLE = ("350121", "350526001", "350582001002")
NOT_IN_TABLE = ("350102", "350999001", None)


def _placed_rows(fujian: Policy, n: int) -> list[dict[str, Any]]:
    rows = _rows(fujian, n)
    codes = IN_TABLE + NOT_IN_TABLE
    for number, row in enumerate(rows):
        row["region_code"] = codes[number % len(codes)]
    return rows


def _compare_regional(fujian: Policy, rows: list[dict[str, Any]], cut: int) -> list[Any]:
    """Both engines under the example region table, the columnar one on the table in two
    chunks: the same rejects (row, id, field, reason) and decisions."""
    from fangpin_rules.engine.regions import load_regions

    from support import ROOT
    regional = load_regions(fujian, ROOT / "policies" / "regions" /
                            "fujian_example_regions.yaml")
    table = pa.Table.from_pylist(rows, schema=input_schema(fujian))
    chunked = pa.concat_tables([table.slice(0, cut), table.slice(cut)])
    by_column = decide_batch(regional, chunked, REGIONS_AS_OF, engine="columnar")
    by_record = decide_batch(regional, table, REGIONS_AS_OF, engine="record")
    assert by_column.rejects.to_pylist() == by_record.rejects.to_pylist()
    assert by_column.decisions.to_pylist() == by_record.decisions.to_pylist()
    assert by_column.decisions.num_rows + by_column.rejects.num_rows == len(rows)
    rejects: list[Any] = by_column.rejects.to_pylist()
    return rejects


def test_households_of_no_region_rejected_in_columns(fujian: Policy,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Under a region table the rows the check does not flag are placed in their regions in
    columns (a household of no region rejected naming region_code, as on the record path);
    only the flagged ones are read one by one, which places them too: a bad row of no region
    is rejected for its contract, the same member twice in no region for its region."""
    rows = _placed_rows(fujian, 60)
    changed = {4: "money with five places",  # of no region: the contract's rejection
               5: "the same member twice",  # of none: the region's
               9: "monitoring null (its default applies)",  # of none, read with its default
               10: "id with a space to strip",  # in the table: decided
               13: "the same member twice"}  # in the table: the member's rejection
    for row, name in changed.items():
        CHANGES[name](rows[row])
    read = rows_read_one_by_one(monkeypatch)
    rejects = _compare_regional(fujian, rows, 31)
    assert read == [len(changed)]
    by_row = {r["row"]: r for r in rejects}
    unplaced = {row for row in range(len(rows)) if row % 6 >= 3}
    assert set(by_row) == unplaced | {13}
    assert by_row[4]["field"] == "net_income"
    assert by_row[13]["field"].startswith("members.")
    assert {by_row[row]["field"] for row in unplaced - {4}} == {"region_code"}
    assert by_row[5]["reason"].startswith("no region_code: the region table ")
    assert by_row[3]["reason"].startswith("region '350102' is not in the region table ")


def test_a_batch_of_no_household_in_the_table(fujian: Policy) -> None:
    rows = _rows(fujian, 12)
    for number, row in enumerate(rows):
        row["region_code"] = NOT_IN_TABLE[number % len(NOT_IN_TABLE)]
    rejects = _compare_regional(fujian, rows, 5)
    assert [r["field"] for r in rejects] == ["region_code"] * len(rows)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(0, 29), st.sampled_from(sorted(CHANGES))),
                min_size=0, max_size=8), st.integers(1, 29))
def test_changes_anywhere_in_a_batch_under_a_region_table(
        fujian: Policy, picks: list[tuple[int, str]], cut: int) -> None:
    rows = _placed_rows(fujian, 30)
    for row, name in picks:
        with contextlib.suppress(TypeError, KeyError, IndexError):
            CHANGES[name](rows[row])
    _compare_regional(fujian, rows, cut)


def test_texts_to_strip_found_in_arrow_in_lists_structs_and_chunks() -> None:
    """`_untrimmed` (the strip check, in Arrow): a text at a top-level column, in a struct,
    in a list's items, in a table of two chunks; an item of a missing list that spans items
    (Arrow lets it) is not read, nor a null struct's or item's text."""
    member = pa.struct([("member_id", pa.string())])
    items = pa.array([{"member_id": "1"}, {"member_id": " 2"}, {"member_id": "3"},
                      {"member_id": "4\u3000"}, None, {"member_id": "5"}], member)
    lists = pa.ListArray.from_arrays(pa.array([0, 1, 3, 4, 6], pa.int32()), items,
                                     mask=pa.array([False, True, False, False]))
    monitoring = pa.array([{"status": "a"}, {"status": "b"}, {"status": "c\x1c"}, None],
                          pa.struct([("status", pa.string())]))
    ids = pa.array(["H1", "H2", "H3", "\x85H4"])
    table = pa.table({"id": ids, "members": lists, "monitoring": monitoring})
    chunked = pa.concat_tables([table.slice(0, 1), table.slice(1)])
    for cut in (table, chunked):
        assert validate._untrimmed(cut, [("id",)]).to_list() == [False, False, False, True]
        assert validate._untrimmed(cut, [("members", validate._ITEMS, "member_id")]
                                   ).to_list() == [False, False, True, False]
        assert validate._untrimmed(cut, [("monitoring", "status")]).to_list() == \
            [False, False, True, False]
        assert validate._untrimmed(cut, [("id",), ("monitoring", "status")]).to_list() == \
            [False, False, True, True]


def test_a_text_of_one_character_at_least_checked_by_its_bytes(fujian: Policy) -> None:
    """min_length 1 is checked as one byte at least: an empty id flagged, a one-character
    one of three bytes not (rows as Python reads them)."""
    rows = _rows(fujian, 3)
    rows[0]["household_id"], rows[1]["household_id"] = "", "户"
    schema = input_schema(fujian)
    table = pa.Table.from_pylist(rows, schema=schema)
    flagged = validate.suspect_rows(fujian.checked.record_model, schema, table)
    assert flagged is not None and flagged.to_list() == [True, False, False]
    _compare(fujian, rows, {0, 1})


def _retyped(table: pa.Table, name: str, array: Any) -> pa.Table:
    return table.set_column(table.schema.get_field_index(name), name, array)


def _layouts(fujian: Policy, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The rows' table in the layouts a data system gives, each holding the same values."""
    import polars as pl

    table = pa.Table.from_pylist(rows, schema=input_schema(fujian))
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    previous = table.column("previous_net_income")
    return {
        "a Polars DataFrame": frame,
        "a Polars DataFrame's Arrow (large texts and lists)": frame.to_arrow(),
        "views of texts": frame.to_arrow(compat_level=pl.CompatLevel.newest()),
        "dictionary-encoded texts": _retyped(
            table, "region_code", table.column("region_code").dictionary_encode()),
        "lists of members as large lists": _retyped(
            table, "members", table.column("members").cast(pa.large_list(
                table.schema.field("members").type.value_type))),
        "incomes of fewer places": _retyped(table, "net_income",
                                            table.column("net_income").cast(pa.decimal128(20, 4))),
        "a column of nulls": _retyped(table, "previous_net_income", pa.nulls(len(previous)))
        if previous.null_count == len(previous) else
        _retyped(table, "previous_net_income", previous.cast(pa.decimal128(24, 4))),
    }


def test_other_layouts_of_the_same_values_are_checked_in_columns(
        fujian: Policy, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = _rows(fujian, 40)
    plain = decide_batch(fujian, pa.Table.from_pylist(rows, schema=input_schema(fujian)),
                         AS_OF, engine="record").decisions.to_pylist()
    read = rows_read_one_by_one(monkeypatch)
    for name, table in _layouts(fujian, rows).items():
        by_column = decide_batch(fujian, table, AS_OF, engine="columnar")
        assert read == [], name  # no row went through the per-row reader
        by_record = decide_batch(fujian, table, AS_OF, engine="record")
        assert by_column.decisions.to_pylist() == by_record.decisions.to_pylist() == plain, name
        assert by_column.rejects.num_rows == by_record.rejects.num_rows == 0, name


def test_whole_amounts_as_integers_are_checked_in_columns(
        fujian: Policy, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = _rows(fujian, 20)
    for row in rows:
        row["net_income"] = int(row["net_income"])
        row["members"][0]["disability_grade"] = 2
    table = pa.Table.from_pylist(rows, schema=input_schema(fujian))
    narrow = _retyped(_retyped(table, "net_income", pa.array(
        [row["net_income"] for row in rows], pa.int64())), "members", table.column(
        "members").cast(pa.list_(pa.struct([
            pa.field(f.name, pa.int8() if f.name == "disability_grade" else f.type)
            for f in table.schema.field("members").type.value_type]))))
    read = rows_read_one_by_one(monkeypatch)
    by_column = decide_batch(fujian, narrow, AS_OF, engine="columnar")
    assert read == []
    assert by_column.decisions.to_pylist() == \
        decide_batch(fujian, table, AS_OF, engine="record").decisions.to_pylist()


def test_a_flagged_row_of_another_layout_is_rejected_as_on_the_record_path(
        fujian: Policy, monkeypatch: pytest.MonkeyPatch) -> None:
    import polars as pl

    rows = _rows(fujian, 30)
    CHANGES["id with a space to strip"](rows[3])
    CHANGES["the same member twice"](rows[11])
    CHANGES["money with five places"](rows[17])
    frame = pl.from_arrow(pa.Table.from_pylist(rows, schema=input_schema(fujian)))
    read = rows_read_one_by_one(monkeypatch)
    by_column = decide_batch(fujian, frame, AS_OF, engine="columnar")
    assert read == [3]
    by_record = decide_batch(fujian, frame, AS_OF, engine="record")
    assert by_column.rejects.to_pylist() == by_record.rejects.to_pylist()
    assert [r["row"] for r in by_column.rejects.to_pylist()] == [11, 17]
    assert by_column.decisions.to_pylist() == by_record.decisions.to_pylist()


@pytest.mark.parametrize("column", ["overflowing", "float"])
def test_a_column_whose_values_do_not_fit_is_read_row_by_row(
        fujian: Policy, monkeypatch: pytest.MonkeyPatch, column: str) -> None:
    rows = _rows(fujian, 6)
    table = pa.Table.from_pylist(rows, schema=input_schema(fujian))
    if column == "overflowing":  # 10**30 does not fit decimal128(38, 10): the cast refuses it
        incomes = [Decimal(int(row["net_income"])) for row in rows]
        incomes[2] = Decimal(10) ** 30
        table = _retyped(table, "net_income", pa.array(incomes, pa.decimal128(38, 0)))
    else:  # a binary fraction is not the decimal it prints as: the reader's matter
        table = _retyped(table, "net_income", table.column("net_income").cast(pa.float64()))
    read = rows_read_one_by_one(monkeypatch)
    by_column = decide_batch(fujian, table, AS_OF, engine="columnar")
    assert read == [6]
    by_record = decide_batch(fujian, table, AS_OF, engine="record")
    assert by_column.rejects.to_pylist() == by_record.rejects.to_pylist()
    assert by_column.decisions.to_pylist() == by_record.decisions.to_pylist()
    if column == "overflowing":
        assert [(r["row"], r["field"]) for r in by_column.rejects.to_pylist()] == \
            [(2, "net_income")]


class _ArrowStream:
    """An object of another library that gives its rows as an Arrow stream (the PyCapsule
    interface DuckDB's results, pandas and nanoarrow export)."""

    def __init__(self, table: pa.Table) -> None:
        self.table = table

    def __arrow_c_stream__(self, requested_schema: Any = None) -> Any:
        return self.table.__arrow_c_stream__(requested_schema)


@pytest.mark.parametrize("engine", ["columnar", "record"])
def test_a_batch_is_taken_in_any_arrow_form(fujian: Policy, engine: str) -> None:
    import polars as pl

    table = pa.Table.from_pylist(_rows(fujian, 12), schema=input_schema(fujian))
    expected = decide_batch(fujian, table, AS_OF, engine=engine).decisions.to_pylist()
    assert len(expected) == 12
    for given_as in (table.to_batches(max_chunksize=100)[0], table.to_reader(),
                     _ArrowStream(table), pl.from_arrow(table)):
        got = decide_batch(fujian, given_as, AS_OF, engine=engine)
        assert got.decisions.to_pylist() == expected, type(given_as).__name__


@pytest.mark.parametrize("engine", ["columnar", "record"])
def test_what_is_not_a_batch_is_refused_saying_what_is_taken(fujian: Policy,
                                                             engine: str) -> None:
    import polars as pl

    rows = _rows(fujian, 3)
    lazy = pl.from_arrow(pa.Table.from_pylist(rows, schema=input_schema(fujian))).lazy()
    with pytest.raises(TypeError, match=r"not a LazyFrame: collect\(\) it first"):
        decide_batch(fujian, lazy, AS_OF, engine=engine)
    with pytest.raises(TypeError, match=r"an Arrow table or record batch.*not list: records "
                                        r"read already go to records_to_arrow"):
        decide_batch(fujian, rows, AS_OF, engine=engine)
