"""Exact money in columns, refusals with their positions, rejects and inputs of the columnar
engine."""

from __future__ import annotations

import copy
import decimal
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from fangpin_rules import Policy
from fangpin_rules.columnar import decide_batch, records_to_arrow
from fangpin_rules.columnar.engine import ColumnarUnsupported, columnar_plan
from fangpin_rules.engine.serialize import decimal_text
from fangpin_rules.limits import DECIMAL_CONTEXT

from support import RECORDS_MD_HOUSEHOLD, policy_from_text

AS_OF = "2021-09-01"
PER_CAPITA = ("7151.99", "7152", "7152.01", "7867.19", "7867.2", "7867.21")


def household(number: int, size: int, net: Decimal) -> dict[str, Any]:
    record = copy.deepcopy(RECORDS_MD_HOUSEHOLD)
    record["household_id"] = f"B{number:04d}"
    member = record["members"][0]
    record["members"] = [dict(member, member_id=str(k + 1)) for k in range(size)]
    record["net_income"] = net
    record["previous_net_income"] = None
    record["rigid_expenditure"] = {}
    return record


def boundary_records() -> list[dict[str, Any]]:
    records = []
    for size in range(1, 8):
        for per_capita in PER_CAPITA:
            total = Decimal(per_capita) * size
            for shift in (Decimal("-0.01"), Decimal(0), Decimal("0.01")):
                records.append(household(len(records), size, total + shift))
    records.append(household(len(records), 3, Decimal("21455.99")))  # the example
    return records


def test_every_boundary_of_the_spec_is_exact(fujian: Policy) -> None:
    records = boundary_records()
    table = records_to_arrow(fujian, records)
    got = decide_batch(fujian, table, AS_OF, engine="columnar")
    assert got.rejects.num_rows == 0
    expected = decide_batch(fujian, table, AS_OF, engine="record").decisions.to_pylist()
    assert got.decisions.to_pylist() == expected
    for record, decision in zip(records, got.decisions.to_pylist(), strict=True):
        exact = Fraction(record["net_income"]) / len(record["members"])
        assert decision["in_range"] is (exact < 7152)
        with decimal.localcontext(DECIMAL_CONTEXT):
            quotient = Decimal(record["net_income"]) / len(record["members"])
        assert decision["per_capita_income"] == decimal_text(quotient)
    last = got.decisions.to_pylist()[-1]
    assert last["in_range"] is True  # 21455.99 / 3 = 7151.99666…, not 7152.00
    assert last["per_capita_income"].startswith("7151.9966666666")


def test_the_stability_line_is_strict(fujian: Policy) -> None:
    """7867.2 = 7152 x 1.1: a monitored household exactly on it is stable; a fen below is not."""
    records = []
    for size in (1, 3, 7):
        for shift in (Decimal("-0.01"), Decimal(0)):
            record = household(size, size, Decimal("7867.2") * size + shift)
            record["monitoring"] = {"status": "monitored", "category": "unstable",
                                    "since": "2021-03-01"}
            record["members"] = [dict(m, labour_capacity="normal", health="healthy",
                                      birth_date="1980-01-01") for m in record["members"]]
            record["food_clothing_secure"] = True
            record["basic_medical_secure"] = True
            record["housing_safe"] = True
            record["drinking_water_safe"] = True
            records.append(record)
    table = records_to_arrow(fujian, records)
    decisions = decide_batch(fujian, table, AS_OF, engine="columnar").decisions.to_pylist()
    reasons = [d["risk_elimination"]["reason"] for d in decisions]
    assert reasons == ["income_not_stable", None] * 3
    assert decisions == decide_batch(fujian, table, AS_OF, engine="record").decisions.to_pylist()


REFUSED = """\
policy:
  id: refused
  title: refused
  effective: 2021-01-01
decisions:
  rounded:
    expr: net_income > 0 and round(net_income, count(members)) > 100
"""


def test_a_construct_it_cannot_express_is_refused_with_its_position(tmp_path: Path) -> None:
    policy = policy_from_text(tmp_path, REFUSED)
    with pytest.raises(ColumnarUnsupported) as caught:
        columnar_plan(policy, policy.checked.document.policy.effective)
    (diagnostic,) = caught.value.diagnostics
    assert diagnostic.code == "columnar-unsupported"
    assert "round()" in diagnostic.message
    assert (Path(diagnostic.location.file).name, diagnostic.location.line,
            diagnostic.location.column) == ("policy.yaml", 7, 30)
    assert "pass engine='record'" in diagnostic.message


def test_bad_rows_go_to_rejects_as_on_the_record_path(fujian: Policy) -> None:
    import pyarrow as pa

    good = records_to_arrow(fujian, boundary_records()[:5])
    rows = good.to_pylist()
    rows[1]["members"] = []  # no member: per-capita income divides by zero
    rows[3]["members"] = rows[3]["members"] + rows[3]["members"][:1]  # the same member twice
    rows[4]["net_income"] = Decimal("-99999999999999")  # beyond the contract's amounts
    table = pa.Table.from_pylist(rows, schema=good.schema)
    by_column = decide_batch(fujian, table, AS_OF, engine="columnar")
    by_record = decide_batch(fujian, table, AS_OF, engine="record")
    assert by_column.rejects.to_pylist() == by_record.rejects.to_pylist()
    assert [r["row"] for r in by_column.rejects.to_pylist()] == [1, 3, 4]
    assert by_column.decisions.to_pylist() == by_record.decisions.to_pylist()
    assert by_column.decisions.num_rows + by_column.rejects.num_rows == table.num_rows


def test_a_polars_frame_is_decided_in_columns(fujian: Policy) -> None:
    table = records_to_arrow(fujian, boundary_records()[:10])
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    assert decide_batch(fujian, frame, AS_OF).decisions.to_pylist() == \
        decide_batch(fujian, table, AS_OF, engine="record").decisions.to_pylist()


