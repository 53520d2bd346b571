"""Every path gives the same decisions on the same input: the record API, `fangpin eval`,
`--jobs N`, Arrow batches and Dask."""

from __future__ import annotations

import importlib
import io
import json
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from fangpin_rules import Policy, RecordError, Rejection
from fangpin_rules.cli.eval import decide_stream
from fangpin_rules.engine.records import parse_json, read_records
from fangpin_rules.engine.serialize import dumps
from fangpin_rules.language import types as t
from fangpin_rules.limits import DECIMAL_CONTEXT

from scale_support import AS_OF
from support import FUJIAN, ROOT

TRACE = "trace"  # explanations: the record API's and the CLI's only


def record_api(policy: Policy, path: Path) -> tuple[str, str]:
    """Decisions and rejects as JSONL, computed one record at a time with `evaluate_many`."""
    rejects: list[Rejection] = []
    numbers: list[int] = []
    items: list[Any] = []
    with path.open(encoding="utf-8") as stream:
        for number, item in read_records(stream):
            if isinstance(item, Exception):
                rejects.append(item.rejection)  # type: ignore[attr-defined]
                continue
            numbers.append(number)
            items.append(item)
    decided = []
    for number, item in zip(numbers, items, strict=True):
        try:
            decided.append(next(policy.evaluate_many([item], AS_OF)))
        except RecordError as exc:  # kept with its line
            rejection = exc.rejection
            rejects.append(Rejection(number, rejection.household_id, rejection.field,
                                     rejection.reason))
    rejects.sort(key=lambda r: r.line or 0)
    return ("".join(dumps(d) + "\n" for d in decided),
            "".join(dumps(r.to_json()) + "\n" for r in rejects))


def run_stream(policy: Policy, path: Path, jobs: int, chunk_lines: int) -> tuple[str, str,
                                                                               tuple[int, ...]]:
    out, rejects = io.StringIO(), io.StringIO()
    with path.open(encoding="utf-8") as source:
        counts = decide_stream(policy, source, out, rejects, date.fromisoformat(AS_OF),
                               jobs=jobs, chunk_lines=chunk_lines)
    return out.getvalue(), rejects.getvalue(), counts


@pytest.fixture(scope="module")
def expected(fujian: Policy, input_file: Path) -> tuple[str, str]:
    return record_api(fujian, input_file)


def test_the_input_has_rejects_of_every_kind(expected: tuple[str, str]) -> None:
    rejects = [json.loads(line) for line in expected[1].splitlines()]
    assert [(r["line"], r["household_id"], r["field"]) for r in rejects] == [
        (4, "BAD-1", "net_income"), (11, None, None)]


@pytest.mark.parametrize(("jobs", "chunk_lines"), [(1, 2000), (1, 7), (2, 50), (3, 33)])
def test_stream_equals_record_api(fujian: Policy, input_file: Path,
                                  expected: tuple[str, str], jobs: int,
                                  chunk_lines: int) -> None:
    decisions, rejects, counts = run_stream(fujian, input_file, jobs, chunk_lines)
    assert decisions == expected[0]
    assert rejects == expected[1]
    read, decided, rejected = counts
    assert (read, decided, rejected) == (605, 603, 2)


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_cli_output_is_byte_identical_to_the_record_api(input_file: Path, tmp_path: Path,
                                                        expected: tuple[str, str],
                                                        jobs: str) -> None:
    out, rejects = tmp_path / "out.jsonl", tmp_path / "rejects.jsonl"
    done = subprocess.run(
        [sys.executable, "-m", "fangpin_rules.cli.main", "eval", str(FUJIAN), str(input_file),
         "--as-of", AS_OF, "-o", str(out), "--rejects", str(rejects), "--jobs", jobs],
        capture_output=True, text=True, check=False)
    assert done.returncode == 1, done.stderr  # some records were rejected
    assert out.read_text(encoding="utf-8") == expected[0]
    assert rejects.read_text(encoding="utf-8") == expected[1]
    assert done.stderr == f"read 605, decided 603, rejected 2 (see {rejects})\n"


