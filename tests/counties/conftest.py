"""Fixtures for the county-policy tests: the example counties, loaded once."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from fangpin_rules import Policy, load_policy

ROOT = Path(__file__).resolve().parents[2]
COUNTIES = ROOT / "policies" / "counties"


@pytest.fixture(autouse=True)
def the_repository_policies_as_search_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """A base named by id is found in the repository, whatever the caller's environment; and
    the repository's policies/ is a policy root, so a county written in a temporary folder
    may name the province's file by its absolute path."""
    monkeypatch.setenv("FANGPIN_POLICY_PATH", str(ROOT / "policies"))


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
    saved = os.environ.pop("FANGPIN_POLICY_PATH", None)
    try:
        return {path.stem.split("_")[0]: load_policy(path)
                for path in sorted(COUNTIES.glob("*.yaml"))}
    finally:
        if saved is not None:
            os.environ["FANGPIN_POLICY_PATH"] = saved
