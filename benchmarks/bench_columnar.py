"""The columnar engine beside the record path and the hand-written Polars ceiling, in one run:
households decided per CPU-second and peak memory, for boundary-dense Fujian households.

    python benchmarks/bench_columnar.py [N ...]          (default: 100000 1000000)
    python benchmarks/bench_columnar.py --stream N ...   (Parquet -> Parquet only, e.g. 10000000)
    python benchmarks/bench_columnar.py --split N        (where a Parquet run's CPU time goes,
                                                          the collector's passes too)
    python benchmarks/bench_columnar.py --cases N        (households decided with their cases)
    python benchmarks/bench_columnar.py --jobs J N ...   (Parquet -> Parquet, --jobs 1 and J:
                                                          wall time, the workers' CPU too)

Each measurement runs in its own process (its peak RSS is its own) on the same Parquet file.
For a table already in memory (read before the clock starts; the best of 3 runs, one for
`record`):
- `record`   `decide_batch(engine="record")`: row by row, the compiled function;
- `columnar` `decide_batch(engine="columnar")`, the whole call: the contract checked in columns,
  the query, the output built;
- `query`    the columnar engine's decision of rows validated already (`decide_validated`);
- `ceiling`  the same decisions hand-written in vectorised Polars for speed (benchmarks/
  handwritten_polars.py: money in 1/10000 yuan, cross-multiplied, ages as birth-date
  thresholds, labels from bit masks; equal to the engine by tests/columnar/
  test_handwritten_polars.py), without the data warnings, the deadlines and the decimal text
  of the per-capita incomes (exact fractions instead);
- `ceiling_w` the same with the policy's data warnings written by hand too (the engine writes
  them: the ratio to this one is the fairer).
End to end, files in and out (the CLI in-process, reading and writing included):
- `parquet`  `fangpin eval --engine columnar in.parquet -o out.parquet`, batch by batch;
- `jsonl`    `fangpin eval in.jsonl -o out.jsonl` (the record engine, one process), measured on
  min(N, 100,000) households: its figure per CPU-second is what the Parquet run is set beside.
With `--cases N`: N boundary households with their boundary cases (about 60 % of them have one
to three; benchmarks/boundary_households.py), `decide_batch(..., cases=...)` on each engine
(the cases checked inside the call, as the call checks them), and the share of the columnar
call spent checking the cases and making their table (`CaseTable.of`).
CPU time is the process's, all threads included. Polars runs on one thread here
(POLARS_MAX_THREADS=1 unless set): the figures are per core, and on a shared machine idle
worker threads waiting for a core do not add to them.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
AS_OF = "2021-09-01"
POLICY = ROOT / "policies" / "fujian_2021.yaml"
FOLDER = ROOT / "out" / "bench"
TILE = 1_000_000  # larger tables repeat the 1,000,000 households with new ids
JSONL_MAX = 100_000
REPEATS = 3  # a table in memory is decided this many times, the best CPU time kept (once: record)


def table_file(n: int) -> Path:
    FOLDER.mkdir(parents=True, exist_ok=True)
    path = FOLDER / f"boundary_households_{n}.parquet"
    if path.exists():
        return path
    import pyarrow.parquet as pq

    writer = None
    if n > TILE and n % TILE == 0:
        import pyarrow.compute as pc

        source = pq.ParquetFile(table_file(TILE))
        for copy in range(n // TILE):
            for batch in source.iter_batches(batch_size=100_000):
                ids = pc.binary_join_element_wise(batch.column("household_id"),
                                                  f"-{copy}", "")
                batch = batch.set_column(batch.schema.get_field_index("household_id"),
                                         "household_id", ids)
                if writer is None:
                    writer = pq.ParquetWriter(str(path) + ".part", batch.schema)
                writer.write_batch(batch)
    else:
        from boundary_households import boundary_households

        from fangpin_rules import load_policy
        from fangpin_rules.columnar import records_to_arrow

        policy = load_policy(POLICY)
        records = boundary_households(n, seed=1)
        while True:
            chunk = [r for _, r in zip(range(50_000), records, strict=False)]
            if not chunk:
                break
            table = records_to_arrow(policy, chunk)
            if writer is None:
                writer = pq.ParquetWriter(str(path) + ".part", table.schema)
            writer.write_table(table)
    assert writer is not None
    writer.close()
    Path(str(path) + ".part").rename(path)
    return path


def jsonl_file(n: int) -> Path:
    path = FOLDER / f"boundary_households_{n}.jsonl"
    if not path.exists():
        from boundary_households import boundary_lines

        with open(str(path) + ".part", "w", encoding="utf-8") as out:
            for line in boundary_lines(n, seed=1):
                out.write(line + "\n")
        Path(str(path) + ".part").rename(path)
    return path


def measure(mode: str, path: str) -> dict[str, float]:
    """One measurement, in this process."""
    from fangpin_rules import load_policy
    from fangpin_rules.engine.policy import parse_date

    policy = load_policy(POLICY)
    when = parse_date(AS_OF)
    if mode in ("parquet", "jsonl"):
        from fangpin_rules.cli.main import main as cli

        out = FOLDER / f"decisions_{mode}_{Path(path).stem}{Path(path).suffix}"
        args = ["eval", str(POLICY), path, "--as-of", AS_OF, "-o", str(out),
                "--rejects", str(FOLDER / f"rejects_{mode}_{Path(path).stem}.jsonl")]
        if mode == "parquet":
            args += ["--engine", "columnar"]
        start = time.process_time()
        code = cli(args)
        cpu = time.process_time() - start
        assert code in (0, 1), code
        if mode == "parquet":
            import pyarrow.parquet as pq
            rows = pq.ParquetFile(path).metadata.num_rows
        else:
            with open(path, "rb") as source:
                rows = sum(1 for _ in source)
    else:
        import pyarrow.parquet as pq

        from fangpin_rules.columnar import decide_batch, input_schema
        from fangpin_rules.columnar.engine import columnar_plan, decide_validated

        table = pq.read_table(path)
        decide: Callable[[], int]
        if mode == "query":
            columnar_plan(policy, when)
            validated = table.cast(input_schema(policy))

            def decide() -> int:
                decided, _, failed = decide_validated(policy, validated, when)
                return int(decided.num_rows + len(failed))
        elif mode in ("ceiling", "ceiling_w"):
            from handwritten_polars import decide_frame

            def decide() -> int:
                return decide_frame(table, when, warnings=mode == "ceiling_w").height
        else:
            policy.evaluator(when)
            if mode == "columnar":
                columnar_plan(policy, when)

            def decide() -> int:
                result = decide_batch(policy, table, AS_OF, engine=mode)
                return int(result.decisions.num_rows + result.rejects.num_rows)
        cpu = float("inf")
        for _ in range(1 if mode == "record" else REPEATS):
            start = time.process_time()
            rows = decide()
            cpu = min(cpu, time.process_time() - start)
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"rows": rows, "cpu_s": round(cpu, 3), "per_cpu_s": round(rows / cpu),
            "peak_mib": round(peak_kib / 1024)}


PARTS = {  # a Parquet run's stages: (module, function) timed with process_time around each call
    "id screen (first pass)": ("fangpin_rules.cli.columnar_eval", "parquet_screen"),
    "reading": ("pyarrow.parquet", "ParquetFile.iter_batches"),
    "checks (_valid_rows)": ("fangpin_rules.columnar.engine", "_valid_rows"),
    "query (_collected)": ("fangpin_rules.columnar.engine", "_collected"),
    "output (_assemble)": ("fangpin_rules.columnar.engine", "_assemble"),
    "zero divisors (_redecide)": ("fangpin_rules.columnar.engine", "_redecide"),
    "id index": ("fangpin_rules.columnar.ids", "IdIndex.first_rows"),
    "writing": ("pyarrow.parquet", "ParquetWriter.write_table"),
}


def split(path: str) -> None:
    """The Parquet run of `path` in this process, each stage of PARTS timed (a batch read is
    timed as its reader yields it): the stages' CPU seconds and their share of the whole."""
    import importlib

    spent: dict[str, float] = dict.fromkeys(PARTS, 0.0)
    inside = [0]  # stages under way (the id screen's reading is its own, not "reading")

    def timed(name: str, function: Any) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            start = time.process_time()
            inside[0] += 1
            try:
                return function(*args, **kwargs)
            finally:
                inside[0] -= 1
                spent[name] += time.process_time() - start
        return call

    def timed_batches(name: str, function: Any) -> Any:
        def batches(*args: Any, **kwargs: Any) -> Any:
            produced = iter(function(*args, **kwargs))
            while True:
                start = time.process_time()
                batch = next(produced, None)
                if not inside[0]:
                    spent[name] += time.process_time() - start
                if batch is None:
                    return
                yield batch
        return batches

    # the stages in one thread, one after the other: the run's reading and writing threads
    # would otherwise be timed inside whatever stage runs beside them (process_time)
    from fangpin_rules.cli import columnar_eval

    class Inline:
        def __init__(self, given: Any) -> None:
            self.given = given

        def __enter__(self) -> Any:
            return self.given

        def __exit__(self, *exc: object) -> None:
            return None

    columnar_eval.Ahead = Inline  # type: ignore[assignment,misc]
    columnar_eval.Beside = Inline  # type: ignore[assignment,misc]
    for name, (module_name, attribute) in PARTS.items():
        owner: Any = importlib.import_module(module_name)
        *outer, last = attribute.split(".")
        for part in outer:
            owner = getattr(owner, part)
        wrap = timed_batches if name == "reading" else timed
        setattr(owner, last, wrap(name, getattr(owner, last)))
    import gc

    collected = [0.0, 0.0]  # the collector's CPU seconds, the start of the pass under way

    def collector(phase: str, _: dict[str, Any]) -> None:
        if phase == "start":
            collected[1] = time.process_time()
        else:
            collected[0] += time.process_time() - collected[1]

    gc.callbacks.append(collector)
    try:
        figures = measure("parquet", path)
    finally:
        gc.callbacks.remove(collector)
    total = figures["cpu_s"]
    print(f"{figures['rows']:,} households, Parquet -> Parquet: {total} CPU-s, peak "
          f"{figures['peak_mib']} MiB")
    for name in PARTS:
        print(f"  {name:<26} {spent[name]:7.2f} CPU-s  {100 * spent[name] / total:5.1f} %")
    rest = total - sum(spent.values())
    print(f"  {'the rest':<26} {rest:7.2f} CPU-s  {100 * rest / total:5.1f} %  (start-up, the "
          "policy, rejects, per-batch steps)")
    print(f"  {'(the collector)':<26} {collected[0]:7.2f} CPU-s  "
          f"{100 * collected[0] / total:5.1f} %  (inside the stages above: its passes, "
          "timed by gc.callbacks)")


