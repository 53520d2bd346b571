"""The example of shared/spec/records.md decides as the contract shows."""

from __future__ import annotations

from typing import Any

from fangpin_rules import Policy
from fangpin_rules.model import Decision

from support import RECORDS_MD_HOUSEHOLD


def test_example_decision_matches_the_contract(fujian: Policy) -> None:
    d = fujian.evaluate(RECORDS_MD_HOUSEHOLD, as_of="2021-09-01")
    assert d["household_id"] == "350181-0001"
    assert d["policy"] == {"id": "fujian-2021", "sha256": fujian.sha256}
    assert d["as_of"] == "2021-09-01"
    assert d["per_capita_income"] == 18000
    assert d["per_capita_after_rigid"] == 6000
    assert d["monitoring_line"] == 7152
    assert d["in_range"] is False
    assert d["category"] == "unstable"
    assert d["category_label"] == "脱贫不稳定户"
    assert d["special_groups"] == ["serious_illness"]
    assert set(d["risks"]) == {"illness", "labour_shortage"}
    assert set(d["measures"]) == {"health", "temporary_assistance"}
    assert d["assistance_mode"] == "comprehensive"
    assert d["orientation"] == "safety_net"
    assert d["cadre"] == {"rank": "deputy_section_or_above", "pairing": True}
    assert d["dibao"] == {"recommend_enrolment": False, "grace_until": None}
    assert d["temporary_assistance"] is True
    assert d["risk_elimination"] == {"reason": "not_monitored", "eligible": False}
    assert set(d["departments"]) == {"health_commission", "medical_insurance", "civil_affairs"}
    assert d["deadlines"] == [] and d["overdue"] == [] and d["violations"] == []
    assert d["trace"] == []


def test_decision_validates_against_the_contract_model(fujian: Policy) -> None:
    decision: dict[str, Any] = fujian.evaluate(RECORDS_MD_HOUSEHOLD, as_of="2021-09-01")
    model = Decision.model_validate(decision)
    assert model.category == "unstable"
