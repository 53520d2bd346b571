"""Bad input never crashes with a traceback and never loses data: bytes that are not UTF-8
reject their own line, the rest of the batch goes on, and a run that tests nothing fails."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fangpin_rules.cli.main import main

from support import FUJIAN, household

GOOD = json.dumps(household(household_id="ok")).encode()
CHINESE = json.dumps(household(household_id="户主-1"), ensure_ascii=False).encode()
BROKEN = b'{"household_id": "\xff\xfebad", "formerly_poor": false, "members": [], ' \
         b'"net_income": 1}'


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_line_that_is_not_utf8_is_rejected_alone(tmp_path: Path, jobs: str,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    records = tmp_path / "in.jsonl"
    records.write_bytes(b"\n".join([GOOD, BROKEN, CHINESE]) + b"\n")
    out, rejects = tmp_path / "out.jsonl", tmp_path / "rejects.jsonl"
    assert main(["eval", str(FUJIAN), str(records), "--as-of", "2021-09-01", "-o", str(out),
                 "--rejects", str(rejects), "--jobs", jobs]) == 1
    decided = [json.loads(line)["household_id"] for line in out.read_text("utf-8").splitlines()]
    assert decided == ["ok", "户主-1"]
    (rejection,) = [json.loads(line) for line in rejects.read_text("utf-8").splitlines()]
    assert rejection["line"] == 2 and "not valid UTF-8" in rejection["reason"]
    assert "read 3, decided 2, rejected 1" in capsys.readouterr().err


def test_a_case_file_that_is_not_utf8(tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    records = tmp_path / "in.jsonl"
    records.write_bytes(GOOD + b"\n")
    cases = tmp_path / "cases.jsonl"
    cases.write_bytes(b"\xff\xfe\x00")
    assert main(["eval", str(FUJIAN), str(records), "--as-of", "2021-09-01",
                 "--cases", str(cases)]) == 1
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    assert '"record":"case"' in captured.err and "cases: read 1, used 0, rejected 1" in captured.err


def test_explain_a_record_that_is_not_utf8(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    record = tmp_path / "one.json"
    record.write_bytes(b"\xff\xfe")
    assert main(["explain", str(FUJIAN), str(record), "--as-of", "2021-09-01"]) == 1
    err = capsys.readouterr().err
    assert "not valid UTF-8" in err and "Traceback" not in err


def test_a_test_run_that_finds_no_cases_fails(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["test", str(tmp_path)]) == 2
    assert "no test cases found" in capsys.readouterr().err


def test_hostile_lines_are_rejected_and_the_lines_after_them_decided(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The first line starts with '[' but the file is not one JSON array: it is read as JSONL.
    records = tmp_path / "in.jsonl"
    records.write_text("\n".join([
        "[" * 100_000 + "]" * 100_000,                       # nested too deeply for the parser
        GOOD.decode(),
        '{"household_id": "n", "net_income": 1' + "0" * 5000 + "}",  # a 5001-digit number
        CHINESE.decode(),
    ]) + "\n", encoding="utf-8")
    assert main(["eval", str(FUJIAN), str(records), "--as-of", "2021-09-01"]) == 1
    captured = capsys.readouterr()
    decided = [json.loads(line)["household_id"] for line in captured.out.splitlines()]
    assert decided == ["ok", "户主-1"]
    assert "nested too deeply" in captured.err and "Traceback" not in captured.err
    assert "read 4, decided 2, rejected 2" in captured.err


def test_an_id_or_key_that_is_a_lone_surrogate_is_rejected_and_named(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # "\ud800" is valid JSON text for a string that is not valid Unicode: such a record is
    # rejected, and its rejection (naming the id or the field) is written, not a traceback.
    records, rejects = tmp_path / "in.jsonl", tmp_path / "rejects.jsonl"
    records.write_text("\n".join([
        '{"household_id": "\\ud800x", "formerly_poor": true}',
        '{"household_id": "k", "\\ud800": 1}',
        GOOD.decode(),
    ]) + "\n", encoding="utf-8")
    for target in (["--rejects", str(rejects)], ["--rejects", "-"]):
        assert main(["eval", str(FUJIAN), str(records), "--as-of", "2021-09-01",
                     *target]) == 1
        captured = capsys.readouterr()
        assert "read 3, decided 1, rejected 2" in captured.err
        assert "Traceback" not in captured.err
    lines = [json.loads(line) for line in rejects.read_text(encoding="utf-8").splitlines()]
    assert [(r["line"], r["household_id"], r["field"]) for r in lines] == [
        (1, "\ud800x", "household_id"), (2, "k", None)]  # pydantic cannot name that key
    assert all("unicode string" in r["reason"] for r in lines)


def test_a_real_json_array_is_still_read_whole(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    records = tmp_path / "in.json"
    records.write_text(json.dumps([household(household_id="a"), household(household_id="b")],
                                  indent=2), encoding="utf-8")
    assert main(["eval", str(FUJIAN), str(records), "--as-of", "2021-09-01"]) == 0
    assert "read 2, decided 2, rejected 0" in capsys.readouterr().err
