"""`fangpin report ledger|departments|assess --engine columnar`: the households decided in
columns give the record engine's report, rejects and counts byte for byte; the households are
still streamed (a chunk at a time); what the columnar engine does not take is refused."""

from __future__ import annotations

import io
import json
import re
from datetime import date
from pathlib import Path

import pytest

from fangpin_rules import load_policy
from fangpin_rules.cli.main import main
from fangpin_rules.population import deciding
from fangpin_rules.population.deciding import decide_households

from population_support import CASES, NOVEMBER, OCTOBER, policy_beyond_columns
from support import FUJIAN, ROOT, benchmark_module


def households_file(tmp_path: Path) -> Path:
    """The example county's November with synthetic and boundary households and every kind of
    bad record added: not JSON, outside the contract, a member twice, no members, an id twice."""
    lines = NOVEMBER.read_text(encoding="utf-8").splitlines()
    lines += benchmark_module("gen_households").generate_lines(400, 5)
    lines += benchmark_module("boundary_households").boundary_lines(400, 6)
    first = json.loads(lines[0])
    lines += ["{not json", '{"household_id": "NO-FIELDS", "members": 3}',
              json.dumps({**first, "household_id": "TWICE",
                          "members": first["members"] + first["members"][:1]}),
              json.dumps({**first, "household_id": "EMPTY", "members": []}), lines[3]]
    path = tmp_path / "households.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _run(tmp_path: Path, capsys: pytest.CaptureFixture[str], arguments: list[str],
         engine: str) -> tuple[int, dict[str, bytes], str]:
    folder = tmp_path / engine
    folder.mkdir(exist_ok=True)
    rejects = folder / "rejects.jsonl"
    code = main([*[a.replace("{out}", str(folder)) for a in arguments], "--engine", engine,
                 "--rejects", str(rejects)])
    files = {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
             if p.is_file()}
    return code, files, capsys.readouterr().err.replace(str(folder), "{out}")


@pytest.mark.parametrize("arguments", [
    ["ledger", "--month", "2021-11", "--format", "json", "-o", "{out}/ledger.json"],
    ["ledger", "--month", "2021-11", "--format", "csv", "--by", "township",
     "-o", "{out}/ledger.csv"],
    ["departments", "--month", "2021-11", "--previous", str(OCTOBER), "--format", "csv",
     "-o", "{out}/lists"],
    ["assess", "--quarter", "2021Q4", "--format", "markdown", "-o", "{out}/assess.md"],
], ids=["ledger-json", "ledger-csv", "departments", "assess"])
def test_each_report_is_the_record_engines(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                           arguments: list[str]) -> None:
    households = households_file(tmp_path)
    command = ["report", arguments[0], str(FUJIAN), str(households), *arguments[1:]]
    by_record = _run(tmp_path, capsys, command, "record")
    by_column = _run(tmp_path, capsys, command, "columnar")
    assert by_column == by_record  # every file of the report (each department's list) too
    code, files, err = by_column
    assert code == 1 and "decided 832, rejected 5" in err
    assert files["rejects.jsonl"].count(b"\n") == 5 and len(files) > 1


def test_the_households_are_streamed_a_chunk_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """The first households are handed on before the rest of the file is read."""
    policy = load_policy(FUJIAN)
    monkeypatch.setattr(deciding, "COLUMNAR_CHUNK", 1_000)
    lines = list(benchmark_module("gen_households").generate_lines(1_000 + 50, 2))
    read = []

    class Source(io.StringIO):
        def readline(self, size: int | None = -1) -> str:  # iterating calls it too
            read.append(1)
            return super().readline(size)

    decided = decide_households(policy, Source("\n".join(lines) + "\n"), date(2021, 10, 31),
                                on_reject=lambda r: None, engine="columnar")
    first = next(decided)
    assert first.household.household_id == json.loads(lines[0])["household_id"]
    assert len(read) <= 1_000 + 2
    assert sum(1 for _ in decided) == len(lines) - 1


REGIONS = ROOT / "policies" / "regions" / "fujian_example_regions.yaml"
TABLE_COUNTIES = ("350121", "350526", "350582")  # the example region table's


