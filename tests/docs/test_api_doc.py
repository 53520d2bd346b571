"""Every `python` block of docs/api.md runs, in order, in one namespace, from the repository."""

from __future__ import annotations

import re

import pytest

from support import ROOT

DOC = ROOT / "docs" / "api.md"


def test_the_api_examples_run(monkeypatch: pytest.MonkeyPatch,
                              capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("FANGPIN_POLICY_PATH", raising=False)
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert len(blocks) >= 6
    namespace: dict[str, object] = {}
    for block in blocks:
        exec(compile(block, str(DOC), "exec"), namespace)
    assert "fujian-2021" in capsys.readouterr().out
