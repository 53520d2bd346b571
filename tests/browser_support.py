"""Headless Chromium for the tests of the HTML outputs (the audit report, the explorer, the docs
site): open a file, click, type, read the DOM, collect console errors, take a screenshot (of the
page or of one element) and tell drawn Chinese glyphs from missing-glyph boxes, over the
DevTools protocol.

The protocol's websocket is spoken here with the standard library (a client's masked text
frames, the server's unmasked ones), which is all the DevTools protocol needs, so the tests add
no dependency. A missing chromium fails the test (never skips it): `make test` installs it.
"""

from __future__ import annotations

import base64
import functools
import http.server
import json
import os
import shutil
import socket
import struct
import subprocess
import tempfile
import threading
import time
import urllib.request
import zlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("FANGPIN_CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--remote-debugging-port=0", "--window-size=1280,900"]
TIMEOUT = 60.0  # an upper bound: the machine may be shared and slow


def chromium_path() -> str:
    found = CHROMIUM if os.access(CHROMIUM, os.X_OK) else shutil.which("chromium")
    if not found:
        pytest.fail(f"chromium is not installed ({CHROMIUM} is missing): `make test` installs "
                    "it (apt-get install -y chromium, as root on Debian)", pytrace=False)
    return found


class _Socket:
    """A websocket client connection, text frames only (what DevTools speaks)."""

    def __init__(self, url: str) -> None:
        rest = url.removeprefix("ws://")
        hostport, _, path = rest.partition("/")
        host, _, port = hostport.partition(":")
        self.sock = socket.create_connection((host, int(port)), timeout=TIMEOUT)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET /{path} HTTP/1.1\r\nHost: {hostport}\r\nUpgrade: websocket\r\n"
                           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                           "Sec-WebSocket-Version: 13\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("DevTools closed the connection during the handshake")
            head += chunk
        status = head.split(b"\r\n", 1)[0]
        if b" 101 " not in status:
            raise ConnectionError(f"DevTools refused the websocket: {status!r}")
        self.buffer = head.split(b"\r\n\r\n", 1)[1]

    def _read(self, count: int) -> bytes:
        while len(self.buffer) < count:
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise ConnectionError("DevTools closed the connection")
            self.buffer += chunk
        data, self.buffer = self.buffer[:count], self.buffer[count:]
        return data

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

    def receive(self) -> str:
        message = b""
        while True:
            first, second = self._read(2)
            size = second & 0x7F
            if size == 126:
                size = struct.unpack("!H", self._read(2))[0]
            elif size == 127:
                size = struct.unpack("!Q", self._read(8))[0]
            payload = self._read(size)
            opcode = first & 0x0F
            if opcode == 0x8:
                raise ConnectionError("DevTools closed the websocket")
            if opcode in (0x9, 0xA):  # ping / pong: DevTools does not send them, nothing to do
                continue
            message += payload
            if first & 0x80:
                return message.decode()

    def close(self) -> None:
        self.sock.close()


