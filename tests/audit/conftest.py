"""Fixtures of the audit tests: the Fujian policy and its illustrative revision."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from fangpin_rules import Policy, load_policy

from support import FUJIAN, ROOT

REVISED = ROOT / "policies" / "examples" / "fujian_2021_revised.yaml"
Variant = Callable[..., Policy]


@pytest.fixture(scope="session")
def revised() -> Policy:
    return load_policy(REVISED)


@pytest.fixture
def variant(tmp_path: Path) -> Variant:
    """A copy of the Fujian policy with text replaced, each `old` found exactly once."""
    def build(*replacements: tuple[str, str], name: str = "variant.yaml") -> Policy:
        text = FUJIAN.read_text(encoding="utf-8")
        for old, new in replacements:
            assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
            text = text.replace(old, new)
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return load_policy(path)
    return build