def measure_cases(engine: str, n: int) -> dict[str, float]:
    """`decide_batch` of n boundary households with their cases, in this process."""
    import gc

    from boundary_households import boundary_cases, boundary_households

    from fangpin_rules import load_policy
    from fangpin_rules.columnar import decide_batch, records_to_arrow
    from fangpin_rules.columnar.cases import CaseTable

    policy = load_policy(POLICY)
    households = list(boundary_households(n, seed=1))
    cases = boundary_cases(households, seed=2)
    table = records_to_arrow(policy, households)
    # a caller holds the table and the cases, not the households as Python objects too (held,
    # their 200,000 containers made a full pass of the collector cost 0.29 s of the call)
    del households
    gc.collect()
    decide_batch(policy, table.slice(0, 10), AS_OF, cases=cases, engine=engine)  # compiled
    cpu = float("inf")
    for _ in range(1 if engine == "record" else REPEATS):
        start = time.process_time()
        result = decide_batch(policy, table, AS_OF, cases=cases, engine=engine)
        cpu = min(cpu, time.process_time() - start)
    start = time.process_time()
    CaseTable.of(cases)
    tabled = time.process_time() - start
    rows = result.decisions.num_rows + result.rejects.num_rows
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"rows": rows, "cpu_s": round(cpu, 3), "per_cpu_s": round(rows / cpu),
            "peak_mib": round(peak_kib / 1024), "cases": sum(map(len, cases.values())),
            "case_table_s": round(tabled, 3)}


