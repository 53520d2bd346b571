"""Arrow batches over HTTP (service/arrow_batches.py), against the real `fangpin serve` on
loopback: a table of households in, a table of decisions out, equal to the library's; routed
as a JSON batch; rejects, counts and engines in the answer's metadata; logged and counted;
bad bodies answered with problem+json."""

from __future__ import annotations

import json
import time
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from fangpin_rules.columnar import decide_batch, records_to_arrow
from fangpin_rules.engine.serialize import dumps

from service_support import AS_OF, HOUSEHOLDS, PROBLEM, Server, library, library_decision
from support import ROOT, policy_from_text

pa = pytest.importorskip("pyarrow")

ARROW = "application/vnd.apache.arrow.stream"


def _stream(table: Any) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue().to_pybytes())


def _post(server: Server, body: bytes, **params: str) -> Any:
    with server.client() as client:
        return client.post("/v1/decide", params={"as_of": AS_OF, **params}, content=body,
                           headers={"Content-Type": ARROW})


def _answer(response: Any) -> tuple[Any, dict[str, Any]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == ARROW
    table = pa.ipc.open_stream(pa.py_buffer(response.content)).read_all()
    meta = {key.decode(): json.loads(value) for key, value in table.schema.metadata.items()}
    return table, meta


def _households(n: int) -> list[dict[str, Any]]:
    return [dict(HOUSEHOLDS[i % len(HOUSEHOLDS)], household_id=f"A-{i}") for i in range(n)]


def test_a_named_policys_table_is_answered_with_the_librarys_decisions(server: Server) -> None:
    """Each decided row is the library's decision of it, in the request's row order, with its
    row and decision id; a bad row is a reject in the metadata, named by row and field."""
    policy = library("fujian-2021")
    households = _households(40)
    rows = records_to_arrow(policy, households).to_pylist()
    rows[7]["net_income"] = Decimal("-2000000000000")
    table = pa.Table.from_pylist(rows, schema=records_to_arrow(policy, households[:1]).schema)
    response = _post(server, _stream(table), policy="fujian-2021")
    answer, meta = _answer(response)
    assert meta["fangpin.counts"] == {"read": 40, "decided": 39, "rejected": 1}
    assert meta["fangpin.engines"] == {"fujian-2021": "columnar"}
    [reject] = meta["fangpin.rejects"]
    assert (reject["row"], reject["household_id"], reject["field"]) == (7, "A-7", "net_income")
    assert answer.column("row").to_pylist() == [r for r in range(40) if r != 7]
    batch = response.headers["x-decision-id"]
    assert answer.column("decision_id").to_pylist() == \
        [f"{batch}-{r}" for r in answer.column("row").to_pylist()]
    expected = decide_batch(policy, table, AS_OF, engine="record").decisions
    assert answer.drop_columns(["row", "decision_id"]).to_pylist() == expected.to_pylist()
    assert answer.schema.remove_metadata().field("per_capita_income").type == pa.string()


def test_rows_are_routed_by_region_as_a_json_batch(server: Server) -> None:
    """Without `policy` each row goes to the policy of its region (the province's, or a
    county's that extends it), and its decision is that policy's."""
    households = [dict(h, household_id=f"R-{i}") for i, h in enumerate(HOUSEHOLDS)]
    table = records_to_arrow(library("fujian-2021"), households)
    answer, meta = _answer(_post(server, _stream(table)))
    assert meta["fangpin.counts"]["decided"] == len(households)
    for item in answer.to_pylist():
        household = households[item["row"]]
        policy_id = item["policy"]["id"]
        expected = decide_batch(library(policy_id), records_to_arrow(
            library(policy_id), [household]), AS_OF, engine="record").decisions.to_pylist()
        assert {k: v for k, v in item.items() if k not in ("row", "decision_id")} == \
            expected[0]
        assert expected[0]["household_id"] == library_decision(policy_id,
                                                               household)["household_id"]
    assert set(meta["fangpin.engines"]) == {item["policy"]["id"] for item in answer.to_pylist()}


OTHER_COLUMNS = """\
policy:
  id: sizes-350121
  title: sizes
  effective: 2021-01-01
  jurisdiction: "350121"
decisions:
  size:
    expr: count(members)
"""


def test_policies_whose_decisions_have_other_columns_are_not_mixed(tmp_path: Path) -> None:
    """Rows routed to two policies whose decisions are of other columns cannot be one table:
    the request is refused, saying to name a policy (in-process: the routing alone)."""
    from fangpin_rules.service.arrow_batches import decide_stream
    from fangpin_rules.service.deciding import Deadline
    from fangpin_rules.service.problems import Problem
    from fangpin_rules.service.registry import Snapshot

    county = policy_from_text(tmp_path, OTHER_COLUMNS)
    snapshot = Snapshot({"fujian-2021": library("fujian-2021"), county.id: county}, {})
    households = [dict(h, household_id=f"M-{i}") for i, h in enumerate(HOUSEHOLDS)]
    assert {h["region_code"][:6] for h in households} >= {"350121", "350181"}
    table = records_to_arrow(library("fujian-2021"), households)
    with pytest.raises(Problem) as refused:
        decide_stream(snapshot, date(2021, 9, 1), None, table, "b", Deadline(0), max_batch=100)
    assert refused.value.kind == "invalid-request" and refused.value.field == "policy"
    assert "name one with `policy`" in refused.value.detail
    one = decide_stream(snapshot, date(2021, 9, 1), "fujian-2021", table, "b", Deadline(0),
                        max_batch=100)
    assert one.counts["decided"] == len(households)


def test_a_row_of_no_region_is_rejected_naming_region_code(server: Server) -> None:
    households = _households(3)
    households[1] = dict(households[1], region_code="110101")  # Beijing: no policy here
    table = records_to_arrow(library("fujian-2021"), households)
    answer, meta = _answer(_post(server, _stream(table)))
    [reject] = meta["fangpin.rejects"]
    assert (reject["row"], reject["field"]) == (1, "region_code")
    with server.client() as client:
        batch = client.post("/v1/decide", json={"households": [json.loads(dumps(h))
                                                               for h in households],
                                                "as_of": AS_OF}).json()
    assert reject["reason"] == batch["rejects"][0]["reason"]  # as a JSON batch words it
    assert "name one with `policy`" in reject["reason"]
    assert answer.column("row").to_pylist() == [0, 2]


def test_a_stream_of_several_batches_and_dictionary_codes_is_one_table(
        server: Server) -> None:
    """A client's stream of many record batches, its region codes dictionary-encoded (as a
    Parquet reader gives them): each row routed by its code, the rows in the request's
    order."""
    import pyarrow.compute as pc

    households = [dict(h, household_id=f"S-{i}") for i, h in enumerate(HOUSEHOLDS * 2)]
    table = records_to_arrow(library("fujian-2021"), households)
    index = table.schema.get_field_index("region_code")
    table = table.set_column(index, "region_code",
                             pc.dictionary_encode(table.column("region_code")))
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        for batch in table.to_batches(max_chunksize=7):
            writer.write_batch(batch)
    answer, meta = _answer(_post(server, sink.getvalue().to_pybytes()))
    assert meta["fangpin.counts"] == {"read": len(households), "decided": len(households),
                                      "rejected": 0}
    assert answer.column("row").to_pylist() == list(range(len(households)))
    policies = {row["household_id"]: row["policy"]["id"] for row in answer.to_pylist()}
    assert len(set(policies.values())) > 1  # the counties' households went to their policies
    with server.client() as client:
        batch = client.post("/v1/decide", json={"households": [json.loads(dumps(h))
                                                               for h in households],
                                                "as_of": AS_OF}).json()
    assert policies == {d["decision"]["household_id"]: d["policy"]["id"]
                        for d in batch["decisions"]}


def test_an_arrow_batch_is_logged_and_counted(server: Server) -> None:
    """Each decision goes to the decision log with its id and the record path's JSON, ID
    numbers masked; the metrics count the decisions and the rejects."""
    id_number = "35012119900101123X"
    households = _households(3)
    households[2] = dict(households[2], household_id=id_number)
    table = records_to_arrow(library("fujian-2021"), households)
    with server.client() as client:
        before = client.get("/metrics").text
    response = _post(server, _stream(table), policy="fujian-2021")
    answer, _ = _answer(response)
    batch = response.headers["x-decision-id"]
    log = server.log.parent / "decisions.log"
    entries: list[dict[str, Any]] = []
    for _ in range(100):
        entries = [e for e in map(json.loads, log.read_text(encoding="utf-8").splitlines())
                   if e["decision_id"].startswith(batch)]
        if len(entries) == 3:
            break
        time.sleep(0.05)
    assert sorted(e["decision_id"] for e in entries) == [f"{batch}-{r}" for r in range(3)]
    assert id_number not in log.read_text(encoding="utf-8")
    by_id = {e["decision_id"]: e for e in entries}
    first = json.loads(json.dumps(library_decision("fujian-2021", households[0])),
                       parse_float=Decimal)
    assert json.loads(json.dumps(by_id[f"{batch}-0"]["decision"]), parse_float=Decimal) == \
        first
    assert by_id[f"{batch}-2"]["decision"]["household_id"] == "350121********123X"
    with server.client() as client:
        after = client.get("/metrics").text
    key = 'fangpin_decisions_total{policy="fujian-2021"}'
    assert _sample(after, key) == _sample(before, key) + 3
    assert answer.num_rows == 3


def _sample(text: str, key: str) -> float:
    for line in text.splitlines():
        if line.startswith(key + " "):
            return float(line.split()[-1])
    return 0.0


@pytest.mark.parametrize(("body", "params", "status", "words"), [
    (b"", {}, 422, "the body is empty"),
    (b"not arrow at all", {}, 422, "not an Arrow IPC stream"),
    (None, {"policy": "no-such"}, 404, "no policy 'no-such'"),
    (None, {"as_of": "2021-02-30"}, 422, "as_of"),
    (None, {"sort": "yes"}, 422, "unknown query parameter 'sort'"),
])
def test_a_bad_arrow_request_is_a_problem(server: Server, body: bytes | None,
                                          params: dict[str, str], status: int,
                                          words: str) -> None:
    if body is None:
        body = _stream(records_to_arrow(library("fujian-2021"), _households(2)))
    response = _post(server, body, **params)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    assert words in json.dumps(response.json(), ensure_ascii=False)


def test_a_table_larger_than_the_batch_limit_is_refused(server: Server) -> None:
    table = records_to_arrow(library("fujian-2021"), _households(301))  # the limit is 300
    response = _post(server, _stream(table), policy="fujian-2021")
    if response.status_code == 413 and response.json()["type"].endswith("body-too-large"):
        pytest.fail("the table should fit the body limit: make it smaller")
    assert response.status_code == 413
    assert response.json()["type"] == "urn:fangpin:problem:batch-too-large"


def test_without_pyarrow_an_arrow_body_is_refused_before_it_is_read(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A server installed without the `[columnar]` extra answers 415, saying what to install
    (in-process: the extra cannot be uninstalled for one test)."""
    import anyio
    import httpx

    from fangpin_rules.service import arrow_batches
    from fangpin_rules.service.app import create_app
    from fangpin_rules.service.config import ServiceConfig

    from support import FUJIAN

    monkeypatch.setattr(arrow_batches, "available", lambda: False)
    app = create_app(ServiceConfig(sources=(str(FUJIAN),), reload_interval_seconds=0))

    async def call() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://service.test") as client:
            return await client.post("/v1/decide", params={"as_of": AS_OF}, content=b"x",
                                     headers={"Content-Type": ARROW})

    response = anyio.run(call)
    assert response.status_code == 415
    assert "fangpin-rules[columnar]" in response.json()["detail"]


def test_a_date_a_routed_policy_cannot_answer_for_rejects_its_rows(server: Server) -> None:
    """As in a JSON batch: each row of the policy is a reject naming as_of, and the others go
    on (here every row is the province's)."""
    households = [dict(h, household_id=f"D-{i}", region_code="350181")
                  for i, h in enumerate(HOUSEHOLDS[:3])]
    table = records_to_arrow(library("fujian-2021"), households)
    with server.client() as client:
        batch = client.post("/v1/decide", json={"households": [json.loads(dumps(h))
                                                               for h in households],
                                                "as_of": "2019-01-01"}).json()
    answer, meta = _answer(_post(server, _stream(table), as_of="2019-01-01"))
    assert answer.num_rows == 0
    assert [(r["row"], r["field"]) for r in meta["fangpin.rejects"]] == \
        [(0, "as_of"), (1, "as_of"), (2, "as_of")]
    assert [r["reason"] for r in meta["fangpin.rejects"]] == \
        [r["reason"] for r in batch["rejects"]]
    assert meta["fangpin.engines"] == {"fujian-2021": "none"}


CASES_AS_OF = "2025-06-30"  # the example cases' procedures are under way then


def _example_cases() -> dict[str, list[dict[str, Any]]]:
    by_household: dict[str, list[dict[str, Any]]] = {}
    for line in (ROOT / "examples" / "cases.jsonl").read_text(encoding="utf-8").splitlines():
        case = json.loads(line)
        by_household.setdefault(case["household_id"], []).append(case)
    return by_household


def _with_cases(table: Any, cases: list[list[dict[str, Any]] | None]) -> Any:
    return table.append_column("cases", pa.array(cases))


def test_a_cases_column_gives_each_household_its_cases(server: Server) -> None:
    """Each row's list of cases is its household's, as a JSON batch's `cases` (the case's
    household_id may be left out: it is its row's; a date may be Arrow's own or text); the
    decisions hold their deadlines, equal to the library's with the same cases."""
    policy = library("fujian-2021")
    households = HOUSEHOLDS
    by_household = _example_cases()
    per_row: list[list[dict[str, Any]] | None] = []
    for index, household in enumerate(households):
        own = [dict(case) for case in by_household.get(household["household_id"], [])]
        for case in own[::2]:  # every other case without its household_id, its date typed
            del case["household_id"]
            case["received_on"] = date.fromisoformat(case["received_on"])
        per_row.append(own if own or index % 2 else None)  # no cases: null or an empty list
    table = records_to_arrow(policy, households)
    answer, meta = _answer(_post(server, _stream(_with_cases(table, per_row)),
                                 policy="fujian-2021", as_of=CASES_AS_OF))
    assert meta["fangpin.counts"]["rejected"] == 0
    expected = decide_batch(policy, table, CASES_AS_OF, engine="record", cases={
        key: [dict(c) for c in cases] for key, cases in by_household.items()}).decisions
    assert answer.column("deadlines").to_pylist() == expected.column("deadlines").to_pylist()
    of_cases = {row["household_id"] for row in answer.to_pylist()
                if any(entry["case_id"] for entry in row["deadlines"])}
    assert of_cases == {h["household_id"] for h in households} & set(by_household)
    # without the cases, the same rows hold none of them
    bare, _ = _answer(_post(server, _stream(table), policy="fujian-2021", as_of=CASES_AS_OF))
    assert bare.column("deadlines").to_pylist() != answer.column("deadlines").to_pylist()


@pytest.mark.parametrize(("change", "field", "reason"), [
    (lambda case: {**case, "received_on": "2021-13-01"}, "cases[{row}][0].received_on", None),
    (lambda case: {**case, "household_id": "someone-else"}, "cases[{row}][0].household_id",
     "another household's case"),
    (lambda case: {k: v for k, v in case.items() if k != "source"}, "cases[{row}][0].source",
     None),
])
def test_a_bad_case_refuses_the_request_naming_its_row_and_field(
        server: Server, change: Any, field: str, reason: str | None) -> None:
    policy = library("fujian-2021")
    by_household = _example_cases()
    row = next(i for i, h in enumerate(HOUSEHOLDS) if h["household_id"] in by_household)
    per_row: list[list[dict[str, Any]] | None] = [None] * len(HOUSEHOLDS)
    per_row[row] = [change(by_household[HOUSEHOLDS[row]["household_id"]][0])]
    table = _with_cases(records_to_arrow(policy, HOUSEHOLDS), per_row)
    response = _post(server, _stream(table), policy="fujian-2021", as_of=CASES_AS_OF)
    assert response.status_code == 422, response.text
    problem = response.json()
    assert response.headers["content-type"] == PROBLEM
    assert problem["type"].endswith("invalid-case")
    assert problem["field"] == field.format(row=row)
    assert problem["detail"].startswith(f"row {row}, case 1: ")
    if reason is not None:
        assert problem["reason"] == reason


def test_a_cases_column_that_is_not_lists_of_cases_is_refused(server: Server) -> None:
    table = records_to_arrow(library("fujian-2021"), HOUSEHOLDS)
    table = table.append_column("cases", pa.array(["C-1"] * table.num_rows))
    response = _post(server, _stream(table), policy="fujian-2021")
    assert response.status_code == 422
    assert (response.json()["field"], response.json()["reason"]) == ("cases", "a column of string")
