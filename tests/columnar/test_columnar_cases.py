"""The households' cases decided in columns: the deadlines of every step of the procedure (each
kind, the quarterly visits, several cases a household) as the record path writes them, field by
field, on boundary-dense households and cases (benchmarks/boundary_households.py)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from fangpin_rules import Policy, load_policy
from fangpin_rules.columnar import decide_batch, records_to_arrow
from fangpin_rules.engine.records import RecordError

from columnar_support import engines_agree
from support import RECORDS_MD_HOUSEHOLD, ROOT, benchmark_module

COUNTIES = sorted((ROOT / "policies" / "counties").glob("*.yaml"))
REGIONS = ROOT / "policies" / "regions" / "fujian_example_regions.yaml"
DATES = ["2021-09-01", "2021-10-20", "2022-06-30", "2024-03-01"]


def sample(n: int, seed: int, share: float = 0.6
           ) -> tuple[list[dict[str, Any]], dict[str, list[dict[str, Any]]]]:
    generator = benchmark_module("boundary_households")
    households = list(generator.boundary_households(n, seed))
    return households, generator.boundary_cases(households, seed + 1, share)


def assert_same(policy: Any, records: list[dict[str, Any]], cases: dict[str, Any], as_of: str
                ) -> list[dict[str, Any]]:
    return engines_agree(policy, records_to_arrow(getattr(policy, "base", policy), records),
                         as_of, cases)


@pytest.mark.parametrize("as_of", DATES)
def test_the_province_with_cases(fujian: Policy, as_of: str) -> None:
    records, cases = sample(1500, 21)
    assert_same(fujian, records, cases, as_of)


def test_every_status_and_kind_is_reached(fujian: Policy) -> None:
    """The sample reaches every status of every kind of step, the quarterly visits, several
    cases of one household and the steps a calendar year not covered leaves unknown (decided
    by the record path), so that equality means something."""
    records, cases = sample(1500, 21)
    statuses: Counter[str] = Counter()
    quarterly = several = 0
    for as_of in ("2021-10-20", "2024-03-01"):
        decided = assert_same(fujian, records, cases, as_of)
        for decision in decided:
            statuses.update(e["status"] for e in decision["deadlines"])
            quarterly += sum(e["step"].startswith("visit_") for e in decision["deadlines"])
            several += len({e["case_id"] for e in decision["deadlines"]} - {None}) > 1
    assert set(statuses) == {"pending", "overdue", "on_time", "late", "too_short", "too_early",
                             "not_started", "no_notice", "unknown"}
    assert quarterly > 1000 and several > 50


@pytest.mark.parametrize("path", COUNTIES, ids=lambda p: p.stem)
def test_county_examples_with_cases(path: Any) -> None:
    policy = load_policy(path, search_path=[ROOT / "policies"])
    records, cases = sample(400, 23)
    assert_same(policy, records, cases, "2022-06-30")


def test_under_a_region_table(fujian: Policy) -> None:
    from fangpin_rules.engine.regions import load_regions

    regional = load_regions(fujian, REGIONS)
    counties = sorted(regional.regions)
    records, cases = sample(600, 25)
    for row, record in enumerate(records):
        if record.get("region_code"):
            record["region_code"] = counties[row % len(counties)] + record["region_code"][6:]
    assert_same(regional, records, cases, "2022-06-30")


def test_the_records_md_example_in_columns(fujian: Policy) -> None:
    """records.md's case: assigned on a holiday (2021-10-01), the review due 2021-10-14."""
    case = {"case_id": "W-2021-0930-01", "household_id": "350181-0001",
            "source": "hotline_12317", "received_on": "2021-09-30",
            "assigned_on": "2021-10-01"}
    table = records_to_arrow(fujian, [RECORDS_MD_HOUSEHOLD])
    decided = decide_batch(fujian, table, "2021-11-15", cases={"350181-0001": [case]})
    (decision,) = decided.decisions.to_pylist()
    review = next(e for e in decision["deadlines"] if e["step"] == "preliminary_review")
    assert review["due"].isoformat() == "2021-10-14" and review["status"] == "overdue"
    assert review["case_id"] == "W-2021-0930-01"
    assert review in decision["overdue"]


def test_a_household_given_twice_and_cases_of_no_row(fujian: Policy) -> None:
    """Each row of an id given twice is decided with its cases, as on the record path; a case
    of a household not in the batch decides nothing."""
    records, cases = sample(50, 27, share=1.0)
    records = [*records, dict(records[0])]
    cases["not-in-the-batch"] = [dict(next(iter(cases.values()))[0],
                                      household_id="not-in-the-batch")]
    decided = assert_same(fujian, records, cases, "2021-10-20")
    first = [d for d in decided if d["household_id"] == records[0]["household_id"]]
    assert len(first) == 2 and first[0]["deadlines"] == first[1]["deadlines"] != []


def test_a_bad_case_is_refused_before_any_row(fujian: Policy) -> None:
    table = records_to_arrow(fujian, [RECORDS_MD_HOUSEHOLD])
    bad = {"case_id": "B-1", "household_id": "350181-0001", "source": "media",
           "received_on": "2021-10-11", "assigned_on": "2021-10-01"}
    messages = []
    for engine in ("record", "columnar"):
        with pytest.raises(RecordError) as caught:
            decide_batch(fujian, table, "2021-11-15", cases={"350181-0001": [bad]},
                         engine=engine)
        messages.append(str(caught.value))
    assert messages[0] == messages[1] and "assigned_on" in messages[0]


def test_a_step_form_the_engine_cannot_express_is_refused(tmp_path: Any) -> None:
    """A quarterly step's dates given by an expression other than a list of the case or the
    record are refused at their file:line:col when the policy is compiled for columns."""
    from fangpin_rules.columnar.engine import ColumnarUnsupported

    text = (ROOT / "policies" / "fujian_2021.yaml").read_text(encoding="utf-8")
    text = text.replace("    done: case.visits\n", "    done: if case.confirmed_on != null "
                        "then case.visits else case.visits\n")
    path = tmp_path / "fujian_variant.yaml"
    path.write_text(text, encoding="utf-8")
    policy = load_policy(path)
    table = records_to_arrow(policy, [RECORDS_MD_HOUSEHOLD])
    with pytest.raises(ColumnarUnsupported) as caught:
        decide_batch(policy, table, "2021-11-15")
    message = str(caught.value)
    assert "quarterly step's dates" in message and "fujian_variant.yaml:" in message
