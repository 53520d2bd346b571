"""The python blocks of docs/columnar.md run, in order, and print what they say."""

from __future__ import annotations

import re

import pytest

from support import ROOT

DOC = ROOT / "docs" / "columnar.md"


def test_the_columnar_examples_run(monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    """The blocks run in order in one namespace (the second reads the first's household)."""
    monkeypatch.chdir(ROOT)
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert len(blocks) == 2
    namespace: dict[str, object] = {}
    outputs = []
    for block in blocks:
        exec(compile(block, str(DOC), "exec"), namespace)
        outputs.append(capsys.readouterr().out.split())
    assert outputs == [["7151.9966666", "True"], ["8160", "False", "9000", "True"]]
