"""Rule coverage: which rules the test cases exercised both ways, and why the others were not.

Read from the traces of a test run. A rule is covered when some case found its condition true
and some case found it false. Each part of a condition is tracked too, keyed by its canonical
text (`unparse`), so reformatting a policy file never changes its coverage. For a rule not fully
covered the report says why: never reached because an earlier branch always won (and which),
condition never true, or never false (and which parts of it never were).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from typing import Any

from fangpin_rules.engine import Policy
from fangpin_rules.language.parser import ExprSyntaxError, parse_expression, unparse
from fangpin_rules.testing.runner import CaseResult, TestRun


@dataclass
class ConditionCoverage:
    text: str  # canonical
    true: int = 0
    false: int = 0

    @property
    def covered(self) -> bool:
        return self.true > 0 and self.false > 0


@dataclass
class RuleCoverage:
    id: str
    decision: str
    kind: str  # first_match | collect
    cite: str
    location: str
    true_cases: list[str] = field(default_factory=list)
    false_cases: list[str] = field(default_factory=list)
    unreached_cases: list[str] = field(default_factory=list)
    won_instead: Counter[str] = field(default_factory=Counter)  # earlier rule -> cases
    conditions: dict[str, ConditionCoverage] = field(default_factory=dict)

    @property
    def covered(self) -> bool:
        return bool(self.true_cases) and bool(self.false_cases)

    @property
    def reached(self) -> bool:
        return bool(self.true_cases or self.false_cases)

    def why(self) -> str:
        """Why the rule is not fully covered ('' when it is)."""
        if self.covered:
            return ""
        if not self.reached:
            if self.won_instead:
                winners = ", ".join(f"{rule} ({n} case{'s' if n > 1 else ''})"
                                    for rule, n in self.won_instead.most_common())
                return f"never reached: an earlier branch always won: {winners}"
            return "never reached: no case evaluated this decision"
        never = "true" if not self.true_cases else "false"
        parts = [c.text for c in self.conditions.values()
                 if (c.true == 0 if never == "true" else c.false == 0)]
        detail = f"; parts never {never}: " + "; ".join(parts) if parts else ""
        return f"condition never {never}{detail}"

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "decision": self.decision, "kind": self.kind, "cite": self.cite,
                "location": self.location, "covered": self.covered,
                "true_cases": self.true_cases, "false_cases": self.false_cases,
                "unreached_cases": self.unreached_cases,
                "won_instead": dict(self.won_instead), "why": self.why(),
                "conditions": [{"expr": c.text, "true": c.true, "false": c.false,
                                "covered": c.covered} for c in self.conditions.values()]}


@dataclass
class PolicyCoverage:
    policy: str
    cases: int
    rules: list[RuleCoverage]

    @property
    def percent(self) -> Decimal:
        """Share of rules covered both ways, rounded down to 0.1 % (never shows 100 early)."""
        if not self.rules:
            return Decimal(100)
        share = Decimal(100 * sum(r.covered for r in self.rules)) / len(self.rules)
        return share.quantize(Decimal("0.1"), rounding=ROUND_DOWN)

    @property
    def condition_percent(self) -> Decimal:
        conditions = [c for r in self.rules for c in r.conditions.values()]
        if not conditions:
            return Decimal(100)
        share = Decimal(100 * sum(c.covered for c in conditions)) / len(conditions)
        return share.quantize(Decimal("0.1"), rounding=ROUND_DOWN)

    def render(self) -> str:
        covered = sum(r.covered for r in self.rules)
        lines = [f"coverage of {self.policy} by {self.cases} case(s): {covered}/"
                 f"{len(self.rules)} rules both ways ({self.percent} %), condition parts "
                 f"{self.condition_percent} %"]
        for rule in self.rules:
            mark = "ok  " if rule.covered else "MISS"
            taken = f"true in {len(rule.true_cases)}, false in {len(rule.false_cases)}"
            lines.append(f"  {mark} {rule.id:<36} {rule.cite:<8} {taken}")
            if not rule.covered:
                lines.append(f"       {rule.why()}  [{rule.location}]")
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {"policy": self.policy, "cases": self.cases, "percent": self.percent,
                "condition_percent": self.condition_percent,
                "rules": [r.to_json() for r in self.rules]}


def coverage(run: TestRun) -> list[PolicyCoverage]:
    """Rule coverage of every policy the run tested, in the order the policies were first met."""
    by_policy: dict[str, list[CaseResult]] = {}
    for result in run.results:
        if result.policy_path in run.policies:
            by_policy.setdefault(result.policy_path, []).append(result)
    return [policy_coverage(run.policies[path], results)
            for path, results in by_policy.items()]


def policy_coverage(policy: Policy, results: list[CaseResult]) -> PolicyCoverage:
    rules: dict[str, RuleCoverage] = {}
    for rule in policy.checked.rules():
        node = policy.checked.nodes[rule.decision]
        rules[rule.id] = RuleCoverage(rule.id, rule.decision, node.kind, rule.cite,
                                      str(rule.location))
    canonical: dict[str, str] = {}
    cases = 0
    for result in results:
        if result.decision is None:
            continue
        cases += 1
        for entry in result.decision.get("trace", []):
            winner: str | None = None
            for item in entry.get("rules", ()):
                record = rules.get(item["id"])
                if record is None:  # pragma: no cover - the trace lists the policy's rules
                    continue
                if not item["reached"]:
                    record.unreached_cases.append(result.name)
                    if winner is not None:
                        record.won_instead[winner] += 1
                    continue
                (record.true_cases if item["value"] else record.false_cases).append(result.name)
                if item["value"] and record.kind == "first_match":
                    winner = item["id"]
                for part in item.get("conditions", ()):
                    text = canonical.get(part["expr"])
                    if text is None:
                        text = canonical[part["expr"]] = _canonical(part["expr"])
                    condition = record.conditions.setdefault(text, ConditionCoverage(text))
                    if part["value"]:
                        condition.true += 1
                    else:
                        condition.false += 1
    return PolicyCoverage(policy.path, cases, list(rules.values()))


def _canonical(text: str) -> str:
    try:
        return unparse(parse_expression(text))
    except ExprSyntaxError:  # pragma: no cover - a part is a well-formed sub-expression
        return " ".join(text.split())
