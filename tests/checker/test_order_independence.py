"""YAML mappings are unordered: the province's policy with every mapping's keys reversed and
the file re-indented checks clean and decides the same on the example households and cases."""

from __future__ import annotations

import json
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


def _canonical(decision: dict[str, Any]) -> str:
    """The decision as JSON with its objects' keys sorted (a JSON object is unordered too), its
    deadlines by case and step (they are listed in the file's order of the steps, each after
    the steps it reads), and without the policy's file hash, which names the file's bytes."""
    plain = json.loads(dumps(decision))
    plain["policy"].pop("sha256")
    for key in ("deadlines", "overdue", "violations"):
        plain[key].sort(key=lambda entry: (entry.get("case_id") or "", entry["step"]))
    return json.dumps(plain, sort_keys=True, ensure_ascii=False)


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
            expected = fujian.evaluate(household, as_of, cases=own)
            got = reordered.evaluate(household, as_of, cases=own)
            assert _canonical(got) == _canonical(expected), household["household_id"]
            # the deadlines keep the procedure's order: a step after the steps it reads
            steps = [d["step"] for d in got["deadlines"]]
            if "assignment" in steps:
                assert steps.index("summary") < steps.index("assignment") \
                    < steps.index("preliminary_review")
    assert with_cases >= 5
