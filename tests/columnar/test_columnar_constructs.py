"""The constructs the columnar engine took last (region tables, round(), the working-day
functions, aggregates reading household values, arithmetic on a quotient): decided as the record
path decides them, field by field, warnings included, on their boundary values; and what is
still refused, refused with its position."""

from __future__ import annotations

import copy
from calendar import isleap
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from fangpin_rules import Policy, load_policy
from fangpin_rules.columnar import decide_batch, input_schema, records_to_arrow
from fangpin_rules.columnar.engine import ColumnarUnsupported, columnar_plan
from fangpin_rules.compiler.polars_backend import HAZARD_COLUMN
from fangpin_rules.engine.regions import RegionalPolicy, load_regions

from columnar_support import engines_agree
from support import RECORDS_MD_HOUSEHOLD, ROOT, benchmark_module, policy_from_text

AS_OF = "2021-09-01"
COUNTIES = sorted((ROOT / "policies" / "counties").glob("*.yaml"))
EXAMPLE_TABLE = ROOT / "policies" / "regions" / "fujian_example_regions.yaml"


def assert_same(policy: Policy | RegionalPolicy, table: Any, as_of: str = AS_OF) -> list[Any]:
    """Both engines on one table: the same rejects, and every field of every decision."""
    return engines_agree(policy, table, as_of)


def household(number: int, size: int, net: Decimal, **fields: Any) -> dict[str, Any]:
    record = copy.deepcopy(RECORDS_MD_HOUSEHOLD)
    record["household_id"] = f"B{number:04d}"
    member = record["members"][0]
    record["members"] = [dict(member, member_id=str(k + 1)) for k in range(size)]
    record["net_income"] = net
    record["previous_net_income"] = None
    record["rigid_expenditure"] = {}
    record.update(fields)
    return record


def around(lines: tuple[str, ...], sizes: range = range(1, 8), **fields: Any
           ) -> list[dict[str, Any]]:
    """Households whose per-capita income is each line exactly, and a fen of the household
    total either side, for households of each size."""
    records: list[dict[str, Any]] = []
    for size in sizes:
        for line in lines:
            for shift in (Decimal("-0.01"), Decimal(0), Decimal("0.01")):
                records.append(household(len(records), size, Decimal(line) * size + shift,
                                         **fields))
    return records


# -- region tables ------------------------------------------------------------------------------

def region_table(folder: Path, policy_id: str, lines: dict[str, str],
                 when: str = "2021-01-01", later: str = "") -> Path:
    """A region table giving each region (county code -> its monitoring line) from `when`
    (and `later` from April on, above any later floor)."""
    after = f"      - {{from: {when[:4]}-04-01, value: {later}}}\n" if later else ""
    text = [f"region_table:\n  id: test-regions\n  policy: {policy_id}\nregions:\n"]
    for code, line in lines.items():
        text.append(f'  "{code}":\n    name: region {code}\n'
                    f"    monitoring_line:\n      - {{from: {when}, value: {line}}}\n{after}")
    path = folder / "regions.yaml"
    path.write_text("".join(text), encoding="utf-8")
    return path


def test_a_region_line_of_7300_beside_the_provinces_7152(tmp_path: Path,
                                                          fujian: Policy) -> None:
    regional = load_regions(fujian, region_table(tmp_path, "fujian-2021",
                                                 {"350181": "7300", "350121": "7152"}))
    records = []
    for code in ("350181", "350121", "350121001"):  # a township's code reads its county's
        for record in around(("7152", "7300")):
            record["household_id"] = f"{code}-{len(records)}"
            record["region_code"] = code
            records.append(record)
    records.append(household(900, 3, Decimal(21900), region_code="350999"))  # not in it
    records.append(household(901, 3, Decimal(21900), region_code=None))
    table = records_to_arrow(fujian, records)
    plan = columnar_plan(regional, fujian.checked.document.policy.effective)
    assert plan.region_refs is not None and set(plan.region_refs) == {"350181", "350121"}
    got = assert_same(regional, table)
    by_id = {d["household_id"]: d for d in got}
    # 7299.99 per capita: in range under 7300, out of range under 7152
    inside = [d["in_range"] for d in got if d["monitoring_line"] == "7300"]
    outside = [d["in_range"] for d in got if d["monitoring_line"] == "7152"]
    assert inside.count(True) == 7 * 4 and outside.count(True) == 7 * 1 * 2
    assert len(by_id) == len(records) - 2
    rejects = decide_batch(regional, table, AS_OF).rejects.to_pylist()
    assert [r["field"] for r in rejects] == ["region_code", "region_code"]
    refs = {d["policy"]["sha256"] for d in got}
    assert len(refs) == 2  # each region's policy is its own, as on the record path


@pytest.mark.parametrize("as_of", ["2021-09-01", "2022-06-30", "2023-03-01", "2024-03-01"])
def test_the_example_region_table_on_boundary_households(fujian: Policy, as_of: str) -> None:
    regional = load_regions(fujian, EXAMPLE_TABLE)
    records = list(benchmark_module("boundary_households").boundary_households(1500, seed=7))
    codes = ("350121", "350526", "350582", "350582103", "350999")
    for number, record in enumerate(records):
        record["region_code"] = codes[number % len(codes)]
    got = assert_same(regional, records_to_arrow(fujian, records), as_of)
    assert len({d["monitoring_line"] for d in got}) == (1 if as_of < "2022" else 3)


@pytest.mark.parametrize("path", COUNTIES, ids=lambda p: p.stem)
def test_county_examples_with_a_region_table(tmp_path: Path, path: Path) -> None:
    county = load_policy(path, search_path=[ROOT / "policies"])
    as_of = "2022-03-01"
    line = Decimal(county.parameters_on(as_of)["monitoring_line"])
    higher = line + 148
    regional = load_regions(county, region_table(
        tmp_path, county.id, {"350181": str(higher), "350121": str(line)}, "2022-01-01", "40000"))
    records = around((str(line), str(higher)), range(1, 8, 2))
    records += list(benchmark_module("boundary_households").boundary_households(400, seed=5))
    for number, record in enumerate(records):
        record["household_id"] = f"C{number}"
        record["region_code"] = ("350181", "350121")[number % 2]
    got = assert_same(regional, records_to_arrow(county, records), as_of)
    assert {d["monitoring_line"] for d in got} == {str(line), str(higher)}


# -- round() ------------------------------------------------------------------------------------

