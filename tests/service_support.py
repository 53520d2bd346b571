"""The real `fangpin serve` in a subprocess on a free loopback port (tests/service)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import httpx

from fangpin_rules import Policy, load_policy
from fangpin_rules.engine.serialize import dumps

from support import ROOT

TOKEN = "test-token-0123456789abcdef"
AS_OF = "2021-09-01"
HOUSEHOLDS = [json.loads(line, parse_float=Decimal) for line in
              (ROOT / "examples" / "households.jsonl").read_text(encoding="utf-8").splitlines()
              if line.strip()]
FILES = {"fujian-2021": "fujian_2021.yaml", "minhou-350121": "counties/minhou_350121.yaml",
         "dehua-350526": "counties/dehua_350526.yaml",
         "quanzhou-350500": "counties/quanzhou_350500.yaml",
         "jinjiang-350582": "counties/jinjiang_350582.yaml"}
PROBLEM = "application/problem+json"


@cache
def library(policy_id: str) -> Policy:
    return load_policy(ROOT / "policies" / FILES[policy_id])


def library_decision(policy_id: str, household: Any, as_of: str = AS_OF) -> Any:
    """The library's decision, as JSON text read back with exact decimals."""
    return json.loads(dumps(library(policy_id).evaluate(household, as_of)),
                      parse_float=Decimal)




class Server:
    def __init__(self, base: str, process: subprocess.Popen[bytes], log: Path) -> None:
        self.base = base
        self.process = process
        self.log = log
        self.headers = {"Authorization": f"Bearer {TOKEN}"}

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base, headers=self.headers, timeout=30)

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_server(args: Sequence[str], folder: Path) -> Server:
    port = free_port()
    log = folder / "server.log"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    env.pop("FANGPIN_POLICY_PATH", None)
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "fangpin_rules.cli.main", "serve", *args,
             "--port", str(port)], cwd=folder, env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the server stopped: {log.read_text(encoding='utf-8')}")
        try:
            if httpx.get(base + "/health", timeout=1).status_code == 200:
                return Server(base, process, log)
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    process.kill()
    raise AssertionError("the server did not answer /health in 90 s")


def stop(server: Server) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()


def copy_policies(folder: Path) -> Path:
    """The province's policy and its counties' files, in a folder of their own."""
    target = folder / "policies"
    (target / "counties").mkdir(parents=True)
    shutil.copy(ROOT / "policies" / "fujian_2021.yaml", target)
    for county in (ROOT / "policies" / "counties").glob("*.yaml"):
        shutil.copy(county, target / "counties")
    return target


def exact(response: httpx.Response) -> Any:
    """The JSON of an answer with its numbers as exact decimals."""
    return json.loads(response.content, parse_float=Decimal)
