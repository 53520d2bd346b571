"""A ledger in, a workbook out: `fangpin eval POLICY ledger.xlsx -o decisions.xlsx` decides every
household of the bundled example as its JSON-lines twin does, and places a broken cell's
household on the rejects sheet at its sheet, row and column."""

from __future__ import annotations

import copy
from pathlib import Path

import openpyxl

from fangpin_rules.cli.main import main
from fangpin_rules.ledger.synthetic import HEADERS, Cell, SyntheticLedger, write_xlsx

from support import FUJIAN, ROOT

EXAMPLE = ROOT / "examples" / "ledger"


def _rows(path: Path, sheet: str) -> list[tuple[object, ...]]:
    return list(openpyxl.load_workbook(path)[sheet].iter_rows(values_only=True))


def test_the_example_ledger_decides_into_a_workbook_as_its_twin(tmp_path: Path) -> None:
    from_ledger, from_twin = tmp_path / "ledger.xlsx", tmp_path / "twin.xlsx"
    for source, target in ((EXAMPLE / "national_export.xlsx", from_ledger),
                           (EXAMPLE / "national_export.jsonl", from_twin)):
        assert main(["eval", str(FUJIAN), str(source), "--as-of", "2021-09-01",
                     "-o", str(target)]) == 0
    decisions = _rows(from_ledger, "决策结果")
    assert decisions == _rows(from_twin, "决策结果") and len(decisions) == 41
    about = {row[0]: row[1] for row in _rows(from_ledger, "说明")}
    assert (about["读取户数"], about["判定户数"], about["未判定户数"]) == (40, 40, 0)
    assert about["台帐成员行：读取"] == about["台帐成员行：使用"] == 129


def test_a_broken_cell_is_a_row_of_the_rejects_sheet(
        ledger: SyntheticLedger, tmp_path: Path) -> None:
    broken = copy.deepcopy(ledger)
    column = HEADERS.index("家庭年纯收入")
    broken.rows[0][column] = Cell("text", "一万二", "一万二")
    path, out = tmp_path / "broken.xlsx", tmp_path / "d.xlsx"
    write_xlsx(broken, path)
    assert main(["eval", str(FUJIAN), str(path), "--as-of", "2021-09-01", "-o", str(out)]) == 1
    header, row, *more = _rows(out, "未判定记录")  # one row for each problem of it
    assert header[:6] == ("记录", "户编号", "工作表", "行", "列", "表头")
    assert {r[1] for r in [row, *more]} == {ledger.records[0]["household_id"]}
    assert row[2:6] == ("监测对象信息", 4, "R", "家庭年纯收入")
    assert row[7] == "一万二" and "money" in str(row[8])
    assert len(_rows(out, "决策结果")) == len(ledger.records)  # the rest decided, and a header
