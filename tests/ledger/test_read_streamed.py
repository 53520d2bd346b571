"""Reading as the rows stream past: ID numbers checked (GB 11643-1999), division codes of 6, 9
and 12 digits kept, a sheet not sorted by 户编号 read as the sorted one, a sheet that starts
away from A1 placed where Excel shows it, and a broken CSV encoding reported, never raised."""

from __future__ import annotations

import copy
import random
from pathlib import Path

import openpyxl
import pytest

from fangpin_rules.ledger.format import LedgerFormat
from fangpin_rules.ledger.ids import id_check_digit, id_key, mask_id
from fangpin_rules.ledger.read import LedgerError, column_letter, read_ledger
from fangpin_rules.ledger.synthetic import (
    HEADERS,
    Cell,
    SyntheticLedger,
    write_csv,
    write_xlsx,
)

FIRST_DATA_ROW = 4
ID_COLUMN = HEADERS.index("证件号码")


def _valid(first17: str) -> str:
    return first17 + id_check_digit(first17)


def test_id_numbers_checked_by_gb_11643() -> None:
    good = _valid("35012119800101001")
    assert id_key(good) == (good, None)
    assert id_key("11010519491231002x") == ("11010519491231002X", None)
    wrong = good[:-1] + ("0" if good[-1] != "0" else "1")
    key, reason = id_key(wrong)
    assert key is None and reason is not None and "check character" in reason
    assert wrong not in reason
    assert id_key("35012119801301001" + "0")[1] == (
        "not an ID number: its birth date (characters 7-14) is not a date")
    assert "17 digits" in str(id_key("3501211980010100A1")[1])
    assert "12 characters" in str(id_key("350121198001")[1])
    # an old 15-digit number: valid, keyed as the 18-character number it became
    assert id_key("350121800101001") == (_valid("35012119800101001"), None)
    assert id_key("350121801301001")[0] is None
    with pytest.raises(ValueError):
        id_check_digit("123")


def _with_ids(ledger: SyntheticLedger, changes: dict[int, str]) -> SyntheticLedger:
    changed = copy.deepcopy(ledger)
    for offset, value in changes.items():
        changed.rows[offset][ID_COLUMN] = Cell("text", value, value)
    return changed


def _household_of(ledger: SyntheticLedger, offset: int) -> str:
    row = 0
    for record in ledger.records:
        row += len(record["members"])
        if offset < row:
            return str(record["household_id"])
    raise AssertionError(offset)


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_a_bad_id_number_at_its_row_and_column_masked_and_the_rest_read(
        ledger: SyntheticLedger, national: LedgerFormat, tmp_path: Path, suffix: str) -> None:
    first = ledger.rows[5][ID_COLUMN].value
    bad = first[:-1] + ("1" if first[-1] != "1" else "2")  # one digit mistyped: check fails
    changed = _with_ids(ledger, {5: bad, 9: "12345"})
    path = tmp_path / f"ids{suffix}"
    if suffix == ".xlsx":
        write_xlsx(changed, path)
    else:
        write_csv(changed, path)
    read = read_ledger(path, national)
    problems = {r.household_id: r.problems for r in read.rejections}
    assert set(problems) == {_household_of(ledger, 5), _household_of(ledger, 9)}
    [check] = problems[_household_of(ledger, 5)]
    assert (check.row, check.column, check.header) == (FIRST_DATA_ROW + 5,
                                                       column_letter(ID_COLUMN), "证件号码")
    assert check.value == mask_id(bad) and bad not in check.reason
    assert "check character" in check.reason
    [short] = problems[_household_of(ledger, 9)]
    assert short.row == FIRST_DATA_ROW + 9 and "5 characters" in short.reason
    assert short.value == "*****"
    assert read.rows_read == read.rows_used + read.rows_rejected == len(ledger.rows)
    assert read.households_read == len(read.households) + len(read.rejections) == len(
        ledger.records)


def test_an_old_and_a_new_number_of_one_person_are_a_duplicate(
        ledger: SyntheticLedger, national: LedgerFormat, tmp_path: Path) -> None:
    first = ledger.rows[0][ID_COLUMN].value  # kept valid on row 4
    old = first[:6] + first[8:17]
    changed = _with_ids(ledger, {12: old})
    write_csv(changed, tmp_path / "l.csv")
    read = read_ledger(tmp_path / "l.csv", national)
    [rejection] = read.rejections
    assert rejection.household_id == _household_of(ledger, 12)
    assert [p.reason for p in rejection.problems] == [
        f"duplicate ID number: also on row {FIRST_DATA_ROW}"]
    assert rejection.problems[0].value == mask_id(old)


