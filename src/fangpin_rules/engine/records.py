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
    """A record that could not be decided, and why: `field` and `reason` name its first
    problem, `problems` all of them (field, reason), so that one pass finds every correction.
    A rejected case record names its `case_id` too."""

    line: int | None
    household_id: str | None
    field: str | None
    reason: str
    problems: tuple[tuple[str | None, str], ...] = ()
    case_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"line": self.line, "household_id": self.household_id,
                               "field": self.field, "reason": self.reason}
        if self.case_id is not None:
            out["case_id"] = self.case_id
        if len(self.problems) > 1:
            out["problems"] = [{"field": f, "reason": r} for f, r in self.problems]
        return out


def rejection_of(line: int | None, household_id: str | None,
                 problems: list[tuple[str | None, str]], case_id: str | None = None
                 ) -> Rejection:
    """The rejection of a record with these problems (at least one)."""
    field, reason = problems[0]
    if len(problems) > 1:
        reason += f" (and {len(problems) - 1} more problem(s))"
    return Rejection(line, household_id, field, reason, tuple(problems), case_id)


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
_CASE_ORDER = (
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
    for field, before, meaning in _CASE_ORDER:
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
    (with the case id and every problem) otherwise."""
    from fangpin_rules.model import Case

    case = validate(data, line, model=Case, id_field="household_id")
    problems = case_problems(case, household_id)
    if problems:
        raise RecordError(rejection_of(line, household_id or case.household_id, problems,
                                       case.case_id))
    return case


class RecordError(ValueError):
    """A household record that fails the data contract (or that the policy cannot decide)."""

    def __init__(self, rejection: Rejection) -> None:
        self.rejection = rejection
        where = f" field '{rejection.field}'" if rejection.field else ""
        who = f"household {rejection.household_id}" if rejection.household_id else "record"
        super().__init__(f"{who}{where}: {rejection.reason}")


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
        problems: list[tuple[str | None, str]] = []
        for error in exc.errors(include_url=False):
            reason = error["msg"]
            if error["type"] == "extra_forbidden":
                reason = "unknown field (not in the data contract)"
            elif error["type"] == "missing":
                reason = "required field is missing"
            problems.append((".".join(str(p) for p in error["loc"]) or None, reason))
        case_id = data.get("case_id") if model.__name__ == "Case" else None
        raise RecordError(rejection_of(line, household_id, problems,
                                       case_id if isinstance(case_id, str) else None)) from None


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
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            yield number, parse_line(line, number)
        except RecordError as exc:
            yield number, exc


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
