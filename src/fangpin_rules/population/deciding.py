"""What every county report starts from: a period, and the households of a file decided by the
engine on the period's last day, each beside its record, its cases and its region.

Nothing here re-implements a rule: a household is decided by `Policy.decide_record` (the
path of `fangpin eval`), with its region's parameters when a region table is given. A record
the engine rejects is handed to `on_reject` with its line, id and every problem, and counted;
it is in no figure.
"""

from __future__ import annotations

import calendar
import functools
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import IO, Any

import msgspec

from fangpin_rules.engine.policy import Policy
from fangpin_rules.engine.records import RecordError, Rejection, read_records
from fangpin_rules.engine.regions import AnyPolicy, RegionalPolicy, base_of
from fangpin_rules.engine.repeats import RepeatScreen
from fangpin_rules.engine.stream import (
    COLUMNAR_CHUNK,
    NumberedRecords,
    OneDecisionPerId,
    items_of,
    numbering_of,
    read_item,
)
from fangpin_rules.engine.typed_json import typed_reader

_MONTH = re.compile(r"(\d{4})-(\d{2})")
_QUARTER = re.compile(r"(\d{4})Q([1-4])")


class PeriodError(ValueError):
    """A period that is not `YYYY-MM` or `YYYYQn`."""


@dataclass(frozen=True)
class Period:
    label: str  # 2021-11 or 2021Q4
    first: date
    last: date

    def holds(self, day: date | None) -> bool:
        return day is not None and self.first <= day <= self.last


def month(text: str) -> Period:
    found = _MONTH.fullmatch(text)
    if not found or not 1 <= int(found.group(2)) <= 12:
        raise PeriodError(f"'{text}' is not a month: write YYYY-MM, e.g. 2021-11")
    year, number = int(found.group(1)), int(found.group(2))
    return Period(text, date(year, number, 1),
                  date(year, number, calendar.monthrange(year, number)[1]))


def quarter(text: str) -> Period:
    found = _QUARTER.fullmatch(text)
    if not found:
        raise PeriodError(f"'{text}' is not a quarter: write YYYYQn, e.g. 2021Q4")
    year, number = int(found.group(1)), int(found.group(2))
    last_month = 3 * number
    return Period(text, date(year, last_month - 2, 1),
                  date(year, last_month, calendar.monthrange(year, last_month)[1]))


def as_date(value: Any) -> date | None:
    """A date of a record or a decision (a `date`, or its ISO text in a decision dict)."""
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


@dataclass(frozen=True)
class Decided:
    """One household of the period: its record (as the engine read it), the decision on the
    period's last day and its cases."""

    household: Any
    decision: dict[str, Any]
    cases: list[Any]
    item: Any  # the line (or value) it was read from, to re-decide it with another status

    @property
    def region_code(self) -> str | None:
        code = getattr(self.household, "region_code", None)
        return code if isinstance(code, str) else None


@dataclass
class Counts:
    """Households read, decided and rejected: they always add up."""

    read: int = 0
    decided: int = 0
    rejected: int = 0
    cases_used: int = 0  # cases of the households decided (the others' are in no figure)


RejectHandler = Callable[[Rejection], None]


ENGINES = ("record", "columnar")


HouseholdSource = IO[str] | NumberedRecords  # JSON lines, or a Parquet file's rows read


