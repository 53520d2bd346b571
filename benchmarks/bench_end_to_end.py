"""End to end: `fangpin eval` over synthetic households, JSONL in and out, as a user runs it.

    python benchmarks/bench_end_to_end.py [N ...] [--jobs J ...]   (default 100000 1000000, 1 2)

The inputs are written once by gen_households.py into benchmarks/data/ (git-ignored). Each run
is its own process; its CPU time and peak resident memory are read from the kernel (os.wait4),
so they cover the whole run, workers included. Records per CPU-second is the speed per core,
which a shared machine does not disturb as it does wall time. Memory must not grow with N: the
CLI streams.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

from bench_support import AS_OF, DATA, FUJIAN, ROOT, households_file, machine


def run_eval(path: os.PathLike[str], jobs: int) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds (the run's and its workers') and peak RSS in MB (the largest
    single process) of one `fangpin eval` run."""
    out = DATA / f"decisions-{jobs}.jsonl"
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "fangpin_rules.cli.main", "eval", str(FUJIAN), str(path),
         "--as-of", AS_OF, "-o", str(out), "--jobs", str(jobs)],
        cwd=ROOT, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    assert process.stderr is not None
    summary = process.stderr.read().decode().strip()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"fangpin eval failed: {summary}")
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("sizes", nargs="*", type=int, default=[100_000, 1_000_000])
    parser.add_argument("--jobs", nargs="*", type=int, default=[1, 2])
    args = parser.parse_args()
    print(f"bench_end_to_end: fangpin eval, JSONL in and out, {machine()}")
    print(f"  {'records':>10} {'jobs':>4} {'wall s':>8} {'records/s':>10} {'CPU s':>8} "
          f"{'per CPU-second':>14} {'peak RSS MB':>11}")
    for n in args.sizes:
        path = households_file(n)
        for jobs in args.jobs:
            seconds, cpu, peak = run_eval(path, jobs)
            print(f"  {n:>10,} {jobs:>4} {seconds:>8.1f} {n / seconds:>10,.0f} {cpu:>8.1f} "
                  f"{n / cpu:>14,.0f} {peak:>11.1f}", flush=True)
    first = DATA / "decisions-1.jsonl"
    for jobs in args.jobs[1:]:
        other = DATA / f"decisions-{jobs}.jsonl"
        same = first.read_bytes() == other.read_bytes()
        print(f"  --jobs {jobs} output byte-identical to --jobs 1: {same}")


if __name__ == "__main__":
    main()