def run(mode: str, path: Path) -> dict[str, float]:
    env = {**os.environ, "POLARS_MAX_THREADS": os.environ.get("POLARS_MAX_THREADS", "1")}
    out = subprocess.run([sys.executable, __file__, "--one", mode, str(path)], check=True,
                         capture_output=True, text=True, cwd=ROOT, env=env).stdout
    return json.loads(out.strip().splitlines()[-1])  # type: ignore[no-any-return]


def jobs_runs(jobs: int, sizes: list[int]) -> None:
    """`fangpin eval --engine columnar` of each size's Parquet file with --jobs 1 and `jobs`,
    back to back, each its own process: wall seconds, CPU seconds of it and its workers, and
    the peak RSS of the largest of them (os.wait4)."""
    from bench_end_to_end import run as timed

    for n in sizes:
        path = table_file(n)
        walls = {}
        for j in dict.fromkeys((1, jobs)):
            wall, cpu, peak = timed([sys.executable, "-m", "fangpin_rules.cli.main", "eval",
                                     str(POLICY), str(path), "--as-of", AS_OF, "--engine",
                                     "columnar", "-o", str(FOLDER / f"decisions_jobs_{j}.parquet"),
                                     "--jobs", str(j)])
            walls[j] = wall
            print(f"{n:>11,} households  --jobs {j:<3} wall {wall:>7.2f} s  cpu {cpu:>7.2f} s  "
                  f"{n / wall:>10,.0f} /s  peak {peak:>6.0f} MiB", flush=True)
        print(f"{'':>11}  wall --jobs 1 / --jobs {jobs}: {walls[1] / walls[jobs]:.2f}",
              flush=True)