ROUNDING = """\
policy:
  id: rounding
  title: rounding
  effective: 2021-01-01
parameters:
  places: {type: count, title: places, cite: §1, basis: document, value: 2}
definitions:
  size:
    expr: count(members)
  per_capita:
    expr: net_income / size
decisions:
  rounded:
    expr: round(per_capita)
  to_fen:
    expr: round(per_capita, places)
  to_tenth_negative:
    expr: round(0 - net_income, 1)
  on_the_line:
    expr: round(per_capita, 1) >= 7152
  whole:
    expr: round(size)
"""


def test_round_half_up_as_the_record_path(tmp_path: Path) -> None:
    policy = policy_from_text(tmp_path, ROUNDING)
    records = around(("7151.95", "7152.5", "7152.45", "0.5", "0.05"), range(1, 8))
    for net in ("-0.04", "-0.05", "-0.0004", "-7151.95", "0.0004", "0"):
        records.append(household(len(records), 1, Decimal(net)))
    records.append(household(len(records), 3, Decimal("21455.85")))  # 7151.95 per capita
    got = assert_same(policy, records_to_arrow(policy, records))
    by_net = {(len(r["members"]), str(r["net_income"])): d
              for r, d in zip(records, got, strict=True)}
    assert by_net[(1, "7152.5")]["rounded"] == "7153"  # half up, not half even
    assert by_net[(2, "14304.90")]["to_fen"] == "7152.45"
    assert by_net[(1, "-0.05")]["to_tenth_negative"] == "0.1"
    assert by_net[(1, "0.05")]["to_tenth_negative"] == "-0.1"  # away from zero
    assert by_net[(3, "21455.85")]["on_the_line"] is True  # 7151.95 rounds to 7152.0
    assert by_net[(1, "0.0004")]["to_tenth_negative"] == "-0"  # Decimal's -0, as recorded


# -- what is still refused ----------------------------------------------------------------------

def test_round_to_a_computed_number_of_places_is_refused(tmp_path: Path) -> None:
    policy = policy_from_text(tmp_path, ROUNDING.replace("round(per_capita, places)",
                                                         "round(per_capita, size)"))
    with pytest.raises(ColumnarUnsupported) as caught:
        columnar_plan(policy, policy.checked.document.policy.effective)
    (diagnostic,) = caught.value.diagnostics
    assert "round() to a number of places that is not a constant" in diagnostic.message
    assert "pass engine='record'" in diagnostic.message
    assert (diagnostic.location.line, diagnostic.location.column) == (16, 11)
    table = records_to_arrow(policy, [RECORDS_MD_HOUSEHOLD])
    with pytest.raises(ColumnarUnsupported):  # the default engine refuses too: no fallback
        decide_batch(policy, table, AS_OF)
    assert decide_batch(policy, table, AS_OF, engine="record").decisions.num_rows == 1


# -- the working-day functions ------------------------------------------------------------------

WORKING_DAYS = """\
policy:
  id: working
  title: working
  effective: 2021-01-01
parameters:
  wait: {type: duration, title: wait, cite: §1, basis: document, value: 5 working_days}
definitions:
  received:
    expr: monitoring.since ?? as_of
decisions:
  next_day:
    expr: next_working_day(received)
  working:
    expr: is_working_day(received)
  counted:
    expr: working_days_between(received, as_of)
  due:
    expr: received + wait
  before:
    expr: received - 3 working_days
  same:
    expr: received + 0 working_days
  late:
    expr: as_of > received + wait
procedure:
  follow_up:
    title: follow up
    cite: §1
    due: received + wait
"""


def received_on(days: list[date | None]) -> list[dict[str, Any]]:
    records = []
    for day in days:
        record = household(len(records), 2, Decimal(14304))
        record["monitoring"] = {"status": "monitored", "category": "unstable", "since": day} \
            if day else {"status": "none", "category": None, "since": None}
        records.append(record)
    return records


def test_working_days_across_holidays_and_adjusted_saturdays(tmp_path: Path) -> None:
    """National Day 2021 (1-7 October off, Sunday 26 September and Saturday 9 October worked)
    and the Spring Festival 2021 (11-17 February off, Sunday 7 and Saturday 20 February
    worked): every day around them, as the record path counts."""
    policy = policy_from_text(tmp_path, WORKING_DAYS)
    days: list[date | None] = [date(2021, 9, 20) + timedelta(days=k) for k in range(25)]
    days += [date(2021, 2, 5) + timedelta(days=k) for k in range(18)]
    days.append(None)
    table = records_to_arrow(policy, received_on(days))
    got = assert_same(policy, table, "2021-10-15")
    by_day = {str(day): d for day, d in zip(days, got, strict=True)}
    assert by_day["2021-10-09"]["working"] is True  # an adjusted Saturday
    assert by_day["2021-10-02"]["working"] is False
    # 8 (Friday), 9 (the Saturday worked), 11, 12, 13 October
    assert by_day["2021-09-30"]["due"] == date(2021, 10, 13)
    assert by_day["2021-10-01"]["next_day"] == date(2021, 10, 8)
    assert by_day["2021-02-10"]["due"] == date(2021, 2, 23)  # 18, 19, 20 (Saturday), 22, 23
    # the case-free step: due on as_of is pending, the day before overdue
    assert by_day["2021-10-09"]["deadlines"][0]["due"] == date(2021, 10, 15)
    assert by_day["2021-10-09"]["deadlines"][0]["status"] == "pending"
    assert by_day["2021-10-08"]["overdue"][0]["due"] == date(2021, 10, 14)
    # decided in columns: no row went to the record path
    plan = columnar_plan(policy, date(2021, 10, 15))
    frame = pl.from_arrow(table.cast(input_schema(policy)))
    assert isinstance(frame, pl.DataFrame)
    hazard = plan.query(frame.lazy()).collect().get_column("__fpc_hazard")
    assert not hazard.any()


def test_a_year_the_calendar_does_not_cover(tmp_path: Path) -> None:
    """Outside the covered years the record path rejects the household naming the year; the
    columnar engine hands exactly those rows to it."""
    policy = policy_from_text(tmp_path, WORKING_DAYS)
    days: list[date | None] = [date(2000, 5, 1), date(2026, 12, 30), date(2021, 6, 1)]
    for as_of in ("2021-10-15", "2026-12-31"):
        table = records_to_arrow(policy, received_on(days))
        assert_same(policy, table, as_of)
    rejects = decide_batch(policy, records_to_arrow(policy, received_on(days)),
                           "2026-12-31").rejects.to_pylist()
    assert [r["row"] for r in rejects] == [0, 1] and "2027" in rejects[1]["reason"]


