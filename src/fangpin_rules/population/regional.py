"""Regional warnings (§3 区域性、规模性返贫风险, §16 每季度集中研判): the policy's
`regional_warnings:` evaluated over the households of several months.

The rules are data, checked by checker/regional.py; this module interprets them over
aggregates, so no code is generated from them. Each month's household file (in any order) is
decided as of the month's last day; per rule, month and region at the rule's level, the
households are counted, and those the rule selects (`where:`, or all; with `new: true`, only
those it did not select the month before; such a rule is not judged in a month whose previous
month is not in the run); with `sum:`, the decided value is added up over the households
selected (and over all the region's, for a share), exactly. A figure (a count or a sum, a
share, a mean, or one of these against the previous month's or quarter's: a count as
`current / max(previous, 1)`, a sum or mean as `current / previous`, not judged where the
previous is zero) above the rule's `above:` parameter in force that month (or below its
`below:`) gives a warning naming the region, the figures and the article (a share, mean or
comparison shown to 4 places, compared exactly; a sum exact). A household whose
summed value is unknown (null) is counted in `unknown` and in no sum. Memory holds the counts
and sums per month and region, and, for a `new:` rule, the ids it selected the month before.

Region-level events (a typhoon's townships, a price fall's villages) are given as CSV rows
`kind,region,month`; a rule with `events: KIND` applies only in the regions inside or around
(containing) a region an event of that kind names that month.
"""

from __future__ import annotations

import csv
import decimal
import itertools
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import IO, Any

from fangpin_rules.checker.checked import CheckedRegionalWarning
from fangpin_rules.engine.policy import DateError
from fangpin_rules.engine.records import RecordError, Rejection
from fangpin_rules.engine.regions import AnyPolicy, RegionalPolicy, base_of
from fangpin_rules.engine.serialize import decimal_text
from fangpin_rules.engine.stream import COLUMNAR_CHUNK, items_of
from fangpin_rules.engine.typed_json import typed_reader
from fangpin_rules.limits import DECIMAL_CONTEXT, echo
from fangpin_rules.population.deciding import given, read_and_decided
from fangpin_rules.population.history import HistoryInputError, MonthFile, month_of
from fangpin_rules.population.regions import at_level, is_region_code

__all__ = ["RegionalEvent", "RegionalRun", "read_events", "regional_warnings"]

SHARE_PLACES = Decimal("0.0001")  # shown to 4 places; compared exactly


@dataclass(frozen=True, slots=True)
class RegionalEvent:
    kind: str
    region: str
    month: str


def read_events(stream: IO[str], name: str) -> list[RegionalEvent]:
    """Events from CSV `kind,region,month` (a header, then one event a row); a bad row is an
    input error naming the file, line and every problem."""
    reader = csv.reader(stream)
    header = [cell.strip() for cell in next(reader, [])]
    if header != ["kind", "region", "month"]:
        raise HistoryInputError(f"{name}:1: the header must be kind,region,month")
    events = []
    for cells in reader:
        line = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        problems = []
        if len(cells) != 3:
            raise HistoryInputError(f"{name}:{line}: {len(cells)} cells, the header has 3")
        kind, region, month = (c.strip() for c in cells)
        if not kind.isidentifier():
            problems.append("kind: a name of letters, digits and '_'")
        if not is_region_code(region):
            problems.append("region: a division code of 6, 9 or 12 digits")
        try:
            month_of(month)
        except ValueError:
            problems.append("month: written YYYY-MM")
        if problems:
            raise HistoryInputError(f"{name}:{line}: " + "; ".join(problems))
        events.append(RegionalEvent(kind, region, month))
    return events


@dataclass
class RegionalRun:
    """Counts of a run: records read add up to decided + rejected."""

    read: int = 0
    decided: int = 0
    rejected: int = 0
    without_region: int = 0  # decided, but no region code: counted in no region


@dataclass
class _Tally:
    households: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    selected: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    # with `sum:`: the value's sum over the selected households (those whose value is known),
    # over all the region's (for a share), and the selected households whose value is unknown
    summed: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    total: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    unknown: dict[str, int] = field(default_factory=lambda: defaultdict(int))


