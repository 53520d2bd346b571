"""A region table is read once and bounded: a CSV cell past MAX_TABLE_CELL_CHARS (also past the
csv module's own 131,072) or rows past MAX_TABLE_ROWS are errors at their line and column, never
a crash; the table must be a regular file or a pipe (docs/security.md)."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fangpin_rules.cli.main import main
from fangpin_rules.limits import MAX_TABLE_CELL_CHARS
from fangpin_rules.source import csv_rows

from support import FUJIAN, ROOT

HEADER = "region_code,name,parameter,from,value,source\n"
ROW = "350121,闽侯县,monitoring_line,2022-01-01,9000,"  # the source cell starts at column 44


def _check(table: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["check", str(FUJIAN), "--regions", str(table)])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


@pytest.mark.parametrize("length", [MAX_TABLE_CELL_CHARS + 1, 140_000])
@pytest.mark.parametrize("quoted", [False, True], ids=["plain", "quoted"])
def test_an_over_long_cell_is_an_error_at_its_row_and_column(
        tmp_path: Path, length: int, quoted: bool, capsys: pytest.CaptureFixture[str]) -> None:
    cell = "x" * length
    table = tmp_path / "table.csv"
    table.write_text(HEADER + ROW + "ok\n" + ROW + (f'"{cell}"' if quoted else cell) + "\n",
                     encoding="utf-8")
    limit_before = csv.field_size_limit()
    code, output = _check(table, capsys)
    assert code == 2 and "Traceback" not in output
    assert f"{table}:3:44: error[cell-too-long]: the cell 'source' is longer than " \
           f"{MAX_TABLE_CELL_CHARS:,} characters" in output
    assert csv.field_size_limit() == limit_before  # the process-wide bound is left as found


def test_rows_past_the_bound_are_an_error_at_the_first_one_too_many(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(csv_rows, "MAX_TABLE_ROWS", 2)
    table = tmp_path / "table.csv"
    table.write_text(HEADER + "".join(f"{ROW}src{i}\n" for i in range(3)), encoding="utf-8")
    code, output = _check(table, capsys)
    assert code == 2 and f"{table}:4:1: error[table-too-long]" in output


def test_a_region_table_must_be_a_regular_file(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "folder.csv").mkdir()
    code, output = _check(tmp_path / "folder.csv", capsys)
    assert code == 2 and "error[not-a-file]" in output and "Traceback" not in output


def test_a_region_table_piped_in_is_read_once() -> None:
    table = (ROOT / "policies" / "regions" / "fujian_example_regions.yaml").read_bytes()
    env = {k: v for k, v in os.environ.items() if k != "FANGPIN_POLICY_PATH"}
    env["PYTHONPATH"] = str(ROOT / "src")
    done = subprocess.run([sys.executable, "-m", "fangpin_rules.cli.main", "check", str(FUJIAN),
                           "--regions", "/dev/stdin"], input=table, capture_output=True,
                          timeout=60, env=env, check=False)
    assert done.returncode == 0, done.stderr.decode()
    assert b"3 region(s)" in done.stdout + done.stderr


def test_a_quote_left_open_is_an_error_where_it_opens_not_data_lost(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    table = tmp_path / "table.csv"
    table.write_text(HEADER + '350121,"闽侯县,monitoring_line,2022-01-01,9000,\n'
                     + ROW + "ok\n", encoding="utf-8")
    code, output = _check(table, capsys)
    assert code == 2 and f"{table}:2:1: error[csv-syntax]" in output, output


def test_a_row_of_too_many_cells_is_one_error(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    table = tmp_path / "table.csv"
    table.write_text(HEADER + ROW + "ok" + ",x" * 5000 + "\n", encoding="utf-8")
    code, output = _check(table, capsys)
    assert code == 2 and f"{table}:2:1: error[row-too-wide]" in output
    assert "FAILED (1 error(s)" in output
