"""The anchors workload (shared/bench/anchors-workload.md) in our language
(benchmarks/anchors_policy.yaml, which declares the workload's own record schema), against the
workload's hand-written reference (shared/bench/anchors/handwritten.py), beside the figures
that file gives for other engines.

    python benchmarks/bench_anchors.py [N]        (default 100,000 records, seed of the file)

As the workload prescribes: every output is checked against the reference for all records, and
only evaluation is timed (records parsed and validated first, then gc.freeze()). Best of 3.

Numbers: the records carry floats; we read them as exact decimals (parse_json), the reference
computes in binary floating point. per_capita and per_capita_after_rigid are compared with a
relative tolerance of 1e-9 (a float keeps ~16 digits); booleans, the category and the measures
must be equal exactly (a comparison that lands on the other side of a line only through float
rounding would show up here as a mismatch, and is reported).
"""

from __future__ import annotations

import gc
import importlib.util
import json
import subprocess
import sys
from datetime import date
from decimal import Decimal
from typing import Any

from bench_support import DATA, HERE, best_of, machine, shared_bench

TOLERANCE = Decimal("1e-9")
NUMERIC = ("per_capita", "per_capita_after_rigid")
# The figures of anchors-workload.md (records/s, ratio to hand-written, ratio with default GC).
OTHERS = [
    ("hand-written Python (reference)", "290,000", "1.00", "1.00"),
    ("zen-engine (Rust core), one compiled expression", "66,700", "0.23", "0.39"),
    ("panzi-json-logic", "11,900", "0.041", "0.081"),
    ("rule-engine", "1,330", "0.0046", "0.0093"),
    ("cel-python (lark grammar, compiled runner)", "665", "0.0023", "0.0052"),
    ("polars, vectorised, data already in columns", "827,000", "2.85", "5.6"),
    ("numpy, vectorised, data already in columns", "18,700,000", "64", "129"),
]


def agrees(ours: dict[str, Any], theirs: dict[str, Any]) -> list[str]:
    wrong = []
    for key, expected in theirs.items():
        got = ours[key]
        if key in NUMERIC:
            exact = Decimal(repr(expected))
            if abs(got - exact) > TOLERANCE * max(abs(exact), Decimal(1)):
                wrong.append(key)
        elif got != expected:
            wrong.append(key)
    return wrong


def _from_arrow(decision: dict[str, Any]) -> dict[str, Any]:
    """A decision of the columnar engine with its numbers as Decimals, as `agrees` reads."""
    for key in NUMERIC:
        if decision.get(key) is not None:
            decision[key] = Decimal(decision[key])
    return decision


def _from_float(decision: dict[str, Any]) -> dict[str, Any]:
    """A decision computed in floats, its numbers as the Decimals their text spells."""
    for key in NUMERIC:
        decision[key] = Decimal(repr(decision[key]))
    return decision


def main(n: int) -> None:
    from fangpin_rules import load_policy
    from fangpin_rules.engine.records import parse_json

    bench = shared_bench() / "anchors"
    spec = importlib.util.spec_from_file_location("anchors_handwritten",
                                                  bench / "handwritten.py")
    assert spec is not None and spec.loader is not None
    reference = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(reference)

    DATA.mkdir(exist_ok=True)
    path = DATA / f"anchors-{n}.jsonl"
    if not path.exists():
        subprocess.run([sys.executable, str(bench / "gen_households.py"), str(n), str(path)],
                       check=True)
    lines = path.read_text(encoding="utf-8").splitlines()
    policy = load_policy(HERE / "anchors_policy.yaml")
    when = date(2021, 1, 1)
    ours_records = [policy.validate(parse_json(line)) for line in lines]
    their_records = [json.loads(line) for line in lines]
    compiled = policy.evaluator(when)
    evaluate = reference.evaluate

    mismatches = []
    for record, plain in zip(ours_records, their_records, strict=True):
        wrong = agrees(compiled(record), evaluate(plain))
        if wrong:
            mismatches.append((plain["household_id"], wrong))

    # In columns: the columnar engine (whole call and query alone), polars and numpy by hand.
    import anchors_vectorised as vec

    from fangpin_rules.columnar import decide_batch, input_schema, records_to_arrow
    from fangpin_rules.columnar.engine import columnar_plan, decide_validated

    table = records_to_arrow(policy, their_records)
    validated = table.cast(input_schema(policy))
    columnar_plan(policy, when)
    in_columns = vec.columns(their_records)
    column_outputs = {
        "columnar": [_from_arrow(d) for d in decide_batch(
            policy, table, when, engine="columnar").decisions.to_pylist()],
        "polars": [_from_float(d) for d in vec.polars_version(in_columns).to_dicts()]}
    try:
        import numpy  # noqa: F401 - optional: not every environment has it
        column_outputs["numpy"] = [_from_float(d) for d in
                                   vec.numpy_records(vec.numpy_version(in_columns))]
    except ImportError:
        numpy_missing = True
    else:
        numpy_missing = False
    wrong_in_columns = {name: sum(1 for got, plain in zip(outputs, their_records, strict=True)
                                  if agrees(got, evaluate(plain)))
                        for name, outputs in column_outputs.items()}

    gc.collect()
    gc.freeze()
    ours = best_of(3, lambda: [compiled(r) for r in ours_records])
    theirs = best_of(3, lambda: [evaluate(r) for r in their_records])
    timed = {
        "fangpin-rules, decide_batch(engine='columnar'), Arrow table":
            best_of(3, lambda: decide_batch(policy, table, when, engine="columnar")),
        "fangpin-rules, columnar query on validated rows":
            best_of(3, lambda: decide_validated(policy, validated, when)),
        "fangpin-rules, decide_batch(engine='record'), Arrow table":
            best_of(3, lambda: decide_batch(policy, table, when, engine="record")),
        "polars by hand, vectorised, data in columns (this run)":
            best_of(3, lambda: vec.polars_version(in_columns)),
    }
    if not numpy_missing:
        timed["numpy by hand, vectorised, data in columns (this run)"] = \
            best_of(3, lambda: vec.numpy_version(in_columns))
    gc.unfreeze()

    print(f"bench_anchors: {n:,} records, {machine()}")
    print(f"  outputs equal to the reference: {n - len(mismatches):,} of {n:,}"
          f" (numbers within {TOLERANCE} relative)")
    for household_id, keys in mismatches[:5]:
        print(f"    differs: {household_id} {keys}")
    for name, wrong in wrong_in_columns.items():
        print(f"  {name}: outputs equal to the reference for {n - wrong:,} of {n:,}")
    if numpy_missing:
        print("  numpy is not installed here: its figure is anchors-workload.md's below")
    print("  measured here (one process, gc.freeze, best of 3, CPU time):")
    print(f"    {'hand-written Python (reference)':58s} {n / theirs:>12,.0f} records/s  1.00")
    print(f"    {'fangpin-rules, compiled policy':58s} {n / ours:>12,.0f} records/s  "
          f"{theirs / ours:.2f}")
    for name, seconds in timed.items():
        print(f"    {name:58s} {n / seconds:>12,.0f} records/s  {theirs / seconds:.2f}")
    print("  anchors-workload.md (another run; compare ratios, not absolute figures):")
    for name, rate, ratio, default_gc in OTHERS:
        print(f"    {name:50s} {rate:>12} records/s  {ratio} (default GC {default_gc})")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
