"""Read household records from JSONL or a JSON array; a bad record becomes a `Rejection`
(line, household id, field, reason) and the rest of the batch goes on."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import IO, Any

import msgspec
from pydantic import BaseModel, ValidationError

from fangpin_rules.engine.typed_json import typed_reader
from fangpin_rules.model import Household


@dataclass(frozen=True, slots=True)
class Rejection:
    """A record that could not be decided, and why."""

    line: int | None
    household_id: str | None
    field: str | None
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"line": self.line, "household_id": self.household_id, "field": self.field,
                "reason": self.reason}


class RecordError(ValueError):
    """A household record that fails the data contract (or that the policy cannot decide)."""

    def __init__(self, rejection: Rejection) -> None:
        self.rejection = rejection
        where = f" field '{rejection.field}'" if rejection.field else ""
        who = f"household {rejection.household_id}" if rejection.household_id else "record"
        super().__init__(f"{who}{where}: {rejection.reason}")

    def __reduce__(self) -> tuple[type[RecordError], tuple[Rejection]]:
        # Rebuilt from its rejection (plain data) when it crosses to a worker process; the
        # default would call __init__ with the message and fail in the worker.
        return RecordError, (self.rejection,)


_decoder = json.JSONDecoder(parse_float=Decimal)  # made once: json.loads(...) makes one a call


def parse_json(text: str | bytes) -> Any:
    """JSON with every number that has a fraction or exponent read as an exact Decimal.

    Input files are read with `surrogateescape`, so that one line of bytes that are not UTF-8
    cannot stop a batch: such a line is refused here (ValueError), never passed on altered."""
    if isinstance(text, bytes | bytearray):
        text = text.decode("utf-8-sig")
    elif not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("the line is not valid UTF-8") from None
    try:
        return _decoder.decode(text)
    except RecursionError:  # a hostile line of [[[[…]]]]: a bad record, not a crash
        raise ValueError("the JSON is nested too deeply") from None


def validate(data: Any, line: int | None = None, model: type[BaseModel] = Household,
             id_field: str | None = "household_id") -> Any:
    """A contract record (or one of a policy's declared schema) from parsed JSON, or
    RecordError naming the record's id and the first bad field. A record validated already
    (the model's, or the typed fast reader's for that model) is returned as it is."""
    if isinstance(data, model):
        return data
    if isinstance(data, msgspec.Struct):
        reader = typed_reader(model)
        if reader is not None and type(data) is reader.struct:
            return data
    household_id = _household_id(data, id_field)
    if not isinstance(data, dict):
        raise RecordError(Rejection(line, None, None,
                                    f"expected a JSON object, got {type(data).__name__}"))
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        field = ".".join(str(p) for p in first["loc"]) or None
        reason = first["msg"]
        if first["type"] == "extra_forbidden":
            reason = "unknown field (not in the data contract)"
        elif first["type"] == "missing":
            reason = "required field is missing"
        count = exc.error_count()
        if count > 1:
            reason += f" (and {count - 1} more problem(s))"
        raise RecordError(Rejection(line, household_id, field, reason)) from None


def _household_id(data: Any, id_field: str | None = "household_id") -> str | None:
    if isinstance(data, dict) and id_field is not None:
        value = data.get(id_field)
        if isinstance(value, str | int):
            return str(value)
    return None


def read_records(stream: IO[str]) -> Iterator[tuple[int, Any]]:
    """Yield (line number, parsed JSON or RecordError) from JSONL, or from one JSON array.

    JSONL streams line by line in constant memory; a JSON array is read whole. A text that
    starts with `[` but is not one JSON array is read as JSONL after all, so that its lines are
    each decided or rejected and none is lost with the first.
    """
    lines: Iterable[str] = stream
    if _peek_first_char(stream) == "[":
        text = stream.read()
        try:
            items = parse_json(text)
        except ValueError:
            items = None
        if isinstance(items, list):
            yield from enumerate(items, start=1)
            return
        lines = text.splitlines()
    for number, line in numbered_lines(lines):
        try:
            yield number, parse_line(line, number)
        except RecordError as exc:
            yield number, exc


# A single object is looked for within this much text: beyond it, the input is JSON lines
# whose first line is bad, and reading it whole would hold an unbounded input in memory.
SINGLE_OBJECT_LIMIT = 16 * 1024 * 1024


def numbered_lines(lines: Iterable[str]) -> Iterator[tuple[int, str]]:
    """(line number, text) of each non-blank JSONL line. An input whose first line opens an
    object that does not close on it, and which is as a whole one JSON object (one household
    formatted over several lines, as `examples/350181-0001.json`), is one record: (its first
    line, the whole text). Anything else is JSON lines, each decided or rejected on its own."""
    numbered = ((n, line) for n, line in enumerate(lines, start=1)
                if line and not line.isspace())
    first = next(numbered, None)
    if first is None:
        return
    if not first[1].lstrip().startswith("{") or _is_json(first[1]):
        yield first
        yield from numbered
        return
    held = [first]
    size = len(first[1])
    for item in numbered:
        held.append(item)
        size += len(item[1])
        if size > SINGLE_OBJECT_LIMIT:
            break
    else:
        text = "\n".join(line.rstrip("\r\n") for _, line in held)
        try:
            whole = parse_json(text)
        except ValueError:
            whole = None
        if isinstance(whole, dict):
            yield first[0], text
            return
    yield from held
    yield from numbered


def _is_json(line: str) -> bool:
    try:
        parse_json(line)
    except ValueError:
        return False
    return True


def parse_line(line: str, number: int | None) -> Any:
    """The value of one JSONL line, or RecordError saying why it is not JSON."""
    try:
        return parse_json(line)
    except ValueError as exc:
        raise RecordError(Rejection(number, None, None,
                                    f"not valid JSON: {_short(exc)}")) from None



def _peek_first_char(stream: IO[str]) -> str:
    """The first non-blank character, leaving the stream where it was when possible."""
    if stream.seekable():
        position = stream.tell()
        while True:
            ch = stream.read(1)
            if not ch or not ch.isspace():
                break
        stream.seek(position)
        return ch
    buffered = getattr(stream, "buffer", None)
    if buffered is not None and hasattr(buffered, "peek"):
        head: bytes = buffered.peek(64)
        return head.decode("utf-8", "replace").lstrip()[:1]
    return ""


def _short(exc: Exception) -> str:
    text = str(exc)
    return text if len(text) < 200 else text[:200] + "…"
