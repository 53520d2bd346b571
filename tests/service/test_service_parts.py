"""The service's parts without a server: the time limit, tokens, masking, metrics text, and
the CLI's refusal to start on a broken policy or a bad tokens file."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import anyio
import pytest

from fangpin_rules.cli.main import main
from fangpin_rules.service import deciding
from fangpin_rules.service.app import Service, ServiceError, read_tokens, token_accepted
from fangpin_rules.service.config import ServiceConfig
from fangpin_rules.service.decision_log import mask_id_numbers
from fangpin_rules.service.metrics import Metrics
from fangpin_rules.service.problems import Problem
from fangpin_rules.service.registry import Registry

from support import FUJIAN, RECORDS_MD_HOUSEHOLD


@pytest.fixture(scope="module")
def service() -> Service:
    return Service(ServiceConfig(sources=(str(FUJIAN),), time_limit_seconds=0.2))


def test_a_request_over_the_time_limit_is_a_503_problem(service: Service) -> None:
    with pytest.raises(Problem) as raised:
        anyio.run(service.in_thread, lambda: time.sleep(2))
    assert raised.value.kind == "time-limit" and raised.value.status == 503
    assert anyio.run(service.in_thread, lambda: 42) == 42


def test_a_batch_stops_at_the_time_limit_between_households(service: Service) -> None:
    deadline = deciding.Deadline(0.05)
    items = iter((n, dict(RECORDS_MD_HOUSEHOLD)) for n in range(1, 10**6))
    outcomes = deciding.decide_items(service.registry.current, date(2021, 9, 1), None, {},
                                     items, "b", deadline)
    decided = 0
    with pytest.raises(Problem) as raised:
        for _ in outcomes:
            decided += 1
    assert raised.value.kind == "time-limit" and 0 < decided < 10**6


DIVIDING = """\
policy:
  id: dividing
  title: dividing
  effective: 2021-01-01
decisions:
  ratio:
    expr: any(net_income / (m.disability_grade ?? 0) > 1 for m in members)
"""


def test_a_household_the_policy_cannot_compute_is_undecidable_not_invalid(
        tmp_path: Path) -> None:
    (tmp_path / "dividing.yaml").write_text(DIVIDING, encoding="utf-8")
    snapshot = Registry([str(tmp_path)]).load()
    record = {"household_id": "D-1", "formerly_poor": False, "members": [{"member_id": "1"}],
              "net_income": 100}
    for household, kind in ((record, "undecidable"),
                            ({**record, "net_income": "x"}, "invalid-household")):
        envelope = deciding.read_envelope({"household": household, "as_of": "2021-09-01"},
                                          max_batch=10)
        with pytest.raises(Problem) as raised:
            deciding.decide_one(snapshot, envelope)
        assert (raised.value.kind, raised.value.policy_id) == (kind, "dividing")
        assert raised.value.extra["household_id"] == "D-1"
    envelope = deciding.read_envelope({"household": record, "as_of": "2021-09-01"},
                                      max_batch=10)
    with pytest.raises(Problem, match="division by zero"):
        deciding.decide_one(snapshot, envelope)
    graded = {**record, "members": [{"member_id": "1", "disability_grade": 2}]}
    policy, decision = deciding.decide_one(snapshot, deciding.read_envelope(
        {"household": graded, "as_of": "2021-09-01"}, max_batch=10))
    assert policy.id == "dividing" and decision["ratio"] is True


def test_a_stream_past_the_time_limit_ends_with_the_problem_and_counts() -> None:
    import json

    import httpx

    from fangpin_rules.service.app import INLINE_BODY_BYTES, create_app

    app = create_app(ServiceConfig(sources=(str(FUJIAN),), time_limit_seconds=1e-6,
                                   reload_interval_seconds=0))
    body = "\n".join(json.dumps(RECORDS_MD_HOUSEHOLD) for _ in range(50)).encode()

    async def calls() -> tuple[httpx.Response, httpx.Response]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://service.test") as client:
            streamed = await client.post("/v1/decide", params={"as_of": "2021-09-01"},
                                         content=body,
                                         headers={"Content-Type": "application/x-ndjson"})
            # a single household padded past INLINE_BODY_BYTES: decided in a worker thread,
            # under the time limit
            one = await client.post("/v1/decide", content=json.dumps(
                {"household": RECORDS_MD_HOUSEHOLD, "as_of": "2021-09-01"}).encode()
                + b" " * INLINE_BODY_BYTES, headers={"Content-Type": "application/json"})
            return streamed, one

    response, single = anyio.run(calls)
    assert response.status_code == 200
    *_, problem, counts = [json.loads(line) for line in response.text.splitlines()]
    assert problem["problem"]["type"] == "urn:fangpin:problem:time-limit"
    read = counts["counts"]["read"]
    assert read == counts["counts"]["decided"] + counts["counts"]["rejected"]
    assert read + counts["counts"]["not_read"] == 50
    assert single.status_code == 503
    assert single.json()["type"] == "urn:fangpin:problem:time-limit"


def test_a_small_request_is_read_and_decided_on_the_event_loop(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A small body is read and decided where the request arrived, without a worker thread
    (whose hand-off costs more than the decision); a larger one is read and decided in a
    worker thread, so /health answers meanwhile."""
    import json
    import threading

    import httpx

    from fangpin_rules.service.app import INLINE_BODY_BYTES, create_app

    app = create_app(ServiceConfig(sources=(str(FUJIAN),), reload_interval_seconds=0))
    threads: list[tuple[str, bool]] = []

    def watched(name: str) -> None:
        real = getattr(deciding, name)

        def call(*args: object, **kwargs: object) -> object:
            threads.append((name, threading.current_thread() is threading.main_thread()))
            return real(*args, **kwargs)

        monkeypatch.setattr(deciding, name, call)

    for name in ("parse_body", "decide_one", "decide_items"):
        watched(name)
    single = json.dumps({"household": RECORDS_MD_HOUSEHOLD, "as_of": "2021-09-01"}).encode()
    batch = json.dumps({"households": [RECORDS_MD_HOUSEHOLD], "as_of": "2021-09-01"}).encode()

    async def calls() -> list[httpx.Response]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://service.test") as client:
            return [await client.post("/v1/decide", content=body,
                                      headers={"Content-Type": "application/json"})
                    for body in (single, batch, batch + b" " * INLINE_BODY_BYTES)]

    small_single, small_batch, large_batch = anyio.run(calls)
    assert small_single.status_code == small_batch.status_code == large_batch.status_code == 200
    assert small_single.json()["decision"]["household_id"] == RECORDS_MD_HOUSEHOLD[
        "household_id"]
    assert small_batch.json()["counts"] == large_batch.json()["counts"] == {
        "read": 1, "decided": 1, "rejected": 0}
    assert threads == [("parse_body", True), ("decide_one", True),
                       ("parse_body", True), ("decide_items", True),
                       ("parse_body", False), ("decide_items", False)]


