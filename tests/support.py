"""Builders and constants shared by the tests (import as `support`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
FUJIAN = ROOT / "policies" / "fujian_2021.yaml"

# The household of shared/spec/records.md, verbatim.
RECORDS_MD_HOUSEHOLD: dict[str, Any] = {
    "household_id": "350181-0001",
    "region_code": "350181",
    "formerly_poor": True,
    "members": [
        {"member_id": "1", "birth_date": "1956-03-01", "labour_capacity": "lost",
         "health": "serious_illness", "disability_grade": None, "dependent_elderly": False,
         "orphan": False, "left_behind_child": False, "dropped_out": False}
    ],
    "net_income": 18000,
    "previous_net_income": 26000,
    "rigid_expenditure": {"medical": 12000, "education": 0, "disaster": 0, "accident": 0},
    "food_clothing_secure": True,
    "basic_medical_secure": True,
    "housing_safe": True,
    "drinking_water_safe": True,
    "dibao": {"enrolled": False, "since": None, "income_above_standard_on": None},
    "tekun": False,
    "motivation_lacking": False,
    "monitoring": {"status": "none", "category": None, "since": None},
}


def household(**overrides: Any) -> dict[str, Any]:
    """A plain working-age household (not poor, no problems) with fields replaced."""
    base: dict[str, Any] = {
        "household_id": "T-1",
        "formerly_poor": False,
        "members": [{"member_id": "1", "birth_date": "1980-05-01", "labour_capacity": "normal",
                     "health": "healthy"}],
        "net_income": 30000,
        "food_clothing_secure": True,
        "basic_medical_secure": True,
        "housing_safe": True,
        "drinking_water_safe": True,
    }
    base.update(overrides)
    return base


def members(n: int, **fields: Any) -> list[dict[str, Any]]:
    return [{"member_id": str(i + 1), "birth_date": "1980-05-01", "labour_capacity": "normal",
             "health": "healthy", **fields} for i in range(n)]
