"""`fangpin serve --regions TABLE`, over HTTP on loopback: the households of the policy the
table is for are decided with their region's values, equal to `load_regions` (what `fangpin
eval --regions` uses); a household outside the table is rejected naming region_code; a table
that does not check stops the start at its file:line:col; a table broken while serving is
refused and the table before keeps serving (docs/service.md "Region tables")."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from fangpin_rules import load_policy
from fangpin_rules.engine.regions import RegionalPolicy, load_regions
from fangpin_rules.engine.serialize import dumps

from service_support import Server, exact, start_server, stop
from support import FUJIAN, ROOT

AS_OF = "2023-06-01"  # the table's 2023 values are in force
TABLE = ROOT / "policies" / "regions" / "fujian_example_regions.yaml"
CSV_TABLE = ROOT / "policies" / "regions" / "fujian_example_regions.csv"
HOUSEHOLDS = [json.loads(line, parse_float=Decimal) for line in
              (ROOT / "examples" / "households.jsonl").read_text(encoding="utf-8").splitlines()
              if line.strip()]


def _plain(record: Any) -> Any:
    return json.loads(dumps(record))


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path]]:
    folder = tmp_path_factory.mktemp("regions")
    shutil.copy(FUJIAN, folder)
    shutil.copy(TABLE, folder / "regions.yaml")
    running = start_server(["fujian_2021.yaml", "--regions", "regions.yaml",
                            "--reload-interval", "0.2"], folder)
    yield running, folder
    stop(running)


def test_an_arrow_table_is_decided_with_its_regions_values(
        served: tuple[Server, Path]) -> None:
    """An Arrow batch under the region table: each row its region's decision, as
    `decide_batch` of the table gives it; a household outside the table rejected naming
    region_code, as in a JSON batch."""
    pa = pytest.importorskip("pyarrow")

    from fangpin_rules.columnar import decide_batch, records_to_arrow

    server, _ = served
    regional = _library()
    table = records_to_arrow(regional.base, HOUSEHOLDS)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    with httpx.Client(base_url=server.base, timeout=30) as client:
        response = client.post("/v1/decide", params={"as_of": AS_OF},
                               content=sink.getvalue().to_pybytes(),
                               headers={"Content-Type": "application/vnd.apache.arrow.stream"})
    assert response.status_code == 200, response.text
    answer = pa.ipc.open_stream(pa.py_buffer(response.content)).read_all()
    rejects = json.loads(answer.schema.metadata[b"fangpin.rejects"])
    expected = decide_batch(regional, table, AS_OF, engine="record")
    assert answer.drop_columns(["row", "decision_id"]).to_pylist() == \
        expected.decisions.to_pylist()
    assert [(r["row"], r["field"]) for r in rejects] == \
        [(r["row"], r["field"]) for r in expected.rejects.to_pylist()]
    assert {r["field"] for r in rejects} == {"region_code"} and rejects


def _library(table: Path = TABLE) -> RegionalPolicy:
    return load_regions(load_policy(FUJIAN), table)


def test_households_are_decided_with_their_regions_values(
        served: tuple[Server, Path]) -> None:
    server, _ = served
    regional = _library()
    inside = [h for h in HOUSEHOLDS if h["region_code"][:6] in regional.regions]
    outside = [h for h in HOUSEHOLDS if h["region_code"][:6] not in regional.regions]
    assert inside and outside
    with httpx.Client(base_url=server.base, timeout=30) as client:
        for record in inside:
            response = client.post("/v1/decide", json={"household": _plain(record),
                                                        "as_of": AS_OF})
            assert response.status_code == 200, response.text
            body = exact(response)
            expected = json.loads(dumps(regional.evaluate(record, AS_OF)), parse_float=Decimal)
            assert body["decision"] == expected
            region = regional.regions[record["region_code"][:6]].policy
            assert body["policy"] == {"id": "fujian-2021", "sha256": region.sha256}
        # The table's values differ from the province's: the table is really used.
        province = load_policy(FUJIAN)
        assert any(json.loads(dumps(province.evaluate(r, AS_OF))) !=
                   json.loads(dumps(regional.evaluate(r, AS_OF))) for r in inside)
        refused = client.post("/v1/decide", json={"household": _plain(outside[0]),
                                                   "as_of": AS_OF})
        assert refused.status_code == 422
        assert refused.json()["field"] == "household.region_code"
        assert "not in the region table" in refused.json()["detail"]
        batch = client.post("/v1/decide", json={"households": [_plain(h) for h in HOUSEHOLDS],
                                                "as_of": AS_OF}).json()
        assert batch["counts"] == {"read": len(HOUSEHOLDS), "decided": len(inside),
                                   "rejected": len(outside)}
        assert {r["field"] for r in batch["rejects"]} == {"region_code"}
        lines = "\n".join(json.dumps(_plain(h)) for h in HOUSEHOLDS) + "\n"
        streamed = client.post("/v1/decide", params={"as_of": AS_OF}, content=lines,
                               headers={"Content-Type": "application/x-ndjson"})
        last = json.loads(streamed.text.splitlines()[-1])
        assert last["counts"]["decided"] == len(inside)
        explained = client.post("/v1/explain", json={"household": _plain(inside[0]),
                                                      "as_of": AS_OF})
        assert explained.status_code == 200
        assert explained.json()["policy"]["sha256"] == \
            regional.regions[inside[0]["region_code"][:6]].policy.sha256
        listed = client.get("/v1/policies").json()["policies"][0]
        assert listed["region_table"]["sha256"] == regional.sha256
        assert listed["region_table"]["regions"] == sorted(regional.regions)
        assert 'fangpin_region_table_info{policy="fujian-2021"' in client.get("/metrics").text


def test_a_table_broken_while_serving_is_refused_and_the_old_one_serves(
        served: tuple[Server, Path]) -> None:
    server, folder = served
    record = next(h for h in HOUSEHOLDS if h["region_code"].startswith("350121"))
    table = folder / "regions.yaml"
    good = table.read_text(encoding="utf-8")
    with httpx.Client(base_url=server.base, timeout=30) as client:
        before = client.post("/v1/decide", json={"household": _plain(record), "as_of": AS_OF})
        table.write_text(good.replace("value: 8880", "value: 100"), encoding="utf-8")
        try:
            ready = _wait(client, lambda r: r.status_code == 503)
            refused = ready.json()["refused"]
            assert [r["file"] for r in refused] == ["regions.yaml"]
            assert refused[0]["message"].startswith("regions.yaml:")
            after = client.post("/v1/decide", json={"household": _plain(record),
                                                     "as_of": AS_OF})
            assert after.json()["decision"] == before.json()["decision"]
            assert after.json()["policy"] == before.json()["policy"]
        finally:
            table.write_text(good, encoding="utf-8")
        _wait(client, lambda r: r.status_code == 200)


def _wait(client: httpx.Client, done: Any) -> httpx.Response:
    deadline = time.monotonic() + 30
    while True:
        response = client.get("/ready")
        if done(response) or time.monotonic() > deadline:
            assert done(response), response.text
            return response
        time.sleep(0.1)


def test_a_csv_table_serves_the_one_province(tmp_path: Path) -> None:
    shutil.copy(FUJIAN, tmp_path)
    shutil.copy(CSV_TABLE, tmp_path / "regions.csv")
    server = start_server(["fujian_2021.yaml", "--regions", "regions.csv",
                           "--reload-interval", "0"], tmp_path)
    try:
        record = next(h for h in HOUSEHOLDS if h["region_code"].startswith("350526"))
        answer = httpx.post(server.base + "/v1/decide", json={"household": _plain(record),
                                                               "as_of": AS_OF}, timeout=30)
        expected = json.loads(dumps(_library(CSV_TABLE).evaluate(record, AS_OF)),
                              parse_float=Decimal)
        assert exact(answer)["decision"] == expected
    finally:
        stop(server)


def _start_fails(args: list[str], folder: Path) -> str:
    env = {"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-m", "fangpin_rules.cli.main", "serve", *args,
                           "--port", "0"], cwd=folder, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    return done.stderr


def test_a_table_that_does_not_check_stops_the_start(tmp_path: Path) -> None:
    shutil.copy(FUJIAN, tmp_path)
    text = TABLE.read_text(encoding="utf-8")
    (tmp_path / "low.yaml").write_text(text.replace("value: 8880", "value: 100"),
                                       encoding="utf-8")
    line = next(n for n, row in enumerate(text.splitlines(), 1) if "value: 8880" in row)
    err = _start_fails(["fujian_2021.yaml", "--regions", "low.yaml"], tmp_path)
    assert f"fangpin serve: low.yaml:{line}:" in err
    assert "`fangpin check POLICY --regions low.yaml` shows them all" in err
    (tmp_path / "other.yaml").write_text(text.replace("policy: fujian-2021",
                                                      "policy: elsewhere-2021"),
                                         encoding="utf-8")
    err = _start_fails(["fujian_2021.yaml", "--regions", "other.yaml"], tmp_path)
    assert "the table is for policy 'elsewhere-2021', which is not loaded (fujian-2021)" in err
    assert "Traceback" not in err
