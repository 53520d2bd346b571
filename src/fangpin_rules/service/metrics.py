"""Counters and a latency histogram in the Prometheus text format (version 0.0.4).

Written here rather than with prometheus_client: a dozen series, one lock, and no dependency
for a service that is often run where nothing may be installed beyond the extra.

With `--workers N` each worker process counts what it answered and writes its counts to a
file of its own in a folder the workers share (`SharedCounts`), every `SHARE_INTERVAL` seconds
and whenever it answers a scrape; the worker answering `/metrics` sums its live counts with the
other workers' files. So every scrape, whichever worker answers it, gives the whole service's
totals (another worker's at most `SHARE_INTERVAL` seconds old), and a worker that died and was
replaced leaves its counts in: the counters never go down.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

log = logging.getLogger("fangpin.serve")

SHARE_INTERVAL = 0.5  # seconds between a worker's writes of its counts
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

Labels = tuple[tuple[str, str], ...]


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(labels: Labels, extra: Iterable[tuple[str, str]] = ()) -> str:
    pairs = [*labels, *extra]
    if not pairs:
        return ""
    return "{" + ",".join(f'{key}="{_escape(value)}"' for key, value in pairs) + "}"


COUNTERS = {
    "fangpin_requests_total": "HTTP requests answered, by endpoint and status code.",
    "fangpin_decisions_total": "Households decided, by policy.",
    "fangpin_rejects_total": "Household records rejected, by policy (or 'none' when no "
                             "policy could be chosen).",
    "fangpin_reloads_total": "Policy loads and reloads, by policy (or file) and result.",
}


class Metrics:
    """The service's counters; every method is safe from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counters: dict[str, dict[Labels, int]] = {name: defaultdict(int)
                                                        for name in COUNTERS}
        self._histogram: dict[Labels, list[float]] = {}  # per-bucket counts, then sum, count

    def count(self, name: str, amount: int = 1, **labels: str) -> None:
        if amount:
            with self._lock:
                self._counters[name][tuple(sorted(labels.items()))] += amount

    def observe(self, seconds: float, **labels: str) -> None:
        key = tuple(sorted(labels.items()))
        with self._lock:
            row = self._histogram.setdefault(key, [0.0] * (len(BUCKETS) + 2))
            for i, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    row[i] += 1
            row[-2] += seconds
            row[-1] += 1

    def value(self, name: str, **labels: str) -> int:
        with self._lock:
            return self._counters[name].get(tuple(sorted(labels.items())), 0)

    def state(self) -> dict[str, Any]:
        """The counts as JSON data (what a worker writes for the others)."""
        with self._lock:
            return {"counters": {name: [[list(map(list, labels)), value]
                                        for labels, value in series.items()]
                                 for name, series in self._counters.items()},
                    "histogram": [[list(map(list, labels)), row]
                                  for labels, row in self._histogram.items()]}

    def render(self, gauges: Iterable[tuple[str, str, list[tuple[Labels, float]]]] = (),
               others: Iterable[dict[str, Any]] = ()) -> str:
        """The exposition text; `gauges` are (name, help, [(labels, value)]) read at the time
        of the scrape (the policies in force, the files refused); `others` the other workers'
        `state()`, summed in."""
        counters: dict[str, dict[Labels, int]] = {name: defaultdict(int) for name in COUNTERS}
        histogram: dict[Labels, list[float]] = {}
        for state in [self.state(), *others]:
            _add(state, counters, histogram)
        lines: list[str] = []
        for name, help_text in COUNTERS.items():
            lines += [f"# HELP {name} {help_text}", f"# TYPE {name} counter"]
            for labels, value in sorted(counters[name].items()):
                lines.append(f"{name}{_labels(labels)} {value}")
        name = "fangpin_request_duration_seconds"
        lines += [f"# HELP {name} Time from a request's arrival to its answer, by endpoint.",
                  f"# TYPE {name} histogram"]
        for labels, row in sorted(histogram.items()):
            for bound, cumulative in zip(BUCKETS, row, strict=False):
                lines.append(f"{name}_bucket{_labels(labels, [('le', repr(bound))])} "
                             f"{int(cumulative)}")
            lines.append(f"{name}_bucket{_labels(labels, [('le', '+Inf')])} {int(row[-1])}")
            lines.append(f"{name}_sum{_labels(labels)} {row[-2]:.6f}")
            lines.append(f"{name}_count{_labels(labels)} {int(row[-1])}")
        for name, help_text, samples in gauges:
            lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge"]
            for labels, reading in samples:
                lines.append(f"{name}{_labels(labels)} {reading:g}")
        return "\n".join(lines) + "\n"


def _add(state: dict[str, Any], counters: dict[str, dict[Labels, int]],
         histogram: dict[Labels, list[float]]) -> None:
    """Sum one worker's `state()` into the totals (a malformed part is left out)."""
    for name, series in state.get("counters", {}).items():
        if name not in counters or not isinstance(series, list):
            continue
        for labels, value in series:
            counters[name][tuple((str(k), str(v)) for k, v in labels)] += int(value)
    for labels, row in state.get("histogram", []):
        key = tuple((str(k), str(v)) for k, v in labels)
        if len(row) != len(BUCKETS) + 2:
            continue
        total = histogram.setdefault(key, [0.0] * (len(BUCKETS) + 2))
        for i, value in enumerate(row):
            total[i] += float(value)


class SharedCounts:
    """A worker's counts in `folder` (one file a process, written whole and renamed in), and
    the other workers' read back for a scrape."""

    def __init__(self, folder: str, metrics: Metrics) -> None:
        self.folder = Path(folder)
        self.metrics = metrics
        self.own = self.folder / f"worker-{os.getpid()}.json"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def write(self) -> None:
        temporary = self.own.with_suffix(".tmp")
        try:
            temporary.write_text(json.dumps(self.metrics.state()), encoding="utf-8")
            os.replace(temporary, self.own)
        except OSError as exc:  # the scrape still sums what the files hold
            log.error("cannot write this worker's metrics to %s: %s", self.folder,
                      exc.strerror)

    def others(self) -> list[dict[str, Any]]:
        """The other workers' last counts (a file half-read or gone is left out)."""
        states = []
        for file in sorted(self.folder.glob("worker-*.json")):
            if file == self.own:
                continue
            try:
                state = json.loads(file.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if isinstance(state, dict):
                states.append(state)
        return states

    def workers(self) -> int:
        return len({*self.folder.glob("worker-*.json"), self.own})

    def start(self) -> None:
        self.write()

        def loop() -> None:
            while not self._stop.wait(SHARE_INTERVAL):
                self.write()

        self._thread = threading.Thread(target=loop, name="fangpin-metrics-share", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.write()
