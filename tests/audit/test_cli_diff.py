"""`fangpin diff`: formats, exit codes, impact and its output file, no tracebacks."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from fangpin_rules.audit.render import SCHEMA
from fangpin_rules.cli.main import main

from support import FUJIAN, ROOT, household, members

REVISED = ROOT / "policies" / "examples" / "fujian_2021_revised.yaml"


def _households(path: Path) -> Path:
    lines = [json.dumps(household(household_id="mid", net_income=7300)),
             json.dumps(household(household_id="rich", net_income=90000)),
             "{not json",
             json.dumps({"household_id": "bad", "formerly_poor": False,
                         "members": members(1)}),
             json.dumps(household(household_id="three", members=members(3),
                                  net_income=float(Decimal("22499.97"))))]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_text_names_each_change_with_before_after_and_citation(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diff", str(FUJIAN), str(REVISED)]) == 0
    out = capsys.readouterr().out
    assert "4 处变更：元数据 1，参数 2，规则 1" in out
    assert "新增 monitoring_line · values[2022-01-01]" in out and "依据 §2" in out
    assert "    旧: 0.5\n    新: 0.4\n" in out
    assert "旧: monitored and low_income_or_drop and can_work_fully" in out
    assert "\x1b[" not in out  # not a terminal: no colour


def test_colour_only_when_asked_or_on_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diff", str(FUJIAN), str(REVISED), "--color", "always"]) == 0
    assert "\x1b[32m新增\x1b[0m" in capsys.readouterr().out


def test_exit_code_like_git_diff(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diff", str(FUJIAN), str(REVISED), "--exit-code"]) == 1
    assert main(["diff", str(FUJIAN), str(FUJIAN), "--exit-code"]) == 0
    assert "无变更" in capsys.readouterr().out


def test_json_follows_the_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diff", str(FUJIAN), str(REVISED), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["schema"] == SCHEMA == "fangpin-diff/1"
    assert data["old"]["version"] == "2021.1" and data["new"]["version"] == "2022.1-example"
    assert data["summary"] == {"changes": 4, "by_section": {
        "metadata": {"changed": 1}, "parameter": {"added": 1, "changed": 1},
        "rule": {"changed": 1}}}
    ratio = next(c for c in data["changes"] if c["name"] == "sharp_drop_ratio")
    assert set(ratio) == {"section", "kind", "name", "field", "old", "new", "cite", "title",
                          "old_location", "new_location", "affects"}
    assert (ratio["old"], ratio["new"], ratio["cite"]) == ("0.5", "0.4", "§1")
    assert ratio["old_location"]["line"] > 0 and ratio["new_location"]["file"].endswith(
        "fujian_2021_revised.yaml")
    assert data["impact"] is None


def test_markdown_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diff", str(FUJIAN), str(REVISED), "--format", "markdown"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# 政策差异 / Policy diff\n")
    assert "| 参数 | 修改 | `sharp_drop_ratio` | value | `0.5` | `0.4` | §1 |" in out


def test_impact_report_and_changed_households_file(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    records = _households(tmp_path / "h.jsonl")
    changed = tmp_path / "changed.jsonl"
    code = main(["diff", str(FUJIAN), str(REVISED), "--format", "json", "--impact",
                 str(records), "--as-of", "2022-03-01", "--impact-out", str(changed)])
    assert code == 1  # records were rejected, as eval says
    captured = capsys.readouterr()
    assert "read 5, compared 3, rejected 2, changed 2" in captured.err
    report = json.loads(captured.out)["impact"]
    assert (report["read"], report["compared"], report["rejected"]) == (5, 3, 2)
    assert [(r["line"], r["field"]) for r in report["rejections"]] == [(3, None),
                                                                      (4, "net_income")]
    lines = [json.loads(line) for line in changed.read_text(encoding="utf-8").splitlines()]
    assert [h["household_id"] for h in lines] == ["mid", "three"]
    assert lines[0]["line"] == 1 and "in_range" in lines[0]["changed"]
    assert (lines[0]["old"]["in_range"], lines[0]["new"]["in_range"]) == (False, True)
    assert lines[1]["new"]["per_capita_income"] == 7499.99


def test_impact_as_text_shows_transitions_with_chinese_labels(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    records = _households(tmp_path / "h.jsonl")
    assert main(["diff", str(FUJIAN), str(REVISED), "--impact", str(records),
                 "--as-of", "2022-03-01"]) == 1  # two rejected
    out = capsys.readouterr().out
    assert "对农户的影响（2022-03-01）" in out
    assert "  in_range 收入低于监测范围: 2  例: mid, three" in out
    assert "  （无） → 边缘易致贫户: 2  例: mid, three" in out
    assert "  收入低于监测范围 low_income: +2 -0" in out


def test_impact_on_a_date_past_a_value_warns_once_for_each_version(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """As `fangpin eval` says it: a value carried forward is named once per run, before any
    household, with the version that carries it; `--strict` refuses the date instead (exit 2,
    no report) and names the value and its file."""
    records = str(_households(tmp_path / "h.jsonl"))
    args = ["diff", str(FUJIAN), str(REVISED), "--impact", records, "--as-of", "2025-06-30"]
    assert main(args) == 1  # two rejected
    captured = capsys.readouterr()
    err = captured.err.splitlines()
    warnings = [line for line in err if line.startswith("warning[carried-forward]: ")]
    assert [line.split(": ", 2)[1] + " " + line.split("'")[1] for line in warnings] == [
        "the old policy monitoring_line", "the old policy dibao_standard",
        "the new policy dibao_standard"]  # the new version raises the line from 2022 on
    assert "its 2021 value 7152" in warnings[0] and "fujian_2021.yaml:" in warnings[0]
    assert err.index(warnings[-1]) < err.index("read 5, compared 3, rejected 2, changed 2")
    assert "对农户的影响（2025-06-30）" in captured.out or '"impact"' in captured.out
    assert main([*args, "--strict"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "Traceback" not in captured.err
    assert "parameter 'monitoring_line' has no value in force on 2025-06-30" in captured.err
    assert "fujian_2021.yaml:" in captured.err and "read 5" not in captured.err
    assert main(["diff", str(FUJIAN), str(REVISED), "--impact", records,
                 "--as-of", "2021-09-01", "--strict"]) == 1
    assert "carried-forward" not in capsys.readouterr().err


@pytest.mark.parametrize(("args", "message"), [
    (["--impact", "h.jsonl"], "--impact needs --as-of"),
    (["--as-of", "2022-03-01"], "go with --impact"),
    (["--cases", "h.jsonl"], "go with --impact"),
    (["--strict"], "go with --impact"),
    (["--impact", "missing.jsonl", "--as-of", "2022-03-01"], "cannot read 'missing.jsonl'"),
    (["--impact", "h.jsonl", "--as-of", "2020-01-01"], "does not apply on 2020-01-01"),
    (["--impact", "h.jsonl", "--as-of", "March"], "'March' is not a date"),
])
def test_usage_errors_are_one_line_and_exit_2(
        args: list[str], message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    _households(tmp_path / "h.jsonl")
    monkeypatch.chdir(tmp_path)
    assert main(["diff", str(FUJIAN), str(REVISED), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_a_broken_policy_is_reported_at_its_place(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(FUJIAN.read_text(encoding="utf-8").replace(
        "expr: net_income / size", "expr: net_incom / size"), encoding="utf-8")
    assert main(["diff", str(FUJIAN), str(broken)]) == 2
    assert "broken.yaml:" in capsys.readouterr().err
