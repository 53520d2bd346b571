"""The streaming path writes decisions with `DecisionWriter` (msgspec); every other path with
`dumps`. They write the same bytes: on the example households with their cases (deadlines,
overdue steps), thousands of synthetic households, and a policy whose decisions hold every kind
of value (decimals inside records, durations, dates, counts, sets)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from fangpin_rules import Policy, load_policy
from fangpin_rules.engine.serialize import decision_writer, dumps
from fangpin_rules.language.values import DurationValue

from support import ROOT, benchmark_module, household

EVERY_KIND = """\
policy: {id: every-kind, title: every kind of value, effective: 2021-01-01}
vocabularies:
  flag: {a: {zh: 甲}, b: {zh: 乙}}
parameters:
  line: {type: money, title: 线, cite: §1, basis: document, value: 7152.00}
  share: {type: ratio, title: 比, cite: §1, basis: document, value: 0.50}
decisions:
  per_capita: {expr: net_income / count(members), cite: §1}
  quotient: {expr: net_income / 3, cite: §1}
  size: {expr: count(members), cite: §1}
  wait: {expr: 5 working_days, cite: §1}
  due: {expr: 2021-10-01 + 5 working_days, cite: §1}
  flags:
    kind: collect
    type: flag
    rules:
      - {id: flag.a, when: net_income > line, add: a, cite: §1}
      - {id: flag.b, when: net_income > 0, add: b, cite: §1}
  detail:
    kind: object
    when: net_income >= 0
    fields:
      amount: {expr: net_income * share, cite: §1}
      limit: {expr: line, cite: §1}
      until: {expr: 2021-01-31 + 1 month, cite: §1}
"""


def _same_bytes(policy: Policy, decisions: list[dict[str, Any]]) -> None:
    writer = decision_writer(policy.checked)
    for decision in decisions:
        expected = dumps(decision).encode("utf-8")
        # the writer may turn top-level values into their JSON form in place: give it a copy
        assert writer.encode(dict(decision)) == expected


def test_synthetic_households_are_written_as_dumps_writes_them(fujian: Policy) -> None:
    from fangpin_rules.engine.records import parse_json

    generator = benchmark_module("gen_households")
    decisions = [fujian.evaluate(parse_json(line), "2021-09-01")
                 for line in generator.generate_lines(2000, seed=5)]
    _same_bytes(fujian, decisions)


def test_the_example_cases_are_written_as_dumps_writes_them(fujian: Policy) -> None:
    from fangpin_rules.engine.records import parse_json

    lines = (ROOT / "examples" / "households.jsonl").read_text(encoding="utf-8").splitlines()
    cases = [parse_json(line) for line in
             (ROOT / "examples" / "cases.jsonl").read_text(encoding="utf-8").splitlines()]
    decisions = []
    for line in lines:
        record = parse_json(line)
        own = [c for c in cases if c["household_id"] == record["household_id"]]
        decisions.append(fujian.evaluate(record, "2025-06-30", cases=own))
    assert any(d["overdue"] for d in decisions)
    _same_bytes(fujian, decisions)


@pytest.mark.parametrize("income", ["10000", "10000.00", "-0", "1E+3", "0.0001", "7152"])
def test_every_kind_of_value_is_written_as_dumps_writes_it(tmp_path: Path, income: str) -> None:
    path = tmp_path / "every_kind.yaml"
    path.write_text(EVERY_KIND, encoding="utf-8")
    policy = load_policy(path)
    decision = policy.evaluate(household(net_income=Decimal(income)), date(2021, 9, 1))
    assert decision["wait"] is not None and decision["detail"] is not None
    _same_bytes(policy, [decision])
    text = decision_writer(policy.checked).encode(dict(decision)).decode()
    assert '"wait":"5 working_days"' in text and '"due":"2021-10-' in text


def test_a_value_msgspec_cannot_write_is_written_by_dumps(fujian: Policy) -> None:
    decision = fujian.evaluate(household(), "2021-09-01")
    # not among the policy's decisions: a duration (a dataclass, which msgspec would write as
    # an object), a set (in no set order), a float, a tuple
    decision["extra"] = [DurationValue(2, "months"), {"b", "a"}, 0.1, 1e16, (1, Decimal("2.50"))]
    writer = decision_writer(fujian.checked)
    assert writer.encode(dict(decision)) == dumps(decision).encode("utf-8")
