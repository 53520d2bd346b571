"""The columnar engine decides as the per-record compiled function does, field by field and
warnings included, on 200,000 boundary-dense synthetic households: for the province's policy,
every county example and the province under a region table; and on the anchors workload.
Marked slow (it is in every run).

Lean by construction: `BASE` households come from the boundary generator
(benchmarks/boundary_households.py); the others are copies of them with money set on a
boundary again (a per-capita income on a line of the spec, exactly or a fen of the household
total either side; a previous income of exactly twice or a fen either side; rigid spending
leaving an income on a line), made as typed records and as Arrow columns at once. The record
path is `Policy.decide_record` with the compiled function on the typed records; the columnar
engine decides the same rows as one table (`decide_validated`); the two are compared column
by column as Arrow arrays, the first differing row named."""

from __future__ import annotations

import functools
import random
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import pyarrow as pa
import pytest

from fangpin_rules import Policy, load_policy
from fangpin_rules.columnar import output_schema, records_to_arrow
from fangpin_rules.columnar.arrow import _arrow_converter
from fangpin_rules.columnar.engine import decide_validated
from fangpin_rules.engine.records import RecordError, parse_json
from fangpin_rules.engine.typed_json import typed_reader

from support import FUJIAN, ROOT, benchmark_module

MANY = 200_000  # households decided by each engine for the province (the figure)
BASE = 10_000  # of them generated; the others are boundary copies of these
COUNTY_SHARE = MANY // 4
ANCHORS = 50_000  # records of the anchors workload  # each county example: together as many again
REGIONS = ROOT / "policies" / "regions" / "fujian_example_regions.yaml"
COUNTIES = sorted((ROOT / "policies" / "counties").glob("*.yaml"))
pytestmark = pytest.mark.slow


def _fen(value: Decimal) -> int:
    return int(value * 100)


@functools.cache
def many_households(n: int, seed: int) -> tuple[list[Any], pa.Table]:
    """`n` boundary-dense households as typed records (the record path's input) and as one
    Arrow table of the contract's schema (the columnar engine's), row i = record i."""
    fujian = load_policy(FUJIAN)
    reader = typed_reader(fujian.checked.record_model)
    assert reader is not None
    base = [reader.convert(h) for h in
            benchmark_module("boundary_households").boundary_households(min(n, BASE), seed)]
    lines = [_fen(v) for v in benchmark_module("boundary_households").LINES]
    rng = random.Random(seed)
    records: list[Any] = []
    replace = msgspec.structs.replace
    zero = Decimal(0)
    for i in range(n):
        record = base[i % len(base)]
        size = len(record.members)
        if i < len(base):
            records.append(record)
            continue
        changes: dict[str, Any] = {"household_id": f"{record.household_id}-{i}"}
        if size:
            net = rng.choice(lines) * size + rng.choice((-1, 0, 0, 1))
            changes["net_income"] = Decimal(net).scaleb(-2)
            pick = rng.random()
            if pick < 0.4:  # a drop of exactly half, or a fen either side
                changes["previous_net_income"] = Decimal(
                    net * 2 + rng.choice((-1, 0, 1))).scaleb(-2)
            elif pick < 0.5:
                changes["previous_net_income"] = None
            spend = net - rng.choice(lines) * size - rng.choice((-1, 0, 1))
            if pick > 0.6 and spend > 0 and record.rigid_expenditure is not None:
                changes["rigid_expenditure"] = replace(  # the income after it on a line
                    record.rigid_expenditure, medical=Decimal(spend).scaleb(-2),
                    education=zero, disaster=zero, accident=zero)
        records.append(replace(record, **changes))
    # the table: the base rows repeated, the columns the copies change made from the records
    table = records_to_arrow(fujian, base).take(pa.array([i % len(base) for i in range(n)]))
    schema = table.schema
    for name in ("household_id", "net_income", "previous_net_income", "rigid_expenditure"):
        values = [getattr(r, name) for r in records]
        if name == "rigid_expenditure":
            values = [None if v is None else msgspec.to_builtins(v, builtin_types=(Decimal,))
                      for v in values]
        position = schema.get_field_index(name)
        table = table.set_column(position, schema.field(position),
                                 pa.array(values, schema.field(position).type))
    return records, table


