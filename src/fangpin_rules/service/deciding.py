"""From a request's JSON to the engine's answers: reading the envelope, choosing the policy,
deciding one household or a batch, and writing the answers as JSON.

Numbers are read as exact decimals from the JSON text (`engine.records.parse_json`, and the
typed reader for NDJSON lines) and decisions written as exact JSON numbers by the policy's
`DecisionWriter`: money never passes through a binary float. Nothing here knows a decision's
fields: they are the engine's.
"""

from __future__ import annotations

import time
import uuid
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import msgspec

from fangpin_rules.engine import Policy, RecordError
from fangpin_rules.engine.policy import DateError, parse_date
from fangpin_rules.engine.records import Rejection, parse_json, parse_line, validate
from fangpin_rules.engine.serialize import DecisionWriter, decision_writer, dumps
from fangpin_rules.engine.stream import read_item
from fangpin_rules.engine.typed_json import TypedReader, typed_reader
from fangpin_rules.model import Case
from fangpin_rules.service.decision_log import masked
from fangpin_rules.service.problems import Problem
from fangpin_rules.service.registry import Snapshot

DECIDE_KEYS = frozenset({"household", "households", "as_of", "cases", "policy"})
EXPLAIN_KEYS = frozenset({"household", "as_of", "cases", "policy", "lang"})
NO_POLICY = "none"  # the metrics' label of a reject no policy was chosen for
# the reason of a batch's household that no loaded policy's jurisdiction covers
NO_REGION_POLICY = "no loaded policy covers this household's region; name one with `policy`"


# Each policy's writer and reader, made once, for as long as the policy lives: a reload drops
# the policy it replaced, and its entries go with it (a cache of the last N policies kept up to
# N replaced ones, and each region of a region table is a policy of its own).
_writers: weakref.WeakKeyDictionary[Policy, DecisionWriter] = weakref.WeakKeyDictionary()
_readers: weakref.WeakKeyDictionary[Policy, TypedReader | None] = weakref.WeakKeyDictionary()


def writer_of(policy: Policy) -> DecisionWriter:
    writer = _writers.get(policy)
    if writer is None:
        writer = _writers[policy] = decision_writer(policy.checked)
    return writer


def reader_of(policy: Policy) -> TypedReader | None:
    if policy not in _readers:
        _readers[policy] = typed_reader(policy.checked.record_model)
    return _readers[policy]


def new_id() -> str:
    return str(uuid.uuid4())


