"""The departments' monthly lists (§6): remits read from the policy's routing rules (another
routing, another remit), the month's identifications and eliminations, the changes against
last month, and every household listed where its decision routes it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fangpin_rules import load_policy
from fangpin_rules.population.deciding import month
from fangpin_rules.population.departments import department_lists, previous_of, remits
from fangpin_rules.population.tables import render_listing

from population_support import OCTOBER, decided, records
from support import FUJIAN

NOV = month("2021-11")
OCT = month("2021-10")


def test_remits_come_from_the_routing_rules(fujian: Any, tmp_path: Path) -> None:
    remit = remits(fujian)
    assert remit["housing"].risks == {"housing"} and remit["housing"].name_zh == "住建部门"
    assert remit["civil_affairs"].measures == {"dibao", "tekun", "temporary_assistance"}
    assert remit["medical_insurance"].fields == ["basic_medical_secure"]
    text = FUJIAN.read_text(encoding="utf-8")
    rerouted = text.replace("""        when: '"housing" in risks'
        add: housing""", """        when: '"housing" in risks or "disaster" in risks'
        add: housing""")
    assert rerouted != text
    path = tmp_path / "fujian_rerouted.yaml"
    path.write_text(rerouted, encoding="utf-8")
    assert remits(load_policy(path))["housing"].risks == {"housing", "disaster"}


def test_the_months_identifications_and_eliminations_by_department(fujian: Any) -> None:
    lists = department_lists(fujian, decided(fujian, NOV), NOV)
    assert set(lists) == set(remits(fujian))
    raw = {r["household_id"]: r for r in records()}
    decisions = {d["household_id"]: d for d in fujian.evaluate_many(list(raw.values()),
                                                                     "2021-11-30")}
    for name, listing in lists.items():
        expected = {hid for hid, r in raw.items()
                    if (r["monitoring"]["since"] or "").startswith("2021-11")
                    and r["monitoring"]["status"] in ("monitored", "risk_eliminated")
                    and name in decisions[hid]["departments"]}
        assert {rec["household_id"] for rec in listing.records} == expected, name
        for record in listing.records:
            assert set(record["risks"] or []) <= remits(fujian)[name].risks  # type: ignore[arg-type]
            assert record["change"] == ("newly_identified" if raw[str(record["household_id"])][
                "monitoring"]["status"] == "monitored" else "eliminated")
    emergency = lists["emergency_management"]
    assert emergency.records and all(r["risks"] == ["disaster"] for r in emergency.records)
    assert emergency.title.startswith("应急管理部门")


def test_a_change_in_a_remit_against_last_month_is_listed(fujian: Any) -> None:
    previous = previous_of(decided(fujian, OCT, OCTOBER, cases=False))
    lists = department_lists(fujian, decided(fujian, NOV), NOV, previous=previous)
    changed = {r["household_id"] for r in lists["housing"].records if r["change"] == "changed"}
    # the illness households, monitored since March, lost their safe housing in November
    assert changed == {r["household_id"] for r in records()
                       if r["household_id"].endswith("-illness")}
    assert not any(r["change"] == "changed" for r in lists["education"].records)


def test_the_list_forms(fujian: Any) -> None:
    listing = department_lists(fujian, decided(fujian, NOV), NOV)["emergency_management"]
    csv_text = render_listing(listing, "csv")
    assert csv_text.splitlines()[0].startswith("household_id,region_code,township,village")
    assert len(csv_text.splitlines()) == 1 + len(listing.records)
    markdown = render_listing(listing, "markdown")
    assert markdown.startswith("# 应急管理部门")
    assert f"| {listing.records[0]['household_id']} |" in markdown
