"""The monthly ledger at scale: `fangpin report ledger --by village` over synthetic households
with 12-digit village codes, as a county office runs it.

    python benchmarks/bench_ledger_report.py [N ...]   (default 100000)

The households are gen_households.py's, each given a township and a village below its county
(20 townships of 15 villages, by its number), written once into benchmarks/data/ (git-ignored).
Each run is its own process; its CPU time and peak resident memory are read from the kernel
(os.wait4). Memory must not grow with N: the households stream, and only the rows of the
regions are held.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from bench_end_to_end import run

from bench_support import DATA, FUJIAN, machine

_REGION = re.compile(r'"region_code": ?"(\d{6})"')
MONTH = "2021-08"  # gen_households' records are of 2021-09-01: the month before it


def village_households(n: int) -> Path:
    from gen_households import generate_lines

    DATA.mkdir(exist_ok=True)
    path = DATA / f"ledger-households-{n}.jsonl"
    if not path.exists():
        partial = path.with_suffix(".partial")
        with partial.open("w", encoding="utf-8") as out:
            for number, line in enumerate(generate_lines(n)):
                township, village = 101 + number % 20, 201 + (number // 20) % 15
                out.write(_REGION.sub(lambda m, t=township, v=village:
                                      f'"region_code":"{m.group(1)}{t}{v}"', line) + "\n")
        partial.rename(path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("sizes", nargs="*", type=int, default=[100_000])
    args = parser.parse_args()
    print(f"bench_ledger_report: fangpin report ledger --by village, {machine()}")
    print(f"  {'households':>10} {'wall s':>8} {'households/s':>12} {'CPU s':>8} "
          f"{'per CPU-second':>14} {'peak RSS MB':>11}")
    for n in args.sizes:
        path = village_households(n)
        seconds, cpu, peak = run([sys.executable, "-m", "fangpin_rules.cli.main", "report",
                                  "ledger", str(FUJIAN), str(path), "--month", MONTH, "--by",
                                  "village", "--format", "csv", "-o",
                                  str(DATA / "ledger.csv")])
        print(f"  {n:>10,} {seconds:>8.1f} {n / seconds:>12,.0f} {cpu:>8.1f} "
              f"{n / cpu:>14,.0f} {peak:>11.1f}", flush=True)


if __name__ == "__main__":
    main()