def test_cases_are_decided_by_the_default_engine(fujian: Policy) -> None:
    """`cases=` is taken by the columnar engine, the default (tests/columnar/
    test_columnar_cases.py compares it on boundary cases)."""
    table = records_to_arrow(fujian, [RECORDS_MD_HOUSEHOLD])
    cases = {"350181-0001": [{"case_id": "C1", "household_id": "350181-0001",
                              "source": "routine_visit", "received_on": "2021-08-02"}]}
    expected = decide_batch(fujian, table, AS_OF, engine="record", cases=cases).decisions
    (decision,) = decide_batch(fujian, table, AS_OF, cases=cases).decisions.to_pylist()
    assert decision == expected.to_pylist()[0]
    assert {e["case_id"] for e in decision["deadlines"]} == {"C1"}


def test_an_unknown_engine_is_refused(fujian: Policy) -> None:
    table = records_to_arrow(fujian, [RECORDS_MD_HOUSEHOLD])
    for engine in ("gpu", "auto"):  # "auto" fell back silently: it is gone
        with pytest.raises(ValueError, match="engine must be one of"):
            decide_batch(fujian, table, AS_OF, engine=engine)


@pytest.mark.parametrize(("body", "what", "column"), [
    ("    expr: sum(net_income / count(members) for m in members) > 100\n",
     "sum() of a quotient", 11),
    ("    expr: min(net_income / (m.disability_grade ?? 1) for m in members) > 1\n",
     "min() of a quotient", 11),
])
def test_other_refusals_name_the_construct(tmp_path: Path, body: str, what: str,
                                           column: int) -> None:
    policy = policy_from_text(tmp_path, REFUSED.replace(
        "    expr: net_income > 0 and round(net_income, count(members)) > 100\n", body).replace(
        "decisions:\n", "definitions:\n  positive:\n    expr: net_income > 0\ndecisions:\n"))
    with pytest.raises(ColumnarUnsupported) as caught:
        columnar_plan(policy, policy.checked.document.policy.effective)
    (diagnostic,) = caught.value.diagnostics
    assert what in diagnostic.message
    assert (diagnostic.location.line, diagnostic.location.column) == (10, column)


def test_a_division_in_a_branch_not_taken_is_no_hazard(fujian: Policy) -> None:
    """`if previous > 0 then (previous - net) / previous else null`: a household without a
    previous income never divides, here as on the record path, so it stays in columns."""
    from datetime import date

    from fangpin_rules.columnar import input_schema

    records = boundary_records()[:6]
    records[0]["previous_net_income"] = Decimal(0)
    records[1]["previous_net_income"] = Decimal("14303.98")
    table = records_to_arrow(fujian, records).cast(input_schema(fujian))
    plan = columnar_plan(fujian, date(2021, 9, 1))
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    result = plan.query(frame.lazy()).collect()
    assert result.get_column("__fpc_hazard").to_list() == [False] * 6
    empty = pl.DataFrame(frame.to_arrow()).with_columns(pl.col("members").list.head(0))
    hazards = plan.query(empty.lazy()).collect().get_column("__fpc_hazard").to_list()
    assert hazards == [True] * 6  # no member: net_income / size divides by zero


def test_records_read_already_make_the_table_their_dicts_make(fujian: Policy,
                                                               monkeypatch: pytest.MonkeyPatch
                                                               ) -> None:
    """The typed reader's records, written as JSON lines and read by Arrow's JSON reader, are
    the table `Table.from_pylist` makes of their dicts, value for value: text with quotes,
    escapes and CJK, dates before 1970, decimals at the contract's places, a negative zero,
    null and absent values, empty and long lists; with a schema of fewer fields too."""
    import json

    import msgspec
    import pyarrow as pa

    from fangpin_rules.columnar import engine, input_schema
    from fangpin_rules.engine.serialize import dumps
    from fangpin_rules.engine.stream import read_item
    from fangpin_rules.engine.typed_json import typed_reader

    lines = [dumps(record) for record in boundary_records()[:40]]
    edited = [json.loads(line) for line in lines[:6]]
    edited[0]["household_id"] = 'B"0\\\\1\t闽 — ü'
    edited[0]["members"][0]["birth_date"] = "1901-02-28"
    edited[1]["net_income"] = Decimal("-0.00")
    edited[1]["previous_net_income"] = Decimal("12345678.99")
    edited[2]["rigid_expenditure"] = {"medical": Decimal("0.01"), "education": Decimal(0),
                                      "disaster": None, "accident": Decimal("99999.5")}
    edited[3]["members"] = [dict(edited[3]["members"][0], member_id=str(k)) for k in range(30)]
    edited[4]["monitoring"] = {"status": "monitored", "category": "marginal",
                               "since": "1969-12-31"}
    edited[5].pop("previous_net_income")
    lines += [dumps(record) for record in edited]
    reader = typed_reader(fujian.checked.record_model)
    records = [read_item(fujian, reader, number, line) for number, line in enumerate(lines, 1)]
    assert all(isinstance(record, msgspec.Struct) for record in records)  # the JSON route
    schema = input_schema(fujian)
    by_dicts = pa.Table.from_pylist([engine._builtins(r) for r in records], schema=schema)
    monkeypatch.setattr(engine, "_builtins", None)  # not called on the JSON route
    table = engine.records_table(records, schema)
    assert table.schema == schema
    assert table.to_pylist() == by_dicts.to_pylist()
    assert table.equals(by_dicts)
    fewer = pa.schema([schema.field(name) for name in ("household_id", "members", "dibao")])
    assert engine.records_table(records, fewer).equals(by_dicts.select(fewer.names))
