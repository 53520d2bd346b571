"""`fangpin eval FILE.parquet --jobs N`: the row groups decided in spawned worker processes give
the one-process run's bytes, rejects and counts (bad rows, an id repeated across the workers'
runs, cases, a region table), on either engine; a worker that cannot start ends the run with
nothing written. Each run spawns its workers (a second or two to import Polars and load the
policy), so the cases are few and each covers much."""

from __future__ import annotations

import json
import tempfile
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from fangpin_rules import Policy
from fangpin_rules.cli import columnar_eval
from fangpin_rules.cli.main import main
from fangpin_rules.columnar import records_to_arrow
from fangpin_rules.columnar.parquet import decided_in_workers, row_group_runs
from fangpin_rules.engine.parallel import PolicySource, WorkerFailed
from fangpin_rules.engine.serialize import dumps

from support import FUJIAN, ROOT, benchmark_module

AS_OF = "2022-06-30"
TABLE = ROOT / "policies" / "regions" / "fujian_example_regions.yaml"


def _households_file(tmp_path: Path, fujian: Policy, *, regions: bool = False
                     ) -> tuple[Path, list[dict[str, Any]]]:
    """600 households in row groups of 50: bad rows, and ids repeated in other runs."""
    households = list(benchmark_module("boundary_households").boundary_households(600, 5))
    if regions:
        for number, household in enumerate(households):
            household["region_code"] = ("350121", "350526", "350582001")[number % 3]
    table = records_to_arrow(fujian, households)
    rows = table.to_pylist()
    rows[7] = {**rows[7], "net_income": Decimal("-2000000000000")}  # a bad row
    rows[260] = dict(rows[12])  # row 12's id in another worker's run
    rows[590] = dict(rows[260])  # and again, in the last
    source = tmp_path / "in.parquet"
    pq.write_table(pa.Table.from_pylist(rows, schema=table.schema), source, row_group_size=50)
    return source, households


def _run(tmp_path: Path, capsys: pytest.CaptureFixture[str], arguments: list[str],
         name: str) -> tuple[int, bytes, list[Any], str]:
    out, rejects = tmp_path / f"{name}.parquet", tmp_path / f"{name}.rejects"
    code = main([*arguments, "-o", str(out), "--rejects", str(rejects)])
    err = capsys.readouterr().err
    found = sorted(json.loads(line)["row"] for line in
                   rejects.read_text(encoding="utf-8").splitlines())
    return code, out.read_bytes(), found, err.replace(str(tmp_path / name), "{out}")


@pytest.mark.parametrize("engine", ["columnar", "record"])
def test_workers_give_the_one_process_runs_bytes(
        tmp_path: Path, fujian: Policy, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch, engine: str) -> None:
    monkeypatch.setattr(columnar_eval, "PARQUET_BATCH_ROWS", 120)  # runs of 3 row groups
    source, households = _households_file(tmp_path, fujian)
    cases = tmp_path / "cases.jsonl"
    checked = benchmark_module("boundary_households").boundary_cases(households[:300], 4)
    cases.write_text("".join(dumps(c) + "\n" for own in checked.values() for c in own),
                     encoding="utf-8")
    command = ["eval", str(FUJIAN), str(source), "--as-of", AS_OF, "--engine", engine,
               "--cases", str(cases)]
    from fangpin_rules.columnar import parquet

    spawned: list[int] = []

    def spy(*args: Any) -> Any:
        spawned.append(args[-1])
        yield from in_workers_of(*args)

    in_workers_of = parquet.decided_in_workers
    monkeypatch.setattr(parquet, "decided_in_workers", spy)
    alone = _run(tmp_path, capsys, command, "alone")
    assert spawned == []
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    in_workers = _run(tmp_path, capsys, [*command, "--jobs", "2"], "workers")
    assert spawned == [2]  # (and 5 runs of row groups, one decision file each, taken in order)
    assert in_workers == alone
    assert list(temporary.iterdir()) == []  # the workers' decision files are removed
    code, decided, rejected_rows, err = alone
    assert code == 1 and rejected_rows == [7, 260, 590]
    assert "read 600, decided 597, rejected 3; cases: read " in err
    assert pq.read_table(pa.BufferReader(decided)).num_rows == 597