def test_the_stream_reads_typed_lines_and_leaves_the_rest_to_pydantic(
        fujian: Policy, input_file: Path) -> None:
    from fangpin_rules.engine.stream import ChunkDecider

    decider = ChunkDecider(fujian, date.fromisoformat(AS_OF))
    assert decider.reader is not None
    lines = [line for line in input_file.read_text(encoding="utf-8").splitlines() if line]
    left = [line[:30] for line in lines if decider.reader.decode(line) is None]
    assert len(left) == 5  # the bad record, the line that is not JSON, the three lax ones
    decisions = run_stream(fujian, input_file, 1, 2000)[0].splitlines()
    assert [json.loads(line)["household_id"] for line in decisions[-3:]] == [
        "LAX-1", "LAX-2", "LAX-3"]  # pydantic's reading: the id stripped


def test_a_json_array_is_decided_in_workers_too(fujian: Policy, tmp_path: Path,
                                                households: list[dict[str, Any]]) -> None:
    path = tmp_path / "array.json"
    path.write_text(json.dumps(households[:120]), encoding="utf-8")
    one = run_stream(fujian, path, 1, 2000)
    assert run_stream(fujian, path, 2, 25) == one
    assert one[2] == (120, 120, 0)


def test_negative_jobs_is_a_usage_error(input_file: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "fangpin_rules.cli.main", "eval", str(FUJIAN), str(input_file),
         "--as-of", AS_OF, "--jobs", "-1"], capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert "--jobs takes a number of processes" in done.stderr
    assert "Traceback" not in done.stderr


# -- Arrow batches and Dask --------------------------------------------------------------------
def from_arrow_row(policy: Policy, row: dict[str, Any]) -> dict[str, Any]:
    """An Arrow decision row in the form of a parsed JSON decision (decimal text -> number)."""
    plain = dict(row)
    for key, kind in policy.checked.output_fields():
        if t.strip(kind) in t.NUMERIC and plain[key] is not None:
            plain[key] = parse_json(plain[key])
    for key in ("deadlines", "overdue", "violations"):  # a struct has every field: JSON only
        plain[key] = [{k: v for k, v in entry.items() if k != "reason" or v is not None}
                      for entry in plain[key]]  # gives `reason` where a status is unknown
    return parse_json(dumps(plain))


def json_decisions(text: str) -> list[dict[str, Any]]:
    decisions = [parse_json(line) for line in text.splitlines()]
    for decision in decisions:
        assert decision.pop(TRACE) == []
    return decisions


def test_arrow_batches_equal_the_record_api(fujian: Policy, households: list[dict[str, Any]],
                                            expected: tuple[str, str]) -> None:
    pytest.importorskip("pyarrow")
    from fangpin_rules.columnar import decide_batch, output_schema, records_to_arrow

    table = records_to_arrow(fujian, households)
    batches = table.to_batches(max_chunksize=128)
    assert len(batches) > 1
    rows = []
    for batch in batches:
        result = decide_batch(fujian, batch, AS_OF)
        assert result.decisions.schema == output_schema(fujian)
        assert result.rejects.num_rows == 0
        rows.extend(result.decisions.to_pylist())
    # the input file has the same households, and three lax records after them
    assert [from_arrow_row(fujian, row) for row in rows] == \
        json_decisions(expected[0])[:len(households)]


def test_arrow_money_is_exact_and_never_float(fujian: Policy,
                                              households: list[dict[str, Any]]) -> None:
    pa = pytest.importorskip("pyarrow")
    from fangpin_rules.columnar import decide_batch, records_to_arrow

    household = dict(households[0], net_income="10000.01", members=households[0]["members"][:1])
    household["members"] = [{**household["members"][0], "member_id": str(k)} for k in range(3)]
    table = records_to_arrow(fujian, [household])
    assert table.schema.field("net_income").type == pa.decimal128(38, 10)
    result = decide_batch(fujian, table, AS_OF)
    assert result.decisions.column("per_capita_income").to_pylist() == [
        str(DECIMAL_CONTEXT.divide(Decimal("10000.01"), 3))]


def test_a_bad_arrow_row_is_rejected_and_the_batch_goes_on(fujian: Policy,
                                                            households: list[dict[str, Any]]
                                                            ) -> None:
    pa = pytest.importorskip("pyarrow")
    from fangpin_rules.columnar import decide_batch, records_to_arrow

    table = records_to_arrow(fujian, households[:3])
    members = table.column("members").to_pylist()
    members[1] = []  # the contract wants at least one member
    table = table.set_column(table.schema.get_field_index("members"), "members",
                             pa.array(members, type=table.schema.field("members").type))
    result = decide_batch(fujian, table, AS_OF)
    assert result.decisions.column("household_id").to_pylist() == ["H000000", "H000002"]
    assert result.rejects.to_pylist() == [{
        "row": 1, "household_id": "H000001", "field": "members",
        "reason": "List should have at least 1 item after validation, not 0"}]


