"""The decision log: one JSON line per decision, written by a thread of its own so that a
request never waits for the disk.

    {"decision_id": "…", "time": "2026-12-01T21:40:00.123Z",
     "policy": {"id": "fujian-2021", "sha256": "…"}, "as_of": "2021-09-01",
     "input_sha256": "…", "decision": {…}}

`input_sha256` is the sha256 of the household's JSON written compactly (keys in the order
received, exact decimals as numbers), so the same input gives the same hash whether it came in
a JSON body or an NDJSON line. ID numbers (a mainland resident ID of 18 characters, or an old
one of 15 digits) are masked wherever they appear in the decision: the first six characters
(the region) and the last four are kept.
"""

from __future__ import annotations

import hashlib
import logging
import queue
import re
import threading
from datetime import UTC, datetime
from typing import IO, Any

from fangpin_rules.engine.records import parse_json
from fangpin_rules.engine.serialize import dumps

log = logging.getLogger("fangpin.serve")

_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(?:\d{17}[\dXx]|\d{15})(?![0-9A-Za-z])")


def mask_id_numbers(text: str) -> str:
    """Every ID number in `text` with its middle (the birth date and order) starred."""
    return _ID_NUMBER.sub(lambda m: m[0][:6] + "*" * (len(m[0]) - 10) + m[0][-4:], text)


def masked(value: Any) -> Any:
    """`value` (parsed JSON) with every string's ID numbers masked; keys too."""
    if isinstance(value, str):
        return mask_id_numbers(value)
    if isinstance(value, dict):
        return {mask_id_numbers(k): masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [masked(item) for item in value]
    return value


def input_hash(household: Any) -> str:
    """sha256 of a household's compact JSON: `household` is the parsed value, or the text of
    an NDJSON line (parsed here, so both spell the same input alike)."""
    if isinstance(household, str | bytes):
        try:
            household = parse_json(household)
        except ValueError:
            text = household if isinstance(household, bytes) else household.encode()
            return hashlib.sha256(text.strip()).hexdigest()
    return hashlib.sha256(dumps(household).encode("utf-8", "surrogateescape")).hexdigest()


class DecisionLog:
    """Appends entries to a file from a writer thread; `write` only puts on a queue."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._stream: IO[str] = open(path, "a", encoding="utf-8",  # noqa: SIM115
                                     errors="backslashreplace", newline="\n")
        self._queue: queue.SimpleQueue[tuple[Any, ...] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="fangpin-decision-log",
                                        daemon=True)
        self._thread.start()
        self.written = 0

    def write(self, decision_id: str, policy_ref: dict[str, str], as_of: str, household: Any,
              decision_json: bytes) -> None:
        """Log one decision. `household` is the input (parsed, or an NDJSON line's text);
        `decision_json` the decision as it was answered. Hashing, masking and writing happen
        in the writer thread."""
        now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        self._queue.put((decision_id, now, dict(policy_ref), as_of, household, decision_json))

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            batch = [item]
            while item is not None:  # drain what is waiting, then flush once
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                batch.append(item)
            for entry in batch:
                if entry is None:
                    self._stream.flush()
                    self._stream.close()
                    return
                try:
                    self._stream.write(self._line(*entry))
                    self.written += 1
                except Exception:  # one entry that cannot be written must not stop the log
                    log.exception("decision %s could not be logged", entry[0])
            self._stream.flush()

    @staticmethod
    def _line(decision_id: str, time: str, policy_ref: dict[str, str], as_of: str,
              household: Any, decision_json: bytes) -> str:
        decision = masked(parse_json(decision_json))
        entry = {"decision_id": decision_id, "time": time, "policy": policy_ref,
                 "as_of": as_of, "input_sha256": input_hash(household), "decision": decision}
        return dumps(entry) + "\n"

    def close(self) -> None:
        """Write what is queued and close the file."""
        self._queue.put(None)
        self._thread.join(timeout=10)
