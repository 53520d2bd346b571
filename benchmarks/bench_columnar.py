"""The columnar engine beside the record path, in one run: households decided per CPU-second
and peak memory, for boundary-dense Fujian households already in an Arrow table.

    python benchmarks/bench_columnar.py [N ...]      (default: 100000 1000000)

Each measurement runs in its own process (its peak RSS is its own), on the same Parquet file,
read before the clock starts. `decide_batch(engine=...)` is timed whole (the rows' validation
by the typed reader included); `query` is the columnar engine's decision of the rows once
validated (`decide_validated`), to show where the time goes. CPU time is the process's, all
threads included (polars uses every core it has).
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
AS_OF = "2021-09-01"


def table_file(n: int) -> Path:

    folder = ROOT / "out" / "bench"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"boundary_households_{n}.parquet"
    if path.exists():
        return path
    import pyarrow.parquet as pq
    from boundary_households import boundary_households

    from fangpin_rules import load_policy
    from fangpin_rules.columnar import records_to_arrow

    policy = load_policy(ROOT / "policies" / "fujian_2021.yaml")
    writer = None
    records = boundary_households(n, seed=1)
    while True:
        batch = [r for _, r in zip(range(50_000), records, strict=False)]
        if not batch:
            break
        table = records_to_arrow(policy, batch)
        if writer is None:
            writer = pq.ParquetWriter(str(path) + ".part", table.schema)
        writer.write_table(table)
    assert writer is not None
    writer.close()
    Path(str(path) + ".part").rename(path)
    return path


def measure(engine: str, path: str) -> dict[str, float]:
    """One measurement, in this process."""
    import pyarrow.parquet as pq

    from fangpin_rules import load_policy
    from fangpin_rules.columnar import decide_batch, input_schema
    from fangpin_rules.columnar.engine import columnar_plan, decide_validated
    from fangpin_rules.engine.policy import parse_date

    policy = load_policy(ROOT / "policies" / "fujian_2021.yaml")
    table = pq.read_table(path)
    when = parse_date(AS_OF)
    if engine == "query":
        columnar_plan(policy, when)
        table = table.cast(input_schema(policy))
        start = time.process_time()
        decided, _, failed = decide_validated(policy, table, when)
        rows = decided.num_rows + len(failed)
    else:
        policy.evaluator(when)
        start = time.process_time()
        result = decide_batch(policy, table, AS_OF, engine=engine)
        rows = result.decisions.num_rows + result.rejects.num_rows
    cpu = time.process_time() - start
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"rows": rows, "cpu_s": round(cpu, 2), "per_cpu_s": round(rows / cpu),
            "peak_mib": round(peak_kib / 1024)}


def main(argv: list[str]) -> int:
    if argv[:1] == ["--one"]:
        print(json.dumps(measure(argv[1], argv[2])))
        return 0
    sizes = [int(a) for a in argv] or [100_000, 1_000_000]
    for n in sizes:
        path = table_file(n)
        for engine in ("record", "columnar", "query"):
            out = subprocess.run([sys.executable, __file__, "--one", engine, str(path)],
                                 check=True, capture_output=True, text=True).stdout
            figures = json.loads(out.strip().splitlines()[-1])
            print(f"{n:>9,} households  {engine:<8}  {figures['per_cpu_s']:>10,} /CPU-s  "
                  f"cpu {figures['cpu_s']:>7} s  peak {figures['peak_mib']:>6} MiB", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
