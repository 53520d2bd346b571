"""Hot reload under load: a changed policy file is swapped in atomically (every answer is
consistent with exactly one sha256, and a batch is decided on one policy throughout), an added
file is served, and a broken replacement is refused while the policy before it keeps serving."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from fangpin_rules.service import metrics

from service_support import Server, exact, start_server, stop
from support import FUJIAN, ROOT

AS_OF = "2021-09-01"
LINE = "value: 7152, source: 闽委振兴组〔2021〕5号}"
HOUSEHOLD = json.loads((ROOT / "examples" / "households.jsonl").read_text(
    encoding="utf-8").splitlines()[0])


@pytest.fixture(scope="module")
def reloading(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path]]:
    folder = tmp_path_factory.mktemp("reload")
    (folder / "policies").mkdir()
    shutil.copy(FUJIAN, folder / "policies")
    running = start_server(["policies", "--reload-interval", "0.1", "--cors-origin",
                            "http://county.test"], folder)
    yield running, folder / "policies"
    stop(running)


def _replace(path: Path, text: str) -> None:
    """Write a file whole, as a deployment does (a half-written file would be refused, then
    taken when complete: its modification time changes again)."""
    temporary = path.with_suffix(".tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def _until(condition: Callable[[], bool], what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} within {seconds} s")
        time.sleep(0.05)


def test_a_changed_file_switches_atomically_and_a_broken_one_is_refused(
        reloading: tuple[Server, Path]) -> None:
    server, folder = reloading
    policy_file = folder / "fujian_2021.yaml"
    original = policy_file.read_text(encoding="utf-8")
    assert LINE in original
    changed = original.replace(LINE, "value: 7300, source: 测试：调整后的监测范围}")
    line_of = {hashlib.sha256(original.encode()).hexdigest(): Decimal(7152),
               hashlib.sha256(changed.encode()).hexdigest(): Decimal(7300)}
    singles: list[tuple[str, Any]] = []
    batches: list[list[tuple[str, Any]]] = []
    stop_flag = threading.Event()

    def single_client() -> None:
        with server.client() as client:
            while not stop_flag.is_set():
                body = exact(client.post("/v1/decide", json={"household": HOUSEHOLD,
                                                              "as_of": AS_OF}))
                assert body["decision"]["policy"] == body["policy"]
                singles.append((body["policy"]["sha256"], body["decision"]["monitoring_line"]))

    def batch_client() -> None:
        batch = [{**HOUSEHOLD, "household_id": f"B-{i}"} for i in range(40)]
        with server.client() as client:
            while not stop_flag.is_set():
                body = exact(client.post("/v1/decide", json={"households": batch,
                                                              "as_of": AS_OF}))
                batches.append([(item["policy"]["sha256"], item["decision"]["monitoring_line"])
                                for item in body["decisions"]])

    threads = [threading.Thread(target=single_client), threading.Thread(target=batch_client)]
    for thread in threads:
        thread.start()
    try:
        _until(lambda: len(singles) > 20 and len(batches) > 2, "answers before the change")
        _replace(policy_file, changed)
        _until(lambda: singles[-1][1] == 7300, "answer on the changed policy")
        seen_batches = len(batches)
        _until(lambda: len(batches) > seen_batches + 2, "batches after the change")
        _replace(policy_file, original.replace(LINE, "value: 7000}"))
        _until(lambda: httpx.get(server.base + "/ready").status_code == 503, "refusal")
        after_refusal = len(singles)
        _until(lambda: len(singles) > after_refusal + 20, "answers after the refusal")
    finally:
        stop_flag.set()
        for thread in threads:
            thread.join(timeout=30)
    for sha, line in singles:
        assert line_of[sha] == line
    shas = [sha for sha, _ in singles]
    first_new = shas.index(next(s for s, line in line_of.items() if line == 7300))
    assert all(line_of[s] == 7152 for s in shas[:first_new])
    assert all(line_of[s] == 7300 for s in shas[first_new:])  # the refused one never served
    for batch in batches:
        assert len(batch) == 40 and len(set(batch)) == 1 and line_of[batch[0][0]] == batch[0][1]
    ready = httpx.get(server.base + "/ready")
    assert ready.headers["content-type"] == "application/problem+json"
    (refusal,) = ready.json()["refused"]
    assert refusal["file"].endswith("fujian_2021.yaml") and ":" in refusal["message"]
    metrics = httpx.get(server.base + "/metrics").text
    assert 'fangpin_reloads_total{policy="fujian-2021",result="refused"} 1' in metrics
    assert 'fangpin_reloads_total{policy="fujian-2021",result="ok"} 2' in metrics
    assert "fangpin_policy_files_refused 1" in metrics
    assert "refused" in server.output()

    _replace(policy_file, changed)  # mended: ready again
    _until(lambda: httpx.get(server.base + "/ready").status_code == 200, "ready again")


def test_an_added_county_file_is_served_and_a_removed_one_withdrawn(
        reloading: tuple[Server, Path]) -> None:
    server, folder = reloading
    (folder / "counties").mkdir(exist_ok=True)
    shutil.copy(ROOT / "policies" / "counties" / "minhou_350121.yaml", folder / "counties")
    _until(lambda: "minhou-350121" in {p["id"] for p in httpx.get(
        server.base + "/v1/policies").json()["policies"]}, "the added county")
    answer = httpx.post(server.base + "/v1/decide", json={
        "household": {**HOUSEHOLD, "region_code": "350121"}, "as_of": AS_OF}).json()
    assert answer["policy"]["id"] == "minhou-350121"
    answer = httpx.post(server.base + "/v1/decide", json={
        "household": {**HOUSEHOLD, "region_code": "350181"}, "as_of": AS_OF}).json()
    assert answer["policy"]["id"] == "fujian-2021"

    (folder / "counties" / "minhou_350121.yaml").unlink()  # removed: withdrawn
    _until(lambda: "minhou-350121" not in {p["id"] for p in httpx.get(
        server.base + "/v1/policies").json()["policies"]}, "the county withdrawn")
    answer = httpx.post(server.base + "/v1/decide", json={
        "household": {**HOUSEHOLD, "region_code": "350121"}, "as_of": AS_OF}).json()
    assert answer["policy"]["id"] == "fujian-2021"
    assert httpx.get(server.base + "/ready").status_code == 200


def test_cors_answers_only_the_configured_origin(reloading: tuple[Server, Path]) -> None:
    server, _ = reloading
    allowed = httpx.options(server.base + "/v1/decide", headers={
        "Origin": "http://county.test", "Access-Control-Request-Method": "POST"})
    assert allowed.headers["access-control-allow-origin"] == "http://county.test"
    other = httpx.get(server.base + "/health", headers={"Origin": "http://elsewhere.test"})
    assert "access-control-allow-origin" not in other.headers


def _decide_count(text: str) -> int:
    found = re.search(r'^fangpin_requests_total\{endpoint="/v1/decide",status="200"\} (\d+)$',
                      text, flags=re.M)
    return int(found.group(1)) if found else 0


def _worker_counts(folder: Path) -> list[int]:
    """Each worker's own count of decide requests, from its file in the shared folder."""
    counts = []
    for file in sorted(folder.glob("worker-*.json")):
        state = json.loads(file.read_text(encoding="utf-8"))
        series = state["counters"]["fangpin_requests_total"]
        counts.append(sum(value for labels, value in series
                          if ["endpoint", "/v1/decide"] in labels))
    return counts


