"""The monthly ledger summary as a sheet: `fangpin report ledger -o ledger.xlsx` (Chinese
headers, `--lang en`), and the summary sheet of the decisions workbook, both reopened with
openpyxl and held equal to the population package's ledger worked out on its own."""

from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path
from typing import Any, get_args

import openpyxl
import pytest

from fangpin_rules.cli.main import main
from fangpin_rules.engine.policy import load_policy
from fangpin_rules.ledger.summary import _SOURCES, FigureWords, month_to
from fangpin_rules.model.case import CaseSource
from fangpin_rules.population.deciding import decide_households
from fangpin_rules.population.ledger import ledger_columns, monthly_ledger

from support import FUJIAN, ROOT

POPULATION = ROOT / "examples" / "population"
EXAMPLE = ROOT / "examples" / "ledger"


def _sheet_rows(path: Path, name: str) -> list[tuple[Any, ...]]:
    return list(openpyxl.load_workbook(path)[name].iter_rows(values_only=True))


def test_every_figure_has_words_in_both_languages() -> None:
    policy = load_policy(FUJIAN)
    assert set(_SOURCES) == set(get_args(CaseSource))
    for lang in ("zh", "en"):
        words = FigureWords(policy, lang)
        for column in ledger_columns(policy):
            assert words(column) != column and "." not in words(column), column
    assert FigureWords(policy, "zh")("steps.overdue.§7") == "逾期未办环节：§7"
    assert FigureWords(policy, "en")("warnings.unknown_code") == "warning: unknown_code"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_report_ledger_as_a_workbook(tmp_path: Path, lang: str,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    common = ["report", "ledger", str(FUJIAN), str(POPULATION / "households-2021-11.jsonl"),
              "--month", "2021-11", "--cases", str(POPULATION / "cases.jsonl"),
              "--by", "township"]
    assert main([*common, "-o", str(tmp_path / "l.json")]) == 0
    assert main([*common, "-o", str(tmp_path / "l.xlsx"), "--lang", lang]) == 0
    capsys.readouterr()
    table = json.loads((tmp_path / "l.json").read_text("utf-8"))
    book = openpyxl.load_workbook(tmp_path / "l.xlsx")
    name = "月度台账汇总" if lang == "zh" else "monthly ledger"
    assert book.sheetnames == [name, "说明" if lang == "zh" else "about"]
    header, *rows = _sheet_rows(tmp_path / "l.xlsx", name)
    words = FigureWords(load_policy(FUJIAN), lang)
    assert list(header) == [words("region"), words("level"),
                            *(words(c) for c in table["columns"])]
    assert header[2] == ("研判户数" if lang == "zh" else "households screened")
    expected = [[r["region"], *(r["figures"][c] for c in table["columns"])]
                for r in [*table["rows"], table["total"]]]
    assert [[row[0], *row[2:]] for row in rows[:-1]] == expected[:-1]
    assert list(rows[-1][2:]) == expected[-1][1:]  # the total
    assert rows[-1][0] == ("合计" if lang == "zh" else "total")
    assert book[name].freeze_panes == "A2"
    about = {row[0]: row[1] for row in _sheet_rows(tmp_path / "l.xlsx", book.sheetnames[1])}
    assert about["households read" if lang == "en" else "读取户数"] == table["rows"][0][
        "figures"]["screened"] + sum(r["figures"]["screened"] for r in table["rows"][1:])


def test_report_ledger_lang_needs_a_workbook(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "ledger", str(FUJIAN), str(POPULATION / "households-2021-11.jsonl"),
                 "--month", "2021-11", "--lang", "en", "-o", str(tmp_path / "l.csv")]) == 2
    assert "--lang is for a workbook" in capsys.readouterr().err


def _independent(records: Path, as_of: str, cases: Path | None = None) -> list[list[Any]]:
    """The ledger of the date's month up to the date, by population's own functions."""
    policy = load_policy(FUJIAN)
    case_map: dict[str, list[Any]] = {}
    if cases is not None:
        from fangpin_rules.cli.eval import read_cases

        with cases.open(encoding="utf-8") as source:
            case_map, _, _ = read_cases(source, io.StringIO())
    with records.open(encoding="utf-8") as source:
        table = monthly_ledger(policy, decide_households(
            policy, source, date.fromisoformat(as_of), cases=case_map,
            on_reject=lambda _: None), month_to(date.fromisoformat(as_of)))
    return [[row.region, *(row.figures[c] for c in table.columns)]
            for row in [*table.rows, *([table.total] if table.total else [])]]


@pytest.mark.parametrize(("records", "cases", "jobs"), [
    (ROOT / "examples" / "households.jsonl", ROOT / "examples" / "cases.jsonl", "1"),
    (POPULATION / "households-2021-11.jsonl", POPULATION / "cases.jsonl", "2"),
    (EXAMPLE / "national_export.xlsx", None, "1"),
], ids=["examples", "population-jobs-2", "ledger"])
def test_the_decisions_workbook_carries_the_months_summary(
        records: Path, cases: Path | None, jobs: str, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    as_of = "2021-11-30" if "population" in str(records) else "2021-09-01"
    out = tmp_path / "d.xlsx"
    code = main(["eval", str(FUJIAN), str(records), "--as-of", as_of, "-o", str(out),
                 "--jobs", jobs, *(["--cases", str(cases)] if cases else [])])
    capsys.readouterr()
    assert code in (0, 1)
    header, *rows = _sheet_rows(out, "月度台账汇总")
    twin = EXAMPLE / "national_export.jsonl" if records.suffix == ".xlsx" else records
    expected = _independent(twin, as_of, cases)
    assert [[row[0], *row[2:]] for row in rows[:-1]] == expected[:-1]
    assert list(rows[-1][2:]) == expected[-1][1:]
    screened = header.index("研判户数")
    decided = openpyxl.load_workbook(out)["决策结果"].max_row - 1
    assert rows[-1][screened] == decided


def test_a_csv_output_has_no_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "d.csv"
    assert main(["eval", str(FUJIAN), str(ROOT / "examples" / "households.jsonl"), "--as-of",
                 "2021-09-01", "-o", str(out)]) == 0
    capsys.readouterr()
    assert "月度台账" not in out.read_text("utf-8-sig")
