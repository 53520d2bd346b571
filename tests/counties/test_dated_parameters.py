"""Dated values across files: end dates, gaps, carrying a value forward, --strict."""

from __future__ import annotations

from pathlib import Path

import pytest

from fangpin_rules import load_policy
from fangpin_rules.cli.main import main
from fangpin_rules.engine.policy import DateError

from support import FUJIAN, household

ENDING = f"""extends: {FUJIAN}
policy:
  id: ending-county
  title: 测试县
  effective: 2021-07-01
parameters:
  dibao_standard:
    values:
      - {{from: 2021-07-01, until: 2021-12-31, value: 8400}}
      - {{from: 2022-03-01, until: 2022-12-31, value: 8880}}
  monitoring_line:
    values:
      - {{from: 2021-07-01, value: 8600}}
      - {{from: 2022-03-01, value: 9000}}
"""


@pytest.fixture
def ending(tmp_path: Path) -> Path:
    path = tmp_path / "ending.yaml"
    path.write_text(ENDING, encoding="utf-8")
    return path


def test_check_warns_of_gaps_not_of_an_end(ending: Path) -> None:
    # A last value that ends is not a gap in the file: a run after it warns instead, naming
    # the date asked ([E2]: the province's 2021 figures end on 2021-12-31 by design).
    policy = load_policy(ending)
    messages = [d.message for d in policy.warnings if d.code == "parameter-gap"]
    assert messages == ["parameter 'dibao_standard' has no value from 2022-01-01 to 2022-02-28"]
    gap = next(d for d in policy.warnings if d.code == "parameter-gap")
    assert gap.location.file == str(ending) and gap.location.line == 9


def test_the_last_value_is_carried_forward_and_the_trace_says_so(ending: Path) -> None:
    policy = load_policy(ending)
    decision = policy.evaluate(household(), "2023-03-01", explain=True)
    entry = next(e for e in decision["trace"] if e.get("name") == "dibao_standard")
    assert entry["carried_forward"] is True
    assert entry["value"] == 8880 and entry["until"] == "2022-12-31"
    assert "carried forward" in entry["note"]
    inside = policy.evaluate(household(), "2022-06-01", explain=True)
    entry = next(e for e in inside["trace"] if e.get("name") == "dibao_standard")
    assert "carried_forward" not in entry


def test_strict_refuses_an_expired_value(ending: Path) -> None:
    strict = load_policy(ending, strict=True)
    strict.evaluate(household(), "2022-06-01")
    with pytest.raises(DateError, match="'dibao_standard' has no value in force on 2023-03-01"):
        strict.evaluate(household(), "2023-03-01")
    with pytest.raises(DateError, match="ended 2021-12-31"):
        strict.evaluate(household(), "2022-02-01")


def test_strict_on_the_command_line(ending: Path, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    records = tmp_path / "one.jsonl"
    records.write_text('{"household_id": "A", "formerly_poor": false, "members": [{"member_id":'
                       ' "1", "birth_date": "1980-05-01", "labour_capacity": "normal", '
                       '"health": "healthy"}], "net_income": 30000}\n', encoding="utf-8")
    assert main(["eval", str(ending), str(records), "--as-of", "2023-03-01"]) == 0
    assert main(["eval", str(ending), str(records), "--as-of", "2023-03-01", "--strict"]) == 2
    assert "no value in force on 2023-03-01" in capsys.readouterr().err


def test_values_before_the_first_date_are_an_error(tmp_path: Path) -> None:
    path = tmp_path / "late.yaml"
    path.write_text(f"""extends: {FUJIAN}
policy: {{id: late-county, title: 测试县, effective: 2021-07-01}}
parameters:
  local_line:
    type: money
    title: 县级线
    cite: §2
    basis: document
    values:
      - {{from: 2022-01-01, value: 9000}}
decisions:
  under_local_line:
    expr: per_capita_income < local_line
""", encoding="utf-8")
    policy = load_policy(path)
    assert any("no value from the policy's effective date 2021-07-01 until 2022-01-01" in
               d.message for d in policy.warnings)
    with pytest.raises(DateError, match="'local_line' has no value on 2021-08-01"):
        policy.evaluate(household(), "2021-08-01")


def test_a_formula_must_give_its_parameter_type(tmp_path: Path) -> None:
    path = tmp_path / "ratio.yaml"
    path.write_text(f"""extends: {FUJIAN}
policy: {{id: ratio-county, title: 测试县, effective: 2021-07-01}}
parameters:
  stability_margin:
    values:
      - {{from: 2021-07-01, formula: dibao_standard / 2}}
""", encoding="utf-8")
    from fangpin_rules.diagnostics import PolicyError
    with pytest.raises(PolicyError, match="the formula of 'stability_margin' gives money, "
                       "but 'stability_margin' is ratio"):
        load_policy(path)


def test_a_period_in_other_units_than_its_bound_is_refused(tmp_path: Path) -> None:
    from fangpin_rules.diagnostics import PolicyError

    path = tmp_path / "days.yaml"
    path.write_text(f"""extends: {FUJIAN}
policy: {{id: days-county, title: 测试县, effective: 2021-07-01}}
parameters:
  public_notice_period:
    value: 10 days
""", encoding="utf-8")
    with pytest.raises(PolicyError, match="counts working_days: periods in different units"):
        load_policy(path)
    path.write_text(path.read_text(encoding="utf-8").replace("10 days", "7 working_days"),
                    encoding="utf-8")
    assert str(load_policy(path).parameters_on("2021-08-01")["public_notice_period"]) == \
        "7 working_days"