class Deadline:
    """The per-request time limit, checked between households."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.ends = time.monotonic() + seconds if seconds > 0 else float("inf")

    def passed(self) -> bool:
        return time.monotonic() > self.ends

    def check(self) -> None:
        if self.passed():
            raise Problem("time-limit", f"the request took longer than {self.seconds:g} s; "
                          "send fewer households per request", limit_seconds=self.seconds)


@dataclass(frozen=True)
class Envelope:
    """A decide or explain request, its shape checked."""

    as_of: date
    policy_id: str | None
    cases: dict[str, list[Case]]  # by household id
    household: Any = None  # a single request's household (parsed JSON)
    households: list[Any] | None = None  # a batch's
    lang: str = "zh"


def parse_body(body: bytes) -> Any:
    try:
        return parse_json(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Problem("invalid-json", f"the body is not valid JSON: {exc}",
                      reason=str(exc)) from None


def read_envelope(data: Any, *, explain: bool = False, max_batch: int) -> Envelope:
    allowed = EXPLAIN_KEYS if explain else DECIDE_KEYS
    if not isinstance(data, dict):
        raise Problem("invalid-request", f"the body must be a JSON object, not "
                      f"{_json_kind(data)}", reason="expected an object")
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise Problem("invalid-request", f"unknown key '{unknown[0]}'; the keys are: "
                      + ", ".join(sorted(allowed)), field=unknown[0], reason="unknown key")
    as_of = _as_of(data.get("as_of"))
    policy_id = data.get("policy")
    if policy_id is not None and not isinstance(policy_id, str):
        raise Problem("invalid-request", "`policy` is a policy id (a string)", field="policy",
                      reason=f"expected a string, got {_json_kind(policy_id)}")
    cases = _cases(data.get("cases", []))
    lang = data.get("lang", "zh")
    if lang not in ("zh", "en"):
        raise Problem("invalid-request", "`lang` is 'zh' or 'en'", field="lang",
                      reason="expected 'zh' or 'en'")
    has_one, has_many = "household" in data, "households" in data
    if has_one == has_many:
        what = "`household` (one object)" + ("" if explain else " or `households` (an array)")
        raise Problem("invalid-request", f"give {what}", field="household",
                      reason="both given" if has_one else "missing")
    households = data.get("households")
    if has_many:
        if not isinstance(households, list):
            raise Problem("invalid-request", "`households` is an array of households",
                          field="households",
                          reason=f"expected an array, got {_json_kind(households)}")
        if len(households) > max_batch:
            raise Problem("batch-too-large", f"the batch holds {len(households)} households; "
                          f"the limit is {max_batch}", field="households", limit=max_batch)
    return Envelope(as_of, policy_id, cases, data.get("household"), households, lang)


def _as_of(value: Any) -> date:
    if value is None:
        raise Problem("invalid-request", "`as_of` (the evaluation date, YYYY-MM-DD) is required",
                      field="as_of", reason="required field is missing")
    if not isinstance(value, str):
        raise Problem("invalid-request", "`as_of` is a date, YYYY-MM-DD", field="as_of",
                      reason=f"expected a string, got {_json_kind(value)}")
    try:
        return parse_date(value)
    except DateError as exc:
        raise Problem("invalid-request", str(exc), field="as_of", reason="not a date") from None


def _cases(items: Any) -> dict[str, list[Case]]:
    if not isinstance(items, list):
        raise Problem("invalid-request", "`cases` is an array of case records", field="cases",
                      reason=f"expected an array, got {_json_kind(items)}")
    by_household: dict[str, list[Case]] = {}
    for index, item in enumerate(items):
        case = checked_case(item, f"cases[{index}]", f"case {index + 1}", index + 1)
        by_household.setdefault(case.household_id, []).append(case)
    return by_household


def checked_case(item: Any, path: str, label: str, line: int | None = None) -> Case:
    """One case record of a request, or the invalid-case Problem naming it (`label`, as the
    message says it) and each bad field (`path`, where the request holds it), the whole request
    refused: a case changes deadlines, so a batch is not decided without one it was given."""
    try:
        case: Case = validate(item, line, model=Case, id_field="case_id")
    except RecordError as exc:
        rejection = exc.rejection
        field = path + (f".{rejection.field}" if rejection.field else "")
        raise Problem("invalid-case", f"{label}: {rejection.reason}", field=field,
                      reason=rejection.reason, case_id=rejection.household_id,
                      **_listed(rejection, f"{path}.")) from None
    return case


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return "a number"


# -- choosing the policy ------------------------------------------------------------------------
def named_policy(snapshot: Snapshot, policy_id: str, as_of: date) -> Policy:
    policy = snapshot.policies.get(policy_id)
    if policy is None:
        loaded = ", ".join(sorted(snapshot.policies)) or "none"
        raise Problem("unknown-policy", f"no policy '{policy_id}' is loaded (loaded: {loaded})",
                      field="policy", reason="unknown policy id")
    _check_date(policy, as_of)
    return policy


def routed_policy(snapshot: Snapshot, household: Any) -> Policy:
    region = household.get("region_code") if isinstance(household, dict) else None
    policy = snapshot.route(region)
    if policy is None:
        detail = (f"no loaded policy's jurisdiction covers region {region}"
                  if isinstance(region, str) else
                  "the household has no region_code and more than one policy is loaded")
        raise Problem("no-policy", detail + "; name one with `policy`", field="region_code",
                      reason="no policy covers this region")
    return policy


def _check_date(policy: Policy, as_of: date) -> None:
    try:
        policy.evaluator(as_of)
    except DateError as exc:
        raise Problem("invalid-date", str(exc), field="as_of",
                      reason="the policy does not apply on this date") from None


# -- one household ------------------------------------------------------------------------------
def decide_one(snapshot: Snapshot, envelope: Envelope) -> tuple[Policy, dict[str, Any]]:
    """The policy and the decision of a single request, or a Problem."""
    household = envelope.household
    if envelope.policy_id is not None:
        policy = named_policy(snapshot, envelope.policy_id, envelope.as_of)
    else:
        policy = routed_policy(snapshot, household)
        _check_date(policy, envelope.as_of)
    record, policy = _record_and_policy(snapshot, policy, household, envelope.as_of)
    cases = envelope.cases.get(getattr(record, policy.checked.record_id or "", ""), [])
    try:
        decision = policy.decide_record(policy.evaluator(envelope.as_of), record,
                                        envelope.as_of, None, cases)
    except RecordError as exc:  # valid, but the policy cannot compute it (a division by 0)
        raise _household_problem("undecidable", exc.rejection, policy) from None
    return policy, decision


def explain_one(snapshot: Snapshot, envelope: Envelope) -> tuple[Policy, dict[str, Any]]:
    from fangpin_rules.explain import explain

    if envelope.policy_id is not None:
        policy = named_policy(snapshot, envelope.policy_id, envelope.as_of)
    else:
        policy = routed_policy(snapshot, envelope.household)
        _check_date(policy, envelope.as_of)
    record, policy = _record_and_policy(snapshot, policy, envelope.household, envelope.as_of)
    cases = envelope.cases.get(getattr(record, policy.checked.record_id or "", ""), [])
    try:
        account = explain(policy, record, envelope.as_of, lang=envelope.lang, cases=cases)
    except RecordError as exc:
        raise _household_problem("undecidable", exc.rejection, policy) from None
    return policy, account


def _record_and_policy(snapshot: Snapshot, policy: Policy, household: Any,
                       as_of: date) -> tuple[Any, Policy]:
    """The household read by `policy`'s contract, and the policy it is decided with (its
    region's when the policy has a region table)."""
    try:
        record = policy.validate(household)
        regional = snapshot.regional(policy, record)
    except RecordError as exc:
        raise _household_problem("invalid-household", exc.rejection, policy) from None
    if regional is not policy:
        _check_date(regional, as_of)
    return record, regional


