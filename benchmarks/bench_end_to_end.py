"""End to end: `fangpin eval` over synthetic households, JSONL in and out, as a user runs it.

    python benchmarks/bench_end_to_end.py [N ...] [--jobs J ...]   (default 100000 1000000, 1 2)

The inputs are written once by gen_households.py into benchmarks/data/ (git-ignored). Each run
is its own process; its CPU time and peak resident memory are read from the kernel (os.wait4),
so they cover the whole run, workers included. Records per CPU-second is the speed per core,
which a shared machine does not disturb as it does wall time. Memory must not grow with N: the
CLI streams.

Beside each size, the same job written by hand (benchmarks/handwritten_eval.py: msgspec in and
out, the hand-written decisions), and that script reading and writing only: the floor that JSON
in and out sets on this machine. Compare the engine with those, measured in the same run.
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
    return run([sys.executable, "-m", "fangpin_rules.cli.main", "eval", str(FUJIAN), str(path),
                "--as-of", AS_OF, "-o", str(out), "--jobs", str(jobs)])


def run_handwritten(path: os.PathLike[str], decide: bool) -> tuple[float, float, float]:
    script = ROOT / "benchmarks" / "handwritten_eval.py"
    return run([sys.executable, str(script), str(path), str(DATA / "handwritten.jsonl"),
                *([] if decide else ["--decide", "no"])])


def run(command: list[str]) -> tuple[float, float, float]:
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    assert process.stderr is not None
    summary = process.stderr.read().decode().strip()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{command[1]} failed: {summary}")
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("sizes", nargs="*", type=int, default=[100_000, 1_000_000])
    parser.add_argument("--jobs", nargs="*", type=int, default=[1, 2])
    args = parser.parse_args()
    print(f"bench_end_to_end: fangpin eval, JSONL in and out, {machine()}")
    print(f"  {'':34} {'records':>10} {'jobs':>4} {'wall s':>8} {'records/s':>10} "
          f"{'CPU s':>8} {'per CPU-second':>14} {'peak RSS MB':>11}")

    def show(name: str, n: int, jobs: int, figures: tuple[float, float, float]) -> None:
        seconds, cpu, peak = figures
        print(f"  {name:34} {n:>10,} {jobs:>4} {seconds:>8.1f} {n / seconds:>10,.0f} "
              f"{cpu:>8.1f} {n / cpu:>14,.0f} {peak:>11.1f}", flush=True)

    for n in args.sizes:
        path = households_file(n)
        for jobs in args.jobs:
            show("fangpin eval", n, jobs, run_eval(path, jobs))
        show("hand-written, the whole job", n, 1, run_handwritten(path, decide=True))
        show("hand-written, JSON in and out only", n, 1, run_handwritten(path, decide=False))
    first = DATA / "decisions-1.jsonl"
    for jobs in args.jobs[1:]:
        other = DATA / f"decisions-{jobs}.jsonl"
        same = first.read_bytes() == other.read_bytes()
        print(f"  --jobs {jobs} output byte-identical to --jobs 1: {same}")


if __name__ == "__main__":
    main()
