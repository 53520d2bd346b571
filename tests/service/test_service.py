"""`fangpin serve`, called over HTTP on loopback: every answer equals the library's for the
same input; bad requests each get their 4xx problem+json; a bounded load loses nothing."""

from __future__ import annotations

import copy
import hashlib
import json
import threading
import time
from decimal import Decimal
from typing import Any

import httpx
import pytest

from fangpin_rules.audit.effective import describe
from fangpin_rules.engine import RecordError
from fangpin_rules.engine.records import parse_json
from fangpin_rules.engine.serialize import dumps
from fangpin_rules.explain import explain
from fangpin_rules.model import Decision, Household

from service_support import (
    AS_OF,
    FILES,
    HOUSEHOLDS,
    PROBLEM,
    TOKEN,
    Server,
    exact,
    library,
    library_decision,
)


def _plain(record: dict[str, Any]) -> Any:
    """A household httpx can send as JSON (decimals as their exact number text)."""
    return json.loads(dumps(record))


def household(number: int, **changes: Any) -> dict[str, Any]:
    record = copy.deepcopy(HOUSEHOLDS[number % len(HOUSEHOLDS)])
    record.update(changes)
    return record


def test_single_decisions_equal_the_library_and_are_routed(server: Server) -> None:
    with server.client() as client:
        for record in HOUSEHOLDS:
            response = client.post("/v1/decide", json={"household": _plain(record),
                                                        "as_of": AS_OF})
            assert response.status_code == 200, response.text
            body = exact(response)
            assert response.headers["x-decision-id"] == body["decision_id"]
            policy_id = body["policy"]["id"]
            assert body["policy"]["sha256"] == library(policy_id).sha256
            assert body["decision"] == library_decision(policy_id, record)
            expected = {"350121": "minhou-350121", "350526": "dehua-350526"}.get(
                record["region_code"],
                "quanzhou-350500" if record["region_code"].startswith("3505") else "fujian-2021")
            assert policy_id == expected, record["region_code"]
        named = client.post("/v1/decide", json={"household": _plain(HOUSEHOLDS[0]),
                                                 "as_of": AS_OF, "policy": "minhou-350121"})
        assert exact(named)["policy"]["id"] == "minhou-350121"
        assert exact(named)["decision"] == library_decision("minhou-350121", HOUSEHOLDS[0])


def test_money_is_read_and_written_exactly(server: Server) -> None:
    members = [{"member_id": str(i)} for i in range(1, 4)]
    with server.client() as client:
        for income, in_range in (("21455.97", True), ("21456.00", False)):
            text = ('{"as_of": "2021-09-01", "policy": "fujian-2021", "household": '
                    '{"household_id": "M-1", "formerly_poor": false, "members": '
                    + json.dumps(members) + ', "net_income": ' + income + "}}")
            response = client.post("/v1/decide", content=text,
                                   headers={"Content-Type": "application/json"})
            decision = exact(response)["decision"]
            assert decision["in_range"] is in_range
            expected = (Decimal(income) / 3).quantize(Decimal("0.01"))
            assert decision["per_capita_income"] == expected.normalize()
            assert f'"per_capita_income":{expected.normalize()}'.encode() in response.content


def test_a_batch_equals_the_library_with_rejects_beside_and_counts_that_add_up(
        server: Server) -> None:
    batch: list[Any] = [_plain(h) for h in HOUSEHOLDS[:6]]
    batch.insert(2, {**_plain(HOUSEHOLDS[0]), "household_id": "BAD-1", "net_income": "lots"})
    batch.insert(4, ["not", "a", "household"])
    with server.client() as client:
        response = client.post("/v1/decide", json={"households": batch, "as_of": AS_OF})
    assert response.status_code == 200, response.text
    body = exact(response)
    assert body["counts"] == {"read": 8, "decided": 6, "rejected": 2}
    assert [d["line"] for d in body["decisions"]] == [1, 2, 4, 6, 7, 8]
    for item in body["decisions"]:
        record = batch[item["line"] - 1]
        assert item["decision"] == library_decision(item["policy"]["id"], record)
        assert item["decision_id"] == f"{response.headers['x-decision-id']}-{item['line']}"
    first, second = body["rejects"]
    assert (first["line"], first["household_id"], first["field"]) == (3, "BAD-1", "net_income")
    assert second["line"] == 5 and "object" in second["reason"]


