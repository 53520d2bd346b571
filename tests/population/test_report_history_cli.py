"""`fangpin report history` and `fangpin report duties` on the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fangpin_rules.cli.main import main

from population_support import household

LOG = "duty,region,period,done_on\nweekly_verification,350181,2021-W40,2021-10-09\n"


def write_month(folder: Path, month: str, records: list[dict[str, object]]) -> str:
    path = folder / f"{month}.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return f"{month}={path}"


def test_history_json_and_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    months = [write_month(tmp_path, "2022-01", [household(income=7500)]),
              write_month(tmp_path, "2022-02", [household(income=7500, status="risk_eliminated")])]
    assert main(["report", "history", *months]) == 0
    captured = capsys.readouterr()
    result = json.loads(captured.out)
    assert [f["code"] for f in result["findings"]] == ["eliminated_not_eligible"]
    assert "households 1; records read 2, decided 2, rejected 0" in captured.err
    out = tmp_path / "findings.csv"
    assert main(["report", "history", *months, "--format", "csv", "-o", str(out)]) == 0
    assert out.read_text().splitlines() == [
        "household_id,code,cite,month,quarter,reason,recorded_start",
        "H1,eliminated_not_eligible,§9,2022-02,,income_not_stable,"]


def test_history_unsorted_file_is_a_usage_error(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    month = write_month(tmp_path, "2022-01", [household("B"), household("A")])
    assert main(["report", "history", month]) == 2
    assert "2022-01.jsonl:2: household ids must be in ascending order" in capsys.readouterr().err
    assert main(["report", "history", "2022-01"]) == 2


def test_history_rejects_name_the_file(tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    bad = household("A")
    bad["net_income"] = "lots"
    month = write_month(tmp_path, "2022-01", [bad, household("B")])
    assert main(["report", "history", month]) == 1
    err = capsys.readouterr().err
    rejection = json.loads(err.splitlines()[0])
    assert (rejection["file"].endswith("2022-01.jsonl"), rejection["line"],
            rejection["field"]) == (True, 1, "net_income")


def test_history_from_earlier_decision_files(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    months = [write_month(tmp_path, "2022-01", [household(income=7500)]),
              write_month(tmp_path, "2022-02", [household(income=7500, status="risk_eliminated")])]
    decisions = []
    for value, last_day in zip(months, ("2022-01-31", "2022-02-28"), strict=True):
        month, path = value.split("=")
        out = tmp_path / f"decisions-{month}.jsonl"
        assert main(["eval", "policies/fujian_2021.yaml", path, "--as-of", last_day,
                     "-o", str(out)]) == 0
        decisions += ["--decisions", f"{month}={out}"]
    assert main(["report", "history", *months]) == 0
    afresh = capsys.readouterr().out
    assert main(["report", "history", *months, *decisions]) == 0
    captured = capsys.readouterr()
    assert captured.out == afresh and '"eliminated_not_eligible"' in captured.out
    assert "decisions read 2, used 2, rejected 0" in captured.err
    # January's decisions given as February's: each is of another day, its month rejected
    wrong = ["--decisions", decisions[1].replace("2022-01=", "2022-02=")]
    assert main(["report", "history", *months, *decisions, *wrong]) == 2
    assert "--decisions 2022-02: the month is given twice" in capsys.readouterr().err
    assert main(["report", "history", *months, *decisions[:2], *wrong]) == 1
    err = capsys.readouterr().err
    assert ("its decision is of 2022-01-31, not of the period's last day 2022-02-28: decide "
            f"the households on that day ({tmp_path / 'decisions-2022-01.jsonl'}:1)") in err
    assert main(["report", "history", months[0], *decisions[2:]]) == 2
    assert "--decisions 2022-02: no household file of that month" in capsys.readouterr().err


def test_duties_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "log.csv"
    log.write_text(LOG, encoding="utf-8")
    args = ["report", "duties", str(log), "--since", "2021-10-04", "--as-of", "2021-10-12",
            "--format", "json"]
    assert main(args) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["log"] == {"rows": 1, "read": 1, "rejected": 0}
    assert sum(summary["counts"].values()) == summary["periods"]
    overdue = {(r["duty"], r["period"]) for r in summary["not_done_in_time"]}
    assert ("weekly_verification", "2021-W40") not in overdue
    assert ("dispatch", "2021Q4") not in overdue  # the quarter has not ended
    assert ("daily_summary", "2021-10-08") in overdue
    log.write_text(LOG + "daily_summary,350181,2021-10-08,2021-10-08x\n", encoding="utf-8")
    assert main(args[:-2]) == 1
    captured = capsys.readouterr()
    assert f"{log}:3: done_on: must be a date written YYYY-MM-DD" in captured.err
    assert "overdue  daily_summary" in captured.out
    assert main(["report", "duties", str(log), "--since", "2021-10-12", "--as-of",
                 "2021-10-04"]) == 2
