"""Hostile values in every kind of field of a valid household: whatever a line holds, it is
decided or rejected (with a field and a reason), never a traceback; the typed fast reader and
the pydantic path read it alike; the output stays within a constant factor of the input; and
read = decided + rejected.

Bounded by default (a few seconds); FANGPIN_FUZZ_EXAMPLES=5000 runs a longer search.
"""

from __future__ import annotations

import copy
import json
import os
from datetime import date
from decimal import Decimal
from typing import Any

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fangpin_rules import Policy, RecordError
from fangpin_rules.engine.records import parse_line, validate
from fangpin_rules.engine.stream import ChunkDecider
from fangpin_rules.engine.typed_json import typed_reader
from fangpin_rules.model import Household

from support import RECORDS_MD_HOUSEHOLD

EXAMPLES = int(os.environ.get("FANGPIN_FUZZ_EXAMPLES", "80"))
AS_OF = date(2021, 9, 1)
HOLE = "@@HOLE@@"
# A decision of one household is about 1.5 KB (2.5 KB explained: about 40 KB); a rejection
# lists at most a bounded number of problems of bounded length.
OUTPUT_FACTOR, OUTPUT_CONSTANT = 30, 60_000

MEMBER = dict(RECORDS_MD_HOUSEHOLD["members"][0], disability_grade=2)
BASE = dict(copy.deepcopy(RECORDS_MD_HOUSEHOLD), members=[MEMBER, dict(MEMBER, member_id="2")],
            dibao={"enrolled": True, "since": "2020-01-01", "income_above_standard_on": None},
            monitoring={"status": "monitored", "category": "marginal", "since": "2021-01-01"})

PLACES: list[tuple[str | int, ...]] = [
    ("household_id",), ("region_code",), ("formerly_poor",), ("net_income",),
    ("previous_net_income",), ("rigid_expenditure", "medical"), ("rigid_expenditure", "accident"),
    ("food_clothing_secure",), ("tekun",), ("members",), ("members", 1),
    ("members", 0, "member_id"), ("members", 0, "birth_date"), ("members", 1, "labour_capacity"),
    ("members", 1, "health"), ("members", 0, "disability_grade"), ("members", 1, "orphan"),
    ("dibao",), ("dibao", "enrolled"), ("dibao", "since"), ("dibao", "income_above_standard_on"),
    ("monitoring",), ("monitoring", "status"), ("monitoring", "category"), ("monitoring", "since"),
    ("rigid_expenditure",),
]

HOSTILE_TEXT = [
    "1e-400", "1e-999999", "1e+999999", "0E-999999", "0E-1000050", "1e-1000050", "0E+999999",
    "1." + "0" * 300, "-0", "1E12", "1E13", "1.00001", "0.1e1",
    "1", "0", "2", "4", "5", "-1", "1.0", "9" * 400, "0." + "0" * 300 + "1", "7151.9999",
    "7151.9999999999999999999999999", "true", "false", "null", "[]", "{}", "[1]",
    '{"a": 1}', '"1_000"', '"1000"', '"-12.5"', '"NaN"', '"Infinity"', '" 1"', '""', '"true"',
    '"2021-02-30"', '"2021-1-1"', '"2021-01-01"', '"20210101"', '"2021-01-01T00:00:00"',
    '"\\ud800"', '"\\u0000"', '"a\\u2028b"', '"normal"', '"monitored"', '"marginal"',
    '"x\\"y"', json.dumps("户" * 70), json.dumps("x" * 5000), "[" * 50 + "]" * 50,
    '[{"member_id": "9"}]', json.dumps([MEMBER] * 101),
]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20)
    | st.decimals(allow_nan=True, allow_infinity=True, places=None).map(str)
    .filter(lambda text: "N" not in text and "I" not in text),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                max_size=3),
    max_leaves=6,
).map(lambda value: value if isinstance(value, str) and value[:1].isdigit()
      else json.dumps(value))

TEXT_MUTATIONS = ["none", "bom", "duplicate_top", "duplicate_nested", "cr_between", "cr_inside",
                  "line_separator_inside", "raw_nul", "lone_surrogate", "truncate", "crlf_end"]


