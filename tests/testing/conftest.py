"""Test files written in a temporary folder name the repository's policies by absolute path;
those folders are made policy roots, as a user would with FANGPIN_POLICY_PATH."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def the_repository_policies_as_search_path(monkeypatch: pytest.MonkeyPatch) -> None:
    folders = [ROOT / "policies", Path(__file__).parent / "fixtures"]
    monkeypatch.setenv("FANGPIN_POLICY_PATH", os.pathsep.join(str(f) for f in folders))
