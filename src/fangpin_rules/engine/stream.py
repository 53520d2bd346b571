"""Deciding a stream of records in chunks: the loop between reading a line and writing a
decision, shared by the one-process run and by every worker of a parallel one.

A chunk is a list of (line number, item) where the item is a JSONL line not yet parsed, a value
already parsed (from a JSON array) or a RecordError. Deciding a chunk gives its decisions and
its rejects as JSONL text, in input order, and the counts; the same function serves `--jobs 1`
and `--jobs N`, so their outputs are the same bytes by construction.
"""

from __future__ import annotations

import gc
import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from typing import IO, Any

from pydantic import ValidationError

from fangpin_rules.engine.policy import Policy
from fangpin_rules.engine.records import (
    RecordError,
    Rejection,
    _peek_first_char,
    parse_json,
    read_records,
)
from fangpin_rules.engine.regions import RegionalPolicy
from fangpin_rules.engine.serialize import dumps

Item = tuple[int, Any]
CHUNK_LINES = 2000


@dataclass(frozen=True, slots=True)
class ChunkResult:
    decisions: str  # JSONL, one line per decided record
    rejects: str  # JSONL, one line per rejected record
    read: int
    decided: int
    rejected: int


def numbered_items(stream: IO[str]) -> Iterator[Item]:
    """(line number, text) for each non-blank JSONL line, unparsed so that the parsing can be
    done where the deciding is (in a worker); a JSON array is read whole and parsed here."""
    if _peek_first_char(stream) == "[":
        yield from read_records(stream)
        return
    for number, line in enumerate(stream, start=1):
        if line and not line.isspace():
            yield number, line


def chunks(items: Iterable[Item], size: int = CHUNK_LINES) -> Iterator[list[Item]]:
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


class ChunkDecider:
    """Decides chunks of records under one policy on one date (with the households' cases,
    when given: {household id: [validated Case, ...]})."""

    def __init__(self, policy: Policy | RegionalPolicy, as_of: date, *, explain: bool = False,
                 cases: Mapping[str, list[Any]] | None = None) -> None:
        # With a region table, each household is decided by its region's policy.
        self.regional = policy if isinstance(policy, RegionalPolicy) else None
        base = policy.base if isinstance(policy, RegionalPolicy) else policy
        self.policy = base
        self.as_of = as_of
        self.explain = explain
        self.cases = cases or {}
        self.fast = base.evaluator(as_of)
        self.model = base.checked.record_model
        self.id_field = base.checked.record_id

    def decide(self, chunk: list[Item]) -> ChunkResult:
        decided_lines: list[str] = []
        reject_lines: list[str] = []
        policy, fast, as_of, explain, cases = (self.policy, self.fast, self.as_of,
                                               self.explain, self.cases)
        decide = policy._decide  # the record path's own completion of a decision
        validate_python: Callable[[Any], Any] = self.model.model_validate
        id_field = self.id_field
        for number, item in chunk:
            try:
                if isinstance(item, str):
                    try:
                        item = parse_json(item)
                    except ValueError as exc:
                        raise RecordError(Rejection(number, None, None,
                                                    f"not valid JSON: {_short(exc)}")) from None
                elif isinstance(item, RecordError):
                    raise item
                if type(item) is dict:
                    try:
                        record = validate_python(item)
                    except ValidationError:
                        record = policy.validate(item, number)  # raises with id and field
                else:
                    record = policy.validate(item, number)
                own = cases.get(getattr(record, id_field), []) if cases and id_field else []
                if self.regional is not None:
                    own_policy = self.regional.policy_for(record, number)
                    if explain:
                        decision = own_policy.evaluate(record, as_of, explain=True, cases=own)
                    else:
                        decision = own_policy._decide(own_policy.evaluator(as_of), record,
                                                      as_of, number, own)
                elif explain:
                    decision = policy.evaluate(record, as_of, explain=True, cases=own)
                else:
                    decision = decide(fast, record, as_of, number, own)
            except RecordError as exc:
                rejection = exc.rejection
                if rejection.line is None:
                    rejection = Rejection(number, rejection.household_id, rejection.field,
                                          rejection.reason)
                reject_lines.append(dumps(rejection.to_json()))
                continue
            decided_lines.append(dumps(decision))
        return ChunkResult(_lines(decided_lines), _lines(reject_lines),
                           len(chunk), len(decided_lines), len(reject_lines))


def _lines(lines: list[str]) -> str:
    return "\n".join(lines) + "\n" if lines else ""


def _short(exc: Exception) -> str:
    text = str(exc)
    return text if len(text) < 200 else text[:200] + "…"


def quiet_collector() -> None:
    """Move what is loaded so far (the policy, its compiled code, the modules) out of the
    garbage collector's reach, and collect the young generation less often: a streaming run
    makes many short-lived containers, and each full collection would otherwise re-scan
    everything loaded. Measured in benchmarks/bench_end_to_end.py."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 50, 100)
