"""`fangpin eval --engine columnar`: the record engine's output for JSON lines, byte for byte;
Parquet in and out; what it does not take is refused in one line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fangpin_rules import Policy
from fangpin_rules.cli.main import main
from fangpin_rules.columnar import decide_batch, records_to_arrow
from fangpin_rules.engine.regions import load_regions
from fangpin_rules.engine.serialize import dumps

from columnar_support import rows_read_one_by_one
from support import FUJIAN, ROOT, benchmark_module

REVISED = ROOT / "policies" / "examples" / "fujian_2021_revised.yaml"

AS_OF = "2021-09-01"


def records_file(tmp_path: Path, n: int) -> Path:
    lines = list(benchmark_module("boundary_households").boundary_lines(n, seed=9))
    lines[3] = "{not json"
    lines[7] = '{"household_id": "NO-FIELDS"}'
    lines.append(lines[10])  # a household twice: the second is rejected, naming the first
    path = tmp_path / "households.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _on_both_engines(tmp_path: Path, capsys: pytest.CaptureFixture[str], source: Path
                     ) -> dict[str, tuple[int, bytes, bytes, str]]:
    """`fangpin eval` of JSON lines on each engine: exit code, output, rejects, counts."""
    runs = {}
    for engine in ("record", "columnar"):
        out, rejects = tmp_path / f"{engine}.jsonl", tmp_path / f"{engine}.rejects"
        code = main(["eval", str(FUJIAN), str(source), "--as-of", AS_OF, "--engine", engine,
                     "-o", str(out), "--rejects", str(rejects)])
        runs[engine] = (code, out.read_bytes(), rejects.read_bytes(),
                        capsys.readouterr().err.splitlines()[-1].split(" (see")[0])
    return runs


def test_jsonl_output_is_the_record_engines(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    source = records_file(tmp_path, 1200)
    runs = _on_both_engines(tmp_path, capsys, source)
    assert runs["columnar"] == runs["record"]
    assert runs["columnar"][0] == 1
    assert runs["columnar"][3] == "read 1201, decided 1198, rejected 3"


def cases_file(tmp_path: Path, households: list[dict[str, Any]]) -> Path:
    """The boundary cases of `households`, one bad (assigned before it was received), as JSON
    lines."""
    cases = benchmark_module("boundary_households").boundary_cases(households, 4)
    listed = [case for own in cases.values() for case in own]
    listed[5] = dict(listed[5], received_on="2021-10-11", assigned_on="2021-10-08")
    path = tmp_path / "cases.jsonl"
    path.write_text("".join(dumps(case) + "\n" for case in listed), encoding="utf-8")
    return path


def test_jsonl_with_cases_is_the_record_engines(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    """With --cases, the same decisions (the cases' deadlines), rejects (the bad case with
    `"record": "case"`), counts and exit code as the record engine."""
    source = records_file(tmp_path, 600)
    households = list(benchmark_module("boundary_households").boundary_households(600, 9))
    cases = cases_file(tmp_path, households)
    runs = {}
    for engine in ("record", "columnar"):
        out, rejects = tmp_path / f"{engine}.jsonl", tmp_path / f"{engine}.rejects"
        code = main(["eval", str(FUJIAN), str(source), "--as-of", "2021-12-31", "--engine",
                     engine, "--cases", str(cases), "-o", str(out), "--rejects", str(rejects)])
        runs[engine] = (code, out.read_bytes(), rejects.read_bytes(),
                        capsys.readouterr().err.splitlines()[-1].split(" (see")[0])
    assert runs["columnar"] == runs["record"]
    assert b'"record":"case"' in runs["columnar"][2] and b'"case_id":"G9-' in runs["columnar"][1]
    summary = runs["columnar"][3]
    assert summary.startswith("read 601, decided 598, rejected 3; cases: read ")
    assert summary.endswith(", rejected 1")


@pytest.mark.parametrize("engine", ["columnar", "record"])
def test_parquet_with_cases(tmp_path: Path, fujian: Policy,
                            capsys: pytest.CaptureFixture[str], engine: str) -> None:
    """Each batch is decided with its households' cases: the record engine's decisions."""
    households = list(benchmark_module("boundary_households").boundary_households(700, 2))
    table = records_to_arrow(fujian, households)
    pq.write_table(table, tmp_path / "in.parquet", row_group_size=300)
    cases = cases_file(tmp_path, households)
    out = tmp_path / "out.parquet"
    assert main(["eval", str(FUJIAN), str(tmp_path / "in.parquet"), "--as-of", "2022-06-30",
                 "--engine", engine, "--cases", str(cases), "-o", str(out),
                 "--rejects", str(tmp_path / "rejects.jsonl")]) == 1
    err = capsys.readouterr().err
    assert "read 700, decided 700, rejected 0; cases: read " in err
    checked = benchmark_module("boundary_households").boundary_cases(households, 4)
    bad = [case for own in checked.values() for case in own][5]
    checked[bad["household_id"]] = [c for c in checked[bad["household_id"]] if c is not bad]
    used = sum(len(own) for own in checked.values())
    assert f"used {used}, rejected 1" in err
    expected = decide_batch(fujian, table, "2022-06-30", cases=checked, engine="record")
    got = pq.read_table(out).to_pylist()
    assert got == expected.decisions.to_pylist()
    assert sum(len(d["deadlines"]) for d in got) > 5 * len(got)


def test_parquet_in_and_out(tmp_path: Path, fujian: Policy,
                            capsys: pytest.CaptureFixture[str]) -> None:
    households = list(benchmark_module("boundary_households").boundary_households(700, 2))
    table = records_to_arrow(fujian, households)
    pq.write_table(table, tmp_path / "in.parquet", row_group_size=300)
    out = tmp_path / "out.parquet"
    assert main(["eval", str(FUJIAN), str(tmp_path / "in.parquet"), "--as-of", AS_OF,
                 "--engine", "columnar", "-o", str(out)]) == 0
    assert "read 700, decided 700, rejected 0" in capsys.readouterr().err
    expected = decide_batch(fujian, table, AS_OF, engine="record").decisions
    assert pq.read_table(out).to_pylist() == expected.to_pylist()
    # statistics for the columns outside lists (a reader skips row groups by them), none
    # for a list's items
    group = pq.ParquetFile(out).metadata.row_group(0)
    stats = {group.column(i).path_in_schema: group.column(i).is_stats_set
             for i in range(group.num_columns)}
    assert stats["household_id"] and stats["category"] and stats["cadre.rank"]
    assert stats["dibao.grace_until"] and stats["per_capita_income"]
    listed = [path for path in stats if ".list." in path]
    assert "risks.list.element" in listed and "warnings.list.element.code" in listed
    assert not any(stats[path] for path in listed)
    assert all(stats[path] for path in stats if path not in listed)


def test_a_parquet_file_polars_wrote_is_checked_in_columns(
        tmp_path: Path, fujian: Policy, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Polars writes texts and lists as Arrow's large ones, which the file's schema keeps: a
    run reads them as such and decides them in columns, not row by row."""
    import polars as pl

    households = list(benchmark_module("boundary_households").boundary_households(500, 4))
    table = records_to_arrow(fujian, households)
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    frame.write_parquet(tmp_path / "in.parquet", row_group_size=200)
    assert str(pq.ParquetFile(tmp_path / "in.parquet").schema_arrow.field(
        "household_id").type) == "large_string"
    read = rows_read_one_by_one(monkeypatch)
    out = tmp_path / "out.parquet"
    assert main(["eval", str(FUJIAN), str(tmp_path / "in.parquet"), "--as-of", AS_OF,
                 "--engine", "columnar", "-o", str(out)]) == 0
    assert "read 500, decided 500, rejected 0" in capsys.readouterr().err
    assert read == []
    assert pq.read_table(out).to_pylist() == \
        decide_batch(fujian, table, AS_OF, engine="record").decisions.to_pylist()


