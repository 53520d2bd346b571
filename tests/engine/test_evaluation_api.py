"""The Python API: evaluate, evaluate_many (lazy, ordered), rejections and dates."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from fangpin_rules import Policy, RecordError, Rejection
from fangpin_rules.engine.policy import DateError
from fangpin_rules.model import Household

from support import RECORDS_MD_HOUSEHOLD, household


def test_evaluate_accepts_dicts_and_models(fujian: Policy) -> None:
    as_dict = fujian.evaluate(RECORDS_MD_HOUSEHOLD, as_of="2021-09-01")
    as_model = fujian.evaluate(Household.model_validate(RECORDS_MD_HOUSEHOLD),
                               as_of="2021-09-01")
    assert as_dict == as_model


def test_evaluate_many_is_lazy_and_in_order(fujian: Policy) -> None:
    consumed: list[int] = []

    def records() -> Iterator[dict[str, Any]]:
        for i in range(5):
            consumed.append(i)
            yield household(household_id=f"H{i}")

    stream = fujian.evaluate_many(records(), as_of="2021-09-01")
    assert consumed == []
    first = next(stream)
    assert first["household_id"] == "H0" and consumed == [0]
    assert [d["household_id"] for d in stream] == ["H1", "H2", "H3", "H4"]


def test_evaluate_many_hands_bad_records_to_on_reject(fujian: Policy) -> None:
    rejected: list[Rejection] = []
    records = [household(household_id="A"), {"household_id": "B", "formerly_poor": True},
               household(household_id="C", extra_field=1), household(household_id="D")]
    decided = list(fujian.evaluate_many(records, as_of="2021-09-01", on_reject=rejected.append))
    assert [d["household_id"] for d in decided] == ["A", "D"]
    assert [(r.line, r.household_id, r.field) for r in rejected] == [
        (2, "B", "members"), (3, "C", "extra_field")]


def test_evaluate_many_raises_without_on_reject(fujian: Policy) -> None:
    with pytest.raises(RecordError):
        list(fujian.evaluate_many([{"household_id": "B"}], as_of="2021-09-01"))


@pytest.mark.parametrize(("as_of", "message"), [
    ("2021-06-03", "takes effect on 2021-06-04"),
    ("2021-02-30", "not a date"),
    ("yesterday", "not a date"),
])
def test_unusable_dates_are_clear_errors(fujian: Policy, as_of: str, message: str) -> None:
    with pytest.raises(DateError) as info:
        fujian.evaluate(RECORDS_MD_HOUSEHOLD, as_of=as_of)
    assert message in str(info.value)


def test_unknown_inputs_are_not_problems(fujian: Policy) -> None:
    h = household(food_clothing_secure=None, basic_medical_secure=None, housing_safe=None,
                  drinking_water_safe=None, members=[{"member_id": "1"}])
    d = fujian.evaluate(h, as_of="2021-09-01")
    assert d["risks"] == ["labour_shortage"]  # unknown labour capacity is not labour
    assert d["category"] is None
    explained = fujian.evaluate(h, as_of="2021-09-01", explain=True)
    unknown = explained["trace"][0]["unknown_inputs"]
    assert "housing_safe" in unknown and "members[].labour_capacity" in unknown


def test_parameters_on_a_date(fujian: Policy) -> None:
    params = fujian.parameters_on("2021-09-01")
    assert params["monitoring_line"] == 7152
    assert str(params["dibao_grace_period"]) == "12 months"
