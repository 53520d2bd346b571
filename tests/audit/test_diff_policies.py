"""`diff_policies`: exactly the real changes, each with before, after, citation and places."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from fangpin_rules import Policy, load_policy
from fangpin_rules.audit import Change, diff_policies

from support import FUJIAN

EXPR_KEYS = {"expr", "when", "due", "done"}


def _keys(changes: tuple[Change, ...]) -> set[tuple[str, str, str, str | None]]:
    return {(c.section, c.kind, c.name, c.field) for c in changes}


def test_the_revision_reports_exactly_its_real_changes(fujian: Policy, revised: Policy) -> None:
    diff = diff_policies(fujian, revised)
    # (3), the reworded category.sudden_hardship and the reordered label list of
    # cadre.deputy_section, is no change.
    assert _keys(diff.changes) == {
        ("metadata", "changed", "policy", "version"),
        ("parameter", "added", "monitoring_line", "values[2022-01-01]"),  # (1)
        ("parameter", "changed", "sharp_drop_ratio", "value"),  # (2)
        ("rule", "changed", "measure.employment", "when"),  # (4)
    }
    by_name = {c.name: c for c in diff.changes}
    line = by_name["monitoring_line"]
    assert (line.old, line.new, line.cite) == ("7152", "7500", "§2")  # what was in force before
    ratio = by_name["sharp_drop_ratio"]
    assert (ratio.old, ratio.new, ratio.cite) == ("0.5", "0.4", "§1")
    rule = by_name["measure.employment"]
    assert rule.old == "monitored and low_income_or_drop and can_work_fully"
    assert rule.new == "monitored and low_income_or_drop and has_labour"
    assert rule.cite == "§12"
    assert "measures" in rule.affects and "category" not in rule.affects
    assert "in_range" in line.affects and "in_range" not in ratio.affects


def test_every_change_is_placed_in_both_files(fujian: Policy, revised: Policy) -> None:
    for change in diff_policies(fujian, revised).changes:
        assert change.old_location is not None and change.new_location is not None
        assert change.old_location.file.endswith("fujian_2021.yaml")
        assert change.new_location.file.endswith("fujian_2021_revised.yaml")
        assert change.old_location.line > 0 and change.new_location.line > 0
    rule = next(c for c in diff_policies(fujian, revised).changes
                if c.name == "measure.employment")
    assert rule.old_location is not None and rule.new_location is not None
    old_lines = FUJIAN.read_text(encoding="utf-8").splitlines()
    assert "id: measure.employment" in old_lines[rule.old_location.line - 1]


def test_a_policy_against_itself_is_no_change(fujian: Policy) -> None:
    diff = diff_policies(fujian, fujian.checked)
    assert not diff and len(diff) == 0 and diff.counts() == {}


# -- formatting is no change -------------------------------------------------------------------
def _plain(value: Any) -> Any:
    """The loaded YAML with exact numbers as floats/ints YAML writes back the same way."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, Decimal):
        return float(value)
    return value


def _respace(text: str) -> str:
    """The same expression with other spacing and redundant brackets."""
    spaced = re.sub(r"\s+", "   ", text.strip())
    spaced = spaced.replace("(", "( ").replace(")", " )").replace(" < ", "<")
    return f"( {spaced} )"


def _reformat(tree: Any, keep_order: bool = False) -> Any:
    """Keys in reverse order (but the procedure's steps, which read the steps before them),
    expressions respaced."""
    if isinstance(tree, dict):
        items = list(tree.items()) if keep_order else list(reversed(tree.items()))
        return {k: (_respace(v) if k in EXPR_KEYS and isinstance(v, str)
                    else _reformat(v, keep_order=k == "procedure")) for k, v in items}
    if isinstance(tree, list):
        return [_reformat(v) for v in tree]
    return tree


