"""The decision service over loopback, beside the library called directly.

    python benchmarks/bench_server.py [--requests N] [--batch B] [--table T]

Starts `fangpin serve` on the province's policy (one worker, loopback, no token, no log),
then for 1, 4 and 16 concurrent clients (threads, one keep-alive connection each) sends N
single-household requests and N/10 batches of B households, and prints requests per second,
households per second, the p50/p99 latency of a request, and the households decided per
CPU-second of the server process (its user and system time, from /proc, over that level's
requests: the figure the shared machine's other load disturbs least). The library row is the same
households through `Policy.evaluate` (one at a time) and `Policy.evaluate_many` (a batch), in
this process. Client and server share the machine's cores, so these are loopback figures for
the whole exchange, not the server's capacity on a core of its own.

`--table T` (default 10,000, the server's --max-batch; 0: none) adds, for 1 and 4 clients,
N/100 batches of T households sent as a JSON batch, as NDJSON and as an Arrow IPC stream
(decided in columns, answered with an Arrow table): the server's households per CPU-second
of each, the figure to choose a client's format by.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from decimal import Decimal

from bench_support import AS_OF, FUJIAN, ROOT, machine

LEVELS = (1, 4, 16)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def start() -> tuple[subprocess.Popen[bytes], str]:
    import httpx

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT / "src"), *filter(None, [os.environ.get("PYTHONPATH")])])}
    process = subprocess.Popen([sys.executable, "-m", "fangpin_rules.cli.main", "serve",
                                str(FUJIAN), "--port", str(port), "--reload-interval", "0"],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if httpx.get(base + "/health", timeout=1).status_code == 200:
                return process, base
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("the server did not start")


def run_clients(clients: int, bodies: list[bytes], base: str,
                content_type: str = "application/json",
                params: dict[str, str] | None = None) -> tuple[float, list[float]]:
    """Send `bodies` from `clients` threads; the wall time and every request's latency."""
    import httpx

    latencies: list[float] = []
    lock = threading.Lock()
    shares = [bodies[i::clients] for i in range(clients)]

    def client(share: list[bytes]) -> None:
        own: list[float] = []
        with httpx.Client(base_url=base, timeout=120,
                          headers={"Content-Type": content_type}) as http:
            for body in share:
                started = time.perf_counter()
                response = http.post("/v1/decide", content=body, params=params)
                own.append(time.perf_counter() - started)
                if response.status_code != 200:
                    raise SystemExit(f"{response.status_code}: {response.text[:300]}")
        with lock:
            latencies.extend(own)

    threads = [threading.Thread(target=client, args=(share,)) for share in shares]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, latencies


def library(calls: list[Callable[[], object]]) -> tuple[float, list[float]]:
    latencies = []
    started = time.perf_counter()
    for call in calls:
        begun = time.perf_counter()
        call()
        latencies.append(time.perf_counter() - begun)
    return time.perf_counter() - started, latencies


def cpu_seconds(pid: int) -> float:
    """The user and system CPU time of process `pid` so far (Linux's /proc)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def row(name: str, households_per_request: int, wall: float, latencies: list[float],
        server_cpu: float | None = None) -> str:
    count = len(latencies)
    per_cpu = f" {count * households_per_request / server_cpu:12.0f}" if server_cpu else ""
    return (f"  {name:22s} {count / wall:9.0f} {count * households_per_request / wall:12.0f} "
            f"{percentile(latencies, 0.5) * 1e3:9.2f} {percentile(latencies, 0.99) * 1e3:9.2f}"
            + per_cpu)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--table", type=int, default=10_000)
    args = parser.parse_args()
    from gen_households import generate_lines

    from fangpin_rules import load_policy

    lines = list(generate_lines(max(args.requests, args.batch, args.table)))
    households = [json.loads(line, parse_float=Decimal) for line in lines]
    head = b'{"as_of":"' + AS_OF.encode() + b'",'
    singles = [head + b'"household":' + line.encode() + b"}" for line in lines[:args.requests]]
    batch_count = max(1, args.requests // 10)
    batch_body = head + b'"households":[' + ",".join(lines[:args.batch]).encode() + b"]}"
    policy = load_policy(FUJIAN)
    print(f"bench_server: {machine()}")
    print(f"  {args.requests} single requests, {batch_count} batches of {args.batch} "
          "households; loopback, one server process")
    print(f"  {'':22s} {'req/s':>9} {'households/s':>12} {'p50 ms':>9} {'p99 ms':>9} "
          f"{'server hh/CPU-s':>12}")
    policy.evaluate(households[0], AS_OF)
    wall, latencies = library([lambda h=h: policy.evaluate(h, AS_OF)
                               for h in households[:args.requests]])
    print(row("library single", 1, wall, latencies))
    wall, latencies = library([lambda: list(policy.evaluate_many(households[:args.batch],
                                                                 AS_OF))] * batch_count)
    print(row(f"library batch {args.batch}", args.batch, wall, latencies))
    process, base = start()
    try:
        run_clients(1, singles[:50] + [batch_body] * 2, base)  # warm up
        for clients in LEVELS:
            before = cpu_seconds(process.pid)
            wall, latencies = run_clients(clients, singles, base)
            print(row(f"http single, {clients:2d} clients", 1, wall, latencies,
                      cpu_seconds(process.pid) - before))
            before = cpu_seconds(process.pid)
            wall, latencies = run_clients(clients, [batch_body] * batch_count, base)
            print(row(f"http batch {args.batch}, {clients:2d} cl.", args.batch, wall,
                      latencies, cpu_seconds(process.pid) - before))
        if args.table:
            tables(args.table, max(1, args.requests // 100), lines, base, process.pid)
    finally:
        process.terminate()
        process.wait(timeout=15)


def tables(size: int, count: int, lines: list[str], base: str, pid: int) -> None:
    """Batches of `size` households as JSON, NDJSON and an Arrow IPC stream."""
    import pyarrow as pa
    import pyarrow.ipc

    from fangpin_rules import load_policy
    from fangpin_rules.columnar import records_to_arrow

    chosen = lines[:size]
    json_body = (b'{"as_of":"' + AS_OF.encode() + b'","policy":"fujian-2021","households":['
                 + ",".join(chosen).encode() + b"]}")
    ndjson_body = ("\n".join(chosen) + "\n").encode()
    table = records_to_arrow(load_policy(FUJIAN),
                             [json.loads(line, parse_float=Decimal) for line in chosen])
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    arrow_body = sink.getvalue().to_pybytes()
    query = {"as_of": AS_OF, "policy": "fujian-2021"}
    print(f"  {count} batches of {size} households a format (bodies: JSON "
          f"{len(json_body) / 1e6:.1f} MB, NDJSON {len(ndjson_body) / 1e6:.1f} MB, Arrow "
          f"{len(arrow_body) / 1e6:.1f} MB)")
    formats = (("json", "application/json", json_body, None),
               ("ndjson", "application/x-ndjson", ndjson_body, query),
               ("arrow", "application/vnd.apache.arrow.stream", arrow_body, query))
    for _, media, body, params in formats:
        run_clients(1, [body], base, media, params)  # warm up
    for clients in (1, 4):
        for name, media, body, params in formats:
            before = cpu_seconds(pid)
            wall, latencies = run_clients(clients, [body] * count, base, media, params)
            print(row(f"http {name} {size}, {clients} cl.", size, wall, latencies,
                      cpu_seconds(pid) - before))


if __name__ == "__main__":
    main()
