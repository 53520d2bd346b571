"""Household snapshots for the history tests (import as `population_support`)."""

from __future__ import annotations

from typing import Any

MONTHS = [f"2022-{m:02d}" for m in range(1, 13)]
ELIGIBLE_INCOME = 20000  # one worker: far above 1.1 times the line
UNSTABLE_INCOME = 7500  # in range of elimination's stability test: below 1.1 x 7152


def household(household_id: str = "H1", *, income: int = ELIGIBLE_INCOME,
              status: str = "monitored", category: str | None = "marginal",
              labour: str = "normal", formerly_poor: bool = False) -> dict[str, Any]:
    return {
        "household_id": household_id, "region_code": "350181", "formerly_poor": formerly_poor,
        "members": [{"member_id": "1", "birth_date": "1980-01-01", "labour_capacity": labour,
                     "health": "healthy"}],
        "net_income": income, "previous_net_income": income,
        "food_clothing_secure": True, "basic_medical_secure": True, "housing_safe": True,
        "drinking_water_safe": True,
        "monitoring": {"status": status, "category": category if status != "none" else None,
                       "since": "2020-06-01" if status != "none" else None},
    }
