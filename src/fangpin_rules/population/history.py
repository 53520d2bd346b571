"""A household's monitoring history from monthly snapshots (§8, §9, §11, §14).

Input: the household files of several months (one snapshot each, decided as of the month's last
day) and, optionally, the case records whose `visits` are the cadres' home visits. A month may
come with its earlier decision file (`fangpin eval --as-of` the month's last day, of the same
household file, so in the same order): the history then reads each household's decision from it
instead of deciding the household again; the household file is still read, for what a decision
does not carry (the recorded status, category, dibao enrolment and the grace period's start).
Only a household marked `risk_eliminated` that month is decided again, as the monitored
household it was (see `eliminated_not_eligible`). A decision of another day or policy, or one
without the values the history reads, rejects its household for that month, saying which; a
decision whose household is not in the month's file is rejected too. Output, per
household: a timeline of its recorded status and category, and the findings only a history
shows, each with its article:

- `eliminated_not_eligible` (§9): marked `risk_eliminated` in a month in which the engine finds
  the household (as the monitored household it was) not eligible for it;
- `eliminated_without_labour` (§9): marked eliminated with no member able to work (the document
  keeps such a household monitored);
- `dibao_grace_not_started` (§14): enrolled in dibao, income above the dibao standard in a month,
  and no `dibao.income_above_standard_on` within that month (or none at all later): the grace
  period should have started in the first month income was above the standard;
- `quarter_without_visit` (§11): a calendar quarter whose three months the household was
  monitored in, with no visit dated within it (a visit on the quarter's last day counts);
- `left_range_one_month` (§4): in the monitoring range, out of it the next month, in it again
  the month after.

Streaming: each monthly file must list its households in ascending order of `household_id`
(as a plain text comparison; `sort` with `LC_ALL=C`, or `jq -c -s 'sort_by(.household_id)[]'`).
The files are read side by side and merged by id, so that only one household's months are held
at a time: memory does not grow with the number of months or households (the cases, if given,
are held whole: they are few beside households). A file out of order is refused at the first
line out of order, naming its file and line; a record outside the contract is rejected with its
file, line, id and every problem, and that month counts as missing for its household.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import IO, Any

from fangpin_rules.calendar import Frequency, period_containing, quarters_between
from fangpin_rules.engine.policy import DateError
from fangpin_rules.engine.records import RecordError, Rejection, read_records
from fangpin_rules.engine.regions import AnyPolicy, RegionalPolicy, base_of
from fangpin_rules.engine.stream import COLUMNAR_CHUNK, items_of, numbering_of
from fangpin_rules.engine.typed_json import typed_reader
from fangpin_rules.population.deciding import (
    HouseholdSource,
    _decision_problem,
    as_monitored,
    given,
    read_and_decided,
)

__all__ = ["HistoryInputError", "MonthFile", "Observation", "history", "month_of"]

CITES = {"eliminated_not_eligible": "§9", "eliminated_without_labour": "§9",
         "dibao_grace_not_started": "§14", "quarter_without_visit": "§11",
         "left_range_one_month": "§4"}


class HistoryInputError(ValueError):
    """An input the history cannot be built from (a file out of order, months given twice)."""


@dataclass(frozen=True)
class MonthFile:
    """One month's snapshot: its month (`YYYY-MM`), a name for messages, and its text (or a
    Parquet file's households read as `NumberedRecords`); with `decisions`, the decisions
    `fangpin eval` wrote of those households on the month's last day."""

    month: str
    name: str
    stream: HouseholdSource
    decisions: IO[str] | None = None
    decisions_name: str | None = None


def month_of(label: str) -> tuple[date, date]:
    """The first and last days of a month written `YYYY-MM`; ValueError otherwise."""
    try:
        year, month = label.split("-")
        if len(year) != 4 or len(month) != 2:
            raise ValueError
        period = period_containing(date(int(year), int(month), 1), Frequency.MONTHLY)
    except ValueError:
        raise ValueError(f"'{label}' is not a month written YYYY-MM") from None
    return period.first_day, period.last_day


@dataclass(frozen=True, slots=True)
class Observation:
    """What one month says of one household: its record's state and the engine's decision."""

    month: str
    status: str
    category: str | None
    formerly_poor: bool
    in_range: bool
    elimination_eligible: bool  # decided as the monitored household it was (see module)
    elimination_reason: str | None
    dibao_enrolled: bool
    income_above_dibao: bool
    income_above_standard_on: date | None


