"""Exact decimals are written as JSON numbers through a marked string; a record's own text
cannot pass for that mark."""

from __future__ import annotations

import json
from decimal import Decimal

from fangpin_rules import Policy
from fangpin_rules.engine.serialize import dumps

from support import household


def test_a_string_that_looks_like_the_old_mark_stays_a_string() -> None:
    assert json.loads(dumps({"id": "\x00123", "n": Decimal("1.50")})) == {"id": "\x00123",
                                                                          "n": 1.5}


def test_a_household_id_with_a_control_character_is_written_as_text(fujian: Policy) -> None:
    decision = fujian.evaluate(household(household_id="\x00123"), "2021-09-01")
    assert json.loads(dumps(decision))["household_id"] == "\x00123"


def test_decimal_text_is_plain_and_without_trailing_zeros() -> None:
    values = ["7152.0", "2051.2650", "-0.0", "1E+3", "1.5E-7", "-12.340", "100"]
    assert dumps([Decimal(v) for v in values]) == \
        "[7152,2051.265,-0,1000,0.00000015,-12.34,100]"
