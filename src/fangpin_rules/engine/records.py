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
from fangpin_rules.limits import MAX_PROBLEMS_LISTED, echo
from fangpin_rules.model import Household

BOM = "\ufeff"


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a record: the field (a dotted path) and what is wrong."""

    field: str | None
    reason: str

    def __post_init__(self) -> None:
        if self.field is not None:
            object.__setattr__(self, "field", echo(self.field))

    def to_json(self) -> dict[str, Any]:
        return {"field": self.field, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class Rejection:
    """A record that could not be decided, and why: `field` and `reason` are its first
    problem, `problems` all of them when there are several. The id and field a record spells
    are echoed cut to a bounded length (limits.ECHO_MAX_CHARS)."""

    line: int | None
    household_id: str | None
    field: str | None
    reason: str
    problems: tuple[Problem, ...] = ()

    def __post_init__(self) -> None:
        if self.household_id is not None:
            object.__setattr__(self, "household_id", echo(self.household_id))
        if self.field is not None:
            object.__setattr__(self, "field", echo(self.field))

    def at_line(self, line: int) -> Rejection:
        return Rejection(line, self.household_id, self.field, self.reason, self.problems)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"line": self.line, "household_id": self.household_id,
                               "field": self.field, "reason": self.reason}
        if len(self.problems) > 1:
            out["problems"] = [problem.to_json() for problem in self.problems]
        return out


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


class DuplicateKey(ValueError):
    """An object of the JSON text gives a key twice (JSON leaves open which one counts)."""

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(f"the key '{echo(key)}' is given twice in one object")


def _duplicate(pairs: list[tuple[str, Any]]) -> str:
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            return key
        seen.add(key)
    raise AssertionError("no key is given twice")  # pragma: no cover - called on a duplicate


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise DuplicateKey(_duplicate(pairs))
    return obj


class _Duplicated(dict[str, Any]):
    """An object of a JSON array that gives `key` twice: its record is rejected, the others
    are read."""

    key: str


def _marked_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        marked = _Duplicated(obj)
        marked.key = _duplicate(pairs)
        return marked
    return obj


def _duplicate_inside(value: Any) -> str | None:
    """The key given twice in some object of `value`, or None."""
    if isinstance(value, _Duplicated):
        return value.key
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) \
        else ()
    for item in items:
        if isinstance(item, dict | list) and (key := _duplicate_inside(item)) is not None:
            return key
    return None


# made once: json.loads(...) makes one a call
_decoder = json.JSONDecoder(parse_float=Decimal, object_pairs_hook=_object)
_array_decoder = json.JSONDecoder(parse_float=Decimal, object_pairs_hook=_marked_object)


def parse_json(text: str | bytes, decoder: json.JSONDecoder = _decoder) -> Any:
    """JSON with every number that has a fraction or exponent read as an exact Decimal.

    Input files are read with `surrogateescape`, so that one line of bytes that are not UTF-8
    cannot stop a batch: such a line is refused here (ValueError), never passed on altered."""
    if isinstance(text, bytes | bytearray):
        text = text.decode("utf-8-sig")
    elif not text.isascii():
        text = text.removeprefix(BOM)
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("the line is not valid UTF-8") from None
    try:
        return decoder.decode(text)
    except RecursionError:  # a hostile line of [[[[…]]]]: a bad record, not a crash
        raise ValueError("the JSON is nested too deeply") from None


def validate(data: Any, line: int | None = None, model: type[BaseModel] = Household,
             id_field: str | None = "household_id") -> Any:
    """A contract record (or one of a policy's declared schema) from parsed JSON, or
    RecordError naming the record's id and every bad field. A record validated already
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
        errors = exc.errors(include_url=False)
        problems = [_problem(error) for error in errors[:MAX_PROBLEMS_LISTED]]
        if len(errors) > MAX_PROBLEMS_LISTED:
            problems.append(Problem(None, f"and {len(errors) - MAX_PROBLEMS_LISTED} more "
                                    "problem(s)"))
        first = problems[0]
        reason = first.reason
        if len(problems) > 1:
            reason += f" (and {len(errors) - 1} more problem(s): see problems)"
        raise RecordError(Rejection(line, household_id, first.field, reason,
                                    tuple(problems))) from None


def _problem(error: Any) -> Problem:
    field = ".".join(str(p) for p in error["loc"]) or None
    reason = error["msg"]
    if error["type"] == "extra_forbidden":
        reason = "unknown field (not in the data contract)"
    elif error["type"] == "missing":
        reason = "required field is missing"
    elif error["type"] == "value_error":
        reason = reason.removeprefix("Value error, ")
    return Problem(field, reason)


def _household_id(data: Any, id_field: str | None = "household_id") -> str | None:
    if isinstance(data, dict) and id_field is not None:
        value = data.get(id_field)
        if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
            if isinstance(value, str):
                return echo(value)
            try:
                return echo(str(value))
            except ValueError:  # an integer beyond Python's digit limit for text
                return "(a number too long to repeat)"
    return None


def read_records(stream: IO[str]) -> Iterator[tuple[int, Any]]:
    """Yield (line number, parsed JSON or RecordError) from JSONL, or from one JSON array.

    JSONL streams line by line in constant memory; a JSON array is read whole. A text that
    starts with `[` but is not one JSON array is read as JSONL after all, so that its lines are
    each decided or rejected and none is lost with the first.
    """
    lines: Iterable[str] = stream
    if _peek_first_char(stream) == "[":
        text = stream.read().removeprefix(BOM)
        try:
            items = parse_json(text, _array_decoder)
        except ValueError:
            items = None
        if isinstance(items, list):
            for number, item in enumerate(items, start=1):
                key = _duplicate_inside(item)
                if key is None:
                    yield number, item
                else:
                    yield number, RecordError(Rejection(number, _household_id(item), key,
                                                        str(DuplicateKey(key))))
            return
        lines = text.split("\n")  # only a newline ends a line: not CR, not U+2028
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
    except DuplicateKey as exc:
        raise RecordError(Rejection(number, None, exc.key, str(exc))) from None
    except ValueError as exc:
        raise RecordError(Rejection(number, None, None,
                                    f"not valid JSON: {_short(exc)}")) from None



def _peek_first_char(stream: IO[str]) -> str:
    """The first non-blank character, leaving the stream where it was when possible."""
    if stream.seekable():
        position = stream.tell()
        while True:
            ch = stream.read(1)
            if not ch or not (ch.isspace() or ch == BOM):
                break
        stream.seek(position)
        return ch
    buffered = getattr(stream, "buffer", None)
    if buffered is not None and hasattr(buffered, "peek"):
        head: bytes = buffered.peek(64)
        return head.decode("utf-8", "replace").lstrip().removeprefix(BOM).lstrip()[:1]
    return ""


def _short(exc: Exception) -> str:
    text = str(exc)
    return text if len(text) < 200 else text[:200] + "…"
