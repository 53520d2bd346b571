"""Fixtures for the county-policy tests: the example counties, loaded once."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from fangpin_rules import Policy, load_policy

ROOT = Path(__file__).resolve().parents[2]
COUNTIES = ROOT / "policies" / "counties"


@pytest.fixture
def at_root() -> Iterator[Path]:
    """Run from the repository root, so messages show repository-relative paths."""
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        yield ROOT
    finally:
        os.chdir(cwd)


@pytest.fixture(scope="session")
def county() -> dict[str, Policy]:
    """The example counties by name: minhou, dehua, quanzhou, jinjiang."""
    return {path.stem.split("_")[0]: load_policy(path) for path in sorted(COUNTIES.glob("*.yaml"))}
