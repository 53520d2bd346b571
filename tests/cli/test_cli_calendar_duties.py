"""`fangpin calendar` and `fangpin duties`, and a policy that adds a year's schedule."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from fangpin_rules import load_policy
from fangpin_rules.cli.main import main

from support import FUJIAN, RECORDS_MD_HOUSEHOLD


@pytest.mark.parametrize(("args", "answer"), [
    (["add", "2021-09-30", "1"], "2021-10-08"),      # across National Day 2021
    (["add", "2021-10-08", "1"], "2021-10-09"),      # a make-up Saturday
    (["between", "2022-01-27", "2022-02-07"], "4"),  # across Spring Festival 2022
    (["check", "2021-10-09"], "2021-10-09 working day"),
    (["check", "2021-03-08"], "2021-03-08 working day"),  # Women's Day: a half day, not off
    (["check", "2025-10-08"], "2025-10-08 rest day"),
])
def test_calendar_answers(args: list[str], answer: str,
                          capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["calendar", *args]) == 0
    assert capsys.readouterr().out.strip() == answer


def test_calendar_uncovered_year_names_the_year_and_the_fix(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["calendar", "add", "2027-01-04", "3"]) == 2
    err = capsys.readouterr().err
    assert "2027" in err and "calendar: years: 2027:" in err


def _policy_with_2027(tmp_path: Path) -> Path:
    text = FUJIAN.read_text(encoding="utf-8") + (
        "\ncalendar:\n  years:\n    2027:\n"
        "      source: illustrative schedule for the test\n"
        "      rest_days: [2027-01-01, 2027-02-05, 2027-02-08, 2027-02-09, 2027-02-10, "
        "2027-02-11]\n"
        "      working_days: [2027-02-06]\n")
    path = tmp_path / "with_2027.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_policy_can_add_a_newly_published_year(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    path = _policy_with_2027(tmp_path)
    assert main(["calendar", "--policy", str(path), "check", "2027-02-06"]) == 0
    assert capsys.readouterr().out.strip() == "2027-02-06 working day"
    assert main(["calendar", "--policy", str(path), "add", "2027-02-04", "2"]) == 0
    assert capsys.readouterr().out.strip() == "2027-02-12"
    policy = load_policy(path)
    d = policy.evaluate(RECORDS_MD_HOUSEHOLD, as_of="2027-03-10", cases=[{
        "case_id": "C", "household_id": "350181-0001", "source": "media",
        "received_on": "2027-02-04"}])
    assignment = next(e for e in d["deadlines"] if e["step"] == "assignment")
    assert assignment["due"] == date(2027, 2, 6)  # the make-up Saturday the policy declared


def test_a_calendar_correction_outside_its_year_is_a_policy_error(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]
                                                                  ) -> None:
    text = FUJIAN.read_text(encoding="utf-8") + (
        "\ncalendar:\n  years:\n    2027:\n      rest_days: [2028-01-01]\n")
    path = tmp_path / "bad_calendar.yaml"
    path.write_text(text, encoding="utf-8")
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err
    assert "error[calendar]" in err and "2028-01-01 is not in 2027" in err


def test_duties_on_a_date(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["duties", "--policy", str(FUJIAN), "--as-of", "2021-10-08",
                 "--format", "json"]) == 0
    duties = {d["duty"]: d for d in json.loads(capsys.readouterr().out)}
    assert duties["routine_screening"]["period"] == "2021-10"
    assert duties["routine_screening"]["ends"] == "2021-10-31"
    assert duties["routine_screening"]["last_working_day"] == "2021-10-29"  # the 31st is a Sunday
    assert duties["cadre_visit"]["period"] == "2021Q4"
    assert duties["cadre_visit"]["cite"] == "§11"
    assert duties["concentrated_screening"]["period"] == "2021H2"
    assert duties["concentrated_screening"]["ends"] == "2021-12-31"
    assert set(duties) >= {"ledger_summary", "sector_screening", "dispatch",
                           "regional_risk_review"}


def test_duties_text_output(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["duties", "--policy", str(FUJIAN), "--as-of", "2024-02-10"]) == 0
    out = capsys.readouterr().out
    assert "2024-02 " in out and "2024Q1" in out and "2024H1" in out
    lines = [line for line in out.splitlines() if line.strip()]
    # the columns line up whatever the period's label (a day's is longer than a month's)
    assert len({line.index(" ends ") for line in lines}) == 1, lines