def regional_warnings(policy: AnyPolicy, months: Sequence[MonthFile],
                      events: Sequence[RegionalEvent] = (), *,
                      on_reject: Callable[[str, Rejection], None] | None = None,
                      run: RegionalRun | None = None,
                      engine: str = "record") -> list[dict[str, Any]]:
    """The warnings of the policy's regional rules over the months given, in month, rule and
    region order. `engine="columnar"` decides each month's households in columns, a chunk at
    a time (the same decisions; a policy it cannot express raises ColumnarUnsupported). Under
    a region table (a RegionalPolicy) each household is decided with its region's
    parameters (one of no region in it is rejected naming `region_code`) and each region's
    row is judged against its county's thresholds."""
    base = base_of(policy)
    rules = base.checked.regional_warnings
    counts = run if run is not None else RegionalRun()
    report = on_reject or (lambda _name, _rejection: None)
    ordered = sorted(months, key=lambda m: _month_key(m.month))
    labels = [m.month for m in ordered]
    if len(set(labels)) != len(labels):
        raise HistoryInputError("a month is given twice")
    reader = typed_reader(base.checked.record_model)
    tallies: dict[str, list[_Tally]] = {rule.rule_id: [] for rule in rules}
    previous: dict[str, set[str]] = {rule.rule_id: set() for rule in rules if rule.new}
    for month in ordered:
        _, last_day = month_of(month.month)
        try:
            fast = None  # each region's evaluator, not the base's
            if isinstance(policy, RegionalPolicy):
                policy.check_date(last_day)
            else:
                fast = policy.evaluator(last_day)
        except DateError as exc:
            raise HistoryInputError(str(exc)) from None
        month_tallies = {rule.rule_id: _Tally() for rule in rules}
        current: dict[str, set[str]] = {rule_id: set() for rule_id in previous}
        for _line, record, decision in _decided(policy, reader, fast, month, counts, report,
                                                engine):
            code = record.region_code
            if code is None:
                counts.without_region += 1
                continue
            for rule in rules:
                region = at_level(code, rule.level)  # type: ignore[arg-type]
                if region is None:
                    continue
                tally = month_tallies[rule.rule_id]
                tally.households[region] += 1
                value = None if rule.sum_of is None else decision[rule.sum_of]
                if value is not None:
                    tally.total[region] += value
                if not _selects(rule, record, decision, month.month):
                    continue
                if rule.new:
                    current[rule.rule_id].add(record.household_id)
                    if record.household_id in previous[rule.rule_id]:
                        continue
                if rule.sum_of is not None:
                    if value is None:
                        tally.unknown[region] += 1
                        continue
                    tally.summed[region] += value
                tally.selected[region] += 1
        for rule_id in previous:
            previous[rule_id] = current[rule_id]
        for rule_id, tally in month_tallies.items():
            tallies[rule_id].append(tally)
    return list(_warnings(policy, rules, labels, tallies, events))


def _month_key(label: str) -> str:
    try:
        month_of(label)
    except ValueError as exc:
        raise HistoryInputError(str(exc)) from None
    return label


def _decided(policy: AnyPolicy, reader: Any, fast: Any, month: MonthFile, counts: RegionalRun,
             report: Callable[[str, Rejection], None], engine: str = "record"
             ) -> Iterator[tuple[int, Any, Any]]:
    _, last_day = month_of(month.month)
    seen: set[str] = set()
    for line, read, decided, _ in read_and_decided(policy, reader, fast,
                                                   items_of(month.stream), last_day,
                                                   engine, chunk=COLUMNAR_CHUNK):
        counts.read += 1
        try:
            record = given(read)
            if record.household_id in seen:
                raise RecordError(Rejection(line, record.household_id, "household_id",
                                            "the same household twice in one month's file"))
            decision = decided()
        except RecordError as exc:
            counts.rejected += 1
            report(month.name, exc.rejection if exc.rejection.line is not None
                   else exc.rejection.at_line(line))
            continue
        seen.add(record.household_id)
        counts.decided += 1
        yield line, record, decision




