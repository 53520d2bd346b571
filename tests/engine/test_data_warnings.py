"""Data-consistency warnings (`warnings:`, §18): a construct of the policy language, so the
province's checks are data and a county adds its own; they reach every output path."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from fangpin_rules import Policy, load_policy
from fangpin_rules.audit import diff_policies
from fangpin_rules.engine.serialize import decision_writer
from fangpin_rules.model.decision import Decision

from support import FUJIAN, ROOT, household

AS_OF = "2021-09-01"
CHILD_WITH_LABOUR = {"member_id": "2", "birth_date": "2010-03-01", "labour_capacity": "weak"}
MINOR_WARNING = {"code": "minor_with_labour", "field": "members[1].labour_capacity",
                 "cite": "§18"}


def _child_household() -> dict[str, Any]:
    return household(members=[
        {"member_id": "1", "birth_date": "1980-05-01", "labour_capacity": "normal"},
        CHILD_WITH_LABOUR])


def test_a_warning_never_rejects_and_the_decision_record_carries_it(fujian: Policy) -> None:
    decision = fujian.evaluate(_child_household(), AS_OF)
    assert decision["warnings"] == [MINOR_WARNING]
    Decision.model_validate(decision)  # the output contract knows the field
    line = json.loads(decision_writer(fujian.checked).encode(dict(decision)))
    assert line["warnings"] == [MINOR_WARNING]


def test_the_traced_twin_gives_the_same_warnings_and_traces_the_rule(fujian: Policy) -> None:
    explained = fujian.evaluate(_child_household(), AS_OF, explain=True)
    assert explained["warnings"] == [MINOR_WARNING]
    entries = {e["name"]: e for e in explained["trace"] if e["kind"] == "warning"}
    assert set(entries) == set(fujian.checked.document.warnings)
    minor = entries["minor_with_labour"]
    assert minor["value"] is True and minor["fields"] == ["members[1].labour_capacity"]
    assert minor["cite"] == "§18" and minor["title"].startswith("未满16周岁")
    assert any("m.labour_capacity" in c["expr"] for c in minor["conditions"])
    assert entries["welfare_trap"]["value"] is False and entries["welfare_trap"]["fields"] == []


def test_warnings_are_in_the_arrow_output(fujian: Policy) -> None:
    from fangpin_rules.columnar import decide_batch, records_to_arrow

    table = records_to_arrow(fujian, [_child_household(), household(household_id="T-2")])
    result = decide_batch(fujian, table, AS_OF)
    assert result.decisions.column("warnings").to_pylist() == [[MINOR_WARNING], []]


def test_a_province_rule_is_data_a_county_adds_its_own(tmp_path: Path) -> None:
    county = tmp_path / "county.yaml"
    county.write_text(f"""\
extends: {FUJIAN}
policy: {{id: test-county, title: 测试县, effective: 2021-07-01}}
warnings:
  county.large_household:
    code: large_household
    title: {{zh: 家庭人口超过8人，请核实分户情况, en: More than 8 members - check the split}}
    cite: §18
    basis: interpretation
    when: count(members) > 8
    field: members
