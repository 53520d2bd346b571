"""The examples of docs/record-schema.md and docs/performance.md run as written."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from fangpin_rules import load_policy
from fangpin_rules.engine.records import parse_json

from scale_support import varied_households
from support import ROOT


def blocks(doc: str, language: str) -> list[str]:
    text = (ROOT / "docs" / doc).read_text(encoding="utf-8")
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.S)


def test_the_declared_schema_example_decides_its_record(tmp_path: Path) -> None:
    (policy_text,) = blocks("record-schema.md", "yaml")
    (record_text,) = blocks("record-schema.md", "json")
    path = tmp_path / "visits.yaml"
    path.write_text(policy_text, encoding="utf-8")
    policy = load_policy(path)
    decision = policy.evaluate(parse_json(record_text), "2021-06-01")
    assert decision["household_id"] == "V-1"
    assert decision["needs_visit"] is True


def test_the_performance_commands_run(tmp_path: Path) -> None:
    commands = [line.removeprefix("$ ") for block in blocks("performance.md", "console")
                for line in block.splitlines() if line.startswith("$ fangpin ")]
    assert commands
    (tmp_path / "policies").symlink_to(ROOT / "policies")
    (tmp_path / "households.jsonl").write_text(
        "".join(json.dumps(h) + "\n" for h in varied_households(300)), encoding="utf-8")
    outputs = []
    for command in commands:
        argv = shlex.split(command)
        done = subprocess.run([sys.executable, "-m", "fangpin_rules.cli.main", *argv[1:]],
                              cwd=tmp_path, capture_output=True, text=True, check=False,
                              env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
        assert done.returncode == 0, done.stderr
        assert done.stderr == "read 300, decided 300, rejected 0\n"
        outputs.append((tmp_path / "decisions.jsonl").read_bytes())
    assert all(output == outputs[0] for output in outputs)


def test_the_arrow_example_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("pyarrow")
    (example,) = blocks("performance.md", "python")
    monkeypatch.chdir(ROOT)
    namespace: dict[str, Any] = {"households": varied_households(50)}
    exec(compile(example, "docs/performance.md", "exec"), namespace)
    assert namespace["result"].decisions.num_rows == 50
    assert namespace["result"].rejects.num_rows == 0