def _selects(rule: CheckedRegionalWarning, record: Any, decision: dict[str, Any],
             month: str) -> bool:
    if rule.where is None:
        return True
    kind, label = rule.where
    if kind == "risk":
        return label in decision["risks"]
    if kind == "measure":
        return label in decision["measures"]
    if kind == "category":
        return bool(decision["category"] == label)
    # an event: the household's recorded status started this month
    status = {"identified": "monitored", "eliminated": "risk_eliminated"}[label]
    since = record.monitoring.since
    return bool(record.monitoring.status == status and since is not None
                and since.isoformat()[:7] == month)


def _warnings(policy: AnyPolicy, rules: Sequence[CheckedRegionalWarning], labels: list[str],
              tallies: dict[str, list[_Tally]], events: Sequence[RegionalEvent],
              ) -> Iterator[dict[str, Any]]:
    for index, label in enumerate(labels):
        _, last_day = month_of(label)
        parameters = _Thresholds(policy, last_day)
        for rule in rules:
            months = tallies[rule.rule_id]
            period, now, before = _periods(rule, labels, index, months)
            if now is None:
                continue
            for region in sorted(now.households):
                threshold = parameters.of(region, rule.threshold)
                minimum = parameters.of(region, rule.at_least) if rule.at_least else 0
                if rule.events and not _affected(region, label, rule.events, events):
                    continue
                selected = now.selected.get(region, 0)
                if selected < minimum:
                    continue
                with decimal.localcontext(DECIMAL_CONTEXT):
                    judged = _figure(rule, region, now, before)
                if judged is None:
                    continue
                figure, figures = judged
                if not (figure > threshold if rule.above is not None else figure < threshold):
                    continue
                figures["figure"] = (figure.quantize(SHARE_PLACES) if rule.as_ != "count"
                                     or rule.against else figure)
                figures["threshold"] = threshold
                yield {"rule": rule.rule_id, "title": rule.title_zh, "title_en": rule.title_en,
                       "level": rule.level, "region": region, "period": period,
                       "figures": figures, "cite": rule.cite, "basis": rule.basis,
                       "threshold_parameter": rule.threshold,
                       "direction": "above" if rule.above is not None else "below"}


class _Thresholds:
    """A month's parameters a region's row is judged with: the policy's, or under a region
    table its county's (a row of a township or village is in its county)."""

    def __init__(self, policy: AnyPolicy, day: Any) -> None:
        self.policy, self.day = policy, day
        self.found: dict[str | None, dict[str, Any]] = {}

    def of(self, region: str, name: str) -> Any:
        regional = self.policy if isinstance(self.policy, RegionalPolicy) else None
        county = region[:6] if regional is not None else None
        if county not in self.found:
            own = regional.regions.get(county) if regional is not None and county else None
            self.found[county] = (own.policy if own is not None
                                  else base_of(self.policy)).parameters_on(self.day)
        return self.found[county][name]


def _figure(rule: CheckedRegionalWarning, region: str, now: _Tally, before: _Tally | None,
            ) -> tuple[Decimal, dict[str, Any]] | None:
    """The rule's figure for a region and the figures shown with it; None when it cannot be
    judged (a sum or mean against an earlier period whose own is zero or has no household)."""
    households, selected = now.households[region], now.selected.get(region, 0)
    figures: dict[str, Any] = {"households": households, "selected": selected}
    if rule.sum_of is None:
        if rule.against is not None:
            earlier = before.selected.get(region, 0) if before else 0
            figures["previous"] = earlier
            return Decimal(selected) / max(earlier, 1), figures
        if rule.as_ == "share":
            return Decimal(selected) / households, figures
        return Decimal(selected), figures
    summed = now.summed.get(region, Decimal(0))
    figures["sum"] = summed
    if now.unknown.get(region):
        figures["unknown"] = now.unknown[region]
    if rule.as_ == "share":
        total = now.total.get(region, Decimal(0))
        figures["total"] = total
        return (summed / total, figures) if total else None
    value = _indicator(rule, summed, selected)
    if value is None:
        return None
    if rule.as_ == "mean":
        figures["mean"] = value.quantize(SHARE_PLACES)
    if rule.against is None:
        return value, figures
    then = None if before is None else _indicator(
        rule, before.summed.get(region, Decimal(0)), before.selected.get(region, 0))
    if not then:  # nothing to compare with (no household then, or a sum of zero)
        return None
    figures["previous"] = then.quantize(SHARE_PLACES) if rule.as_ == "mean" else then
    return value / then, figures