def record_path(deciding: Any, records: list[Any], as_of: date,
                cases: dict[str, list[Any]] | None = None
                ) -> tuple[pa.Table, dict[int, Any]]:
    """The per-record compiled function's decisions (in the Arrow form) and, by row, the
    rejections of the records it cannot decide. `deciding` is a policy or a region table;
    `cases`, the households' checked cases."""
    from fangpin_rules.engine.regions import RegionalPolicy

    regional = deciding if isinstance(deciding, RegionalPolicy) else None
    base = regional.base if regional is not None else deciding
    evaluators: dict[int, Any] = {}
    converters = [(key, convert) for key, kind in base.checked.output_fields()
                  if (convert := _arrow_converter(kind)) is not None]
    decided: list[dict[str, Any]] = []
    failed: dict[int, Any] = {}
    for row, record in enumerate(records):
        try:
            policy = regional.policy_for(record) if regional is not None else base
            fast = evaluators.get(id(policy))
            if fast is None:
                fast = evaluators[id(policy)] = policy.evaluator(as_of)
            own = cases.get(record.household_id) if cases else None
            decision = policy.decide_record(fast, record, as_of, None, own)
        except RecordError as exc:
            failed[row] = exc.rejection
            continue
        for key, convert in converters:  # the Arrow form, as decide_batch's record path
            if decision[key] is not None:
                decision[key] = convert(decision[key])
        decided.append(decision)
    return pa.Table.from_pylist(decided, schema=output_schema(base)), failed


def assert_same_columns(policy: Policy, by_record: pa.Table, by_column: pa.Table) -> int:
    assert by_column.schema == by_record.schema
    assert by_column.num_rows == by_record.num_rows
    for name in by_record.column_names:
        want, got = by_record.column(name), by_column.column(name)
        if not got.equals(want):
            wrong = next(i for i in range(len(want)) if want[i] != got[i])
            pytest.fail(f"{policy.id}: {name} differs first at household "
                        f"{by_record.column('household_id')[wrong]}: record path "
                        f"{want[wrong]}, columnar {got[wrong]}")
    return by_record.num_rows


def assert_same(deciding: Any, records: list[Any], table: pa.Table, as_of: date,
                table_for_columns: pa.Table | None = None,
                cases: dict[str, list[Any]] | None = None) -> int:
    from fangpin_rules.columnar.cases import CaseTable
    from fangpin_rules.engine.regions import RegionalPolicy

    base = deciding.base if isinstance(deciding, RegionalPolicy) else deciding
    expected, refused = record_path(deciding, records, as_of, cases)
    decided, kept, failed = decide_validated(
        deciding, table if table_for_columns is None else table_for_columns, as_of,
        cases=CaseTable.of_checked(cases) if cases else None)
    assert {row: exc.rejection for row, exc in failed} == refused
    assert list(kept) == [row for row in range(len(records)) if row not in refused]
    return assert_same_columns(base, expected, decided)


def test_the_province_on_200000(fujian: Policy) -> None:
    records, table = many_households(MANY, 11)
    head = slice(BASE - 100, BASE + 20_000)  # the table built fast is the records' table
    assert records_to_arrow(fujian, records[head]).equals(table.slice(head.start, 20_100))
    assert assert_same(fujian, records, table, date(2021, 9, 1)) == MANY


WITH_CASES = 40_000  # households decided with their boundary cases (about 60 % have some)


