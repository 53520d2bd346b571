"""A national-layout ledger decides equal, household by household, to the same households
given as JSON lines: for xlsx, UTF-8 CSV, UTF-8 CSV with BOM and GB18030 CSV."""

from __future__ import annotations

from pathlib import Path

import pytest

from fangpin_rules import Policy
from fangpin_rules.engine.records import parse_json
from fangpin_rules.ledger.format import LedgerFormat
from fangpin_rules.ledger.read import read_ledger
from fangpin_rules.ledger.synthetic import SyntheticLedger

AS_OF = "2021-09-01"


@pytest.mark.parametrize("kind", ["xlsx", "UTF-8", "UTF-8 with BOM", "GB18030"])
def test_each_household_decides_as_its_json_line(
        kind: str, ledger: SyntheticLedger, ledger_files: dict[str, Path],
        national: LedgerFormat, fujian: Policy) -> None:
    read = read_ledger(ledger_files[kind], national)
    assert read.encoding == kind
    assert read.header_row == 3  # below the two merged title rows
    twin = [parse_json(line) for line in
            ledger_files["jsonl"].read_text(encoding="utf-8").splitlines()]
    assert len(read.households) == len(twin) == len(ledger.records) > 0
    assert read.rejections == []
    assert read.rows_read == read.rows_used + read.rows_rejected == sum(
        len(record["members"]) for record in twin)
    for (_row, record), expected in zip(read.households, twin, strict=True):
        assert record["household_id"] == expected["household_id"]
        assert fujian.evaluate(record, AS_OF) == fujian.evaluate(expected, AS_OF)


def test_the_records_are_the_twins_field_by_field(
        ledger_files: dict[str, Path], national: LedgerFormat, fujian: Policy) -> None:
    twin = [fujian.validate(parse_json(line)) for line in
            ledger_files["jsonl"].read_text(encoding="utf-8").splitlines()]
    read = read_ledger(ledger_files["xlsx"], national)
    assert [fujian.validate(record) for _, record in read.households] == twin


def test_merged_and_head_only_household_fields_are_read(
        ledger: SyntheticLedger, ledger_files: dict[str, Path], national: LedgerFormat) -> None:
    """Some households' fields are merged down their rows, some written on the head's row
    only: both read as the household's value."""
    assert ledger.merges
    read = read_ledger(ledger_files["xlsx"], national)
    by_id = {record["household_id"]: record for _, record in read.households}
    for expected in ledger.records:
        assert by_id[expected["household_id"]]["net_income"] == expected["net_income"]


def test_a_float_cell_is_the_fen_it_shows(ledger_files: dict[str, Path],
                                           national: LedgerFormat) -> None:
    """The first household's income is a formula whose cached value is 7151.990000000001: it
    is read as 7151.99, with a note at its cell; 7151.99 a fen under the line is in range."""
    read = read_ledger(ledger_files["xlsx"], national)
    first_row, record = read.households[0]
    assert str(record["net_income"]) == "7151.99"
    [note] = read.notes
    assert (note.row, note.column, note.header) == (first_row, "R", "家庭年纯收入")
    assert note.value == "7151.990000000001" and "7151.99" in note.reason