def test_a_parquet_run_decides_on_jemalloc_and_gives_the_pool_back(
        tmp_path: Path, fujian: Policy, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """The Parquet run's batches are decided with Arrow's jemalloc pool (flat where mimalloc's
    grew, docs/performance.md), and the pool of the caller is back afterwards."""
    import pyarrow as pa

    from fangpin_rules.columnar import engine

    if not hasattr(pa, "jemalloc_memory_pool"):  # pragma: no cover - Arrow built without it
        pytest.fail("this pyarrow has no jemalloc pool")
    pools: list[str] = []
    decide = engine.decide_columns

    def spy(*args: Any, **kwargs: Any) -> Any:
        pools.append(pa.default_memory_pool().backend_name)
        return decide(*args, **kwargs)

    from fangpin_rules.cli import columnar_eval

    opened = columnar_eval._parquet_file

    def opening(path: str) -> Any:  # a reader allocates from the pool it was opened in
        pools.append("opened on " + pa.default_memory_pool().backend_name)
        return opened(path)

    monkeypatch.setattr(engine, "decide_columns", spy)
    monkeypatch.setattr(columnar_eval, "_parquet_file", opening)
    monkeypatch.setattr("fangpin_rules.cli.columnar_eval.PARQUET_BATCH_ROWS", 40)
    households = list(benchmark_module("boundary_households").boundary_households(100, 3))
    pq.write_table(records_to_arrow(fujian, households), tmp_path / "in.parquet")
    before = pa.default_memory_pool().backend_name
    assert main(["eval", str(FUJIAN), str(tmp_path / "in.parquet"), "--as-of", AS_OF,
                 "--engine", "columnar", "-o", str(tmp_path / "out.parquet")]) == 0
    assert "read 100, decided 100, rejected 0" in capsys.readouterr().err
    assert pools == ["opened on jemalloc"] + ["jemalloc"] * 3
    assert pa.default_memory_pool().backend_name == before


RUNS = {  # a command deciding households in columns (the file's suffix, its arguments)
    "eval, JSON lines": (".jsonl", ["eval", str(FUJIAN), "{in}", "--as-of", AS_OF]),
    "eval, Parquet": (".parquet", ["eval", str(FUJIAN), "{in}", "--as-of", AS_OF]),
    "diff --impact": (".jsonl", ["diff", str(FUJIAN), str(REVISED), "--impact", "{in}",
                                 "--as-of", AS_OF, "--format", "json"]),
    "report ledger": (".jsonl", ["report", "ledger", str(FUJIAN), "{in}", "--month", "2021-09"]),
    "report history": (".jsonl", ["report", "history", "2021-09={in}", "--policy",
                                  str(FUJIAN)]),
}


@pytest.mark.parametrize("run", RUNS, ids=list(RUNS))
def test_a_columnar_run_quiets_the_collector_before_deciding(
        tmp_path: Path, fujian: Policy, run: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """As a record engine's run does (`quiet_collector`): what is loaded moves out of the
    collector's reach before the households are decided (its full passes over it were a fifth
    of a JSON-lines run in columns, a sixth of an impact: docs/performance.md)."""
    from fangpin_rules.columnar import engine
    from fangpin_rules.engine import stream

    seen: list[str] = []
    decide = engine.decide_validated

    def spy(*args: Any, **kwargs: Any) -> Any:
        seen.append("decided")
        return decide(*args, **kwargs)

    monkeypatch.setattr(stream, "quiet_collector", lambda: seen.append("quieted"))
    monkeypatch.setattr(engine, "decide_validated", spy)
    households = sorted(benchmark_module("boundary_households").boundary_households(30, 3),
                        key=lambda household: household["household_id"])  # as a history reads
    suffix, arguments = RUNS[run]
    source = tmp_path / f"in{suffix}"
    if suffix == ".parquet":
        pq.write_table(records_to_arrow(fujian, households), source)
    else:
        source.write_text("".join(dumps(h) + "\n" for h in households), encoding="utf-8")
    code = main([argument.replace("{in}", str(source)) for argument in arguments] +
                ["--engine", "columnar", "-o", str(tmp_path / f"out{suffix}")])
    assert code == 0
    assert seen[0] == "quieted" and "decided" in seen


@pytest.mark.parametrize("extra", [["--explain"], ["-o", "decisions.parquet"]])
def test_what_it_does_not_take_is_refused(tmp_path: Path, extra: list[str],
                                          capsys: pytest.CaptureFixture[str]) -> None:
    source = records_file(tmp_path, 20)
    args = [a if a != "decisions.parquet" else str(tmp_path / a) for a in extra]
    assert main(["eval", str(FUJIAN), str(source), "--as-of", AS_OF, "--engine", "columnar",
                 *args]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "columnar" in err


def test_a_policy_it_cannot_express_is_refused_with_its_position(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("policy:\n  id: refused\n  title: refused\n  effective: 2021-01-01\n"
                      "decisions:\n  rounded:\n"
                      "    expr: round(net_income, count(members)) > 100\n",
                      encoding="utf-8")
    source = records_file(tmp_path, 20)
    assert main(["eval", str(policy), str(source), "--as-of", AS_OF,
                 "--engine", "columnar"]) == 2
    err = capsys.readouterr().err
    assert "policy.yaml:7:11" in err and "round()" in err


@pytest.mark.parametrize("engine", ["columnar", "record"])
def test_parquet_rejects_name_their_row_and_a_repeated_id_its_first(
        tmp_path: Path, fujian: Policy, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], engine: str) -> None:
    import json
    from decimal import Decimal

    import pyarrow as pa

    from fangpin_rules.cli import columnar_eval

    monkeypatch.setattr(columnar_eval, "PARQUET_BATCH_ROWS", 50)  # the repeats in other batches
    households = list(benchmark_module("boundary_households").boundary_households(120, 4))
    rows = records_to_arrow(fujian, households).to_pylist()
    rows[5]["net_income"] = Decimal("-2000000000000")  # a bad row
    rows[70] = dict(rows[12])  # the id of row 12 again, in the next batch
    rows[71] = dict(rows[70])  # and within one batch
    rows[110] = dict(rows[5])  # a bad row's id is free: it was not decided
    table = pa.Table.from_pylist(rows, schema=records_to_arrow(fujian, households[:1]).schema)
    pq.write_table(table, tmp_path / "in.parquet")
    out, rejects = tmp_path / "out.parquet", tmp_path / "rejects.jsonl"
    assert main(["eval", str(FUJIAN), str(tmp_path / "in.parquet"), "--as-of", AS_OF,
                 "--engine", engine, "-o", str(out), "--rejects", str(rejects)]) == 1
    assert "read 120, decided 116, rejected 4" in capsys.readouterr().err
    found = sorted((r["row"], r["field"], r["reason"]) for r in
                   map(json.loads, rejects.read_text(encoding="utf-8").splitlines()))
    assert [(row, field) for row, field, _ in found] == \
        [(5, "net_income"), (70, "household_id"), (71, "household_id"), (110, "net_income")]
    assert "(row 12)" in found[1][2] and "(row 12)" in found[2][2]
    assert pq.read_table(out).num_rows == 116


def test_a_parquet_file_is_read_as_parquet_on_either_engine(
        tmp_path: Path, fujian: Policy, capsys: pytest.CaptureFixture[str]) -> None:
    """Without --engine (the record engine) a Parquet file is decided batch by batch as with
    --engine columnar, into the same bytes; it is known by its first bytes whatever its name.
    Before, the record engine read it as JSON lines and rejected every "line" of it."""
    households = list(benchmark_module("boundary_households").boundary_households(300, 6))
    source = tmp_path / "households.data"  # a Parquet file of another name
    pq.write_table(records_to_arrow(fujian, households), source, row_group_size=100)
    written = {}
    for engine in ("record", "columnar"):
        out = tmp_path / f"{engine}.parquet"
        assert main(["eval", str(FUJIAN), str(source), "--as-of", AS_OF, "--engine", engine,
                     "-o", str(out)]) == 0
        assert "read 300, decided 300, rejected 0" in capsys.readouterr().err
        written[engine] = out.read_bytes()
    assert written["record"] == written["columnar"]
    assert main(["eval", str(FUJIAN), str(source), "--as-of", AS_OF, "-o",
                 str(tmp_path / "decisions.parquet")]) == 0


@pytest.mark.parametrize("extra", [["--explain"], ["-o", "out.jsonl"], ["-o", "-"]])
def test_what_a_parquet_run_does_not_take_is_refused(
        tmp_path: Path, fujian: Policy, capsys: pytest.CaptureFixture[str],
        extra: list[str]) -> None:
    households = list(benchmark_module("boundary_households").boundary_households(20, 6))
    pq.write_table(records_to_arrow(fujian, households), tmp_path / "in.parquet")
    output = [] if "-o" in extra else ["-o", str(tmp_path / "out.parquet")]  # (-: stdout)
    args = [str(tmp_path / a) if a.startswith("out.") else a for a in extra]
    assert main(["eval", str(FUJIAN), str(tmp_path / "in.parquet"), "--as-of", AS_OF,
                 *output, *args]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "Parquet" in err
    assert not (tmp_path / "out.parquet").exists()


def test_where_json_lines_are_read_a_parquet_file_is_refused(
        tmp_path: Path, fujian: Policy, capsys: pytest.CaptureFixture[str]) -> None:
    """`explain`, `--cases`, a report's `--decisions`: a Parquet file is named, not read line
    by line into rejections of every line."""
    households = list(benchmark_module("boundary_households").boundary_households(20, 6))
    parquet = tmp_path / "households.parquet"
    pq.write_table(records_to_arrow(fujian, households), parquet)
    jsonl = tmp_path / "households.jsonl"
    jsonl.write_text("".join(dumps(h) + "\n" for h in households), encoding="utf-8")
    for args in (["explain", str(FUJIAN), str(parquet), "--as-of", AS_OF],
                 ["report", "ledger", str(FUJIAN), str(jsonl), "--month", "2021-09",
                  "--decisions", str(parquet)],
                 ["eval", str(FUJIAN), str(jsonl), "--as-of", AS_OF, "--cases", str(parquet)]):
        assert main(args) == 2, args
        err = capsys.readouterr().err
        assert f"'{parquet}' is a Parquet file, and JSON lines are read here" in err, args
        assert "Traceback" not in err


def test_diff_impact_reads_a_parquet_file(tmp_path: Path, fujian: Policy,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    """`diff --impact` of a Parquet file: the report of the same households as JSON lines,
    on either engine, each household numbered by its row (0-based) where JSON lines give its
    line, a bad row rejected naming its row."""
    import json
    from decimal import Decimal

    import pyarrow as pa

    households = list(benchmark_module("boundary_households").boundary_households(300, 8))
    rows = records_to_arrow(fujian, households).to_pylist()
    rows[5]["net_income"] = Decimal("-2000000000000")
    table = pa.Table.from_pylist(rows, schema=records_to_arrow(fujian, households[:1]).schema)
    parquet = tmp_path / "households.parquet"
    pq.write_table(table, parquet, row_group_size=100)
    jsonl = tmp_path / "households.jsonl"
    households[5]["net_income"] = "-2000000000000"
    jsonl.write_text("".join(dumps(h) + "\n" for h in households), encoding="utf-8")

    def run(source: Path, engine: str, fmt: str) -> tuple[Any, list[Any]]:
        report, changed = tmp_path / f"report.{fmt}", tmp_path / "changed.jsonl"
        assert main(["diff", str(FUJIAN), str(REVISED), "--impact", str(source),
                     "--as-of", AS_OF, "--engine", engine, "--format", fmt,
                     "-o", str(report), "--impact-out", str(changed)]) == 1  # a rejection
        capsys.readouterr()
        text = report.read_text(encoding="utf-8")
        return json.loads(text) if fmt == "json" else text, \
            [json.loads(line) for line in changed.read_text(encoding="utf-8").splitlines()]

    by_lines, changed_lines = run(jsonl, "record", "json")
    assert by_lines["impact"]["rejected"] == 1 and by_lines["impact"]["changed"] > 20
    for numbered in (by_lines["impact"]["rejections"], by_lines["attribution"]["listed"],
                     changed_lines,
                     [c["attribution"] for c in changed_lines]):
        for entry in numbered:
            entry["row"] = entry.pop("line") - 1  # a line counts from 1, a row from 0
    for engine in ("record", "columnar"):
        by_rows, changed_rows = run(parquet, engine, "json")
        assert by_rows == by_lines, engine
        assert changed_rows == changed_lines, engine
    assert by_lines["impact"]["rejections"][0]["row"] == 5
    text, _ = run(parquet, "columnar", "text")
    assert "row 5 " in text and "line 5 " not in text


def _parquet_source(tmp_path: Path, fujian: Policy, n: int = 600) -> Path:
    households = list(benchmark_module("boundary_households").boundary_households(n, 3))
    source = tmp_path / "in.parquet"
    pq.write_table(records_to_arrow(fujian, households), source, row_group_size=100)
    return source


def test_a_parquet_run_reads_and_writes_beside_deciding(
        tmp_path: Path, fujian: Policy, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """The next batch is read, and the last one written, each in a thread of its own while a
    batch is decided: the same bytes, in order."""
    import threading

    from fangpin_rules.cli import columnar_eval

    monkeypatch.setattr(columnar_eval, "PARQUET_BATCH_ROWS", 100)
    seen: dict[str, set[str]] = {"read": set(), "written": set()}
    batches = columnar_eval.file_batches

    def reading(*args: Any) -> Any:
        for batch in batches(*args):
            seen["read"].add(threading.current_thread().name)
            yield batch

    write = pq.ParquetWriter.write_table

    def writing(self: Any, table: Any, *args: Any, **kwargs: Any) -> None:
        seen["written"].add(threading.current_thread().name)
        write(self, table, *args, **kwargs)

    source, out = _parquet_source(tmp_path, fujian), tmp_path / "out.parquet"
    monkeypatch.setattr(columnar_eval, "file_batches", reading)
    monkeypatch.setattr(pq.ParquetWriter, "write_table", writing)
    assert main(["eval", str(FUJIAN), str(source), "--as-of", AS_OF, "--engine", "columnar",
                 "-o", str(out)]) == 0
    assert "read 600, decided 600, rejected 0" in capsys.readouterr().err
    assert seen == {"read": {"fangpin-read-ahead"}, "written": {"fangpin-write"}}
    assert pq.ParquetFile(out).metadata.num_row_groups == 6
    assert pq.read_table(out).to_pylist() == decide_batch(
        fujian, pq.read_table(source), AS_OF, engine="record").decisions.to_pylist()


def test_a_failed_write_ends_the_parquet_run_with_no_output(
        tmp_path: Path, fujian: Policy, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from fangpin_rules.cli import columnar_eval

    monkeypatch.setattr(columnar_eval, "PARQUET_BATCH_ROWS", 100)
    write = pq.ParquetWriter.write_table
    calls: list[int] = []

    def failing(self: Any, table: Any, *args: Any, **kwargs: Any) -> None:
        calls.append(table.num_rows)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        write(self, table, *args, **kwargs)

    source, out = _parquet_source(tmp_path, fujian), tmp_path / "out.parquet"
    monkeypatch.setattr(pq.ParquetWriter, "write_table", failing)
    assert main(["eval", str(FUJIAN), str(source), "--as-of", AS_OF, "--engine", "columnar",
                 "-o", str(out)]) == 3
    err = capsys.readouterr().err
    assert "No space left on device" in err and "no output file was written or replaced" in err
    assert "Traceback" not in err and "read 600" not in err
    assert not out.exists() and list(tmp_path.iterdir()) == [source]
    assert len(calls) < 6  # the run stopped: the batches after the failure were not written


def test_a_parquet_file_that_fails_mid_way_ends_the_run_with_no_output(
        tmp_path: Path, fujian: Policy, capsys: pytest.CaptureFixture[str]) -> None:
    source = _parquet_source(tmp_path, fujian)
    data = bytearray(source.read_bytes())
    middle = len(data) // 2
    data[middle:middle + 4000] = bytes(4000)  # a row group's pages, the footer intact
    source.write_bytes(bytes(data))
    out = tmp_path / "out.parquet"
    code = main(["eval", str(FUJIAN), str(source), "--as-of", AS_OF, "--engine", "columnar",
                 "-o", str(out)])
    err = capsys.readouterr().err
    assert code in (2, 3) and "no output file was written or replaced" in err
    assert "Traceback" not in err and not out.exists()


def test_read_ahead_and_write_beside_stop_and_raise() -> None:
    from fangpin_rules.cli.columnar_eval import Ahead, Beside

    with Ahead(iter(range(50))) as taken:
        assert list(taken) == list(range(50))

    def failing() -> Any:
        yield 1
        raise ValueError("a bad page")

    with Ahead(failing()) as taken, pytest.raises(ValueError, match="a bad page"):
        assert next(taken) == 1
        next(taken)
    endless = Ahead(iter(range(10**9)))
    with endless as taken:
        assert next(taken) == 0  # left with the producer still going: it is stopped
    assert not endless._thread.is_alive()

    written: list[int] = []
    with Beside(written.append) as writer:
        for item in range(20):
            writer(item)
    assert written == list(range(20))

    def refusing(item: int) -> None:
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"), Beside(refusing) as writer:
        writer(1)
    kept: list[int] = []
    with pytest.raises(KeyError), Beside(kept.append) as writer:
        raise KeyError("the run failed")  # nothing given after is written, no hang
    assert kept == []


def _colliding(ids: Any) -> Any:
    """A hash that collides for every two ids of one length ("H1" .. "H9"): the index must
    still tell them apart by the ids it spilled."""
    import polars as pl
    return ids.str.len_bytes().cast(pl.UInt64)


@pytest.mark.parametrize(("key", "max_run"), [(None, 1 << 21), (_colliding, 1 << 21),
                                              (None, 8), (_colliding, 8)],
                         ids=["hash", "colliding", "hash-short-runs", "colliding-short-runs"])
@settings(max_examples=30, deadline=None)
@given(st.lists(st.lists(st.sampled_from([f"H{k}" for k in range(40)]), max_size=25),
                max_size=12))
def test_the_id_index_names_each_ids_first_row(key: Any, max_run: int,
                                               batches: list[list[str]]) -> None:
    import polars as pl

    from fangpin_rules.columnar.ids import IdIndex

    first_row: dict[str, int] = {}
    row = 0
    with IdIndex(key, max_run) as index:
        for batch in batches:
            rows = list(range(row, row + len(batch)))
            got = index.first_rows(pl.Series(batch, dtype=pl.String),
                                   pl.Series(rows, dtype=pl.Int64)).to_list()
            expected = []
            for record_id, at in zip(batch, rows, strict=True):
                expected.append(first_row.get(record_id))
                first_row.setdefault(record_id, at)
            assert got == expected
            row += len(batch) + 3  # rows of rejected records between the batches
        assert index.spill.tell() > 0 or not first_row  # the ids are on disk, not in memory
        assert sum(run.height for run in index.runs) == len(first_row)  # each id once
        assert all(run.height <= max(max_run, 25) for run in index.runs)  # a batch is <= 25
    assert index.spill.closed


def test_a_region_table_on_the_columnar_engine(tmp_path: Path, fujian: Policy,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    """`--regions` with `--engine columnar`: the record engine's bytes for JSON lines (the
    households of no region rejected with their line), and its decisions in Parquet."""
    table_file = ROOT / "policies" / "regions" / "fujian_example_regions.yaml"
    households = list(benchmark_module("boundary_households").boundary_households(900, 4))
    codes = ("350121", "350526", "350582001", "350999", None)
    for number, household in enumerate(households):
        household["region_code"] = codes[number % len(codes)]
    source = tmp_path / "households.jsonl"
    source.write_text("".join(dumps(h) + "\n" for h in households), encoding="utf-8")
    runs = {}
    for engine in ("record", "columnar"):
        out, rejects = tmp_path / f"{engine}.jsonl", tmp_path / f"{engine}.rejects"
        code = main(["eval", str(FUJIAN), str(source), "--as-of", "2023-03-01", "--engine",
                     engine, "--regions", str(table_file), "-o", str(out),
                     "--rejects", str(rejects)])
        runs[engine] = (code, out.read_bytes(), rejects.read_bytes(),
                        capsys.readouterr().err.splitlines()[-1].split(" (see")[0])
    assert runs["columnar"] == runs["record"]
    assert runs["columnar"][3] == "read 900, decided 540, rejected 360"
    parquet = tmp_path / "in.parquet"
    kept = [h for h in households if h["region_code"] not in ("350999", None)]
    pq.write_table(records_to_arrow(fujian, kept), parquet)
    out = tmp_path / "out.parquet"
    assert main(["eval", str(FUJIAN), str(parquet), "--as-of", "2023-03-01", "--engine",
                 "columnar", "--regions", str(table_file), "-o", str(out)]) == 0
    regional = load_regions(fujian, table_file)
    expected = decide_batch(regional, records_to_arrow(fujian, kept), "2023-03-01",
                            engine="record").decisions
    assert pq.read_table(out).to_pylist() == expected.to_pylist()


@pytest.mark.parametrize("name", ["ROUNDING", "WORKING_DAYS", "AGGREGATES", "QUOTIENTS"])
def test_the_constructs_through_the_cli(tmp_path: Path, name: str,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    """Each policy of test_columnar_constructs.py through `fangpin eval`: the columnar
    engine's JSON lines are the record engine's, byte for byte, rejects and counts too."""
    import runpy

    constructs = runpy.run_path(str(Path(__file__).with_name("test_columnar_constructs.py")))
    policy = tmp_path / "policy.yaml"
    policy.write_text(constructs[name], encoding="utf-8")
    source = records_file(tmp_path, 400)
    runs = {}
    for engine in ("record", "columnar"):
        out, rejects = tmp_path / f"{engine}.jsonl", tmp_path / f"{engine}.rejects"
        code = main(["eval", str(policy), str(source), "--as-of", "2021-10-15", "--engine",
                     engine, "-o", str(out), "--rejects", str(rejects)])
        runs[engine] = (code, out.read_bytes(), rejects.read_bytes(),
                        capsys.readouterr().err.splitlines()[-1].split(" (see")[0])
    assert runs["columnar"] == runs["record"]
    assert runs["columnar"][1].count(b"\n") > 300


def test_a_parquet_file_is_read_by_readers_of_a_few_row_groups(tmp_path: Path) -> None:
    """Each reader of the file's batches reads only the row groups of about one batch (one
    reader over the whole file kept the bytes it read, about 40 a household, on the C++
    default pool until its end: 120 MiB at 3,000,000 households): the rows all read, once,
    in order, in batches of at most `rows`."""
    import pyarrow as pa

    from fangpin_rules.cli.columnar_eval import file_batches

    path = tmp_path / "groups.parquet"
    sizes = [1000, 1000, 5000, 200, 200, 200, 3000]
    with pq.ParquetWriter(path, pa.schema([("n", pa.int64())])) as out:
        start = 0
        for size in sizes:
            out.write_table(pa.table({"n": pa.array(range(start, start + size), pa.int64())}))
            start += size
    source = pq.ParquetFile(path)
    assert [source.metadata.row_group(i).num_rows for i in range(len(sizes))] == sizes
    readers: list[list[int]] = []
    iter_batches = source.iter_batches

    def noted(*args: Any, **kwargs: Any) -> Any:
        readers.append(list(kwargs["row_groups"]))
        return iter_batches(*args, **kwargs)

    source.iter_batches = noted  # type: ignore[method-assign]
    batches = list(file_batches(source, rows=2000))
    assert readers == [[0, 1], [2], [3, 4, 5, 6]]  # at least a batch's rows each, or the rest
    assert all(batch.num_rows <= 2000 for batch in batches)
    assert [n for batch in batches for n in batch.column("n").to_pylist()] == \
        list(range(sum(sizes)))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.one_of(st.none(), st.sampled_from("ABCDEFGH")), max_size=12),
                max_size=6))
def test_indexed_ids_filter_as_one_decision_per_id(chunks: list[list[str | None]]) -> None:
    """The JSON-lines run's filter on the id index rejects exactly what the dict of every id
    rejects, in the same words and order, within a chunk and across chunks; an id of None is
    never a repeat."""
    from fangpin_rules.columnar.ids import IndexedIds
    from fangpin_rules.engine.stream import ChunkResult, OneDecisionPerId

    line = 0
    results = []
    for ids in chunks:
        decided = []
        for record_id in ids:
            line += 2  # every other line rejected already
            decided.append((record_id, line))
        results.append(ChunkResult(
            b"".join(f'{{"n":{n}}}\n'.encode() for _, n in decided), '{"earlier":1}\n',
            2 * len(ids), len(ids), len(ids), tuple(decided)))
    by_dict = OneDecisionPerId("household_id")
    with IndexedIds("household_id") as by_index:
        for result in results:
            assert by_index.filter(result) == by_dict.filter(result)


def test_jsonl_repeats_across_chunks_are_the_record_engines(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Ids repeated within a chunk and in later chunks (and a rejected record's id given again,
    which is free): the columnar engine's JSON lines, rejects and counts are the record
    engine's."""
    monkeypatch.setattr("fangpin_rules.engine.stream.COLUMNAR_CHUNK", 50)
    lines = list(benchmark_module("boundary_households").boundary_lines(300, seed=4))
    lines[20] = lines[5]  # the same chunk
    lines[130] = lines[5]  # a later chunk
    lines[131] = lines[130]
    lines[40] = lines[40].replace('"net_income":', '"net_income":"lots","x":', 1)
    lines[260] = lines[40].replace('"lots","x":', "", 1)  # the rejected one's id: decided
    source = tmp_path / "households.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    runs = _on_both_engines(tmp_path, capsys, source)
    assert runs["columnar"] == runs["record"]
    assert runs["columnar"][3] == "read 300, decided 296, rejected 4"
    assert runs["columnar"][2].count(b"(line 6)") == 3
