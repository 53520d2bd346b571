"""The columnar engine's JSON lines (columnar/jsonl.py), written in columns: the record path's
bytes for texts holding any character, the marks' own spelling included, for deadlines with and
without a reason, and for a number inside an object decision."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from fangpin_rules import Policy, load_policy
from fangpin_rules.columnar.engine import ColumnarChunkDecider
from fangpin_rules.engine.serialize import dumps
from fangpin_rules.engine.stream import ChunkDecider
from fangpin_rules.model import Case

from support import benchmark_module

# texts a naive rewriting of the encoded text would take for its marks or break: the marks'
# names as values, with and without what follows them as names
TRICKY = [
    "\x02reason", "\x01per_capita_income", '\x01per_capita_income":"1"', "\x01x\x01",
    ',"\x02reason":null}', '"\\u0001x":"2"', "\x01", "\x02", 'a"b\\c', "\u2028x\u2029",
    "\ufeff中文\U0001f600", "\x7f\x85", ',"\\u0002reason":null', '"\\u0002reason"',
]


def tricky_ids() -> list[str]:
    """Every ASCII character (in ids of at most 64 characters, the contract's bound), then
    the texts above."""
    ascii_text = "".join(chr(code) for code in range(128))
    return [f"{n}{ascii_text[i:i + 40]}" for n, i in enumerate(range(0, 128, 40))] + TRICKY


def both_engines(policy: Policy, households: list[dict[str, Any]], as_of: date,
                 cases: dict[str, list[Case]] | None = None) -> tuple[Any, Any]:
    chunk = [(number, dumps(household)) for number, household in enumerate(households, 1)]
    by_record = ChunkDecider(policy, as_of, cases=cases).decide(chunk)
    in_columns = ColumnarChunkDecider(policy, as_of, cases).decide(chunk)
    return by_record, in_columns


def test_texts_of_any_character_are_written_as_the_record_path_writes_them(
        fujian: Policy) -> None:
    boundary = benchmark_module("boundary_households")
    households = list(boundary.boundary_households(len(tricky_ids()) + 40, seed=5))
    for household, new_id in zip(households, tricky_ids(), strict=False):
        household["household_id"] = new_id
    cases: dict[str, list[Case]] = {}
    for number, (household_id, own) in enumerate(boundary.boundary_cases(households, 3)
                                                 .items()):
        for index, case in enumerate(own):
            case = dict(case, case_id=f"{TRICKY[(number + index) % len(TRICKY)]}-{index}")
            cases.setdefault(household_id, []).append(Case.model_validate(case))
    by_record, in_columns = both_engines(fujian, households, date(2021, 12, 31), cases)
    assert in_columns.decisions == by_record.decisions
    assert (in_columns.read, in_columns.decided, in_columns.rejected) == \
        (by_record.read, by_record.decided, by_record.rejected) == (len(households),) * 2 + (0,)
    text = in_columns.decisions.decode("utf-8")
    # what is put right was there to put right: deadlines with a reason and without, numbers
    assert '"reason":"' in text and '"status":"' in text and '"\\u0002reason":' not in text
    assert text.count('"per_capita_income":') == len(households)
    assert '"per_capita_income":"' not in text
    for tricky in ('\\u0001per_capita_income\\":\\"1\\"', ',\\"\\u0002reason\\":null}'):
        assert tricky in text  # the ids themselves, escaped, untouched


NESTED = """\
policy:
  id: nested-numbers
  title: a number inside an object decision
  effective: 2021-01-01
decisions:
  share:
    expr: net_income / 3
  shares:
    kind: object
    when: net_income > 20000
    fields:
      third:
        expr: net_income / 3
      seventh:
        expr: net_income / 7
      members:
        expr: count(members)
      label:
        expr: '"x"'
"""


def test_a_number_inside_an_object_decision_is_written_as_a_json_number(
        tmp_path: Path) -> None:
    (tmp_path / "nested.yaml").write_text(NESTED, encoding="utf-8")
    policy = load_policy(tmp_path / "nested.yaml")
    households = list(benchmark_module("boundary_households").boundary_households(60, seed=3))
    households[0]["household_id"] = '\x01third":"9"'
    by_record, in_columns = both_engines(policy, households, date(2021, 9, 1))
    assert in_columns.decisions == by_record.decisions
    second = in_columns.decisions.decode("utf-8").splitlines()[1]
    assert '"shares":{"label":"x","members":' in second and '"seventh":5714.' in second
    assert '"third":13333.' in second and '"third":"' not in second
    assert '"shares":null' in in_columns.decisions.decode("utf-8")  # not decided: null