def test_reformatting_the_file_is_no_change(fujian: Policy, tmp_path: Path) -> None:
    tree = yaml.safe_load(FUJIAN.read_text(encoding="utf-8"))
    text = yaml.safe_dump(_reformat(tree), allow_unicode=True, sort_keys=False, indent=4,
                          width=1_000_000)
    # comments between the lines, at their lines' indentation (not inside a quoted text that
    # runs over several lines, where a '#' line would be part of the text)
    lines = []
    quote = ""
    for number, line in enumerate(text.splitlines()):
        if number % 7 == 0 and not quote:
            lines.append(" " * (len(line) - len(line.lstrip())) + "# a comment " + str(number))
        lines.append(line)
        end = line.rstrip()
        if quote:
            quote = "" if end.endswith(quote) else quote
        else:
            opened = re.match(r"^\s*(?:- )?[^'\"]*?: (['\"])", line)
            if opened and not (len(end) > opened.end() and end.endswith(opened.group(1))):
                quote = opened.group(1)
    path = tmp_path / "reformatted.yaml"
    path.write_text("# reformatted\n" + "\n".join(lines) + "\n", encoding="utf-8")
    assert path.read_text(encoding="utf-8") != FUJIAN.read_text(encoding="utf-8")
    reformatted = load_policy(path)
    assert list(reformatted.checked.document.decisions) != list(fujian.checked.document.decisions)
    assert diff_policies(fujian, reformatted).changes == ()


# -- one edit, one change ----------------------------------------------------------------------
def test_changing_one_parameter_number_is_one_change(fujian: Policy, variant: Any) -> None:
    changed = variant(("    value: 0.1\n", "    value: 0.15\n"))
    (change,) = diff_policies(fujian, changed).changes
    assert (change.section, change.name, change.field) == ("parameter", "stability_margin",
                                                           "value")
    assert (change.old, change.new, change.cite) == ("0.1", "0.15", "§9")


def test_changing_one_number_in_a_condition_is_one_change(fujian: Policy, variant: Any) -> None:
    changed = variant(("count(risks) >= 2", "count(risks) >= 3"))
    (change,) = diff_policies(fujian, changed).changes
    assert (change.section, change.kind, change.name, change.field) == (
        "rule", "changed", "mode.comprehensive", "when")
    assert change.old == "monitored and count(risks) >= 2"
    assert change.new == "monitored and count(risks) >= 3"


def test_a_negated_comparison_of_a_value_that_may_be_unknown_is_a_change(
        fujian: Policy, variant: Any) -> None:
    # age(...) is unknown for an unknown birth date: `not (age < x)` holds then, `age >= x`
    # does not, so the rewording changes who is counted.
    same = variant(("age(m.birth_date) >= dependent_elderly_min_age",
                    "not (age(m.birth_date) < dependent_elderly_min_age)"))
    assert _keys(diff_policies(fujian, same).changes) == {
        ("rule", "changed", "group.dependent_elderly", "when")}
    # per_capita_income and monitoring_line are always known: there it is the same condition.
    known = variant(("expr: per_capita_income < monitoring_line",
                     "expr: not (per_capita_income >= monitoring_line)"))
    assert diff_policies(fujian, known).changes == ()


# -- rules: order, labels, added and removed ---------------------------------------------------
def test_rule_order_counts_in_first_match_only(fujian: Policy, variant: Any) -> None:
    text = FUJIAN.read_text(encoding="utf-8")
    first = re.search(r"      - id: orientation\.development\n(?:        .*\n)+", text)
    collect = re.search(r"      - id: group\.orphan\n(?:        .*\n)+", text)
    assert first and collect
    reordered = variant(
        (first.group(0) + "      - id: orientation.safety_net\n",
         "      - id: orientation.safety_net\n"),
        ("        then: safety_net\n        cite: §12\n    otherwise: null",
         "        then: safety_net\n        cite: §12\n" + first.group(0)
         + "    otherwise: null"),
        (collect.group(0), ""),
        ("      - id: group.left_behind_child\n",
         collect.group(0) + "      - id: group.left_behind_child\n"))
    (change,) = diff_policies(fujian, reordered).changes
    assert (change.section, change.kind, change.name, change.field) == (
        "decision", "reordered", "orientation", "rules")
    assert change.old == "orientation.development, orientation.safety_net"
    assert change.new == "orientation.safety_net, orientation.development"


