"""`extends:` merge rules, the search for a base by id, and what check and show report."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from fangpin_rules import load_policy
from fangpin_rules.cli.main import main
from fangpin_rules.diagnostics import PolicyError

from support import FUJIAN, household

HEADER = """extends: {base}
policy:
  id: {id}
  title: 测试县
  effective: 2021-07-01
"""


def county_file(tmp_path: Path, body: str, *, name: str = "county.yaml",
                base: str | None = None, policy_id: str = "test-county") -> Path:
    path = tmp_path / name
    path.write_text(HEADER.format(base=base or str(FUJIAN), id=policy_id) + body,
                    encoding="utf-8")
    return path


def test_earlier_base_values_stay_and_later_ones_are_replaced(tmp_path: Path) -> None:
    path = county_file(tmp_path, """parameters:
  monitoring_line:
    values:
      - {from: 2022-01-01, value: 9000}
""")
    policy = load_policy(path)
    values = policy.checked.parameters["monitoring_line"].values
    assert [(v.start.isoformat(), v.value) for v in values] == [("2021-01-01", 7152),
                                                                 ("2022-01-01", 9000)]
    assert values[0].location.file == str(FUJIAN) and values[1].location.file == str(path)


def test_a_plain_value_counts_from_the_county_effective_date(tmp_path: Path) -> None:
    policy = load_policy(county_file(tmp_path, """parameters:
  stability_margin:
    value: 0.2
"""))
    assert str(policy.parameters_on("2021-07-01")["stability_margin"]) == "0.2"


def test_rules_are_added_where_placed(tmp_path: Path) -> None:
    policy = load_policy(county_file(tmp_path, """vocabularies:
  assistance_mode:
    watch: {zh: 观察, en: watch}
decisions:
  assistance_mode:
    rules:
      - id: mode.watch
        before: mode.single
        when: monitored and count(risks) == 0
        then: watch
        cite: §12
      - id: mode.last
        when: monitored
        then: single
        cite: §12
"""))
    ids = [r.id for r in policy.checked.nodes["assistance_mode"].rules]
    assert ids == ["mode.comprehensive", "mode.watch", "mode.single", "mode.last"]


def test_after_placement_and_both_refused(tmp_path: Path) -> None:
    body = """decisions:
  orientation:
    rules:
      - id: orientation.local
        after: orientation.development
        before: orientation.safety_net
        when: monitored
        then: safety_net
        cite: §12
"""
    with pytest.raises(PolicyError, match="not both"):
        load_policy(county_file(tmp_path, body))


def test_a_definition_is_replaced_only_where_overridable(tmp_path: Path) -> None:
    with pytest.raises(PolicyError) as caught:
        load_policy(county_file(tmp_path, """definitions:
  has_labour:
    expr: any(m.labour_capacity in ["normal", "skilled"] for m in members)
"""))
    assert caught.value.diagnostics[0].code == "not-overridable"
    assert "§12" in caught.value.diagnostics[0].message


def test_new_definitions_parameters_and_decisions_are_added(tmp_path: Path) -> None:
    policy = load_policy(county_file(tmp_path, """parameters:
  local_bonus_line:
    type: money
    title: 县级补充监测线
    cite: 县文件第3条
    basis: document
    value: 12000
decisions:
  below_local_bonus_line:
    cite: 县文件第3条
    expr: per_capita_income < local_bonus_line
"""))
    decision = policy.evaluate(household(net_income=11000), "2021-08-01")
    assert decision["below_local_bonus_line"] is True


def test_an_object_decision_takes_only_rules_of_its_fields(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="no field 'colour'"):
        load_policy(county_file(tmp_path, """decisions:
  cadre:
    fields:
      colour:
        rules: []
"""))
    with pytest.raises(PolicyError, match="only add or replace rules"):
        load_policy(county_file(tmp_path, """decisions:
  in_range:
    expr: true
"""))


def test_articles_may_be_added_not_redefined(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="'§2' in `articles:` is defined by the base"):
        load_policy(county_file(tmp_path, """articles:
  §2: {title: 另一个标题}