def test_case_free_steps_in_order_where_they_apply(tmp_path: Path) -> None:
    """Several steps that read no case, each kept only where its `when` holds: the entries
    of each household in the record path's order (by step name)."""
    policy = policy_from_text(tmp_path, WORKING_DAYS + """\
  check_income:
    title: check income
    cite: §2
    when: net_income < 20000
    due: received + 10 days
  check_since:
    title: check since
    cite: §3
    when: monitoring.since != null
    due: received
""")
    days: list[date | None] = [date(2021, 10, 9), None, date(2021, 9, 1), None]
    records = received_on(days)
    records[1]["net_income"] = Decimal(30000)
    got = assert_same(policy, records_to_arrow(policy, records), "2021-10-15")
    steps = [[entry["step"] for entry in d["deadlines"]] for d in got]
    assert steps == [["check_income", "check_since", "follow_up"], ["follow_up"],
                     ["check_income", "check_since", "follow_up"],
                     ["check_income", "follow_up"]]


def test_working_days_inside_an_aggregate(tmp_path: Path) -> None:
    """A working-day question about each member: over the exploded list, by row."""
    policy = policy_from_text(tmp_path, WORKING_DAYS.replace(
        "next_working_day(received)",
        "count(is_working_day(m.birth_date ?? as_of) for m in members)").replace(
        "    expr: received - 3 working_days",
        "    expr: any(m.birth_date + wait > as_of for m in members)"))
    records = received_on([date(2021, 10, 9), None, None])
    records[0]["members"][0]["birth_date"] = "2021-10-09"  # the Saturday worked
    records[0]["members"][1]["birth_date"] = "2021-10-10"
    records[1]["members"][0]["birth_date"] = "2021-10-08"
    records[1]["members"][1]["birth_date"] = "2021-10-11"  # + 5 working days: the 18th
    table = records_to_arrow(policy, records)  # the third: born in 1956, not covered
    got = assert_same(policy, table, "2021-10-15")
    assert [d["next_day"] for d in got] == [1, 2] and [d["before"] for d in got] == [False, True]
    (rejected,) = decide_batch(policy, table, "2021-10-15").rejects.to_pylist()
    assert rejected["row"] == 2 and "1956" in rejected["reason"]


def test_a_working_day_question_in_a_warning_over_a_list(tmp_path: Path) -> None:
    policy = policy_from_text(tmp_path, WORKING_DAYS + """\
warnings:
  born_on_a_working_day:
    title: born on a working day
    cite: §1
    for: m in members
    when: is_working_day(m.birth_date ?? as_of) and received < as_of
    field: members[].birth_date
""")
    records = received_on([date(2021, 10, 9), None, date(2021, 10, 1)])
    records[0]["members"][0]["birth_date"] = "2021-10-09"  # the Saturday worked
    records[0]["members"][1]["birth_date"] = "2021-10-10"
    records[1]["members"][0]["birth_date"] = "2021-10-08"
    records[1]["members"][1]["birth_date"] = "2021-10-11"
    records[2]["members"][1]["birth_date"] = "2021-10-11"  # the first: 1956, not covered
    table = records_to_arrow(policy, records)
    got = assert_same(policy, table, "2021-10-15")
    assert [w["field"] for w in got[0]["warnings"]] == ["members[0].birth_date"]
    assert got[1]["warnings"] == []  # received on as_of
    assert decide_batch(policy, table, "2021-10-15").rejects.num_rows == 1


# -- aggregates reading household values --------------------------------------------------------

AGGREGATES = """\
policy:
  id: aggregates
  title: aggregates
  effective: 2021-01-01
parameters:
  line: {type: money, title: line, cite: §1, basis: document, value: 7152}
definitions:
  size:
    expr: count(members)
  per_capita:
    expr: net_income / size
  old:
    expr: "60"
decisions:
  elders_when_poor:
    expr: count(age(m.birth_date) >= old for m in members if per_capita < line)
  any_sick_poor:
    expr: any(m.health != "healthy" and formerly_poor for m in members)
  all_born_before:
    expr: all(m.birth_date < (monitoring.since ?? as_of) for m in members)
  youngest:
    expr: min(age(m.birth_date) for m in members if net_income > 0)
  ages_when_poor:
    expr: sum(age(m.birth_date) ?? 0 for m in members if per_capita < line)
  income_per_age:
    expr: any(net_income / (age(m.birth_date) ?? 1) > line for m in members)
"""


def test_aggregates_reading_household_values(tmp_path: Path) -> None:
    policy = policy_from_text(tmp_path, AGGREGATES)
    records = list(benchmark_module("boundary_households").boundary_households(1200, seed=3))
    records += around(("7152",), range(1, 8))  # per capita on the line, a fen either side
    for record in records[-21:]:
        record["members"] = [dict(m, birth_date="1950-01-01") for m in record["members"]]
    newborn = household(5000, 2, Decimal(100))  # age 0: the division by zero of one item
    newborn["members"][1]["birth_date"] = "2021-05-01"
    records.append(newborn)
    table = records_to_arrow(policy, records)
    got = assert_same(policy, table)
    on_line = got[-21:]  # the newborn household is rejected
    assert [d["elders_when_poor"] for d in on_line[:3]] == [1, 0, 0]  # 1 member: below only
    assert {d["any_sick_poor"] for d in got} == {True, False}
    rejects = decide_batch(policy, table, AS_OF).rejects.to_pylist()
    named = {r["household_id"]: r["reason"] for r in rejects}  # as the record path names them
    assert "income_per_age" in named["B5000"] and len(named) < len(records) // 4


