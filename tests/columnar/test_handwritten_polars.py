"""The hand-written vectorised Polars version of the Fujian decisions (benchmarks/
handwritten_polars.py, the columnar engine's ceiling in benchmarks/bench_columnar.py) decides
as the engine does, key by key, on boundary-dense households and on several dates."""

from __future__ import annotations

import decimal
from decimal import Decimal

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


@pytest.mark.parametrize("as_of", ["2021-09-01", "2022-02-28"])
def test_the_ceiling_decides_as_the_engine(fujian: Policy, as_of: str) -> None:
    records = list(benchmark_module("boundary_households").boundary_households(2500, seed=5))
    table = records_to_arrow(fujian, records)
    engine = decide_batch(fujian, table, as_of, engine="columnar").decisions.to_pylist()
    ceiling = benchmark_module("handwritten_polars").decide_frame(
        table, parse_date(as_of)).to_dicts()
    assert len(engine) == len(ceiling) == len(records)
    with decimal.localcontext(DECIMAL_CONTEXT):
        for want, got in zip(engine, ceiling, strict=True):
            for key in PLAIN:
                assert got[key] == want[key], (want["household_id"], key)
            for key in SETS:
                assert sorted(got[key]) == sorted(want[key]), (want["household_id"], key)
            for key, fields in OBJECTS.items():
                for field in fields:
                    value = want[key][field] if want[key] is not None else None
                    assert got[f"{key}_{field}"] == value, (want["household_id"], key, field)
            for key in ("per_capita_income", "per_capita_after_rigid"):
                text = decimal_text(Decimal(got[f"{key}_num"]) / Decimal(got["per_capita_den"]))
                assert text == want[key], (want["household_id"], key)
