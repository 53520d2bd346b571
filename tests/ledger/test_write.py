"""The spreadsheet writer (ledger/write.py): workbooks reopened with openpyxl, an independent
reader; CSV read back with the csv module."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from fangpin_rules.engine.policy import load_policy
from fangpin_rules.ledger.write import (
    CsvLedger,
    Labeller,
    XlsxLedger,
    decision_columns,
    exact_number,
    plain_decimal,
    write_summary_sheet,
)

from support import FUJIAN


@pytest.fixture(scope="module")
def checked() -> Any:
    return load_policy(FUJIAN).checked


def _decision(**overrides: Any) -> dict[str, Any]:
    decision: dict[str, Any] = {
        "household_id": "H-1", "policy": {"id": "fujian-2021", "sha256": "x"},
        "as_of": "2021-09-01", "per_capita_income": Decimal("7151.99"),
        "per_capita_after_rigid": Decimal(10000) / 3, "monitoring_line": 7152,
        "in_range": True, "category": "marginal", "category_label": "边缘易致贫户",
        "special_groups": [], "priority_attention": False, "risks": ["low_income", "illness"],
        "temporary_assistance": False, "measures": ["employment"],
        "assistance_mode": "single", "orientation": "development",
        "cadre": {"rank": "experienced", "pairing": False},
        "dibao": {"recommend_enrolment": False, "grace_until": None},
        "risk_elimination": {"reason": "income_below_line", "eligible": False},
        "departments": ["statistics"], "deadlines": [], "overdue": [], "violations": [],
        "trace": []}
    decision.update(overrides)
    return decision


def _workbook(checked: Any, tmp_path: Path, decisions: list[dict[str, Any]], *,
              lang: str = "zh", mask: bool = False, deadlines: bool = False,
              rejections: tuple[dict[str, Any], ...] = ()) -> Any:
    path = tmp_path / f"out-{lang}-{mask}.xlsx"
    with path.open("wb") as out:
        ledger = XlsxLedger(out, Labeller(checked, lang, mask=mask), deadlines=deadlines)
        for decision in decisions:
            ledger.decision(decision)
        for rejection in rejections:
            ledger.rejection(rejection)
        ledger.close("2021-09-01", "9.9", {"read": len(decisions) + len(rejections),
                                           "decided": len(decisions),
                                           "rejected": len(rejections)})
    return openpyxl.load_workbook(path)


def _rows(sheet: Any) -> list[tuple[Any, ...]]:
    return list(sheet.iter_rows(values_only=True))


def test_columns_are_the_policys_output_fields_with_their_titles(checked: Any) -> None:
    columns = decision_columns(checked, "zh")
    keys = [c.key for c in columns]
    assert keys[0] == "household_id" and columns[0].header == "户编号"
    # every output field of the policy has its column (an object's fields each their own)
    for key, _type in checked.output_fields():
        if key.endswith("_label"):
            assert key not in keys  # its decision's column shows the label already
        elif key in ("cadre", "dibao", "risk_elimination"):
            assert any(k.startswith(key + ".") for k in keys)
        else:
            assert key in keys
    assert "cadre.rank" in keys and "risk_elimination.reason" in keys
    by_key = {c.key: c for c in columns}
    assert by_key["category"].header == "监测对象类别" and by_key["category"].cite == "§1"
    assert decision_columns(checked, "en")[0].header == "household id"
    with pytest.raises(ValueError, match="lang"):
        decision_columns(checked, "fr")


def test_money_is_a_number_only_when_excel_holds_it_exactly() -> None:
    assert exact_number(Decimal("7151.99")) == 7151.99
    assert exact_number(Decimal("7152")) == 7152.0
    assert exact_number(Decimal(10000) / 3) is None  # more digits than Excel keeps
    assert exact_number(Decimal("123456789012345.6")) is None  # 16 significant digits
    assert exact_number(Decimal("NaN")) is None
    assert plain_decimal(Decimal("7.152E+3")) == "7152"
    assert plain_decimal(Decimal("0.10")) == "0.1"


def test_workbook_sheets_headers_labels_and_exact_money(checked: Any, tmp_path: Path) -> None:
    book = _workbook(checked, tmp_path, [_decision()])
    assert book.sheetnames == ["决策结果", "数据提示", "未判定记录", "说明"]
    sheet = book["决策结果"]
    header, row = _rows(sheet)
    values = dict(zip(header, row, strict=True))
    assert values["户编号"] == "H-1"
    assert values["监测对象类别"] == "边缘易致贫户"
    assert values["风险类型"] == "收入低于监测范围、因病"
    assert values["帮扶措施"] == "就业帮扶"
    assert values["帮扶干部：干部级别"] == "经验丰富、责任心强的干部"
    assert values["风险消除：暂不标注风险消除的原因"] == "扣除刚性支出后人均收入低于监测范围"
    assert values["负责筛查的行业部门"] == "统计、调查部门"
    assert values["收入低于监测范围"] == "是" and values["临时救助"] == "否"
    assert values["特殊群体"] == "无"
    assert values["农村低保：延保渐退期最后一天"] is None
    # money: a number where exact, the exact digits as text where not
    money = sheet.cell(row=2, column=header.index("家庭年人均纯收入") + 1)
    assert money.data_type == "n" and Decimal(str(money.value)) == Decimal("7151.99")
    after = values["扣除刚性支出后的人均收入"]
    assert isinstance(after, str) and Decimal(after) == Decimal(10000) / 3
    assert values["适用的监测范围"] == 7152
    assert "§1" in values["依据条款"].split()
    # frozen header, filter over every row and column, sized columns, no formulas
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:{openpyxl.utils.get_column_letter(len(header))}2"
    assert sheet.column_dimensions["A"].width > 5
    assert all(cell.data_type != "f" for line in sheet.iter_rows() for cell in line)


def test_articles_of_the_rules_that_held_with_the_trace(checked: Any) -> None:
    labeller = Labeller(checked)
    trace = [{"kind": "decision", "name": "risks", "rules": [
        {"id": "a", "cite": "§20, §21", "value": True},
        {"id": "b", "cite": "§22", "value": False}]}]
    cited = labeller.cites(_decision(trace=trace)).split()
    assert "§20" in cited and "§21" in cited and "§22" not in cited
    assert cited == sorted(cited, key=lambda c: int(c[1:]))
    assert "§20" not in labeller.cites(_decision()).split()


def test_english_headers_and_labels(checked: Any, tmp_path: Path) -> None:
    book = _workbook(checked, tmp_path, [_decision()], lang="en")
    assert book.sheetnames == ["decisions", "warnings", "rejects", "about"]
    header, row = _rows(book["decisions"])
    values = dict(zip(header, row, strict=True))
    assert values["Monitoring category"] == "marginal household at risk of poverty"
    assert values["Income below the monitoring line"] == "yes"
    assert "illness" in values["Risks"].split("; ")


def test_text_that_looks_like_a_formula_stays_text(checked: Any, tmp_path: Path) -> None:
    decision = _decision(household_id="=HYPERLINK(\"http://x\")")
    book = _workbook(checked, tmp_path, [decision])
    cell = book["决策结果"]["A2"]
    assert cell.data_type == "s" and cell.value == decision["household_id"]
    out = io.StringIO()
    ledger = CsvLedger(out, Labeller(checked))
    ledger.decision(decision)
    rows = list(csv.reader(io.StringIO(out.getvalue().lstrip("\ufeff"))))
    assert rows[1][0] == "'" + decision["household_id"]


def test_warnings_sheet_one_row_per_warning(checked: Any, tmp_path: Path) -> None:
    decision = _decision(warnings=[
        {"code": "minor_with_labour", "field": "members[1].labour_capacity", "cite": "§18"},
        {"code": "future_date", "field": "monitoring.since", "cite": "§18"}])
    book = _workbook(checked, tmp_path, [decision, _decision(household_id="H-2")])
    header, *rows = _rows(book["数据提示"])
    assert header == ("户编号", "提示", "字段", "字段路径", "条款")
    assert len(rows) == 2 and {r[0] for r in rows} == {"H-1"}
    assert rows[0][1] == "未满16周岁的成员登记有劳动能力（不计为劳动力）"
    assert rows[0][2] == "第2位成员的劳动能力" and rows[0][3] == "members[1].labour_capacity"
    assert rows[1][2] == "纳入监测日期" and rows[1][4] == "§18"
    about = dict((r[0], r[1]) for r in _rows(book["说明"]))
    assert about["数据提示条数"] == 2


def test_rejects_sheet_one_row_per_problem(checked: Any, tmp_path: Path) -> None:
    ledger_rejection = {
        "record": "household", "household_id": "H-9", "sheet": "台帐", "row": 5, "column": "F",
        "header": "家庭年纯收入", "field": "net_income", "reason": "not a money amount",
        "rows": [5, 6], "problems": [
            {"sheet": "台帐", "row": 5, "column": "F", "header": "家庭年纯收入", "value": "abc",
             "field": "net_income", "reason": "not a money amount"},
            {"sheet": "台帐", "row": 6, "column": "K", "header": "出生日期", "value": "2021-13-01",
             "field": "members.birth_date", "reason": "not a date"}]}
    line_rejection = {"line": 3, "household_id": None, "field": None,
                      "reason": "not valid JSON"}
    book = _workbook(checked, tmp_path, [], rejections=(ledger_rejection, line_rejection))
    header, *rows = _rows(book["未判定记录"])
    assert header[:5] == ("记录", "户编号", "工作表", "行", "列")
    assert rows == [
        ("家庭", "H-9", "台帐", 5, "F", "家庭年纯收入", "net_income", "abc", "not a money amount"),
        ("家庭", "H-9", "台帐", 6, "K", "出生日期", "members.birth_date", "2021-13-01",
         "not a date"),
        ("家庭", None, None, 3, None, None, None, None, "not valid JSON")]
    about = dict((r[0], r[1]) for r in _rows(book["说明"]))
    assert (about["读取户数"], about["判定户数"], about["未判定户数"]) == (2, 0, 2)


def test_mask_keeps_the_first_6_and_last_4_characters(checked: Any, tmp_path: Path) -> None:
    person = "350181199001011234"
    rejection = {"record": "household", "household_id": person, "field": "members",
                 "reason": f"household {person}: no head", "problems": [
                     {"sheet": "S", "row": 2, "column": "C", "header": "证件号码",
                      "value": person, "field": None, "reason": f"{person} twice"}]}
    book = _workbook(checked, tmp_path, [_decision(household_id=person)], mask=True,
                     rejections=(rejection,))
    shown = "350181********1234"
    assert book["决策结果"]["A2"].value == shown
    rejects = _rows(book["未判定记录"])[1]
    assert rejects[1] == shown and rejects[7] == shown
    for sheet in book:
        for line in sheet.iter_rows(values_only=True):
            assert not any(person in str(value) for value in line if value is not None)
    about = dict((r[0], r[1]) for r in _rows(book["说明"]))
    assert about["证件号码已遮蔽"] == "是"


def test_deadlines_sheet_in_words(checked: Any, tmp_path: Path) -> None:
    decision = _decision(deadlines=[
        {"step": "preliminary_review", "due": "2021-10-14", "done": "2021-10-18",
         "status": "late", "late_working_days": 2, "cite": "§7", "case_id": "C-1"},
        {"step": "visit_2021Q3", "due": "2021-09-30", "done": None, "status": "pending",
         "late_working_days": None, "cite": "§11", "case_id": None}])
    book = _workbook(checked, tmp_path, [decision], deadlines=True)
    assert "办理时限" in book.sheetnames
    header, *rows = _rows(book["办理时限"])
    assert header == ("户编号", "案件编号", "环节", "应完成日期", "完成日期", "状态", "逾期工作日",
                      "条款", "原因")
    assert rows[0] == ("H-1", "C-1", "乡镇党委政府5个工作日内完成初审", "2021-10-14",
                       "2021-10-18", "逾期完成", 2, "§7", None)
    assert rows[1][2] == "挂钩干部每季度至少入户帮扶一次（2021Q3）" and rows[1][5] == "待办"


def test_summary_hook_writes_a_sheet(checked: Any, tmp_path: Path) -> None:
    path = tmp_path / "summary.xlsx"
    with path.open("wb") as out:
        ledger = XlsxLedger(out, Labeller(checked))
        write_summary_sheet(ledger, "月度汇总", ["月份", "监测户数", "人均收入"],
                            [["2021-08", 12, Decimal("7151.99")],
                             ["2021-09", 15, Decimal(1) / 3]])
        ledger.close("2021-09-01", "9.9", {})
    book = openpyxl.load_workbook(path)
    assert "月度汇总" in book.sheetnames
    sheet = book["月度汇总"]
    assert _rows(sheet) == [("月份", "监测户数", "人均收入"), ("2021-08", 12, 7151.99),
                            ("2021-09", 15, plain_decimal(Decimal(1) / 3))]
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == "A1:C3"


def test_about_sheet_names_policy_date_engine_and_column_articles(
        checked: Any, tmp_path: Path) -> None:
    book = _workbook(checked, tmp_path, [_decision()])
    rows = _rows(book["说明"])
    about = {r[0]: r[1] for r in rows}
    assert about["政策"] == "fujian-2021" and about["政策文件 sha256"] == checked.sha256
    assert about["评估日期"] == "2021-09-01" and about["引擎版本"] == "9.9"
    assert ("列：监测对象类别", "category", "§1") in rows


def test_csv_has_a_bom_and_the_decisions_columns(checked: Any) -> None:
    out = io.StringIO()
    labeller = Labeller(checked, "zh")
    ledger = CsvLedger(out, labeller)
    ledger.decision(_decision())
    ledger.close("2021-09-01", "9.9", {})
    text = out.getvalue()
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert rows[0] == [c.header for c in decision_columns(checked, "zh")]
    values = dict(zip(rows[0], rows[1], strict=True))
    assert values["家庭年人均纯收入"] == "7151.99"
    assert Decimal(values["扣除刚性支出后的人均收入"]) == Decimal(10000) / 3
    assert values["监测对象类别"] == "边缘易致贫户"


def test_a_discarded_workbook_leaves_no_open_row_files(checked: Any, tmp_path: Path) -> None:
    import gc
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with (tmp_path / "x.xlsx").open("wb") as out:
            ledger = XlsxLedger(out, Labeller(checked))
            ledger.decision(_decision())
            ledger.discard()
            ledger.discard()  # twice is nothing more
            del ledger
        gc.collect()
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)]
    assert (tmp_path / "x.xlsx").read_bytes() == b""  # nothing was written


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_row_is_each_columns_cell(checked: Any, lang: str) -> None:
    """The row built by the columns' prepared cell functions is what `cell` says of each
    column, for decisions whose values take every kind (labels, lists, bools, money, None,
    a float kept exact, an object's fields)."""
    from fangpin_rules.engine.serialize import dumps

    from support import ROOT

    labeller = Labeller(checked, lang)
    decisions = [_decision(), _decision(category=None, risks=[], monitoring_line=Decimal("7152.5"),
                                        per_capita_income=7151.99, in_range=False,
                                        assistance_mode="unknown-mode")]
    lines = (ROOT / "examples" / "households.jsonl").read_text("utf-8").splitlines()
    policy = load_policy(FUJIAN)
    from fangpin_rules.engine.records import parse_json

    for line in lines:
        if line.strip():
            decisions.append(parse_json(dumps(policy.evaluate(parse_json(line), "2021-09-01"))))
    for decision in decisions:
        assert labeller.decision_row(decision) == [labeller.cell(c, decision)
                                                   for c in labeller.columns]


def test_text_that_looks_like_rich_string_xml_is_written_as_text(checked: Any,
                                                                 tmp_path: Path) -> None:
    odd = "<r>H & 1</r>"
    book = _workbook(checked, tmp_path, [_decision(household_id=odd)])
    assert book["决策结果"]["A2"].value == odd
