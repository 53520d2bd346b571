"""Deciding households inside Dask, one Arrow batch per partition.

    python examples/dask_batches.py policies/fujian_2021.yaml households.jsonl 2021-09-01

Dask splits the JSONL file into partitions; each worker process loads the policy once, turns
its partition into an Arrow table (`records_to_arrow`) and decides it as one batch in columns
(`decide_batch(..., engine="columnar")`, docs/columnar.md), the record path's decisions. The
same would run on a Dask cluster: only the scheduler changes. Records outside the data contract
are returned as rejects with their household id. A policy the columnar engine cannot express is
refused before any partition is read, naming the construct (`--engine record` decides it row
by row).
"""

from __future__ import annotations

import sys
from typing import Any

_policies: dict[str, Any] = {}


def _policy(path: str) -> Any:
    from fangpin_rules import load_policy

    if path not in _policies:  # once per worker process
        _policies[path] = load_policy(path)
    return _policies[path]


def decide_partition(lines: list[str], policy_path: str, as_of: str,
                     engine: str = "columnar") -> list[dict[str, Any]]:
    """One partition: JSONL lines in, decision rows and reject rows out."""
    from fangpin_rules import RecordError
    from fangpin_rules.columnar import decide_batch, records_to_arrow
    from fangpin_rules.engine.records import parse_json
    from fangpin_rules.engine.typed_json import typed_reader

    policy = _policy(policy_path)
    reader = typed_reader(policy.checked.record_model)  # fast; None only for odd schemas
    valid: list[Any] = []
    rows: list[dict[str, Any]] = []
    for line in lines:
        if not line.strip():
            continue
        try:
            record = reader.decode(line) if reader is not None else None
            valid.append(record or policy.validate(parse_json(line)))
        except (RecordError, ValueError) as exc:
            reason = exc.rejection.reason if isinstance(exc, RecordError) else str(exc)
            who = exc.rejection.household_id if isinstance(exc, RecordError) else None
            rows.append({"reject": {"household_id": who, "reason": reason}})
    result = decide_batch(policy, records_to_arrow(policy, valid), as_of, engine=engine)
    rows.extend({"decision": row} for row in result.decisions.to_pylist())
    rows.extend({"reject": row} for row in result.rejects.to_pylist())
    return rows


def decide_with_dask(policy_path: str, records_path: str, as_of: str, *,
                     blocksize: int | str = "16MiB", scheduler: str = "processes",
                     workers: int = 2, engine: str = "columnar"
                     ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Decisions and rejects of a JSONL file, computed by Dask on the local machine.
    ColumnarUnsupported (a PolicyError) before any partition when the columnar engine cannot
    express the policy."""
    import dask
    import dask.bag as db

    if engine == "columnar":  # refused here, once, rather than in every worker
        from fangpin_rules.columnar.engine import columnar_plan
        from fangpin_rules.engine.policy import parse_date
        columnar_plan(_policy(policy_path), parse_date(as_of))
    lines = db.read_text(records_path, blocksize=blocksize)
    rows = lines.map_partitions(decide_partition, policy_path, as_of, engine)
    with dask.config.set(scheduler=scheduler, num_workers=workers):
        computed = rows.compute()
    decisions = [row["decision"] for row in computed if "decision" in row]
    rejects = [row["reject"] for row in computed if "reject" in row]
    return decisions, rejects


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(
        description="Decide a JSONL file of households with Dask, one Arrow batch per "
        "partition, and print how many were decided and rejected.")
    parser.add_argument("policy", help="the policy file, e.g. policies/fujian_2021.yaml")
    parser.add_argument("records", help="households, one JSON object a line")
    parser.add_argument("as_of", metavar="DATE", help="evaluation date, YYYY-MM-DD")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--engine", choices=("columnar", "record"), default="columnar",
                        help="decide each partition in columns (default) or row by row")
    args = parser.parse_args(argv)
    from fangpin_rules import PolicyError

    try:
        decided, rejected = decide_with_dask(args.policy, args.records, args.as_of,
                                             workers=args.workers, engine=args.engine)
    except PolicyError as exc:
        for diagnostic in exc.diagnostics:
            print(diagnostic.render(), file=sys.stderr)
        return 2
    print(f"decided {len(decided)}, rejected {len(rejected)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