def test_several_workers_serve_the_same_policy_and_metrics_sum_them(tmp_path: Path) -> None:
    """With --workers 2 every scrape, whichever worker answers it, counts the requests both
    answered (docs/service.md "Metrics")."""
    shutil.copy(FUJIAN, tmp_path)
    shared = tmp_path / "metrics"
    server = start_server(["fujian_2021.yaml", "--workers", "2", "--reload-interval", "0",
                           "--metrics-dir", str(shared)], tmp_path)
    try:
        deadline = time.monotonic() + 90
        while len(list(shared.glob("worker-*.json"))) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(list(shared.glob("worker-*.json"))) == 2
        answers: list[httpx.Response] = []
        # A new connection for each request, until both workers have answered some.
        while len(answers) < 400:
            for _ in range(20):
                answers.append(httpx.post(server.base + "/v1/decide", json={
                    "household": HOUSEHOLD, "as_of": AS_OF}))
            time.sleep(metrics.SHARE_INTERVAL * 3)
            if all(_worker_counts(shared)):
                break
        assert {a.status_code for a in answers} == {200}
        assert len({json.dumps(a.json()["decision"]) for a in answers}) == 1
        per_worker = _worker_counts(shared)
        assert len(per_worker) == 2 and all(per_worker) and sum(per_worker) == len(answers)
        for _ in range(8):  # each scrape on a new connection: either worker may answer it
            text = httpx.get(server.base + "/metrics").text
            assert _decide_count(text) == len(answers)
            assert re.search(r"^fangpin_workers 2$", text, flags=re.M)
        assert httpx.get(server.base + "/ready").status_code == 200
    finally:
        stop(server)
