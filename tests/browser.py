"""A page opened in headless Chromium, driven over the DevTools protocol (import as `browser`).

The standard library only: a minimal WebSocket client (RFC 6455: masked text frames out,
unmasked frames in) is all the protocol needs, so the tests need no extra package. Chromium runs
offline (no network services, a fresh profile) and its console errors, uncaught exceptions and
log errors (a resource it could not load, say) are collected.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import tempfile
import threading
import time
import urllib.request
import zlib
from pathlib import Path
from typing import Any

CHROMIUM = os.environ.get("FANGPIN_CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--window-size=1200,900", "--remote-debugging-port=0"]
TIMEOUT = 60.0


def chromium() -> str:
    """The browser's path; a test fails (never skips) when it is missing."""
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        raise AssertionError(f"Chromium is not installed at {CHROMIUM}: `make test` installs it "
                             "(Debian's chromium package), or set FANGPIN_CHROMIUM")
    return CHROMIUM


class _WebSocket:
    def __init__(self, url: str) -> None:
        found = re.match(r"ws://([^:/]+):(\d+)(/.*)", url)
        assert found, url
        host, port, path = found.group(1), int(found.group(2)), found.group(3)
        self.sock = socket.create_connection((host, port), timeout=TIMEOUT)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                           "Sec-WebSocket-Version: 13\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(1)
            assert chunk, "the browser closed the connection during the handshake"
            head += chunk
        assert head.split(b"\r\n", 1)[0].split()[1] == b"101", head

    def send(self, text: str) -> None:
        payload = text.encode()
        mask = os.urandom(4)
        size = len(payload)
        if size < 126:
            header = struct.pack("!BB", 0x81, 0x80 | size)
        elif size < 1 << 16:
            header = struct.pack("!BBH", 0x81, 0x80 | 126, size)
        else:
            header = struct.pack("!BBQ", 0x81, 0x80 | 127, size)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(header + mask + masked)

    def _exact(self, count: int) -> bytes:
        data = b""
        while len(data) < count:
            chunk = self.sock.recv(count - len(data))
            assert chunk, "the browser closed the connection"
            data += chunk
        return data

    def receive(self) -> str:
        message = b""
        while True:
            first, second = self._exact(2)
            size = second & 0x7F
            if size == 126:
                size = struct.unpack("!H", self._exact(2))[0]
            elif size == 127:
                size = struct.unpack("!Q", self._exact(8))[0]
            payload = self._exact(size)
            if first & 0x0F == 0x9:  # a ping: not part of the message
                continue
            message += payload
            if first & 0x80:
                return message.decode()

    def close(self) -> None:
        self.sock.close()


class Page:
    """One page in a fresh headless Chromium; `errors` collects what its console reports."""

    def __init__(self) -> None:
        program = chromium()
        self.profile = tempfile.mkdtemp(prefix="fangpin-chromium-")
        self.process = subprocess.Popen([program, *FLAGS, f"--user-data-dir={self.profile}",
                                         "about:blank"], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE, text=True)
        self.errors: list[str] = []
        self.events: list[dict[str, Any]] = []
        self.next_id = 0
        try:
            self._connect()
        except BaseException:
            self.close()
            raise

    def _connect(self) -> None:
        port = self._port()
        # the browser goes on logging to stderr: drain it, or a full pipe would block it
        threading.Thread(target=self._drain, daemon=True).start()
        deadline = time.monotonic() + TIMEOUT
        while True:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list",
                                        timeout=TIMEOUT) as answer:
                pages = [t for t in json.load(answer) if t.get("type") == "page"]
            if pages or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert pages, "Chromium opened no page"
        self.ws = _WebSocket(pages[0]["webSocketDebuggerUrl"])
        for method in ("Runtime.enable", "Log.enable", "Page.enable"):
            self.call(method)

    def _drain(self) -> None:
        assert self.process.stderr is not None
        for _ in self.process.stderr:
            pass

    def _port(self) -> int:
        assert self.process.stderr is not None
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            line = self.process.stderr.readline()
            if not line and self.process.poll() is not None:
                break
            found = re.search(r"DevTools listening on ws://[^:]+:(\d+)/", line)
            if found:
                return int(found.group(1))
        raise AssertionError("Chromium did not start its DevTools server")

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.receive())
            if message.get("id") == self.next_id:
                assert "error" not in message, (method, message["error"])
                result: dict[str, Any] = message.get("result", {})
                return result
            self._event(message)

    def _event(self, message: dict[str, Any]) -> None:
        self.events.append(message)
        method, params = message.get("method"), message.get("params", {})
        if method == "Runtime.exceptionThrown":
            self.errors.append(json.dumps(params.get("exceptionDetails", {}))[:500])
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            self.errors.append(json.dumps(params.get("args", []))[:500])
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            self.errors.append(params["entry"].get("text", "")[:500])

    def open(self, path: Path) -> None:
        self.events.clear()
        self.call("Page.navigate", url=path.resolve().as_uri())
        while not any(e.get("method") == "Page.loadEventFired" for e in self.events):
            self._event(json.loads(self.ws.receive()))
        self.evaluate("0")  # let the events of the load arrive

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        assert "exceptionDetails" not in result, result["exceptionDetails"]
        return result["result"].get("value")

    def screenshot(self) -> bytes:
        return base64.b64decode(self.call("Page.captureScreenshot", format="png")["data"])

    def close(self) -> None:
        if hasattr(self, "ws"):
            self.ws.close()
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.profile, ignore_errors=True)


def png_distinct_rows(png: bytes) -> int:
    """How many distinct pixel rows a PNG has below its first, as filtered bytes: a blank page
    is 1 (every filter leaves a row equal to the one above it the same bytes)."""
    assert png.startswith(b"\x89PNG\r\n\x1a\n"), "not a PNG"
    position, data, width, channels = 8, b"", 0, 4
    while position < len(png):
        size, kind = struct.unpack("!I4s", png[position:position + 8])
        body = png[position + 8:position + 8 + size]
        if kind == b"IHDR":
            width = struct.unpack("!I", body[:4])[0]
            channels = {2: 3, 6: 4, 0: 1, 4: 2}.get(body[9], 4)
        elif kind == b"IDAT":
            data += body
        position += 12 + size
    raw = zlib.decompress(data)
    stride = 1 + width * channels
    rows = {raw[i:i + stride] for i in range(stride, len(raw), stride)}
    return len(rows)
