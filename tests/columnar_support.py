"""Both engines of `decide_batch` on one table, compared field by field, and which rows the
per-row reader sees (the columnar tests)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from fangpin_rules.columnar import decide_batch, engine

# A region table whose counties shorten the township's review (the province's bound: at most
# 5 working days) and lengthen a public notice, and one that keeps the province's durations
DURATION_REGIONS = """
region_table:
  id: durations-example
  title: 各县初审、公示时限（测试）
  policy: fujian-2021
regions:
  "350121":
    name: 闽侯县
    review_period:
      - {from: 2021-07-01, value: 3 working_days}
  "350526":
    name: 德化县
    review_period:
      - {from: 2021-07-01, value: 4 working_days}
    public_notice_period:
      - {from: 2021-07-01, value: 7 working_days}
  "350582":
    name: 晋江市
"""
DURATION_COUNTIES = ["350121", "350526", "350582"]


def engines_agree(policy: Any, table: Any, as_of: str,
                  cases: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """The same rejects and every field of every decision from the record and the columnar
    engine (with the households' `cases`, when given); the decisions."""
    by_record = decide_batch(policy, table, as_of, cases=cases, engine="record")
    by_column = decide_batch(policy, table, as_of, cases=cases, engine="columnar")
    assert by_column.decisions.schema == by_record.decisions.schema
    assert by_column.rejects.to_pylist() == by_record.rejects.to_pylist()
    expected, got = by_record.decisions.to_pylist(), by_column.decisions.to_pylist()
    assert len(got) == len(expected)
    for want, have in zip(expected, got, strict=True):
        for key in want:
            assert have[key] == want[key], (want["household_id"], key, have[key], want[key])
    assert by_column.decisions.num_rows + by_column.rejects.num_rows == table.num_rows
    return got


def rows_read_one_by_one(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The number of rows of each table the per-row reader is given, from now on."""
    read: list[int] = []
    original = engine._validate

    def counting(policy: Any, table: Any, *rest: Any) -> Any:
        read.append(table.num_rows)
        return original(policy, table, *rest)

    monkeypatch.setattr(engine, "_validate", counting)
    return read
