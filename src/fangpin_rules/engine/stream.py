"""Deciding a stream of records in chunks: the loop between reading a line and writing a
decision, shared by the one-process run and by every worker of a parallel one.

A chunk is a list of (line number, item) where the item is a JSONL line not yet parsed, a value
already parsed (from a JSON array) or a RecordError. Deciding a chunk gives its decisions (JSONL
as UTF-8 bytes) and its rejects (JSONL text), in input order, and the counts; the same function
serves `--jobs 1` and `--jobs N`, so their outputs are the same bytes by construction.
"""

from __future__ import annotations

import gc
import itertools
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from typing import IO, Any

from fangpin_rules.engine.policy import Policy
from fangpin_rules.engine.records import (
    RecordError,
    Rejection,
    _peek_first_char,
    numbered_lines,
    parse_line,
    read_records,
)
from fangpin_rules.engine.regions import RegionalPolicy
from fangpin_rules.engine.repeats import RepeatScreen
from fangpin_rules.engine.serialize import decision_writer, dumps
from fangpin_rules.engine.typed_json import TypedReader, typed_reader

Item = tuple[int, Any]
CHUNK_LINES = 2000
# records decided in columns at a time (one chunk held): a chunk's fixed cost, about 25 ms,
# made an impact of 100,000 households in chunks of 5,000 about 8 % slower than in chunks of
# 10,000 or 20,000 (peak 265, 340 and 460 MiB)
COLUMNAR_CHUNK = 10_000


@dataclass(frozen=True, slots=True)
class ChunkResult:
    decisions: bytes  # JSONL in UTF-8, one line per decided record (bytes: a worker hands
    # them over and the file takes them without decoding and encoding again)
    rejects: str  # JSONL, one line per rejected record
    read: int
    decided: int
    rejected: int
    # (record id or None, line) of each decision, in order: the parent finds an id decided
    # twice across chunks (and workers) with them (`OneDecisionPerId`)
    decided_ids: tuple[tuple[Any, int], ...] = ()
    cases_used: int = 0  # case records attached to the households decided


def numbered_items(stream: IO[str]) -> Iterator[Item]:
    """(line number, text) for each non-blank JSONL line, unparsed so that the parsing can be
    done where the deciding is (in a worker); a JSON array is read whole and parsed here, and
    a single JSON object over several lines is one item (`records.numbered_lines`)."""
    if _peek_first_char(stream) == "[":
        yield from read_records(stream)
        return
    yield from numbered_lines(stream)


@dataclass(frozen=True)
class NumberedRecords:
    """Households read already, each a record or the RecordError rejecting it, numbered by
    what `numbered_by` names: a Parquet file's rows (0-based). Given where a JSON-lines stream
    is taken (the county reports), it is read as `numbered_items` reads the stream."""

    items: Iterable[Item]
    numbered_by: str = "row"


def items_of(source: IO[str] | NumberedRecords) -> Iterator[Item]:
    """The numbered items of a stream (`numbered_items`) or of households read already."""
    if isinstance(source, NumberedRecords):
        return iter(source.items)
    return numbered_items(source)


def numbering_of(source: IO[str] | NumberedRecords) -> str:
    """What the numbers of `source`'s items count: "line", or "row" for a Parquet file's."""
    return source.numbered_by if isinstance(source, NumberedRecords) else "line"


def chunks(items: Iterable[Item], size: int = CHUNK_LINES) -> Iterator[list[Item]]:
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


