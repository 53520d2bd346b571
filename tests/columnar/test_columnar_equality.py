"""The columnar engine decides as the record path does, field by field, warnings included: on
boundary-dense synthetic households, for the province's policy and the county examples."""

from __future__ import annotations

from typing import Any

import pytest

from fangpin_rules import Policy, load_policy
from fangpin_rules.columnar import decide_batch, records_to_arrow

from columnar_support import engines_agree
from support import ROOT, benchmark_module

AS_OF = "2021-09-01"
COUNTIES = sorted((ROOT / "policies" / "counties").glob("*.yaml"))


def households(n: int, seed: int = 0) -> list[dict[str, Any]]:
    return list(benchmark_module("boundary_households").boundary_households(n, seed))


def assert_same(policy: Policy, records: list[dict[str, Any]], as_of: str = AS_OF) -> int:
    return len(engines_agree(policy, records_to_arrow(policy, records), as_of))


def test_fujian_on_boundary_households(fujian: Policy) -> None:
    assert assert_same(fujian, households(3000)) == 3000


@pytest.mark.parametrize("as_of", ["2021-12-31", "2022-06-30", "2024-03-01"])
def test_fujian_on_other_dates(fujian: Policy, as_of: str) -> None:
    assert_same(fujian, households(600, seed=3), as_of)


@pytest.mark.parametrize("path", COUNTIES, ids=lambda p: p.stem)
def test_county_examples(path: Any) -> None:
    policy = load_policy(path, search_path=[ROOT / "policies"])
    assert_same(policy, households(800, seed=5), "2022-06-30")


def test_the_warnings_are_compared(fujian: Policy) -> None:
    """The sample reaches warnings, deadlines and every output, so equality means something."""
    table = records_to_arrow(fujian, households(3000))
    decisions = decide_batch(fujian, table, AS_OF, engine="columnar").decisions.to_pylist()
    codes = {w["code"] for d in decisions for w in d["warnings"]}
    assert {"minor_with_labour", "future_date", "welfare_trap"} <= codes
    assert any(d["deadlines"] for d in decisions)
    assert {d["category"] for d in decisions} >= {"unstable", "marginal", None}


def test_a_slice_of_a_table_holds_only_its_own_members(fujian: Policy) -> None:
    """A slice of a table (an integrator deciding a big table in pieces) keeps its parent's
    whole array of members; the engine copies the slice's own before Polars converts them
    (which converted all the parent's: 4.5 times the time for 100 rows of 1,000,000), and
    decides the slice as it decides the same rows on their own."""
    import pyarrow as pa

    from fangpin_rules.columnar.engine import _compact_lists

    table = records_to_arrow(fujian, households(1000, seed=7))
    piece = table.slice(400, 50)
    members = piece.column("members").chunks[0]
    assert len(members.values) > members.offsets[-1].as_py() - members.offsets[0].as_py()
    compacted = _compact_lists(piece).column("members").chunks[0]
    assert compacted.offsets[0].as_py() == 0
    assert len(compacted.values) == compacted.offsets[-1].as_py()
    assert compacted.to_pylist() == members.to_pylist()
    assert _compact_lists(table) is table  # a table of compact lists is left as it is
    # of a column in chunks, only the sliced ones are copied
    whole = table.column("members").chunks[0]
    mixed = _compact_lists(pa.concat_tables([piece, table])).column("members").chunks
    assert len(mixed[0].values) == mixed[0].offsets[-1].as_py()
    assert mixed[1].buffers()[1].address == whole.buffers()[1].address
    alone = pa.Table.from_pylist(piece.to_pylist(), schema=piece.schema)
    sliced = decide_batch(fujian, piece, AS_OF, engine="columnar")
    assert sliced.decisions.equals(decide_batch(fujian, alone, AS_OF,
                                                engine="columnar").decisions)
    assert sliced.decisions.to_pylist() == decide_batch(fujian, piece, AS_OF,
                                                        engine="record").decisions.to_pylist()
