"""Bad records that used to pass silently are rejections (records.md, reference item 11): the
same member twice rejects the household; a case out of the procedure's order, or naming
another household, is a rejected case and the household is decided without it; every problem
of a rejected record is listed; `as_of` as a datetime is its date."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from fangpin_rules import Policy
from fangpin_rules.cli.main import main
from fangpin_rules.engine.records import RecordError, Rejection

from support import FUJIAN, household

AS_OF = "2021-11-30"
GOOD_CASE: dict[str, Any] = {
    "case_id": "W-1", "household_id": "T-1", "source": "routine_visit",
    "received_on": "2021-09-30", "assigned_on": "2021-10-08",
    "preliminary_review_on": "2021-10-14", "verified_on": "2021-10-19",
    "publicity": [{"purpose": "identification", "start": "2021-10-20", "end": "2021-10-26"}],
    "confirmed_on": "2021-10-27"}


def _twice() -> dict[str, Any]:
    member = {"member_id": "7", "birth_date": "1980-05-01", "labour_capacity": "normal"}
    return household(members=[member, {**member, "birth_date": "1981-01-01"}, dict(member)])


def test_two_members_with_one_member_id_reject_the_household(fujian: Policy) -> None:
    with pytest.raises(RecordError) as caught:
        fujian.evaluate(_twice(), AS_OF)
    rejection = caught.value.rejection
    assert rejection.household_id == "T-1" and rejection.field == "members.1.member_id"
    assert [field for field, _ in rejection.problems] == ["members.1.member_id",
                                                          "members.2.member_id"]
    assert "double the household's size" in rejection.reason
    assert "'7'" not in rejection.reason  # positions, never the id itself


def test_the_same_member_twice_is_rejected_on_every_path(fujian: Policy) -> None:
    from fangpin_rules.columnar import decide_batch, records_to_arrow

    with pytest.raises(RecordError):
        fujian.evaluate(_twice(), AS_OF, explain=True)
    rejected: list[Rejection] = []
    assert list(fujian.evaluate_many([_twice()], AS_OF, on_reject=rejected.append)) == []
    assert rejected[0].field == "members.1.member_id" and rejected[0].line == 1
    result = decide_batch(fujian, records_to_arrow(fujian, [_twice(), household()]), AS_OF)
    assert result.decisions.num_rows == 1
    assert result.rejects.column("field").to_pylist() == ["members.1.member_id"]


@pytest.mark.parametrize(("change", "field"), [
    ({"assigned_on": "2021-09-29"}, "assigned_on"),
    ({"preliminary_review_on": "2021-10-07"}, "preliminary_review_on"),
    ({"verified_on": "2021-10-13"}, "verified_on"),
    ({"publicity": [{"purpose": "identification", "start": "2021-10-20",
                     "end": "2021-10-19"}]}, "publicity.0.end"),
    ({"confirmed_on": "2021-10-19"}, "confirmed_on"),
    ({"household_id": "T-2"}, "household_id"),
])
def test_a_case_out_of_order_is_rejected_and_the_household_decided_without_it(
        fujian: Policy, change: dict[str, Any], field: str) -> None:
    bad = {**GOOD_CASE, **change, "case_id": "W-BAD"}
    with pytest.raises(RecordError) as caught:
        fujian.evaluate(household(), AS_OF, cases=[bad])
    assert caught.value.rejection.case_id == "W-BAD" and caught.value.rejection.field == field
    rejected: list[Rejection] = []
    decision = fujian.evaluate(household(), AS_OF, cases=[GOOD_CASE, bad],
                               on_case_reject=rejected.append)
    assert [(r.case_id, r.field) for r in rejected] == [("W-BAD", field)]
    assert {e["case_id"] for e in decision["deadlines"]} == {"W-1"}


def test_the_same_day_is_in_order(fujian: Policy) -> None:
    same_day = {**GOOD_CASE, "assigned_on": "2021-09-30", "preliminary_review_on": "2021-09-30",
                "verified_on": "2021-09-30", "confirmed_on": "2021-10-20"}
    decision = fujian.evaluate(household(), AS_OF, cases=[same_day])
    assert {e["case_id"] for e in decision["deadlines"]} == {"W-1"}


def test_every_problem_of_a_case_is_listed(fujian: Policy) -> None:
    bad = {**GOOD_CASE, "assigned_on": "2021-09-29", "verified_on": "2021-10-13",
           "confirmed_on": "2021-10-01"}
    with pytest.raises(RecordError) as caught:
        fujian.evaluate(household(), AS_OF, cases=[bad])
    rejection = caught.value.rejection
    assert [f for f, _ in rejection.problems] == ["assigned_on", "verified_on", "confirmed_on"]
    assert rejection.to_json()["problems"][2]["field"] == "confirmed_on"
    assert "(and 2 more problem(s): see problems)" in rejection.reason


def test_every_problem_of_a_household_is_listed(fujian: Policy) -> None:
    bad = household(net_income="lots", formerly_poor="maybe", colour="red")
    with pytest.raises(RecordError) as caught:
        fujian.evaluate(bad, AS_OF)
    fields = {f for f, _ in caught.value.rejection.problems}
    assert {"net_income", "formerly_poor", "colour"} <= fields
    assert len(caught.value.rejection.to_json()["problems"]) == len(fields)


def test_as_of_as_a_datetime_is_its_date(fujian: Policy) -> None:
    at_noon = fujian.evaluate(household(), datetime(2021, 9, 1, 12, 30))
    assert at_noon == fujian.evaluate(household(), date(2021, 9, 1))
    assert at_noon["as_of"] == "2021-09-01"
    with_case = fujian.evaluate(household(), datetime(2021, 11, 30, 8), cases=[GOOD_CASE])
    assert with_case["deadlines"] == fujian.evaluate(household(), AS_OF,
                                                     cases=[GOOD_CASE])["deadlines"]


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_the_cli_rejects_a_bad_case_and_decides_its_household(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], jobs: str) -> None:
    records = tmp_path / "in.jsonl"
    records.write_text(json.dumps(household()) + "\n", encoding="utf-8")
    cases = tmp_path / "cases.jsonl"
    bad = {**GOOD_CASE, "case_id": "W-BAD", "assigned_on": "2021-09-29",
           "verified_on": "2021-10-13"}
    cases.write_text(json.dumps(GOOD_CASE) + "\n" + json.dumps(bad) + "\n", encoding="utf-8")
    out, rejects = tmp_path / "out.jsonl", tmp_path / "rejects.jsonl"
    assert main(["eval", str(FUJIAN), str(records), "--as-of", AS_OF, "--cases", str(cases),
                 "-o", str(out), "--rejects", str(rejects), "--jobs", jobs]) == 1
    (decision,) = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert {e["case_id"] for e in decision["deadlines"]} == {"W-1"}
    (rejection,) = [json.loads(line) for line in rejects.read_text("utf-8").splitlines()]
    assert rejection["record"] == "case" and rejection["case_id"] == "W-BAD"
    assert rejection["line"] == 2 and rejection["field"] == "assigned_on"
    assert [p["field"] for p in rejection["problems"]] == ["assigned_on", "verified_on"]
    counts = "read 1, decided 1, rejected 0; cases: read 2, used 1, rejected 1"
    assert counts in capsys.readouterr().err