def test_the_record_engine_decides_a_batch_a_chunk_at_a_time(
        fujian: Policy, households: list[dict[str, Any]],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows are read and decided a chunk at a time (`RECORD_CHUNK_ROWS`), and records made into
    a table so: each rejection keeps its row in the batch, the decisions their order, whatever
    chunk they fall in."""
    pa = pytest.importorskip("pyarrow")
    from fangpin_rules.columnar import arrow, decide_batch, output_schema, records_to_arrow

    plain = records_to_arrow(fujian, households[:7])
    members = plain.column("members").to_pylist()
    members[2] = members[5] = []  # the contract wants at least one member
    table = plain.set_column(plain.schema.get_field_index("members"), "members",
                             pa.array(members, type=plain.schema.field("members").type))
    whole = decide_batch(fujian, table, AS_OF, engine="record")
    monkeypatch.setattr(arrow, "RECORD_CHUNK_ROWS", 2)
    chunks = records_to_arrow(fujian, iter(households[:7]))  # made a chunk at a time too
    assert chunks.equals(plain) and chunks.column("members").num_chunks == 1
    chunked = decide_batch(fujian, table, AS_OF, engine="record")
    assert [r["row"] for r in chunked.rejects.to_pylist()] == [2, 5]
    assert chunked.rejects.to_pylist() == whole.rejects.to_pylist()
    assert chunked.decisions.column("household_id").to_pylist() == [
        f"H00000{i}" for i in (0, 1, 3, 4, 6)]
    assert chunked.decisions.to_pylist() == whole.decisions.to_pylist() == \
        decide_batch(fujian, table, AS_OF).decisions.to_pylist()
    empty = decide_batch(fujian, table.slice(0, 0), AS_OF, engine="record")
    assert empty.decisions.schema == output_schema(fujian)
    assert empty.decisions.num_rows == empty.rejects.num_rows == 0


def test_a_record_holding_a_lone_surrogate_is_refused_naming_its_field(
        fujian: Policy, households: list[dict[str, Any]]) -> None:
    """A Python text may hold a lone surrogate (bytes decoded with errors='surrogateescape'),
    which Arrow cannot write: `records_to_arrow` raises the RecordError of that record, its
    number and field, the id repeated with the surrogate escaped (Arrow's UnicodeEncodeError
    escaped before)."""
    pytest.importorskip("pyarrow")
    from fangpin_rules.columnar import records_to_arrow

    bad = dict(households[1], household_id="H\udcff1")
    bad["members"] = [dict(bad["members"][0], member_id="M\ud800"), *bad["members"][1:]]
    with pytest.raises(RecordError) as caught:
        records_to_arrow(fujian, [households[0], bad, households[2]])
    rejection = caught.value.rejection
    assert (rejection.line, rejection.household_id, rejection.field) == (
        2, "H\\udcff1", "household_id")
    assert "lone surrogate" in rejection.reason


def test_records_become_the_same_arrow_table_however_they_come(
        fujian: Policy, households: list[dict[str, Any]]) -> None:
    pytest.importorskip("pyarrow")
    from fangpin_rules.columnar import records_to_arrow
    from fangpin_rules.engine.typed_json import typed_reader

    reader = typed_reader(fujian.checked.record_model)
    assert reader is not None
    plain = [parse_json(json.dumps(h)) for h in households[:50]]
    lax = dict(plain[0], household_id=" H000000 ")  # pydantic strips it: the same table
    from_dicts = records_to_arrow(fujian, [lax, *plain[1:]])
    assert from_dicts.equals(records_to_arrow(fujian, [reader.convert(h) for h in plain]))
    assert from_dicts.equals(records_to_arrow(fujian, [fujian.validate(h) for h in plain]))
    with pytest.raises(RecordError):
        records_to_arrow(fujian, [dict(plain[0], members=[])])


def test_an_arrow_row_in_a_lax_form_is_read_as_the_record_api_reads_it(
        fujian: Policy, households: list[dict[str, Any]]) -> None:
    pa = pytest.importorskip("pyarrow")
    from fangpin_rules.columnar import decide_batch, input_schema, records_to_arrow
    from fangpin_rules.engine.typed_json import typed_reader

    rows = records_to_arrow(fujian, households[:2]).to_pylist()
    rows[1]["household_id"] = " H000001 "  # pydantic strips it; the typed reader leaves it
    rows[1]["monitoring"] = None  # a null struct: absent, so its defaults apply
    reader = typed_reader(fujian.checked.record_model)
    assert reader is not None and reader.convert(rows[0]) is not None
    assert reader.convert(rows[1]) is None
    result = decide_batch(fujian, pa.Table.from_pylist(rows, schema=input_schema(fujian)), AS_OF)
    decided = result.decisions.to_pylist()
    assert [row["household_id"] for row in decided] == ["H000000", "H000001"]
    expected = fujian.evaluate(dict(households[1], household_id="H000001"), AS_OF)
    assert from_arrow_row(fujian, decided[1]) == json_decisions(dumps(expected))[0]


def test_arrow_batches_with_cases_equal_the_record_api(fujian: Policy) -> None:
    pytest.importorskip("pyarrow")
    from fangpin_rules.columnar import decide_batch, records_to_arrow

    households = [parse_json(line) for line in
                  (ROOT / "examples" / "households.jsonl").read_text("utf-8").splitlines()]
    cases: dict[str, list[Any]] = {}
    for line in (ROOT / "examples" / "cases.jsonl").read_text("utf-8").splitlines():
        case = parse_json(line)
        cases.setdefault(case["household_id"], []).append(case)
    when = "2025-06-30"
    result = decide_batch(fujian, records_to_arrow(fujian, households), when, cases=cases,
                          engine="record")
    expected = [fujian.evaluate(h, when, cases=cases.get(h["household_id"], []))
                for h in households]
    assert sum(len(d["overdue"]) for d in expected) > 0  # the cases have steps overdue
    got = [from_arrow_row(fujian, row) for row in result.decisions.to_pylist()]
    assert got == json_decisions("".join(dumps(d) + "\n" for d in expected))
    with pytest.raises(RecordError):
        decide_batch(fujian, records_to_arrow(fujian, households), when, engine="record",
                     cases={"x": [{"case_id": "C"}]})


def test_dask_example_equals_the_record_api(input_file: Path, expected: tuple[str, str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("dask")
    pytest.importorskip("pyarrow")
    # Dask's worker processes import the example by name, as they would the script's module.
    monkeypatch.syspath_prepend(str(ROOT / "examples"))
    example = importlib.import_module("dask_batches")
    decisions, rejects = example.decide_with_dask(str(FUJIAN), str(input_file), AS_OF,
                                                  blocksize=100_000, scheduler="processes",
                                                  workers=2)
    from fangpin_rules import load_policy

    policy = load_policy(FUJIAN)
    assert [from_arrow_row(policy, row) for row in decisions] == json_decisions(expected[0])
    assert sorted(str(r["household_id"]) for r in rejects) == ["BAD-1", "None"]


def test_dask_example_decides_each_partition_in_columns(
        input_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One partition as a worker decides it: by the columnar engine (its query runs once for
    the partition), with the decisions and rejects of the record engine."""
    from fangpin_rules.columnar import engine

    monkeypatch.syspath_prepend(str(ROOT / "examples"))
    example = importlib.import_module("dask_batches")
    lines = input_file.read_text(encoding="utf-8").splitlines()
    queries: list[int] = []
    decide_validated = engine.decide_validated

    def counted(policy: Any, table: Any, *args: Any, **kwargs: Any) -> Any:
        queries.append(table.num_rows)
        return decide_validated(policy, table, *args, **kwargs)

    monkeypatch.setattr(engine, "decide_validated", counted)
    by_columns = example.decide_partition(lines, str(FUJIAN), AS_OF)
    assert queries == [603]
    assert by_columns == example.decide_partition(lines, str(FUJIAN), AS_OF, engine="record")
    assert queries == [603]  # the record engine runs no query


def test_dask_example_refuses_what_the_columnar_engine_cannot_express(
        input_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.syspath_prepend(str(ROOT / "examples"))
    example = importlib.import_module("dask_batches")
    text = FUJIAN.read_text(encoding="utf-8")
    line = "expr: per_capita_income < monitoring_line\n"
    policy = tmp_path / "policy.yaml"
    policy.write_text(text.replace(
        line, "expr: round(per_capita_income, count(members)) < monitoring_line\n"),
        encoding="utf-8")
    assert example.main([str(policy), str(input_file), AS_OF]) == 2
    err = capsys.readouterr().err
    assert "policy.yaml:" in err and "round()" in err and "Traceback" not in err
