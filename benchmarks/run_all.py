"""Run every benchmark in turn, each in its own process, and print their figures.

    python benchmarks/run_all.py          (the figures in docs/performance.md)
    python benchmarks/run_all.py --quick  (smaller inputs: a minute, for a first look)
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

FULL = [
    ["bench_load.py"],
    ["bench_core.py", "20000"],
    ["bench_stages.py", "20000"],
    ["bench_anchors.py", "100000"],
    ["bench_end_to_end.py", "100000", "1000000", "--jobs", "1", "2"],
    ["bench_ledger_report.py", "100000", "1000000"],
    ["bench_ledger.py", "100000"],
    ["bench_instructions.py", "3000"],  # needs valgrind; skipped without it
]
QUICK = [
    ["bench_load.py"],
    ["bench_core.py", "2000"],
    ["bench_stages.py", "2000"],
    ["bench_anchors.py", "10000"],
    ["bench_end_to_end.py", "20000", "--jobs", "1", "2"],
    ["bench_ledger_report.py", "20000"],
    ["bench_ledger.py", "10000"],
]


def main() -> int:
    plan = QUICK if "--quick" in sys.argv[1:] else FULL
    failed = 0
    for script, *args in plan:
        if script == "bench_instructions.py" and shutil.which("valgrind") is None:
            print("bench_instructions: skipped (valgrind is not installed)\n", flush=True)
            continue
        done = subprocess.run([sys.executable, str(HERE / script), *args], check=False)
        failed += done.returncode != 0
        print(flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
