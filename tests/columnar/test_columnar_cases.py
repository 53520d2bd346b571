"""The households' cases decided in columns: the deadlines of every step of the procedure (each
kind, the quarterly visits, several cases a household) as the record path writes them, field by
field, on boundary-dense households and cases (benchmarks/boundary_households.py)."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from typing import Any

import pytest

from fangpin_rules import Policy, load_policy
from fangpin_rules.columnar import decide_batch, records_to_arrow
from fangpin_rules.engine.records import RecordError
from fangpin_rules.model import Case

from columnar_support import DURATION_REGIONS, engines_agree
from support import RECORDS_MD_HOUSEHOLD, ROOT, benchmark_module, province_with_steps

COUNTIES = sorted((ROOT / "policies" / "counties").glob("*.yaml"))
REGIONS = ROOT / "policies" / "regions" / "fujian_example_regions.yaml"
DATES = ["2021-09-01", "2021-10-20", "2022-06-30", "2024-03-01"]


def sample(n: int, seed: int, share: float = 0.6
           ) -> tuple[list[dict[str, Any]], dict[str, list[dict[str, Any]]]]:
    generator = benchmark_module("boundary_households")
    households = list(generator.boundary_households(n, seed))
    return households, generator.boundary_cases(households, seed + 1, share)


def assert_same(policy: Any, records: list[dict[str, Any]], cases: dict[str, Any], as_of: str
                ) -> list[dict[str, Any]]:
    return engines_agree(policy, records_to_arrow(getattr(policy, "base", policy), records),
                         as_of, cases)


@pytest.mark.parametrize("as_of", DATES)
def test_the_province_with_cases(fujian: Policy, as_of: str) -> None:
    records, cases = sample(1500, 21)
    assert_same(fujian, records, cases, as_of)


def test_every_status_and_kind_is_reached(fujian: Policy) -> None:
    """The sample reaches every status of every kind of step, the quarterly visits, several
    cases of one household and the steps a calendar year not covered leaves unknown (decided
    by the record path), so that equality means something."""
    records, cases = sample(1500, 21)
    statuses: Counter[str] = Counter()
    quarterly = several = 0
    for as_of in ("2021-10-20", "2024-03-01"):
        decided = assert_same(fujian, records, cases, as_of)
        for decision in decided:
            statuses.update(e["status"] for e in decision["deadlines"])
            quarterly += sum(e["step"].startswith("visit_") for e in decision["deadlines"])
            several += len({e["case_id"] for e in decision["deadlines"]} - {None}) > 1
    assert set(statuses) == {"pending", "overdue", "on_time", "late", "too_short", "too_early",
                             "not_started", "no_notice", "unknown"}
    assert quarterly > 1000 and several > 50


@pytest.mark.parametrize("path", COUNTIES, ids=lambda p: p.stem)
def test_county_examples_with_cases(path: Any) -> None:
    policy = load_policy(path, search_path=[ROOT / "policies"])
    records, cases = sample(400, 23)
    assert_same(policy, records, cases, "2022-06-30")


def test_under_a_region_table(fujian: Policy) -> None:
    from fangpin_rules.engine.regions import load_regions

    regional = load_regions(fujian, REGIONS)
    counties = sorted(regional.regions)
    records, cases = sample(600, 25)
    for row, record in enumerate(records):
        if record.get("region_code"):
            record["region_code"] = counties[row % len(counties)] + record["region_code"][6:]
    assert_same(regional, records, cases, "2022-06-30")


def test_the_records_md_example_in_columns(fujian: Policy) -> None:
    """records.md's case: assigned on a holiday (2021-10-01), the review due 2021-10-14."""
    case = {"case_id": "W-2021-0930-01", "household_id": "350181-0001",
            "source": "hotline_12317", "received_on": "2021-09-30",
            "assigned_on": "2021-10-01"}
    table = records_to_arrow(fujian, [RECORDS_MD_HOUSEHOLD])
    decided = decide_batch(fujian, table, "2021-11-15", cases={"350181-0001": [case]})
    (decision,) = decided.decisions.to_pylist()
    review = next(e for e in decision["deadlines"] if e["step"] == "preliminary_review")
    assert review["due"].isoformat() == "2021-10-14" and review["status"] == "overdue"
    assert review["case_id"] == "W-2021-0930-01"
    assert review in decision["overdue"]


