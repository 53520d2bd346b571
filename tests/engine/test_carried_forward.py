"""[E2] §2: the 2021 figures are the 2021 figures. On a later date the run carries them
forward and says so once per run (parameter, the year, the date asked, §2), on stderr for the
CLI and on the policy object for the API; --strict refuses the date, naming the parameter."""

from __future__ import annotations

from datetime import date

import pytest

from fangpin_rules import load_policy
from fangpin_rules.cli.main import main
from fangpin_rules.engine.policy import DateError

from support import FUJIAN, ROOT, household

EXAMPLES = ROOT / "examples" / "households.jsonl"


def test_the_2021_figures_cover_2021_only() -> None:
    policy = load_policy(FUJIAN)
    assert policy.carried_forward("2021-12-31") == []
    later = policy.carried_forward("2022-01-01")
    assert [(n.parameter, n.value, n.year, n.until) for n in later] == [
        ("monitoring_line", 7152, 2021, date(2021, 12, 31)),
        ("dibao_standard", 7152, 2021, date(2021, 12, 31))]
    message = later[0].message()
    assert message.startswith("parameter 'monitoring_line' has no value in force on "
                              "2022-01-01: its 2021 value 7152")
    assert "§2 监测范围" in message and "adjusted each year with the dibao standard" in message


def test_the_api_caller_reads_the_notices_once_after_a_run() -> None:
    policy = load_policy(FUJIAN)
    decisions = list(policy.evaluate_many([household(household_id=f"H{i}") for i in range(5)],
                                          "2025-06-30"))
    assert len(decisions) == 5 and decisions[0]["monitoring_line"] == 7152
    assert [n.parameter for n in policy.run_warnings] == ["monitoring_line", "dibao_standard"]
    assert {n.as_of for n in policy.run_warnings} == {date(2025, 6, 30)}


def test_strict_refuses_a_date_after_2021() -> None:
    strict = load_policy(FUJIAN, strict=True)
    assert strict.evaluate(household(), "2021-12-31")["monitoring_line"] == 7152
    with pytest.raises(DateError, match="'monitoring_line' has no value in force on 2025-06-30"):
        strict.evaluate(household(), "2025-06-30")


def test_eval_warns_once_per_run_not_per_household(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", str(FUJIAN), str(EXAMPLES), "--as-of", "2025-06-30"]) == 0
    err = capsys.readouterr().err
    warnings = [line for line in err.splitlines() if line.startswith("warning[carried-forward]")]
    assert len(warnings) == 2  # the line and the dibao standard, each once for 26 households
    assert "parameter 'monitoring_line' has no value in force on 2025-06-30: its 2021 value" \
        in warnings[0] and "§2" in warnings[0]
    assert "parameter 'dibao_standard'" in warnings[1]
    assert "read 26, decided 26, rejected 0" in err


def test_eval_in_2021_is_silent(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", str(FUJIAN), str(EXAMPLES), "--as-of", "2021-09-01"]) == 0
    assert "carried-forward" not in capsys.readouterr().err


def test_eval_strict_exits_2_naming_the_parameter(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", str(FUJIAN), str(EXAMPLES), "--as-of", "2025-06-30", "--strict"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "parameter 'monitoring_line' has no value in force on 2025-06-30" in captured.err
    assert "ended 2021-12-31" in captured.err and "(§2)" in captured.err
