"""The policy test runner itself: a wrong expectation names case, field, expected and actual;
coverage names the rule no case reaches and why; bad test files point at file:line:col."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fangpin_rules.cli.main import main
from fangpin_rules.diagnostics import PolicyError
from fangpin_rules.testing import coverage, read_test_file, run_tests

FIXTURES = Path(__file__).parent / "fixtures"
HOUSEHOLD = """\
base:
  formerly_poor: false
  members: [{member_id: "1"}]
"""


def _write(tmp_path: Path, body: str, name: str = "t.yaml") -> Path:
    path = tmp_path / name
    text = f"policy: {FIXTURES / 'bands.yaml'}\nas_of: 2021-09-01\n{HOUSEHOLD}{body}"
    path.write_text(text, encoding="utf-8")
    return path


def test_wrong_expectation_names_case_field_expected_and_actual(tmp_path: Path) -> None:
    path = _write(tmp_path, """\
cases:
  - id: poor
    household: {net_income: 10}
    expect: {band: high}
""")
    run = run_tests([path])
    (result,) = run.results
    assert result.status == "fail" and not run.ok
    text = result.render()
    assert "FAIL  t.yaml::poor" in text
    assert "band: expected high, got low" in text
    assert f"{path}:9:20" in text  # the wrong expectation's own line and column


def test_sets_compare_as_sets_and_money_within_tolerance(tmp_path: Path) -> None:
    fujian = Path(__file__).parents[2] / "policies" / "fujian_2021.yaml"
    path = tmp_path / "f.yaml"
    path.write_text(f"""\
policy: {fujian}
as_of: 2021-09-01
base: {{formerly_poor: false, net_income: 30000, members: [{{member_id: "1"}}, {{member_id: "2"}},
       {{member_id: "3"}}], rigid_expenditure: {{medical: 10000}}}}
cases:
  - id: within
    tolerance: 0.01
    expect: {{per_capita_after_rigid: 6666.67, risks: [labour_shortage, illness]}}
  - id: exact_by_default
    expect: {{per_capita_after_rigid: 6666.67}}
  - id: set_differs
    expect: {{risks: [illness]}}
""", encoding="utf-8")
    results = {r.case_id: r for r in run_tests([path]).results}
    assert results["within"].status == "pass"
    assert results["exact_by_default"].status == "fail"
    assert "differs by 0.00333" in results["exact_by_default"].render()
    assert "unexpected labour_shortage" in results["set_differs"].render()


def test_partial_match_of_nested_objects_and_unknown_fields(tmp_path: Path) -> None:
    path = _write(tmp_path, """\
cases:
  - id: typo
    household: {net_income: 10}
    expect: {bnad: low}
""")
    (result,) = run_tests([path]).results
    assert result.status == "fail"
    assert "bnad: expected low, got null (no such field in the decision; did you mean 'band'?)" \
        in result.render()


def test_xfail_is_reported_as_such_and_xpass_fails(tmp_path: Path) -> None:
    path = _write(tmp_path, """\
cases:
  - id: known_gap
    household: {net_income: 10}
    expect: {band: high}
    xfail: the reading is disputed
  - id: fixed
    household: {net_income: 10}
    expect: {band: low}
    xfail: no longer true
""")
    run = run_tests([path])
    assert [r.status for r in run.results] == ["xfail", "xpass"]
    assert not run.ok


def test_coverage_reports_a_rule_no_case_reaches(tmp_path: Path) -> None:
    path = _write(tmp_path, """\
cases:
  - {id: a, household: {net_income: 10}, expect: {band: low}}
  - {id: b, household: {net_income: 20}, expect: {band: low}}
""")
    (report,) = coverage(run_tests([path]))
    rules = {r.id: r for r in report.rules}
    assert rules["band.very_low"].why() == (
        "never reached: an earlier branch always won: band.low (2 cases)")
    assert rules["band.low"].why().startswith("condition never false")
    assert report.percent == 0
    assert "MISS band.very_low" in report.render()


def test_coverage_is_the_same_for_a_reformatted_policy(tmp_path: Path) -> None:
    source = (FIXTURES / "bands.yaml").read_text(encoding="utf-8")
    spaced = source.replace("when: net_income < line", 'when: "(net_income)   <   line"')
    assert spaced != source
    (tmp_path / "bands.yaml").write_text(spaced, encoding="utf-8")
    body = "cases:\n  - {id: a, household: {net_income: 10}, expect: {band: low}}\n"
    original = _write(tmp_path, body, "one.yaml")
    moved = tmp_path / "two.yaml"
    moved.write_text(original.read_text(encoding="utf-8").replace(
        str(FIXTURES / "bands.yaml"), "bands.yaml"), encoding="utf-8")
    first, second = coverage(run_tests([original, moved]))

    def summary(report: object) -> list[object]:
        return [(r.id, r.covered, [(c.text, c.true, c.false) for c in r.conditions.values()])
                for r in report.rules]  # type: ignore[attr-defined]
    assert summary(first) == summary(second)


def test_bad_test_file_is_reported_at_file_line_column(tmp_path: Path) -> None:
    path = _write(tmp_path, """\