def test_a_household_given_twice_and_cases_of_no_row(fujian: Policy) -> None:
    """Each row of an id given twice is decided with its cases, as on the record path; a case
    of a household not in the batch decides nothing."""
    records, cases = sample(50, 27, share=1.0)
    records = [*records, dict(records[0])]
    cases["not-in-the-batch"] = [dict(next(iter(cases.values()))[0],
                                      household_id="not-in-the-batch")]
    decided = assert_same(fujian, records, cases, "2021-10-20")
    first = [d for d in decided if d["household_id"] == records[0]["household_id"]]
    assert len(first) == 2 and first[0]["deadlines"] == first[1]["deadlines"] != []


def test_a_bad_case_is_refused_before_any_row(fujian: Policy) -> None:
    table = records_to_arrow(fujian, [RECORDS_MD_HOUSEHOLD])
    bad = {"case_id": "B-1", "household_id": "350181-0001", "source": "media",
           "received_on": "2021-10-11", "assigned_on": "2021-10-01"}
    messages = []
    for engine in ("record", "columnar"):
        with pytest.raises(RecordError) as caught:
            decide_batch(fujian, table, "2021-11-15", cases={"350181-0001": [bad]},
                         engine=engine)
        messages.append(str(caught.value))
    assert messages[0] == messages[1] and "assigned_on" in messages[0]


def test_a_step_form_the_engine_cannot_express_is_refused(tmp_path: Any) -> None:
    """A quarterly step's dates given by an expression other than a list of the case or the
    record are refused at their file:line:col when the policy is compiled for columns."""
    from fangpin_rules.columnar.engine import ColumnarUnsupported

    text = (ROOT / "policies" / "fujian_2021.yaml").read_text(encoding="utf-8")
    text = text.replace("    done: case.visits\n", "    done: if case.confirmed_on != null "
                        "then case.visits else case.visits\n")
    path = tmp_path / "fujian_variant.yaml"
    path.write_text(text, encoding="utf-8")
    policy = load_policy(path)
    table = records_to_arrow(policy, [RECORDS_MD_HOUSEHOLD])
    with pytest.raises(ColumnarUnsupported) as caught:
        decide_batch(policy, table, "2021-11-15")
    message = str(caught.value)
    assert "quarterly step's dates" in message and "fujian_variant.yaml:" in message


UNCOVERED_STEPS = """
  early_notice:
    title: {zh: 测试, en: Three working days before the case was received}
    cite: §7
    due: case.received_on - 3 working_days
    done: case.assigned_on
  follow_up:
    title: {zh: 测试, en: A step whose condition reads a date the calendar may not give}
    cite: §7
    when: steps.preliminary_review > case.received_on
    due: case.received_on + 2 days
  fallback:
    title: {zh: 测试, en: A day after the review or else after the case was received}
    cite: §7
    due: (steps.preliminary_review ?? case.received_on) + 1 day
"""

GAP_YEAR = """
calendar:
  years:
    2028:
      source: a year after a gap, for the test
      rest_days: [2028-01-03]
      working_days: []
"""