def test_division_codes_of_6_9_and_12_digits_are_kept(ledger: SyntheticLedger,
                                                      national: LedgerFormat,
                                                      tmp_path: Path) -> None:
    changed = copy.deepcopy(ledger)
    code_column = HEADERS.index("行政区划代码")
    sizes = [len(r["members"]) for r in ledger.records]
    # household 0 (one member) gets a township code, household 1 its county's
    changed.rows[0][code_column] = Cell("text", "350121001", "350121001")
    for offset in range(sizes[0], sizes[0] + sizes[1]):
        changed.rows[offset][code_column] = Cell("text", "350181", "350181")
    write_xlsx(changed, tmp_path / "l.xlsx")
    read = read_ledger(tmp_path / "l.xlsx", national)
    codes = [record["region_code"] for _, record in read.households]
    assert codes[:2] == ["350121001", "350181"]
    assert codes[2:] == [r["region_code"] for r in ledger.records[2:]]
    assert all(len(code) == 12 for code in codes[2:])


def test_a_sheet_not_sorted_by_household_reads_as_the_sorted_one(
        ledger: SyntheticLedger, national: LedgerFormat, tmp_path: Path) -> None:
    sorted_path, shuffled_path = tmp_path / "sorted.csv", tmp_path / "shuffled.csv"
    write_csv(ledger, sorted_path)
    shuffled = copy.deepcopy(ledger)
    order = list(range(len(ledger.rows)))
    random.Random(5).shuffle(order)
    shuffled.rows = [ledger.rows[i] for i in order]
    shuffled.merges = []
    write_csv(shuffled, shuffled_path)
    expected = read_ledger(sorted_path, national)
    read = read_ledger(shuffled_path, national)
    assert not read.rejections and read.rows_used == len(ledger.rows)
    by_id = {record["household_id"]: record for _, record in read.households}
    for _, record in expected.households:
        got = by_id[record["household_id"]]
        # members in the order their rows stand; the household's fields the same
        assert {k: v for k, v in got.items() if k != "members"} == {
            k: v for k, v in record.items() if k != "members"}
        assert sorted(map(str, (dict(m, member_id="") for m in got["members"]))) == sorted(
            map(str, (dict(m, member_id="") for m in record["members"])))
    first_rows = [row for row, _ in read.households]
    assert first_rows == sorted(first_rows)
    for first_row, record in read.households:  # each placed on the rows of its members
        assert len(read.cells[first_row].rows) == len(record["members"])


def test_a_split_household_whose_rows_disagree_is_rejected_with_both_rows(
        ledger: SyntheticLedger, national: LedgerFormat, tmp_path: Path) -> None:
    index = next(i for i, r in enumerate(ledger.records)
                 if len(r["members"]) == 2 and i % 4 != 3 and i % 5 != 4)
    start = sum(len(r["members"]) for r in ledger.records[:index])
    changed = copy.deepcopy(ledger)
    moved = changed.rows.pop(start + 1)  # its second member's row goes to the end
    income = HEADERS.index("家庭年纯收入")
    moved[income] = Cell("text", "1.00", "1.00")
    changed.rows.append(moved)
    changed.merges = []
    write_csv(changed, tmp_path / "l.csv")
    read = read_ledger(tmp_path / "l.csv", national)
    [rejection] = read.rejections
    last_row = FIRST_DATA_ROW + len(ledger.rows) - 1
    assert rejection.household_id == ledger.records[index]["household_id"]
    assert rejection.rows == (FIRST_DATA_ROW + start, last_row)
    [problem] = rejection.problems
    assert problem.row == last_row and problem.header == "家庭年纯收入"
    assert f"row {FIRST_DATA_ROW + start} says" in problem.reason
    assert read.rows_read == read.rows_used + read.rows_rejected == len(ledger.rows)


def test_a_sheet_that_starts_away_from_a1(ledger: SyntheticLedger, national: LedgerFormat,
                                          tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.cell(3, 3, "台帐")  # a title in C3: the sheet's cells start at row 3, column C
    for offset, row in enumerate([HEADERS, *([c.text for c in r] for r in ledger.rows[:4])]):
        for column, value in enumerate(row):
            if value != "":
                sheet.cell(5 + offset, 3 + column, value)
    book.save(tmp_path / "l.xlsx")
    read = read_ledger(tmp_path / "l.xlsx", national)
    assert read.header_row == 5
    first_row, _ = read.households[0]
    assert first_row == 6
    assert read.place(first_row, "net_income")["column"] == column_letter(
        2 + HEADERS.index("家庭年纯收入"))


def test_a_csv_whose_bom_is_followed_by_other_bytes(national: LedgerFormat,
                                                    tmp_path: Path) -> None:
    path = tmp_path / "l.csv"
    path.write_bytes(b"\xef\xbb\xbf" + "户编号,与户主关系\n".encode("gb18030"))
    with pytest.raises(LedgerError) as caught:
        read_ledger(path, national)
    assert "starts as UTF-8 but is not UTF-8 text" in caught.value.render()
