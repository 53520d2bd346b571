"""`fangpin report` of households in a Parquet file: the report of the same households as JSON
lines, on either engine, its rejects naming the row (0-based) where JSON lines name the line;
the months of `report history` and `report regional` may be Parquet files too."""

from __future__ import annotations

import io
import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from fangpin_rules import Policy
from fangpin_rules.cli.main import main
from fangpin_rules.columnar import records_to_arrow
from fangpin_rules.engine.serialize import dumps

from population_support import NOVEMBER, OCTOBER, household, records
from support import FUJIAN, benchmark_module


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def both_files(folder: Path, policy: Policy, households: list[dict[str, Any]],
               bad: bool = True, name: str = "households") -> tuple[Path, Path]:
    """The households as a Parquet file and as JSON lines of the same values (row r is line
    r + 1); with `bad`, rows the contract refuses though Arrow holds them are put in: an
    income out of bounds, no members, a member twice, the last row's id again."""
    table = records_to_arrow(policy, households)
    rows = table.to_pylist()
    if bad:
        rows[4] = {**rows[4], "net_income": Decimal("-2000000000000")}
        rows[9] = {**rows[9], "members": []}
        rows[11] = {**rows[11], "members": rows[11]["members"] + rows[11]["members"][:1]}
        rows.append(dict(rows[-1]))  # (next to it: a month's file is sorted by id)
    parquet = folder / f"{name}.parquet"
    pq.write_table(pa.Table.from_pylist(rows, schema=table.schema), parquet, row_group_size=97)
    jsonl = folder / f"{name}.jsonl"
    jsonl.write_text("".join(dumps(_without_nulls(r)) + "\n" for r in rows), encoding="utf-8")
    return parquet, jsonl


def county(policy: Policy, path: Path = NOVEMBER) -> list[dict[str, Any]]:
    return records(path) + list(benchmark_module("boundary_households").boundary_households(
        300, 6))


def _run(folder: Path, capsys: pytest.CaptureFixture[str], command: list[str]
         ) -> tuple[int, dict[str, bytes], list[dict[str, Any]], str]:
    folder.mkdir()
    rejects = folder / "rejects.jsonl"
    code = main([a.replace("{out}", str(folder)) for a in command] + ["--rejects", str(rejects)])
    files = {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
             if p.is_file() and p != rejects}
    found = [json.loads(line) for line in rejects.read_text(encoding="utf-8").splitlines()]
    return code, files, found, capsys.readouterr().err.replace(str(folder), "{out}")


def _as_rows(rejections: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rejections of JSON lines as those of the Parquet file of the same households."""
    out = []
    for rejection in rejections:
        shown = {("row" if key == "line" else key): value for key, value in rejection.items()}
        shown["row"] -= 1  # a line counts from 1, a row from 0
        shown["reason"] = re.sub(r"\(line (\d+)\)", lambda m: f"(row {int(m[1]) - 1})",
                                 shown["reason"])
        if "file" in shown:
            shown["file"] = shown["file"].replace(".jsonl", ".parquet")
        out.append(shown)
    return out


@pytest.mark.parametrize("engine", ["record", "columnar"])
@pytest.mark.parametrize("arguments", [
    ["ledger", "--month", "2021-11", "--format", "csv", "--by", "township",
     "-o", "{out}/ledger.csv"],
    ["departments", "--month", "2021-11", "--previous", "{previous}", "--format", "csv",
     "-o", "{out}/lists"],
    ["assess", "--quarter", "2021Q4", "--format", "json", "-o", "{out}/assess.json"],
], ids=["ledger", "departments", "assess"])
def test_each_report_of_a_parquet_file_is_that_of_its_json_lines(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], fujian: Policy,
        arguments: list[str], engine: str) -> None:
    parquet, jsonl = both_files(tmp_path, fujian, county(fujian))
    previous_parquet, previous_jsonl = both_files(tmp_path, fujian, records(OCTOBER),
                                                  bad=False, name="october")

    def command(households: Path, previous: Path) -> list[str]:
        return ["report", arguments[0], str(FUJIAN), str(households),
                *[a.replace("{previous}", str(previous)) for a in arguments[1:]],
                "--engine", engine]

    by_lines = _run(tmp_path / "lines", capsys, command(jsonl, previous_jsonl))
    by_rows = _run(tmp_path / "rows", capsys, command(parquet, previous_parquet))
    code, files, found, err = by_rows
    assert (code, files, err) == by_lines[:2] + by_lines[3:]  # every file of the report
    assert found == _as_rows(by_lines[2])
    assert code == 1 and "rejected 4" in err and len(files) >= 1
    assert sorted((r["row"], r["field"].split(".")[0]) for r in found) == [
        (4, "net_income"), (9, "members"), (11, "members"), (len(county(fujian)), "household_id")]
    assert f"(row {len(county(fujian)) - 1})" in next(
        r for r in found if r["field"] == "household_id")["reason"]


def test_history_and_regional_read_parquet_months(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], fujian: Policy) -> None:
    """A month's file may be Parquet, beside one in JSON lines: the same report."""
    benchmark_module("gen_county").write(tmp_path, seed=0, code="350181")
    months = {}
    for month in ("2022-03", "2022-04"):
        kept = records(tmp_path / f"{month}.jsonl")
        months[month] = both_files(tmp_path, fujian, kept, bad=month == "2022-04", name=month)
    events = tmp_path / "events.csv"
    for verb, extra in (("history", []), ("regional", ["--events", str(events)])):
        runs = []
        for kinds in (("jsonl", "jsonl"), ("parquet", "jsonl"), ("parquet", "parquet")):
            given = [f"{m}={months[m][0] if kind == 'parquet' else months[m][1]}"
                     for m, kind in zip(months, kinds, strict=True)]
            folder = tmp_path / f"{verb}-{'-'.join(kinds)}"
            runs.append(_run(folder, capsys, ["report", verb, *given, *extra,
                                              "-o", "{out}/report.json"]))
        by_lines, march_parquet, all_parquet = runs
        assert march_parquet == by_lines, verb  # March's file has no bad row
        assert all_parquet[:2] == by_lines[:2] and all_parquet[3] == by_lines[3], verb
        assert all_parquet[2] == _as_rows(by_lines[2]), verb
        assert by_lines[0] == 1 and len(by_lines[2]) == 4, verb


def test_history_of_an_unsorted_parquet_month_says_how_to_sort_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], fujian: Policy) -> None:
    parquet, _ = both_files(tmp_path, fujian, [household("B"), household("A")], bad=False)
    assert main(["report", "history", f"2022-01={parquet}"]) == 2
    err = capsys.readouterr().err
    assert "households.parquet, row 1: household ids must be in ascending order" in err
    assert "sort('household_id')" in err and "Traceback" not in err