class _DibaoStandards:
    """The dibao standard each month's household is compared with (§14): the policy's, or
    under a region table its region's (looked up once per region and month)."""

    def __init__(self, policy: AnyPolicy, days: Sequence[date], base: Sequence[Decimal]
                 ) -> None:
        self.regional = policy if isinstance(policy, RegionalPolicy) else None
        self.days, self.base = days, base
        self.found: dict[tuple[int, int], Decimal] = {}

    def of(self, record: Any, index: int) -> Decimal:
        if self.regional is None:
            return self.base[index]
        region = self.regional.policy_for(record)  # a record of no region is rejected earlier
        key = (id(region), index)
        if key not in self.found:
            self.found[key] = region.parameters_on(self.days[index])["dibao_standard"]
        return self.found[key]


@dataclass
class _Decisions:
    """A month's decision file, read in step with its household file."""

    name: str
    items: Iterator[tuple[int, Any]]
    head: tuple[str, int, dict[str, Any]] | None = None  # (id, line, decision) of the next one
    last_id: str | None = None
    started: bool = False


# a record read, how to decide it, and how to decide it as monitored (when it is eliminated)
_Read = tuple[int, Any, Callable[[], Any], Callable[[], Any] | None]


@dataclass
class _Source:
    month: str
    first_day: date
    last_day: date
    name: str
    stream: HouseholdSource
    items: Iterator[_Read] = field(default_factory=lambda: iter(()))
    head: tuple[str, _Read] | None = None  # (id, the read) of the next record
    last_id: str | None = None
    decisions: _Decisions | None = None


@dataclass(frozen=True)
class _Span:
    """The months of a run, worked out once: what each household's findings compare with."""

    labels: tuple[str, ...]
    month_ends: tuple[date, ...]
    follows: tuple[bool, ...]  # follows[i]: month i is the calendar month after month i - 1
    quarters: tuple[tuple[str, tuple[int, int, int], date, date], ...]  # wholly in the run

    @classmethod
    def of(cls, sources: Sequence[_Source]) -> _Span:
        labels = tuple(s.month for s in sources)
        follows = (False, *(after.first_day == before.last_day + timedelta(days=1)
                            for before, after in itertools.pairwise(sources)))
        index = {label: i for i, label in enumerate(labels)}
        quarters = []
        for quarter in quarters_between(sources[0].first_day, sources[-1].last_day):
            months = [f"{quarter.first_day.year}-{m:02d}"
                      for m in range(quarter.first_day.month, quarter.first_day.month + 3)]
            if all(m in index for m in months):
                first, second, third = (index[m] for m in months)
                quarters.append((quarter.label, (first, second, third), quarter.first_day,
                                 quarter.last_day))
        return cls(labels, tuple(s.last_day for s in sources), follows, tuple(quarters))


@dataclass
class HistoryRun:
    """The counts of a run: records read per month add up to decided + rejected."""

    households: int = 0
    read: int = 0
    decided: int = 0
    rejected: int = 0
    decisions_read: int = 0  # lines of the decision files given
    decisions_used: int = 0
    decisions_rejected: int = 0  # not a decision, or of a household not in its month's file
    findings: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CITES, 0))