def test_an_ndjson_batch_streams_back_in_input_order(server: Server) -> None:
    lines = [json.dumps(_plain(h)) for h in HOUSEHOLDS]
    lines.insert(3, '{"household_id": "broken", ')
    lines.insert(7, "")
    lines.insert(9, json.dumps({**_plain(HOUSEHOLDS[1]), "household_id": "X-2",
                                "members": []}))
    body = ("\n".join(lines) + "\n").encode()
    with server.client() as client, client.stream(
            "POST", "/v1/decide", params={"as_of": AS_OF}, content=body,
            headers={"Content-Type": "application/x-ndjson"}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/x-ndjson")
        answers = [json.loads(line, parse_float=Decimal) for line in response.iter_lines()
                   if line]
    *items, last = answers
    assert last == {"counts": {"read": len(HOUSEHOLDS) + 2, "decided": len(HOUSEHOLDS),
                               "rejected": 2}}
    numbers = [item["line"] for item in items]
    assert numbers == sorted(numbers) and len(numbers) == len(HOUSEHOLDS) + 2
    rejects = [item for item in items if "reject" in item]
    assert [r["line"] for r in rejects] == [4, 10]
    assert "not valid JSON" in rejects[0]["reject"]["reason"]
    assert rejects[1]["reject"]["field"] == "members"
    decided = [item for item in items if "decision" in item]
    for item, record in zip(decided, HOUSEHOLDS, strict=True):
        assert item["decision"] == library_decision(item["policy"]["id"], record)


def test_explain_in_both_languages_equals_the_library(server: Server) -> None:
    record = HOUSEHOLDS[0]
    with server.client() as client:
        for lang in ("zh", "en"):
            response = client.post("/v1/explain", json={"household": _plain(record),
                                                         "as_of": AS_OF, "lang": lang})
            assert response.status_code == 200, response.text
            body = exact(response)
            expected = json.loads(dumps(explain(library("fujian-2021"), record, AS_OF,
                                                lang=lang)), parse_float=Decimal)
            assert body["explanation"] == expected
            assert body["policy"]["id"] == "fujian-2021"
            assert body["explanation"]["lang"] == lang and body["text"]


def test_policies_are_listed_and_shown_as_fangpin_show_does(server: Server) -> None:
    with server.client() as client:
        listed = exact(client.get("/v1/policies"))["policies"]
        assert {p["id"] for p in listed} == set(FILES)
        minhou = next(p for p in listed if p["id"] == "minhou-350121")
        assert (minhou["jurisdiction"], minhou["version"], minhou["effective"]) == \
            ("350121", "2024.1", "2021-07-01")
        assert minhou["sha256"] == library("minhou-350121").sha256
        detail = exact(client.get("/v1/policies/minhou-350121"))
    shown = json.loads(dumps(describe(library("minhou-350121").checked)), parse_float=Decimal)
    for effective in (shown, detail["effective_policy"]):  # the server's copy has its own path
        effective["policy"].pop("path")
        for link in effective["chain"]:
            link.pop("path")
        _drop_files(effective)
    assert detail["effective_policy"] == shown


def _drop_files(value: Any) -> None:
    if isinstance(value, dict):
        value.pop("file", None)
        for item in value.values():
            _drop_files(item)
    elif isinstance(value, list):
        for item in value:
            _drop_files(item)


def test_schemas_and_openapi_are_the_contract(server: Server) -> None:
    with server.client() as client:
        assert client.get("/v1/schema/household").json() == Household.model_json_schema()
        assert client.get("/v1/schema/decision").json() == Decision.model_json_schema()
        assert client.get("/v1/schema/nothing").status_code == 404
        spec = client.get("/openapi.json").json()
    components = spec["components"]["schemas"]
    for model in (Household, Decision):
        expected = model.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, definition in expected.pop("$defs", {}).items():
            assert components[name] == definition
        assert components[model.__name__] == expected
    body = spec["paths"]["/v1/decide"]["post"]["requestBody"]["content"]
    assert set(body) == {"application/json", "application/x-ndjson",
                         "application/vnd.apache.arrow.stream"}
    # the Arrow table's own columns are not in the spec's schemas: its description says them
    assert "`cases` column" in body["application/vnd.apache.arrow.stream"]["schema"][
        "description"]


def test_health_ready_and_metrics(server: Server) -> None:
    with server.client() as client:
        assert client.get("/health").json() == {"status": "ok"}
        ready = client.get("/ready")
        assert ready.status_code == 200 and len(ready.json()["policies"]) == len(FILES)
        before = _sample(client.get("/metrics").text,
                         'fangpin_decisions_total{policy="fujian-2021"}')
        for _ in range(3):
            client.post("/v1/decide", json={"household": _plain(HOUSEHOLDS[0]),
                                            "as_of": AS_OF})
        client.post("/v1/decide", json={"household": {**_plain(HOUSEHOLDS[0]),
                                                      "net_income": "x"}, "as_of": AS_OF})
        metrics = client.get("/metrics")
    assert metrics.headers["content-type"].startswith("text/plain; version=0.0.4")
    text = metrics.text
    assert _sample(text, 'fangpin_decisions_total{policy="fujian-2021"}') == before + 3
    assert _sample(text, 'fangpin_rejects_total{policy="fujian-2021"}') >= 1
    assert _sample(text, 'fangpin_reloads_total{policy="minhou-350121",result="ok"}') == 1
    assert _sample(text, 'fangpin_requests_total{endpoint="/v1/decide",status="422"}') >= 1
    count = _sample(text, 'fangpin_request_duration_seconds_count{endpoint="/v1/decide"}')
    assert _sample(text, 'fangpin_request_duration_seconds_bucket{endpoint="/v1/decide",'
                         'le="+Inf"}') == count > 0
    assert "fangpin_policy_files_refused 0" in text


def _sample(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def _good() -> dict[str, Any]:
    return {"household": _plain(HOUSEHOLDS[0]), "as_of": AS_OF}


BAD_REQUESTS: list[tuple[str, dict[str, Any], int, str, str | None]] = [
    ("malformed JSON", {"content": b'{"household": {', "json_type": True}, 400,
     "invalid-json", None),
    ("not an object", {"json": [1, 2]}, 422, "invalid-request", None),
    ("as_of a number", {"json": {**_good(), "as_of": 20210901}}, 422, "invalid-request",
     "as_of"),
    ("as_of not a date", {"json": {**_good(), "as_of": "2021-13-01"}}, 422,
     "invalid-request", "as_of"),
    ("households an object", {"json": {"households": {}, "as_of": AS_OF}}, 422,
     "invalid-request", "households"),
    ("a wrong type in the household",
     {"json": {**_good(), "household": {**_plain(HOUSEHOLDS[0]), "formerly_poor": "maybe"}}},
     422, "invalid-household", "household.formerly_poor"),
    ("an unknown key", {"json": {**_good(), "asof": AS_OF}}, 422, "invalid-request", "asof"),
    ("a bad case", {"json": {**_good(), "cases": [{"case_id": "C"}]}}, 422, "invalid-case",
     "cases[0].household_id"),
    ("unknown policy", {"json": {**_good(), "policy": "atlantis-2030"}}, 404,
     "unknown-policy", "policy"),
    ("no policy covers the region",
     {"json": {**_good(), "household": {**_plain(HOUSEHOLDS[0]), "region_code": "110101"}}},
     422, "no-policy", "region_code"),
    ("a date before the policy", {"json": {**_good(), "as_of": "2020-01-01"}}, 422,
     "invalid-date", "as_of"),
    ("oversize body", {"content": b'{"x": "' + b"a" * 300_001 + b'"}', "json_type": True},
     413, "body-too-large", None),
    ("oversize batch", {"json": {"households": [_plain(HOUSEHOLDS[0])] * 301, "as_of": AS_OF}},
     413, "batch-too-large", "households"),
    ("wrong content type", {"content": b"household=1",
                            "headers": {"Content-Type": "application/x-www-form-urlencoded"}},
     415, "unsupported-media-type", "Content-Type"),
    ("no content type", {"content": json.dumps(_good()).encode(), "headers": {}}, 415,
     "unsupported-media-type", "Content-Type"),
    ("ndjson without as_of", {"content": b"{}\n",
                              "headers": {"Content-Type": "application/x-ndjson"}}, 422,
     "invalid-request", "as_of"),
    ("missing token", {"json": _good(), "token": None}, 401, "unauthorized", None),
    ("wrong token", {"json": _good(), "token": "Bearer not-the-token"}, 401, "unauthorized",
     None),
]


@pytest.mark.parametrize(("request_", "status", "kind", "field"),
                         [case[1:] for case in BAD_REQUESTS], ids=[c[0] for c in BAD_REQUESTS])
def test_a_bad_request_gets_its_problem(server: Server, request_: dict[str, Any], status: int,
                                        kind: str, field: str | None) -> None:
    headers = dict(server.headers)
    if "token" in request_:
        headers.pop("Authorization")
        if request_["token"] is not None:
            headers["Authorization"] = request_["token"]
    headers.update(request_.get("headers", {}))
    if request_.get("json_type"):
        headers["Content-Type"] = "application/json"
    if "json" in request_:
        response = httpx.post(server.base + "/v1/decide", json=request_["json"],
                              headers=headers)
    else:
        if "Content-Type" not in headers:
            headers["Content-Type"] = ""
        response = httpx.post(server.base + "/v1/decide", content=request_["content"],
                              headers=headers)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["type"] == f"urn:fangpin:problem:{kind}"
    assert problem["status"] == status and problem["title"] and problem["detail"]
    assert problem.get("field") == field
    assert "Traceback" not in response.text
    if status == 413:
        assert problem["limit"] in (300, 300_000)


def test_bad_explain_requests_get_their_problems(server: Server) -> None:
    with server.client() as client:
        for body, status, field in (
                ({**_good(), "lang": "fr"}, 422, "lang"),
                ({"households": [], "as_of": AS_OF}, 422, "households"),
                ({**_good(), "policy": "atlantis"}, 404, "policy")):
            response = client.post("/v1/explain", json=body)
            assert (response.status_code, response.json().get("field")) == (status, field)
            assert response.headers["content-type"] == PROBLEM
        response = client.post("/v1/explain", content=b"{}",
                               headers={"Content-Type": "text/plain"})
        assert response.status_code == 415


@pytest.mark.parametrize(("method", "path", "status"), [
    ("GET", "/nowhere", 404), ("GET", "/v1/decide", 405), ("GET", "/v1/policies/none", 404)])
def test_unknown_routes_and_methods_are_problems_too(server: Server, method: str, path: str,
                                                      status: int) -> None:
    response = httpx.request(method, server.base + path, headers=server.headers)
    assert response.status_code == status
    assert response.headers["content-type"] == PROBLEM


def test_a_chunked_body_over_the_limit_is_refused_as_it_arrives(server: Server) -> None:
    def chunks() -> Any:
        yield b'{"as_of": "2021-09-01", "households": ['
        for _ in range(400):
            yield json.dumps(_plain(HOUSEHOLDS[0])).encode() + b","
        yield b"{}]}"

    response = httpx.post(server.base + "/v1/decide", content=chunks(),
                          headers={**server.headers, "Content-Type": "application/json"})
    assert "content-length" not in response.request.headers
    assert response.status_code == 413 and response.json()["limit"] == 300_000


def test_no_cors_unless_configured(server: Server) -> None:
    response = httpx.options(server.base + "/v1/decide", headers={
        "Origin": "http://elsewhere.test", "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in response.headers
    response = httpx.get(server.base + "/health", headers={"Origin": "http://elsewhere.test"})
    assert "access-control-allow-origin" not in response.headers


def test_probes_answer_without_a_token_and_the_rest_do_not(server: Server) -> None:
    assert httpx.get(server.base + "/health").status_code == 200
    assert httpx.get(server.base + "/ready").status_code == 200
    for path in ("/metrics", "/v1/policies", "/v1/schema/household"):
        response = httpx.get(server.base + path)
        assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"


def test_the_decision_log_has_each_decision_with_id_numbers_masked(server: Server) -> None:
    id_number = "35012119900101123X"
    record = {**_plain(HOUSEHOLDS[4]), "household_id": id_number}
    with server.client() as client:
        response = client.post("/v1/decide", json={"household": record, "as_of": AS_OF})
    decision_id = response.headers["x-decision-id"]
    assert exact(response)["decision"]["household_id"] == id_number
    log = server.log.parent / "decisions.log"
    entry = None
    for _ in range(100):
        entries = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
        entry = next((e for e in entries if e["decision_id"] == decision_id), None)
        if entry is not None:
            break
        time.sleep(0.05)
    assert entry is not None
    assert id_number not in log.read_text(encoding="utf-8")
    assert entry["decision"]["household_id"] == "350121********123X"
    assert entry["policy"] == exact(response)["policy"] and entry["as_of"] == AS_OF
    sent = parse_json(json.dumps(record))
    assert entry["input_sha256"] == hashlib.sha256(dumps(sent).encode()).hexdigest()
    assert entry["time"].endswith("Z")


def test_a_bounded_load_loses_nothing_and_answers_each_request_once(server: Server) -> None:
    clients, per_client = 8, 200
    answers: dict[str, Any] = {}
    failures: list[str] = []
    lock = threading.Lock()

    def run(worker: int) -> None:
        with server.client() as client:
            for n in range(per_client):
                if n % 4 == 3:  # a batch of five
                    records = [household(worker + n + k, household_id=f"L{worker}-{n}-{k}")
                               for k in range(5)]
                    response = client.post("/v1/decide", json={
                        "households": [_plain(r) for r in records], "as_of": AS_OF})
                    items = [(i["decision"], i["policy"]["id"])
                             for i in exact(response)["decisions"]]
                else:
                    records = [household(worker + n, household_id=f"L{worker}-{n}")]
                    body = exact(response := client.post(
                        "/v1/decide", json={"household": _plain(records[0]), "as_of": AS_OF}))
                    items = [(body["decision"], body["policy"]["id"])]
                if response.status_code != 200 or len(items) != len(records):
                    failures.append(f"{response.status_code}: {response.text[:200]}")
                    continue
                with lock:
                    for (decision, policy_id), record in zip(items, records, strict=True):
                        if decision["household_id"] != record["household_id"] or \
                                decision["household_id"] in answers:
                            failures.append(f"answer for {decision['household_id']}")
                        answers[decision["household_id"]] = (decision, policy_id, record)

    started = time.monotonic()
    threads = [threading.Thread(target=run, args=(w,)) for w in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    elapsed = time.monotonic() - started
    assert not failures, failures[:5]
    assert len(answers) == clients * (per_client // 4 * 3 + per_client // 4 * 5)
    assert elapsed < 90, f"{elapsed:.1f} s"
    for decision, policy_id, record in answers.values():
        assert decision == library_decision(policy_id, record)


def test_a_rejected_household_lists_every_problem_single_and_batch(server: Server) -> None:
    """A record with several problems gets them all in one answer, not the first alone: the
    single request's problem document and the batch's reject carry the engine's list."""
    first = _plain(HOUSEHOLDS[0])
    bad = {**first, "formerly_poor": "maybe", "net_income": "x"}
    twice = {**first, "members": [first["members"][0]] * 3}  # one member_id three times
    library_policy = library("fujian-2021")
    # a duplicate member passes the fields' types: the policy refuses it when deciding
    for record, kind in ((bad, "invalid-household"), (twice, "undecidable")):
        with pytest.raises(RecordError) as refused:  # the engine's own list, to compare with
            library_policy.evaluate(record, AS_OF)
        engine = [(p.field, p.reason) for p in refused.value.rejection.problems]
        assert len(engine) >= 2
        with server.client() as client:
            single = client.post("/v1/decide", json={"household": record, "as_of": AS_OF})
            batch = client.post("/v1/decide", json={"households": [record], "as_of": AS_OF})
        assert single.status_code == 422 and single.json()["type"].endswith(kind), single.text
        listed = [(p["field"], p["reason"]) for p in single.json()["problems"]]
        assert listed == [(f"household.{field}", reason) for field, reason in engine]
        (reject,) = batch.json()["rejects"]
        assert [(p["field"], p["reason"]) for p in reject["problems"]] == engine
        assert reject["line"] == 1


def test_a_request_offering_an_h2c_upgrade_is_answered_with_its_body(server: Server) -> None:
    """Every stock Java HttpClient offers an upgrade to cleartext HTTP/2 with each request
    (`Upgrade: h2c`); the server ignores the offer and reads the body, as RFC 9110 allows, in
    a server that has httptools installed as well (uvicorn's httptools path drops that body:
    the server parses with h11)."""
    import socket
    from urllib.parse import urlsplit

    body = json.dumps({"household": _plain(HOUSEHOLDS[0]), "as_of": AS_OF}).encode()
    address = urlsplit(server.base)
    head = (f"POST /v1/decide HTTP/1.1\r\nHost: {address.netloc}\r\n"
            "Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
            "HTTP2-Settings: AAEAAEAAAAIAAAABAAMAAABkAAQBAAAAAAUAAEAA\r\n"
            f"Authorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    with socket.create_connection((address.hostname, address.port), timeout=30) as sock:
        sock.sendall(head + body)
        answer = sock.makefile("rb")
        status = answer.readline()
        headers = dict(line.decode("latin-1").rstrip("\r\n").lower().split(": ", 1)
                       for line in iter(answer.readline, b"\r\n"))
        content = answer.read(int(headers["content-length"]))
    assert status == b"HTTP/1.1 200 OK\r\n", (status, content)
    assert json.loads(content)["decision"]["household_id"] == HOUSEHOLDS[0]["household_id"]
    import importlib.util
    assert importlib.util.find_spec("httptools") is not None  # the case this test is about
