"""`fangpin report`: each sub-report from the command line, its formats and files, exit codes,
rejects with counts, refused outputs and periods, and no traceback."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from fangpin_rules.cli.main import main

from population_support import CASES, NOVEMBER, OCTOBER
from support import FUJIAN

INPUTS = [str(FUJIAN), str(NOVEMBER), "--cases", str(CASES)]


def test_ledger_json_by_township(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "ledger", *INPUTS, "--month", "2021-11", "--by", "township"]) == 0
    out, err = capsys.readouterr()
    ledger = json.loads(out)
    assert ledger["level"] == "township" and ledger["total"]["figures"]["screened"] == 32
    assert "households read 32, decided 32, rejected 0; cases read 8, used 8, rejected 0" in err


def test_ledger_csv_to_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "ledger.csv"
    assert main(["report", "ledger", *INPUTS, "--month", "2021-11", "--format", "csv",
                 "-o", str(out)]) == 0
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("region,level,screened,monitored")
    assert lines[-1].startswith("total,total,32,")


def test_a_rejected_household_exits_1_and_is_reported(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    households = tmp_path / "households.jsonl"
    households.write_text(NOVEMBER.read_text(encoding="utf-8") + '{"household_id": "X"}\n',
                          encoding="utf-8")
    rejects = tmp_path / "rejects.jsonl"
    assert main(["report", "ledger", str(FUJIAN), str(households), "--month", "2021-11",
                 "--rejects", str(rejects)]) == 1
    (rejection,) = [json.loads(line) for line in rejects.read_text().splitlines()]
    assert rejection["household_id"] == "X" and rejection["line"] == 33
    assert "rejected 1" in capsys.readouterr().err


@pytest.mark.parametrize(("arguments", "message"), [
    (["--month", "2021-13"], "is not a month"),
    (["--month", "2021-11", "-o", str(NOVEMBER)], "would destroy it"),
])
def test_a_bad_period_or_output_is_refused(arguments: list[str], message: str,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "ledger", *INPUTS, *arguments]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_assess_by_quarter_markdown(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "assess", *INPUTS, "--quarter", "2021Q4", "--format",
                 "markdown"]) == 0
    out = capsys.readouterr().out
    assert "| preliminary_review.share | 0.7143 | 0.7143 |" in out


def test_departments_write_a_file_per_department(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str],
                                                 fujian: Any) -> None:
    folder = tmp_path / "lists"
    assert main(["report", "departments", *INPUTS, "--month", "2021-11", "--previous",
                 str(OCTOBER), "-o", str(folder)]) == 0
    files = sorted(p.name for p in folder.iterdir())
    assert files == sorted(f"{name}.json" for name in
                           fujian.checked.vocabularies["department"].labels)
    housing = json.loads((folder / "housing.json").read_text(encoding="utf-8"))
    assert housing["department_zh"] == "住建部门"
    assert {r["change"] for r in housing["records"]} == {"newly_identified", "changed"}


def test_report_without_a_subreport_is_a_usage_error(capsys: pytest.CaptureFixture[str]
                                                     ) -> None:
    assert main(["report"]) == 2
    assert "ledger, departments, assess" in capsys.readouterr().err


def test_decisions_given_give_the_same_ledger_and_a_mismatch_is_rejected(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    decisions = tmp_path / "decisions.jsonl"
    assert main(["eval", *INPUTS[:2], "--cases", str(CASES), "--as-of", "2021-11-30", "-o",
                 str(decisions)]) == 0
    lines = decisions.read_text(encoding="utf-8").splitlines()
    capsys.readouterr()
    assert main(["report", "ledger", *INPUTS, "--month", "2021-11", "--format", "csv"]) == 0
    decided = capsys.readouterr().out
    assert main(["report", "ledger", *INPUTS, "--month", "2021-11", "--format", "csv",
                 "--decisions", str(decisions)]) == 0
    assert capsys.readouterr().out == decided
    # one decision missing, one of another day: both households rejected, each saying why
    other_day = json.loads(lines[1]) | {"as_of": "2021-10-31"}
    decisions.write_text("\n".join([lines[0], json.dumps(other_day), *lines[3:]]) + "\n",
                         encoding="utf-8")
    assert main(["report", "ledger", *INPUTS, "--month", "2021-11", "--format", "csv",
                 "--decisions", str(decisions)]) == 1
    out, err = capsys.readouterr()
    rejections = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert [(r["line"], r["field"]) for r in rejections] == [(2, "as_of"), (3, "household_id")]
    assert "households read 32, decided 30, rejected 2" in err
    assert out.splitlines()[-1].startswith("total,total,30,")


def test_a_case_of_a_household_not_in_the_file_is_reported(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cases = tmp_path / "cases.jsonl"
    cases.write_text(CASES.read_text(encoding="utf-8") + json.dumps(
        {"case_id": "W-X", "household_id": "NOT-HERE", "source": "media",
         "received_on": "2021-11-02"}) + "\n", encoding="utf-8")
    assert main(["report", "ledger", str(FUJIAN), str(NOVEMBER), "--cases", str(cases),
                 "--month", "2021-11"]) == 0
    assert "cases read 9, used 8, rejected 0, of households not decided 1" in \
        capsys.readouterr().err