def test_tokens_are_checked_exactly(tmp_path: Path) -> None:
    tokens = [b"alpha-token", b"beta-token"]
    assert token_accepted("Bearer beta-token", tokens)
    assert token_accepted("bearer alpha-token", tokens)
    for header in (None, "", "Bearer", "Bearer beta", "Bearer beta-token-x", "Basic beta-token",
                   "beta-token"):
        assert not token_accepted(header, tokens), header
    (tmp_path / "empty").write_text("# none yet\n\n", encoding="utf-8")
    with pytest.raises(ServiceError, match="holds no token"):
        read_tokens(str(tmp_path / "empty"))
    with pytest.raises(ServiceError, match="cannot read"):
        read_tokens(str(tmp_path / "missing"))


def test_id_numbers_are_masked_and_nothing_else() -> None:
    assert mask_id_numbers("350121199001011234") == "350121********1234"
    assert mask_id_numbers("户主 35012119900101123x 的") == "户主 350121********123x 的"
    assert mask_id_numbers("350121900101123") == "350121*****1123"
    for kept in ("350181-0001", "3501211990010112345", "35012119900101", "abc350121199001011234"):
        assert mask_id_numbers(kept) == kept


def test_the_metrics_text_has_cumulative_buckets() -> None:
    metrics = Metrics()
    for seconds in (0.0005, 0.003, 0.003, 7.0, 30.0):
        metrics.observe(seconds, endpoint="/v1/decide")
    metrics.count("fangpin_decisions_total", 3, policy='a"b')
    text = metrics.render()
    assert 'le="0.001"} 1\n' in text and 'le="0.005"} 3\n' in text
    assert 'le="10.0"} 4\n' in text and 'le="+Inf"} 5\n' in text
    assert 'fangpin_request_duration_seconds_count{endpoint="/v1/decide"} 5' in text
    assert 'fangpin_decisions_total{policy="a\\"b"} 3' in text


