"""Impact of a policy revision over many households: throughput and peak memory.

    python benchmarks/bench_impact.py [N ...] [--as-of DATE] [--seed S] [--engine E ...]

For each N (default 100000 and 1000000) it writes N synthetic households once to
benchmarks/data/households-N.jsonl (gen_households.py, deterministic), then runs `impact` of
policies/fujian_2021.yaml against policies/examples/fujian_2021_revised.yaml over the file the
way `fangpin diff --impact` does (streaming JSONL, every record decided under both versions).
It prints households per second and the process's peak RSS at every tenth of the run: a flat
peak from the first tenth to the last is the constant memory the design promises. Then it runs
`attribute` (impact with the attribution of every changed household) over the first
`--attribute N` households (default 20000) and prints its cost per household beside plain
impact's on the same households, and per household attributed. Each run is made with each
`--engine` (default: record, then columnar: the households of a chunk decided in columns under
both versions and attribution's variants), in one process, and the columnar figures are given
as a ratio of the record engine's (CPU seconds). Nothing is asserted about time (machines
differ); the counts must add up (read = compared + rejected) and both engines' reports must be
equal.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from gen_households import generate_lines

from fangpin_rules import load_policy
from fangpin_rules.audit import diff_policies, impact
from fangpin_rules.audit.attribution import attribute
from fangpin_rules.engine.stream import numbered_items

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "benchmarks" / "data"


def _peak_mib() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return peak / 1024 if sys.platform != "darwin" else peak / 2**20


def _households(n: int, seed: int) -> Path:
    path = DATA / f"households-{n}-seed{seed}.jsonl"
    if not path.exists():
        DATA.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        partial = path.with_suffix(".partial")
        with partial.open("w", encoding="utf-8") as out:
            for line in generate_lines(n, seed):
                out.write(line + "\n")
        partial.rename(path)
        print(f"  wrote {path.name} in {time.perf_counter() - started:.1f} s")
    return path


def _checkpoints(items: Iterator[tuple[int, Any]], n: int,
                 marks: list[tuple[int, float, float]]) -> Iterator[tuple[int, Any]]:
    """Pass the records on, noting (count, seconds, peak MiB) at every tenth."""
    step = max(n // 10, 1)
    started = time.perf_counter()
    for count, item in enumerate(items, start=1):
        yield item
        if count % step == 0:
            marks.append((count, time.perf_counter() - started, _peak_mib()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[100_000, 1_000_000])
    parser.add_argument("--as-of", default="2022-03-01")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--attribute", type=int, default=20_000, metavar="N",
                        help="households to attribute (0: none)")
    parser.add_argument("--engine", action="append", choices=("record", "columnar"),
                        help="the engines to run (default both)")
    args = parser.parse_args()
    engines = args.engine or ["record", "columnar"]

    old = load_policy(ROOT / "policies" / "fujian_2021.yaml")
    new = load_policy(ROOT / "policies" / "examples" / "fujian_2021_revised.yaml")
    for n in args.sizes:
        path = _households(n, args.seed)
        seconds: dict[str, float] = {}
        reports = {}
        for engine in engines:
            marks: list[tuple[int, float, float]] = []
            started, cpu = time.perf_counter(), time.process_time()
            with path.open(encoding="utf-8") as source:
                report = impact(old, new, _checkpoints(numbered_items(source), n, marks),
                                args.as_of, numbered=True, engine=engine)
            wall, seconds[engine] = time.perf_counter() - started, time.process_time() - cpu
            reports[engine] = report.to_json()
            assert report.read == report.compared + report.rejected == n
            print(f"impact over {n:,} households ({args.as_of}), {engine} engine: {wall:.1f} s,"
                  f" {n / seconds[engine]:,.0f} households/CPU-s (each decided twice); changed "
                  f"{report.changed:,}, rejected {report.rejected:,}")
            print("  households    seconds   peak RSS MiB")
            for count, at, peak in marks:
                print(f"  {count:>10,}  {at:>9.1f}  {peak:>13.1f}")
        _ratio(seconds, reports)
    if args.attribute:
        _attribution_cost(old, new, _households(args.attribute, args.seed), args.as_of,
                          engines)


def _ratio(seconds: dict[str, float], reports: dict[str, Any]) -> None:
    if len(seconds) == 2:
        assert reports["record"] == reports["columnar"], "the engines' reports differ"
        print(f"  columnar / record, households per CPU-second: "
              f"{seconds['record'] / seconds['columnar']:.2f} (the reports equal)")


def _attribution_cost(old: Any, new: Any, path: Path, as_of: str, engines: list[str]) -> None:
    """Plain impact and impact with attribution over the same households."""
    diff = diff_policies(old, new)
    seconds: dict[str, float] = {}
    reports = {}
    for engine in engines:
        with path.open(encoding="utf-8") as source:
            started = time.process_time()
            plain = impact(old, new, numbered_items(source), as_of, numbered=True,
                           engine=engine)
            plain_seconds = time.process_time() - started
        with path.open(encoding="utf-8") as source:
            started = time.process_time()
            report, attribution = attribute(old, new, diff, numbered_items(source), as_of,
                                            numbered=True, engine=engine)
            seconds[engine] = time.process_time() - started
        reports[engine] = (report.to_json(), attribution.to_json())
        assert report.read == report.compared + report.rejected == plain.read
        assert attribution.households == report.changed == plain.changed
        n, moved = report.read, max(attribution.households, 1)
        print(f"attribution over {n:,} households ({attribution.households:,} changed, "
              f"{attribution.variants_built} policy variants), {engine} engine: "
              f"{seconds[engine]:.1f} CPU-s")
        print(f"  per household: impact {plain_seconds / n * 1e6:,.0f} µs, with attribution "
              f"{seconds[engine] / n * 1e6:,.0f} µs; per household attributed "
              f"{(seconds[engine] - plain_seconds) / moved * 1e3:,.2f} ms more")
    _ratio(seconds, reports)


if __name__ == "__main__":
    main()
