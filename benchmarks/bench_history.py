"""Monitoring history over monthly snapshots: households per second and peak memory.

    python benchmarks/bench_history.py [--households 100000] [--months 1,12]
        [--engine record,columnar]

The monthly files (benchmarks/data/history-N/YYYY-MM.jsonl, written when missing) hold the
same N household ids, sorted, with each month's data drawn afresh by gen_households.py (seed =
month): a harsh history, in which statuses and incomes change every month. Each run is a fresh
process, so that its peak resident memory (ru_maxrss) is its own; memory should stay flat as
the months grow (the files are merged by id, one household at a time). Rates are per CPU
second: on a shared machine, wall time counts the waits for a core.
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT / "src"))

_ID = re.compile(r'"household_id":"G\d+-\d{6}-(\d{7})"')
YEAR = 2022
PROGRESS = 100_000  # households between two progress lines of a child


def month_files(n: int, months: int) -> list[tuple[str, Path]]:
    from gen_households import generate_lines

    folder = HERE / "data" / f"history-{n}"
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for month in range(1, months + 1):
        label = f"{YEAR}-{month:02d}"
        path = folder / f"{label}.jsonl"
        if not path.exists():
            partial = path.with_suffix(".partial")
            with partial.open("w", encoding="utf-8") as out:
                for line in generate_lines(n, seed=month, as_of=date(YEAR, month, 1)):
                    out.write(_ID.sub(r'"household_id":"H\1"', line) + "\n")
            partial.rename(path)
        files.append((label, path))
    return files


def child(n: int, months: int, engine: str) -> None:
    from fangpin_rules import load_policy
    from fangpin_rules.population.history import HistoryRun, MonthFile, history

    policy = load_policy(ROOT / "policies" / "fujian_2021.yaml")
    files = month_files(n, months)
    streams = [path.open(encoding="utf-8") for _, path in files]
    counts = HistoryRun()
    started, cpu_started = time.perf_counter(), time.process_time()
    for _ in history(policy, [MonthFile(label, str(path), stream)
                              for (label, path), stream in zip(files, streams, strict=True)],
                     run=counts, engine=engine):
        if counts.households % PROGRESS == 0:  # a long run says how far it is, on stderr
            print(json.dumps(_figures(counts, started, cpu_started)), file=sys.stderr,
                  flush=True)
    print(json.dumps(_figures(counts, started, cpu_started)))


def _figures(counts: Any, started: float, cpu_started: float) -> dict[str, Any]:
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"households": counts.households, "decided": counts.decided,
            "rejected": counts.rejected, "seconds": time.perf_counter() - started,
            "cpu": time.process_time() - cpu_started, "peak_mib": peak_kib / 1024,
            "findings": counts.findings}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--months", default="1,12", help="month counts to run, comma-separated")
    parser.add_argument("--engine", default="record",
                        help="engines to run, comma-separated: record, columnar")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.households, args.child, args.engine)
        return 0
    counts = [int(m) for m in args.months.split(",")]
    month_files(args.households, max(counts))  # written before any run is timed
    for engine, months in ((e, m) for e in args.engine.split(",") for m in counts):
        done = subprocess.run([sys.executable, __file__, "--households", str(args.households),
                               "--child", str(months), "--engine", engine],
                              capture_output=True, text=True, check=True)
        figures = json.loads(done.stdout)
        # CPU time: on a shared machine the wall time counts the waits for a core
        rate = figures["households"] / figures["cpu"]
        print(f"{engine:>8}: {figures['households']:>9,} households x {months:>2} months: "
              f"{figures['cpu']:7.1f} s CPU ({figures['seconds']:.1f} s wall), "
              f"{rate:8,.0f} households/s "
              f"({figures['decided'] / figures['cpu']:,.0f} monthly records/s), "
              f"peak memory {figures['peak_mib']:.0f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
