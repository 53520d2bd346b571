"""`fangpin eval … -o decisions.xlsx|decisions.csv`: the spreadsheet equals the JSON lines."""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path
from typing import Any, get_args

import openpyxl
import pytest

from fangpin_rules.cli.main import main
from fangpin_rules.engine.policy import load_policy
from fangpin_rules.ledger.write import STATUS_WORDS
from fangpin_rules.model.decision import DeadlineStatus

from support import FUJIAN, ROOT, household

HOUSEHOLDS = ROOT / "examples" / "households.jsonl"
CASES = ROOT / "examples" / "cases.jsonl"


# the example households (examples/households.jsonl), one decision row each
EXAMPLE_COUNT = sum(1 for line in (ROOT / "examples" / "households.jsonl").read_text(
    encoding="utf-8").splitlines() if line.strip())


def _eval(*extra: str) -> int:
    return main(["eval", str(FUJIAN), *extra, "--as-of", "2021-09-01"])


def _expected(value: Any, kind: str, labels: dict[str, str]) -> Any:
    """What a cell shows for a JSON value, worked out here from the policy's vocabularies."""
    if value is None:
        return None
    if kind == "bool":
        return "是" if value else "否"
    if isinstance(value, list):
        return "、".join(labels[v] for v in value) if value else "无"
    if isinstance(value, str):
        return labels.get(value, value)
    return Decimal(str(value))


def test_xlsx_from_json_lines_equals_its_json_decisions(tmp_path: Path) -> None:
    jsonl, xlsx = tmp_path / "d.jsonl", tmp_path / "d.xlsx"
    assert _eval(str(HOUSEHOLDS), "--cases", str(CASES), "-o", str(jsonl)) == 0
    assert _eval(str(HOUSEHOLDS), "--cases", str(CASES), "-o", str(xlsx)) == 0
    decisions = [json.loads(line, parse_float=Decimal)
                 for line in jsonl.read_text().splitlines()]
    book = openpyxl.load_workbook(xlsx)
    assert book.sheetnames == ["决策结果", "数据提示", "未判定记录", "办理时限", "月度台账汇总",
                              "说明"]
    header, *rows = book["决策结果"].iter_rows(values_only=True)
    assert len(rows) == len(decisions) == EXAMPLE_COUNT
    checked = load_policy(FUJIAN).checked
    titles = {checked.output_name(n): checked.document.decisions[n] for n in checked.outputs}
    compared = 0
    for decision, row in zip(decisions, rows, strict=True):
        cells = dict(zip(header, row, strict=True))
        assert cells["户编号"] == decision["household_id"]
        for key, spec in titles.items():
            title = spec.title.zh if not isinstance(spec.title, str) else spec.title
            node = checked.nodes[next(n for n in checked.outputs
                                      if checked.output_name(n) == key)]
            if node.fields:
                continue
            vocab = getattr(getattr(node.type, "inner", node.type), "vocabulary", None) \
                or getattr(node.type, "inner", node.type)
            labels = {k: zh for k, (zh, _en) in
                      checked.vocabularies[vocab.name].labels.items()} \
                if getattr(vocab, "name", None) in checked.vocabularies else {}
            kind = "bool" if isinstance(decision[key], bool) else "other"
            shown = cells[title.split("（")[0]]
            if isinstance(shown, int | float):
                shown = Decimal(str(shown))
            elif isinstance(shown, str) and isinstance(decision[key], Decimal | int) \
                    and not isinstance(decision[key], bool):
                shown = Decimal(shown)
            assert shown == _expected(decision[key], kind, labels), (key, decision[key])
            compared += 1
    assert compared > EXAMPLE_COUNT * 10
    deadlines = list(book["办理时限"].iter_rows(values_only=True))[1:]
    assert len(deadlines) == sum(len(d["deadlines"]) for d in decisions) > 0
    statuses = {row[5] for row in deadlines}
    assert statuses and statuses <= {zh for zh, _en in STATUS_WORDS.values()}
    assert set(get_args(DeadlineStatus)) == set(STATUS_WORDS)  # every status has its words
    about = {r[0]: r[1] for r in book["说明"].iter_rows(values_only=True)}
    assert (about["读取户数"], about["判定户数"], about["未判定户数"]) == \
        (EXAMPLE_COUNT, EXAMPLE_COUNT, 0)


def test_csv_output_in_english(tmp_path: Path) -> None:
    out = tmp_path / "d.csv"
    assert _eval(str(HOUSEHOLDS), "-o", str(out), "--lang", "en") == 0
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert rows[0][:2] == ["household id", "Annual net income per capita"]
    assert len(rows) == EXAMPLE_COUNT + 1  # and the header
    values = dict(zip(rows[0], rows[1], strict=True))
    assert values["Monitoring category"] == "formerly poor, not yet stable"


