"""`fangpin check`, `eval` and `schema`: exit codes, outputs, rejects, no tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from fangpin_rules.cli.main import main

from support import FUJIAN, RECORDS_MD_HOUSEHOLD, ROOT, household, members


def _jsonl(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_check_province_policy_is_clean(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(FUJIAN)]) == 0
    assert "ok (0 error(s), 0 warning(s))" in capsys.readouterr().out


def test_check_json_format(capsys: pytest.CaptureFixture[str]) -> None:
    bad = ROOT / "tests" / "checker" / "bad" / "unknown_name.yaml"
    assert main(["check", "--format", "json", str(bad)]) == 2
    report = json.loads(capsys.readouterr().out)
    first = report[0]["diagnostics"][0]
    assert (first["code"], first["line"], first["column"]) == ("unknown-name", 18, 11)
    assert first["hint"] == "did you mean 'net_income'?"


def test_eval_writes_decisions_in_order_and_rejects_with_counts(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    records = _jsonl(tmp_path / "in.jsonl", [
        json.dumps(household(household_id="A")),
        json.dumps({"household_id": "B", "formerly_poor": True, "members": [],
                    "net_income": 1}),
        "{not json",
        "",
        json.dumps(household(household_id="C", net_incme=5)),
        json.dumps(household(household_id="D", members=members(3), net_income=21455.97)),
        '["an array, not an object"]',
    ])
    out, rejects = tmp_path / "out.jsonl", tmp_path / "rejects.jsonl"
    code = main(["eval", str(FUJIAN), str(records), "--as-of", "2021-09-01", "-o", str(out),
                 "--rejects", str(rejects)])
    assert code == 1
    decided = [json.loads(line) for line in out.read_text().splitlines()]
    assert [d["household_id"] for d in decided] == ["A", "D"]
    assert decided[1]["per_capita_income"] == 7151.99 and decided[1]["in_range"] is True
    rejected = [json.loads(line) for line in rejects.read_text().splitlines()]
    assert [(r["line"], r["household_id"], r["field"]) for r in rejected] == [
        (2, "B", "members"), (3, None, None), (5, "C", "net_incme"), (7, None, None)]
    assert "not valid JSON" in rejected[1]["reason"]
    summary = capsys.readouterr().err
    assert "read 6, decided 2, rejected 4" in summary


def test_eval_money_is_written_exactly(tmp_path: Path) -> None:
    records = _jsonl(tmp_path / "in.jsonl", [
        '{"household_id": "E", "formerly_poor": false, "members": [{"member_id": "1"}, '
        '{"member_id": "2"}, {"member_id": "3"}], "net_income": 21455.97}'])
    out = tmp_path / "out.jsonl"
    assert main(["eval", str(FUJIAN), str(records), "--as-of", "2021-09-01",
                 "-o", str(out)]) == 0
    assert '"per_capita_income":7151.99,' in out.read_text()


def test_eval_reads_a_json_array_from_stdin(monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    import io

    payload = json.dumps([RECORDS_MD_HOUSEHOLD, household(household_id="X")])
    monkeypatch.setattr(sys, "stdin", io.StringIO(payload))
    assert main(["eval", str(FUJIAN), "-", "--as-of", "2021-09-01"]) == 0
    captured = capsys.readouterr()
    ids = [json.loads(line)["household_id"] for line in captured.out.splitlines()]
    assert ids == ["350181-0001", "X"]
    assert "read 2, decided 2, rejected 0" in captured.err


def test_eval_explain_adds_the_trace(tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    from fangpin_rules import load_policy
    from fangpin_rules.engine.serialize import dumps

    # read by pydantic, not typed (another id: one household is one record in a run)
    lax = dict(RECORDS_MD_HOUSEHOLD, household_id="350181-0002", net_income="18000")
    records = _jsonl(tmp_path / "in.jsonl", [json.dumps(RECORDS_MD_HOUSEHOLD), json.dumps(lax)])
    assert main(["eval", str(FUJIAN), str(records), "--as-of", "2021-09-01",
                 "--explain"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert json.loads(lines[0])["trace"][0]["schema"] == "fangpin.trace"
    policy = load_policy(FUJIAN)
    expected = [dumps(policy.evaluate(record, "2021-09-01", explain=True))
                for record in (RECORDS_MD_HOUSEHOLD, dict(lax, net_income=18000))]
    assert lines == expected  # as the record API explains it, however read


@pytest.mark.parametrize(("args", "message"), [
    (["eval", str(FUJIAN), "missing.jsonl", "--as-of", "2021-09-01"], "cannot read"),
    (["eval", str(FUJIAN), "-", "--as-of", "2021-13-01"], "not a date"),
    (["eval", str(FUJIAN), "-", "--as-of", "2020-01-01"], "takes effect"),
    (["eval", "nope.yaml", "-", "--as-of", "2021-09-01"], "does not exist"),
    (["check", "nope.yaml"], "does not exist"),
])
def test_user_errors_exit_2_without_traceback(args: list[str], message: str,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_no_verb_prints_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "usage: fangpin" in capsys.readouterr().err


@pytest.mark.parametrize("which", ["household", "case", "decision"])
def test_schema_prints_json_schema(which: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", which]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["type"] == "object" and "properties" in schema
    if which == "household":
        assert "net_income" in schema["required"]
        assert schema["additionalProperties"] is False


def test_console_entry_point_runs_as_a_process(tmp_path: Path) -> None:
    records = _jsonl(tmp_path / "in.jsonl", [json.dumps(RECORDS_MD_HOUSEHOLD)])
    result = subprocess.run(
        [sys.executable, "-m", "fangpin_rules.cli.main", "eval", str(FUJIAN), str(records),
         "--as-of", "2021-09-01"], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["category"] == "unstable"