class ChunkDecider:
    """Decides chunks of records under one policy on one date (with the households' cases,
    when given: {household id: [validated Case, ...]}).

    A JSONL line is read by the typed fast reader when it takes it (engine/typed_json.py), or
    else by `json` and pydantic, which also word the rejection; a decision is written by the
    policy's `DecisionWriter`. Neither changes a byte of the output, only its speed."""

    def __init__(self, policy: Policy | RegionalPolicy, as_of: date, *, explain: bool = False,
                 cases: Mapping[str, list[Any]] | None = None) -> None:
        # With a region table, each household is decided by its region's policy.
        self.regional = policy if isinstance(policy, RegionalPolicy) else None
        base = policy.base if isinstance(policy, RegionalPolicy) else policy
        self.policy = base
        self.as_of = as_of
        self.explain = explain
        self.cases = cases or {}
        # under a region table the base decides no household (each its region's policy does):
        # its values are not resolved, so a value of the base that has ended is not refused
        self.fast = base.evaluator(as_of) if self.regional is None else None
        self.model = base.checked.record_model
        self.id_field = base.checked.record_id
        self.reader = typed_reader(self.model)
        self.writer = None if explain else decision_writer(base.checked)  # traces: `dumps`

    def decide(self, chunk: list[Item]) -> ChunkResult:
        decided_lines: list[bytes] = []
        decided_ids: list[tuple[Any, int]] = []
        reject_lines: list[str] = []
        policy, fast, as_of, explain, cases, regional = (
            self.policy, self.fast, self.as_of, self.explain, self.cases, self.regional)
        decide_record = policy.decide_record
        reader = self.reader
        write = self.writer.encode if self.writer is not None else _dumps_bytes
        id_field = self.id_field
        cases_used = 0
        for number, item in chunk:
            record: Any = None
            try:
                record = read_item(policy, reader, number, item)
                own = cases.get(getattr(record, id_field), []) if cases and id_field else []
                if regional is not None:
                    own_policy = regional.policy_for(record, number)
                    if explain:
                        decision = own_policy.evaluate(record, as_of, explain=True, cases=own)
                    else:
                        decision = own_policy.decide_record(own_policy.evaluator(as_of), record,
                                                            as_of, number, own)
                elif explain:
                    decision = policy.evaluate(record, as_of, explain=True, cases=own)
                else:
                    assert fast is not None  # made where there is no region table
                    decision = decide_record(fast, record, as_of, number, own)
                decided_lines.append(write(decision))
                decided_ids.append((getattr(record, id_field) if id_field else None, number))
                cases_used += len(own)
            except RecordError as exc:
                rejection = exc.rejection
                if rejection.line is None:
                    rejection = rejection.at_line(number)
                reject_lines.append(dumps(rejection.to_json()))
            except Exception as exc:
                # One record that the engine cannot decide or write (a value no rule foresaw)
                # is that record's rejection; the chunk's other decisions are kept.
                reject_lines.append(dumps(unexpected_rejection(
                    number, getattr(record, id_field, None) if id_field else None,
                    exc).to_json()))
        decisions = b"\n".join(decided_lines) + b"\n" if decided_lines else b""
        return ChunkResult(decisions, _lines(reject_lines),
                           len(chunk), len(decided_lines), len(reject_lines),
                           tuple(decided_ids), cases_used)


def repeated_id(line: int | None, record_id: Any, id_field: str | None, first: int | None,
                numbered_by: str = "line") -> Rejection:
    """The rejection of a record whose id a record decided earlier in the run had (at `first`,
    a line or a row as `numbered_by` says, when known)."""
    where = f"{numbered_by} {first}" if first is not None else "an earlier record"
    return Rejection(line, str(record_id), id_field, f"the id is given to another record "
                     f"already ({where}); each household is one record in a run")


