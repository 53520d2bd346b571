"""Instructions per record, counted by valgrind's callgrind: repeatable where timings are not.

The machines these benchmarks run on are shared, and the same timing drifts by a third between
minutes. An instruction count is the same for the same code, input and interpreter whatever the
machine is doing, so it shows what a change saved (or cost) to the percent; it is not a time,
and the ratios it gives leave out what the processor's caches and branch predictor do.

    python benchmarks/bench_instructions.py [N]      (default 3,000 households; needs valgrind)

Counted: the compiled policy and the hand-written function on the same typed records; the
stages of the streaming path (read, decide, write); and whole runs of `fangpin eval` and of
benchmarks/handwritten_eval.py, each counted on N households and on none, the difference
divided by N (what start-up costs drops out).
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench_support import AS_OF, FUJIAN, HERE, ROOT, households_file, machine

# Run inside valgrind: counts are collected only while map() steps, i.e. over the records.
PART = r'''
import sys
sys.path[:0] = [{src!r}, {here!r}]
from datetime import date
from fangpin_rules import load_policy
from fangpin_rules.engine.serialize import decision_writer
from fangpin_rules.engine.typed_json import typed_reader
from handwritten_fujian import FujianParameters, decide
policy = load_policy({policy!r})
when = date.fromisoformat({as_of!r})
reader = typed_reader(policy.checked.record_model)
lines = open({data!r}, encoding="utf-8").read().splitlines()[:{n}]
records = [reader.decode(line) for line in lines]
fast = policy.evaluator(when)
params = FujianParameters()
writer = decision_writer(policy.checked)
decisions = [policy.decide_record(fast, r, when) for r in records]
import gc
gc.disable()
what = {what!r}
if what == "compiled":
    list(map(lambda r: fast(r), records))
elif what == "hand-written":
    list(map(lambda r: decide(r, when, params), records))
elif what == "read":
    list(map(reader.decode, lines))
elif what == "write":
    list(map(writer.encode, decisions))
'''


def count(command: list[str], *, only_map: bool) -> int:
    """Instructions callgrind counts for the command (only inside map() when asked)."""
    flags = ["--collect-atstart=no", "--toggle-collect=map_next"] if only_map else []
    done = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
                           *flags, *command], capture_output=True, text=True, check=False,
                          env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    for line in done.stderr.splitlines():
        if "Collected :" in line:
            return int(line.rsplit(":", 1)[1])
    raise SystemExit(f"callgrind gave no count for {command}:\n{done.stderr[-2000:]}")


def part(what: str, data: Path, n: int) -> int:
    code = PART.format(src=str(ROOT / "src"), here=str(HERE), policy=str(FUJIAN), as_of=AS_OF,
                       data=str(data), n=n, what=what)
    return count([sys.executable, "-c", code], only_map=True)


def whole(command: list[str]) -> int:
    return count(command, only_map=False)


def main(n: int) -> None:
    if shutil.which("valgrind") is None:
        raise SystemExit("bench_instructions needs valgrind (Debian: apt install valgrind)")
    data = households_file(20_000 if n <= 20_000 else n)
    with tempfile.TemporaryDirectory() as tmp:
        sample, empty = Path(tmp) / "sample.jsonl", Path(tmp) / "empty.jsonl"
        with data.open(encoding="utf-8") as source:
            sample.write_text("".join(itertools.islice(source, n)), encoding="utf-8")
        empty.write_text("", encoding="utf-8")
        out = Path(tmp) / "out.jsonl"

        def eval_run(path: Path) -> int:
            return whole([sys.executable, "-m", "fangpin_rules.cli.main", "eval", str(FUJIAN),
                          str(path), "--as-of", AS_OF, "-o", str(out)])

        def handwritten_run(path: Path) -> int:
            return whole([sys.executable, str(HERE / "handwritten_eval.py"), str(path),
                          str(Path(tmp) / f"hand-{path.stem}.jsonl")])

        jobs = {
            "compiled": lambda: part("compiled", sample, n),
            "hand-written": lambda: part("hand-written", sample, n),
            "read": lambda: part("read", sample, n),
            "write": lambda: part("write", sample, n),
            "eval N": lambda: eval_run(sample), "eval 0": lambda: eval_run(empty),
            "hand N": lambda: handwritten_run(sample), "hand 0": lambda: handwritten_run(empty),
        }
        with ThreadPoolExecutor(os.cpu_count() or 1) as pool:
            futures = {name: pool.submit(job) for name, job in jobs.items()}
            got = {name: future.result() / n for name, future in futures.items()}
    print(f"bench_instructions: {n:,} households, instructions per record, {machine()}")
    print(f"  {'the decisions, compiled policy':40s} {got['compiled']:>10,.0f}")
    print(f"  {'the decisions, hand-written function':40s} {got['hand-written']:>10,.0f}")
    print(f"  ratio hand-written / compiled: {got['hand-written'] / got['compiled']:.2f}")
    print(f"  {'read (typed reader)':40s} {got['read']:>10,.0f}")
    print(f"  {'write (DecisionWriter)':40s} {got['write']:>10,.0f}")
    engine = got["eval N"] - got["eval 0"]
    hand = got["hand N"] - got["hand 0"]
    print(f"  {'fangpin eval, per record':40s} {engine:>10,.0f}")
    print(f"  {'hand-written eval job, per record':40s} {hand:>10,.0f}")
    print(f"  ratio hand-written / fangpin eval: {hand / engine:.2f}")
    print(f"  start-up: fangpin eval {got['eval 0'] * n / 1e9:.2f} G instructions, "
          f"hand-written job {got['hand 0'] * n / 1e9:.2f} G")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3_000)
