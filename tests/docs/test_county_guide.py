"""docs/county-guide.md is true: every YAML example is an excerpt of the file it names, and
every console example gives the output it shows (`…` stands for text left out)."""

from __future__ import annotations

import os
import re
import shlex

import pytest

from fangpin_rules.cli.main import main

from support import ROOT

DOC = ROOT / "docs" / "county-guide.md"
TEXT = DOC.read_text(encoding="utf-8")
EXCERPTS = re.findall(r"<!-- excerpt of (\S+) -->\n```(?:yaml|csv)\n(.*?)```", TEXT, flags=re.S)
CONSOLES = re.findall(r"```console\n(.*?)```", TEXT, flags=re.S)


def test_the_guide_has_examples() -> None:
    assert len(EXCERPTS) >= 8 and len(CONSOLES) >= 6
    # no YAML or CSV example without its file
    assert TEXT.count("```yaml") + TEXT.count("```csv") == len(EXCERPTS)


@pytest.mark.parametrize(("path", "block"), EXCERPTS, ids=[p for p, _ in EXCERPTS])
def test_yaml_example_is_in_its_file(path: str, block: str) -> None:
    assert block in (ROOT / path).read_text(encoding="utf-8")


def _matches(expected: str, actual: str) -> bool:
    parts = [p.strip() for p in expected.split("…")]
    position = 0
    for part in parts:
        found = actual.find(part, position)
        if found < 0:
            return False
        position = found + len(part)
    return True


@pytest.mark.parametrize("block", CONSOLES, ids=[b.splitlines()[0][2:60] for b in CONSOLES])
def test_console_example(block: str, capsys: pytest.CaptureFixture[str],
                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FANGPIN_POLICY_PATH", raising=False)  # bases found in the repository
    command, *expected = block.rstrip("\n").splitlines()
    assert command.startswith("$ fangpin ")
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        code = main(shlex.split(command)[2:])
    finally:
        os.chdir(cwd)
    captured = capsys.readouterr()
    actual = (captured.err + captured.out).splitlines()
    assert code == (2 if any("FAILED" in line for line in expected) else 0)
    index = 0
    for line in expected:
        if line.strip() == "…":
            continue
        while index < len(actual) and not _matches(line, actual[index]):
            index += 1
        assert index < len(actual), f"not found in order: {line}"
        index += 1