class Page:
    """One tab: `open` a file, then `evaluate`, `click`, `type`; `errors` are the console's."""

    def __init__(self, websocket_url: str) -> None:
        self.socket = _Socket(websocket_url)
        self.next_id = 0
        self.errors: list[str] = []
        self.events: list[dict[str, Any]] = []
        for domain in ("Page", "Runtime", "Log"):
            self.call(f"{domain}.enable")

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        ident = self.next_id
        self.socket.send(json.dumps({"id": ident, "method": method, "params": params}))
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            message = json.loads(self.socket.receive())
            if message.get("id") == ident:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                result: dict[str, Any] = message.get("result", {})
                return result
            self._event(message)
        raise TimeoutError(method)

    def _event(self, message: dict[str, Any]) -> None:
        method = message.get("method")
        params = message.get("params", {})
        self.events.append(message)
        if method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            self.errors.append(details.get("exception", {}).get("description")
                               or details.get("text", "exception"))
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            self.errors.append(" ".join(str(a.get("value", a.get("description", "")))
                                        for a in params.get("args", [])))
        elif method == "Log.entryAdded" and params["entry"].get("level") == "error" \
                and not str(params["entry"].get("url", "")).endswith("/favicon.ico"):
            # Over HTTP the browser asks for /favicon.ico on its own; a page that names no
            # icon has made no error when it is missing.
            self.errors.append(params["entry"].get("text", ""))

    def wait_for(self, method: str) -> None:
        for event in self.events:
            if event.get("method") == method:
                return
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            message = json.loads(self.socket.receive())
            self._event(message)
            if message.get("method") == method:
                return
        raise TimeoutError(method)

    def open(self, path: Path | str) -> None:
        """Open a file, or a URL (a site served by `served`)."""
        self.events.clear()
        url = path if isinstance(path, str) else path.resolve().as_uri()
        self.call("Page.navigate", url=url)
        self.wait_for("Page.loadEventFired")
        self.evaluate("0")  # let the events of the load arrive

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True,
                           awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_until(self, expression: str) -> Any:
        """Poll a page's expression until it is truthy (a script that works asynchronously)."""
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(0.1)
        raise TimeoutError(expression)

    def click(self, selector: str) -> None:
        """A real mouse click (pressed and released) at the middle of the element."""
        box = self.evaluate(f"(() => {{ const e = document.querySelector({json.dumps(selector)});"
                            "e.scrollIntoView({block: 'center'});"
                            "const r = e.getBoundingClientRect();"
                            "return [r.x + r.width / 2, r.y + r.height / 2]; })()")
        for kind in ("mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", type=kind, x=box[0], y=box[1],
                      button="left", clickCount=1)

    def type(self, selector: str, text: str) -> None:
        """Focus a field and type into it as a keyboard would (it fires `input`)."""
        self.click(selector)
        self.call("Input.insertText", text=text)

    def dom(self) -> str:
        return str(self.evaluate("document.documentElement.outerHTML"))

    def screenshot(self, selector: str | None = None) -> bytes:
        """A PNG of the viewport, or of the element `selector` names (scrolled into view)."""
        if selector is None:
            return base64.b64decode(self.call("Page.captureScreenshot", format="png")["data"])
        box = self.evaluate(f"(() => {{ const e = document.querySelector({json.dumps(selector)});"
                            "e.scrollIntoView({block: 'center'});"
                            "const r = e.getBoundingClientRect();"
                            "return [r.x + scrollX, r.y + scrollY, r.width, r.height]; })()")
        assert box[2] > 0 and box[3] > 0, f"{selector} is not shown"
        clip = {"x": box[0], "y": box[1], "width": box[2], "height": box[3], "scale": 1}
        return base64.b64decode(self.call("Page.captureScreenshot", format="png",
                                          clip=clip)["data"])

    def shows_chinese_glyphs(self, selector: str) -> bool:
        """Whether the Chinese characters of an element are drawn as glyphs: its screenshot
        differs from the same element with each of them replaced by an unassigned code point
        (U+0378, always drawn as the missing-glyph box). Without a CJK font both are the same
        row of boxes. The element's text is put back afterwards."""
        if not self.evaluate(f"/[{_CJK}]/.test(document.querySelector("
                             f"{json.dumps(selector)}).textContent)"):
            raise AssertionError(f"{selector} has no Chinese text to look at")
        drawn = self.screenshot(selector)
        self.evaluate(f"(() => {{ const e = document.querySelector({json.dumps(selector)});"
                      "const walk = document.createTreeWalker(e, NodeFilter.SHOW_TEXT);"
                      "window.__fangpinTexts = [];"
                      "for (let n = walk.nextNode(); n; n = walk.nextNode()) {"
                      "  window.__fangpinTexts.push([n, n.data]);"
                      f"  n.data = n.data.replace(/[{_CJK}]/g, '\\u0378'); }} }})()")
        boxes = self.screenshot(selector)
        self.evaluate("(() => { for (const [n, text] of window.__fangpinTexts) n.data = text;"
                      "delete window.__fangpinTexts; })()")
        return drawn != boxes

    def close(self) -> None:
        self.socket.close()