def test_a_broken_file_is_refused_on_reload_and_the_old_policy_kept(tmp_path: Path) -> None:
    policy_file = tmp_path / "fujian_2021.yaml"
    text = FUJIAN.read_text(encoding="utf-8")
    policy_file.write_text(text, encoding="utf-8")
    results: list[tuple[str, str]] = []
    registry = Registry([str(tmp_path)], on_reload=lambda name, result:
                        results.append((name, result)))
    before = registry.load()
    assert not registry.reload()  # nothing changed: the snapshot is the same object
    assert registry.current is before
    policy_file.write_text(text.replace("bounds: {min: 7152,", "bounds: {min: seven,"),
                           encoding="utf-8")
    assert registry.reload(force=True)
    after = registry.current
    assert after.policies["fujian-2021"] is before.policies["fujian-2021"]
    (refusal,) = after.refused.values()
    assert refusal.file == str(policy_file) and refusal.message.startswith(f"{policy_file}:")
    assert results == [("fujian-2021", "ok"), ("fujian-2021", "refused")]


def test_a_serving_process_freezes_what_it_loaded_and_lets_a_replaced_policy_go(
        tmp_path: Path) -> None:
    """`fangpin serve` freezes the loaded policies out of the collector's reach; a reload
    freezes again, having given back what was frozen, so the policy it replaced (held in
    reference cycles, which only the collector frees) is collected, not kept for good."""
    import gc
    import weakref

    from fangpin_rules.service.app import create_app, serving_process

    policy_file = tmp_path / "fujian_2021.yaml"
    policy_file.write_text(FUJIAN.read_text(encoding="utf-8"), encoding="utf-8")
    app = create_app(ServiceConfig(sources=(str(tmp_path),), reload_interval_seconds=0))
    registry = app.state.service.registry
    gc.unfreeze()
    try:
        serving_process(app)
        assert gc.get_freeze_count() > 0
        # a household decided first: the service's reader and writer of the policy are made
        outcomes = list(deciding.decide_items(registry.current, date(2021, 9, 1), None, {},
                                              iter([(1, dict(RECORDS_MD_HOUSEHOLD))]), "b",
                                              deciding.Deadline(0)))
        assert outcomes[0].rejection is None
        del outcomes
        replaced = weakref.ref(registry.current.policies["fujian-2021"])
        gc.collect()
        assert replaced() is not None
        policy_file.write_text(policy_file.read_text(encoding="utf-8") + "# changed\n",
                               encoding="utf-8")
        assert registry.reload(force=True)
        gc.collect()
        assert replaced() is None
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_a_changed_base_reloads_the_counties_that_extend_it(tmp_path: Path) -> None:
    import shutil

    from support import ROOT

    (tmp_path / "policies" / "counties").mkdir(parents=True)
    shutil.copy(FUJIAN, tmp_path / "policies")
    shutil.copy(ROOT / "policies" / "counties" / "minhou_350121.yaml",
                tmp_path / "policies" / "counties")
    registry = Registry([str(tmp_path / "policies")])
    before = registry.load()
    assert set(before.policies) == {"fujian-2021", "minhou-350121"}
    province = tmp_path / "policies" / "fujian_2021.yaml"
    province.write_text(province.read_text(encoding="utf-8") + "# a comment\n",
                        encoding="utf-8")
    assert registry.reload()
    after = registry.current
    for policy_id in ("fujian-2021", "minhou-350121"):
        assert after.policies[policy_id].sha256 != before.policies[policy_id].sha256
    assert after.route("350121").id == "minhou-350121"
    assert after.route("350181").id == "fujian-2021"
    assert after.route(None).id == "fujian-2021"
    assert after.route("110101") is None


def test_serve_listens_on_loopback_unless_told() -> None:
    from fangpin_rules.cli.main import build_parser

    args = build_parser().parse_args(["serve", "policies"])
    assert (args.host, args.port, args.workers, args.cors_origin) == ("127.0.0.1", 8000, 1, [])


def test_serve_refuses_to_start_on_a_broken_policy(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(FUJIAN.read_text(encoding="utf-8").replace("jurisdiction: \"350000\"",
                                                                 "jurisdiction: [350000]"),
                      encoding="utf-8")
    assert main(["serve", str(broken), "--port", "0"]) == 2
    error = capsys.readouterr().err
    assert f"{broken}:" in error and "fangpin check" in error


def test_serve_refuses_to_start_without_its_tokens_file(tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]
                                                        ) -> None:
    assert main(["serve", str(FUJIAN), "--tokens", str(tmp_path / "none.txt")]) == 2
    assert "cannot read the tokens file" in capsys.readouterr().err