cases:
  - id: a
    expct: {band: low}
""")
    with pytest.raises(PolicyError) as info:
        read_test_file(path)
    rendered = info.value.render()
    assert f"{path}:8:5: error[unknown-key]: unknown key 'expct'" in rendered
    assert "did you mean 'expect'?" in rendered


def test_bad_household_is_an_error_naming_the_field(tmp_path: Path) -> None:
    path = _write(tmp_path, """\
cases:
  - id: a
    household: {net_income: lots}
    expect: {band: low}
""")
    (result,) = run_tests([path]).results
    assert result.status == "error"
    assert "field 'net_income'" in result.message
    assert (result.location.line, result.location.column) == (8, 29)


def test_cli_exit_codes_and_coverage_threshold(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    good = _write(tmp_path, """\
cases:
  - {id: a, household: {net_income: 10}, expect: {band: low}}
""")
    assert main(["test", str(good)]) == 0
    assert "PASS  t.yaml::a" in capsys.readouterr().out
    assert main(["test", str(good), "--threshold", "50"]) == 1
    out = capsys.readouterr().out
    assert "MISS band.very_low" in out and "under the threshold 50 %" in out
    assert main(["test", str(good), "--coverage", "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["counts"]["pass"] == 1
    assert report["coverage"][0]["rules"][1]["why"].startswith("never reached")
    assert main(["test", str(good), "--threshold", "lots"]) == 2


def test_cli_fails_on_a_wrong_expectation(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    bad = _write(tmp_path, """\
cases:
  - {id: a, household: {net_income: 10}, expect: {band: high}}
""")
    assert main(["test", str(bad)]) == 1
    assert "band: expected high, got low" in capsys.readouterr().out


def test_cli_reports_an_unreadable_test_file(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["test", str(tmp_path / "missing.yaml")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_case_record_and_lists_of_entries_match_partially(tmp_path: Path) -> None:
    fujian = Path(__file__).parents[2] / "policies" / "fujian_2021.yaml"
    path = tmp_path / "p.yaml"
    path.write_text(f"""\
policy: {fujian}
as_of: 2021-10-20
base: {{formerly_poor: false, net_income: 60000, members: [{{member_id: "1"}}]}}
cases:
  - id: right
    case: {{case_id: W, source: media, received_on: 2021-09-30, assigned_on: 2021-10-08}}
    expect: {{overdue: [{{step: preliminary_review, due: 2021-10-14}}]}}
  - id: wrong
    case: {{case_id: W, source: media, received_on: 2021-09-30, assigned_on: 2021-10-08}}
    expect: {{overdue: [{{step: verification}}]}}
  - id: bad_case
    case: {{case_id: W, source: pigeon, received_on: 2021-09-30}}
    expect: {{overdue: []}}
""", encoding="utf-8")
    results = {r.case_id: r for r in run_tests([path]).results}
    assert results["right"].status == "pass"
    assert results["wrong"].status == "fail"
    assert 'no entry matches {"step":"verification"}' in results["wrong"].render()
    assert "unexpected entry" in results["wrong"].render()
    bad = results["bad_case"]
    assert bad.status == "error" and "case record" in bad.message and "source" in bad.message
    assert (bad.location.line, bad.location.column) == (12, 32)


def test_a_folder_of_policies_and_tests_runs_the_tests_and_names_what_it_skipped(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "county"
    folder.mkdir()
    (folder / "policy.yaml").write_text((FIXTURES / "bands.yaml").read_text(encoding="utf-8"),
                                        encoding="utf-8")
    (folder / "regions.yaml").write_text("region_table: {id: r, policy: bands}\nregions: []\n",
                                         encoding="utf-8")
    _write(folder, """\
cases:
  - {id: a, household: {net_income: 10}, expect: {band: low}}
""")
    assert main(["test", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "PASS  t.yaml::a" in out and "1 pass, 0 fail (1 cases)" in out
    assert f"skipped {folder / 'policy.yaml'}: a policy, not a test file" in out
    assert f"skipped {folder / 'regions.yaml'}: a region table, not a test file" in out
    assert main(["test", str(folder), "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["skipped"] == [{"file": str(folder / "policy.yaml"), "kind": "policy"},
                                 {"file": str(folder / "regions.yaml"), "kind": "region table"}]
    # A file named on its own is a test file: a policy given by mistake is an error.
    assert main(["test", str(folder / "policy.yaml")]) == 2
    assert "required key 'cases' is missing" in capsys.readouterr().err


def test_a_folder_with_policies_only_tests_nothing_and_fails(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "policy.yaml").write_text(
        (FIXTURES / "bands.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    assert main(["test", str(tmp_path)]) == 2
    assert "1 file(s) skipped: policies or region tables" in capsys.readouterr().err