def test_rejects_go_to_their_file_and_the_rejects_sheet(tmp_path: Path) -> None:
    records = tmp_path / "in.jsonl"
    records.write_text(json.dumps(household(household_id="A")) + "\n{not json\n"
                       + json.dumps(household(household_id="C", net_incme=5)) + "\n")
    xlsx, rejects = tmp_path / "d.xlsx", tmp_path / "r.jsonl"
    assert _eval(str(records), "-o", str(xlsx), "--rejects", str(rejects)) == 1
    lines = [json.loads(line) for line in rejects.read_text().splitlines()]
    assert [(r["line"], r["household_id"]) for r in lines] == [(2, None), (3, "C")]
    book = openpyxl.load_workbook(xlsx)
    rows = list(book["未判定记录"].iter_rows(values_only=True))[1:]
    assert [(r[1], r[3], r[6]) for r in rows] == [(None, 2, None), ("C", 3, "net_incme")]
    assert len(list(book["决策结果"].iter_rows())) == 2


def test_mask_hides_ids_in_the_workbook_and_the_rejects(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    person = "350181199001011234"
    records = tmp_path / "in.jsonl"
    records.write_text(json.dumps(household(household_id=person)) + "\n"
                       + json.dumps(household(household_id=person[:-1] + "5", size=-1)) + "\n")
    xlsx = tmp_path / "d.xlsx"
    assert _eval(str(records), "-o", str(xlsx), "--mask") == 1
    err = capsys.readouterr().err
    assert person[:-1] not in err and "350181********1235" in err
    book = openpyxl.load_workbook(xlsx)
    assert book["决策结果"]["A2"].value == "350181********1234"
    assert book["未判定记录"]["B2"].value == "350181********1235"


def test_lang_and_mask_need_a_spreadsheet_output(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _eval(str(HOUSEHOLDS), "-o", str(tmp_path / "d.jsonl"), "--mask") == 2
    assert "--mask" in capsys.readouterr().err
    assert not (tmp_path / "d.jsonl").exists()
    assert _eval(str(HOUSEHOLDS), "-o", str(tmp_path / "d.xlsx"), "--rejects",
                 str(tmp_path / "r.xlsx")) == 2
    assert "sheet of the workbook" in capsys.readouterr().err
    assert not (tmp_path / "d.xlsx").exists() and not (tmp_path / "r.xlsx").exists()


def test_a_failed_run_leaves_the_previous_workbook(tmp_path: Path) -> None:
    xlsx = tmp_path / "d.xlsx"
    xlsx.write_bytes(b"previous")
    assert _eval(str(tmp_path / "missing.jsonl"), "-o", str(xlsx)) == 2
    assert xlsx.read_bytes() == b"previous"
    assert [p.name for p in tmp_path.iterdir()] == ["d.xlsx"]


def test_a_decisions_warnings_are_rows_of_the_warnings_sheet(tmp_path: Path) -> None:
    child = {"member_id": "2", "birth_date": "2012-03-01", "labour_capacity": "normal",
             "health": "healthy"}
    records = tmp_path / "in.jsonl"
    records.write_text(json.dumps(household(household_id="W-1", members=[
        household()["members"][0], child])) + "\n" + json.dumps(household()) + "\n")
    xlsx = tmp_path / "d.xlsx"
    assert _eval(str(records), "-o", str(xlsx)) == 0
    book = openpyxl.load_workbook(xlsx)
    rows = list(book["数据提示"].iter_rows(values_only=True))[1:]
    assert rows == [("W-1", "未满16周岁的成员登记有劳动能力（不计为劳动力）", "第2位成员的劳动能力",
                     "members[1].labour_capacity", "§18")]
    english = tmp_path / "en.xlsx"
    assert _eval(str(records), "-o", str(english), "--lang", "en") == 0
    [row] = list(openpyxl.load_workbook(english)["warnings"].iter_rows(values_only=True))[1:]
    assert row[1].startswith("A member under 16") and row[2] == "member 2's labour capacity"


def test_an_id_with_a_lone_surrogate_is_written_as_its_escape(tmp_path: Path) -> None:
    records = tmp_path / "in.jsonl"
    records.write_text(json.dumps(household(household_id="\ud800x")) + "\n", encoding="ascii")
    xlsx = tmp_path / "d.xlsx"
    assert _eval(str(records), "-o", str(xlsx)) == 1  # rejected, and the workbook written
    [row] = list(openpyxl.load_workbook(xlsx)["未判定记录"].iter_rows(values_only=True))[1:]
    assert row[1] == "\\ud800x"
