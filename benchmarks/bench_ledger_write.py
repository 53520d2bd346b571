"""Spreadsheet ledgers out: write times and peak memory for N households' decisions.

    python benchmarks/bench_ledger_write.py [N]          (default 100000)

The decisions are the engine's own, for the generator's households (gen_households.py),
decided once into benchmarks/data/decisions-N.jsonl (git-ignored). Each write runs in a process
of its own, so that its peak resident memory (os.wait4) is the writer's: the JSON lines are
fed to the spreadsheet output in chunks, as `fangpin eval` feeds them, and written through the
run's atomic outputs. The time is the write's alone (parsing the lines and writing the rows),
not the deciding.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from bench_support import AS_OF, DATA, FUJIAN, ROOT, households_file, machine

CHUNK_LINES = 4096


def decisions_file(n: int) -> Path:
    """benchmarks/data/decisions-N.jsonl: the generator's N households decided, once."""
    path = DATA / f"decisions-{n}.jsonl"
    if not path.exists():
        partial = path.with_suffix(".partial")
        subprocess.run([sys.executable, "-m", "fangpin_rules.cli.main", "eval", str(FUJIAN),
                        str(households_file(n)), "--as-of", AS_OF, "-o", str(partial)],
                       cwd=ROOT, check=True, env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
                       stderr=subprocess.DEVNULL)
        partial.rename(path)
    return path


def write_once(decisions: str, target: str, lang: str = "zh") -> dict[str, object]:
    """Write one spreadsheet from the decisions in this process: seconds and rows."""
    from fangpin_rules.cli.ledger_output import SpreadsheetOutput
    from fangpin_rules.cli.outputs import Outputs
    from fangpin_rules.engine.policy import load_policy

    policy = load_policy(FUJIAN)
    args = argparse.Namespace(output=target, lang=lang, mask=False, cases=None)
    rows = 0
    started = time.perf_counter()
    with Outputs() as outputs, open(decisions, encoding="utf-8") as source:
        sheet = SpreadsheetOutput(outputs, args, policy)
        chunk: list[str] = []
        for line in source:
            chunk.append(line)
            if len(chunk) == CHUNK_LINES:
                sheet.decisions.write("".join(chunk))
                rows += len(chunk)
                chunk = []
        sheet.decisions.write("".join(chunk))
        rows += len(chunk)
        sheet.finish(AS_OF, rows, rows, 0)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "rows": rows, "bytes": os.path.getsize(target)}


def measure(decisions: Path, target: Path) -> dict[str, object]:
    process = subprocess.Popen([sys.executable, __file__, "--write-once", str(decisions),
                                str(target)], cwd=ROOT, stdout=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    assert process.stdout is not None
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"writing {target} failed")
    figures: dict[str, object] = json.loads(process.stdout.read())
    figures["peak_mb"] = usage.ru_maxrss / 1024
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("households", nargs="?", type=int, default=100_000)
    parser.add_argument("--write-once", nargs=2, metavar=("DECISIONS", "TARGET"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.write_once:
        print(json.dumps(write_once(*args.write_once)))
        return
    print(machine())
    decisions = decisions_file(args.households)
    print(f"{'output':<8} {'rows':>8} {'write s':>8} {'rows/s':>9} {'MB':>6} {'peak MB':>8}")
    for suffix in ("xlsx", "csv"):
        target = DATA / f"decisions-{args.households}.{suffix}"
        figures = measure(decisions, target)
        seconds = float(str(figures["seconds"]))
        rows = int(str(figures["rows"]))
        print(f"{suffix:<8} {rows:>8,} {seconds:>8.2f} {rows / seconds:>9,.0f} "
              f"{int(str(figures['bytes'])) / 2**20:>6.1f} "
              f"{float(str(figures['peak_mb'])):>8.0f}")


if __name__ == "__main__":
    main()
