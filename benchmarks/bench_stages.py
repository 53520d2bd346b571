"""Where the time goes between reading a line and writing a decision, per record, in one
process. Reading: the typed fast reader (msgspec straight into the record, decimals exact, the
generated check; engine/typed_json.py) beside the full path it stands in for (`json` with exact
decimals, then pydantic). Deciding: the compiled policy. Writing: the policy's DecisionWriter
beside `dumps`. Then the whole chunked loop of `fangpin eval` with the default garbage collector
and with the collector quieted as the CLI does (engine/stream.py: gc.freeze after loading and a
larger young generation). Timings alternate and keep the best of 5.

    python benchmarks/bench_stages.py [N]      (default 20,000 households)
"""

from __future__ import annotations

import gc
import sys
from datetime import date

from bench_support import AS_OF, FUJIAN, best_of, households_file, machine


def main(n: int) -> None:
    from fangpin_rules import load_policy
    from fangpin_rules.engine.records import parse_json
    from fangpin_rules.engine.serialize import decision_writer, dumps
    from fangpin_rules.engine.stream import ChunkDecider, chunks, quiet_collector
    from fangpin_rules.engine.typed_json import typed_reader

    lines = households_file(n).read_text(encoding="utf-8").splitlines()
    policy = load_policy(FUJIAN)
    when = date.fromisoformat(AS_OF)
    fast = policy.evaluator(when)
    decider = ChunkDecider(policy, when)
    reader = typed_reader(policy.checked.record_model)
    assert reader is not None
    writer = decision_writer(policy.checked)
    parsed = [parse_json(line) for line in lines]
    records = [policy.validate(item) for item in parsed]
    typed = [reader.decode(line) for line in lines]
    assert all(record is not None for record in typed), "the fast reader refused a record"
    decisions = [policy.decide_record(fast, r, when) for r in typed]
    items = list(enumerate(lines, start=1))

    def loop() -> None:
        for chunk in chunks(items):
            decider.decide(chunk)

    stages = {
        "read (typed)": lambda: [reader.decode(line) for line in lines],
        "decide": lambda: [fast(r) for r in typed],
        "write": lambda: [writer.encode(dict(d)) for d in decisions],
    }
    full_path = {
        "parse (json)": lambda: [parse_json(line) for line in lines],
        "validate (pydantic)": lambda: [policy.validate(item) for item in parsed],
        "decide (pydantic record)": lambda: [fast(r) for r in records],
        "write (dumps)": lambda: [dumps(d) for d in decisions],
        "copy (dict, in write)": lambda: [dict(d) for d in decisions],
    }
    gc.disable()
    costs = {name: best_of(5, action) / n * 1e6 for name, action in stages.items()}
    others = {name: best_of(5, action) / n * 1e6 for name, action in full_path.items()}
    gc.enable()
    default_gc = quiet = float("inf")
    thresholds = gc.get_threshold()
    for _ in range(5):  # alternated, so that a busy spell of the machine hits both alike
        gc.unfreeze()
        gc.set_threshold(*thresholds)
        default_gc = min(default_gc, best_of(1, loop))
        quiet_collector()
        quiet = min(quiet, best_of(1, loop))
    print(f"bench_stages: {n:,} households, {machine()}")
    for name, micros in costs.items():
        print(f"  {name:24s} {micros:7.1f} µs/record")
    print(f"  {'sum':24s} {sum(costs.values()):7.1f} µs/record")
    print("  the full path, for comparison (a line the fast reader refuses goes this way):")
    for name, micros in others.items():
        print(f"  {name:24s} {micros:7.1f} µs/record")
    print(f"  eval loop, default GC   {default_gc / n * 1e6:7.1f} µs/record "
          f"({n / default_gc:,.0f}/s)")
    print(f"  eval loop, quiet GC     {quiet / n * 1e6:7.1f} µs/record ({n / quiet:,.0f}/s)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000)
