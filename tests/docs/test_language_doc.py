"""Every example of docs/language.md runs: `expression` blocks evaluate to what they say, and
`error` blocks fail the checker with the message they quote."""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from fangpin_rules import PolicyError, load_policy

from support import FUJIAN, RECORDS_MD_HOUSEHOLD, ROOT

DOC = ROOT / "docs" / "language.md"


def _blocks(kind: str) -> list[tuple[str, str]]:
    text = DOC.read_text(encoding="utf-8")
    pairs = []
    for block in re.findall(rf"```{kind}\n(.*?)```", text, flags=re.S):
        for line in block.strip().splitlines():
            expr, expected = line.split("⇒")
            pairs.append((expr.strip(), expected.strip()))
    return pairs


def _policy_with(expr: str, tmp_path: Path) -> Path:
    text = FUJIAN.read_text(encoding="utf-8")
    example = "  doc_example:\n    expr: " + json.dumps(expr, ensure_ascii=False) + "\n"
    text = text.replace("\ndecisions:\n", "\ndecisions:\n" + example, 1)
    path = tmp_path / "doc_policy.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _expected(text: str) -> Any:
    if text in ("true", "false"):
        return text == "true"
    if text == "null":
        return None
    if text.startswith('"'):
        return json.loads(text)
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return date.fromisoformat(text)
    return Decimal(text)


EXPRESSIONS = _blocks("expression")
ERRORS = _blocks("error")


def test_the_doc_has_examples() -> None:
    assert len(EXPRESSIONS) >= 20 and len(ERRORS) >= 10


@pytest.mark.parametrize(("expr", "expected"), EXPRESSIONS, ids=[e for e, _ in EXPRESSIONS])
def test_expression_example(expr: str, expected: str, tmp_path: Path) -> None:
    policy = load_policy(_policy_with(expr, tmp_path))
    value = policy.evaluate(RECORDS_MD_HOUSEHOLD, as_of="2021-09-01")["doc_example"]
    want = _expected(expected)
    if isinstance(want, Decimal):
        assert not isinstance(value, bool | float)
        assert Decimal(value) == want
    else:
        assert value == want


@pytest.mark.parametrize(("expr", "message"), ERRORS, ids=[e for e, _ in ERRORS])
def test_error_example(expr: str, message: str, tmp_path: Path) -> None:
    with pytest.raises(PolicyError) as info:
        load_policy(_policy_with(expr, tmp_path))
    texts = [f"{d.message}; {d.hint}" for d in info.value.diagnostics]
    assert any(message in t for t in texts), texts


def _yaml_example(name: str) -> str:
    text = DOC.read_text(encoding="utf-8")
    found = re.search(rf"<!-- example: {name} -->\n```yaml\n(.*?)```", text, re.S)
    assert found, name
    return found.group(1)


def test_the_procedure_duties_and_calendar_examples_check(tmp_path: Path) -> None:
    text = FUJIAN.read_text(encoding="utf-8")
    start = text.index("\nprocedure:\n")
    end = text.index("\n# Duties owed once a period")
    text = text[:start + 1] + _yaml_example("procedure") + text[end:]
    start = text.index("\nduties:\n")
    text = text[:start + 1] + _yaml_example("duties") + "\n" + _yaml_example("calendar")
    path = tmp_path / "doc_sections.yaml"
    path.write_text(text, encoding="utf-8")
    policy = load_policy(path)
    assert [s.name for s in policy.checked.steps] == ["summary", "assignment",
                                                      "publicity_identification"]
    assert policy.checked.calendar.is_working_day(date(2027, 2, 6))
    assert [d["duty"] for d in policy.duties_on("2021-10-08")] == ["routine_screening"]


def test_the_warnings_example_checks_and_decides_as_shown(tmp_path: Path) -> None:
    text = FUJIAN.read_text(encoding="utf-8")
    start, end = text.index("\nwarnings:\n"), text.index("\n# Duties owed once a period")
    path = tmp_path / "doc_warnings.yaml"
    path.write_text(text[:start + 1] + _yaml_example("warnings") + text[end:], encoding="utf-8")
    policy = load_policy(path)
    assert [w.id for w in policy.checked.warnings] == ["future_date.monitoring_since",
                                                       "minor_with_labour"]
    shown = re.search(r"<!-- example: warnings-output -->\n```json\n(.*?)```",
                      DOC.read_text(encoding="utf-8"), re.S)
    assert shown
    record = json.loads(json.dumps(RECORDS_MD_HOUSEHOLD))
    record["members"] = [*record["members"],
                         {"member_id": "2", "birth_date": "1985-01-01", "labour_capacity": "lost"},
                         {"member_id": "3", "birth_date": "2010-03-01", "labour_capacity": "weak"}]
    decision = policy.evaluate(record, as_of="2021-09-01")
    assert {"warnings": decision["warnings"]} == json.loads(shown.group(1))


def test_the_regional_warnings_example_checks(tmp_path: Path) -> None:
    text = FUJIAN.read_text(encoding="utf-8")
    start = text.index("\nregional_warnings:\n")
    path = tmp_path / "doc_regional.yaml"
    path.write_text(text[:start + 1] + _yaml_example("regional-warnings"), encoding="utf-8")
    policy = load_policy(path)
    rule, = policy.checked.regional_warnings
    assert (rule.rule_id, rule.level, rule.where, rule.new, rule.as_) == (
        "township_disaster_wave", "township", ("risk", "disaster"), True, "share")
    broken = path.read_text(encoding="utf-8").replace("{risk: disaster}", "{risk: disastr}")
    path.write_text(broken, encoding="utf-8")
    with pytest.raises(PolicyError, match="'disastr' is not a label of the `risk` vocabulary"):
        load_policy(path)


def test_the_regional_sums_example_checks(tmp_path: Path) -> None:
    text = FUJIAN.read_text(encoding="utf-8")
    start = text.index("\nregional_warnings:\n")
    path = tmp_path / "doc_regional_sums.yaml"
    path.write_text(text[:start + 1] + _yaml_example("regional-sums"), encoding="utf-8")
    rule, = load_policy(path).checked.regional_warnings
    assert (rule.sum_of, rule.as_, rule.against, rule.below, rule.above) == (
        "per_capita_income", "mean", "previous_month", "regional_income_mean_fall", None)
    broken = path.read_text(encoding="utf-8").replace("sum: per_capita_income",
                                                      "sum: in_range")
    path.write_text(broken, encoding="utf-8")
    with pytest.raises(PolicyError, match="the decision 'in_range' is bool; `sum:` adds up"):
        load_policy(path)
