"""docs/service.md runs as written: the server started by its command, each curl example
against it (its answer equal to the one shown after it, decision ids aside), the decision log
in the shape shown, and the Java client (where a JDK is installed: `java File.java`)."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from service_support import TOKEN, Server, start_server, stop
from support import ROOT

DOC = (ROOT / "docs" / "service.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```(\w+)\n(.*?)```", DOC, re.S)
DOC_BASE = "http://127.0.0.1:8000"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# A policy's digest changes with every edit of its file; the answers are compared without it.
SHA256 = re.compile(r'"sha256":\s*"[0-9a-f]{64}"')


def _serve_arguments() -> list[str]:
    (line,) = [line for kind, text in BLOCKS if kind == "sh" for line in text.splitlines()
               if line.startswith("fangpin serve ")]
    arguments = shlex.split(line.split("#", 1)[0])[2:]
    return [str(ROOT / "policies") if a == "policies/" else a for a in arguments]


def _parsed(text: str) -> Any:
    text = SHA256.sub('"sha256": "<sha256>"', UUID.sub("<id>", text))
    try:
        return json.loads(text)
    except ValueError:
        return [json.loads(line) for line in text.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def doc_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path]]:
    """The server as the doc's command starts it (the policies/ folder of the repository)."""
    folder = tmp_path_factory.mktemp("service-doc")
    (folder / "tokens.txt").write_text(TOKEN + "\n", encoding="utf-8")
    server = start_server(_serve_arguments(), folder)
    yield server, folder
    stop(server)


def test_the_curl_examples_answer_as_shown(doc_server: tuple[Server, Path]) -> None:
    assert shutil.which("curl"), "curl is needed to run the doc's examples"
    server, folder = doc_server
    ran = 0
    for (kind, text), (next_kind, expected) in zip(BLOCKS, [*BLOCKS[1:], ("", "")],
                                                   strict=True):
        if kind != "sh" or "curl " not in text:
            continue
        done = subprocess.run(["bash", "-o", "pipefail", "-c",
                               text.replace(DOC_BASE, server.base)],
                              cwd=ROOT, env={"TOKEN": TOKEN, "PATH": _path()},
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, (text, done.stderr)
        if next_kind == "json":
            if os.environ.get("FANGPIN_REGENERATE") and _parsed(done.stdout) != _parsed(expected):
                _rewrite_answer("json", expected, done.stdout)  # a policy edit changed it
                continue
            assert _parsed(done.stdout) == _parsed(expected), text
        elif next_kind == "text":
            if os.environ.get("FANGPIN_REGENERATE") and done.stdout.strip() != expected.strip():
                _rewrite_answer("text", expected, done.stdout)
                continue
            assert done.stdout.strip() == expected.strip(), text
        else:
            pytest.fail(f"no answer shown after {text}")
        ran += 1
    assert ran >= 7
    _the_decision_log_is_as_shown(folder / "decisions.jsonl")


def _rewrite_answer(kind: str, shown: str, answer: str) -> None:
    """FANGPIN_REGENERATE=1: the doc shows the answer the server gives now."""
    if kind == "json":  # as a reader would want it: spaced, one line per NDJSON line
        try:
            answer = json.dumps(json.loads(answer), ensure_ascii=False, indent=1)
        except ValueError:
            answer = "\n".join(json.dumps(json.loads(line), ensure_ascii=False)
                               for line in answer.splitlines() if line.strip())
    path = ROOT / "docs" / "service.md"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace(f"```{kind}\n{shown}```",
                                 f"```{kind}\n{answer.rstrip()}\n```", 1), encoding="utf-8")


def _path() -> str:
    return os.environ.get("PATH", "/usr/bin:/bin")


def _the_decision_log_is_as_shown(log: Path) -> None:
    (shown,) = [json.loads(text) for kind, text in BLOCKS
                if kind == "json" and text.lstrip().startswith('{"decision_id"')]
    entries: list[Any] = []
    for _ in range(100):  # the log is written by a thread of its own, a moment later
        if log.exists():
            entries = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
        if len(entries) >= 2:
            break
        time.sleep(0.05)
    assert len(entries) >= 2
    assert all(entry.keys() == shown.keys() for entry in entries)


@pytest.mark.skipif(shutil.which("java") is None, reason="no Java runtime on this machine")
def test_the_java_client_runs(doc_server: tuple[Server, Path], tmp_path: Path) -> None:
    server, _ = doc_server
    folder, base = tmp_path, server.base
    (source,) = [text for kind, text in BLOCKS if kind == "java"]
    (folder / "DecideExample.java").write_text(source, encoding="utf-8")
    done = subprocess.run(["java", "DecideExample.java", base, TOKEN], cwd=folder,
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    decision_id, body = done.stdout.splitlines()
    answer = json.loads(body)
    assert answer["decision_id"] == decision_id
    assert answer["policy"]["id"] == "fujian-2021"
    assert '"per_capita_income":7151.99' in body and answer["decision"]["in_range"] is True


def test_the_arrow_example_prints_what_is_shown(doc_server: tuple[Server, Path]) -> None:
    """The Python client of "A table (Arrow)" against the doc's server: its output as shown."""
    import sys

    server, _ = doc_server
    (source, shown), = [(text, BLOCKS[i + 1][1]) for i, (kind, text) in enumerate(BLOCKS)
                        if kind == "python" and "vnd.apache.arrow.stream" in text]
    done = subprocess.run([sys.executable, "-c", source.replace(DOC_BASE, server.base)],
                          cwd=ROOT, env={**os.environ, "TOKEN": TOKEN}, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == shown.strip()
