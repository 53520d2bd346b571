"""A change to a data-consistency rule (`warnings:`, §18) moves the households whose warnings
it changes, in the impact and its attribution as a rule change does; on a constructed pair."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any

import pytest

from fangpin_rules import Policy, load_policy
from fangpin_rules.audit import diff_policies
from fangpin_rules.audit.attribution import Attribution, attribute
from fangpin_rules.audit.impact import ImpactReport
from fangpin_rules.audit.render import Labels, render_markdown, render_text
from fangpin_rules.audit.report_html import render_html

from support import FUJIAN, household

AS_OF = "2021-09-01"
NEW_RULE = """\
  no_income_recorded:
    title: {zh: 家庭年纯收入登记为零, en: Household net income recorded as zero}
    cite: §18
    when: net_income == 0
    field: net_income
"""
# (1) a member under 18, not 16, recorded with labour warns; (2) a new rule: no income
# recorded; (3) a title changed: it warns nobody differently.
EDITS = [
    ('when: m.labour_capacity in ["normal", "skilled", "weak"] and age(m.birth_date) < 16\n',
     'when: m.labour_capacity in ["normal", "skilled", "weak"] and age(m.birth_date) < 18\n'),
    ("  dropout_outside_school_age:\n", NEW_RULE + "  dropout_outside_school_age:\n"),
    ("title: {zh: 非义务教育年龄的成员登记为辍学,", "title: {zh: 非义务教育年龄成员登记为辍学,"),
]
TITLE, MINOR, NO_INCOME = 0, 1, 2  # the diff's order: changed, then added
ADULT, AGED_17, AGED_15 = "1980-05-01", "2004-03-01", "2006-03-01"

# id -> (the second member's birth date, net income, the edits that suffice, how,
#        the warning codes it gains)
HOUSEHOLDS: dict[str, tuple[str, str, tuple[int, ...], str, set[str]]] = {
    "aged-17": (AGED_17, "40000", (MINOR,), "alone", {"minor_with_labour"}),
    "no-income": (ADULT, "0", (NO_INCOME,), "alone", {"no_income_recorded"}),
    "aged-17-no-income": (AGED_17, "0", (MINOR, NO_INCOME), "combination",
                          {"minor_with_labour", "no_income_recorded"}),
    "aged-15": (AGED_15, "40000", (), "", set()),  # warned by both versions
    "adults": (ADULT, "40000", (), "", set()),
}


def _records() -> list[dict[str, Any]]:
    return [household(household_id=hid, net_income=Decimal(income),
                      members=[{"member_id": "1", "birth_date": ADULT,
                                "labour_capacity": "normal", "health": "healthy"},
                               {"member_id": "2", "birth_date": born,
                                "labour_capacity": "normal", "health": "healthy"}])
            for hid, (born, income, _, _, _) in HOUSEHOLDS.items()]


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Policy, Policy]:
    folder = tmp_path_factory.mktemp("warnings")
    text = FUJIAN.read_text(encoding="utf-8")
    for old, new in EDITS:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    (folder / "old.yaml").write_text(FUJIAN.read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "new.yaml").write_text(text, encoding="utf-8")
    return load_policy(folder / "old.yaml"), load_policy(folder / "new.yaml")


@pytest.fixture(scope="module")
def attributed(pair: tuple[Policy, Policy]) -> tuple[ImpactReport, Attribution]:
    old, new = pair
    return attribute(old, new, diff_policies(old, new), _records(), AS_OF)


def test_the_households_whose_warnings_change_are_moved(
        attributed: tuple[ImpactReport, Attribution]) -> None:
    report, attribution = attributed
    moved = {hid for hid, spec in HOUSEHOLDS.items() if spec[2]}
    assert report.changed == len(moved) == attribution.households
    assert report.by_output["warnings"] == len(moved)
    assert "warnings" not in report.uniform
    assert report.gained["warnings"] == Counter(
        code for spec in HOUSEHOLDS.values() for code in spec[4])
    assert report.lost["warnings"] == Counter()
    assert {row.household_id for row in attribution.rows} == moved


def test_each_warning_change_is_attributed(
        attributed: tuple[ImpactReport, Attribution]) -> None:
    _, attribution = attributed
    assert [e.label for e in attribution.edits] == [
        "warnings.dropout_outside_school_age", "warnings.minor_with_labour",
        "warnings.no_income_recorded"]
    rows = {row.household_id: row for row in attribution.rows}
    for hid, (_, _, sufficient, how, gained) in HOUSEHOLDS.items():
        if not sufficient:
            continue
        row = rows[hid]
        assert (row.sufficient, row.how, row.minimal) == (sufficient, how, True), hid
        assert row.articles == ("§18",)
        ((name, old, new),) = row.outputs  # only the warnings changed
        assert name == "warnings"
        assert {w["code"] for w in new} - {w["code"] for w in old} == gained
    assert rows["aged-17"].outputs[0][2] == [
        {"code": "minor_with_labour", "field": "members[1].labour_capacity", "cite": "§18"}]
    assert attribution.moved_alone == Counter({MINOR: 1, NO_INCOME: 1})
    assert attribution.attributed == Counter({MINOR: 2, NO_INCOME: 2})
    assert attribution.attributed[TITLE] == 0  # a title moves nobody


def test_the_outputs_show_the_warnings_by_the_policys_titles(
        pair: tuple[Policy, Policy], attributed: tuple[ImpactReport, Attribution]) -> None:
    old, new = pair
    report, attribution = attributed
    diff = diff_policies(old, new)
    labels = Labels(old, new)
    text = render_text(diff, report, labels, attribution=attribution)
    assert "warnings 数据核查预警: 3" in text
    assert "未满16周岁的成员登记有劳动能力（不计为劳动力） minor_with_labour: +2 -0" in text
    assert "家庭年纯收入登记为零 no_income_recorded: +2 -0" in text
    assert "aged-17: [2] 单独即可  warnings — → minor_with_labour (members[1].labour_capacity)" \
        in text
    markdown = render_markdown(diff, report, labels, attribution=attribution)
    assert "| 家庭年纯收入登记为零 (`no_income_recorded`) | 2 | 0 |" in markdown
    page = render_html(diff, old, new, report, attribution)
    assert ('<span class="zh">家庭年纯收入登记为零</span><span class="en">Household net income '
            "recorded as zero</span> (<code>net_income</code>)") in page  # the new rule's title
    assert '<span class="zh">数据核查预警</span><span class="en">Data-consistency warnings' \
        in page
    attribution_table = page.split('<table id="attribution">', 1)[1].split("</table>", 1)[0]
    assert ("<code>warnings.minor_with_labour</code><br><span class=\"zh\">未满16周岁的成员登记有"
            "劳动能力（不计为劳动力）</span><span class=\"en\">A member under 16 recorded with "
            "labour capacity (not counted as labour)</span>") in attribution_table  # its titles