def _indicator(rule: CheckedRegionalWarning, summed: Decimal, selected: int) -> Decimal | None:
    """The sum, or the mean over the households summed (None without any)."""
    if rule.as_ != "mean":
        return summed
    return summed / selected if selected else None


def _periods(rule: CheckedRegionalWarning, labels: list[str], index: int,
             months: list[_Tally]) -> tuple[str, _Tally | None, _Tally | None]:
    """(period label, this period's tally, the previous period's) for the month at `index`;
    no tally when the rule is not judged in that month (a quarter not yet ended, or without
    its earlier period in the run)."""
    label = labels[index]
    if rule.new and (index == 0 or not _follows(labels[index - 1], label)):
        return label, None, None  # without the month before, nothing is known to be new
    if rule.against is None:
        return label, months[index], None
    if rule.against == "previous_month":
        if index == 0 or not _follows(labels[index - 1], label):
            return label, None, None
        return label, months[index], months[index - 1]
    year, month = int(label[:4]), int(label[5:])
    if month % 3 != 0 or index < 5:
        return label, None, None
    window = labels[index - 5:index + 1]
    if not all(_follows(a, b) for a, b in itertools.pairwise(window)):
        return label, None, None
    quarter = f"{year}Q{month // 3}"
    return quarter, _sum(months[index - 2:index + 1]), _sum(months[index - 5:index - 2])


def _sum(tallies: list[_Tally]) -> _Tally:
    """A quarter's tally from its months': households selected and values summed over the
    three months (a mean is over the quarter's household-months)."""
    quarter = _Tally()
    for tally in tallies:
        for region, n in tally.selected.items():
            quarter.selected[region] += n
        for region, value in tally.summed.items():
            quarter.summed[region] += value
        for region, value in tally.total.items():
            quarter.total[region] += value
        for region, n in tally.unknown.items():
            quarter.unknown[region] += n
    # households of a quarter: those of its last month (the region's size at the quarter's end)
    quarter.households.update(tallies[-1].households)
    return quarter


def _follows(earlier: str, later: str) -> bool:
    return month_of(earlier)[1].toordinal() + 1 == month_of(later)[0].toordinal()


def _affected(region: str, month: str, kind: str, events: Sequence[RegionalEvent]) -> bool:
    return any(event.kind == kind and event.month == month
               and (region.startswith(event.region) or event.region.startswith(region))
               for event in events)


def describe(warning: dict[str, Any]) -> str:
    """One line an officer reads: the region, the period, the figures, the article."""
    f = dict(warning["figures"])
    # a sum's text is its value's, whatever places the records spell (as in the JSON form);
    # a mean and a figure are shown to SHARE_PLACES
    for key in ("sum", "total") if "mean" in f else ("sum", "total", "previous"):
        if isinstance(f.get(key), Decimal):
            f[key] = decimal_text(f[key])
    summed = f" summing {f['sum']}" if "sum" in f else ""
    of_total = (f" of {f['total']}" if "total" in f else
                f", mean {f['mean']}" if "mean" in f else "")
    unknown = f" ({f['unknown']} unknown)" if "unknown" in f else ""
    against = f" (previous {f['previous']})" if "previous" in f else ""
    relation = ">" if warning.get("direction", "above") == "above" else "<"
    return (f"{warning['period']} {warning['level']} {echo(warning['region'])}: "
            f"{warning['title']} - {f['selected']} of {f['households']} households"
            f"{summed}{of_total}{unknown}{against}, figure {f['figure']} {relation} "
            f"{f['threshold']} [{warning['cite']}]")
