"""Every broken cell kind is reported at its sheet, row and column with its header and value,
its household is rejected whole, the rest is decided, and the counts add up."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from fangpin_rules.cli.main import main
from fangpin_rules.ledger.format import LedgerFormat
from fangpin_rules.ledger.ids import mask_id
from fangpin_rules.ledger.read import column_letter, read_ledger
from fangpin_rules.ledger.synthetic import (
    HEADERS,
    Cell,
    SyntheticLedger,
    write_csv,
    write_xlsx,
)

from support import FUJIAN

FIRST_DATA_ROW = 4  # two title rows and the header above


def _column(header: str) -> str:
    return column_letter(HEADERS.index(header))


class Broken:
    """The synthetic ledger with one cell broken in each of several households."""

    def __init__(self, ledger: SyntheticLedger) -> None:
        self.ledger = copy.deepcopy(ledger)
        self.starts: list[int] = []
        row = 0
        for record in self.ledger.records:
            self.starts.append(row)
            row += len(record["members"])
        merged_rows = {r for first, last, _ in self.ledger.merges for r in range(first, last + 1)}
        # households of several members whose every row carries the household's fields
        self.plain = [i for i, record in enumerate(self.ledger.records)
                      if len(record["members"]) > 1 and i % 4 != 3
                      and self.starts[i] not in merged_rows]
        self.expected: dict[str, tuple[int, str, str, str]] = {}  # id -> row, col, header, value

    def set(self, household: int, member: int, header: str, value: str, *,
            expect: bool = True) -> int:
        offset = self.starts[household] + member
        self.ledger.rows[offset][HEADERS.index(header)] = Cell("text", value, value)
        row = FIRST_DATA_ROW + offset
        if expect:
            self.expected[self.ledger.records[household]["household_id"]] = (
                row, _column(header), header, value)
        return row


@pytest.fixture(scope="module")
def broken(ledger: SyntheticLedger) -> Broken:
    broken = Broken(ledger)
    a, b, c, d, e, f = broken.plain[:6]
    g = 0  # a household before f, of one member: its row holds the ID number first
    broken.set(a, 1, "劳动技能", "普通劳力")  # unknown label
    broken.set(b, 1, "出生日期", "19561301")  # bad date
    broken.set(c, 0, "家庭年纯收入", "一万二")  # text in a money column
    broken.set(d, 1, "上年家庭年纯收入", "99999.5")  # the rows disagree
    broken.set(e, 0, "与户主关系", "配偶")  # no head
    # an ID number already on another household's row
    other = broken.ledger.rows[broken.starts[g]][HEADERS.index("证件号码")].value
    broken.set(f, 1, "证件号码", other)
    broken.expected[broken.ledger.records[f]["household_id"]] = (
        FIRST_DATA_ROW + broken.starts[f] + 1, _column("证件号码"), "证件号码", mask_id(other))
    broken.id_number = other  # type: ignore[attr-defined]
    return broken


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_each_problem_at_its_row_and_column_and_the_rest_decided(
        broken: Broken, national: LedgerFormat, tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"broken{suffix}"
    if suffix == ".xlsx":
        write_xlsx(broken.ledger, path)
    else:
        write_csv(broken.ledger, path, "gb18030")
    read = read_ledger(path, national)
    sheet = read.sheet
    problems = {r.household_id: r for r in read.rejections}
    assert set(problems) == set(broken.expected)
    for household_id, (row, column, header, value) in broken.expected.items():
        rejection = problems[household_id]
        [problem] = rejection.problems
        assert (problem.sheet, problem.row, problem.column, problem.header, problem.value) == (
            sheet, row, column, header, value), problem
    reasons = {household_id: problems[household_id].problems[0].reason
               for household_id in problems}
    a, b, c, d, e, f = (broken.ledger.records[i]["household_id"] for i in broken.plain[:6])
    assert "unknown label" in reasons[a] and "普通劳动力" in reasons[a]
    assert "not a date" in reasons[b]
    assert "text in a money column" in reasons[c]
    assert "disagree" in reasons[d] and f"row {broken.expected[d][0] - 1}" in reasons[d]
    assert "户主" in reasons[e]
    assert "duplicate ID number" in reasons[f]
    # the rest decided; the counts reconcile
    assert len(read.households) == len(broken.ledger.records) - len(broken.expected)
    assert read.households_read == len(read.households) + len(read.rejections)
    assert read.rows_read == read.rows_used + read.rows_rejected == len(broken.ledger.rows)
    assert read.rows_rejected == sum(len(r.rows) for r in read.rejections)


def test_every_problem_of_a_household_is_listed(ledger: SyntheticLedger, national: LedgerFormat,
                                                tmp_path: Path) -> None:
    broken = Broken(ledger)
    household = broken.plain[0]
    rows = [broken.set(household, 0, "健康状况", "很健康", expect=False),
            broken.set(household, 1, "纳入低保时间", "2021年", expect=False),
            broken.set(household, 1, "医疗支出", "abc", expect=False)]
    write_xlsx(broken.ledger, tmp_path / "l.xlsx")
    [rejection] = read_ledger(tmp_path / "l.xlsx", national).rejections
    # in the order they stand in the sheet: by row, then by column
    assert [(p.row, p.header) for p in rejection.problems] == [
        (rows[0], "健康状况"), (rows[2], "医疗支出"), (rows[1], "纳入低保时间")]
    assert rejection.to_json()["reason"].endswith("(and 2 more problem(s))")


def test_a_row_without_household_number_is_rejected_alone(
        ledger: SyntheticLedger, national: LedgerFormat, tmp_path: Path) -> None:
    broken = Broken(ledger)
    single = next(i for i, r in enumerate(broken.ledger.records) if len(r["members"]) == 1)
    row = broken.set(single, 0, "户编号", " ", expect=False)
    write_xlsx(broken.ledger, tmp_path / "l.xlsx")
    read = read_ledger(tmp_path / "l.xlsx", national)
    [rejection] = read.rejections
    assert rejection.household_id is None and rejection.rows == (row,)
    assert read.rows_read == read.rows_used + read.rows_rejected
    assert read.households_read == len(read.households) == len(broken.ledger.records) - 1


def test_cli_rejects_name_sheet_row_column_and_never_a_full_id_number(
        broken: Broken, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "broken.xlsx"
    ledger = copy.deepcopy(broken.ledger)
    # one more household the contract refuses (an income past its bound): the engine's
    # rejection, placed at the cell too
    engine_household = broken.plain[6]
    offset = broken.starts[engine_household]
    for member in range(len(ledger.records[engine_household]["members"])):
        ledger.rows[offset + member][HEADERS.index("家庭年纯收入")] = Cell(
            "number", 5e12, "5000000000000")
    write_xlsx(ledger, path)
    out, rejects = tmp_path / "d.jsonl", tmp_path / "rejects.jsonl"
    code = main(["eval", str(FUJIAN), str(path), "--as-of", "2021-09-01", "-o", str(out),
                 "--rejects", str(rejects)])
    err = capsys.readouterr().err
    assert code == 1
    lines: list[dict[str, Any]] = [json.loads(x) for x in rejects.read_text("utf-8").splitlines()]
    by_id = {line["household_id"]: line for line in lines}
    total = len(ledger.records)
    decided = len(out.read_text("utf-8").splitlines())
    assert decided == total - len(broken.expected) - 1
    assert f"read {total}, decided {decided}, rejected {total - decided}" in err
    rows = sum(len(r["members"]) for r in ledger.records)
    assert f"member rows: read {rows}, used" in err
    for household_id, (row, column, header, _value) in broken.expected.items():
        line = by_id[household_id]
        assert (line["sheet"], line["row"], line["column"], line["header"]) == (
            "监测对象信息", row, column, header)
    engine = by_id[ledger.records[engine_household]["household_id"]]
    assert (engine["row"], engine["column"], engine["header"], engine["field"]) == (
        FIRST_DATA_ROW + offset, _column("家庭年纯收入"), "家庭年纯收入", "net_income")
    full_id = broken.id_number  # type: ignore[attr-defined]
    assert full_id not in rejects.read_text("utf-8") and full_id not in err
    assert mask_id(full_id) in rejects.read_text("utf-8")


def test_an_engine_rejection_of_a_member_field_is_placed_on_that_members_row(
        ledger: SyntheticLedger, national: LedgerFormat, tmp_path: Path) -> None:
    write_xlsx(ledger, tmp_path / "l.xlsx")
    read = read_ledger(tmp_path / "l.xlsx", national)
    first_row = next(row for row, r in read.households if len(r["members"]) > 2)
    assert read.place(first_row, "members.2.birth_date") == {
        "sheet": "监测对象信息", "row": first_row + 2, "column": _column("出生日期"),
        "header": "出生日期"}
    assert read.place(first_row, "dibao.since")["column"] == _column("纳入低保时间")
    # a field no column fills: the household's first row, no column
    assert read.place(first_row, "members")["column"] is None


def test_no_name_is_ever_shown(broken: Broken, tmp_path: Path,
                               capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "broken.xlsx"
    write_xlsx(broken.ledger, path)
    rejects = tmp_path / "rejects.jsonl"
    main(["eval", str(FUJIAN), str(path), "--as-of", "2021-09-01", "-o",
          str(tmp_path / "d.jsonl"), "--rejects", str(rejects)])
    shown = capsys.readouterr().err + rejects.read_text("utf-8")
    names = {row[HEADERS.index("姓名")].value for row in broken.ledger.rows}
    numbers = {row[HEADERS.index("证件号码")].value for row in broken.ledger.rows}
    assert not [name for name in names if len(name) > 1 and name in shown]
    assert not [number for number in numbers if number in shown]


def test_labels_read_with_brackets_of_either_width_and_true_false_cells(
        national: LedgerFormat, tmp_path: Path) -> None:
    import xlsxwriter

    path = tmp_path / "l.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, ["户编号", "户类型", "与户主关系", "家庭年纯收入", "健康状况",
                           "是否享受低保"])
    sheet.write_row(1, 0, ["H1", "脱贫户", "户主", 18000, "长期慢性病(负担较重)", True])
    sheet.write_row(2, 0, ["H2", "一般农户", "户主", "18,000.50元", " 患有 大病 ", False])
    sheet.write_row(3, 0, ["H3", "一般农户", "户主", 18000, "健康", 1])
    book.close()
    read = read_ledger(path, national)
    records = {r["household_id"]: r for _, r in read.households}
    assert records["H1"]["members"][0]["health"] == "chronic_heavy"
    assert records["H1"]["dibao"] == {"enrolled": True}
    assert records["H2"]["members"][0]["health"] == "serious_illness"
    assert records["H2"]["dibao"] == {"enrolled": False}
    assert str(records["H2"]["net_income"]) == "18000.50"
    [rejection] = read.rejections  # a number where 是/否 is asked
    assert (rejection.household_id, rejection.problems[0].column) == ("H3", "F")


def test_value_labels_for_writing(national: LedgerFormat) -> None:
    from fangpin_rules.ledger.format import value_labels

    words = value_labels(national)
    assert words["risk"]["income_drop"] == "因务工就业不稳"
    assert words["yes_no"][True] == "是" and words["household_type"][False] == "一般农户"
    assert words["health"][None] == "残疾"
