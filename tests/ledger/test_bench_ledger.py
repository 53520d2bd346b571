"""benchmarks/bench_ledger.py measures what it says: a read in a process of its own, its
rows, households and peak memory (here on a small ledger)."""

from __future__ import annotations

from pathlib import Path

import pytest

from fangpin_rules.ledger.synthetic import synthetic_ledger, write_xlsx

from support import ROOT, benchmark_module


def test_the_benchmark_reads_a_ledger_in_its_own_process(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))  # its bench_support
    bench = benchmark_module("bench_ledger")
    ledger = synthetic_ledger(30, seed=3)
    write_xlsx(ledger, tmp_path / "l.xlsx")
    figures = bench.measure(tmp_path / "l.xlsx")
    assert figures["rows"] == len(ledger.rows)
    assert figures["households"] == 30 and figures["encoding"] == "xlsx"
    assert float(figures["seconds"]) > 0 and float(figures["peak_mb"]) > 10
