"""A policy that declares the records it reads (`schema:`): the checker types expressions from
the declaration, the engine validates records with a model made from it, and bad records are
reported with their id and field, as household records are."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from fangpin_rules import Policy, RecordError, load_policy
from fangpin_rules.cli.main import main
from fangpin_rules.limits import DECIMAL_CONTEXT

from support import ROOT

ANCHORS = ROOT / "benchmarks" / "anchors_policy.yaml"
GOOD = ROOT / "tests" / "checker" / "good" / "schema_declared.yaml"
AS_OF = "2021-01-01"


def anchors_record(**overrides: Any) -> dict[str, Any]:
    """A record in the anchors workload's own field names (floats, as its generator writes)."""
    record: dict[str, Any] = {
        "household_id": "HH1", "county": "Dafang", "size": 3,
        "annual_net_income": 30000.0, "rigid_expenditure": 0.0, "is_former_poor": False,
        "members": [
            {"age": 40, "labor_capacity": "normal", "serious_illness": False,
             "severe_disability": False},
            {"age": 38, "labor_capacity": "weak", "serious_illness": False,
             "severe_disability": False},
            {"age": 70, "labor_capacity": "lost", "serious_illness": True,
             "severe_disability": False}],
        "housing_safe": True, "water_safe": True, "child_dropout": False, "on_dibao": False,
        "dibao_standard": 7152.0, "monitoring_line": 7152.0,
    }
    record.update(overrides)
    return record


@pytest.fixture(scope="module")
def anchors() -> Policy:
    return load_policy(ANCHORS)


def test_a_declared_record_is_decided(anchors: Policy) -> None:
    decision = anchors.evaluate(anchors_record(annual_net_income=36000.0), AS_OF)
    assert decision["household_id"] == "HH1"
    assert decision["per_capita"] == Decimal(12000)
    assert (decision["in_range"], decision["special_group"], decision["category"]) == (
        False, True, None)
    assert decision["measures"] == ["health"]


@pytest.mark.parametrize(("overrides", "category", "measures"), [
    ({"is_former_poor": True, "annual_net_income": 18000.0}, "unstable",
     ["employment", "health"]),
    ({"annual_net_income": 20000.0}, "marginal", ["employment", "health"]),
    ({"annual_net_income": 60000.0, "rigid_expenditure": 45000.0}, "sudden_hardship",
     ["employment", "health"]),
    ({"annual_net_income": 6000.0, "water_safe": False,
      "members": [{"age": 75, "labor_capacity": "lost", "serious_illness": False,
                   "severe_disability": True}], "size": 1}, "marginal", ["dibao", "water"]),
])
def test_the_anchors_rules_in_our_language(anchors: Policy, overrides: dict[str, Any],
                                           category: str, measures: list[str]) -> None:
    decision = anchors.evaluate(anchors_record(**overrides), AS_OF)
    assert (decision["category"], decision["measures"]) == (category, measures)


def test_money_read_from_json_stays_exact(anchors: Policy) -> None:
    decision = anchors.evaluate(anchors_record(annual_net_income=Decimal("10000.01")), AS_OF)
    # the quotient to the engine's precision (limits.DECIMAL_CONTEXT), not Python's 28 digits
    assert decision["per_capita"] == DECIMAL_CONTEXT.divide(Decimal("10000.01"), 3)


@pytest.mark.parametrize(("change", "field", "reason"), [
    (lambda r: r["members"][1].update(labor_capacity="retired"), "members.1.labor_capacity",
     "Input should be 'normal', 'skilled', 'weak', 'lost' or 'none'"),
    (lambda r: r.pop("monitoring_line"), "monitoring_line", "required field is missing"),
    (lambda r: r.update(region="x"), "region", "unknown field (not in the data contract)"),
    (lambda r: r.update(size="three"), "size",
     "Input should be a valid integer"),  # strict: a string is not read as a count
])
def test_a_bad_declared_record_names_its_id_and_field(anchors: Policy, change: Any, field: str,
                                                      reason: str) -> None:
    record = copy.deepcopy(anchors_record())
    change(record)
    with pytest.raises(RecordError) as caught:
        anchors.evaluate(record, AS_OF)
    rejection = caught.value.rejection
    assert (rejection.household_id, rejection.field, rejection.reason) == ("HH1", field, reason)


def test_every_form_of_a_declared_field() -> None:
    policy = load_policy(GOOD)
    visit = {"visit_id": "V1", "visited_on": "2021-03-01", "income": "3000", "share": "0.5",
             "rooms": 2, "remote": False, "kind": "home", "address": {"county": "Yudu"},
             "members": [{"age": 9, "role": "other"}]}
    assert policy.evaluate(visit, AS_OF)["support"] is True
    assert policy.evaluate(dict(visit, bonus="9000"), AS_OF)["support"] is False
    assert policy.evaluate(dict(visit, address={"county": "Yudu", "distance_km": 31}),
                           AS_OF)["support"] is False
    with pytest.raises(RecordError) as caught:
        policy.evaluate(dict(visit, kind="email"), AS_OF)
    assert caught.value.rejection.field == "kind"


def test_the_household_contract_still_applies_without_a_schema(fujian: Policy) -> None:
    with pytest.raises(RecordError) as caught:
        fujian.evaluate(anchors_record(), AS_OF)
    assert caught.value.rejection.household_id == "HH1"


def test_cli_decides_declared_records(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                      ) -> None:
    records = tmp_path / "anchors.jsonl"
    bad = anchors_record(household_id="HH2", size=0.5)
    records.write_text(json.dumps(anchors_record()) + "\n" + json.dumps(bad) + "\n",
                       encoding="utf-8")
    code = main(["eval", str(ANCHORS), str(records), "--as-of", AS_OF])
    captured = capsys.readouterr()
    assert code == 1
    assert json.loads(captured.out)["household_id"] == "HH1"
    reject = json.loads(captured.err.splitlines()[0])
    assert (reject["line"], reject["household_id"], reject["field"]) == (2, "HH2", "size")


def test_arrow_batches_of_declared_records(anchors: Policy) -> None:
    pa = pytest.importorskip("pyarrow")
    from fangpin_rules.columnar import decide_batch, input_schema, records_to_arrow

    schema = input_schema(anchors)
    assert schema.field("annual_net_income").type == pa.decimal128(38, 10)
    assert schema.field("members").type.value_type.field("age").type == pa.int64()
    records = [anchors_record(household_id=f"HH{i}", annual_net_income=1000.0 * i)
               for i in range(1, 30)]
    rows = decide_batch(anchors, records_to_arrow(anchors, records), AS_OF).decisions
    expected = [anchors.evaluate(r, AS_OF) for r in records]
    assert rows.column("category").to_pylist() == [d["category"] for d in expected]
    assert [Decimal(v) for v in rows.column("per_capita").to_pylist()] == [
        d["per_capita"] for d in expected]