def decide_households(policy: AnyPolicy, source: HouseholdSource, as_of: date, *,
                      cases: Mapping[str, list[Any]] | None = None,
                      on_reject: RejectHandler, counts: Counts | None = None,
                      engine: str = "record", screen: RepeatScreen | None = None
                      ) -> Iterator[Decided]:
    """Decide each household of `source` (JSON lines, a JSON array or one object, or the
    households of a Parquet file read as `NumberedRecords`) on `as_of`, lazily, in input
    order; a rejected record goes to `on_reject` (a second record with the same id too).
    `engine="columnar"` decides `COLUMNAR_CHUNK` households at a time in columns (docs/
    columnar.md): the same decisions and rejections in the same order; a policy it cannot
    express raises ColumnarUnsupported before any record is read (under a region table each
    household is decided with its region's parameters in columns too). `screen`: the ids of
    `source` that may repeat (`engine.repeats`), the only ones held to find a second record of
    a household."""
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, not {engine!r}")
    if engine == "columnar":
        yield from _decide_in_columns(policy, source, as_of, cases, on_reject,
                                      counts if counts is not None else Counts(), screen)
        return
    base = base_of(policy)
    regional = policy if isinstance(policy, RegionalPolicy) else None
    reader = typed_reader(base.checked.record_model)
    fast = base.evaluator(as_of) if regional is None else None  # (as ChunkDecider's)
    one_per_id = OneDecisionPerId(base.checked.record_id, numbering_of(source), screen)
    tally = counts if counts is not None else Counts()
    own_cases = cases or {}
    for number, item in items_of(source):
        tally.read += 1
        try:
            household = read_item(base, reader, number, item)
            duplicate = one_per_id.duplicate_of(household.household_id, number)
            if duplicate is not None:
                raise RecordError(duplicate)
            own = own_cases.get(household.household_id, [])
            deciding = regional.policy_for(household, number) if regional else base
            evaluator = deciding.evaluator(as_of) if regional else fast
            assert evaluator is not None
            decision = deciding.decide_record(evaluator, household, as_of, number, own)
            one_per_id.note(household.household_id, number)
        except RecordError as exc:
            rejection = exc.rejection
            on_reject(rejection if rejection.line is not None else rejection.at_line(number))
            tally.rejected += 1
            continue
        tally.decided += 1
        tally.cases_used += len(own)
        yield Decided(household, decision, own, item)


def _decide_in_columns(policy: AnyPolicy, source: HouseholdSource, as_of: date,
                       cases: Mapping[str, list[Any]] | None, on_reject: RejectHandler,
                       tally: Counts, screen: RepeatScreen | None = None
                       ) -> Iterator[Decided]:
    """`decide_households` of the record engine, chunk by chunk in columns."""
    from fangpin_rules.columnar.engine import columnar_plan, decide_records
    from fangpin_rules.engine.stream import chunks

    base = base_of(policy)
    columnar_plan(policy, as_of)  # refused before any record
    own_cases = cases or {}
    reader = typed_reader(base.checked.record_model)
    one_per_id = OneDecisionPerId(base.checked.record_id, numbering_of(source), screen)
    for chunk in chunks(items_of(source), COLUMNAR_CHUNK):
        read, good = _read_part(base, reader, chunk)
        decisions = iter(decide_records(policy, [h for _, h in good], as_of,
                                        [number for number, _ in good], cases=own_cases))
        for (number, item), household in zip(chunk, read, strict=True):
            tally.read += 1
            try:
                if isinstance(household, RecordError):
                    raise household
                decision = next(decisions)
                duplicate = one_per_id.duplicate_of(household.household_id, number)
                if duplicate is not None:
                    raise RecordError(duplicate)
                if isinstance(decision, RecordError):
                    raise decision
                one_per_id.note(household.household_id, number)
            except RecordError as exc:
                rejection = exc.rejection
                on_reject(rejection if rejection.line is not None else rejection.at_line(number))
                tally.rejected += 1
                continue
            own = own_cases.get(household.household_id, [])
            tally.decided += 1
            tally.cases_used += len(own)
            yield Decided(household, decision, own, item)


Thunk = Callable[[], Any]


