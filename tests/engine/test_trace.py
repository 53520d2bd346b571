"""The trace: versioned, deterministic, citing articles, explaining negative decisions."""

from __future__ import annotations

from typing import Any

from fangpin_rules import Policy, __version__
from fangpin_rules.engine.serialize import dumps

from support import RECORDS_MD_HOUSEHOLD, household


def _entry(trace: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(e for e in trace if e.get("name") == name and e["kind"] != "parameter")


def test_header_names_schema_engine_policy_and_date(fujian: Policy) -> None:
    trace = fujian.evaluate(RECORDS_MD_HOUSEHOLD, "2021-09-01", explain=True)["trace"]
    header = trace[0]
    assert header["kind"] == "header"
    assert (header["schema"], header["version"], header["engine"]) == (
        "fangpin.trace", 1, __version__)
    assert header["policy"] == {"id": "fujian-2021", "sha256": fujian.sha256}
    assert header["as_of"] == "2021-09-01"


def test_parameters_read_carry_value_date_file_and_line(fujian: Policy) -> None:
    trace = fujian.evaluate(RECORDS_MD_HOUSEHOLD, "2021-09-01", explain=True)["trace"]
    line = next(e for e in trace if e["kind"] == "parameter" and e["name"] == "monitoring_line")
    assert line["value"] == 7152 and line["from"] == "2021-01-01" and line["cite"] == "§2"
    assert line["file"].endswith("fujian_2021.yaml") and line["line"] > 0


def test_positive_decision_names_the_rule_and_article(fujian: Policy) -> None:
    trace = fujian.evaluate(RECORDS_MD_HOUSEHOLD, "2021-09-01", explain=True)["trace"]
    category = _entry(trace, "category")
    assert category["value"] == "unstable"
    first = category["rules"][0]
    assert (first["id"], first["value"], first["cite"]) == ("category.unstable", True, "§1")
    # [E2]: three more rules keep a recorded category; not reached once the first holds
    assert [r["reached"] for r in category["rules"]] == [True] + [False] * 5


def test_negative_decision_says_which_condition_failed(fujian: Policy) -> None:
    trace = fujian.evaluate(household(), "2021-09-01", explain=True)["trace"]
    category = _entry(trace, "category")
    assert category["value"] is None and category["otherwise"] is True
    marginal = next(r for r in category["rules"] if r["id"] == "category.marginal")
    assert marginal["value"] is False
    failed = [c for c in marginal["conditions"] if c["value"] is False]
    assert {"expr": "in_range", "value": False} not in marginal["conditions"] or failed
    assert any(c["expr"] == "not formerly_poor" and c["value"] is True
               for c in marginal["conditions"])
    assert failed[-1]["expr"] == "not formerly_poor and in_range"


def test_collect_rules_report_each_rule(fujian: Policy) -> None:
    trace = fujian.evaluate(RECORDS_MD_HOUSEHOLD, "2021-09-01", explain=True)["trace"]
    risks = _entry(trace, "risks")
    values = {r["id"]: r["value"] for r in risks["rules"]}
    assert values["risk.illness"] is True and values["risk.low_income"] is False
    assert all(r["reached"] for r in risks["rules"])


def test_trace_is_deterministic_and_decision_equal_to_fast_path(fujian: Policy) -> None:
    one = fujian.evaluate(RECORDS_MD_HOUSEHOLD, "2021-09-01", explain=True)
    two = fujian.evaluate(RECORDS_MD_HOUSEHOLD, "2021-09-01", explain=True)
    assert dumps(one) == dumps(two)
    fast = fujian.evaluate(RECORDS_MD_HOUSEHOLD, "2021-09-01")
    assert {k: v for k, v in one.items() if k != "trace"} == \
        {k: v for k, v in fast.items() if k != "trace"}


def test_steps_are_explained_with_their_rule_and_article(fujian: Policy) -> None:
    case = {"case_id": "C", "household_id": "350181-0001", "source": "media",
            "received_on": "2021-09-30", "assigned_on": "2021-10-11"}
    d = fujian.evaluate(RECORDS_MD_HOUSEHOLD, "2021-10-20", explain=True, cases=[case])
    steps = {e["name"]: e for e in d["trace"] if e["kind"] == "step"}
    assignment = steps["assignment"]
    assert assignment["due_expr"] == "steps.summary + 1 working_day"
    # due Fri 8 October 2021, done Mon 11 October: Sat 9 October was a make-up working day
    assert (assignment["status"], assignment["late_working_days"], assignment["cite"]) == (
        "late", 2, "§7")
    assert assignment["basis"] == "interpretation"
    assert steps["preliminary_review"]["status"] == "overdue"
