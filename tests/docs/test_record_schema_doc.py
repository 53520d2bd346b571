"""Every `python` block of docs/record-schema.md runs, in order, in one namespace."""

from __future__ import annotations

import re

import pytest

from support import ROOT

DOC = ROOT / "docs" / "record-schema.md"


def test_the_record_schema_examples_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert blocks
    namespace: dict[str, object] = {}
    for block in blocks:
        exec(compile(block, str(DOC), "exec"), namespace)
    assert "problems" in namespace
