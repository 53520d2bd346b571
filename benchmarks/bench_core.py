"""Core speed: the compiled fujian_2021 decisions against a hand-written Python function making
the same decisions (benchmarks/handwritten_fujian.py), on the same validated households.

    python benchmarks/bench_core.py [N]        (default 20,000 households)

Evaluation only: the records are parsed and validated first, then moved out of the garbage
collector's reach (gc.freeze), as in the anchors workload. Every output is checked equal on
the keys the hand-written function returns (lists compared as sets). Prints records/s and the
ratio compiled / hand-written (best of 5 runs each, alternated).
"""

from __future__ import annotations

import gc
import sys
from datetime import date
from typing import Any

from bench_support import AS_OF, FUJIAN, best_of, machine


def same(ours: Any, theirs: Any) -> bool:
    if isinstance(theirs, list | set | tuple) and isinstance(ours, list | set | tuple):
        if any(isinstance(item, dict) for item in (*ours, *theirs)):  # warnings: in order
            return list(ours) == list(theirs)
        return set(ours) == set(theirs)
    if isinstance(theirs, dict) and isinstance(ours, dict):
        return ours.keys() == theirs.keys() and all(same(ours[k], theirs[k]) for k in theirs)
    return bool(ours == theirs)


def main(n: int) -> None:
    from gen_households import generate_lines

    from fangpin_rules import load_policy
    from fangpin_rules.engine.records import parse_json

    from handwritten_fujian import FujianParameters, decide

    policy = load_policy(FUJIAN)
    when = date.fromisoformat(AS_OF)
    households = [policy.validate(parse_json(line)) for line in generate_lines(n)]
    params = FujianParameters()
    compiled = policy.evaluator(when)
    mismatches = []
    for household in households:
        theirs = decide(household, when, params)
        ours = compiled(household)
        wrong = [k for k in theirs if not same(ours[k], theirs[k])]
        if wrong:
            mismatches.append((household.household_id, wrong))
    gc.collect()
    gc.freeze()
    times = {"compiled": float("inf"), "hand-written": float("inf")}
    for _ in range(5):
        times["compiled"] = min(times["compiled"], best_of(
            1, lambda: [compiled(h) for h in households]))
        times["hand-written"] = min(times["hand-written"], best_of(
            1, lambda: [decide(h, when, params) for h in households]))
    print(f"bench_core: {n:,} households, {machine()}")
    for name, seconds in times.items():
        print(f"  {name:13s} {n / seconds:12,.0f} records/s")
    print(f"  ratio compiled / hand-written: {times['hand-written'] / times['compiled']:.2f}")
    print(f"  outputs equal: {n - len(mismatches):,} of {n:,}")
    for household_id, keys in mismatches[:5]:
        print(f"    differs: {household_id} {keys}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000)
