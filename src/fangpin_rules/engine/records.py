"""Read household records from JSONL or a JSON array; a bad record becomes a `Rejection`
(line, household id, field, reason) and the rest of the batch goes on."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import IO, Any, NamedTuple

import msgspec
from pydantic import BaseModel, ValidationError

from fangpin_rules.engine.typed_json import typed_reader
from fangpin_rules.limits import MAX_PROBLEMS_LISTED, echo
from fangpin_rules.model import Household

BOM = "\ufeff"


class Problem(NamedTuple):
    """One thing wrong with a record: the field (a dotted path) and what is wrong. A pair, so
    that `for field, reason in rejection.problems` reads it; made by `problem()`, which cuts
    the field a record spells to a bounded length."""

    field: str | None
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"field": self.field, "reason": self.reason}


def problem(field: str | None, reason: str) -> Problem:
    return Problem(None if field is None else echo(field), reason)


@dataclass(frozen=True, slots=True)
class Rejection:
    """A record that could not be decided, and why: `field` and `reason` are its first
    problem, `problems` all of them when there are several, so that one pass finds every
    correction. The id and field a record spells are echoed cut to a bounded length
    (limits.ECHO_MAX_CHARS). A rejected case record names its `case_id` too."""

    line: int | None
    household_id: str | None
    field: str | None
    reason: str
    problems: tuple[Problem, ...] = ()
    case_id: str | None = None

    def __post_init__(self) -> None:
        if self.household_id is not None:
            object.__setattr__(self, "household_id", echo(self.household_id))
        if self.field is not None:
            object.__setattr__(self, "field", echo(self.field))
        if self.case_id is not None:
            object.__setattr__(self, "case_id", echo(self.case_id))
        if any(type(p) is not Problem for p in self.problems):
            object.__setattr__(self, "problems", tuple(
                p if type(p) is Problem else problem(*p) for p in self.problems))

    def at_line(self, line: int) -> Rejection:
        return Rejection(line, self.household_id, self.field, self.reason, self.problems,
                         self.case_id)

    def to_json(self, numbered_by: str = "line") -> dict[str, Any]:
        """`numbered_by`: the key of the record's number ("row" for a Parquet file's)."""
        out: dict[str, Any] = {numbered_by: self.line, "household_id": self.household_id,
                               "field": self.field, "reason": self.reason}
        if self.case_id is not None:
            out["case_id"] = self.case_id
        if len(self.problems) > 1:
            out["problems"] = [p.to_json() for p in self.problems]
        return out


def rejection_of(line: int | None, household_id: str | None,
                 problems: list[tuple[str | None, str]], case_id: str | None = None
                 ) -> Rejection:
    """The rejection of a record with these problems (at least one)."""
    listed = [problem(field, reason) for field, reason in problems[:MAX_PROBLEMS_LISTED]]
    if len(problems) > MAX_PROBLEMS_LISTED:
        listed.append(Problem(None, f"and {len(problems) - MAX_PROBLEMS_LISTED} more "
                              "problem(s)"))
    field, reason = listed[0]
    if len(problems) > 1:
        reason += f" (and {len(problems) - 1} more problem(s): see problems)"
    return Rejection(line, household_id, field, reason, tuple(listed), case_id)


def household_problems(household: Any) -> list[tuple[str | None, str]]:
    """What makes a validated household undecidable beyond its fields' own types: two
    members with one `member_id` would double the household's size (records.md)."""
    members = getattr(household, "members", None)
    if not members or len(members) < 2:
        return []
    first: dict[str, int] = {}
    problems: list[tuple[str | None, str]] = []
    for index, member in enumerate(members):
        member_id = getattr(member, "member_id", None)
        if member_id is None:
            continue
        if member_id in first:  # positions only: a member id may be personal data
            problems.append((f"members.{index}.member_id",
                             f"the same member_id as members.{first[member_id]}: one member "
                             "recorded twice would double the household's size"))
        else:
            first[member_id] = index
    return problems


# The procedure's order (§7, §8): (field, earlier field it may not come before, what it means).
CASE_ORDER = (
    ("assigned_on", "received_on", "assigned before the warning was received"),
    ("preliminary_review_on", "assigned_on", "reviewed before it was assigned"),
    ("verified_on", "preliminary_review_on", "verified before the preliminary review"),
)


