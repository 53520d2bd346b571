"""A ledger format is checked like a policy: errors at file:line:col, unknown keys refused
with a did-you-mean; a county's format extends the national one; a sheet without a required
column is refused with a did-you-mean against its real headers."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from fangpin_rules.diagnostics import PolicyError
from fangpin_rules.ledger.format import label_tables, load_format
from fangpin_rules.ledger.read import LedgerError, read_ledger
from fangpin_rules.ledger.synthetic import HEADERS, SyntheticLedger, write_csv

COUNTY = """\
ledger_format: {id: minhou-2023, version: 2, title: 闽侯县台帐}
extends: national
columns:
  household_id: {header: 农户编号, required: true}
  members.disability_grade: null
ignore: [备注]
labels:
  labour_capacity: {普通劳力: normal}
"""


def _write(folder: Path, text: str, name: str = "county.yaml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def _errors(path: Path) -> list[str]:
    with pytest.raises(PolicyError) as caught:
        load_format(path)
    return [d.render() for d in caught.value.diagnostics]


def test_the_bundled_national_format() -> None:
    national = load_format()
    assert (national.id, national.version) == ("national", 1)
    tables = label_tables(national)
    assert tables["labour_capacity"]["弱劳动力或半劳动力"] == "weak"
    assert tables["category"]["突发严重困难户"] == "sudden_hardship"
    assert tables["risk"]["因安全饮水"] == "drinking_water"
    assert tables["yes_no"] == {"是": True, "否": False}
    tables["yes_no"]["是"] = False  # a copy: the format itself is not changed
    assert label_tables(national)["yes_no"]["是"] is True


def test_a_county_format_extends_the_national_one(tmp_path: Path) -> None:
    county = load_format(_write(tmp_path, COUNTY))
    assert (county.id, county.version) == ("minhou-2023", 2)
    assert county.columns["household_id"].header == "农户编号"
    assert "members.disability_grade" not in county.columns
    assert county.columns["net_income"].header == "家庭年纯收入"  # the base's
    assert "县" in county.document.ignore and "备注" in county.document.ignore
    labour = label_tables(county)["labour_capacity"]
    assert labour["普通劳力"] == labour["普通劳动力"] == "normal"
    assert county.sha256 != load_format().sha256


def test_a_county_ledger_is_read_by_its_format(ledger: SyntheticLedger, tmp_path: Path) -> None:
    renamed = copy.deepcopy(ledger)
    path = tmp_path / "minhou.csv"
    write_csv(renamed, path, "utf-8")
    text = path.read_text("utf-8").replace("户编号", "农户编号", 1)
    text = text.replace("残疾等级", "备注", 1)
    path.write_text(text, encoding="utf-8")
    read = read_ledger(path, load_format(_write(tmp_path, COUNTY)))
    assert len(read.households) == len(ledger.records) and not read.rejections
    assert "备注" not in read.unread_columns
    assert all("disability_grade" not in m for _, r in read.households for m in r["members"])


def test_unknown_key_at_its_line_with_did_you_mean(tmp_path: Path) -> None:
    path = _write(tmp_path, COUNTY.replace("ignore:", "ignor:"))
    [message] = _errors(path)
    assert message.startswith(f"{path}:6:1: error[unknown-key]: unknown key 'ignor'")
    assert "did you mean 'ignore'?" in message


def test_a_column_key_typo_at_its_line(tmp_path: Path) -> None:
    path = _write(tmp_path, COUNTY.replace("{header: 农户编号, required: true}",
                                           "{heder: 农户编号, required: true}"))
    messages = _errors(path)
    assert any(m.startswith(f"{path}:4:") and "unknown key 'heder'" in m
               and "did you mean 'header'?" in m for m in messages)


def test_an_unknown_label_table_at_its_value(tmp_path: Path) -> None:
    path = _write(tmp_path, COUNTY + "  health_x: {好: healthy}\ncolumns2: 1\n")
    assert any("columns2" in m for m in _errors(path))
    path = _write(tmp_path, COUNTY.replace(
        "members.disability_grade: null",
        "members.health: {header: 健康状况, labels: helth}"))
    [message] = _errors(path)
    assert message.startswith(f"{path}:5:")
    assert "no label table 'helth'" in message and "did you mean 'health'?" in message


def test_extends_is_read_only_beside_the_format(tmp_path: Path) -> None:
    path = _write(tmp_path, COUNTY.replace("extends: national", "extends: ../national.yaml"))
    [message] = _errors(path)
    assert message.startswith(f"{path}:2:10: error[extends-outside]")
    path = _write(tmp_path, COUNTY.replace("extends: national", "extends: nationl"))
    [message] = _errors(path)
    assert "did you mean 'national'?" in message


def test_a_field_the_records_do_not_have_is_refused_at_its_column(
        ledger: SyntheticLedger, tmp_path: Path) -> None:
    path = _write(tmp_path, "ledger_format: {id: x, version: 1}\nextends: national\n"
                  "columns:\n  net_incom: {header: 纯收入, kind: money}\n")
    write_csv(ledger, tmp_path / "l.csv", "utf-8")
    with pytest.raises(LedgerError) as caught:
        read_ledger(tmp_path / "l.csv", load_format(path))
    [diagnostic] = caught.value.diagnostics
    assert (diagnostic.location.file, diagnostic.location.line) == (str(path), 4)
    assert "no field 'net_incom'" in diagnostic.message
    assert diagnostic.hint == "did you mean 'net_income'?"


def test_a_missing_required_column_names_the_sheets_nearest_header(
        ledger: SyntheticLedger, tmp_path: Path) -> None:
    path = tmp_path / "l.csv"
    write_csv(ledger, path, "utf-8")
    path.write_text(path.read_text("utf-8").replace("家庭年纯收入", "家庭年纯收人", 1),
                    encoding="utf-8")
    national = load_format()
    with pytest.raises(LedgerError) as caught:
        read_ledger(path, national)
    [diagnostic] = caught.value.diagnostics
    assert "has no column '家庭年纯收入' (header row 3)" in diagnostic.message
    assert diagnostic.hint.startswith("did you mean '家庭年纯收人'?")
    assert diagnostic.location == national.column_location("net_income")
    assert diagnostic.location.line > 0


def test_no_header_row_is_one_error(tmp_path: Path) -> None:
    path = tmp_path / "l.csv"
    path.write_text("a,b,c\n1,2,3\n", encoding="utf-8")
    with pytest.raises(LedgerError) as caught:
        read_ledger(path, load_format())
    assert "no header row in the first 20 rows" in caught.value.render()


def test_the_header_lies_below_title_rows(ledger: SyntheticLedger, tmp_path: Path) -> None:
    path = tmp_path / "l.csv"
    write_csv(ledger, path, "utf-8")
    text = "说明,,\n" * 5 + path.read_text("utf-8")
    path.write_text(text, encoding="utf-8")
    read = read_ledger(path, load_format())
    assert read.header_row == 8 and len(read.households) == len(ledger.records)
    assert read.place(read.households[0][0], "net_income")["column"] == "R"
    assert HEADERS[17] == "家庭年纯收入"


def test_a_ledger_past_the_row_bound_is_one_error(ledger: SyntheticLedger, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from fangpin_rules.ledger import read as read_module
    from fangpin_rules.ledger.synthetic import write_xlsx

    monkeypatch.setattr(read_module, "MAX_LEDGER_ROWS", 10)
    write_csv(ledger, tmp_path / "l.csv", "utf-8")
    write_xlsx(ledger, tmp_path / "l.xlsx")
    for name in ("l.csv", "l.xlsx"):
        with pytest.raises(LedgerError) as caught:
            read_ledger(tmp_path / name, load_format())
        assert "more than 10 rows" in caught.value.render()


def test_an_open_quote_in_a_csv_ledger_is_an_error_at_its_row(tmp_path: Path) -> None:
    path = tmp_path / "l.csv"
    path.write_text("户编号,与户主关系\n1,户主\n2,\"户主\n", encoding="utf-8")
    with pytest.raises(LedgerError) as caught:
        read_ledger(path, load_format())
    [diagnostic] = caught.value.diagnostics
    assert diagnostic.code == "ledger-csv" and diagnostic.location.line == 3


def test_a_county_name_gives_the_division_code_by_a_label_table() -> None:
    from fangpin_rules.engine.records import parse_json

    from support import ROOT

    example = ROOT / "examples" / "ledger"
    county = load_format(example / "county_format.yaml")
    assert county.columns["region_code"].header == "县"
    read = read_ledger(example / "national_export.xlsx", county)
    twin = [parse_json(line) for line in
            (example / "national_export.jsonl").read_text("utf-8").splitlines()]
    assert [r["region_code"] for _, r in read.households] == [r["region_code"][:6] for r in twin]


def test_a_sheet_the_workbook_does_not_have(ledger_files: dict[str, Path],
                                            tmp_path: Path) -> None:
    path = _write(tmp_path, "ledger_format: {id: x, version: 1}\nextends: national\n"
                  "sheet: 监测对象\n")
    with pytest.raises(LedgerError) as caught:
        read_ledger(ledger_files["xlsx"], load_format(path))
    [diagnostic] = caught.value.diagnostics
    assert "has no sheet '监测对象'" in diagnostic.message
    assert diagnostic.hint.startswith("did you mean '监测对象信息'?")


def test_xlsx_without_python_calamine_says_what_to_install(
        ledger_files: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "python_calamine", None)  # as if not installed
    with pytest.raises(LedgerError) as caught:
        read_ledger(ledger_files["xlsx"], load_format())
    assert "pip install 'fangpin-rules[excel]'" in caught.value.render()


def test_group_by_tells_apart_households_whose_numbers_repeat(tmp_path: Path) -> None:
    path = tmp_path / "l.csv"
    path.write_text("乡,村,户编号,户类型,与户主关系,家庭年纯收入\n"
                    "甲镇,一村,0001,脱贫户,户主,10000\n甲镇,一村,0001,脱贫户,配偶,10000\n"
                    "甲镇,二村,0001,一般农户,户主,30000\n  ,,, \n", encoding="utf-8")
    national = load_format()
    with_group = load_format(_write(tmp_path, "ledger_format: {id: x, version: 1}\n"
                                    "extends: national\ngroup_by: [乡, 村]\n"))
    apart = read_ledger(path, with_group)
    assert [(r["household_id"], len(r["members"])) for _, r in apart.households] == [
        ("甲镇/一村/0001", 2), ("甲镇/二村/0001", 1)]
    assert apart.rows_read == 3  # a row of spaces is blank
    together = read_ledger(path, national)
    [rejection] = together.rejections  # one household whose rows disagree
    assert "disagree on 户类型" in rejection.problems[0].reason
    missing = load_format(_write(tmp_path, "ledger_format: {id: x, version: 1}\n"
                                 "extends: national\ngroup_by: [组]\n", "missing.yaml"))
    with pytest.raises(LedgerError) as caught:
        read_ledger(path, missing)
    assert "has no column '组'" in caught.value.render()
