"""The lists pushed to the sector departments every month (§6 "每月向同级各行业主管部门推送
监测对象认定及风险消除信息"): for each department, the households newly identified or marked
eliminated in the month (and, given the previous month's households, those whose risks or
measures in its remit changed), with the risks and measures in its remit.

A department's remit is read from the policy's routing rules, not from a map in code: the
rules of the collect decision whose values are the `department` vocabulary (`departments:` in
the Fujian file). A rule adding a department remits to it every risk and measure its condition
names (`"illness" in risks`), and the household fields its condition reads
(`basic_medical_secure`) are the fields the department is given to act on. Its name is the
vocabulary's Chinese title.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from fangpin_rules.engine.regions import AnyPolicy, base_of
from fangpin_rules.language import ast
from fangpin_rules.language import types as t
from fangpin_rules.population.deciding import Decided, Period, as_date
from fangpin_rules.population.regions import at_level
from fangpin_rules.population.tables import Cell, Listing

DEPARTMENT_VOCABULARY = "department"
BASE_COLUMNS = ("household_id", "region_code", "township", "village", "change", "category",
                "monitoring_since", "risks", "measures")


@dataclass
class Remit:
    department: str
    name_zh: str
    name_en: str | None
    risks: set[str] = field(default_factory=set)
    measures: set[str] = field(default_factory=set)
    fields: list[str] = field(default_factory=list)  # record fields its rules read
    decision: str = "departments"  # the decision key that names the department


def _walk(tree: ast.Expr) -> Iterator[ast.Expr]:
    yield tree
    for name in getattr(tree, "__slots__", ()):
        value = getattr(tree, name, None)
        if isinstance(value, ast.Expr):
            yield from _walk(value)
        elif isinstance(value, tuple):
            for item in value:
                if isinstance(item, ast.Expr):
                    yield from _walk(item)


def remits(policy: AnyPolicy) -> dict[str, Remit]:
    """Each department's remit, from the routing rules of `policy`, in vocabulary order."""
    checked = base_of(policy).checked
    vocabulary = checked.vocabularies.get(DEPARTMENT_VOCABULARY)
    if vocabulary is None:
        return {}
    out = {name: Remit(name, zh, en) for name, (zh, en) in vocabulary.labels.items()}
    record_fields = set(checked.record_model.model_fields)
    for node in checked.nodes.values():
        if node.kind != "collect" or not isinstance(node.type, t.LabelSet) or \
                node.type.vocabulary.name != DEPARTMENT_VOCABULARY:
            continue
        key = checked.output_name(node.name) if node.output else node.name
        for rule in node.rules:
            for label in rule.labels:
                remit = out[label]
                remit.decision = key
                for part in _walk(rule.when.tree):
                    if isinstance(part, ast.Contains) and isinstance(part.item, ast.String) \
                            and isinstance(part.container, ast.Name):
                        if part.container.id == "risks":
                            remit.risks.add(part.item.value)
                        elif part.container.id == "measures":
                            remit.measures.add(part.item.value)
                    elif isinstance(part, ast.Name) and part.id in record_fields and \
                            part.id not in remit.fields:
                        remit.fields.append(part.id)
    return out


def _change(decided: Decided, period: Period) -> str | None:
    monitoring = decided.household.monitoring
    if not period.holds(as_date(monitoring.since)):
        return None
    return {"monitored": "newly_identified", "risk_eliminated": "eliminated"}.get(
        monitoring.status)


@dataclass(frozen=True)
class Previous:
    """What last month's decision said of a household: its risks, measures, departments."""

    risks: frozenset[str]
    measures: frozenset[str]
    departments: frozenset[str]


def previous_of(households: Iterable[Decided], key: str = "departments"
                ) -> dict[str, Previous]:
    """Last month's risks, measures and departments by household id (held in memory, a few
    small sets a household, to compare this month's with)."""
    return {d.household.household_id: Previous(
        frozenset(d.decision.get("risks") or ()), frozenset(d.decision.get("measures") or ()),
        frozenset(d.decision.get(key) or ())) for d in households}


def department_lists(policy: AnyPolicy, households: Iterable[Decided], period: Period, *,
                     previous: Mapping[str, Previous] | None = None) -> dict[str, Listing]:
    """One list per department of the policy (an empty list too: the push is owed every month),
    keyed by the department's id."""
    remit_of = remits(policy)
    records: dict[str, list[dict[str, Cell]]] = {name: [] for name in remit_of}
    for decided in households:
        change = _change(decided, period)
        decision = decided.decision
        for name, remit in remit_of.items():
            risks = frozenset(decision.get("risks") or ()) & remit.risks
            measures = frozenset(decision.get("measures") or ()) & remit.measures
            concerned = name in (decision.get(remit.decision) or ())
            before = previous.get(decided.household.household_id) if previous else None
            row_change = change if concerned or (
                change == "eliminated" and before and name in before.departments) else None
            if row_change is None and before is not None and (
                    risks != before.risks & remit.risks or
                    measures != before.measures & remit.measures) and (
                    concerned or name in before.departments):
                row_change = "changed"
            if row_change is None:
                continue
            records[name].append(_record(decided, row_change, risks, measures, remit))
    base = base_of(policy)
    out: dict[str, Listing] = {}
    for name, remit in remit_of.items():
        columns = [*BASE_COLUMNS, *remit.fields]
        out[name] = Listing(
            title=f"{remit.name_zh} 监测对象认定及风险消除信息 {period.label}"
                  + (f" ({remit.name_en})" if remit.name_en else ""),
            columns=columns, records=records[name],
            meta={"report": "departments", "department": name, "department_zh": remit.name_zh,
                  "period": period.label, "policy": base.id, "policy_sha256": base.sha256,
                  "households": len(records[name])})
    return out


def _record(decided: Decided, change: str, risks: frozenset[str], measures: frozenset[str],
            remit: Remit) -> dict[str, Cell]:
    household, decision = decided.household, decided.decision
    code = decided.region_code
    since = as_date(household.monitoring.since)
    record: dict[str, Cell] = {
        "household_id": household.household_id, "region_code": code,
        "township": at_level(code, "township") if code else None,
        "village": at_level(code, "village") if code else None,
        "change": change, "category": decision.get("category") or household.monitoring.category,
        "monitoring_since": since.isoformat() if since else None,
        "risks": sorted(risks), "measures": sorted(measures)}
    for name in remit.fields:
        record[name] = _plain(getattr(household, name, None))
    return record


def _plain(value: Any) -> Cell:
    if value is None or isinstance(value, str | int):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