def history(policy: AnyPolicy, months: Sequence[MonthFile], *,
            visits: Mapping[str, Sequence[date]] | None = None,
            on_reject: Callable[[str, Rejection], None] | None = None,
            run: HistoryRun | None = None, engine: str = "record"
            ) -> Iterator[dict[str, Any]]:
    """Each household's history, in ascending id order (see module). `visits` maps household
    ids to their visit dates; `on_reject(file name, rejection)` receives each bad record (and
    each bad decision, with the decision file's name). `engine="columnar"` decides each
    month's records in columns, `COLUMNAR_CHUNK` households read ahead across the months
    (at least 500 a month): the same histories; a policy it cannot express raises
    ColumnarUnsupported before any history. Under a region table (a RegionalPolicy) each
    household is decided, and its income compared with the dibao standard (§14), with its
    region's parameters; one of no region in the table is rejected naming `region_code`."""
    if not months:
        raise HistoryInputError("no monthly file given")
    sources = [_source(month) for month in months]
    sources.sort(key=lambda s: s.first_day)
    for before, after in itertools.pairwise(sources):
        if before.month == after.month:
            raise HistoryInputError(f"the month {after.month} is given twice")
    counts = run if run is not None else HistoryRun()
    base = base_of(policy)
    reader = typed_reader(base.checked.record_model)
    try:
        if isinstance(policy, RegionalPolicy):  # each region's answers, not the base's
            for s in sources:
                policy.check_date(s.last_day)
            deciders: list[tuple[Any, Decimal]] = [(None, Decimal(0))] * len(sources)
        else:
            deciders = [(policy.evaluator(s.last_day),
                         policy.parameters_on(s.last_day)["dibao_standard"]) for s in sources]
    except DateError as exc:
        raise HistoryInputError(str(exc)) from None
    standards = _DibaoStandards(policy, [s.last_day for s in sources],
                                [standard for _, standard in deciders])
    chunk = max(500, COLUMNAR_CHUNK // len(sources))
    for source, (fast, _) in zip(sources, deciders, strict=True):
        source.items = read_and_decided(policy, reader, fast, items_of(source.stream),
                                        source.last_day, engine, chunk=chunk,
                                        variant=_as_monitored_if_eliminated,
                                        decide=source.decisions is None, keys=_READ)
    report = on_reject or (lambda _name, _rejection: None)
    span = _Span.of(sources)
    all_visits = visits or {}
    for source in sources:
        _advance(source, counts, report)
    while True:
        heads = [s.head[0] for s in sources if s.head is not None]
        if not heads:
            break
        household_id = min(heads)
        observed: list[Observation | None] = []
        for index, source in enumerate(sources):
            if source.head is None or source.head[0] != household_id:
                observed.append(None)
                continue
            _, read = source.head
            line = read[0]
            try:
                decision = (None if source.decisions is None else
                            _decision_of(policy, source, household_id, line, counts, report,
                                         read[1]))
                observed.append(_observe(standards.of(read[1], index), source, read,
                                         decision))
                counts.decided += 1
            except RecordError as exc:
                counts.rejected += 1
                report(source.name, exc.rejection if exc.rejection.line is not None
                       else exc.rejection.at_line(line))
                observed.append(None)
            _advance(source, counts, report)
        if all(o is None for o in observed):
            continue  # every month of it was rejected
        counts.households += 1
        own_visits = sorted(all_visits.get(household_id, ()))
        result = household_history(household_id, span, observed, own_visits)
        for finding in result["findings"]:
            counts.findings[finding["code"]] += 1
        yield result
    for source in sources:  # decisions after the last household: none of them is used
        if source.decisions is not None:
            _decision_of(policy, source, None, None, counts, report)


def _source(month: MonthFile) -> _Source:
    try:
        first, last = month_of(month.month)
    except ValueError as exc:
        raise HistoryInputError(str(exc)) from None
    decisions = None
    if month.decisions is not None:
        decisions = _Decisions(month.decisions_name or f"the decisions of {month.month}",
                               iter(read_records(month.decisions)))
    return _Source(month.month, first, last, month.name, month.stream, decisions=decisions)


def _advance(source: _Source, counts: HistoryRun,
             report: Callable[[str, Rejection], None]) -> None:
    """Move `source.head` to its next readable record (rejecting the unreadable ones)."""
    for read in source.items:
        line = read[0]
        counts.read += 1
        try:
            record = given(read[1])
        except RecordError as exc:
            counts.rejected += 1
            report(source.name, exc.rejection if exc.rejection.line is not None
                   else exc.rejection.at_line(line))
            continue
        household_id = record.household_id
        if source.last_id is not None and household_id <= source.last_id:
            if household_id == source.last_id:
                counts.rejected += 1
                report(source.name, Rejection(line, household_id, "household_id",
                                              "the same household twice in one month's file"))
                continue
            raise _out_of_order(source.name, line, numbering_of(source.stream))
        source.last_id = household_id
        source.head = (household_id, read)
        return
    source.head = None


def _out_of_order(name: str, line: int, numbered_by: str = "line") -> HistoryInputError:
    if numbered_by == "row":  # a Parquet file's
        return HistoryInputError(
            f"{name}, row {line}: household ids must be in ascending order (this one sorts "
            "before the row above it); sort the table by household_id, e.g. in polars "
            "pl.read_parquet(path).sort('household_id').write_parquet(path)")
    return HistoryInputError(
        f"{name}:{line}: household ids must be in ascending order (this one sorts "
        "before the line above it); sort the file by household_id, e.g. "
        "jq -c -s 'sort_by(.household_id)[]'")


def _decision_of(policy: AnyPolicy, source: _Source, household_id: str | None,
                 line: int | None, counts: HistoryRun, report: Callable[[str, Rejection], None],
                 record: Any = None) -> dict[str, Any]:
    """The decision of `household_id` in the month's decision file (the decisions before it,
    of households not in the household file, are rejected); RecordError when it has none.
    With no id, every decision left is rejected."""
    decisions = source.decisions
    assert decisions is not None
    if not decisions.started:
        decisions.started = True
        _next_decision(decisions, counts, report)
    while decisions.head is not None and (household_id is None
                                          or decisions.head[0] < household_id):
        other, other_line, _ = decisions.head
        counts.decisions_rejected += 1
        report(decisions.name, Rejection(
            other_line, other, "household_id", f"a decision of a household not decided in "
            f"{source.name} (not in it, or rejected there): it is not used"))
        _next_decision(decisions, counts, report)
    if household_id is None:
        return {}
    assert line is not None
    if decisions.head is None or decisions.head[0] != household_id:
        raise RecordError(Rejection(line, household_id, "household_id",
                                    f"no decision for this household in {decisions.name}"))
    _, decision_line, decision = decisions.head
    _next_decision(decisions, counts, report)
    where = f"{decisions.name}:{decision_line}"
    regional = policy if isinstance(policy, RegionalPolicy) else None
    problem = _decision_problem(decision, base_of(policy), source.last_day,
                                regional.policy_for(record, line) if regional else None,
                                regional)
    if problem is not None:
        raise RecordError(Rejection(line, household_id, problem[0], f"{problem[1]} ({where})"))
    elimination = decision.get("risk_elimination")
    income = decision.get("per_capita_income")
    wrong = ("in_range" if not isinstance(decision.get("in_range"), bool) else
             "per_capita_income" if isinstance(income, bool)
             or not isinstance(income, int | Decimal) else
             "risk_elimination" if not isinstance(elimination, dict)
             or not isinstance(elimination.get("eligible"), bool)
             or not isinstance(elimination.get("reason"), str | None) else None)
    if wrong is not None:
        raise RecordError(Rejection(line, household_id, wrong, f"its decision has no {wrong} "
                                    f"as `fangpin eval` writes it: decide the month again "
                                    f"({where})"))
    counts.decisions_used += 1
    return decision


def _next_decision(decisions: _Decisions, counts: HistoryRun,
                   report: Callable[[str, Rejection], None]) -> None:
    for line, item in decisions.items:
        counts.decisions_read += 1
        household_id = item.get("household_id") if isinstance(item, dict) else None
        if not isinstance(household_id, str) or not isinstance(item.get("as_of"), str):
            counts.decisions_rejected += 1
            report(decisions.name, item.rejection.at_line(line) if isinstance(item, RecordError)
                   else Rejection(line, None, "household_id",
                                  "not a decision: a decision has household_id and as_of"))
            continue
        if decisions.last_id is not None and household_id <= decisions.last_id:
            if household_id == decisions.last_id:
                counts.decisions_rejected += 1
                report(decisions.name, Rejection(line, household_id, "household_id",
                                                 "a second decision for this household; the "
                                                 "first is used"))
                continue
            raise _out_of_order(decisions.name, line)  # (JSON lines)
        decisions.last_id = household_id
        decisions.head = (household_id, line, item)
        return
    decisions.head = None


_READ = ("in_range", "per_capita_income", "risk_elimination")  # what `_observe` reads


def _as_monitored_if_eliminated(record: Any) -> Any:
    """What else is asked of a record: as monitored, when it is marked eliminated."""
    return as_monitored(record) if record.monitoring.status == "risk_eliminated" else None


def _observe(dibao_standard: Decimal, source: _Source, read: _Read,
             decision: dict[str, Any] | None = None) -> Observation:
    """The month's observation of a household: its decision (given, from a decision file, or
    made now) beside its record."""
    _, record, decide, as_monitored = read
    if decision is None:
        decision = decide()
    status = record.monitoring.status
    elimination = decision["risk_elimination"]
    if as_monitored is not None:
        elimination = as_monitored()["risk_elimination"]
    dibao = record.dibao
    return Observation(
        month=source.month, status=status, category=record.monitoring.category,
        formerly_poor=record.formerly_poor, in_range=decision["in_range"],
        elimination_eligible=elimination["eligible"],
        elimination_reason=elimination["reason"],
        dibao_enrolled=dibao.enrolled is True,
        income_above_dibao=decision["per_capita_income"] > dibao_standard,
        income_above_standard_on=dibao.income_above_standard_on)


def household_history(household_id: str, span: _Span, observed: Sequence[Observation | None],
                      visits: Sequence[date]) -> dict[str, Any]:
    """The timeline and findings of one household from its months (None: not in that month's
    file, or rejected)."""
    timeline: list[dict[str, Any]] = []
    findings: list[dict[str, Any]] = []

    def find(code: str, **figures: Any) -> None:
        findings.append({"code": code, "cite": CITES[code], **figures})

    previous: Observation | None = None
    for label, now in zip(span.labels, observed, strict=True):
        if now is None:
            timeline.append({"month": label, "event": "missing"})
            previous = None
            continue
        event = _event(previous, now)
        if event is not None:
            timeline.append({"month": label, **event})
        if (event is not None and event["event"] == "marked_eliminated"
                and not now.elimination_eligible):
            if now.elimination_reason == "no_labour":
                find("eliminated_without_labour", month=label)
            else:
                find("eliminated_not_eligible", month=label, reason=now.elimination_reason)
        previous = now
    _grace_findings(span, observed, find)
    _visit_findings(span, observed, visits, find)
    _range_findings(span, observed, find)
    return {"household_id": household_id,
            "months": [label for label, o in zip(span.labels, observed, strict=True)
                       if o is not None],
            "timeline": timeline, "findings": findings}


def _event(before: Observation | None, now: Observation) -> dict[str, Any] | None:
    state = {"status": now.status, "category": now.category}
    if before is None:
        return {"event": "first_seen", **state}
    if before.status != "monitored" and now.status == "monitored":
        if before.status == "risk_eliminated":
            # 返贫 for a formerly poor household, 致贫 for one that never was
            return {"event": "returned_to_monitoring",
                    "kind": "返贫" if now.formerly_poor else "致贫", **state}
        return {"event": "identified", **state}
    if before.status == "monitored" and now.status == "risk_eliminated":
        return {"event": "marked_eliminated", **state}
    if before.status == "monitored" and now.status == "none":
        return {"event": "left_monitoring", **state}
    if now.status == "monitored" and before.category != now.category:
        return {"event": "category_changed", "from": before.category, **state}
    return None


def _grace_findings(span: _Span, observed: Sequence[Observation | None],
                    find: Callable[..., None]) -> None:
    """§14: the grace period starts in the first month of an episode of dibao income above the
    standard; the recorded start must fall in that month (or earlier)."""
    index = 0
    while index < len(observed):
        now = observed[index]
        if now is None or not (now.dibao_enrolled and now.income_above_dibao):
            index += 1
            continue
        start = index
        recorded: date | None = None
        while index < len(observed):
            obs = observed[index]
            if obs is None or not (obs.dibao_enrolled and obs.income_above_dibao):
                break
            if recorded is None and obs.income_above_standard_on is not None:
                recorded = obs.income_above_standard_on
            index += 1
        if recorded is None or recorded > span.month_ends[start]:
            find("dibao_grace_not_started", month=span.labels[start],
                 recorded_start=recorded.isoformat() if recorded else None)


def _visit_findings(span: _Span, observed: Sequence[Observation | None],
                    visits: Sequence[date], find: Callable[..., None]) -> None:
    """§11: each quarter wholly within the history whose three months found it monitored."""
    for label, months, first_day, last_day in span.quarters:
        if not all((o := observed[i]) is not None and o.status == "monitored" for i in months):
            continue
        if not any(first_day <= visit <= last_day for visit in visits):
            find("quarter_without_visit", quarter=label)


def _range_findings(span: _Span, observed: Sequence[Observation | None],
                    find: Callable[..., None]) -> None:
    """In range, out of it for one month, in it again (consecutive calendar months)."""
    for index in range(1, len(observed) - 1):
        before, now, after = observed[index - 1], observed[index], observed[index + 1]
        if before is None or now is None or after is None:
            continue
        if not (span.follows[index] and span.follows[index + 1]):
            continue
        if before.in_range and not now.in_range and after.in_range:
            find("left_range_one_month", month=span.labels[index])


def visits_by_household(cases: Iterable[Any]) -> dict[str, list[date]]:
    """The visit dates of validated cases, by household."""
    out: dict[str, list[date]] = {}
    for case in cases:
        out.setdefault(case.household_id, []).extend(case.visits)
    return out