def case_problems(case: Any, household_id: str | None = None
                  ) -> list[tuple[str | None, str]]:
    """Every way a validated case contradicts the procedure's order, or names another
    household than `household_id` (when given)."""
    problems: list[tuple[str | None, str]] = []
    if household_id is not None and case.household_id != household_id:
        problems.append(("household_id", "the case names another household than the one it "
                         "was given with"))
    for field, before, meaning in CASE_ORDER:
        later, earlier = getattr(case, field), getattr(case, before)
        if later is not None and earlier is not None and later < earlier:
            problems.append((field, f"{meaning} ({field} {later.isoformat()} < {before} "
                             f"{earlier.isoformat()})"))
    identification: list[Any] = []
    for index, notice in enumerate(case.publicity):
        if notice.end is not None and notice.end < notice.start:
            problems.append((f"publicity.{index}.end", f"the notice ends before it starts "
                             f"({notice.end.isoformat()} < {notice.start.isoformat()})"))
        if notice.purpose == "identification":
            identification.append(notice.start)
    if case.confirmed_on is not None and identification and \
            case.confirmed_on < min(identification):
        problems.append(("confirmed_on", "confirmed before the identification notice started "
                         f"({case.confirmed_on.isoformat()} < {min(identification).isoformat()})"))
    return problems


def checked_case(data: Any, line: int | None = None, household_id: str | None = None) -> Any:
    """A case record validated against the contract and the procedure's order; RecordError
    (with the case id and every problem) otherwise.

    A case given as a plain dict is read by the typed reader when it takes it (about a fifth
    of the cost of pydantic's model, which a batch of a million households with their cases
    feels); the result is then the reader's record of a `Case`, with the same fields and
    values. What the reader does not take, pydantic reads or words the rejection of."""
    case = read_case(data, line)
    problems = case_problems(case, household_id)
    if problems:
        raise RecordError(rejection_of(line, household_id or case.household_id, problems,
                                       case.case_id))
    return case


def read_case(data: Any, line: int | None = None) -> Any:
    """A case record validated against the contract (not yet against the procedure's order:
    `checked_case`); RecordError otherwise."""
    from fangpin_rules.model import Case

    case = None
    if type(data) is dict:  # not a record already, nor a marked object (read_records)
        reader = typed_reader(Case)
        case = reader.convert(data) if reader is not None else None
    if case is None:
        case = validate(data, line, model=Case, id_field="household_id")
    try:  # a text Arrow and JSON cannot write (msgspec finds it in C: 0.3 us a case)
        _TEXTS.encode(case if isinstance(case, msgspec.Struct) else case.model_dump())
    except UnicodeEncodeError:
        refuse_unencodable(case, line, getattr(case, "case_id", None))
    return case


_TEXTS = msgspec.json.Encoder()
UNENCODABLE = ("holds a lone surrogate, which is not Unicode text (bytes decoded with "
               "errors='surrogateescape'?): read the source as UTF-8")


def unencodable_field(value: Any, path: str = "") -> str | None:
    """The dotted path of the first text in `value` (a record, a model, a dict or a list) that
    UTF-8 cannot write, or None: a lone surrogate, which Python strings may hold and Arrow and
    JSON refuse."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return path or None
        return None
    if isinstance(value, BaseModel):
        items: Iterable[tuple[Any, Any]] = ((name, getattr(value, name))
                                            for name in type(value).model_fields)
    elif isinstance(value, msgspec.Struct):
        items = ((name, getattr(value, name)) for name in value.__struct_fields__)
    elif isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list | tuple):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        found = unencodable_field(item, f"{path}.{key}" if path else str(key))
        if found is not None:
            return found
    return None


def refuse_unencodable(record: Any, line: int | None, case_id: Any = None) -> None:
    """RecordError naming the first text of `record` that UTF-8 cannot write (the ids it
    repeats written with the surrogate escaped); nothing when there is none."""
    field = unencodable_field(record)
    if field is None:
        return
    household_id = record.get("household_id") if isinstance(record, dict) else \
        getattr(record, "household_id", None)
    raise RecordError(rejection_of(line, _escaped(household_id), [(field, UNENCODABLE)],
                                   _escaped(case_id)))


def _escaped(text: Any) -> str | None:
    """An id as a rejection may repeat it: a lone surrogate written as its escape."""
    if not isinstance(text, str):
        return None
    return echo(text.encode("utf-8", "backslashreplace").decode("utf-8"))


def checked_cases(cases: Mapping[str, Iterable[Any]] | None) -> dict[str, list[Any]]:
    """Each household's cases (by household id) checked by `checked_case`, a bad one raising
    RecordError before any household is decided (`decide_batch`, either engine)."""
    return {household: [checked_case(case, household_id=household) for case in listed]
            for household, listed in (cases or {}).items()}


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
        problems = [_problem(error) for error in exc.errors(include_url=False)]
        case_id = data.get("case_id") if model.__name__ == "Case" else None
        raise RecordError(rejection_of(line, household_id, problems,
                                       case_id if isinstance(case_id, str) else None)) from None


def _problem(error: Any) -> tuple[str | None, str]:
    field = ".".join(str(p) for p in error["loc"]) or None
    reason = error["msg"]
    if error["type"] == "extra_forbidden":
        reason = "unknown field (not in the data contract)"
    elif error["type"] == "missing":
        reason = "required field is missing"
    elif error["type"] == "value_error":
        reason = reason.removeprefix("Value error, ")
    return field, reason


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