class OneDecisionPerId:
    """Keeps one decision per record id in a run: a later record with an id decided already is
    rejected, naming the line of the first (two records of one household would give it two
    decisions). It sees the chunks' results in input order, in the process that writes them,
    so it works the same with any number of workers. It holds each id seen (with its line),
    some 100 bytes each, or, given the input's `screen` (`engine.repeats.screen_items`), only
    the ids the screen says may repeat: then memory stays flat however many households come.
    `numbered_by`: what the numbers count ("row" for a Parquet file's rows)."""

    def __init__(self, id_field: str | None = "household_id",
                 numbered_by: str = "line", screen: RepeatScreen | None = None) -> None:
        self.id_field = id_field
        self.numbered_by = numbered_by
        self.screen = screen
        self.first_line: dict[Any, int] = {}

    def duplicate_of(self, record_id: Any, line: int | None) -> Rejection | None:
        """The rejection of a record whose id a decided record had, or None."""
        if record_id is None or (self.screen is not None and
                                 not self.screen.may_repeat(record_id)):
            return None
        first = self.first_line.get(record_id)
        if first is None:
            return None
        return repeated_id(line, record_id, self.id_field, first if first >= 0 else None,
                           self.numbered_by)

    def note(self, record_id: Any, line: int | None) -> None:
        """A record with this id was decided."""
        if record_id is not None and (self.screen is None or
                                      self.screen.may_repeat(record_id)):
            self.first_line.setdefault(record_id, -1 if line is None else line)

    def filter(self, result: ChunkResult) -> ChunkResult:
        """The result with the decisions of ids seen before moved to the rejects."""
        duplicates = {}
        for index, (record_id, line) in enumerate(result.decided_ids):
            rejection = self.duplicate_of(record_id, line)
            if rejection is not None:
                duplicates[index] = rejection
            else:
                self.note(record_id, line)
        return without_repeats(result, duplicates)


def without_repeats(result: ChunkResult, duplicates: Mapping[int, Rejection]) -> ChunkResult:
    """`result` with its decisions at the indexes of `duplicates` (into `decided_ids`) moved
    to its rejects, each as its rejection, in index order."""
    if not duplicates:
        return result
    lines = result.decisions.split(b"\n")[:-1]  # JSON text holds no raw newline
    kept = [line for index, line in enumerate(lines) if index not in duplicates]
    rejects = result.rejects + "".join(dumps(duplicates[index].to_json()) + "\n"
                                       for index in sorted(duplicates))
    return ChunkResult(b"\n".join(kept) + b"\n" if kept else b"", rejects, result.read,
                       len(kept), result.rejected + len(duplicates),
                       tuple(item for index, item in enumerate(result.decided_ids)
                             if index not in duplicates), result.cases_used)


def unexpected_rejection(number: int, household_id: object, exc: Exception) -> Rejection:
    """The rejection of a record whose deciding or writing raised an unforeseen error. It
    names the error's kind only: its message might quote the record's personal data."""
    return Rejection(number, household_id if isinstance(household_id, str) else None, None,
                     f"could not be decided: internal error ({type(exc).__name__}); the "
                     "other records are not affected; please report it with this line")


def read_item(policy: Policy, reader: TypedReader | None, number: int, item: Any) -> Any:
    """The record of an item of `numbered_items`: a JSONL line read by the typed reader when it
    takes it, else parsed and validated by the policy's model, as is a value parsed already; a
    RecordError item is raised, and so is one for a record outside the model."""
    if isinstance(item, str):
        record = reader.decode(item) if reader is not None else None
        if record is not None:
            return record
        item = parse_line(item, number)
    elif isinstance(item, RecordError):
        raise item
    return policy.validate(item, number)


def _dumps_bytes(decision: dict[str, Any]) -> bytes:
    return dumps(decision).encode("utf-8")


def _lines(lines: list[str]) -> str:
    return "\n".join(lines) + "\n" if lines else ""


def quiet_collector() -> None:
    """Move what is loaded so far (the policy, its compiled code, the modules) out of the
    garbage collector's reach, and collect the young generation less often: a streaming run
    makes many short-lived containers, and each full collection would otherwise re-scan
    everything loaded. Measured in benchmarks/bench_end_to_end.py."""
    freeze_loaded()
    gc.set_threshold(50_000, 50, 100)


def freeze_loaded() -> None:
    """Move what is loaded now out of the garbage collector's reach (`gc.freeze`): its full
    passes then scan only what was made since. What an earlier call froze is given back first
    and collected if it has been dropped since (a service's reloaded policies), so repeated
    calls keep nothing for good that is garbage at the time of the call."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()