def test_rows_decided_again_keep_their_places_among_the_rest(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows with a zero divisor, decided again on the record path, are put back in their rows
    (the first, the last, several in a row) and those it rejects are left out, the rest of
    the decisions in order around them."""
    from fangpin_rules.columnar import engine

    policy = policy_from_text(tmp_path, AGGREGATES)
    records = list(benchmark_module("boundary_households").boundary_households(300, seed=5))
    for at in (0, 1, 2, 150, len(records) - 1):
        newborn = household(9000 + at, 2, Decimal(100))  # age 0: its division by zero
        newborn["members"][1]["birth_date"] = "2021-05-01"
        records[at] = newborn
    table = records_to_arrow(policy, records)
    calls: list[tuple[int, int]] = []
    redecide = engine._redecide

    def counted(*args: Any, **kwargs: Any) -> Any:
        decided, rows, failed = redecide(*args, **kwargs)
        calls.append((sum(args[3].to_list()), len(failed)))
        return decided, rows, failed

    monkeypatch.setattr(engine, "_redecide", counted)
    got = assert_same(policy, table)
    ((hazards, failed),) = calls
    assert failed >= 5 and hazards > failed  # some decided again, some rejected
    rejected = {r["row"] for r in decide_batch(policy, table, AS_OF).rejects.to_pylist()}
    assert {0, 1, 2, 150, len(records) - 1} <= rejected
    assert [d["household_id"] for d in got] == [r["household_id"] for i, r in
                                                enumerate(records) if i not in rejected]


# -0 where Decimal makes one: written by the record path
SIGNS = """\
policy:
  id: signs
  title: signs
  effective: 2021-01-01
decisions:
  negated:
    expr: -net_income
  times:
    expr: net_income * -1
  shared:
    expr: (0 - net_income) / count(members)
"""


@pytest.mark.parametrize("redone", [2, 40])
@pytest.mark.parametrize("rejected", [False, True])
def test_rows_redecided_on_the_record_path_keep_their_places(tmp_path: Path, redone: int,
                                                              rejected: bool) -> None:
    """Rows the record path decides go there and back into their places, decided (no
    income, whose negation is Decimal's -0) or rejected (a member of age 0 divides): among
    1,500 rows, 2 (spliced in by slicing) or 40 (by one take)."""
    policy = policy_from_text(tmp_path, AGGREGATES if rejected else SIGNS)
    records = list(benchmark_module("boundary_households").boundary_households(1500, seed=5))
    for record in records:  # no newborn, no household without income, but those below
        record["members"] = [dict(m, birth_date="1980-01-01") for m in record["members"]]
        record["net_income"] = max(Decimal(record["net_income"]), Decimal(1))
    sized = [i for i, record in enumerate(records) if len(record["members"]) > 1]
    for i in sized[3:3 + 3 * redone:3]:
        if rejected:
            records[i]["members"][1]["birth_date"] = "2021-05-01"
        else:
            records[i]["net_income"] = Decimal(0)
    table = records_to_arrow(policy, records)
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    hazards = columnar_plan(policy, date(2021, 9, 1)).query(frame.lazy()).collect() \
        .get_column("__fpc_hazard")
    assert hazards.sum() == redone
    assert_same(policy, table)
    assert decide_batch(policy, table, AS_OF).rejects.num_rows == (redone if rejected else 0)


# -- arithmetic on a quotient -------------------------------------------------------------------

QUOTIENTS = """\
policy:
  id: quotients
  title: quotients
  effective: 2021-01-01
parameters:
  line: {type: money, title: line, cite: §1, basis: document, value: 7152}
definitions:
  size:
    expr: count(members)
  per_capita:
    expr: net_income / size
  previous:
    expr: previous_net_income ?? net_income
decisions:
  doubled:
    expr: per_capita * 2
  halved:
    expr: per_capita / 2
  back_again:
    expr: per_capita * size == net_income
  at_the_line_twice:
    expr: per_capita * 2 >= line * 2
  quotient_of_quotients:
    expr: if previous > 0 then (net_income / size) / (previous / size) >= 0.5 else false
  sum_of_fractions:
    expr: net_income / size + net_income / 7 < line
  rounded:
    expr: round(per_capita * 3, 2)
  two_thirds:
    expr: round(net_income / 3 * 2, 1)
"""


def test_arithmetic_on_a_quotient_as_the_record_path(tmp_path: Path) -> None:
    policy = policy_from_text(tmp_path, QUOTIENTS)
    records = around(("7152", "10000", "0.15", "0.25"), range(1, 8))
    for record in records:  # the drop exactly half, and a fen either side
        record["previous_net_income"] = record["net_income"] * 2
    records[1]["previous_net_income"] += Decimal("0.01")
    records[2]["previous_net_income"] -= Decimal("0.01")
    records += list(benchmark_module("boundary_households").boundary_households(800, seed=3))
    table = records_to_arrow(policy, records)
    got = assert_same(policy, table)
    by_key = {(len(r["members"]), r["net_income"]): d for r, d in zip(records, got, strict=True)}
    # 10000 / 3 * 3 is 9999.99…9 on the record path (74 digits), not 10000: so it is here
    assert by_key[(3, Decimal(30000))]["back_again"] is True  # 10000 exactly
    assert by_key[(3, Decimal("30000.01"))]["back_again"] is False
    assert by_key[(3, Decimal("21456"))]["at_the_line_twice"] is True  # 7152 x 2 on the line
    assert by_key[(3, Decimal("21455.99"))]["at_the_line_twice"] is False
    assert [d["quotient_of_quotients"] for d in got[:3]] == [True, False, True]
    # and most rows were decided in columns: only the inexact outputs and ties went back
    plan = columnar_plan(policy, date(2021, 9, 1))
    frame = pl.from_arrow(table.cast(input_schema(policy)))
    assert isinstance(frame, pl.DataFrame)
    hazard = plan.query(frame.lazy()).collect().get_column("__fpc_hazard")
    assert 0 < hazard.sum() < table.num_rows // 2


def test_a_quotient_of_sums_of_quotients_beyond_128_bits_is_refused(tmp_path: Path) -> None:
    """The exact fraction of (a/s - b/s) / (a/s + b/7) could need more than Int128: refused
    with its position (before its error bound, which then would never be reached)."""
    policy = policy_from_text(tmp_path, QUOTIENTS.replace(
        "per_capita * 2 >= line * 2",
        "(per_capita - previous / size) / (per_capita + previous / 7) >= 0.5"))
    with pytest.raises(ColumnarUnsupported) as caught:
        columnar_plan(policy, date(2021, 9, 1))
    (diagnostic,) = caught.value.diagnostics
    assert "could exceed 128 bits" in diagnostic.message
    assert (diagnostic.location.line, diagnostic.location.column) == (22, 12)


def test_a_negative_zero_is_written_as_the_record_path_writes_it(tmp_path: Path) -> None:
    """Decimal keeps the sign of a zero (0 * -1 is -0, written "-0"); a written zero of an
    expression that could make one is the record path's to write."""
    policy = policy_from_text(tmp_path, SIGNS)
    records = [household(n, 1 + n % 3, Decimal(v)) for n, v in
               enumerate(("0", "0.00", "1", "-1", "7152", "0"))]
    got = assert_same(policy, records_to_arrow(policy, records))
    assert [d["times"] for d in got[:2]] == ["-0", "-0"]
    assert got[2]["times"] == "-1" and got[3]["negated"] == "1"


# (expression, whether a written zero of it may be Decimal's -0): only those rows go to the
# record path; the others' zeros are written in columns
ZERO_SIGNS = [
    ("net_income / count(members)", False),  # the province's per-capita income
    ("(net_income - 10) / size", False),  # a definition read: a count is never signed
    ("(0 - net_income) / count(members)", False),  # 0 - 0 is +0
    ("net_income * 2", False),
    ("net_income * factor", False),  # a parameter of a positive value
    ("net_income * -2", True),  # 0 * -2 is -0
    ("net_income * minus", True),  # a parameter of a negative value
    ("net_income / (0 - count(members))", True),  # 0 / -n is -0
    ("-net_income", False),  # Decimal's negation of a zero is +0
    ("abs(net_income * -1)", True),  # the record path's abs keeps a -0
    ("net_income * -1 + 1", False),  # -0 + 1 is 1, and -1 + 1 is +0
    ("net_income * -1 + net_income * -1", True),  # -0 + -0 is -0
    ("net_income * -1 - 0", True),  # -0 - 0 is -0
    ("round(net_income - 10, 1)", True),  # -0.03 rounds to -0.0
    ("if net_income > 5 then net_income else net_income * -1", True),
    ("sum(m.disability_grade ?? 0 for m in members)", False),
]


@pytest.mark.parametrize(("expr", "minus_zero"), ZERO_SIGNS)
def test_only_a_zero_that_may_be_signed_goes_to_the_record_path(tmp_path: Path, expr: str,
                                                                 minus_zero: bool) -> None:
    """Decimal keeps the sign of a zero by IEEE 754's rules: a written zero is sent to the
    record path only where the expression may make a -0, and both engines write the same
    digits either way (the per-capita income of a household of no income had gone there)."""
    policy = policy_from_text(tmp_path, f"""\
policy:
  id: zero-signs
  title: zero signs
  effective: 2021-01-01
parameters:
  factor: {{type: ratio, title: factor, cite: §1, basis: document, value: 3}}
  minus: {{type: ratio, title: minus, cite: §1, basis: document, value: -1}}
definitions:
  size:
    expr: count(members)
decisions:
  value:
    expr: {expr}
""")
    nets = ("0", "0.00", "10", "9.97", "10.03", "1", "-1", "5", "-0.5")
    records = [household(n, 1 + n % 3, Decimal(v)) for n, v in enumerate(nets)]
    table = records_to_arrow(policy, records)
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    hazards = columnar_plan(policy, date(2021, 9, 1)).query(frame.lazy()).collect() \
        .get_column(HAZARD_COLUMN)
    assert bool(hazards.any()) == minus_zero
    got = assert_same(policy, table)
    if minus_zero:  # the sample makes one
        assert "-0" in {d["value"].split(".")[0] for d in got if d["value"] is not None}


def test_a_region_parameter_in_a_warning_over_a_list(tmp_path: Path, fujian: Policy) -> None:
    """The province's school-age warning with a region's own age: over the exploded list."""
    table = tmp_path / "regions.yaml"
    table.write_text('region_table:\n  id: test-regions\n  policy: fujian-2021\nregions:\n'
                     '  "350181":\n    name: a\n    compulsory_education_min_age:\n'
                     '      - {from: 2021-01-01, value: 7}\n'
                     '  "350121":\n    name: b\n', encoding="utf-8")
    regional = load_regions(fujian, table)
    records = []
    for code in ("350181", "350121"):
        for birth in ("2015-03-01", "2014-09-02", "2014-09-01", "2013-01-01"):
            record = household(len(records), 2, Decimal(30000), region_code=code)
            record["members"][1].update(birth_date=birth, dropped_out=True)
            records.append(record)
    records += list(benchmark_module("boundary_households").boundary_households(300, seed=8))
    for number, record in enumerate(records[8:]):
        record["region_code"] = ("350181", "350121")[number % 2]
    got = assert_same(regional, records_to_arrow(fujian, records))
    codes = [[w["code"] for w in d["warnings"]].count("dropout_outside_school_age")
             for d in got[:8]]
    assert codes[:4] != codes[4:]  # the region's age moves the warning
    assert columnar_plan(regional, date(2021, 9, 1)).joins  # the age differs: read per item


def test_a_parameter_the_same_in_every_region_is_a_constant_in_a_list(fujian: Policy) -> None:
    """The example table's regions differ in their lines only: the aggregates over members
    reading other parameters stay list expressions (exploding the members for each one and
    joining them back cost 10 times the query), as without a table; in 2021 no value differs."""
    regional = load_regions(fujian, EXAMPLE_TABLE)
    assert columnar_plan(fujian, date(2022, 6, 30)).joins == {}
    for when in (date(2021, 9, 1), date(2022, 6, 30), date(2024, 3, 1)):
        assert columnar_plan(regional, when).joins == {}


STILL_REFUSED = """\
policy:
  id: refused
  title: refused
  effective: 2021-01-01
definitions:
  size:
    expr: count(members)
decisions:
  refused:
    expr: {expr}
"""


@pytest.mark.parametrize(("expr", "what", "column"), [
    ("round(net_income, 0 - 1)", "round() to negative places", 11),
    ("net_income / 0 > 1", "a division by the constant zero", 11),
    ("max(net_income / size for m in members) > 1", "max() of a quotient", 11),
    ("round(net_income, size) > 1", "round() to a number of places that is not a constant",
     11),
])
def test_what_is_still_refused_names_itself(tmp_path: Path, expr: str, what: str,
                                            column: int) -> None:
    policy = policy_from_text(tmp_path, STILL_REFUSED.replace("{expr}", expr))
    with pytest.raises(ColumnarUnsupported) as caught:
        columnar_plan(policy, date(2021, 9, 1))
    (diagnostic,) = caught.value.diagnostics
    assert what in diagnostic.message and "pass engine='record'" in diagnostic.message
    assert (diagnostic.location.line, diagnostic.location.column) == (10, column)


def test_warnings_over_a_list_reading_household_values(tmp_path: Path) -> None:
    policy = policy_from_text(tmp_path, STILL_REFUSED.replace("{expr}", "size > 0") + """\
warnings:
  thin:
    title: thin
    cite: §1
    for: m in members
    when: net_income / (age(m.birth_date) ?? 1) > 5000
    field: members[].birth_date
  healthy_when_poor:
    title: healthy when poor
    cite: §1
    for: m in members
    when: net_income < 20000 and m.health == "healthy"
    field: members[].health
""")
    records = list(benchmark_module("boundary_households").boundary_households(600, seed=2))
    table = records_to_arrow(policy, records)
    got = assert_same(policy, table)
    fields = {w["field"].split("[")[0] + w["code"] for d in got for w in d["warnings"]}
    assert fields == {"membersthin", "membershealthy_when_poor"}
    rejects = decide_batch(policy, table, AS_OF).rejects.to_pylist()
    assert rejects and all("thin" in r["reason"] or "division" in r["reason"] for r in rejects)


@pytest.mark.parametrize(("dense_bits", "int32_bits"), [(0, 31), (16, 31), (16, 0), (0, 0)])
def test_label_lists_by_either_look_up(fujian: Policy, dense_bits: int, int32_bits: int,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """The label sets read by a table of all masks (at most 16 labels) or by hashing each
    mask (more), masks of Int32 (at most 31 labels) or Int64 bits, are the record path's."""
    from fangpin_rules.columnar import engine

    monkeypatch.setattr(engine, "_DENSE_MASK_BITS", dense_bits)
    monkeypatch.setattr(engine, "_INT32_MASK_BITS", int32_bits)
    records = list(benchmark_module("boundary_households").boundary_households(400, seed=9))
    got = assert_same(fujian, records_to_arrow(fujian, records))
    assert len({tuple(d["risks"]) for d in got}) > 10


CHOSEN = {  # a first_match decision (category's otherwise is null) compared with texts
    "is_marginal": 'category == "marginal"', "not_marginal": 'category != "marginal"',
    "marginal_is": '"marginal" == category', "single": 'assistance_mode == "single"',
    "either": 'category in ["marginal", "unstable"]',
    "neither": 'category not in ["marginal", "unstable"]',
    "none_of": 'assistance_mode in ["single"] and category not in ["sudden_hardship"]',
    "known": "category != null", "unknown": "null == category",
}


def test_a_first_match_compared_with_texts_by_its_rule(tmp_path: Path, fujian: Policy) -> None:
    """`d == "x"`, `!=`, `in [...]` and `d == null` of a first_match decision are decided
    from its rule's number, its text column left out of the query; as the record path decides
    them, a null decision (no rule holds) included."""
    import yaml

    document = yaml.safe_load((ROOT / "policies" / "fujian_2021.yaml").read_text("utf-8"))
    for name, expr in CHOSEN.items():
        document["decisions"][name] = {"expr": expr}
    policy = policy_from_text(tmp_path, yaml.safe_dump(document, allow_unicode=True))
    records = list(benchmark_module("boundary_households").boundary_households(1500, seed=6))
    got = assert_same(policy, records_to_arrow(policy, records))
    assert {d["category"] for d in got} >= {None, "marginal", "unstable"}
    for name in CHOSEN:
        assert {d[name] for d in got} == {True, False}, name
    plan = columnar_plan(policy, date(2021, 9, 1))
    (category,) = [c for c in plan.outputs if c.key == "category"]
    assert category.form == "choice"
    text = category.columns[0].removesuffix("_rule")
    query = plan.query(pl.from_arrow(records_to_arrow(policy, records[:5])).lazy())
    assert f'"{text}"' not in query.select(
        [c.columns[0] for c in plan.outputs if c.key in CHOSEN]).explain()


COMPUTED_MEMBERSHIP = {  # membership in a list of computed values, or of a computed text
    "size_listed": "count(members) in [smallest_size, count(members) - 1, 3]",
    "size_unlisted": "count(members) not in [smallest_size + 1, 5]",
    "per_capita_listed": "per_capita_income in [monitoring_line, monitoring_line * 1.1]",
    "income_listed": "net_income in [previous_net_income, 7152 * count(members)]",
    "since_listed": "monitoring.since in [dibao.since, null]",
    "region_listed": 'region_code in [watched_region, "350121"]',
    "old_member": "any(m.birth_date in [dibao.since, as_of - 70 years] for m in members)",
    "watched": "watched_risk in risks",
    "unwatched": "watched_risk not in risks",
    "main_listed": "main_risk in risks",
    "main_named": 'main_risk in ["illness", watched_risk]',
    "picked": '(if in_range then "low_income" else "income_drop") in risks',
    "mode_listed": 'assistance_mode in [if in_range then "single" else "comprehensive"]',
    # an exploded aggregate read once per item: one join, its column read three times
    "sum_listed": "sum((if m.orphan == true then net_income else 0.5) for m in members) in "
                  "[net_income, 0.5, 1]",
}


def test_membership_of_computed_values(tmp_path: Path) -> None:
    """`x in [a, b]` with computed items is the record path's `==` item by item (a null equals
    a null; a per-capita income on the line is the record path's), and a computed text (a
    parameter, a first_match decision, a conditional) in a set of labels is its label's flag:
    decided as the record path decides them."""
    import yaml

    document = yaml.safe_load((ROOT / "policies" / "fujian_2021.yaml").read_text("utf-8"))
    for name, kind, value in (("smallest_size", "count", 2), ("watched_risk", "string",
                                                               "illness"),
                              ("watched_region", "string", "350181")):
        document["parameters"][name] = {"type": kind, "title": name, "cite": "§1",
                                        "basis": "interpretation",
                                        "values": [{"from": "2021-01-01", "value": value}]}
    document["decisions"]["main_risk"] = {
        "kind": "first_match", "type": "risk", "title": "main risk", "cite": "§1",
        "otherwise": None, "rules": [
            {"id": "main.low", "title": "low", "cite": "§1", "when": "in_range",
             "then": "low_income"},
            {"id": "main.ill", "title": "ill", "cite": "§1", "then": "illness",
             "when": 'any(m.health == "serious_illness" for m in members)'}]}
    for name, expr in COMPUTED_MEMBERSHIP.items():
        document["decisions"][name] = {"expr": expr}
    policy = policy_from_text(tmp_path, yaml.safe_dump(document, allow_unicode=True))
    records = list(benchmark_module("boundary_households").boundary_households(1500, seed=7))
    records += around(("7152", "7867.2"), region_code="350181")
    for number, record in enumerate(records):
        if number % 3 == 0:  # some known, some equal to the monitoring date
            record["dibao"] = dict(record.get("dibao") or {}, since="2020-05-01")
            record["monitoring"] = dict(record.get("monitoring") or {}, since="2020-05-01")
        if number % 5 == 0:
            record["previous_net_income"] = record["net_income"]
    got = assert_same(policy, records_to_arrow(policy, records))
    for name in COMPUTED_MEMBERSHIP:
        assert {d[name] for d in got} == {True, False}, name


NESTED = {  # aggregates inside aggregates: reading the outer item, household values, or neither
    "twins": "any(count(n.birth_date == m.birth_date for n in members) > 1 "
             "for m in members)",
    "lone_workers": 'count(m.labour_capacity == "normal" and '
                    'all(n.labour_capacity != "normal" or n.member_id == m.member_id '
                    "for n in members) for m in members)",
    "someone_healthy": 'any(any(n.health == "healthy" for n in members) for m in members)',
    "elders_beside": "count(m.orphan == true and "
                     "count(age(n.birth_date) >= 60 for n in members) > 0 for m in members)",
    "older_pairs": "sum(count(n.birth_date < m.birth_date for n in members) "
                   "for m in members)",
    "shared_birthday_three": "any(any(any(k.birth_date == n.birth_date and "
                             "k.member_id != n.member_id and k.member_id != m.member_id "
                             "for k in members) for n in members if n.member_id != m.member_id) "
                             "for m in members)",
    "poor_and_old": "all(m.disability_grade == null or net_income < 20000 * "
                    "count(n.birth_date >= m.birth_date for n in members) "
                    "for m in members)",
}


def _with_twins(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for number, record in enumerate(records):  # some members born on the same day
        members = record["members"]
        if number % 4 == 0 and len(members) > 1:
            members[1]["birth_date"] = members[0]["birth_date"]
        if number % 8 == 0 and len(members) > 2:
            members[2]["birth_date"] = members[0]["birth_date"]
    return records


def test_nested_aggregates(tmp_path: Path) -> None:
    """An aggregate inside an aggregate over members (the inner reading the outer's item,
    household values, or only its own item; three deep; in a warning over members): each
    exploded aggregate's inner ones run over its own exploded rows, grouped by its item's
    row. Decided as the record path decides them, each decision both ways somewhere."""
    import yaml

    document = yaml.safe_load((ROOT / "policies" / "fujian_2021.yaml").read_text("utf-8"))
    for name, expr in NESTED.items():
        document["decisions"][name] = {"expr": expr}
    document["warnings"]["shared_birthday"] = {
        "title": "born on the same day", "cite": "§18", "for": "m in members",
        "field": "members[].birth_date",
        "when": "count(n.birth_date == m.birth_date for n in members) > 1"}
    policy = policy_from_text(tmp_path, yaml.safe_dump(document, allow_unicode=True))
    plan = columnar_plan(policy, date(2021, 9, 1))
    records = _with_twins(list(benchmark_module("boundary_households").boundary_households(
        1200, seed=11)))
    got = assert_same(policy, records_to_arrow(policy, records))
    for name in NESTED:
        values = {d[name] for d in got}
        assert len(values) > 1, (name, values)
    assert any(w["code"] == "shared_birthday" for d in got for w in d["warnings"])
    assert plan.joins  # the exploded aggregates


def test_the_query_grows_with_the_aggregates_it_joins_not_doubling(tmp_path: Path) -> None:
    """Each exploded aggregate reads the frame twice (its items, and the join back): cached,
    the query's plan grows by about its own size with each one. Uncached it doubled with each
    (the optimised plan of seven: 2,295,398 characters against 28,543 for one, and the
    nested aggregates' test took 62 s instead of 3)."""
    import yaml

    sizes = []
    for count in (1, len(NESTED)):
        document = yaml.safe_load((ROOT / "policies" / "fujian_2021.yaml").read_text("utf-8"))
        for name in list(NESTED)[:count]:
            document["decisions"][name] = {"expr": NESTED[name]}
        folder = tmp_path / str(count)
        folder.mkdir()
        policy = policy_from_text(folder, yaml.safe_dump(document, allow_unicode=True))
        plan = columnar_plan(policy, date(2021, 9, 1))
        empty = pl.from_arrow(input_schema(policy).empty_table())
        assert isinstance(empty, pl.DataFrame)
        sizes.append(len(plan.query(empty.lazy()).explain()))
    assert sizes[1] < 3 * sizes[0], sizes


def test_a_division_by_zero_inside_a_nested_aggregate(tmp_path: Path) -> None:
    """The youngest member has nobody younger: the record path rejects the household
    (a division by zero), so the columnar engine leaves it to the record path, which does."""
    policy = policy_from_text(tmp_path, STILL_REFUSED.replace(
        "{expr}", "any(net_income / count(n.birth_date < m.birth_date for n in members)"
        " > 5000 for m in members if m.orphan == true)"))
    records = _with_twins(list(benchmark_module("boundary_households").boundary_households(
        600, seed=12)))
    table = records_to_arrow(policy, records)
    got = assert_same(policy, table)
    rejects = decide_batch(policy, table, AS_OF).rejects.to_pylist()
    assert got and rejects and all("division" in r["reason"] for r in rejects)
    assert {d["refused"] for d in got} == {True, False}


@pytest.mark.parametrize("mask_most", [62, 3, 0])
@pytest.mark.parametrize("item_hits", [True, False])
def test_warning_lists_of_every_kind(fujian: Policy, mask_most: int, item_hits: bool,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The warnings of each household, in rule order then item order: the rules about the
    household read from a mask per row, those beyond the mask (all of them at 0) and the
    items of the rules over members merged in; a batch with no item's warning at all takes
    each row's list from its mask alone."""
    from fangpin_rules.columnar import engine

    monkeypatch.setattr(engine, "_MASK_MOST", mask_most)
    records = list(benchmark_module("boundary_households").boundary_households(2000, seed=4))
    if not item_hits:  # members of working age, in school, born long ago: no item's warning
        for record in records:
            for member in record["members"]:
                member.update(birth_date="1980-01-01", dropped_out=False)
    got = assert_same(fujian, records_to_arrow(fujian, records))
    fields = [w["field"] for d in got for w in d["warnings"]]
    assert any("[" in f for f in fields) == item_hits
    assert sum(len(d["warnings"]) > 1 for d in got) > 10  # rows of several rules each
    if item_hits:  # a row with an item's warning between rules about the household
        assert any(len(d["warnings"]) > 2 and any("[" in w["field"] for w in d["warnings"])
                   for d in got)


# -- age() compared with a constant ------------------------------------------------------------

# compiled as a comparison of d with one date (polars_backend `age_threshold`): the record
# path's answer at every birthday boundary, Feb 29 births and evaluation dates around Feb 29
COMPARISONS = {
    "ge": "age(dibao.since) >= 16", "gt": "age(dibao.since) > 16",
    "lt": "age(dibao.since) < 16", "le": "age(dibao.since) <= 16",
    "k_le": "16 <= age(dibao.since)", "k_lt": "16 < age(dibao.since)",
    "k_gt": "16 > age(dibao.since)", "k_ge": "16 >= age(dibao.since)",
    "ge_half": "age(dibao.since) >= half", "gt_half": "age(dibao.since) > half",
    "lt_half": "age(dibao.since) < half", "le_half": "age(dibao.since) <= half",
    "half_gt": "half > age(dibao.since)", "half_le": "half <= age(dibao.since)",
    "ge_ceil": "age(dibao.since) >= 15.5", "le_floor": "age(dibao.since) <= 16.5",
    "of_age": "age(dibao.since) >= adult", "not_born": "age(dibao.since) < 0",
    "born": "age(dibao.since) > -1",
}
OUT_OF_RANGE = {"ancient": "age(dibao.since) < 3000", "far_future": "age(dibao.since) > -8000"}

AGES = """\
policy:
  id: ages
  title: ages
  effective: 2000-01-01
parameters:
  adult: {type: count, title: adult, cite: §1, basis: document, value: 17}
  half: {type: number, title: half, cite: §1, basis: document, value: 15.5}
decisions:
""" + "".join(f"  {name}:\n    expr: {expr}\n"
              for name, expr in {**COMPARISONS, **OUT_OF_RANGE}.items()) + """\
  any_adult:
    expr: any(age(m.birth_date) >= adult for m in members)
  minors:
    expr: count(age(m.birth_date) < 16 for m in members)
warnings:
  minor:
    title: minor
    cite: §1
    for: m in members
    when: 16 > age(m.birth_date) or age(m.birth_date) > 16.5
    field: members[].birth_date
"""

AGE_DATES = [date(2020, 2, 28), date(2020, 2, 29), date(2020, 3, 1), date(2021, 2, 28),
         date(2021, 3, 1), date(2021, 9, 1), date(2024, 2, 29)]


def births(as_of: date) -> list[date]:
    """For the thresholds 15 to 18 years: the day before, of and after the birthday reached
    on `as_of`, and Feb 28, Feb 29 (leap years) and Mar 1 of each year."""
    days: set[date] = set()
    for years in range(14, 19):
        year = as_of.year - years
        month, day = as_of.month, as_of.day
        if (month, day) == (2, 29) and not isleap(year):
            day = 28
        birthday = date(year, month, day)
        days.update(birthday + timedelta(days=shift) for shift in (-1, 0, 1))
        days.update(date(year, 3, 1) - timedelta(days=shift) for shift in (0, 1, 2))
    days.update({as_of, as_of + timedelta(days=1)})  # age 0 and not yet born
    return sorted(days)


def records(as_of: date) -> list[dict[str, Any]]:
    out = []
    days: list[date | None] = [*births(as_of), None]
    for number, day in enumerate(days):
        text = None if day is None else day.isoformat()
        record = household(number, 1, 20000, dibao={"enrolled": True, "since": text,
                                                    "income_above_standard_on": None})
        record["members"][0]["birth_date"] = text
        out.append(record)
    # a household of several members: the warning's items in order, and count()
    record = household(len(out), 3, 20000)
    for member, day in zip(record["members"], days[::7], strict=False):
        member["birth_date"] = None if day is None else day.isoformat()
    out.append(record)
    return out


@pytest.fixture(scope="module")
def ages(tmp_path_factory: pytest.TempPathFactory) -> Policy:
    policy: Policy = policy_from_text(tmp_path_factory.mktemp("ages"), AGES)
    return policy


@pytest.mark.parametrize("as_of", AGE_DATES, ids=str)
def test_age_against_a_constant_as_the_record_path(ages: Policy, as_of: date) -> None:
    table = records_to_arrow(ages, records(as_of))
    got = assert_same(ages, table, as_of.isoformat())
    # the boundaries are reached: each comparison is true for some household, false for others
    for name in [*COMPARISONS, "any_adult"]:
        assert {d[name] for d in got[:-2]} == {True, False}, name
    assert sum(bool(d["warnings"]) for d in got) > 3


def stage_texts(policy: Policy, as_of: date) -> dict[str, str]:
    plan = columnar_plan(policy, as_of)
    return {name: str(stage[0]) for name, stage in zip(policy.checked.order, plan.stages,
                                                       strict=True)}


def test_the_comparison_reads_one_date_not_the_date_parts(ages: Policy) -> None:
    texts = stage_texts(ages, date(2021, 9, 1))
    for name in [*COMPARISONS, "any_adult", "minors"]:
        assert ".dt." not in texts[name] and "(20" in texts[name], (name, texts[name])
    assert "(2005-09-01)" in texts["ge"] and "(2004-09-01)" in texts["gt"]  # 16, 17 years
    assert "(2005-09-01)" in texts["ge_half"] and "(2004-09-01)" in texts["le_floor"]
    for name in OUT_OF_RANGE:  # no date of years 1 to 9999: the general formula
        assert ".dt.year()" in texts[name], name
    assert ".dt." not in str(columnar_plan(ages, date(2021, 9, 1)).warnings[0])


def test_feb_29_thresholds(ages: Policy) -> None:
    texts = stage_texts(ages, date(2020, 2, 29))
    assert "(2004-02-29)" in texts["ge"] and "(2003-02-28)" in texts["gt"]  # leap, common


def test_a_decimal_field_of_the_record_is_converted_once(fujian: Policy) -> None:
    """Each money field the policy reads becomes an integer column once, before the stages;
    the stages, warnings and hazard read that column."""
    plan = columnar_plan(fujian, date(2021, 9, 1))
    prelude = {str(expr).rsplit('alias("', 1)[1].rstrip('")') for expr in plan.prelude}
    assert prelude == {"__fpc_f_net_income", "__fpc_f_previous_net_income",
                       *(f"__fpc_f_rigid_expenditure__{part}"
                         for part in ("medical", "education", "disaster", "accident"))}
    texts = [str(e) for stage in plan.stages for e in stage] + \
        [str(e) for e in plan.warnings] + [str(plan.hazard)]
    assert not any("(dyn int: 10000)" in text for text in texts)
    assert sum('col("__fpc_f_net_income")' in text for text in texts) >= 3


def test_text_membership_in_a_few_literals_is_equalities(fujian: Policy) -> None:
    """`m.labour_capacity in ["normal", "skilled", "weak"]`: three equalities, not is_in (a
    third of its cost); an unknown capacity is in no list, as on the record path (the boundary
    households have some)."""
    plan = columnar_plan(fujian, date(2021, 9, 1))
    names = list(fujian.checked.order)
    has_labour = str(plan.stages[names.index("has_labour")][0])
    assert "is_in" not in has_labour and has_labour.count('==v ("') + \
        has_labour.count('== ("') == 3
