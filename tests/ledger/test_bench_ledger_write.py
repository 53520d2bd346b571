"""benchmarks/bench_ledger_write.py measures what it says: a write in a process of its own, its
rows, the file's size and peak memory (here on the example decisions)."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from fangpin_rules.cli.main import main

from support import FUJIAN, ROOT, benchmark_module

EXAMPLE_COUNT = sum(1 for line in (ROOT / "examples" / "households.jsonl").read_text(
    encoding="utf-8").splitlines() if line.strip())


def test_the_benchmark_writes_in_its_own_process(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))  # its bench_support
    bench = benchmark_module("bench_ledger_write")
    decisions = tmp_path / "d.jsonl"
    assert main(["eval", str(FUJIAN), str(ROOT / "examples" / "households.jsonl"),
                 "--as-of", "2021-09-01", "-o", str(decisions)]) == 0
    for suffix in ("xlsx", "csv"):
        target = tmp_path / f"d.{suffix}"
        figures = bench.measure(decisions, target)
        assert figures["rows"] == EXAMPLE_COUNT and figures["bytes"] == target.stat().st_size
        assert float(figures["seconds"]) > 0 and float(figures["peak_mb"]) > 10
    assert openpyxl.load_workbook(tmp_path / "d.xlsx")["决策结果"].max_row == EXAMPLE_COUNT + 1
