"""docs/ledger-output.md is true: its console examples run as shown (in a copy of the policy
and the examples), the workbook has the sheets its table names in both languages, and its
Python example writes the summary sheet it says."""

from __future__ import annotations

import os
import re
import shlex
import shutil
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest

from fangpin_rules.cli.main import main

from support import ROOT

DOC = ROOT / "docs" / "ledger-output.md"
TEXT = DOC.read_text(encoding="utf-8")
CONSOLES = re.findall(r"```console\n(.*?)```", TEXT, flags=re.S)
[PYTHON] = re.findall(r"```python\n(.*?)```", TEXT, flags=re.S)
[SHEETS] = re.findall(r"<!-- sheets -->\n(.*?)\n\n", TEXT, flags=re.S)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("output-guide")
    (folder / "policies").mkdir()
    shutil.copy(ROOT / "policies" / "fujian_2021.yaml", folder / "policies")
    (folder / "examples").mkdir()
    for name in ("households.jsonl", "cases.jsonl"):
        shutil.copy(ROOT / "examples" / name, folder / "examples")
    shutil.copytree(ROOT / "examples" / "ledger", folder / "examples" / "ledger")
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        yield folder
    finally:
        os.chdir(cwd)


def test_the_guide_has_its_examples() -> None:
    assert len(CONSOLES) == 3


@pytest.mark.parametrize("block", CONSOLES, ids=["xlsx", "csv", "ledger"])
def test_console_example(block: str, workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    command, *expected = block.rstrip("\n").splitlines()
    assert command.startswith("$ fangpin ")
    assert main(shlex.split(command)[2:]) == 0
    assert capsys.readouterr().err.splitlines() == expected


def test_the_sheets_table_names_the_sheets(workdir: Path) -> None:
    rows = [line.split("|")[1:3] for line in SHEETS.splitlines()[2:]]
    zh = [cell.strip() for cell, _ in rows]
    en = [cell.strip() for _, cell in rows]
    assert main(["eval", "policies/fujian_2021.yaml", "examples/households.jsonl", "--cases",
                 "examples/cases.jsonl", "--as-of", "2021-09-01", "-o", "zh.xlsx"]) == 0
    assert main(["eval", "policies/fujian_2021.yaml", "examples/households.jsonl", "--cases",
                 "examples/cases.jsonl", "--as-of", "2021-09-01", "-o", "en.xlsx",
                 "--lang", "en"]) == 0
    assert openpyxl.load_workbook("zh.xlsx").sheetnames == zh
    assert openpyxl.load_workbook("en.xlsx").sheetnames == [e.strip("`") for e in en]


def test_the_python_example_writes_a_summary_sheet(workdir: Path) -> None:
    exec(compile(PYTHON, str(DOC), "exec"), {})
    sheet = openpyxl.load_workbook("summary.xlsx")["月度汇总"]
    assert [row for row in sheet.iter_rows(values_only=True)] == [
        ("月份", "监测户数", "帮扶资金"), ("2021-08", 12, 71519.9), ("2021-09", 15, 8000)]
    assert sheet.freeze_panes == "A2"
