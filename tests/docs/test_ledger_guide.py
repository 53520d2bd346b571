"""docs/ledger-guide.md is true: its generator commands, its Python example and every console
example run as shown (in a copy of the repository's policy and examples), its reject line is
the one written, its county format is the file it names, its error is the one given, and its
sheets table names the workbook's sheets in both languages."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest

from fangpin_rules.cli.main import main
from fangpin_rules.ledger import synthetic

from support import ROOT

DOC = ROOT / "docs" / "ledger-guide.md"
TEXT = DOC.read_text(encoding="utf-8")
CONSOLES = re.findall(r"```console\n(.*?)```", TEXT, flags=re.S)
[SHELL] = re.findall(r"```sh\n(.*?)```", TEXT, flags=re.S)
[PYTHON] = re.findall(r"```python\n(.*?)```", TEXT, flags=re.S)
[REJECT] = re.findall(r"<!-- first line of rejects.jsonl -->\n```json\n(.*?)```", TEXT,
                      flags=re.S)
[EXCERPT] = re.findall(r"<!-- excerpt of (\S+) -->\n```yaml\n(.*?)```", TEXT, flags=re.S)
[ERROR] = re.findall(r"```\n(…/ledger/formats/national.yaml:.*?)```", TEXT, flags=re.S)
[SHEETS] = re.findall(r"<!-- sheets -->\n(.*?)\n\n", TEXT, flags=re.S)


def _matches(expected: str, actual: str) -> bool:
    position = 0
    for part in (p.strip() for p in expected.split("…")):
        found = actual.find(part, position)
        if found < 0:
            return False
        position = found + len(part)
    return True


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("guide")
    (folder / "policies").mkdir()
    shutil.copy(ROOT / "policies" / "fujian_2021.yaml", folder / "policies")
    (folder / "examples").mkdir()
    for name in ("households.jsonl", "cases.jsonl"):
        shutil.copy(ROOT / "examples" / name, folder / "examples")
    shutil.copytree(ROOT / "examples" / "ledger", folder / "examples" / "ledger")
    shutil.copytree(ROOT / "examples" / "population", folder / "examples" / "population")
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        for command in SHELL.replace("\\\n", " ").splitlines():
            if command.startswith("python -m fangpin_rules.ledger.synthetic"):
                assert synthetic.main(shlex.split(command)[3:]) == 0
        exec(compile(PYTHON, str(DOC), "exec"), {})
        yield folder
    finally:
        os.chdir(cwd)


def test_the_guide_has_its_examples() -> None:
    assert len(CONSOLES) == 8


def test_the_generator_command_is_the_tested_one() -> None:
    from ledger.test_synthetic_and_example import EXAMPLE_COMMAND

    joined = SHELL.replace("\\\n", " ")
    expected = " ".join(EXAMPLE_COMMAND).replace("national_export.", "examples/ledger/"
                                                 "national_export.")
    assert expected in " ".join(joined.split())


@pytest.mark.parametrize("block", CONSOLES,
                         ids=[f"{i}-{b.split()[4][:40]}" for i, b in enumerate(CONSOLES)])
def test_console_example(block: str, workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    command, *expected = block.rstrip("\n").splitlines()
    assert command.startswith("$ fangpin ")
    os.chdir(workdir)
    code = main(shlex.split(command)[2:])
    captured = capsys.readouterr()
    assert code == (1 if "--rejects" in command else 0)
    if "…" in block:
        assert _matches("\n".join(expected), captured.err + captured.out), captured.err
    else:  # shown whole: exactly what is printed
        assert captured.err.splitlines() == expected


def test_the_reject_line_is_the_one_written(workdir: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    os.chdir(workdir)
    broken = next(b for b in CONSOLES if "--rejects" in b)
    main(shlex.split(broken.splitlines()[0])[2:])
    capsys.readouterr()
    first = (workdir / "rejects.jsonl").read_text("utf-8").splitlines()[0]
    assert json.loads(first) == json.loads(REJECT)


def test_the_county_format_is_its_file() -> None:
    path, block = EXCERPT
    assert block in (ROOT / path).read_text(encoding="utf-8")


def test_the_missing_column_error(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    os.chdir(workdir)
    book = openpyxl.load_workbook("examples/ledger/national_export.xlsx")
    sheet = book["监测对象信息"]
    [cell] = [c for c in sheet[3] if c.value == "家庭年纯收入"]
    cell.value = "家庭年收入"
    book.save("county.xlsx")
    assert main(["eval", "policies/fujian_2021.yaml", "county.xlsx", "--as-of",
                 "2021-09-01"]) == 2
    err = capsys.readouterr().err
    assert _matches(ERROR, err), err


def test_the_sheets_table_names_the_sheets(workdir: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    os.chdir(workdir)
    rows = [line.split("|")[1:3] for line in SHEETS.splitlines()[2:]]
    zh = [cell.strip() for cell, _ in rows]
    en = [cell.strip() for _, cell in rows]
    common = ["eval", "policies/fujian_2021.yaml", "examples/households.jsonl", "--cases",
              "examples/cases.jsonl", "--as-of", "2021-09-01"]
    assert main([*common, "-o", "zh.xlsx"]) == 0
    assert main([*common, "-o", "en.xlsx", "--lang", "en"]) == 0
    capsys.readouterr()
    assert openpyxl.load_workbook("zh.xlsx").sheetnames == zh
    assert openpyxl.load_workbook("en.xlsx").sheetnames == [e.strip("`") for e in en]


def test_the_monthly_ledger_workbook(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    os.chdir(workdir)
    [block] = [b for b in CONSOLES if "report ledger" in b]
    assert main(shlex.split(block.splitlines()[0])[2:]) == 0
    capsys.readouterr()
    book = openpyxl.load_workbook("ledger.xlsx")
    assert book.sheetnames == ["月度台账汇总", "说明"]
    header, *rows = book["月度台账汇总"].iter_rows(values_only=True)
    assert header[:3] == ("区划代码", "层级", "研判户数") and rows[-1][0] == "合计"


def test_the_speed_table_is_the_benchmarks() -> None:
    table = TEXT.split("<!-- bench -->\n", 1)[1].split("\n\n", 1)[0]
    assert "xlsxwriter" in table and "csv GB18030" in table
    header = table.splitlines()[0]
    for column in ("read s", "decide s", "write s", "peak MB"):
        assert column in header