@pytest.mark.parametrize("arguments", [
    ["ledger", "--month", "2022-11", "--format", "csv", "--by", "township",
     "-o", "{out}/ledger.csv"],
    ["departments", "--month", "2022-11", "--format", "csv", "-o", "{out}/lists"],
    ["assess", "--quarter", "2022Q4", "--format", "json", "-o", "{out}/assess.json"],
], ids=["ledger", "departments", "assess"])
def test_each_report_under_a_region_table_is_the_record_engines(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], arguments: list[str]) -> None:
    """The households moved into the example table's counties (each its own monitoring line
    and dibao standard), every 25th left in a county the table does not hold: rejected naming
    `region_code` by both engines."""
    lines = households_file(tmp_path).read_text(encoding="utf-8").splitlines()
    moved = []
    for number, line in enumerate(lines):
        try:
            record = json.loads(line)
        except ValueError:
            moved.append(line)
            continue
        code = record.get("region_code") if isinstance(record, dict) else None
        if isinstance(code, str) and number % 25:
            record["region_code"] = TABLE_COUNTIES[number % 3] + code[6:]
        moved.append(json.dumps(record, ensure_ascii=False))
    households = tmp_path / "moved.jsonl"
    households.write_text("\n".join(moved) + "\n", encoding="utf-8")
    command = ["report", arguments[0], str(FUJIAN), str(households), *arguments[1:],
               "--regions", str(REGIONS)]
    by_record = _run(tmp_path, capsys, command, "record")
    by_column = _run(tmp_path, capsys, command, "columnar")
    assert by_column == by_record
    code, files, err = by_column
    no_region = [json.loads(line) for line in files["rejects.jsonl"].splitlines()
                 if b'"region_code"' in line]
    assert code == 1 and len(no_region) >= 30 and len(files) > 1
    assert all(r["field"] == "region_code" for r in no_region)
    read, decided, rejected = (int(n) for n in re.search(
        r"read (\d+), decided (\d+), rejected (\d+)", err).groups())  # type: ignore[union-attr]
    assert read == decided + rejected == len(moved) and rejected == len(no_region) + 5


@pytest.mark.parametrize("arguments", [
    ["ledger", "--month", "2021-11", "--format", "json", "-o", "{out}/ledger.json"],
    ["assess", "--quarter", "2021Q4", "--format", "markdown", "-o", "{out}/assess.md"],
], ids=["ledger-json", "assess"])
def test_each_report_with_cases_is_the_record_engines(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], arguments: list[str]) -> None:
    """With --cases (the example county's and boundary cases of the boundary households, one
    bad): the same report, rejects and counts, cases read, used and rejected included."""
    generator = benchmark_module("boundary_households")
    households = households_file(tmp_path)
    cases = generator.boundary_cases(list(generator.boundary_households(400, 6)), 7)
    listed = [case for own in cases.values() for case in own]
    listed[3] = dict(listed[3], received_on="2021-10-11", assigned_on="2021-10-08")
    path = tmp_path / "cases.jsonl"
    path.write_text(CASES.read_text(encoding="utf-8") + "".join(
        json.dumps(case) + "\n" for case in listed), encoding="utf-8")
    command = ["report", arguments[0], str(FUJIAN), str(households), *arguments[1:],
               "--cases", str(path)]
    by_record = _run(tmp_path, capsys, command, "record")
    by_column = _run(tmp_path, capsys, command, "columnar")
    assert by_column == by_record
    code, files, err = by_column
    used = int(re.search(r"used (\d+)", err).group(1))  # type: ignore[union-attr]
    assert code == 1 and used > 200 and "rejected 1" in err
    assert files["rejects.jsonl"].count(b'"record":"case"') == 1


def test_a_policy_it_cannot_express_is_refused_with_its_position(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    policy = policy_beyond_columns(tmp_path)
    assert main(["report", "assess", str(policy), str(NOVEMBER), "--quarter", "2021Q4",
                 "--engine", "columnar"]) == 2
    err = capsys.readouterr().err
    assert "policy.yaml:" in err and "round()" in err and "Traceback" not in err


def test_report_regional_is_the_record_engines(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    """The synthetic county's months (a typhoon, a price fall), bad records put in."""
    benchmark_module("gen_county").write(tmp_path, seed=0, code="350181")
    april = tmp_path / "2022-04.jsonl"
    lines = april.read_text(encoding="utf-8").splitlines()
    first = json.loads(lines[0])
    lines += ["{not json", json.dumps({**first, "household_id": "EMPTY", "members": []}),
              lines[2]]
    april.write_text("\n".join(lines) + "\n", encoding="utf-8")
    months = [f"2022-{m:02d}={tmp_path / f'2022-{m:02d}.jsonl'}" for m in (3, 4)]
    command = ["report", "regional", *months, "--events", str(tmp_path / "events.csv"),
               "--format", "json", "-o", "{out}/warnings.jsonl"]
    by_record = _run(tmp_path, capsys, command, "record")
    by_column = _run(tmp_path, capsys, command, "columnar")
    assert by_column == by_record
    code, files, err = by_column
    assert code == 1 and "decided 2400, rejected 3" in err
    assert files["warnings.jsonl"].count(b"\n") == 20  # 10 of the price fall, 10 of the mean fall


def test_report_regional_refuses_what_the_columnar_engine_cannot_express(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    policy = policy_beyond_columns(tmp_path)
    assert main(["report", "regional", f"2021-11={NOVEMBER}", "--policy", str(policy),
                 "--engine", "columnar"]) == 2
    err = capsys.readouterr().err
    assert "policy.yaml:" in err and "round()" in err and "Traceback" not in err
