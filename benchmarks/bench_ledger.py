"""Spreadsheet ledgers: read times and peak memory for member rows in the national layout.

    python benchmarks/bench_ledger.py [ROWS]          (default 100000)

The ledgers (xlsx, and its GB18030 CSV twin) are written once by the synthetic generator
(src/fangpin_rules/ledger/synthetic.py) into benchmarks/data/ (git-ignored). Each read runs in
a process of its own, so that its peak resident memory (os.wait4) is the reader's alone: the
whole sheet is held (a workbook is read whole), the records built from it, nothing decided.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from bench_support import DATA, ROOT, machine

MEAN_MEMBERS = 3.27  # of the generator's households: sizes 1-5 in turn, every 11th 6


def ledger_files(rows: int) -> dict[str, Path]:
    from fangpin_rules.ledger.synthetic import synthetic_ledger, write_csv, write_xlsx

    DATA.mkdir(exist_ok=True)
    files = {"xlsx": DATA / f"ledger-{rows}.xlsx", "csv": DATA / f"ledger-{rows}.csv"}
    if not all(path.exists() for path in files.values()):
        ledger = synthetic_ledger(round(rows / MEAN_MEMBERS), seed=1)
        write_xlsx(ledger, files["xlsx"])
        write_csv(ledger, files["csv"], "gb18030")
    return files


def read_once(path: str) -> dict[str, object]:
    """Read one ledger in this process: seconds, member rows and households."""
    from fangpin_rules.ledger.format import load_format
    from fangpin_rules.ledger.read import read_ledger

    ledger_format = load_format()
    started = time.perf_counter()
    read = read_ledger(path, ledger_format)
    seconds = time.perf_counter() - started
    assert read.rows_read == read.rows_used and not read.rejections
    return {"seconds": seconds, "rows": read.rows_read, "households": len(read.households),
            "encoding": read.encoding}


def measure(path: Path) -> dict[str, object]:
    process = subprocess.Popen([sys.executable, __file__, "--read-once", str(path)], cwd=ROOT,
                               stdout=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    assert process.stdout is not None
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"reading {path} failed")
    figures: dict[str, object] = json.loads(process.stdout.read())
    figures["peak_mb"] = usage.ru_maxrss / 1024
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("rows", nargs="?", type=int, default=100_000)
    parser.add_argument("--read-once", metavar="PATH", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.read_once:
        print(json.dumps(read_once(args.read_once)))
        return
    print(machine())
    files = ledger_files(args.rows)
    print(f"{'ledger':<10} {'rows':>8} {'households':>10} {'read s':>8} {'rows/s':>9} "
          f"{'peak MB':>8}")
    for kind, path in files.items():
        figures = measure(path)
        seconds = float(str(figures["seconds"]))
        rows = int(str(figures["rows"]))
        label = kind if kind == "xlsx" else f"csv {figures['encoding']}"
        print(f"{label:<10} {rows:>8,} {figures['households']:>10,} {seconds:>8.2f} "
              f"{rows / seconds:>9,.0f} {float(str(figures['peak_mb'])):>8.0f}")


if __name__ == "__main__":
    main()