_CJK = "\\u3400-\\u9fff\\uf900-\\ufaff"  # CJK ideographs (extension A, unified, compatibility)


@contextmanager
def browser(environment: Mapping[str, str] | None = None) -> Iterator[Page]:
    """A headless Chromium with one page, stopped (and its profile removed) afterwards;
    `environment` adds to the browser's environment (FONTCONFIG_FILE, say)."""
    executable = chromium_path()
    profile = tempfile.mkdtemp(prefix="fangpin-chromium-")
    # The browser logs to stderr all along: into a file, as a pipe nobody reads would fill up
    # and stop it.
    log = open(Path(profile, "stderr.log"), "wb")  # noqa: SIM115 (closed below)
    process = subprocess.Popen([executable, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log,
                               env={**os.environ, **(environment or {})})
    page: Page | None = None
    try:
        port_file = Path(profile, "DevToolsActivePort")
        deadline = time.monotonic() + TIMEOUT
        while not (port_file.exists() and port_file.read_text().count("\n") >= 1):
            if process.poll() is not None or time.monotonic() > deadline:
                stderr = Path(profile, "stderr.log").read_bytes().decode(errors="replace")
                pytest.fail(f"chromium did not start: {stderr[-2000:]}", pytrace=False)
            time.sleep(0.05)
        port = int(port_file.read_text().split()[0])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=TIMEOUT) as r:
            targets = json.load(r)
        url = next(t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page")
        page = Page(url)
        yield page
    finally:
        if page is not None:
            page.close()
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        shutil.rmtree(profile, ignore_errors=True)


@contextmanager
def served(folder: Path) -> Iterator[str]:
    """A folder served over HTTP on the loopback (as a static site is published): its URL."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def open_file(path: Path) -> tuple[list[str], str, bytes]:
    """Open one file: its console errors, its DOM once loaded and a screenshot (PNG)."""
    with browser() as page:
        page.open(path)
        return list(page.errors), page.dom(), page.screenshot()


def png_distinct_rows(png: bytes, limit: int = 64) -> int:
    """How many distinct pixel rows a PNG has (up to `limit`): 1 for a blank (one-colour)
    image. Rows are unfiltered exactly (PNG filters 0-4), so this counts real pixels."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    position, idat, width, height, channels = 8, b"", 0, 0, 4
    while position < len(png):
        size, kind = struct.unpack("!I4s", png[position:position + 8])
        body = png[position + 8:position + 8 + size]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack("!IIBB", body[:10])
            assert depth == 8, "8-bit PNGs only"
            channels = {0: 1, 2: 3, 4: 2, 6: 4}[colour]
        elif kind == b"IDAT":
            idat += body
        position += 12 + size
    raw = zlib.decompress(idat)
    stride = width * channels
    previous = bytearray(stride)
    rows: set[bytes] = set()
    for y in range(height):
        line = raw[y * (stride + 1):(y + 1) * (stride + 1)]
        kind, row = line[0], bytearray(line[1:])
        for i in range(stride):
            left = row[i - channels] if i >= channels else 0
            up = previous[i]
            corner = previous[i - channels] if i >= channels else 0
            if kind == 1:
                row[i] = (row[i] + left) & 0xFF
            elif kind == 2:
                row[i] = (row[i] + up) & 0xFF
            elif kind == 3:
                row[i] = (row[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                guess = left if pa <= pb and pa <= pc else up if pb <= pc else corner
                row[i] = (row[i] + guess) & 0xFF
        rows.add(bytes(row))
        previous = row
        if len(rows) >= limit:
            break
    return len(rows)
