"""Fixtures shared by the whole suite."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from fangpin_rules import Policy, load_policy

from support import FUJIAN, RECORDS_MD_HOUSEHOLD


@pytest.fixture(scope="session")
def fujian() -> Policy:
    return load_policy(FUJIAN)


@pytest.fixture
def records_md_household() -> dict[str, Any]:
    return copy.deepcopy(RECORDS_MD_HOUSEHOLD)