def _household_problem(kind: str, rejection: Rejection, policy: Policy) -> Problem:
    field = f"household.{rejection.field}" if rejection.field else "household"
    problem = Problem(kind, rejection.reason, field=field, reason=rejection.reason,
                      household_id=rejection.household_id, **_listed(rejection, "household."))
    problem.policy_id = policy.id
    return problem


def _listed(rejection: Rejection, prefix: str) -> dict[str, Any]:
    """Every problem of a record with several (as a batch's reject lists them), each field
    named as the request spells its path, so that one answer finds every correction."""
    if len(rejection.problems) < 2:
        return {}
    return {"problems": [{"field": prefix + p.field if p.field else prefix.rstrip("."),
                          "reason": p.reason} for p in rejection.problems]}


_encode = msgspec.json.Encoder().encode


def encode_answer(answer: Any) -> bytes:
    """An answer holding decisions already written (`msgspec.Raw`) as JSON bytes: the
    decisions' bytes are put in as they are. A string msgspec cannot write (a lone surrogate a
    record spelt as an escape) is written back as that escape."""
    try:
        return _encode(answer)
    except (TypeError, UnicodeEncodeError):
        return dumps(_unraw(answer)).encode("utf-8", "backslashreplace")


def _unraw(value: Any) -> Any:
    if isinstance(value, msgspec.Raw):
        return parse_json(bytes(value).decode("utf-8", "surrogateescape"))
    if isinstance(value, dict):
        return {key: _unraw(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_unraw(item) for item in value]
    return value


# -- batches ------------------------------------------------------------------------------------
@dataclass
class Outcome:
    """One household of a batch: its decision (as JSON bytes) or its rejection."""

    line: int
    policy: Policy | None
    decision_id: str | None = None
    decision: bytes | None = None
    rejection: Rejection | None = None
    household: Any = None  # the input, for the decision log

    def to_json(self) -> dict[str, Any]:
        if self.rejection is not None:  # an error message: ID numbers in it masked
            rejection: dict[str, Any] = masked(self.rejection.to_json())
            return rejection
        assert self.policy is not None and self.decision is not None
        return {"line": self.line, "decision_id": self.decision_id, "policy": self.policy.ref,
                "decision": msgspec.Raw(self.decision)}


def decide_items(snapshot: Snapshot, as_of: date, policy_id: str | None,
                 cases: dict[str, list[Case]], items: Iterator[tuple[int, Any]],
                 batch_id: str, deadline: Deadline) -> Iterator[Outcome]:
    """Decide (line, item) pairs in order; an item is parsed JSON or an NDJSON line's text.
    A named policy is checked (id, date) before the first household, as a Problem."""
    named = named_policy(snapshot, policy_id, as_of) if policy_id is not None else None
    for line, item in items:
        deadline.check()
        policy = named
        try:
            if policy is None:
                value = parse_line(item, line) if isinstance(item, str) else item
                policy = snapshot.route(value.get("region_code")
                                        if isinstance(value, dict) else None)
                if policy is None:
                    raise RecordError(Rejection(line, _id_of(value), "region_code",
                                                NO_REGION_POLICY))
                item = value
            record = read_item(policy, reader_of(policy), line, item)
            policy = snapshot.regional(policy, record, line)
            try:
                fast = policy.evaluator(as_of)
            except DateError as exc:
                raise RecordError(Rejection(line, _id_of(item), "as_of", str(exc))) from None
            own = cases.get(getattr(record, policy.checked.record_id or "", ""), []) \
                if cases else []
            decision = policy.decide_record(fast, record, as_of, line, own)
        except RecordError as exc:
            rejection = exc.rejection
            if rejection.line is None:
                rejection = rejection.at_line(line)
            yield Outcome(line, policy, rejection=rejection)
            continue
        yield Outcome(line, policy, f"{batch_id}-{line}", writer_of(policy).encode(decision),
                      household=item)


def _id_of(value: Any) -> str | None:
    if isinstance(value, dict):
        found = value.get("household_id")
        if isinstance(found, str | int) and not isinstance(found, bool):
            return str(found)
    return None


def ndjson_items(body: bytes) -> list[tuple[int, str]]:
    """(line number, text) of each non-blank line; bytes that are not UTF-8 are kept as
    escapes so that their line alone is rejected."""
    text = body.decode("utf-8", "surrogateescape")
    if text.startswith("\ufeff"):
        text = text[1:]
    return [(number, line) for number, line in enumerate(text.splitlines(), start=1)
            if line and not line.isspace()]

