"""The province's policy file says, for an officer, what each definition, rule and decision
value is (a zh and an en title, no expression text), and marks what is interpretation and what
is law ([E2] items 1, 5 and 7 of shared/spec/fujian_2021_reference.md)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from fangpin_rules import Policy
from fangpin_rules.policy.document import (
    CollectDecision,
    FirstMatchDecision,
    ObjectDecision,
    Text,
)

EXPRESSION = re.compile(r"==|!=|\?\?|>=|<=|\bcount\(|\bany\(|\b[a-z]+_[a-z_]+\b")


def _titled(fujian: Policy) -> Iterator[tuple[str, Any, str]]:
    """(where, the title, the basis) of every definition, decision, object field and rule."""
    doc = fujian.checked.document
    for name, definition in doc.definitions.items():
        yield f"definition {name}", definition.title, definition.basis

    def decision(where: str, spec: Any) -> Iterator[tuple[str, Any, str]]:
        yield where, spec.title, spec.basis
        if isinstance(spec, FirstMatchDecision | CollectDecision):
            for rule in spec.rules:
                yield f"rule {rule.id}", rule.title, rule.basis
        if isinstance(spec, ObjectDecision):
            for field, inner in spec.fields.items():
                yield from decision(f"{where}.{field}", inner)

    for name, spec in doc.decisions.items():
        yield from decision(f"decision {name}", spec)


def test_every_definition_rule_and_value_has_a_zh_and_an_en_title(fujian: Policy) -> None:
    missing = [where for where, title, _ in _titled(fujian)
               if not (isinstance(title, Text) and title.zh.strip() and (title.en or "").strip())]
    assert missing == []


def test_titles_are_words_not_expressions(fujian: Policy) -> None:
    raw = [(where, title.en) for where, title, _ in _titled(fujian)
           if isinstance(title, Text) and (EXPRESSION.search(title.zh)
                                           or EXPRESSION.search(title.en or ""))]
    assert raw == []


def _basis(fujian: Policy) -> dict[str, str]:
    found = {where.split(" ", 1)[1]: basis for where, _, basis in _titled(fujian)}
    found.update({name: p.basis for name, p in fujian.checked.parameters.items()})
    return found


@pytest.mark.parametrize(("name", "basis"), [
    # the income tests of unstable and marginal, and "strictly below the line"
    ("category.unstable", "interpretation"), ("category.marginal", "interpretation"),
    ("category.sudden_hardship", "interpretation"), ("in_range", "interpretation"),
    # "any spending above 0" for illness and schooling (and the other rigid risks)
    ("risk.illness", "interpretation"), ("risk.schooling", "interpretation"),
    ("medical_spending", "interpretation"),
    ("temporary_assistance", "interpretation"),
    ("elimination.sharp_drop", "interpretation"),
    ("elimination.income_not_stable", "interpretation"),
    ("elimination.spending_not_controlled", "interpretation"),
    ("sharp_drop_ratio", "interpretation"), ("stability_margin", "interpretation"),
    # the routings beyond §6's own list
    ("department.civil_affairs_basic_needs", "interpretation"),
    ("department.rural_revitalization", "interpretation"),
    ("department.agriculture", "interpretation"),
    # the Labour Law decides who is labour
    ("has_labour", "law"), ("labour_min_age", "law"),
    # §6's own list, §9's "stays monitored" and the 2021 figures are the document's
    ("department.statistics", "document"), ("department.human_resources", "document"),
    ("department.health_commission", "document"), ("department.medical_insurance", "document"),
    ("department.civil_affairs", "document"), ("category.recorded_marginal", "document"),
    ("monitoring_line", "document"), ("dibao_standard", "document"),
])
def test_the_basis_is_marked(fujian: Policy, name: str, basis: str) -> None:
    assert _basis(fujian)[name] == basis