def test_the_province_with_cases(fujian: Policy) -> None:
    """40,000 of the households (the base and money-moved copies of it), each base household's
    boundary cases given to it and to its copies, on two dates: the deadlines of every step, the
    quarterly visits and several cases a household, as the record path writes them."""
    from fangpin_rules.engine.records import checked_cases

    records, table = many_households(MANY, 11)
    generator = benchmark_module("boundary_households")
    base = checked_cases(generator.boundary_cases(
        list(generator.boundary_households(BASE, 11)), 12))
    originals = [r.household_id for r in records[:BASE]]
    cases = {}
    for row in range(WITH_CASES):
        own = base.get(originals[row % BASE])
        household = records[row].household_id
        if own:
            # checked cases are the typed reader's records (checked_case)
            cases[household] = [msgspec.structs.replace(
                case, household_id=household, case_id=f"{case.case_id}-{row}") for case in own]
    assert len(cases) > WITH_CASES // 2
    for as_of in (date(2021, 12, 31), date(2022, 6, 30)):
        assert assert_same(fujian, records[:WITH_CASES], table.slice(0, WITH_CASES), as_of,
                           cases=cases) == WITH_CASES


@pytest.mark.parametrize("path", COUNTIES, ids=lambda p: p.stem)
def test_each_county_example(path: Path) -> None:
    policy = load_policy(path, search_path=[ROOT / "policies"])
    records, table = many_households(MANY, 11)
    share = slice(COUNTIES.index(path) * COUNTY_SHARE, (COUNTIES.index(path) + 1) * COUNTY_SHARE)
    assert assert_same(policy, records[share], table.slice(share.start, COUNTY_SHARE),
                       date(2022, 6, 30)) == COUNTY_SHARE


def test_the_province_under_a_region_table(fujian: Policy,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    """The 200,000, each moved into a county of the example region table and decided with its
    values (both engines read the table). Where the columnar engine does not take region
    tables, the refusal must be the known one: `--engine columnar` does not take --regions."""
    from fangpin_rules.columnar import engine
    from fangpin_rules.engine.regions import load_regions

    with_region_column = getattr(engine, "with_region_column", None)
    if with_region_column is None:
        from fangpin_rules.cli.main import main
        code = main(["eval", str(FUJIAN), str(ROOT / "examples" / "households.jsonl"),
                     "--as-of", "2022-06-30", "--engine", "columnar", "--regions",
                     str(REGIONS)])
        assert code == 2
        assert "--engine columnar does not take --regions" in capsys.readouterr().err
        return
    regional = load_regions(fujian, REGIONS)
    records, table = many_households(MANY, 11)
    counties = sorted(regional.regions)  # every household moved into a county of the table
    codes = [None if r.region_code is None else counties[row % len(counties)] + r.region_code[6:]
             for row, r in enumerate(records)]
    records = [msgspec.structs.replace(r, region_code=code) for r, code in zip(records, codes,
                                                                                strict=True)]
    position = table.schema.get_field_index("region_code")
    table = table.set_column(position, table.schema.field(position),
                             pa.array(codes, pa.string()))
    in_table = [row for row, code in enumerate(codes) if code is not None]
    assert len(in_table) > MANY * 9 // 10
    picked = table.take(pa.array(in_table, pa.int64()))
    assert assert_same(regional, [records[row] for row in in_table], picked,
                       date(2022, 6, 30), with_region_column(picked)) == len(in_table)


def test_the_anchors_workload(tmp_path: Path) -> None:
    """The anchors workload (shared/bench/, its own record schema) as bench_anchors.py runs it:
    the workload's generator, benchmarks/anchors_policy.yaml."""
    bench = benchmark_module("bench_support").shared_bench() / "anchors"
    path = tmp_path / "anchors.jsonl"
    subprocess.run([sys.executable, str(bench / "gen_households.py"), str(ANCHORS), str(path)],
                   check=True, capture_output=True)
    policy = load_policy(ROOT / "benchmarks" / "anchors_policy.yaml")
    lines = path.read_text(encoding="utf-8").splitlines()
    reader = typed_reader(policy.checked.record_model)
    records = [(reader.decode(line) if reader is not None else None)
               or policy.validate(parse_json(line)) for line in lines]
    table = records_to_arrow(policy, records)
    assert assert_same(policy, records, table, date(2021, 1, 1)) == len(lines) == ANCHORS
