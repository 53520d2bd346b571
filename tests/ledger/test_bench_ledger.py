"""benchmarks/bench_ledger.py measures what it says: a ledger read, decided and written in a
process of its own, each stage timed with the peak memory after it, and xlsxwriter's own
ceiling on the same rows (here on a small ledger)."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from fangpin_rules.ledger.synthetic import synthetic_ledger, write_csv, write_xlsx

from support import ROOT, benchmark_module


def test_the_benchmark_reads_decides_and_writes_in_its_own_process(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))  # its bench_support
    bench = benchmark_module("bench_ledger")
    support = benchmark_module("bench_support")
    ledger = synthetic_ledger(30, seed=3)
    write_xlsx(ledger, tmp_path / "l.xlsx")
    write_csv(ledger, tmp_path / "l.csv", "gb18030")
    script = ROOT / "benchmarks" / "bench_ledger.py"
    for kind in ("xlsx", "csv"):
        target = tmp_path / f"d.{kind}"
        figures = support.run_measured(script, ["--stages", str(tmp_path / f"l.{kind}"),
                                                str(target)])
        assert figures["rows"] == len(ledger.rows) and figures["households"] == 30
        assert figures["encoding"] == ("xlsx" if kind == "xlsx" else "GB18030")
        assert all(float(figures[stage]) > 0 for stage in ("read", "decide", "write"))
        peaks = [float(figures[f"{stage}_peak"]) for stage in ("read", "decide", "write")]
        assert peaks == sorted(peaks) and peaks[-1] <= float(figures["peak_mb"]) + 1
        assert target.exists()
    assert openpyxl.load_workbook(tmp_path / "d.xlsx")["决策结果"].max_row == 31
    ceiling = support.run_measured(script, ["--ceiling", str(tmp_path / "l.xlsx"),
                                            str(tmp_path / "c.xlsx")])
    assert ceiling["rows"] == 30 and float(ceiling["write"]) > 0
    assert openpyxl.load_workbook(tmp_path / "c.xlsx")["decisions"].max_row == 31
    assert bench.MEAN_MEMBERS > 1
