"""Fixtures of the performance and scale tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from scale_support import jsonl_with_rejects, varied_households


@pytest.fixture(scope="session")
def households() -> list[dict[str, Any]]:
    return varied_households(600)


@pytest.fixture(scope="session")
def input_file(tmp_path_factory: pytest.TempPathFactory,
               households: list[dict[str, Any]]) -> Path:
    path = tmp_path_factory.mktemp("scale") / "households.jsonl"
    path.write_text(jsonl_with_rejects(households), encoding="utf-8")
    return path
