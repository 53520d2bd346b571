"""docs/audit-guide.md: its commands run and print what the guide shows; its JSON schema tables
name exactly the fields written; its Python example runs."""

from __future__ import annotations

import json
import os
import re
import shlex
from pathlib import Path

import pytest

from fangpin_rules.cli.main import main

from support import ROOT

GUIDE = (ROOT / "docs" / "audit-guide.md").read_text(encoding="utf-8")


def _example(name: str) -> str:
    found = re.search(rf"<!-- example: {name} -->\n```\w*\n(.*?)```", GUIDE, re.S)
    assert found, f"no example {name} in the guide"
    return found.group(1)


def _rewrite_example(name: str, text: str) -> None:
    global GUIDE
    path = ROOT / "docs" / "audit-guide.md"
    GUIDE = re.sub(rf"(<!-- example: {name} -->\n```\w*\n)(.*?)```",
                   lambda m: m.group(1) + text + "```", GUIDE, count=1, flags=re.S)
    path.write_text(GUIDE, encoding="utf-8")


def _schema(name: str) -> set[str]:
    table = GUIDE.split(f"<!-- schema: {name} -->", 1)[1].split("\n\n", 1)[0]
    fields: set[str] = set()
    for row in table.splitlines()[2:]:
        fields |= set(re.findall(r"`([a-z_]+)`", row.split("|")[1]))
    return fields


def _run(command: str, capsys: pytest.CaptureFixture[str]) -> str:
    args = shlex.split(command)
    assert args[0] == "fangpin"
    args = [str(ROOT / a) if a.startswith("policies/") else a for a in args[1:]]
    assert main(args) == 0
    return capsys.readouterr().out.replace(str(ROOT) + "/", "")


def test_the_diff_output_is_the_one_shown(capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    out = _run(_example("diff-command").strip(), capsys)
    if os.environ.get("FANGPIN_REGENERATE"):  # after an edit of the province's file moved lines
        _rewrite_example("diff-text", out)
    assert out == _example("diff-text")


def test_the_impact_output_contains_what_is_shown(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "households.jsonl").write_text(_example("households"), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    out = _run(_example("impact-command").strip(), capsys)
    assert _example("impact-text") in out
    assert _example("attribution-text") in out
    rest = GUIDE.split("<!-- example: impact-text -->", 1)[1].split("```text\n", 1)[1]
    for line in rest.split("```", 1)[0].splitlines():
        if line != "...":
            assert line in out.splitlines()
    changed = [json.loads(line) for line in
               (tmp_path / "changed.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [c["household_id"] for c in changed] == ["A", "B"]
    assert set(changed[0]) == {"household_id", "line", "changed", "old", "new", "attribution"}


def test_the_schema_tables_name_every_field(capsys: pytest.CaptureFixture[str],
                                            tmp_path: Path) -> None:
    records = tmp_path / "h.jsonl"
    records.write_text(_example("households") + "{broken\n", encoding="utf-8")
    main(["diff", str(ROOT / "policies" / "fujian_2021.yaml"),
          str(ROOT / "policies" / "examples" / "fujian_2021_revised.yaml"), "--format", "json",
          "--impact", str(records), "--as-of", "2022-03-01"])
    data = json.loads(capsys.readouterr().out)
    assert _schema("top") == set(data)
    assert _schema("change") == set(data["changes"][0])
    assert _schema("impact") == set(data["impact"])
    assert _schema("attribution") == set(data["attribution"])
    for field, item in (("edits", data["attribution"]["edits"][0]),
                        ("listed", data["attribution"]["listed"][0]),
                        ("regions", data["attribution"]["regions"][0])):
        row = re.search(rf"\| `{field}` \| ([^|]*)\|", GUIDE.split("<!-- schema: attribution")[1])
        assert row and set(item) <= set(re.findall(r"`([a-z_]+)`", row.group(1))), field
    outputs = re.search(r"\| `outputs` \| ([^|]*)\|", GUIDE)
    assert outputs and set(re.findall(r"`([a-z_]+)`", outputs.group(1))) == set(
        data["impact"]["outputs"][0])
    labels = re.search(r"\| `labels` \| ([^|]*)\|", GUIDE)
    assert labels and set(re.findall(r"`([a-z_]+)`", labels.group(1))) - {"collect"} == set(
        data["impact"]["labels"]["measures"][0])
    rejections = re.search(r"\| `rejections` \| ([^|]*)\|", GUIDE)
    assert rejections and set(re.findall(r"`([a-z_]+)`", rejections.group(1))) == set(
        data["impact"]["rejections"][0])
    sections = re.search(r"\| `section` \| ([^|]*)\|", GUIDE)
    from fangpin_rules.audit.changes import KINDS, SECTIONS
    assert sections and tuple(re.findall(r"`([a-z_]+)`", sections.group(1))) == SECTIONS
    kinds = re.search(r"\| `kind` \| ([^|]*)\|", GUIDE)
    assert kinds and tuple(re.findall(r"`([a-z_]+)`", kinds.group(1))) == KINDS


def test_the_html_command_writes_one_page(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "households.jsonl").write_text(_example("households"), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    _run(_example("html-command").strip(), capsys)
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and 'id="lang-switch"' in page
    assert 'id="attribution"' in page and 'id="chart"' in page
    assert sorted(p.name for p in tmp_path.iterdir()) == ["households.jsonl", "report.html"]


def test_the_python_example_runs(monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    code = GUIDE.split("```python\n", 1)[1].split("```", 1)[0]
    monkeypatch.chdir(ROOT)
    exec(compile(code, "docs/audit-guide.md", "exec"), {})
    out = capsys.readouterr().out
    assert "parameter changed sharp_drop_ratio value 0.5 0.4" in out
    assert out.splitlines()[-2].startswith("1 Counter({(None, 'marginal'): 1})")
    assert out.splitlines()[-1] == "[('A', ('parameters.monitoring_line',), 'alone')]"


def test_the_region_table_example_moves_whom_the_guide_says(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "minhou.jsonl").write_text(_example("regions-households"), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    command = _example("regions-command").strip()
    moved = {}
    for regions in (True, False):
        words = command if regions else command.split(" --regions ")[0] + \
            " --impact-out changed.jsonl"
        out = _run(words, capsys).splitlines()
        if regions:
            assert all(line in out for line in _example("regions-impact-text").splitlines())
        moved[regions] = [(c["household_id"], c["attribution"]["items"]) for c in map(
            json.loads, (tmp_path / "changed.jsonl").read_text(encoding="utf-8").splitlines())]
    assert moved == {True: [("M1", ["decisions.measures.rules[measure.employment]"])],
                     False: [("M2", ["parameters.monitoring_line"])]}
