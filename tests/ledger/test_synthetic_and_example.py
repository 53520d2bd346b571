"""The synthetic ledger: valid check digits, every label and date form, merged title rows, a
GB18030 twin; the bundled example is what the documented command makes, and `fangpin eval`
decides every household of it."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import openpyxl
import pytest

from fangpin_rules.cli.main import main
from fangpin_rules.engine.records import parse_json
from fangpin_rules.ledger.format import LedgerFormat, label_tables
from fangpin_rules.ledger.read import read_grid
from fangpin_rules.ledger.synthetic import (
    HEADERS,
    SyntheticLedger,
    id_check_digit,
)
from fangpin_rules.ledger.synthetic import (
    main as generate,
)

from support import FUJIAN, ROOT

EXAMPLE = ROOT / "examples" / "ledger"
# The command docs/ledger-guide.md gives for the bundled example.
EXAMPLE_COMMAND = ["--households", "40", "--seed", "2021",
                   "--xlsx", "national_export.xlsx", "--jsonl", "national_export.jsonl"]


def test_check_digit_of_the_standard_example() -> None:
    # GB 11643-1999's own worked example, and one ending in a digit
    assert id_check_digit("11010519491231002") == "X"
    assert id_check_digit("44052418800101001") == "4"


def test_every_id_number_is_valid_and_unique(ledger: SyntheticLedger) -> None:
    column = HEADERS.index("证件号码")
    numbers = [row[column].value for row in ledger.rows]
    assert len(set(numbers)) == len(numbers)
    assert all(len(n) == 18 and id_check_digit(n[:17]) == n[17] for n in numbers)


def test_every_label_and_date_form_appears(ledger: SyntheticLedger,
                                           national: LedgerFormat) -> None:
    shown = Counter(cell.value for row in ledger.rows for cell in row if cell.kind == "text")
    for table in ("labour_capacity", "health", "household_type", "monitoring_status",
                  "category", "yes_no", "disability_grade"):
        missing = [label for label in label_tables(national)[table] if label not in shown]
        assert not missing, (table, missing)
    dates = [row[HEADERS.index("出生日期")] for row in ledger.rows]
    kinds = {cell.kind for cell in dates if cell.kind != "text"} | {
        "YYYYMM" if len(cell.value) == 6 else "YYYYMMDD" if len(cell.value) == 8
        else cell.value[4] for cell in dates if cell.kind == "text"}
    assert kinds == {"date", "YYYYMM", "YYYYMMDD", "-", "/"}
    assert {cell.kind for row in ledger.rows for cell in row} >= {"number", "formula", "text"}


def test_decisions_vary(ledger: SyntheticLedger, fujian: object) -> None:
    from fangpin_rules import Policy

    assert isinstance(fujian, Policy)
    decisions = [fujian.evaluate(record, "2021-09-01") for record in ledger.records]
    assert {d["in_range"] for d in decisions} == {True, False}
    assert len({d["category"] for d in decisions}) >= 3


def test_title_rows_are_merged_and_the_csv_twin_is_gb18030(
        ledger_files: dict[str, Path]) -> None:
    book = openpyxl.load_workbook(ledger_files["xlsx"])
    sheet = book.active
    assert sheet is not None
    merged = {str(r) for r in sheet.merged_cells.ranges}
    assert {"A1:AK1", "A2:AK2"} <= merged
    assert [c.value for c in sheet[3]] == HEADERS
    raw = ledger_files["GB18030"].read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    assert read_grid(str(ledger_files["GB18030"]), None).encoding == "GB18030"


def test_the_bundled_example_is_what_the_command_makes(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert generate(EXAMPLE_COMMAND) == 0
    assert (tmp_path / "national_export.jsonl").read_bytes() == (
        EXAMPLE / "national_export.jsonl").read_bytes()
    made = read_grid(str(tmp_path / "national_export.xlsx"), None)
    bundled = read_grid(str(EXAMPLE / "national_export.xlsx"), None)
    assert list(made.rows) == list(bundled.rows) and made.sheet == bundled.sheet


def test_eval_decides_every_household_of_the_example(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out.jsonl"
    code = main(["eval", str(FUJIAN), str(EXAMPLE / "national_export.xlsx"),
                 "--as-of", "2021-09-01", "-o", str(out)])
    err = capsys.readouterr().err
    twin = [parse_json(line) for line in
            (EXAMPLE / "national_export.jsonl").read_text("utf-8").splitlines()]
    decisions = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert code == 0
    assert [d["household_id"] for d in decisions] == [r["household_id"] for r in twin]
    # the formula's 7151.990000000001 is 7151.99: a fen under the 7152 line, in range
    assert (decisions[0]["per_capita_income"], decisions[0]["in_range"]) == (7151.99, True)
    assert f"read {len(twin)}, decided {len(twin)}, rejected 0" in err
    assert "header on row 3" in err and "监测对象信息!R4 read as 7151.99" in err
    # the same bytes as the JSON-lines twin's decisions
    twin_out = tmp_path / "twin.jsonl"
    assert main(["eval", str(FUJIAN), str(EXAMPLE / "national_export.jsonl"),
                 "--as-of", "2021-09-01", "-o", str(twin_out)]) == 0
    assert out.read_bytes() == twin_out.read_bytes()


def test_eval_of_a_gb18030_csv_says_its_encoding_with_jobs(
        ledger_files: dict[str, Path], tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out.jsonl"
    assert main(["eval", str(FUJIAN), str(ledger_files["GB18030"]), "--as-of", "2021-09-01",
                 "-o", str(out), "--jobs", "2"]) == 0
    assert "encoding GB18030" in capsys.readouterr().err
    twin_out = tmp_path / "twin.jsonl"
    assert main(["eval", str(FUJIAN), str(ledger_files["jsonl"]), "--as-of", "2021-09-01",
                 "-o", str(twin_out)]) == 0
    assert out.read_bytes() == twin_out.read_bytes()


def test_eval_refuses_a_ledger_format_for_json_lines(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["eval", str(FUJIAN), str(EXAMPLE / "national_export.jsonl"), "--as-of",
                 "2021-09-01", "--ledger-format", "national", "-o", str(tmp_path / "o")])
    assert code == 2 and "--ledger-format is for a ledger" in capsys.readouterr().err


def test_eval_reports_a_broken_format_at_its_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    county = tmp_path / "county.yaml"
    county.write_text("ledger_format: {id: c, version: 1}\nextends: national\nsheets: x\n",
                      encoding="utf-8")
    code = main(["eval", str(FUJIAN), str(EXAMPLE / "national_export.xlsx"), "--as-of",
                 "2021-09-01", "--ledger-format", str(county), "-o", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2
    assert f"{county}:3:1: error[unknown-key]: unknown key 'sheets'" in err
    assert "did you mean 'sheet'?" in err and "the ledger was not read" in err
    assert not (tmp_path / "o").exists()


def test_eval_of_a_file_that_is_not_a_workbook(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    fake = tmp_path / "ledger.xlsx"
    fake.write_text("not a workbook", encoding="utf-8")
    code = main(["eval", str(FUJIAN), str(fake), "--as-of", "2021-09-01"])
    err = capsys.readouterr().err
    assert code == 2 and "is not a readable .xlsx workbook" in err
    assert "Traceback" not in err


def test_an_output_naming_the_ledger_is_refused(ledger_files: dict[str, Path], tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    import shutil

    ledger = tmp_path / "l.xlsx"
    shutil.copy(ledger_files["xlsx"], ledger)
    before = ledger.read_bytes()
    code = main(["eval", str(FUJIAN), str(ledger), "--as-of", "2021-09-01", "-o", str(ledger)])
    assert code == 2 and "Traceback" not in capsys.readouterr().err
    assert ledger.read_bytes() == before


def test_a_ledgers_cases_are_counted_as_json_lines_are(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The run around the decision loop is eval's own: cases read, used and rejected, and
    the deadlines sheet, the same for a ledger as for its JSON-lines twin."""
    case = {"case_id": "C-1", "household_id": "350121-00001", "source": "routine_visit",
            "received_on": "2021-08-02", "assigned_on": "2021-08-05"}
    cases = tmp_path / "cases.jsonl"
    cases.write_text(json.dumps(case) + "\n" + json.dumps({**case, "case_id": "C-2",
                                                           "household_id": "nobody"}) + "\n"
                     + "{not json\n", encoding="utf-8")
    notes = []
    for source in ("national_export.xlsx", "national_export.jsonl"):
        out = tmp_path / f"{source}.xlsx"
        assert main(["eval", str(FUJIAN), str(EXAMPLE / source), "--as-of", "2021-09-01",
                     "--cases", str(cases), "-o", str(out)]) == 1
        notes.append(capsys.readouterr().err.splitlines()[-1])
        sheet = openpyxl.load_workbook(out)["办理时限"]
        assert {row[1] for row in sheet.iter_rows(min_row=2, values_only=True)} - {None} == {
            "C-1"}
    assert notes[0] == notes[1]
    assert notes[0].endswith("; cases: read 3, used 1, rejected 1")