def read_and_decided(policy: AnyPolicy, reader: Any, fast: Any,
                     items: Iterable[tuple[int, Any]],
                     last_day: date, engine: str = "record", *, chunk: int = COLUMNAR_CHUNK,
                     variant: Callable[[Any], Any] | None = None, decide: bool = True,
                     keys: Sequence[str] | None = None,
                     ) -> Iterator[tuple[int, Any, Thunk, Thunk | None]]:
    """Each item of a month's file (`items_of`): its line (or row), the record read (or the
    RecordError of its reading, to raise with `given`), how to decide it on `last_day`, and how
    to decide `variant(record)` when that is not None (a record changed to ask something
    else of it); each call returns the record path's decision or raises its RecordError. The
    record engine decides when asked, one record at a time; the columnar engine decides a
    chunk of `chunk` items at a time in columns (each chunk's variants too), before handing
    its first item on. `decide=False`: only the variants are decided in columns (the caller
    has the decisions already; one asked for all the same is decided on the record path).
    `keys`: the decision keys the caller reads (the columnar engine builds only those).
    Under a region table (a RegionalPolicy; `fast` is not used) each record is decided with
    its region's parameters, and one of no region in it is a RecordError of its reading naming
    `region_code`, with either engine."""
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, not {engine!r}")
    regional = policy if isinstance(policy, RegionalPolicy) else None
    base = base_of(policy)
    if engine != "columnar":
        for line, item in items:
            try:
                record = read_item(base, reader, line, item)
                own = regional.policy_for(record, line) if regional else base
            except RecordError as exc:
                yield line, exc, functools.partial(given, exc), None
                continue
            evaluator = own.evaluator(last_day) if regional else fast
            changed = None if variant is None else variant(record)
            yield (line, record,
                   functools.partial(own.decide_record, evaluator, record, last_day, line),
                   None if changed is None else
                   functools.partial(own.decide_record, evaluator, changed, last_day, line))
        return
    from fangpin_rules.columnar.engine import columnar_plan, decide_records
    from fangpin_rules.engine.stream import chunks

    columnar_plan(policy, last_day)
    for part in chunks(items, chunk):
        results, good = _read_part(base, reader, part)
        if regional is not None:  # as on the record path: rejected as it is read
            results = [_in_region(regional, record, line)
                       for (line, _), record in zip(part, results, strict=True)]
            good = [(line, r) for (line, _), r in zip(part, results, strict=True)
                    if not isinstance(r, RecordError)]
        decisions = iter(decide_records(policy, [r for _, r in good], last_day,
                                        [line for line, _ in good], keys)) if decide else None
        changed = [None if variant is None else variant(r) for _, r in good]
        asked = [(line, c) for (line, _), c in zip(good, changed, strict=True) if c is not None]
        variants = iter(decide_records(policy, [c for _, c in asked], last_day,
                                       [line for line, _ in asked], keys))
        others = iter(changed)
        for (line, _), record in zip(part, results, strict=True):
            if isinstance(record, RecordError):
                yield line, record, functools.partial(given, record), None
                continue
            if decisions is not None:
                deciding = functools.partial(given, next(decisions))
            else:  # its region's policy only where the record path decides it
                own = regional.policy_for(record) if regional else base
                deciding = functools.partial(own.decide_record, own.evaluator(last_day)
                                             if regional else fast, record, last_day, line)
            yield (line, record, deciding,
                   None if next(others) is None else functools.partial(given, next(variants)))


def _read_part(policy: Policy, reader: Any, part: Sequence[tuple[int, Any]]
               ) -> tuple[list[Any], list[tuple[int, Any]]]:
    """A chunk of numbered items read for the columnar engine: each record read (or the
    RecordError of its reading), and the (line, record) of those read, to decide together."""
    read: list[Any] = []
    for line, item in part:
        try:
            read.append(read_item(policy, reader, line, item))
        except RecordError as exc:
            read.append(exc)
    good = [(line, record) for (line, _), record in zip(part, read, strict=True)
            if not isinstance(record, RecordError)]
    return read, good


def _in_region(regional: RegionalPolicy, record: Any, line: int) -> Any:
    """The record read, or the RecordError of a record the region table has no region for."""
    if isinstance(record, RecordError):
        return record
    try:
        regional.policy_for(record, line)
    except RecordError as exc:
        return exc
    return record


def given(value: Any) -> Any:
    """A value read or decided already, or the RecordError raised instead."""
    if isinstance(value, RecordError):
        raise value
    return value


def read_decisions(source: IO[str], on_reject: RejectHandler) -> dict[str, dict[str, Any]]:
    """The decisions of a file `fangpin eval` wrote, by household id (held in memory: a report
    pairs each with its household). A line that is not a decision object goes to `on_reject`."""
    out: dict[str, dict[str, Any]] = {}
    for number, item in read_records(source):
        if isinstance(item, RecordError):
            on_reject(item.rejection.at_line(number))
            continue
        household_id = item.get("household_id") if isinstance(item, dict) else None
        if not isinstance(household_id, str) or not isinstance(item.get("as_of"), str):
            on_reject(Rejection(number, None, "household_id",
                                "not a decision: a decision has household_id and as_of"))
            continue
        if household_id in out:
            on_reject(Rejection(number, household_id, "household_id",
                                "a second decision for this household; the first is used"))
            continue
        out[household_id] = item
    return out