def show(n: int, mode: str, figures: dict[str, float], extra: str = "") -> None:
    print(f"{n:>11,} households  {mode:<9} {figures['per_cpu_s']:>10,} /CPU-s  "
          f"cpu {figures['cpu_s']:>7} s  peak {figures['peak_mib']:>6} MiB{extra}", flush=True)


def main(argv: list[str]) -> int:
    if argv[:1] == ["--one"]:
        print(json.dumps(measure(argv[1], argv[2])))
        return 0
    if argv[:1] == ["--one-cases"]:
        print(json.dumps(measure_cases(argv[1], int(argv[2]))))
        return 0
    if argv[:1] == ["--cases"]:
        env = {**os.environ, "POLARS_MAX_THREADS": os.environ.get("POLARS_MAX_THREADS", "1")}
        for n in [int(a) for a in argv[1:]] or [100_000]:
            by_engine = {}
            for engine in ("record", "columnar"):
                out = subprocess.run([sys.executable, __file__, "--one-cases", engine, str(n)],
                                     check=True, capture_output=True, text=True, cwd=ROOT,
                                     env=env).stdout
                by_engine[engine] = json.loads(out.strip().splitlines()[-1])
                show(n, engine, by_engine[engine], f"  ({by_engine[engine]['cases']:,} cases)")
            column = by_engine["columnar"]
            print(f"{'':>11}  columnar / record: "
                  f"{column['per_cpu_s'] / by_engine['record']['per_cpu_s']:.2f}; checking "
                  f"the cases and their table {column['case_table_s']} CPU-s "
                  f"({100 * column['case_table_s'] / column['cpu_s']:.0f} % of the call)")
        return 0
    if argv[:1] == ["--jobs"]:
        jobs_runs(int(argv[1]), [int(a) for a in argv[2:]] or [1_000_000])
        return 0
    if argv[:1] == ["--split"]:
        os.environ.setdefault("POLARS_MAX_THREADS", "1")
        split(str(table_file(int(argv[1]))))
        return 0
    stream_only = argv[:1] == ["--stream"]
    sizes = [int(a) for a in argv[1 if stream_only else 0:]] or [100_000, 1_000_000]
    jsonl = None
    for n in sizes:
        path = table_file(n)
        figures: dict[str, dict[str, float]] = {}
        modes = ("parquet",) if stream_only else \
            ("record", "columnar", "query", "ceiling", "ceiling_w", "parquet")
        for mode in modes:
            figures[mode] = run(mode, path)
            show(n, mode, figures[mode])
        if "ceiling" in figures:
            for mode in ("columnar", "query"):
                print(f"{'':>11}  {mode} / ceiling: "
                      f"{figures[mode]['per_cpu_s'] / figures['ceiling']['per_cpu_s']:.2f}"
                      f"  / ceiling_w: "
                      f"{figures[mode]['per_cpu_s'] / figures['ceiling_w']['per_cpu_s']:.2f}")
        if jsonl is None:
            m = min(n, JSONL_MAX)
            jsonl = run("jsonl", jsonl_file(m))
            show(m, "jsonl", jsonl, "  (fangpin eval, JSON lines, the record engine)")
        print(f"{'':>11}  parquet / jsonl per CPU-s: "
              f"{figures['parquet']['per_cpu_s'] / jsonl['per_cpu_s']:.1f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
