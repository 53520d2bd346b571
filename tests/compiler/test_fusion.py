"""Fusing the record's aggregates into one loop: same decisions as the unfused (traced) path,
each distinct aggregate once, and nothing that could fail is moved out of its place."""

from __future__ import annotations

import textwrap
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from fangpin_rules import Policy, RecordError
from fangpin_rules.compiler.fusion import plan_fusion

from support import household, members, policy_from_text

HEADER = textwrap.dedent("""\
    policy:
      id: fusion-case
      title: fusion
      effective: 2021-01-01
    """)


def _policy(tmp_path: Path, body: str) -> Policy:
    policy: Policy = policy_from_text(tmp_path, HEADER + textwrap.dedent(body))
    return policy


def _fast_and_traced(policy: Policy, record: dict[str, Any], as_of: str) -> tuple[Any, Any]:
    fast = policy.evaluate(record, as_of)
    traced = policy.evaluate(record, as_of, explain=True)
    fast.pop("trace")
    traced.pop("trace")
    return fast, traced


AGGREGATES = """\
    decisions:
      any_ill:
        expr: any(m.health == "serious_illness" for m in members)
      all_known:
        expr: all(m.birth_date != null for m in members)
      adults:
        expr: count(age(m.birth_date) >= 18 for m in members)
      grades:
        expr: sum((m.disability_grade ?? 0) for m in members)
      grades_of_orphans:
        expr: sum((m.disability_grade ?? 0) for m in members if m.orphan == true)
      youngest:
        expr: max(m.birth_date for m in members)
      eldest_age:
        expr: min(age(m.birth_date) for m in members if m.orphan != true)
    """


def test_every_aggregate_kind_decides_as_unfused(tmp_path: Path) -> None:
    policy = _policy(tmp_path, AGGREGATES)
    assert len(plan_fusion(policy.checked).loops[0].aggregates) == 7
    cases = [
        members(3),
        [{"member_id": "1", "birth_date": "2010-01-01", "orphan": True, "disability_grade": 2},
         {"member_id": "2", "health": "serious_illness", "disability_grade": 1},
         {"member_id": "3", "birth_date": "1950-06-30", "orphan": False}],
        [{"member_id": "1"}],
        [{"member_id": "1", "orphan": True, "disability_grade": 4}],
    ]
    for group in cases:
        fast, traced = _fast_and_traced(policy, household(members=group), "2021-09-01")
        assert fast == traced


def test_identical_aggregates_are_computed_once(tmp_path: Path) -> None:
    policy = _policy(tmp_path, """\
        decisions:
          a:
            expr: any(m.orphan == true for m in members)
          b:
            expr: any(p.orphan == true for p in members) and net_income > 0
        """)
    plan = plan_fusion(policy.checked)
    assert len(plan.loops) == 1 and len(plan.loops[0].aggregates) == 1
    assert len(plan.by_node) == 2
    assert policy.compiled.source.count("for b_loop_0 in r.members") == 1


def test_an_aggregate_that_could_fail_stays_where_it_was(tmp_path: Path) -> None:
    # Division by an unknown grade (?? 0) fails, but only where the condition reaches it.
    policy = _policy(tmp_path, """\
        decisions:
          guarded:
            expr: >-
              net_income < 0
              and any(net_income / (m.disability_grade ?? 0) > 1 for m in members)
        """)
    assert plan_fusion(policy.checked).by_node == {}
    assert policy.evaluate(household(net_income=100), "2021-09-01")["guarded"] is False
    with pytest.raises(RecordError) as info:
        policy.evaluate(household(net_income=-100), "2021-09-01")
    assert "division by zero" in info.value.rejection.reason


def test_aggregates_reading_computed_values_are_not_fused(tmp_path: Path) -> None:
    policy = _policy(tmp_path, """\
        definitions:
          size:
            expr: count(members)
        decisions:
          big:
            expr: any(size > 3 and m.orphan == true for m in members)
        """)
    assert plan_fusion(policy.checked).by_node == {}
    assert policy.evaluate(household(members=members(4, orphan=True)), "2021-09-01")["big"]


def test_fujian_fast_path_equals_the_unfused_path(fujian: Policy) -> None:
    import json

    from fangpin_rules.engine.records import parse_json

    from support import benchmark_module

    generator = benchmark_module("gen_households")
    assert plan_fusion(fujian.checked).loops  # the province's policy is fused
    for raw in generator.generate(400, seed=3, as_of=date(2021, 9, 1)):
        record = parse_json(json.dumps(raw, default=str))
        fast, traced = _fast_and_traced(fujian, record, "2021-09-01")
        assert fast == traced, raw["household_id"]


def test_an_aggregate_reading_an_enclosing_item_stays_in_it(tmp_path: Path) -> None:
    """`count(n.birth_date == m.birth_date for n in members)` differs for each `m`: it stays
    inside the outer aggregate (hoisted, it read `m` where there is none, which the
    compiler's allow-list refused); one reading only its own item may still be fused."""
    policy = _policy(tmp_path, """\
        decisions:
          twins:
            expr: any(count(n.birth_date == m.birth_date for n in members) > 1 for m in members)
          beside:
            expr: any(any(n.orphan == true for n in members) for m in members)
        """)
    plan = plan_fusion(policy.checked)
    fused = [a.key for loop in plan.loops for a in loop.aggregates]
    assert fused == ["any(_.orphan == true for _ in members)"]  # the inner one of `beside`
    born = [{"member_id": str(k), "birth_date": day} for k, day in
            enumerate(["1980-01-01", "1985-03-04", "1980-01-01"])]
    cases = {True: born, False: born[:2]}
    for twins, group in cases.items():
        fast, traced = _fast_and_traced(policy, household(members=group), "2021-09-01")
        assert fast == traced and fast["twins"] is twins and fast["beside"] is False


def test_min_and_max_of_a_default_in_place(tmp_path: Path) -> None:
    """`min`/`max` left in place (a division: not fused) of a body with `??`: the default's
    assignment sits in the generator's condition (as the iterable of another generator it was
    a SyntaxError when the policy was compiled)."""
    policy = _policy(tmp_path, """\
        decisions:
          least_share:
            expr: min((m.disability_grade ?? 5) / count(members) for m in members)
          most_share:
            expr: >-
              max((m.disability_grade ?? 0) / count(members) for m in members
              if m.orphan == true)
        """)
    assert plan_fusion(policy.checked).by_node == {}
    group = [{"member_id": "1", "disability_grade": 2, "orphan": True},
             {"member_id": "2", "orphan": True}, {"member_id": "3", "disability_grade": 4}]
    for members_of in (group, group[1:], group[2:]):
        fast, traced = _fast_and_traced(policy, household(members=members_of), "2021-09-01")
        assert fast == traced
    fast, _ = _fast_and_traced(policy, household(members=group), "2021-09-01")
    least, most = fast["least_share"], fast["most_share"]
    assert least == most and abs(least - Decimal(2) / 3) < Decimal("1e-20")
