"""The python block of docs/columnar.md runs; the constructs it says are refused are."""

from __future__ import annotations

import re

import pytest

from support import ROOT

DOC = ROOT / "docs" / "columnar.md"


def test_the_columnar_example_runs(monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(ROOT)
    (block,) = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    exec(compile(block, str(DOC), "exec"), {})
    assert capsys.readouterr().out.split() == ["7151.9966666", "True"]