def test_rules_and_definitions_added_removed_and_relabelled(fujian: Policy,
                                                          variant: Any) -> None:
    changed = variant(
        ("      - id: risk.motivation\n        title: {zh: 内生动力不足, en: Lack of motivation}\n"
         "        when: motivation_lacking == true\n"
         "        add: motivation\n        cite: §12\n", ""),
        ('    expr: any(m.health in ["serious_illness", "chronic_heavy"] for m in members)',
         '    expr: any(m.health in ["chronic_heavy", "serious_illness"] for m in members)'),
        ("            then: experienced\n", "            then: deputy_section_or_above\n"),
        ("  low_income_or_drop:\n",
         "  has_dropout:\n    cite: §1\n    expr: school_age_dropout\n  low_income_or_drop:\n"))
    diff = diff_policies(fujian, changed)
    assert _keys(diff.changes) == {
        ("rule", "removed", "risk.motivation", None),
        ("rule", "changed", "cadre.experienced", "then"),
        ("definition", "added", "has_dropout", None),
    }
    by_name = {c.name: c for c in diff.changes}
    removed = by_name["risk.motivation"]
    assert removed.old == "when motivation_lacking == true → motivation" and removed.new is None
    assert removed.new_location is None and removed.old_location is not None
    assert (by_name["cadre.experienced"].old, by_name["cadre.experienced"].new) == (
        "experienced", "deputy_section_or_above")
    assert by_name["has_dropout"].new == "school_age_dropout"


# -- everything else a policy holds ------------------------------------------------------------
def test_articles_labels_steps_duties_and_dated_values(fujian: Policy, variant: Any) -> None:
    changed = variant(
        ("挂钩干部每季度至少入户帮扶一次。\n    text_en",
         "挂钩干部每两个月至少入户帮扶一次。\n    text_en"),
        ("    marginal: {zh: 边缘易致贫户,", "    marginal: {zh: 边缘易致贫困户,"),
        ("    due: steps.summary + 1 working_day\n", "    due: steps.summary + 2 working_days\n"),
        ("    frequency: half_yearly\n", "    frequency: quarterly\n"),
        ("  dibao_standard:\n    type: money\n", "  dibao_standard:\n    type: money\n"),
        # [E2] 7152 is the floor of the dibao standard, so the line is the one raised here
        ("until: 2021-12-31, value: 7152, source: 闽委振兴组〔2021〕5号}\n  dibao_standard:",
         "until: 2021-12-31, value: 7200, source: 闽委振兴组〔2021〕5号}\n  dibao_standard:"))
    diff = diff_policies(fujian, changed)
    assert _keys(diff.changes) == {
        ("article", "changed", "§11", "text"),
        ("vocabulary", "changed", "category.marginal", "zh"),
        ("step", "changed", "assignment", "due"),
        ("duty", "changed", "concentrated_screening", "frequency"),
        ("parameter", "changed", "monitoring_line", "values[2021-01-01].value"),
    }
    by_name = {c.name: c for c in diff.changes}
    assert by_name["category.marginal"].old == "边缘易致贫户"
    assert by_name["category.marginal"].new == "边缘易致贫困户"
    assert by_name["category.marginal"].affects == ("category",)
    assert by_name["category.marginal"].cite == "§1"
    assert by_name["assignment"].cite == "§7"
    assert (by_name["assignment"].old, by_name["assignment"].new) == (
        "steps.summary + 1 working_day", "steps.summary + 2 working_days")
    assert (by_name["monitoring_line"].old, by_name["monitoring_line"].new) == ("7152", "7200")
    assert "procedure.dibao_grace_end" in by_name["monitoring_line"].affects
    assert "procedure.preliminary_review" not in by_name["monitoring_line"].affects
    assert by_name["concentrated_screening"].cite == "§5"
    art = by_name["§11"]
    assert art.cite == "§11" and art.old_location is not None and art.old_location.line > 0


def test_sections_come_in_a_fixed_order_and_dates_are_iso(fujian: Policy, revised: Policy) -> None:
    diff = diff_policies(fujian, revised)
    assert [c.section for c in diff.changes] == ["metadata", "parameter", "parameter", "rule"]
    assert diff.counts() == {"metadata": {"changed": 1}, "parameter": {"added": 1, "changed": 1},
                             "rule": {"changed": 1}}
    assert dt.date.fromisoformat(diff.changes[1].field[7:17])  # type: ignore[index]


def test_the_revised_example_is_fujian_with_the_documented_edits() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("revise_fujian",
                                                  Path(__file__).with_name("revise_fujian.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.TARGET.read_text(encoding="utf-8") == module.revised_text(), \
        "run python tests/audit/revise_fujian.py to rebuild the example from fujian_2021.yaml"