def test_a_file_that_is_not_parquet_though_named_so_is_a_usage_error(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fake = tmp_path / "households.parquet"
    fake.write_text(NOVEMBER.read_text(encoding="utf-8"), encoding="utf-8")
    assert main(["report", "ledger", str(FUJIAN), str(fake), "--month", "2021-11"]) == 2
    err = capsys.readouterr().err
    assert f"cannot read the Parquet file '{fake}'" in err and "Traceback" not in err


def test_a_parquet_month_through_the_python_api(tmp_path: Path, fujian: Policy) -> None:
    """`MonthFile(month, name, parquet_households(policy, path))`: the history of the JSON
    lines' month; a file that is not Parquet is refused before any row."""
    from fangpin_rules.columnar.parquet import parquet_households
    from fangpin_rules.population.history import HistoryRun, MonthFile, history

    households = [household("A", income=7500), household("B")]
    eliminated = [household("A", income=7500, status="risk_eliminated"), household("B")]
    runs = []
    for kind in ("parquet", "jsonl"):
        months = []
        for month, given in (("2022-01", households), ("2022-02", eliminated)):
            parquet, jsonl = both_files(tmp_path, fujian, given, bad=False, name=month)
            source = parquet_households(fujian, str(parquet)) if kind == "parquet" else \
                io.StringIO(jsonl.read_text(encoding="utf-8"))
            months.append(MonthFile(month, month, source))
        counts = HistoryRun()
        runs.append((list(history(fujian, months, run=counts)), counts))
    assert runs[0] == runs[1]
    assert [f["code"] for h in runs[0][0] for f in h["findings"]] == ["eliminated_not_eligible"]
    with pytest.raises((OSError, ValueError)):
        parquet_households(fujian, str(tmp_path / "2022-01.jsonl"))


@pytest.mark.parametrize("engine", ["record", "columnar"])
def test_a_reports_first_pass_over_the_ids_changes_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], fujian: Policy,
        monkeypatch: pytest.MonkeyPatch, engine: str) -> None:
    """The households of a file are screened for the ids that may repeat (only those held):
    the report and its rejects are those of the same JSON lines read from stdin (no first
    pass), and of the Parquet file with its first pass left out."""
    households = county(fujian)
    households += [dict(households[3]), dict(households[40], household_id=" " + households[40][
        "household_id"])]
    parquet, jsonl = both_files(tmp_path, fujian, households)
    arguments = ["--month", "2021-11", "--format", "csv", "-o", "{out}/ledger.csv", "--engine",
                 engine]
    from fangpin_rules.engine import stream
    held: list[Any] = []  # each run's one-decision-per-id check, to see what it holds
    made = stream.OneDecisionPerId.__init__

    def noted(self: Any, *args: Any, **kwargs: Any) -> None:
        made(self, *args, **kwargs)
        held.append(self)

    monkeypatch.setattr(stream.OneDecisionPerId, "__init__", noted)
    by_file = _run(tmp_path / "file", capsys, ["report", "ledger", str(FUJIAN), str(jsonl),
                                               *arguments])
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(jsonl.read_bytes()),
                                                      encoding="utf-8"))
    by_stdin = _run(tmp_path / "stdin", capsys, ["report", "ledger", str(FUJIAN), "-",
                                                 *arguments])
    assert by_file[:3] == by_stdin[:3]
    file_check, stdin_check = held[0], held[-1]
    # the two ids given more than once (the last row's, spaced, is row 40's too), not every id
    assert len(file_check.first_line) == 2
    assert len(stdin_check.first_line) == len(households) - 3 - 2  # every id decided
    assert sum("given to another record" in r["reason"] for r in by_file[2]) == 3
    screened = _run(tmp_path / "rows", capsys, ["report", "ledger", str(FUJIAN), str(parquet),
                                                *arguments])
    monkeypatch.setattr("fangpin_rules.columnar.ids.parquet_repeat_screen", lambda *_: None)
    every_id = _run(tmp_path / "rows-every-id", capsys, ["report", "ledger", str(FUJIAN),
                                                         str(parquet), *arguments])
    assert screened == every_id
    assert screened[2] == _as_rows(by_file[2])
