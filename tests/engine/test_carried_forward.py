"""[E2] §2: the 2021 figures are the 2021 figures. On a later date the run carries them
forward and says so once per run (parameter, the year, the date asked, §2), on stderr for the
CLI and on the policy object for the API; --strict refuses the date, naming the parameter."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

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
    count = sum(1 for line in EXAMPLES.read_text(encoding="utf-8").splitlines() if line.strip())
    assert count > 2
    assert len(warnings) == 2  # the line and the dibao standard, each once for all households
    assert "parameter 'monitoring_line' has no value in force on 2025-06-30: its 2021 value" \
        in warnings[0] and "§2" in warnings[0]
    assert "parameter 'dibao_standard'" in warnings[1]
    assert f"read {count}, decided {count}, rejected 0" in err


def test_eval_in_2021_is_silent(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", str(FUJIAN), str(EXAMPLES), "--as-of", "2021-09-01"]) == 0
    assert "carried-forward" not in capsys.readouterr().err


def test_eval_strict_exits_2_naming_the_parameter(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", str(FUJIAN), str(EXAMPLES), "--as-of", "2025-06-30", "--strict"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "parameter 'monitoring_line' has no value in force on 2025-06-30" in captured.err
    assert "ended 2021-12-31" in captured.err and "(§2)" in captured.err


def _one_household(tmp_path: Path) -> Path:
    path = tmp_path / "one.json"
    path.write_text(EXAMPLES.read_text(encoding="utf-8").splitlines()[0], encoding="utf-8")
    return path


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_explain_says_it_once_at_the_top(tmp_path: Path, lang: str,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    record = str(_one_household(tmp_path))
    assert main(["explain", str(FUJIAN), record, "--as-of", "2025-06-30", "--lang", lang]) == 0
    lines = capsys.readouterr().out.splitlines()
    title = "「监测范围」" if lang == "zh" else "“Monitoring line”"
    notices = [i for i, line in enumerate(lines) if title in line and "2021 " in line]
    assert len(notices) == 1  # once, not per decision that reads the line
    assert notices[0] == 2  # right under the household's heading, before the parameters
    (notice,) = [lines[i] for i in notices]
    assert "2025-06-30" in notice and "§2" in notice
    assert ("2021 年的值 7152" if lang == "zh" else "its 2021 value 7152") in notice
    assert len([line for line in lines[:5] if "7152" in line]) == 2  # and the dibao standard
    assert main(["explain", str(FUJIAN), record, "--as-of", "2021-09-01", "--lang", lang]) == 0
    assert "2021-12-31" not in capsys.readouterr().out.split("\n\n", 2)[1]


def test_explain_json_carries_the_notices(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    record = str(_one_household(tmp_path))
    assert main(["explain", str(FUJIAN), record, "--as-of", "2025-06-30",
                 "--format", "json"]) == 0
    account = json.loads(capsys.readouterr().out)
    assert [(n["parameter"], n["year"], n["as_of"], n["cite"])
            for n in account["carried_forward"]] == [
        ("monitoring_line", 2021, "2025-06-30", "§2 监测范围"),
        ("dibao_standard", 2021, "2025-06-30", "§2 监测范围")]
    assert main(["explain", str(FUJIAN), record, "--as-of", "2021-09-01",
                 "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["carried_forward"] == []


def test_explain_strict_exits_2_naming_the_parameter(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    record = str(_one_household(tmp_path))
    assert main(["explain", str(FUJIAN), record, "--as-of", "2025-06-30", "--strict"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "parameter 'monitoring_line' has no value in force on 2025-06-30" in captured.err
    assert main(["explain", str(FUJIAN), record, "--as-of", "2021-12-31", "--strict"]) == 0
