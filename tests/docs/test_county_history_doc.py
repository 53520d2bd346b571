"""The examples of docs/county-history.md run and print what the page shows."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fangpin_rules.cli.main import main

from support import ROOT, benchmark_module

DOC = ROOT / "docs" / "county-history.md"


def _example(name: str) -> str:
    found = re.search(rf"<!-- example: {name} -->\n```\w+\n(.*?)```",
                      DOC.read_text(encoding="utf-8"), re.S)
    assert found, name
    return found.group(1)


def test_the_duty_log_example(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "duty-log.csv"
    log.write_text(_example("duty-log"), encoding="utf-8")
    bundled = (ROOT / "examples" / "duty-log.csv").read_text(encoding="utf-8")
    assert bundled == _example("duty-log")  # the README's command reads the bundled copy
    assert main(["report", "duties", str(log), "--since", "2021-10-08", "--as-of",
                 "2021-10-12", "--policy", str(ROOT / "policies" / "fujian_2021.yaml")]) == 0
    assert capsys.readouterr().out == _example("duty-log-output")


def test_the_regional_example(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    benchmark_module("gen_county").write(tmp_path)
    assert (tmp_path / "events.csv").read_text(encoding="utf-8") == _example("events")
    months = [f"2022-{m:02d}={tmp_path / f'2022-{m:02d}.jsonl'}" for m in (3, 4)]
    assert main(["report", "regional", *months, "--events", str(tmp_path / "events.csv"),
                 "--policy", str(ROOT / "policies" / "fujian_2021.yaml")]) == 0
    shown = _example("regional-output")
    lines = capsys.readouterr().out.splitlines(keepends=True)
    first_fall = next(line for line in lines if "村户均人均纯收入" in line)
    assert lines[0] + first_fall == shown
    assert len(lines) == 20


def test_the_history_from_decisions_example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    import shlex

    monkeypatch.chdir(tmp_path)
    (tmp_path / "policies").symlink_to(ROOT / "policies")
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    commands = _example("history-decisions").replace("\\\n", " ").splitlines()
    assert len(commands) == 3
    for command in commands[:2]:
        words = shlex.split(command)
        assert words[0] == "fangpin" and main(words[1:]) == 0
    capsys.readouterr()
    words = shlex.split(commands[2])
    assert main(words[1:]) == 0
    captured = capsys.readouterr()
    assert captured.out == _example("history-decisions-output")
    assert ("households 32; records read 64, decided 64, rejected 0; decisions read 64, used "
            "64, rejected 0; findings: eliminated_without_labour 5") in captured.err
    afresh = [w for w in words[1:] if not w.startswith(("--decisions", "2021-10=d", "2021-11=d"))]
    assert main(afresh) == 0 and capsys.readouterr().out == captured.out


def test_the_history_in_columns_example(monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    import shlex

    monkeypatch.chdir(ROOT)
    words = shlex.split(_example("history-columnar").replace("\\\n", " "))
    assert words[0] == "fangpin" and "columnar" in words and main(words[1:]) == 0
    captured = capsys.readouterr()
    assert captured.out == _example("history-decisions-output")
    by_record = [w for w in words[1:] if w not in ("--engine", "columnar")]
    assert main(by_record) == 0 and capsys.readouterr() == captured


def test_the_python_api_example(monkeypatch: pytest.MonkeyPatch,
                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(ROOT)
    exec(compile(_example("python-api"), "county-history.md", "exec"), {})
    assert capsys.readouterr().out == _example("python-api-output")


def test_the_history_under_a_region_table_example(monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    import shlex

    monkeypatch.chdir(ROOT)
    words = shlex.split(_example("history-regions").replace("\\\n", " "))
    assert words[0] == "fangpin" and "--regions" in words
    for engine in ("record", "columnar"):
        assert main([*words[1:], "--engine", engine]) == 0
        assert capsys.readouterr().out == _example("history-regions-output")
    province = [*words[1:words.index("--regions")], "--format", "csv"]
    assert main(province) == 0
    assert capsys.readouterr().out == _example("history-regions-output").splitlines(
        keepends=True)[0]  # the header only: the province's line finds nothing
