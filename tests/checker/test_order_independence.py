"""YAML mappings are unordered: the province's policy with every mapping's keys reversed and
the file re-indented checks clean and decides byte-identically on the example households and
cases: the decision's keys, its objects' fields, the deadlines and the trace come in an order
the file's mappings do not set (the contract's, the procedure's, the document's)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from fangpin_rules import Policy, load_policy
from fangpin_rules.engine.serialize import dumps

from support import FUJIAN, ROOT


def _reversed(node: Any) -> Any:
    if isinstance(node, dict):
        return {key: _reversed(value) for key, value in reversed(list(node.items()))}
    if isinstance(node, list):  # lists keep their order: first_match rules, dated values
        return [_reversed(item) for item in node]
    return node


def _bytes(decision: dict[str, Any], policy: Policy) -> bytes:
    """The decision as written, with the policy's file digest replaced, and in the trace the
    places in the file (file, line) its entries name: they name the file's bytes, which differ
    by definition when its keys are reordered; nothing else may."""
    text = dumps(decision)
    assert policy.checked.sha256 in text
    text = text.replace(policy.checked.sha256, "<sha256>")
    text = re.sub(r'"file":"[^"]*","line":\d+', '"file":"<file>","line":0', text)
    return text.encode("utf-8")


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def test_reversed_province_file_checks_clean_and_decides_identically(
        fujian: Policy, tmp_path: Path) -> None:
    tree = yaml.safe_load(FUJIAN.read_text(encoding="utf-8"))
    text = yaml.safe_dump(_reversed(tree), sort_keys=False, allow_unicode=True, indent=4,
                          width=200)
    assert text.splitlines()[0].startswith(f"{list(tree)[-1]}:")  # really reversed
    path = tmp_path / "fujian_2021_reversed.yaml"
    path.write_text(text, encoding="utf-8")
    reordered = load_policy(path)
    assert reordered.warnings == fujian.warnings == []

    households = _lines(ROOT / "examples" / "households.jsonl")
    cases = _lines(ROOT / "examples" / "cases.jsonl")
    with_cases = 0
    for household in households:
        own = [c for c in cases if c["household_id"] == household["household_id"]]
        with_cases += bool(own)
        for as_of in ("2021-09-01", "2022-03-01", "2025-06-30"):
            for explain in (False, True):
                expected = fujian.evaluate(household, as_of, cases=own, explain=explain)
                got = reordered.evaluate(household, as_of, cases=own, explain=explain)
                assert _bytes(got, reordered) == _bytes(expected, fujian), \
                    household["household_id"]
            # the deadlines keep the procedure's order: a step after the steps it reads
            steps = [d["step"] for d in got["deadlines"]]
            if "assignment" in steps:
                assert steps.index("summary") < steps.index("assignment") \
                    < steps.index("preliminary_review")
    assert with_cases >= 5


def test_the_province_decides_in_the_contracts_order(fujian: Policy) -> None:
    """The decision record's keys as records.md lists them (the policy's own output,
    `priority_attention`, after the contract's decisions), and its objects' fields too."""
    record = _lines(ROOT / "examples" / "households.jsonl")[0]
    decision = fujian.evaluate(record, "2021-09-01")
    assert list(decision) == [
        "household_id", "policy", "as_of", "per_capita_income", "per_capita_after_rigid",
        "monitoring_line", "in_range", "category", "category_label", "special_groups", "risks",
        "measures", "assistance_mode", "orientation", "cadre", "dibao", "temporary_assistance",
        "risk_elimination", "departments", "priority_attention", "deadlines", "overdue",
        "violations", "warnings", "trace"]
    assert list(decision["dibao"]) == ["recommend_enrolment", "grace_until"]
    assert list(decision["risk_elimination"]) == ["eligible", "reason"]
    assert list(decision["cadre"]) == ["rank", "pairing"]