def paired_with_decisions(policy: AnyPolicy, source: HouseholdSource, as_of: date,
                          decisions: Mapping[str, dict[str, Any]], *,
                          cases: Mapping[str, list[Any]] | None = None,
                          on_reject: RejectHandler, counts: Counts | None = None,
                          screen: RepeatScreen | None = None) -> Iterator[Decided]:
    """Each household of `source` beside its decision from `decisions` (decided already, by
    `fangpin eval --as-of` the period's last day) instead of deciding it again. A household
    without a decision, or whose decision is of another date or policy, is rejected, saying
    which."""
    base = base_of(policy)
    regional = policy if isinstance(policy, RegionalPolicy) else None
    reader = typed_reader(base.checked.record_model)
    one_per_id = OneDecisionPerId(base.checked.record_id, numbering_of(source), screen)
    tally = counts if counts is not None else Counts()
    own_cases = cases or {}
    for number, item in items_of(source):
        tally.read += 1
        try:
            household = read_item(base, reader, number, item)
            household_id = household.household_id
            duplicate = one_per_id.duplicate_of(household_id, number)
            if duplicate is not None:
                raise RecordError(duplicate)
            region = regional.policy_for(household, number) if regional else None
            decision = decisions.get(household_id)
            problem = _decision_problem(decision, base, as_of, region, regional)
            if problem is not None:
                raise RecordError(Rejection(number, household_id, *problem))
            one_per_id.note(household_id, number)
        except RecordError as exc:
            rejection = exc.rejection
            on_reject(rejection if rejection.line is not None else rejection.at_line(number))
            tally.rejected += 1
            continue
        assert decision is not None
        own = own_cases.get(household_id, [])
        tally.decided += 1
        tally.cases_used += len(own)
        yield Decided(household, decision, own, item)


def _decision_problem(decision: dict[str, Any] | None, base: Policy, as_of: date,
                      region: Policy | None = None, regional: RegionalPolicy | None = None,
                      ) -> tuple[str, str] | None:
    """Why `decision` cannot stand for the household's decision on `as_of`, or None. Under a
    region table (`regional`, the household's `region` policy) it must be of that region's
    parameters: each region's policy reference has its own sha256 (of the policy, the table
    and the region), so a decision made without the table, or with another, is refused."""
    if decision is None:
        return "household_id", "no decision for this household in the decisions file"
    if decision.get("as_of") != as_of.isoformat():
        return "as_of", (f"its decision is of {decision.get('as_of')}, not of the period's "
                         f"last day {as_of.isoformat()}: decide the households on that day")
    policy_ref = decision.get("policy")
    if not isinstance(policy_ref, dict) or policy_ref.get("id") != base.id:
        return "policy", f"its decision is not of the policy {base.id}"
    if region is not None and regional is not None and \
            policy_ref.get("sha256") != region.sha256:
        return "policy", (f"its decision is not of its region's parameters in the region "
                          f"table {regional.path}: decide the households with `fangpin eval "
                          "--regions` and that table")
    return None


def decided_as_monitored(policy: AnyPolicy, decided: Decided, as_of: date) -> dict[str, Any]:
    """The engine's decision on a household as if it were still monitored: whether its risk
    could have been marked eliminated (§9) is asked of a household being monitored."""
    household = as_monitored(decided.household)
    deciding = policy.policy_for(household) if isinstance(policy, RegionalPolicy) \
        else base_of(policy)
    return deciding.decide_record(deciding.evaluator(as_of), household, as_of, None,
                                  decided.cases)


def as_monitored(record: Any) -> Any:
    """The record with its status `monitored` (the typed reader's struct or the model's):
    whether the household could have been marked eliminated is decided of the household it
    was before the marking."""
    if isinstance(record, msgspec.Struct):
        monitoring = msgspec.structs.replace(getattr(record, "monitoring"),  # noqa: B009
                                             status="monitored")
        return msgspec.structs.replace(record, monitoring=monitoring)
    return record.model_copy(update={
        "monitoring": record.monitoring.model_copy(update={"status": "monitored"})})