""", encoding="utf-8")
    policy = load_policy(county, search_path=[FUJIAN.parent])  # the province's folder: a root
    big = household(members=[{"member_id": str(i), "birth_date": "1980-05-01",
                              "labour_capacity": "normal"} for i in range(9)],
                    net_income=900000)
    assert policy.evaluate(big, AS_OF)["warnings"] == [
        {"code": "large_household", "field": "members", "cite": "§18"}]
    # the province's checks still hold in the county
    assert policy.evaluate(_child_household(), AS_OF)["warnings"] == [MINOR_WARNING]


def test_no_measure_for_a_monitored_household_with_risks_and_nothing_to_give() -> None:
    """闽侯县 (line 8600, dibao standard 8400 in 2021): per capita 8500 without labour is in
    range, above the dibao standard, and no measure meets low income without labour (§10)."""
    lost = [{"member_id": "1", "birth_date": "1950-01-01", "labour_capacity": "lost"},
            {"member_id": "2", "birth_date": "1952-01-01", "labour_capacity": "lost"}]
    minhou = load_policy(ROOT / "policies" / "counties" / "minhou_350121.yaml")
    decision = minhou.evaluate(
        household(region_code="350121", members=lost, net_income=17000, tekun=False), AS_OF)
    assert decision["category"] == "marginal" and decision["measures"] == []
    assert {"code": "no_measure", "field": "measures", "cite": "§10"} in decision["warnings"]


def test_the_order_is_by_rule_id_whatever_the_file_order(fujian: Policy, tmp_path: Path) -> None:
    text = FUJIAN.read_text(encoding="utf-8")
    start, end = text.index("\nwarnings:\n"), text.index("\n# Duties owed")
    section = text[start:end]
    head, *rules = re.split(r"\n(?=  \S)", section)
    reordered = head + "".join("\n" + r for r in reversed(rules))
    copy = tmp_path / "fujian_2021.yaml"
    copy.write_text(text[:start] + reordered + text[end:], encoding="utf-8")
    record = household(members=[
        {"member_id": "1", "birth_date": "2030-01-01", "labour_capacity": "none"},
        CHILD_WITH_LABOUR], monitoring={"status": "none", "since": "2030-01-01"})
    expected = fujian.evaluate(record, AS_OF)["warnings"]
    assert [w["code"] for w in expected] == ["future_date", "future_date", "minor_with_labour"]
    assert load_policy(copy).evaluate(record, AS_OF)["warnings"] == expected


def test_diff_reports_added_and_changed_warning_rules(fujian: Policy, tmp_path: Path) -> None:
    text = FUJIAN.read_text(encoding="utf-8").replace(
        "and age(m.birth_date) < 16\n", "and age(m.birth_date) < 18\n", 1)
    text = text.replace("\n# Duties owed", """
  household_without_members_income:
    title: 没有收入记录
    cite: §18
    when: net_income == 0
    field: net_income

# Duties owed""", 1)
    changed = tmp_path / "fujian_2021.yaml"
    changed.write_text(text, encoding="utf-8")
    diff = diff_policies(fujian, load_policy(changed))
    keys = {(c.section, c.kind, c.name, c.field) for c in diff.changes}
    assert keys == {("warning", "changed", "minor_with_labour", "when"),
                    ("warning", "added", "household_without_members_income", None)}


def test_the_generated_code_takes_warning_text_only_as_literals(fujian: Policy) -> None:
    source = fujian.compiled.source
    for rule in fujian.checked.warnings:
        assert rule.title_zh not in source  # titles stay in the policy, not in the code
    lines = [line for line in source.splitlines()
             if "W.append(" in line or "rt_indexed_warning(" in line]
    assert len(lines) == len(fujian.checked.warnings)
    for rule in fujian.checked.warnings:  # its code, field and article as repr() literals
        assert any(repr(rule.code) in line and repr(rule.cite) in line for line in lines)
    walks = [line for line in source.splitlines() if "in rt_indexed(r.members)" in line]
    assert len(walks) == 1  # the three member rules share one walk over the members


def test_the_explanation_names_each_warning_in_zh_and_en(fujian: Policy) -> None:
    from fangpin_rules.explain import explain, render_text

    zh = render_text(explain(fujian, _child_household(), AS_OF))
    assert "数据核查提示" in zh
    assert "未满16周岁的成员登记有劳动能力（不计为劳动力） [§18]: " \
        "字段 第2位成员的劳动能力" in zh
    en = render_text(explain(fujian, _child_household(), AS_OF, lang="en"))
    assert "A member under 16 recorded with labour capacity (not counted as labour) [§18]: " \
        "field member 2's labour capacity" in en
    assert "数据核查提示" not in render_text(explain(fujian, household(), AS_OF))
