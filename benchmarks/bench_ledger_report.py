"""The monthly ledger at scale: `fangpin report ledger --by village` over synthetic households
with 12-digit village codes, as a county office runs it.

    python benchmarks/bench_ledger_report.py [N ...]   (default 100000)
        [--input jsonl,parquet] [--engine record,columnar]

The same households may be read from a Parquet file (written once beside the JSON lines), and
decided by either engine: each pair is its own run, in one invocation, so their ratios are of
one machine's moment.

The households are gen_households.py's, each given a township and a village below its county
(20 townships of 15 villages, by its number), written once into benchmarks/data/ (git-ignored).
Each run is its own process; its CPU time and peak resident memory are read from the kernel
(os.wait4). Memory must not grow with N: the households stream, and only the rows of the
regions are held.
"""

from __future__ import annotations

import argparse
import itertools
import json
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


def village_table(n: int) -> Path:
    """The households of `village_households(n)` as a Parquet file (the engine's input
    schema), written a chunk at a time."""
    import pyarrow.parquet as pq

    from fangpin_rules import load_policy
    from fangpin_rules.columnar import records_to_arrow

    path = DATA / f"ledger-households-{n}.parquet"
    if path.exists():
        return path
    policy = load_policy(FUJIAN)
    partial = path.with_suffix(".partial")
    with village_households(n).open(encoding="utf-8") as lines:
        writer = None
        while chunk := [json.loads(line) for line in itertools.islice(lines, 20_000)]:
            table = records_to_arrow(policy, chunk)
            writer = writer or pq.ParquetWriter(partial, table.schema)
            writer.write_table(table)
        if writer is not None:
            writer.close()
    partial.rename(path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("sizes", nargs="*", type=int, default=[100_000])
    parser.add_argument("--input", default="jsonl", help="jsonl, parquet or both (comma)")
    parser.add_argument("--engine", default="record", help="record, columnar or both (comma)")
    args = parser.parse_args()
    print(f"bench_ledger_report: fangpin report ledger --by village, {machine()}")
    print(f"  {'households':>10} {'input':>7} {'engine':>8} {'wall s':>8} {'households/s':>12} "
          f"{'CPU s':>8} {'per CPU-second':>14} {'peak RSS MB':>11}")
    for n in args.sizes:
        for kind in args.input.split(","):
            path = village_table(n) if kind == "parquet" else village_households(n)
            for engine in args.engine.split(","):
                seconds, cpu, peak = run([
                    sys.executable, "-m", "fangpin_rules.cli.main", "report", "ledger",
                    str(FUJIAN), str(path), "--month", MONTH, "--by", "village", "--format",
                    "csv", "-o", str(DATA / "ledger.csv"), "--engine", engine])
                print(f"  {n:>10,} {kind:>7} {engine:>8} {seconds:>8.1f} {n / seconds:>12,.0f} "
                      f"{cpu:>8.1f} {n / cpu:>14,.0f} {peak:>11.1f}", flush=True)


if __name__ == "__main__":
    main()
