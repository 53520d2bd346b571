"""`"label" in some_collect_decision` reads a flag set where the one rule that adds the label
ran, instead of searching the list; a label that several rules add is still searched. The
decisions are those of the traced path, which always searches."""

from __future__ import annotations

import textwrap

import pytest

from fangpin_rules import Policy

from support import household, policy_from_text

POLICY = textwrap.dedent("""\
    policy: {id: label-flags, title: label flags, effective: 2021-01-01}
    vocabularies:
      flag: {a: {zh: 甲}, b: {zh: 乙}, c: {zh: 丙}}
    decisions:
      flags:
        kind: collect
        type: flag
        rules:
          - {id: flag.a.low, when: net_income < 1000, add: a, cite: §1}
          - {id: flag.b, when: net_income < 5000, add: b, cite: §1}
          - {id: flag.a.none, when: previous_net_income == null, add: a, cite: §1}
          - {id: flag.c, when: formerly_poor, add: c, cite: §1}
      has_a: {expr: '"a" in flags', cite: §1}
      has_b: {expr: '"b" in flags', cite: §1}
      lacks_b: {expr: '"b" not in flags', cite: §1}
      b_and_c: {expr: '"b" in flags and "c" in flags', cite: §1}
    """)


@pytest.fixture(scope="module")
def policy(tmp_path_factory: pytest.TempPathFactory) -> Policy:
    return policy_from_text(tmp_path_factory.mktemp("flags"), POLICY)


def test_a_label_one_rule_adds_is_read_from_its_flag(policy: Policy) -> None:
    source = policy.compiled.source
    assert "'b' in" not in source and "'c' in" not in source
    assert "'a' in" in source  # two rules add it: searched


@pytest.mark.parametrize("income", [500, 3000, 9000])
@pytest.mark.parametrize("previous", [None, 100])
@pytest.mark.parametrize("poor", [True, False])
def test_flags_decide_as_the_traced_path(policy: Policy, income: int, previous: int | None,
                                         poor: bool) -> None:
    record = household(net_income=income, previous_net_income=previous, formerly_poor=poor)
    fast = policy.evaluate(record, "2021-09-01")
    traced = policy.evaluate(record, "2021-09-01", explain=True)
    keys = ("flags", "has_a", "has_b", "lacks_b", "b_and_c")
    assert {k: fast[k] for k in keys} == {k: traced[k] for k in keys}
    assert fast["has_b"] is (income < 5000) and fast["lacks_b"] is (income >= 5000)
    assert fast["b_and_c"] is (income < 5000 and poor)