def test_a_deadline_the_calendar_cannot_give_is_decided_in_columns(
        fujian: Policy, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A due date in a year the calendar does not cover (through another step's date, a
    shift by working days, next_working_day; after the covered years, before them, and in a
    gap between them) is `unknown` with the reason naming the year, and a late step whose
    working days the calendar cannot count names the year, as on the record path, decided in
    columns; read anywhere else (a condition, `??`) such a date is a missing one, in columns
    too: no household goes to the record path."""
    from fangpin_rules.columnar import engine

    policy = province_with_steps(tmp_path, UNCOVERED_STEPS, GAP_YEAR)
    dates = {"in_the_year_after": ("2026-12-30", None), "in_the_gap": ("2027-03-01", None),
             "late_across_the_gap": ("2026-12-18", "2028-01-10"),
             "late_into_the_gap": ("2026-12-18", "2027-02-01"),
             "before_the_first_year": ("2001-01-02", "2001-01-03"),
             "covered": ("2028-03-01", "2028-03-02")}
    records, cases = [], {}
    for number, (name, (received, assigned)) in enumerate(dates.items()):
        household_id = f"350181-{number:04d}"
        records.append({**RECORDS_MD_HOUSEHOLD, "household_id": household_id})
        case = {"case_id": name, "household_id": household_id, "source": "hotline_12317",
                "received_on": received}
        cases[household_id] = [case if assigned is None else {**case, "assigned_on": assigned}]
    redecided: list[int] = []
    redecide = engine._redecide

    def counted(policy: Any, table: Any, decided: Any, hazard: Any, *args: Any,
                **kwargs: Any) -> Any:
        redecided.extend(hazard.arg_true().to_list())
        return redecide(policy, table, decided, hazard, *args, **kwargs)

    monkeypatch.setattr(engine, "_redecide", counted)
    decided = assert_same(policy, records, cases, "2028-06-30")
    entries = {d["household_id"]: {e["step"]: e for e in d["deadlines"]} for d in decided}
    reason = ("the working-day calendar does not cover {0} (add the State Council's {0} "
              "schedule under `calendar: years: {0}:` in the policy file)")
    after, gap, across, into, before, covered = (entries[r["household_id"]] for r in records)
    assert after["assignment"]["status"] == "on_time" or after["assignment"]["due"] is not None
    assert after["preliminary_review"] == {**after["preliminary_review"], "status": "unknown",
                                           "due": None, "reason": reason.format(2027)}
    assert after["verification"]["status"] == "unknown"
    assert "follow_up" not in after  # its condition compares an unknown date: false, as null
    # `??` reads the unknown review as missing: a day after the case was received
    assert after["fallback"]["due"].isoformat() == "2026-12-31"
    assert across["fallback"]["due"] == across["preliminary_review"]["due"] + timedelta(days=1)
    assert gap["assignment"]["reason"] == gap["preliminary_review"]["reason"] == \
        reason.format(2027)
    assert across["assignment"]["status"] == "late" and \
        across["assignment"]["late_working_days"] is None and \
        across["assignment"]["reason"] == reason.format(2027)
    assert into["assignment"]["status"] == "late" and \
        into["assignment"]["reason"] == reason.format(2027)
    assert before["early_notice"]["status"] == "unknown" and \
        before["early_notice"]["reason"] == reason.format(2000)
    assert covered["preliminary_review"]["status"] != "unknown" and \
        covered["assignment"]["late_working_days"] is None
    assert any(e["preliminary_review"]["status"] == "unknown" for e in entries.values())
    assert not redecided


HOUSEHOLD_STEPS = """
  monitoring_review:
    title: {zh: 测试, en: A review three working days after the monitoring began}
    cite: §9
    when: monitoring.since != null
    due: monitoring.since + 3 working_days
  dibao_review:
    title: {zh: 测试, en: Every household's dibao reviewed a year after it began}
    cite: §14
    due: (dibao.since ?? as_of) + 1 year
"""


@pytest.mark.parametrize("with_cases", [False, True], ids=["households", "with cases"])
def test_several_steps_that_read_no_case(tmp_path: Any, with_cases: bool) -> None:
    """Three steps that read no case (two with a condition, one for every household), their
    entries in step order in each household's list, with and without cases."""
    policy = province_with_steps(tmp_path, HOUSEHOLD_STEPS)
    records, cases = sample(600, 29)
    decided = assert_same(policy, records, cases if with_cases else {}, "2022-06-30")
    without = [d for d in decided if not any(e["case_id"] for e in d["deadlines"])]
    lists = {tuple(e["step"] for e in d["deadlines"]) for d in without}
    order = [step.name for step in policy.checked.steps if not step.needs_case]
    assert len(order) == 3 and all(list(names) == sorted(names, key=order.index)
                                   for names in lists)
    assert len({len(names) for names in lists}) == 3  # one, two and three entries


def chained_steps(depth: int) -> str:
    """`depth` steps that read no case, each but the first due the next working day after
    three working days from the one before (done on a day of the record, for some)."""
    text = """
  chain0:
    title: {zh: 测试, en: A step five working days after the monitoring began}
    cite: §9
    when: monitoring.since != null
    due: monitoring.since + 5 working_days
    done: dibao.since
"""
    for i in range(1, depth):
        text += f"""
  chain{i}:
    title: {{zh: 测试, en: The next working day three working days after the step before}}
    cite: §9
    due: next_working_day(steps.chain{i - 1} + 3 working_days)
"""
    return text


@pytest.mark.parametrize("with_cases", [False, True], ids=["households", "with cases"])
def test_steps_reading_the_steps_before_them_stay_small(tmp_path: Any, with_cases: bool
                                                        ) -> None:
    """A county's steps that read no case, each shifting the date of the one before by
    working days: each step's dates are columns the next reads, so the query grows with the
    steps, not with their product (two such steps had made 3.7 million characters of
    expression and 5.7 s for 10 households, three 660 million); the entries are the record
    path's, dates after the calendar's years included."""
    from datetime import date

    from fangpin_rules.columnar.engine import columnar_plan

    sizes = []
    for depth in (3, 6):
        folder = tmp_path / str(depth)
        folder.mkdir()
        policy = province_with_steps(folder, chained_steps(depth))
        plan = columnar_plan(policy, date(2022, 6, 30))
        sizes.append(sum(len(str(expr)) for stage in plan.step_stages for expr in stage) +
                     sum(len(str(expr)) for step in plan.household_steps
                         for expr in step.columns.values()))
    assert sizes[1] < 3 * sizes[0]  # twice the steps: about twice the text
    records, cases = sample(600, 37)
    for row, record in enumerate(records[:120]):  # monitored since days up to the calendar's
        # last years and after them
        since = date(2021, 3, 1) + timedelta(days=row * 53)
        record["monitoring"] = {"status": "monitored", "category": "marginal",
                                "since": since.isoformat()}
    decided = assert_same(policy, records, cases if with_cases else {}, "2022-06-30")
    statuses = Counter(e["status"] for d in decided for e in d["deadlines"]
                       if e["step"].startswith("chain"))
    assert all(statuses[status] for status in ("overdue", "pending", "unknown", "on_time",
                                               "late")), statuses


@pytest.mark.parametrize("when", [
    "next_working_day(steps.visit) != null", "(steps.visit + 3 working_days) != null",
    "is_working_day(steps.visit ?? as_of)", "working_days_between(steps.visit ?? as_of, "
    "as_of) > 3", "is_working_day(as_of)"])
def test_the_calendar_asked_about_a_constant_day(tmp_path: Any, when: str) -> None:
    """A working-day question about a day that is the same for every row (the quarterly
    visits' step has no one date: a null; `as_of`) in a step read with a case, and a due date
    counted from the quarterly step: one value for all the cases, as on the record path (a
    lookup by a constant was a one-row column the case frame refused)."""
    policy = province_with_steps(tmp_path, f"""
  after_visits:
    title: {{zh: 测试, en: A step asking the calendar about the visits' date}}
    cite: §9
    when: '{when}'
    due: case.assigned_on
  counted_from_visits:
    title: {{zh: 测试, en: A step counted from the visits' date}}
    cite: §9
    due: next_working_day(steps.visit) + 3 working_days
""")
    records, cases = sample(300, 41)
    assert_same(policy, records, cases, "2022-06-30")


def test_durations_that_differ_between_regions(fujian: Policy, tmp_path: Any) -> None:
    """A region table in which counties shorten the township's review (the province's bound:
    at most 5 working days) and lengthen a public notice: each household's steps count its
    region's working days, in columns, as on the record path."""
    from fangpin_rules.columnar.engine import columnar_plan
    from fangpin_rules.engine.policy import parse_date
    from fangpin_rules.engine.regions import load_regions

    path = tmp_path / "durations.yaml"
    path.write_text(DURATION_REGIONS, encoding="utf-8")
    regional = load_regions(fujian, path)
    columnar_plan(regional, parse_date("2022-06-30"))  # not refused
    counties = sorted(regional.regions)
    records, cases = sample(600, 31, share=1.0)
    for row, record in enumerate(records):
        record["region_code"] = counties[row % len(counties)] + "001001"
    decided = assert_same(regional, records, cases, "2022-06-30")
    # the same case in each county: the review's due date is the county's
    case = {"case_id": "D-1", "source": "hotline_12317", "received_on": "2022-03-01"}
    same = [{**RECORDS_MD_HOUSEHOLD, "household_id": f"D-{code}", "region_code": code + "001001"}
            for code in counties]
    decided = assert_same(regional, same, {r["household_id"]: [
        {**case, "household_id": r["household_id"]}] for r in same}, "2022-06-30")
    due = {d["household_id"][2:]: next(e["due"] for e in d["deadlines"]
                                       if e["step"] == "preliminary_review") for d in decided}
    assert due["350121"] < due["350526"] < due["350582"]


def test_a_duration_in_different_units_in_different_regions_is_refused(tmp_path: Any) -> None:
    from fangpin_rules.columnar.engine import ColumnarUnsupported, columnar_plan
    from fangpin_rules.engine.policy import parse_date
    from fangpin_rules.engine.regions import load_regions

    text = (ROOT / "policies" / "fujian_2021.yaml").read_text(encoding="utf-8")
    bound = "    bounds: {max: 5 working_days}  # a county may be quicker, never slower\n"
    assert bound in text
    policy_path = tmp_path / "unbounded.yaml"
    policy_path.write_text(text.replace(bound, ""), encoding="utf-8")
    regions = tmp_path / "units.yaml"
    regions.write_text(DURATION_REGIONS.replace("3 working_days", "10 days"), encoding="utf-8")
    regional = load_regions(load_policy(policy_path), regions)
    with pytest.raises(ColumnarUnsupported) as refused:
        columnar_plan(regional, parse_date("2022-06-30"))
    message = str(refused.value)
    assert "'review_period', a duration in different units in different regions" in message
    assert "unbounded.yaml:" in message and "engine='record'" in message


ORDER_PROBLEMS = {
    "assigned before received": {"received_on": "2021-10-11", "assigned_on": "2021-10-01"},
    "reviewed before assigned": {"received_on": "2021-10-01", "assigned_on": "2021-10-08",
                                 "preliminary_review_on": "2021-10-07"},
    "verified before reviewed": {"received_on": "2021-10-01", "preliminary_review_on":
                                 "2021-10-12", "verified_on": "2021-10-11"},
    "a notice ending before it starts": {"received_on": "2021-10-01", "publicity": [
        {"purpose": "measures", "start": "2021-10-20", "end": "2021-10-19"}]},
    "confirmed before the identification notice": {
        "received_on": "2021-10-01", "confirmed_on": "2021-10-14", "publicity": [
            {"purpose": "measures", "start": "2021-10-10", "end": "2021-10-16"},
            {"purpose": "identification", "start": "2021-10-15", "end": "2021-10-21"}]},
    "another household's case": {"received_on": "2021-10-01", "household_id": "350181-9999"},
}


@pytest.mark.parametrize("problem", ORDER_PROBLEMS, ids=list(ORDER_PROBLEMS))
def test_each_order_problem_refused_as_on_the_record_path(fujian: Policy, problem: str) -> None:
    """The procedure's order, checked in columns for the whole batch (`_out_of_order`): each
    problem `case_problems` finds refuses the batch with the record path's error, that of the
    first bad case when several are (an earlier case of the contract's error, a later one of
    the order's); cases in order pass."""
    good = {"case_id": "G-1", "household_id": "350181-0001", "source": "media",
            "received_on": "2021-10-01", "assigned_on": "2021-10-08", "confirmed_on":
            "2021-10-16", "publicity": [{"purpose": "identification", "start": "2021-10-15",
                                         "end": "2021-10-21"}]}
    bad = {"case_id": "B-1", "household_id": "350181-0001", "source": "media",
           **ORDER_PROBLEMS[problem]}
    table = records_to_arrow(fujian, [RECORDS_MD_HOUSEHOLD])
    decide_batch(fujian, table, "2021-11-15", cases={"350181-0001": [good]},
                 engine="columnar")
    unreadable = {**good, "case_id": "U-1", "source": "not a source"}
    for listed in ([good, bad], [good, unreadable, bad], [good, bad, unreadable]):
        messages = []
        for engine in ("record", "columnar"):
            with pytest.raises(RecordError) as caught:
                decide_batch(fujian, table, "2021-11-15", cases={"350181-0001": listed},
                             engine=engine)
            messages.append((str(caught.value), caught.value.rejection))
        assert messages[0] == messages[1]
        assert messages[0][1].case_id == listed[1]["case_id"]


def test_cases_given_as_dicts_are_read_in_columns(fujian: Policy) -> None:
    """Plain dicts of texts (parsed JSON) become the case table in columns (`_in_columns`),
    the same table as the cases read one by one; each household's cases are read one by one
    only when the record path asks for them, as the reader reads them. A list not given is
    empty and an optional date given as null is absent, as the reader reads them."""
    from fangpin_rules.columnar import cases as case_columns
    from fangpin_rules.engine.records import read_case

    _, cases = sample(400, 31, share=1.0)
    first = next(iter(cases))
    cases[first] = [{key: value for key, value in cases[first][0].items()
                     if key not in ("publicity", "visits")} | {"assigned_on": None}]
    assert any(case.get("publicity") for listed in cases.values() for case in listed)
    table = case_columns._in_columns(cases, case_columns._positions(cases))
    assert table is not None
    read = {household: [read_case(case) for case in listed]
            for household, listed in cases.items()}
    assert table.frame.equals(case_columns.CaseTable.of_checked(read).frame)
    assert table.by_household[first] == read[first]
    assert read[first][0].publicity == [] and read[first][0].assigned_on is None
    assert dict(table.by_household) == read
    # records given as the contract's models are read one by one, to the same table
    models = {household: [Case.model_validate(case) for case in listed]
              for household, listed in cases.items()}
    assert case_columns._in_columns(models, case_columns._positions(models)) is None
    assert case_columns.CaseTable.of(models).frame.equals(table.frame)


GOOD_CASE = {"case_id": "G-1", "household_id": "350181-0001", "source": "media",
             "received_on": "2021-10-01", "assigned_on": "2021-10-08",
             "publicity": [{"purpose": "identification", "start": "2021-10-15",
                            "end": "2021-10-21"}], "visits": ["2021-10-20"]}
NOT_IN_COLUMNS = {  # a good case changed so that its columns might not hold what the reader reads
    "a text to strip": {"case_id": " G-2 "},
    "a date given as a date": {"received_on": date(2021, 10, 1)},
    "a day not in the calendar": {"received_on": "2021-02-30"},
    "a date not written YYYY-MM-DD": {"received_on": "2021-10-1"},
    "a date in other digits": {"received_on": "٢٠٢١-١٠-٠١"},
    "a date of the year 0": {"received_on": "0000-10-01"},
    "an unknown key": {"nickname": "x"},
    "a notice's unknown key": {"publicity": [{"purpose": "measures", "start": "2021-10-10",
                                              "note": "x"}]},
    "a notice given as a text": {"publicity": ["measures"]},
    "the notices given as a dict": {"publicity": {"purpose": "measures"}},
    "the notices given as null": {"publicity": None},
    "the visits given as null": {"visits": None},
    "a visit given as null": {"visits": [None]},
    "a visit given as a number": {"visits": [20211020]},
    "a source outside the list": {"source": "rumour"},
    "a case id too long": {"case_id": "x" * 65},
    "a case id given as a number": {"case_id": 7},
}


@pytest.mark.parametrize("change", NOT_IN_COLUMNS, ids=list(NOT_IN_COLUMNS))
def test_cases_the_columns_cannot_hold_exactly_are_read_one_by_one(fujian: Policy,
                                                                  change: str) -> None:
    """Such cases are read one by one, so that a lax form is read and a bad case refused as
    on the record path, with its error."""
    from fangpin_rules.columnar import cases as case_columns

    cases = {"350181-0001": [GOOD_CASE, {**GOOD_CASE, **NOT_IN_COLUMNS[change],
                                         "case_id": NOT_IN_COLUMNS[change].get("case_id",
                                                                               "G-2")}]}
    good = {"350181-0001": [GOOD_CASE]}
    assert case_columns._in_columns(good, case_columns._positions(good)) is not None
    assert case_columns._in_columns(cases, case_columns._positions(cases)) is None
    table = records_to_arrow(fujian, [RECORDS_MD_HOUSEHOLD])
    outcomes = []
    for engine in ("record", "columnar"):
        try:
            outcomes.append(decide_batch(fujian, table, "2021-11-15", cases=cases,
                                         engine=engine).decisions.to_pylist())
        except RecordError as exc:
            outcomes.append(str(exc))
    assert outcomes[0] == outcomes[1]


def test_a_case_holding_a_lone_surrogate_is_refused_on_both_engines(fujian: Policy) -> None:
    """A Python text may hold a lone surrogate (bytes decoded with errors='surrogateescape'),
    which Arrow and JSON cannot write: the case is refused with a RecordError naming the field,
    the ids repeated with the surrogate escaped, on both engines (Arrow's UnicodeEncodeError
    escaped from both before)."""
    table = records_to_arrow(fujian, [RECORDS_MD_HOUSEHOLD])
    bad = {**GOOD_CASE, "case_id": "G-\udcff"}
    refusals = []
    for engine in ("record", "columnar"):
        with pytest.raises(RecordError) as caught:
            decide_batch(fujian, table, "2021-11-15",
                         cases={"350181-0001": [GOOD_CASE, bad]}, engine=engine)
        refusals.append(caught.value.rejection)
    assert refusals[0] == refusals[1]
    assert (refusals[0].field, refusals[0].case_id) == ("case_id", "G-\\udcff")
    assert "lone surrogate" in refusals[0].reason
