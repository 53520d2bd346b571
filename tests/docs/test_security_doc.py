"""docs/security.md is true: its table of limits gives every constant of limits.py, with the
value the code uses; its exit codes are the CLI's, and its example gives the output it shows."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest

from fangpin_rules import limits
from fangpin_rules.cli import common
from fangpin_rules.cli.main import main

from support import ROOT

TEXT = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
RUNS_END = TEXT.split("## How runs end", 1)[1].split("\n## ", 1)[0]


def test_the_limits_table_is_the_code() -> None:
    table = {name: int(value.replace(",", "")) for name, value in
             re.findall(r"^\| `(MAX_\w+)` \| ([\d,]+) \|", TEXT, flags=re.M)}
    constants = {name: value for name, value in vars(limits).items() if name.startswith("MAX_")}
    assert table and table == constants


def test_the_exit_code_table_is_the_clis() -> None:
    table = {int(code) for code in re.findall(r"^\| (\d+) \|", RUNS_END, flags=re.MULTILINE)}
    assert table == {common.EXIT_OK, common.EXIT_REJECTED, common.EXIT_USAGE, common.EXIT_IO,
                     common.EXIT_SIGINT, common.EXIT_SIGTERM}


def test_the_refused_output_example_says_what_it_shows(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    block = RUNS_END.split("```console", 1)[1].split("```", 1)[0].strip().splitlines()
    command, shown = block[0].strip().removeprefix("$ "), block[1].strip()
    # Run where the files are copies: if the refusal regressed, no real file is lost.
    for relative in ("policies/fujian_2021.yaml", "examples/households.jsonl"):
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / relative, tmp_path / relative)
    before = (tmp_path / "examples" / "households.jsonl").read_bytes()
    monkeypatch.chdir(tmp_path)
    assert main(shlex.split(command)[1:]) == common.EXIT_USAGE
    assert capsys.readouterr().err.strip() == shown
    assert (tmp_path / "examples" / "households.jsonl").read_bytes() == before
