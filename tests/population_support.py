"""The example county of examples/population, read and decided for the population tests.
And household snapshots for the history tests."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fangpin_rules.engine.records import checked_case
from fangpin_rules.population.deciding import Counts, Decided, Period, decide_households

from support import FUJIAN, ROOT

EXAMPLE = ROOT / "examples" / "population"
NOVEMBER = EXAMPLE / "households-2021-11.jsonl"
OCTOBER = EXAMPLE / "households-2021-10.jsonl"
CASES = EXAMPLE / "cases.jsonl"


def records(path: Path = NOVEMBER) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def cases_by_household() -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for line in CASES.read_text(encoding="utf-8").splitlines():
        case = checked_case(json.loads(line))
        out.setdefault(case.household_id, []).append(case)
    return out


def decided(policy: Any, period: Period, path: Path = NOVEMBER, *, text: str | None = None,
            rejected: list[Any] | None = None, counts: Counts | None = None,
            cases: bool = True) -> Iterator[Decided]:
    source = io.StringIO(text if text is not None else path.read_text(encoding="utf-8"))
    sink = rejected if rejected is not None else []
    return decide_households(policy, source, period.last,
                             cases=cases_by_household() if cases else None,
                             on_reject=sink.append, counts=counts)


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


def policy_beyond_columns(folder: Path) -> Path:
    """The province's policy with one decision the columnar engine refuses (`round()` to a
    number of places that is not a constant), written into `folder`."""
    line = "expr: per_capita_income < monitoring_line\n"
    policy = folder / "policy.yaml"
    policy.write_text(FUJIAN.read_text(encoding="utf-8").replace(
        line, "expr: round(per_capita_income, count(members)) < monitoring_line\n"),
        encoding="utf-8")
    return policy
