"""Money and ratios are exact decimals: boundaries decide the way the document reads."""

from __future__ import annotations

from decimal import Decimal

import pytest

from fangpin_rules import Policy, RecordError
from fangpin_rules.engine.records import parse_json
from fangpin_rules.limits import DECIMAL_CONTEXT, DECIMAL_PRECISION

from support import household, members

AS_OF = "2021-09-01"


@pytest.mark.parametrize(("net_income", "per_capita", "in_range"), [
    ("21455.97", Decimal("7151.99"), True),   # 21455.97 / 3 is exactly 7151.99
    ("21456", Decimal("7152"), False),        # the line itself is not below the line
    ("21456.03", Decimal("7152.01"), False),
])
def test_monitoring_line_boundary(fujian: Policy, net_income: str, per_capita: Decimal,
                                  in_range: bool) -> None:
    record = parse_json('{"net_income": ' + net_income + "}")
    h = household(members=members(3), net_income=record["net_income"])
    d = fujian.evaluate(h, as_of=AS_OF)
    assert d["per_capita_income"] == per_capita
    assert d["in_range"] is in_range
    assert d["category"] == ("marginal" if in_range else None)


def test_float_input_is_read_as_its_decimal_text(fujian: Policy) -> None:
    # A Python float 21455.97 is not exactly 21455.97 in binary; the engine reads the
    # decimal it spells, as JSON numbers are.
    d = fujian.evaluate(household(members=members(3), net_income=21455.97), as_of=AS_OF)
    assert d["per_capita_income"] == Decimal("7151.99")


def test_json_numbers_beyond_float_precision_stay_exact(fujian: Policy) -> None:
    record = parse_json('{"net_income": 7151.9999}')
    d = fujian.evaluate(household(net_income=record["net_income"]), as_of=AS_OF)
    assert d["in_range"] is True  # a float of 7151.99999999 would be 7152.0


def test_a_per_capita_just_below_the_line_is_below_it_at_any_household_size(
        fujian: Policy) -> None:
    # 7151.9999 a head in a household of 7 is 50063.9993: the quotient is exact at the engine's
    # precision, where Python's default 28 digits would still be exact here but not for every
    # allowed amount (limits.py derives the precision).
    for size in (1, 3, 7, 100):
        income = Decimal("7151.9999") * size
        d = fujian.evaluate(household(members=members(size), net_income=income), as_of=AS_OF)
        assert d["in_range"] is True, size
        assert d["per_capita_income"] == Decimal("7151.9999")


def test_an_amount_more_precise_than_the_contract_is_rejected_not_rounded(
        fujian: Policy) -> None:
    # 7151.9999999999999999999999999 a head used to count as 7152 (28-digit rounding)
    with pytest.raises(RecordError) as caught:
        fujian.evaluate(household(net_income=Decimal("7151.9999999999999999999999999")),
                        as_of=AS_OF)
    assert caught.value.rejection.field == "net_income"
    assert caught.value.rejection.reason == "has more than 4 decimal places"


def test_the_decision_quotient_is_written_at_the_engine_precision(fujian: Policy) -> None:
    d = fujian.evaluate(household(members=members(3), net_income=Decimal("10000")), AS_OF)
    assert d["per_capita_income"] == DECIMAL_CONTEXT.divide(Decimal(10000), 3)
    assert len(str(d["per_capita_income"]).replace(".", "")) == DECIMAL_PRECISION


@pytest.mark.parametrize(("net_income", "reason", "eligible"), [
    ("7867.19", "income_not_stable", False),  # 7152 x 1.1 = 7867.2 exactly
    ("7867.2", None, True),
])
def test_stability_margin_is_exact(fujian: Policy, net_income: str, reason: str | None,
                                   eligible: bool) -> None:
    h = household(net_income=Decimal(net_income), monitoring={"status": "monitored"})
    d = fujian.evaluate(h, as_of=AS_OF)
    assert d["risk_elimination"] == {"reason": reason, "eligible": eligible}


@pytest.mark.parametrize(("current", "sharp"), [("13000", True), ("13000.01", False)])
def test_sharp_drop_ratio_boundary(fujian: Policy, current: str, sharp: bool) -> None:
    # (26000 - 13000) / 26000 = 0.5 exactly: a drop of one half is sharp.
    h = household(net_income=Decimal(current), previous_net_income=26000)
    d = fujian.evaluate(h, as_of=AS_OF)
    assert ("income_drop" in d["risks"]) is sharp


def test_zero_members_is_a_rejected_record_not_a_division_by_zero(fujian: Policy) -> None:
    with pytest.raises(RecordError) as info:
        fujian.evaluate(household(members=[]), as_of=AS_OF)
    assert info.value.rejection.field == "members"
    assert info.value.rejection.household_id == "T-1"


@pytest.mark.parametrize(("field", "value"), [
    ("net_income", "1e400"),
    ("net_income", "NaN"),
    ("net_income", "-1e13"),
])
def test_out_of_range_money_is_rejected(fujian: Policy, field: str, value: str) -> None:
    with pytest.raises(RecordError) as info:
        fujian.evaluate(household(**{field: Decimal(value)}), as_of=AS_OF)
    assert info.value.rejection.field == field