"""))


def test_a_county_without_its_own_metadata_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "county.yaml"
    path.write_text(f"extends: {FUJIAN}\n", encoding="utf-8")
    with pytest.raises(PolicyError, match="its own `policy:` section"):
        load_policy(path)


def test_base_found_by_id_on_the_search_path(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    province = tmp_path / "province"
    province.mkdir()
    shutil.copy(FUJIAN, province / "anything.yaml")
    counties = tmp_path / "elsewhere"
    counties.mkdir()
    path = county_file(counties, "", base="fujian-2021")
    monkeypatch.delenv("FANGPIN_POLICY_PATH")
    with pytest.raises(PolicyError, match="no policy with id 'fujian-2021' found"):
        load_policy(path)
    assert load_policy(path, search_path=[province]).checked.inheritance.chain[0].path == str(
        province / "anything.yaml")
    monkeypatch.setenv("FANGPIN_POLICY_PATH", str(province))
    assert load_policy(path).id == "test-county"
    monkeypatch.delenv("FANGPIN_POLICY_PATH")
    assert main(["check", str(path), "--policy-path", str(province)]) == 0


def test_a_missing_relative_base_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(PolicyError) as caught:
        load_policy(county_file(tmp_path, "", base="nowhere/province.yaml"))
    diagnostic = caught.value.diagnostics[0]
    assert diagnostic.code == "extends-missing" and diagnostic.location.line == 1


def test_a_file_extending_itself_is_a_cycle(tmp_path: Path) -> None:
    path = county_file(tmp_path, "", base="county.yaml")
    with pytest.raises(PolicyError, match=r"cycle: .*county\.yaml -> .*county\.yaml"):
        load_policy(path)


def test_the_chain_hash_changes_with_the_base(tmp_path: Path) -> None:
    base = tmp_path / "fujian.yaml"
    shutil.copy(FUJIAN, base)
    path = county_file(tmp_path, "", base="fujian.yaml")
    before = load_policy(path).sha256
    base.write_text(base.read_text(encoding="utf-8") + "\n# a comment\n", encoding="utf-8")
    assert load_policy(path).sha256 != before


def test_check_reports_replacements_and_additions(at_root: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "policies/counties/jinjiang_350582.yaml",
                 "policies/counties/dehua_350526.yaml"]) == 0
    out = capsys.readouterr().out
    assert ("replaces rule 'elimination.income_not_stable': "
            "policies/counties/jinjiang_350582.yaml:29:13 replaces "
            "policies/fujian_2021.yaml:") in out
    assert "extends: fujian-2021 (policies/fujian_2021.yaml) -> quanzhou-350500" in out
    assert "adds rule 'measure.dehua.poverty_prevention_insurance' to 'measures'" in out


def test_show_text_marks_origins_and_overrides(at_root: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", "policies/counties/jinjiang_350582.yaml"]) == 0
    out = capsys.readouterr().out
    assert ("from 2023-01-01: 10500  [policies/counties/jinjiang_350582.yaml:20]  overrides "
            "9120 [policies/counties/quanzhou_350500.yaml:20]") in out
    assert "bound min: 7152  [policies/fujian_2021.yaml:" in out
    assert "elimination.income_not_stable  [policies/counties/jinjiang_350582.yaml:29]  " \
           "REPLACES the base rule [policies/fujian_2021.yaml:" in out


def test_show_json(at_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", "policies/counties/dehua_350526.yaml", "--format", "json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert [link["id"] for link in shown["chain"]] == ["fujian-2021", "dehua-350526"]
    line = next(p for p in shown["parameters"] if p["name"] == "monitoring_line")
    assert line["values"][-1]["formula"] == "2 * dibao_standard"
    assert {b["kind"] for b in line["bounds"]} == {"min", "not_below"}
    measures = next(d for d in shown["decisions"] if d["name"] == "measures")
    added = [r for r in measures["rules"] if r["origin"] == "added"]
    assert [r["id"] for r in added] == ["measure.dehua.poverty_prevention_insurance"]


def test_show_of_a_broken_file_exits_2(at_root: Path) -> None:
    assert main(["show", "tests/counties/bad/line_below_floor.yaml"]) == 2
