"""The typed fast reader (engine/typed_json.py) never decides a verdict: what it takes, the full
path (`json` with exact decimals, then pydantic) takes with the same values, to the digit; what
it does not take goes the full path. Checked here on the contract's records, a declared schema,
and hundreds of altered households, each altered in one field the way bad data comes."""

from __future__ import annotations

import copy
import json
import random
from datetime import date
from decimal import Decimal
from typing import Any

import msgspec
import pytest
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from fangpin_rules import load_policy
from fangpin_rules.engine.records import parse_json
from fangpin_rules.engine.typed_json import typed_reader
from fangpin_rules.model import Household

from support import RECORDS_MD_HOUSEHOLD, ROOT, benchmark_module, members

ANCHORS = ROOT / "benchmarks" / "anchors_policy.yaml"
DECLARED = ROOT / "tests" / "checker" / "good" / "schema_declared.yaml"


def _exact(value: Any) -> Any:
    """A value with decimals as their text (so 12.50 and 12.5, 0 and -0 differ) and records as
    dicts, to compare the two readers' records to the digit."""
    if isinstance(value, msgspec.Struct):
        value = {name: getattr(value, name) for name in value.__struct_fields__}
    elif isinstance(value, BaseModel):
        value = {name: getattr(value, name) for name in type(value).model_fields}
    if isinstance(value, dict):
        return {key: _exact(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_exact(item) for item in value]
    if isinstance(value, Decimal):
        return ("decimal", str(value))
    if isinstance(value, date):
        return ("date", value.isoformat())
    return (type(value).__name__, value)


def _full_path(model: type[BaseModel], line: str) -> Any | None:
    """The record pydantic makes of the line, or None when it rejects it."""
    try:
        data = parse_json(line)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    try:
        return model.model_validate(data)
    except ValidationError:
        return None


def _agree(model: type[BaseModel], line: str) -> str:
    """'fast' when the fast reader took the line (and agrees), 'full' when it left it to the
    full path; fails when they disagree."""
    reader = typed_reader(model)
    assert reader is not None
    fast = reader.decode(line)
    full = _full_path(model, line)
    if fast is None:
        return "full"
    assert full is not None, f"the fast reader took a line pydantic rejects: {line}"
    assert _exact(fast) == _exact(full), line
    return "fast"


def anchors_record(**overrides: Any) -> dict[str, Any]:
    """A record of the anchors workload (benchmarks/anchors_policy.yaml declares its schema)."""
    member = {"age": 40, "labor_capacity": "normal", "serious_illness": False,
              "severe_disability": False}
    record: dict[str, Any] = {
        "household_id": "HH1", "county": "Dafang", "size": 1, "annual_net_income": 30000.0,
        "rigid_expenditure": 0.0, "is_former_poor": False, "members": [member],
        "housing_safe": True, "water_safe": True, "child_dropout": False, "on_dibao": False,
        "dibao_standard": 7152.0, "monitoring_line": 7152.0}
    return record | overrides


def test_the_contract_models_have_a_fast_reader() -> None:
    from fangpin_rules.model import Case

    assert typed_reader(Household) is not None
    assert typed_reader(Case) is not None


def test_every_synthetic_household_reads_alike() -> None:
    lines = list(benchmark_module("gen_households").generate_lines(1500, seed=11))
    lines += (ROOT / "examples" / "households.jsonl").read_text(encoding="utf-8").splitlines()
    lines.append(json.dumps(RECORDS_MD_HOUSEHOLD))
    outcomes = [_agree(Household, line) for line in lines if line.strip()]
    assert outcomes.count("full") == 0  # well-formed records all take the fast path


# One field altered the way bad or unusual data comes; each pair is (path, value).
TEXTS = [" T-1", "T-1 ", "T-1\n", "\u3000T-1", "", "x" * 64, "x" * 65, 5, None, "户-1", "T\u00001"]
MONEY = ["12.5", " 12 ", "1_000", "NaN", "Infinity", "-Infinity", "sNaN", "1e400", "1e12",
         1e12, 1000000000001, "-0", "１２", True, "", "abc", [], {}, 7151.99, "7152.00",
         "0x10", -1, None]
BOOLS = ["true", "false", 1, 0, "yes", None, 1.0, [], "True"]
LABELS = ["healthy", "healthy ", "HEALTHY", 1, None, ""]
DATES = ["2021-02-30", "2021-1-1", "20210101", "2021-01-01T00:00:00", "2021-01-01 ", 0,
         1600000000, "2021-W01-1", "2021-02-28", "0001-01-01", "9999-12-31", None]
GRADES = [0, 1, 4, 5, 2.0, "2", True, 2.5, "2 ", -1, None, 10**30]
REGIONS = ["35018", "3501810", "35018a", " 350181", "\uff13\uff15\uff10\uff11\uff18\uff11",
           350181, "350181\n", "350181", None]
ALTERATIONS: list[tuple[tuple[Any, ...], Any]] = [
    *[(("household_id",), v) for v in TEXTS],
    *[(("members", 0, "member_id"), v) for v in TEXTS],
    *[(("net_income",), v) for v in MONEY],
    *[(("previous_net_income",), v) for v in MONEY],
    *[(("rigid_expenditure", "medical"), v) for v in MONEY],
    *[(("formerly_poor",), v) for v in BOOLS],
    *[(("members", 0, "orphan"), v) for v in BOOLS],
    *[(("members", 0, "health"), v) for v in LABELS],
    *[(("monitoring", "status"), v) for v in ["none", "monitored", " monitored", None, 0]],
    *[(("members", 0, "birth_date"), v) for v in DATES],
    *[(("dibao", "since"), v) for v in DATES],
    *[(("members", 0, "disability_grade"), v) for v in GRADES],
    *[(("region_code",), v) for v in REGIONS],
    (("members",), []),
    (("members",), members(100)),
    (("members",), members(101)),
    (("members",), "none"),
    (("members",), [members(1)[0] | {"shoe_size": 42}]),
    (("rigid_expenditure",), None),
    (("rigid_expenditure",), {}),
    (("rigid_expenditure",), {"medical": 1, "travel": 2}),
    (("dibao",), []),
    (("shoe_size",), 42),
]


def _altered(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    record = copy.deepcopy(RECORDS_MD_HOUSEHOLD)
    target: Any = record
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return record


@pytest.mark.parametrize(("path", "value"), ALTERATIONS,
                         ids=[f"{'.'.join(map(str, p))}={v!r}"[:60] for p, v in ALTERATIONS])
def test_an_altered_household_reads_alike_or_takes_the_full_path(path: tuple[Any, ...],
                                                                value: Any) -> None:
    _agree(Household, json.dumps(_altered(path, value), ensure_ascii=False))


def test_the_alterations_reach_both_paths() -> None:
    """Neither path is vacuous: some altered records are taken fast, some are left to pydantic
    which accepts them (a lax conversion), some are rejected by both."""
    outcomes = {(_agree(Household, line := json.dumps(_altered(p, v))),
                 _full_path(Household, line) is not None) for p, v in ALTERATIONS}
    assert outcomes == {("fast", True), ("full", True), ("full", False)}


@pytest.mark.parametrize("line", [
    "", "[]", "1", "null", '"text"', "{", "{}", "\ufeff" + json.dumps(RECORDS_MD_HOUSEHOLD),
    json.dumps(RECORDS_MD_HOUSEHOLD) + " x", json.dumps(RECORDS_MD_HOUSEHOLD) + "\n",
    json.dumps(RECORDS_MD_HOUSEHOLD).replace('"350181-0001"', '"\\ud800"'),
    json.dumps(RECORDS_MD_HOUSEHOLD).replace('"350181-0001"', '"\udcff"'),  # surrogateescape
    # a key given twice: rejected on both paths
    json.dumps(RECORDS_MD_HOUSEHOLD).replace('{"household_id": "350181-0001"',
                                             '{"household_id": "A", "household_id": "B"'),
    json.dumps(RECORDS_MD_HOUSEHOLD).replace('"medical": 12000', '"medical": 1, "medical": 2'),
    json.dumps(RECORDS_MD_HOUSEHOLD).replace('"member_id": "1"', '"member_id": "1", '
                                             '"member_id": "2"'),
    # a colon in a string, one spelt as an escape: counted apart, these take the full path
    json.dumps(RECORDS_MD_HOUSEHOLD).replace('"350181-0001"', '"350181:0001"'),
    json.dumps(RECORDS_MD_HOUSEHOLD).replace('"350181-0001"', '"350181\\u003a0001"'),
    json.dumps(RECORDS_MD_HOUSEHOLD).replace('{"household_id": "350181-0001"',
                                             '{"tekun": true, "household_id": "\\u003a"'),
    # numbers given as strings, strictly or not; numbers for dates, booleans and grades
    json.dumps(RECORDS_MD_HOUSEHOLD).replace("18000", '"18000"'),
    json.dumps(RECORDS_MD_HOUSEHOLD).replace("18000", '"18_000"'),
    json.dumps(RECORDS_MD_HOUSEHOLD).replace('"medical": 12000', '"medical": " 12000"'),
    json.dumps(RECORDS_MD_HOUSEHOLD).replace('"1956-03-01"', "0"),
    json.dumps(RECORDS_MD_HOUSEHOLD).replace('"tekun": false', '"tekun": 0'),
    json.dumps(RECORDS_MD_HOUSEHOLD).replace('"disability_grade": null',
                                             '"disability_grade": true'),
    json.dumps(RECORDS_MD_HOUSEHOLD).replace('"disability_grade": null',
                                             '"disability_grade": 1.0'),
    json.dumps(RECORDS_MD_HOUSEHOLD).replace("18000", "1e-400"),
    json.dumps(RECORDS_MD_HOUSEHOLD).replace("18000", "18000.00001"),
    json.dumps(RECORDS_MD_HOUSEHOLD).replace("18000", "18000.000"),
    json.dumps(RECORDS_MD_HOUSEHOLD).replace("18000", "1.8E4"),
    json.dumps(RECORDS_MD_HOUSEHOLD).replace("18000", "-0"),
    json.dumps(RECORDS_MD_HOUSEHOLD).replace("18000", "21455.970000000000000000000000000001"),
])
def test_whole_lines_read_alike(line: str) -> None:
    _agree(Household, line)


def test_lines_outside_the_contract_are_left_to_pydantic_which_rejects_them() -> None:
    base = json.dumps(RECORDS_MD_HOUSEHOLD)
    for line in (base.replace('"medical": 12000', '"medical": 1, "medical": 2'),
                 base.replace("18000", '"18_000"'), base.replace('"tekun": false', '"tekun": 0'),
                 base.replace('{"household_id": "350181-0001"',
                              '{"tekun": true, "household_id": "\\u003a"')):
        assert _agree(Household, line) == "full"
        assert _full_path(Household, line) is None, line
    assert _agree(Household, base.replace("18000", '"18000"')) == "full"
    assert _full_path(Household, base.replace("18000", '"18000"')) is not None


def test_decimals_keep_their_digits() -> None:
    reader = typed_reader(Household)
    assert reader is not None
    line = json.dumps(RECORDS_MD_HOUSEHOLD).replace("18000", "7151.9999000000")
    record = reader.decode(line)
    assert record is not None and str(record.net_income) == "7151.9999000000"
    # one place more than the contract allows: the full path, which rejects it
    assert reader.decode(line.replace("7151.9999000000", "7151.99991")) is None


def test_a_declared_schema_has_a_fast_reader() -> None:
    for path in (ANCHORS, DECLARED):
        model = load_policy(path).checked.record_model
        assert typed_reader(model) is not None, path
    anchors = load_policy(ANCHORS).checked.record_model
    assert _agree(anchors, json.dumps(anchors_record())) == "fast"
    assert _agree(anchors, json.dumps(anchors_record(size=0.5))) == "full"
    assert _agree(anchors, json.dumps(anchors_record(annual_net_income="NaN"))) == "full"
    assert _agree(anchors, json.dumps(anchors_record(county=" Dafang"))) == "full"


def test_a_model_it_cannot_mirror_is_left_to_pydantic() -> None:
    class Checked(BaseModel):
        model_config = ConfigDict(extra="forbid")
        name: str

        @field_validator("name")
        @classmethod
        def upper(cls, value: str) -> str:
            return value.upper()

    class Open(BaseModel):
        model_config = ConfigDict(extra="allow")
        name: str

    class Either(BaseModel):
        model_config = ConfigDict(extra="forbid")
        value: int | str

    for model in (Checked, Open, Either):
        assert typed_reader(model) is None, model


def test_the_check_is_generated_from_the_model() -> None:
    reader = typed_reader(Household)
    assert reader is not None
    source = reader.check_source
    # money bounds of the contract, whitespace a pydantic string would lose
    assert "net_income" in source and "member_id" in source and ".strip()" in source
    assert "birth_date" not in source  # msgspec itself checks dates


def _randomly_altered(rng: random.Random, bases: list[Any], pool: list[Any]) -> Any:
    """A copy of one of `bases` with one to three of its own values (at any depth) replaced
    by values of `pool`."""
    altered = copy.deepcopy(rng.choice(bases))
    for _ in range(rng.randint(1, 3)):
        path = rng.choice(_paths(altered))
        target: Any = altered
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = copy.deepcopy(rng.choice(pool))
    return altered


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a record a value can be put: keys of objects and items of lists."""
    out: list[tuple[Any, ...]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            out += [(*prefix, key), *_paths(item, (*prefix, key))]
    elif isinstance(value, list):
        for index, item in enumerate(value):
            out += [(*prefix, index), *_paths(item, (*prefix, index))]
    return out


def test_random_alterations_of_every_field_read_alike() -> None:
    """Seeded: 3,000 households, each altered in one to three places chosen among all the
    places of a full record (dates, nested records, list items, keys), with values drawn from
    every kind of bad or unusual value above."""
    rng = random.Random(20261129)
    generator = benchmark_module("gen_households")
    bases = [json.loads(line) for line in generator.generate_lines(300, seed=3)]
    pool = [*TEXTS, *MONEY, *BOOLS, *LABELS, *DATES, *GRADES, *REGIONS, [], {}, "none",
            "monitored", "unstable", "marginal"]
    outcomes = set()
    for _ in range(3000):
        record = _randomly_altered(rng, bases, pool)
        outcomes.add(_agree(Household, json.dumps(record, ensure_ascii=False)))
    assert outcomes == {"fast", "full"}


def test_the_record_api_takes_a_typed_record(fujian: Any) -> None:
    reader = typed_reader(Household)
    assert reader is not None
    record = reader.decode(json.dumps(RECORDS_MD_HOUSEHOLD))
    for explain in (False, True):
        assert fujian.evaluate(record, "2021-09-01", explain=explain) == \
            fujian.evaluate(RECORDS_MD_HOUSEHOLD, "2021-09-01", explain=explain)


# -- cases given as Python values (the API's `cases=`, a batch's): `checked_case` ------------

CASE = {"case_id": "W-1", "household_id": "350181-0001", "source": "hotline_12317",
        "received_on": "2021-09-30", "assigned_on": "2021-10-08",
        "preliminary_review_on": "2021-10-11", "verified_on": None,
        "publicity": [{"purpose": "identification", "start": "2021-10-12", "end": "2021-10-18"}],
        "confirmed_on": "2021-10-20", "visits": ["2021-11-02", "2022-01-04"]}


class _Text(str):
    """A str subclass, as some callers' frameworks hand text over."""


CASE_DATES = ["2021-10-01", date(2021, 10, 1), __import__("datetime").datetime(2021, 10, 1),
              "2021-10-1", "20211001", "2021-10-01T00:00:00", "2021-10-01 ", "2021-02-30",
              "０２０２１-10-01", b"2021-10-01", 20211001, 0, "0001-01-01", "9999-12-31",
              _Text("2021-10-01"), "2021-09-29", None, True]
CASE_TEXTS = ["W-2", " W-2", "W-2 ", "W-2\u3000", "", "x" * 64, "x" * 65, "户" * 64, 5,
              None, _Text("W-2"), "350181-0002", ["W-2"]]
CASE_LISTS: list[Any] = [[], (), ("2021-11-02",), frozenset(), "2021-11-02", None, {},
                         [None], [{"purpose": "measures", "start": "2021-10-12"}]]
CASE_ALTERATIONS: list[tuple[tuple[Any, ...], Any]] = [
    *[((field,), value) for field in ("received_on", "assigned_on", "verified_on",
                                      "confirmed_on", "commitment_signed_on")
      for value in CASE_DATES],
    *[(("publicity", 0, "start"), value) for value in CASE_DATES],
    *[(("publicity", 0, "end"), value) for value in CASE_DATES],
    *[(("visits", 1), value) for value in CASE_DATES],
    *[((field,), value) for field in ("case_id", "household_id") for value in CASE_TEXTS],
    *[(("source",), value) for value in ["media", "Media", " media", "", None, 1]],
    *[(("publicity", 0, "purpose"), value) for value in ["measures", "Measures", None, 0]],
    *[((field,), value) for field in ("visits", "publicity") for value in CASE_LISTS],
    (("publicity", 0, "shoe_size"), 42), (("shoe_size",), 42),
    (("publicity", 0), {"purpose": "measures", "start": "2021-10-12", "end": None}),
]


def _case_outcome(data: dict[str, Any]) -> tuple[str, Any]:
    """How `checked_case` reads the case: ("fast", record) when the typed reader took it,
    ("full", record) when pydantic did, ("rejected", rejection) otherwise."""
    from fangpin_rules.engine.records import RecordError, checked_case
    from fangpin_rules.model import Case

    reader = typed_reader(Case)
    assert reader is not None
    try:
        case = checked_case(copy.deepcopy(data), 7, "350181-0001")
    except RecordError as exc:
        return "rejected", exc.rejection
    return "fast" if type(case) is reader.struct else "full", _exact(case)


def _case_by_pydantic(data: dict[str, Any]) -> tuple[str, Any]:
    """The same, read by pydantic alone (what `checked_case` did before it had a fast path)."""
    from fangpin_rules.engine.records import RecordError, case_problems, rejection_of, validate
    from fangpin_rules.model import Case

    try:
        case = validate(copy.deepcopy(data), 7, model=Case, id_field="household_id")
    except RecordError as exc:
        return "rejected", exc.rejection
    problems = case_problems(case, "350181-0001")
    if problems:
        return "rejected", rejection_of(7, "350181-0001", problems, case.case_id)
    return "full", _exact(case)


def _case_reads_alike(data: dict[str, Any]) -> str:
    outcome, value = _case_outcome(data)
    expected, reference = _case_by_pydantic(data)
    assert value == reference, data
    assert (outcome == "rejected") == (expected == "rejected"), data
    return outcome


@pytest.mark.parametrize(("path", "value"), CASE_ALTERATIONS,
                         ids=[f"{'.'.join(map(str, p))}={v!r}"[:60] for p, v in CASE_ALTERATIONS])
def test_an_altered_case_reads_alike_or_takes_the_full_path(path: tuple[Any, ...],
                                                           value: Any) -> None:
    case = copy.deepcopy(CASE)
    target: Any = case
    for step in path[:-1]:
        target = target[step]
    if isinstance(target, list) and path[-1] >= len(target):
        target.append(value)
    else:
        target[path[-1]] = value
    _case_reads_alike(case)


def test_the_case_alterations_reach_every_path() -> None:
    """Neither path is vacuous: the typed reader takes well-formed cases, pydantic reads the
    ones it leaves (text it strips), and bad ones are rejected by both, in the same words."""
    outcomes = set()
    for path, value in CASE_ALTERATIONS:
        case = copy.deepcopy(CASE)
        target: Any = case
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value
        outcomes.add(_case_reads_alike(case))
    assert outcomes == {"fast", "full", "rejected"}


def test_every_boundary_case_takes_the_fast_path_and_reads_alike() -> None:
    generator = benchmark_module("boundary_households")
    cases = generator.boundary_cases(list(generator.boundary_households(1500, seed=5)), seed=6)
    listed = [dict(case, household_id="350181-0001") for own in cases.values() for case in own]
    assert len(listed) > 1000
    assert {_case_reads_alike(case) for case in listed} == {"fast"}


def test_random_alterations_of_every_case_field_read_alike() -> None:
    """Seeded: 3,000 boundary cases altered in one to three places (dates, notices, visits,
    keys), with values drawn from every kind above: out of order, mistyped, lax or strict."""
    rng = random.Random(20261203)
    generator = benchmark_module("boundary_households")
    cases = generator.boundary_cases(list(generator.boundary_households(400, seed=7)), seed=8)
    bases = [dict(case, household_id="350181-0001") for own in cases.values() for case in own]
    pool = [*CASE_DATES, *CASE_TEXTS, *CASE_LISTS, "media", "identification", "Measures"]
    outcomes = set()
    for _ in range(3000):
        outcomes.add(_case_reads_alike(_randomly_altered(rng, bases, pool)))
    assert outcomes == {"fast", "full", "rejected"}