def test_workers_decide_under_a_region_table(
        tmp_path: Path, fujian: Policy, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Each worker loads the policy and the table as the parent did."""
    monkeypatch.setattr(columnar_eval, "PARQUET_BATCH_ROWS", 200)
    source, _ = _households_file(tmp_path, fujian, regions=True)
    command = ["eval", str(FUJIAN), str(source), "--as-of", "2023-03-01", "--engine",
               "columnar", "--regions", str(TABLE)]
    alone = _run(tmp_path, capsys, command, "alone")
    assert _run(tmp_path, capsys, [*command, "--jobs", "2"], "workers") == alone
    assert alone[0] == 1 and alone[2] == [7, 260, 590]


def test_a_worker_that_cannot_load_the_policy_ends_the_run(
        tmp_path: Path, fujian: Policy, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The policy file is not the one the parent loaded (its digest differs): the first run
    of rows says so, the workers are stopped and no output is written."""
    source, _ = _households_file(tmp_path, fujian)
    changed = PolicySource(fujian.path, "0" * 64)
    metadata = pq.ParquetFile(source).metadata
    assert [first for first, _ in row_group_runs(metadata, 120)] == [0, 150, 300, 450]
    with pytest.raises(WorkerFailed, match=r"the rows from 0: PolicyChanged: .*changed while "
                       "the run was starting"):
        list(decided_in_workers(changed, str(source), metadata, date(2022, 6, 30), None,
                                "columnar", 120, 2))
    monkeypatch.setattr(PolicySource, "of", classmethod(lambda cls, *_: changed))
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    out = tmp_path / "out.parquet"
    assert main(["eval", str(FUJIAN), str(source), "--as-of", AS_OF, "--jobs", "2",
                 "-o", str(out)]) == 3
    err = capsys.readouterr().err
    assert "changed while the run was starting" in err and "no output file" in err
    assert "Traceback" not in err and not out.exists()
    assert list(temporary.iterdir()) == []  # the workers' folder is removed


def test_json_lines_on_the_columnar_engine_in_workers_are_the_one_process_bytes(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """`--engine columnar --jobs 2` of JSON lines: each chunk decided in columns in a worker,
    the results taken in input order, so the decisions, rejects (a bad line, repeated ids in
    other chunks) and counts are the one process's, and the record engine's, byte for byte."""
    monkeypatch.setattr("fangpin_rules.engine.stream.COLUMNAR_CHUNK", 60)
    lines = list(benchmark_module("boundary_households").boundary_lines(400, 5))
    lines[70] = lines[3]  # in another chunk
    lines[250] = lines[3]
    lines[90] = lines[90][:-5]  # not JSON
    source = tmp_path / "in.jsonl"
    source.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    runs = {}
    for name, options in (("one", ["--engine", "columnar"]),
                          ("workers", ["--engine", "columnar", "--jobs", "2"]),
                          ("record", ["--engine", "record"])):
        out, rejects = tmp_path / f"{name}.jsonl", tmp_path / f"{name}.rejects"
        code = main(["eval", str(FUJIAN), str(source), "--as-of", AS_OF, *options, "-o",
                     str(out), "--rejects", str(rejects)])
        runs[name] = (code, out.read_bytes(), rejects.read_bytes(),
                      capsys.readouterr().err.splitlines()[-1].split(" (see")[0])
    assert runs["workers"] == runs["one"] == runs["record"]
    assert runs["workers"][3] == "read 400, decided 397, rejected 3"


def test_a_json_lines_worker_that_cannot_start_ends_the_run_with_no_output(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker refusing a policy changed since the run began: exit 3, nothing written."""
    source = tmp_path / "in.jsonl"
    source.write_text("".join(line + "\n" for line in benchmark_module(
        "boundary_households").boundary_lines(30, 1)), encoding="utf-8")
    changed = PolicySource(str(FUJIAN), "0" * 64)
    monkeypatch.setattr(PolicySource, "of", classmethod(lambda cls, *_: changed))
    out = tmp_path / "out.jsonl"
    assert main(["eval", str(FUJIAN), str(source), "--as-of", AS_OF, "--engine", "columnar",
                 "--jobs", "2", "-o", str(out)]) == 3
    err = capsys.readouterr().err
    assert "no output file was written" in err and "Traceback" not in err
    assert not out.exists()