def _line(place: tuple[str | int, ...], value: str, mutation: str) -> str:
    record = copy.deepcopy(BASE)
    target: Any = record
    for step in place[:-1]:
        target = target[step]
    target[place[-1]] = HOLE
    text = json.dumps(record, ensure_ascii=False).replace(json.dumps(HOLE), value, 1)
    if mutation == "bom":
        return "\ufeff" + text
    if mutation == "duplicate_top":
        return text.replace('{"household_id"', '{"tekun": true, "household_id"', 1) \
            .replace('"tekun": false', '"tekun": false', 1)
    if mutation == "duplicate_nested":
        return text.replace('"member_id": "2"', '"member_id": "2", "member_id": "3"', 1)
    if mutation == "cr_between":
        return text.replace(", ", ",\r", 3)
    if mutation == "cr_inside":
        return text.replace('"350181-0001"', '"350181\r0001"', 1)
    if mutation == "line_separator_inside":
        return text.replace('"350181-0001"', '"3501\u202881-0001\u2029"', 1)
    if mutation == "raw_nul":
        return text.replace('"350181-0001"', '"350181\x000001"', 1)
    if mutation == "lone_surrogate":
        return text.replace('"350181-0001"', '"350181\ud8000001"', 1)
    if mutation == "truncate":
        return text[: len(text) // 2]
    if mutation == "crlf_end":
        return text + "\r\n"
    return text


def _exact(value: Any) -> Any:
    """A record as comparable builtins, decimals by their text (so 1.0 and 1 differ)."""
    if isinstance(value, msgspec.Struct):
        value = msgspec.to_builtins(value, builtin_types=(Decimal, date))
    elif hasattr(value, "model_dump"):
        value = value.model_dump()
    if isinstance(value, dict):
        return {key: _exact(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_exact(item) for item in value]
    if isinstance(value, Decimal):
        return str(value)
    return value


def _full_path(line: str) -> Any:
    try:
        return validate(parse_line(line, 1))
    except RecordError:
        return None


def _check(fujian: Policy, line: str) -> None:
    reader = typed_reader(Household)
    assert reader is not None
    fast = reader.decode(line)
    full = _full_path(line)
    if fast is not None:
        assert full is not None, f"the fast reader took a line pydantic rejects: {line!r}"
        assert _exact(fast) == _exact(full)
    for explain in (False, True):
        result = ChunkDecider(fujian, AS_OF, explain=explain).decide([(1, line)])
        assert (result.read, result.decided + result.rejected) == (1, 1)
        assert result.decided == (full is not None)
        size = len(result.decisions) + len(result.rejects.encode("utf-8", "surrogatepass"))
        assert size <= OUTPUT_FACTOR * len(line) + OUTPUT_CONSTANT, size
        if result.rejected:
            rejection = json.loads(result.rejects)
            assert rejection["reason"] and rejection["line"] == 1
            assert rejection["field"] is not None or \
                rejection["reason"].startswith(("not valid JSON", "expected a JSON object")), \
                rejection


FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])


@FUZZ
@given(place=st.sampled_from(PLACES), value=st.sampled_from(HOSTILE_TEXT),
       mutation=st.sampled_from(TEXT_MUTATIONS))
def test_a_hostile_value_anywhere_is_decided_or_rejected_alike(
        fujian: Policy, place: tuple[str | int, ...], value: str, mutation: str) -> None:
    _check(fujian, _line(place, value, mutation))


@FUZZ
@given(place=st.sampled_from(PLACES), value=json_values)
def test_any_json_value_anywhere_is_decided_or_rejected_alike(
        fujian: Policy, place: tuple[str | int, ...], value: str) -> None:
    _check(fujian, _line(place, value, "none"))


def test_every_place_and_mutation_is_reachable(fujian: Policy) -> None:
    """The unmutated base household is decided, so a rejection above is the mutation's."""
    for mutation in ("none", "bom", "cr_between", "crlf_end"):
        line = _line(("tekun",), "false", mutation)
        result = ChunkDecider(fujian, AS_OF).decide([(1, line)])
        assert result.decided == 1, (mutation, result.rejects)
    for mutation in ("duplicate_top", "duplicate_nested", "cr_inside", "raw_nul", "truncate"):
        result = ChunkDecider(fujian, AS_OF).decide([(1, _line(("tekun",), "false", mutation))])
        assert result.rejected == 1, mutation
