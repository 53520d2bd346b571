"""A whole number that meets an amount or a ratio is compiled as a Decimal (Decimal with Decimal
is about twice as fast as Decimal with int); one that meets a count stays an int. The values
are the same either way; an amount defaulted with `?? 0` is now a Decimal too."""

from __future__ import annotations

import textwrap
from decimal import Decimal

import pytest

from fangpin_rules import Policy

from support import household, policy_from_text

POLICY = textwrap.dedent("""\
    policy: {id: literals, title: literals, effective: 2021-01-01}
    decisions:
      medical: {expr: 'rigid_expenditure.medical ?? 0', cite: §1}
      spends: {expr: 'rigid_expenditure.medical ?? 0 > 0', cite: §1}
      several: {expr: count(members) > 1, cite: §1}
      halved: {expr: net_income / 2, cite: §1}
    """)


@pytest.fixture(scope="module")
def policy(tmp_path_factory: pytest.TempPathFactory) -> Policy:
    return policy_from_text(tmp_path_factory.mktemp("literals"), POLICY)


def test_a_whole_number_beside_an_amount_is_a_decimal(policy: Policy) -> None:
    source = policy.compiled.source
    order = policy.checked.order
    spends = source.split(f"# node {order.index('spends')}\n")[1].split("\n")[0]
    assert "> 0)" not in spends and "> k_" in spends
    assert "len(r.members) > 1" in source  # beside a count: an int


@pytest.mark.parametrize("medical", [None, "0", "12.50"])
def test_values_are_those_of_the_traced_path(policy: Policy, medical: str | None) -> None:
    record = household(rigid_expenditure={"medical": medical})
    fast = policy.evaluate(record, "2021-09-01")
    traced = policy.evaluate(record, "2021-09-01", explain=True)
    keys = ("medical", "spends", "several", "halved")
    assert {k: fast[k] for k in keys} == {k: traced[k] for k in keys}
    assert type(fast["medical"]) is Decimal
    assert fast["medical"] == Decimal(medical or 0)
    assert fast["spends"] is (medical == "12.50")
