"""Counters and a latency histogram in the Prometheus text format (version 0.0.4).

Written here rather than with prometheus_client: a dozen series, one lock, and no dependency
for a service that is often run where nothing may be installed beyond the extra.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterable

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

    def render(self, gauges: Iterable[tuple[str, str, list[tuple[Labels, float]]]] = ()) -> str:
        """The exposition text; `gauges` are (name, help, [(labels, value)]) read at the time
        of the scrape (the policies in force, the files refused)."""
        lines: list[str] = []
        with self._lock:
            for name, help_text in COUNTERS.items():
                lines += [f"# HELP {name} {help_text}", f"# TYPE {name} counter"]
                for labels, value in sorted(self._counters[name].items()):
                    lines.append(f"{name}{_labels(labels)} {value}")
            name = "fangpin_request_duration_seconds"
            lines += [f"# HELP {name} Time from a request's arrival to its answer, by endpoint.",
                      f"# TYPE {name} histogram"]
            for labels, row in sorted(self._histogram.items()):
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
