"""The data contract, strictly: each way a record used to be read outside the contract (or to
break the run) is decided or rejected as docs/record-schema.md says, on every path."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from fangpin_rules import Policy, RecordError
from fangpin_rules.cli.main import main
from fangpin_rules.engine.records import parse_json, validate
from fangpin_rules.engine.typed_json import typed_reader
from fangpin_rules.limits import ECHO_MAX_CHARS
from fangpin_rules.model import Household

from support import FUJIAN, RECORDS_MD_HOUSEHOLD

AS_OF = "2021-09-01"


def _record(**changes: Any) -> dict[str, Any]:
    record = copy.deepcopy(RECORDS_MD_HOUSEHOLD)
    record.update(changes)
    return record


def _eval(tmp_path: Path, text: str, *extra: str, name: str = "in.jsonl"
          ) -> tuple[int, list[dict[str, Any]], list[dict[str, Any]], int]:
    """Exit code, decisions, rejects and the size of the decisions file of `fangpin eval`."""
    source = tmp_path / name
    source.write_bytes(text.encode("utf-8", "surrogatepass"))
    out, rejects = tmp_path / "out.jsonl", tmp_path / "rejects.jsonl"
    code = main(["eval", str(FUJIAN), str(source), "--as-of", AS_OF, "-o", str(out),
                 "--rejects", str(rejects), *extra])
    # split at newlines only: a decision may hold U+2028, which `splitlines` splits at
    decisions = [json.loads(line) for line in out.read_text("utf-8").split("\n") if line]
    rejected = [json.loads(line) for line in rejects.read_text("utf-8").split("\n") if line]
    return code, decisions, rejected, out.stat().st_size


def _both_paths_reject(line: str, field: str) -> str:
    """The reason the full path gives; the fast reader must leave the line to it."""
    reader = typed_reader(Household)
    assert reader is not None and reader.decode(line) is None, line
    with pytest.raises(RecordError) as caught:
        validate(parse_json(line))
    rejection = caught.value.rejection
    fields = [p.field for p in rejection.problems] or [rejection.field]
    assert field in fields, rejection
    return rejection.reason


# -- finding 5: one record must not blow up the run or its output ---------------------------
@pytest.mark.parametrize("number", ["1e-400", "1e-999999", "1e+999999", "1e-1000050"])
def test_a_huge_exponent_is_a_rejection_not_a_crash_or_a_megabyte(
        tmp_path: Path, number: str) -> None:
    line = json.dumps(_record()).replace('"previous_net_income": 26000',
                                         f'"previous_net_income": {number}')
    for explain in ((), ("--explain",)):
        code, decisions, rejects, size = _eval(tmp_path, line + "\n", *explain)
        assert (code, decisions, size) == (1, [], 0)
        assert [(r["field"], r["line"]) for r in rejects] == [("previous_net_income", 1)]


@pytest.mark.parametrize("number", ["0E-999999", "0E+999999", "0E-1000050", "1.0000000000"
                                    + "0" * 5000])
def test_a_zero_with_any_exponent_or_trailing_zeros_is_decided_in_bounded_output(
        tmp_path: Path, number: str) -> None:
    line = json.dumps(_record()).replace('"previous_net_income": 26000',
                                         f'"previous_net_income": {number}')
    for explain in ((), ("--explain",)):
        code, decisions, rejects, size = _eval(tmp_path, line + "\n", *explain)
        assert (code, len(decisions), rejects) == (0, 1, [])
        assert size < 60_000


# -- finding 6: exact, and the contract ---------------------------------------------------------
@pytest.mark.parametrize(("change", "field"), [
    ({"members": [dict(RECORDS_MD_HOUSEHOLD["members"][0], birth_date=0)]},
     "members.0.birth_date"),
    ({"members": [dict(RECORDS_MD_HOUSEHOLD["members"][0], birth_date="1956-03-01T00:00")]},
     "members.0.birth_date"),
    ({"formerly_poor": 0}, "formerly_poor"),
    ({"formerly_poor": 1}, "formerly_poor"),
    ({"tekun": "true"}, "tekun"),
    ({"net_income": "1_000"}, "net_income"),
    ({"net_income": " 1000"}, "net_income"),
    ({"net_income": "NaN"}, "net_income"),
    ({"net_income": True}, "net_income"),
    ({"members": [dict(RECORDS_MD_HOUSEHOLD["members"][0], disability_grade=True)]},
     "members.0.disability_grade"),
    ({"dibao": {"enrolled": False, "since": 20210101}}, "dibao.since"),
])
def test_a_value_of_the_wrong_kind_is_rejected_not_converted(change: dict[str, Any],
                                                             field: str) -> None:
    _both_paths_reject(json.dumps(_record(**change)), field)


@pytest.mark.parametrize("text", ["1e-400", "0.1e1", "1.0"])
def test_a_grade_or_boolean_spelt_as_a_non_integer_number_is_rejected(text: str) -> None:
    member = json.dumps(RECORDS_MD_HOUSEHOLD["members"][0]).replace(
        '"disability_grade": null', f'"disability_grade": {text}')
    line = json.dumps(_record()).replace(json.dumps(RECORDS_MD_HOUSEHOLD["members"][0]), member)
    _both_paths_reject(line, "members.0.disability_grade")
    boolean = json.dumps(_record()).replace('"tekun": false', f'"tekun": {text}')
    _both_paths_reject(boolean, "tekun")


def test_a_number_as_a_string_is_read_only_when_it_spells_a_json_number(
        fujian: Policy) -> None:
    as_string = fujian.evaluate(parse_json(json.dumps(_record(net_income="18000.5"))), AS_OF)
    as_number = fujian.evaluate(_record(net_income=Decimal("18000.5")), AS_OF)
    assert as_string == as_number


@pytest.mark.parametrize(("line", "key"), [
    ('{"household_id": "A", "household_id": "B"', "household_id"),
    ('{"household_id": "350181-0001", "net_income": 1', "net_income"),
])
def test_a_key_given_twice_is_rejected_with_the_key(tmp_path: Path, line: str, key: str) -> None:
    text = json.dumps(_record()).replace('{"household_id": "350181-0001"', line, 1)
    _both_paths_reject_key = typed_reader(Household)
    assert _both_paths_reject_key is not None and _both_paths_reject_key.decode(text) is None
    code, decisions, rejects, _ = _eval(tmp_path, text + "\n")
    assert (code, decisions) == (1, [])
    assert rejects[0]["field"] == key and "given twice" in rejects[0]["reason"]


def test_a_key_given_twice_deep_inside_is_rejected(tmp_path: Path) -> None:
    text = json.dumps(_record()).replace('"medical": 12000', '"medical": 12000, "medical": 0')
    code, decisions, rejects, _ = _eval(tmp_path, text + "\n")
    assert (code, decisions, rejects[0]["field"]) == (1, [], "medical")
    # in a JSON array too: only that record is rejected
    array = "[" + json.dumps(_record(household_id="OK")) + ",\n" + text + "]"
    code, decisions, rejects, _ = _eval(tmp_path, array, name="in.json")
    assert [d["household_id"] for d in decisions] == ["OK"]
    assert [r["field"] for r in rejects] == ["medical"]


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_household_id_given_twice_in_a_run_is_rejected_the_second_time(
        tmp_path: Path, jobs: str) -> None:
    lines = [json.dumps(_record(household_id=f"H{i}")) for i in range(6)]
    lines[4] = json.dumps(_record(household_id="H1", net_income=1))
    code, decisions, rejects, _ = _eval(tmp_path, "\n".join(lines) + "\n", "--jobs", jobs,
                                        *(("--explain",) if jobs == "2" else ()))
    assert code == 1
    assert [d["household_id"] for d in decisions] == ["H0", "H1", "H2", "H3", "H5"]
    assert [(r["line"], r["household_id"], r["field"]) for r in rejects] == \
        [(5, "H1", "household_id")]
    assert "line 2" in rejects[0]["reason"]


def test_a_household_id_given_twice_across_chunks_and_workers_is_found(
        tmp_path: Path) -> None:
    from fangpin_rules.cli.eval import decide_stream
    from fangpin_rules.engine import load_policy
    from fangpin_rules.engine.parallel import PolicySource

    policy = load_policy(FUJIAN)
    lines = [json.dumps(_record(household_id=f"H{i % 7}")) for i in range(20)]
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out, rejects = tmp_path / "out.jsonl", tmp_path / "rejects.jsonl"
    with source.open(encoding="utf-8", newline="\n") as src, \
            out.open("w", encoding="utf-8") as o, rejects.open("w", encoding="utf-8") as r:
        counts = decide_stream(policy, src, o, r, parse_date_(AS_OF), jobs=2, chunk_lines=3,
                               policy_source=PolicySource.of(policy))
    assert counts == (20, 7, 13)
    assert len(out.read_text("utf-8").splitlines()) == 7
    assert len(rejects.read_text("utf-8").splitlines()) == 13


def parse_date_(text: str) -> Any:
    from datetime import date

    return date.fromisoformat(text)


def test_evaluate_many_rejects_a_household_id_given_twice(fujian: Policy) -> None:
    rejected: list[Any] = []
    records = [_record(household_id="A"), _record(household_id="B"), _record(household_id="A")]
    decided = list(fujian.evaluate_many(records, AS_OF, on_reject=rejected.append))
    assert [d["household_id"] for d in decided] == ["A", "B"]
    assert [(r.line, r.household_id, r.field) for r in rejected] == [(3, "A", "household_id")]
    with pytest.raises(RecordError, match="line 1"):
        list(fujian.evaluate_many(records, AS_OF))


def test_a_raw_cr_inside_a_record_does_not_split_it(tmp_path: Path) -> None:
    good = json.dumps(_record(household_id="CR-1")).replace(', "formerly_poor"',
                                                            ',\r"formerly_poor"')
    bad = json.dumps(_record(household_id="CR-2")).replace('"region_code": "350181"',
                                                           '"region_code": "350\r181"')
    code, decisions, rejects, _ = _eval(tmp_path, good + "\r\n" + bad + "\r\n")
    assert code == 1
    assert [d["household_id"] for d in decisions] == ["CR-1"]  # a CR between tokens is space
    assert [r["line"] for r in rejects] == [2]  # one line, one rejection


def test_a_line_separator_inside_a_string_does_not_split_a_line(tmp_path: Path) -> None:
    # not one JSON array (the last line is bad), so it is read line by line
    record = json.dumps(_record(household_id="LS\u2028PS\u2029X"), ensure_ascii=False)
    text = "[" + record + ",\n" + json.dumps(_record(household_id="Z")) + ",\n{bad]\n"
    code, decisions, rejects, _ = _eval(tmp_path, text, name="in.json")
    assert [r["line"] for r in rejects] == [1, 2, 3]  # three lines, not four
    stream = record + "\n"
    code, decisions, rejects, _ = _eval(tmp_path, stream)
    assert (code, rejects) == (0, [])
    assert [d["household_id"] for d in decisions] == ["LS\u2028PS\u2029X"]


def test_a_bom_at_the_start_is_accepted(tmp_path: Path) -> None:
    lines = [json.dumps(_record(household_id=f"B{i}")) for i in range(3)]
    code, decisions, rejects, _ = _eval(tmp_path, "\ufeff" + "\n".join(lines) + "\n")
    assert (code, len(decisions), rejects) == (0, 3, [])
    code, decisions, rejects, _ = _eval(tmp_path, "\ufeff[" + ",".join(lines) + "]",
                                        name="in.json")
    assert (code, len(decisions), rejects) == (0, 3, [])


def test_every_problem_of_a_rejected_line_is_listed(tmp_path: Path) -> None:
    line = json.dumps(_record(formerly_poor=1, net_income="lots", tekun=None, extra=1))
    code, decisions, rejects, _ = _eval(tmp_path, line + "\n")
    assert (code, decisions) == (1, [])
    (reject,) = rejects
    assert {p["field"] for p in reject["problems"]} == {"formerly_poor", "net_income", "extra"}
    assert reject["field"] == reject["problems"][0]["field"]


# -- finding 8 (part): what a rejection echoes is bounded ---------------------------------------
def test_a_huge_id_is_echoed_cut_with_its_length(tmp_path: Path) -> None:
    huge = "x" * 1_000_000
    line = json.dumps(_record(household_id=huge, **{"y" * 500_000: 1}))
    code, decisions, rejects, _ = _eval(tmp_path, line + "\n")
    assert (code, decisions) == (1, [])
    (reject,) = rejects
    assert len(json.dumps(reject)) < 20 * ECHO_MAX_CHARS
    assert reject["household_id"].startswith("x" * ECHO_MAX_CHARS)
    assert "1000000 characters" in reject["household_id"]
    assert all("500000 characters" in p["field"] for p in reject["problems"]
               if p["field"] and p["field"].startswith("y"))


def test_an_arrow_row_beyond_the_limits_is_rejected_and_the_rest_decided(
        fujian: Policy) -> None:
    pa = pytest.importorskip("pyarrow")
    from fangpin_rules.columnar import decide_batch, input_schema, records_to_arrow

    rows = records_to_arrow(fujian, [_record(household_id=f"A{i}") for i in range(3)]) \
        .to_pylist()
    rows[1]["net_income"] = Decimal("7151.99999")  # decimal128(38, 10) holds it; money does not
    result = decide_batch(fujian, pa.Table.from_pylist(rows, schema=input_schema(fujian)), AS_OF)
    assert result.decisions.column("household_id").to_pylist() == ["A0", "A2"]
    assert [(r["row"], r["field"], r["reason"]) for r in result.rejects.to_pylist()] == \
        [(1, "net_income", "has more than 4 decimal places")]


def test_standard_input_is_read_by_the_same_rules(tmp_path: Path) -> None:
    import subprocess
    import sys

    from support import ROOT

    good = json.dumps(_record(household_id="CR-1")).replace(', "formerly_poor"',
                                                            ',\r"formerly_poor"')
    bad = json.dumps(_record(household_id="CR-2")).replace('"350181"', '"350\r181"')
    run = subprocess.run([sys.executable, "-m", "fangpin_rules.cli.main", "eval", str(FUJIAN),
                          "-", "--as-of", AS_OF], input=("\ufeff" + good + "\r\n" + bad + "\r\n")
                         .encode("utf-8"), capture_output=True, cwd=ROOT, check=False,
                         env={**__import__("os").environ, "PYTHONPATH": str(ROOT / "src")})
    assert run.returncode == 1
    assert [json.loads(line)["household_id"] for line in run.stdout.decode().splitlines()] == \
        ["CR-1"]
    assert "read 2, decided 1, rejected 1" in run.stderr.decode()


@pytest.mark.parametrize(("change", "field"), [
    ({"received_on": 0}, "received_on"), ({"assigned_on": 20211001}, "assigned_on"),
    ({"visits": ["2021-11-02", 1]}, "visits.1"),
    ({"publicity": [{"purpose": "identification", "start": True}]}, "publicity.0.start"),
])
def test_a_case_is_read_by_the_same_strict_rules(change: dict[str, Any], field: str) -> None:
    from fangpin_rules.model import Case

    case = {"case_id": "W-1", "household_id": "350181-0001", "source": "hotline_12317",
            "received_on": "2021-09-30", **change}
    reader = typed_reader(Case)
    assert reader is not None and reader.decode(json.dumps(case)) is None
    with pytest.raises(RecordError) as caught:
        validate(case, model=Case)
    assert caught.value.rejection.field == field
