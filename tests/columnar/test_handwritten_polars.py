"""The hand-written vectorised Polars version of the Fujian decisions (benchmarks/
handwritten_polars.py, the columnar engine's ceiling in benchmarks/bench_columnar.py) decides
as the engine does, key by key, on boundary-dense households and on several dates."""

from __future__ import annotations

import copy
import decimal
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from fangpin_rules import Policy
from fangpin_rules.columnar import decide_batch, records_to_arrow
from fangpin_rules.engine.policy import parse_date
from fangpin_rules.engine.serialize import decimal_text
from fangpin_rules.limits import DECIMAL_CONTEXT

from support import benchmark_module

PLAIN = ("household_id", "in_range", "category", "category_label", "priority_attention",
         "assistance_mode", "orientation", "temporary_assistance")
SETS = ("special_groups", "risks", "measures", "departments")
OBJECTS = {"cadre": ("rank", "pairing"), "dibao": ("recommend_enrolment", "grace_until"),
           "risk_elimination": ("eligible", "reason")}


def assert_decides_as_the_engine(policy: Policy, records: list[dict[str, Any]],
                                 as_of: str) -> None:
    table = records_to_arrow(policy, records)
    engine = decide_batch(policy, table, as_of, engine="columnar").decisions.to_pylist()
    decide_frame = benchmark_module("handwritten_polars").decide_frame
    with_warnings = decide_frame(table, parse_date(as_of), warnings=True)
    assert decide_frame(table, parse_date(as_of)).equals(with_warnings.drop("warnings"))
    ceiling = with_warnings.to_dicts()
    assert len(engine) == len(ceiling) == len(records)
    with decimal.localcontext(DECIMAL_CONTEXT):
        for want, got in zip(engine, ceiling, strict=True):
            for key in PLAIN:
                assert got[key] == want[key], (want["household_id"], key)
            for key in (*SETS, "warnings"):
                assert got[key] == want[key], (want["household_id"], key)
            for key, fields in OBJECTS.items():
                for field in fields:
                    value = want[key][field] if want[key] is not None else None
                    assert got[f"{key}_{field}"] == value, (want["household_id"], key, field)
            for key in ("per_capita_income", "per_capita_after_rigid"):
                text = decimal_text(Decimal(got[f"{key}_num"]) / Decimal(got["per_capita_den"]))
                assert text == want[key], (want["household_id"], key)


@pytest.mark.parametrize("as_of", ["2021-09-01", "2022-02-28", "2024-02-29"])
def test_the_ceiling_decides_as_the_engine(fujian: Policy, as_of: str) -> None:
    records = list(benchmark_module("boundary_households").boundary_households(2500, seed=5))
    assert_decides_as_the_engine(fujian, records, as_of)


def _birthdays(as_of: date) -> list[date]:
    """Birth dates on either side of each age the Fujian rules test (6, 16, 60) on `as_of`,
    and the last days of February and first of March of those years (a leap day's birthday)."""
    days: list[date] = []
    for years in (6, 15, 16, 17, 59, 60, 61):
        year = as_of.year - years
        days += [date(year, 2, 28), date(year, 3, 1)]
        if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0):
            days.append(date(year, 2, 29))
        try:
            birthday = as_of.replace(year=year)
        except ValueError:
            birthday = date(year, 2, 28)
        days += [birthday - timedelta(days=1), birthday, birthday + timedelta(days=1)]
    return days


@pytest.mark.parametrize("as_of", ["2024-02-29", "2025-02-28", "2023-03-01", "2021-09-01"])
def test_the_ceiling_counts_ages_as_the_engine_on_birthdays(fujian: Policy, as_of: str) -> None:
    """One member a household, born on a birthday boundary, recorded with labour, as dropped
    out and as a dependent elder: whether they count as labour, a school dropout or a
    dependent elder turns on their age exactly."""
    base = list(benchmark_module("boundary_households").boundary_households(60, seed=7))
    records = []
    for number, birth in enumerate(_birthdays(parse_date(as_of))):
        for capacity in ("normal", "weak"):
            record = copy.deepcopy(base[len(records) % len(base)])
            member = {**record["members"][0], "birth_date": birth.isoformat(),
                      "labour_capacity": capacity, "dropped_out": True,
                      "dependent_elderly": True}
            record["members"] = [member]
            record["household_id"] = f"B-{number}-{capacity}"
            records.append(record)
    assert_decides_as_the_engine(fujian, records, as_of)
