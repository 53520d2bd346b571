"""Periodic duties done: a duty log read beside the policy's `duties:`, and which duties of
which region are overdue or were done late.

A log row says that `duty` was done for `region` in `period` on `done_on`:

    duty,region,period,done_on
    daily_summary,350181,2021-10-08,2021-10-08
    weekly_verification,350181,2021-W40,2021-10-09

(CSV with that header, or JSON lines of objects with those four keys.) `period` is written as
the duty's frequency labels its periods (calendar.calendar_periods). A period is *due* on its
last day, or, when that is a rest day, on the next working day (Civil Code art. 203: the offices
are closed); a daily duty is owed on working days only. Between `since` and `as_of`, each duty
of each region is, per period: `done` (logged by its due day), `late` (logged after it, by how
many working days), `overdue` (not logged and its due day has passed) or `open` (not logged,
still due). A bad row is reported with its line and every problem it has, and left out.
"""

from __future__ import annotations

import csv
import difflib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import IO, Any

from fangpin_rules.calendar import (
    CalendarPeriod,
    Frequency,
    WorkingDayCalendar,
    parse_period,
    periods_between,
)
from fangpin_rules.limits import echo
from fangpin_rules.policy.document import Duty
from fangpin_rules.population.regions import is_region_code

__all__ = ["COLUMNS", "DutyEntry", "DutyReport", "LogRejection", "check_duties",
           "read_duty_log"]

COLUMNS = ("duty", "region", "period", "done_on")


@dataclass(frozen=True, slots=True)
class DutyEntry:
    duty: str
    region: str
    period: CalendarPeriod
    done_on: date
    line: int


@dataclass(frozen=True, slots=True)
class LogRejection:
    """A log row left out: its line and every problem, each (field, reason)."""

    line: int
    problems: tuple[tuple[str | None, str], ...]

    def to_json(self) -> dict[str, Any]:
        return {"line": self.line,
                "problems": [{"field": f, "reason": r} for f, r in self.problems]}


def read_duty_log(stream: IO[str], duties: Mapping[str, Duty], as_of: date,
                  ) -> tuple[list[DutyEntry], list[LogRejection]]:
    """The log's rows, checked against the policy's duties; rows done after `as_of` are
    refused (a log cannot record the future)."""
    entries: list[DutyEntry] = []
    rejections: list[LogRejection] = []
    for line, row in _rows(stream):
        if isinstance(row, str):
            rejections.append(LogRejection(line, ((None, row),)))
            continue
        entry_or_problems = _entry(line, row, duties, as_of)
        if isinstance(entry_or_problems, DutyEntry):
            entries.append(entry_or_problems)
        else:
            rejections.append(LogRejection(line, tuple(entry_or_problems)))
    return entries, rejections


def _rows(stream: IO[str]) -> Iterator[tuple[int, dict[str, Any] | str]]:
    """(line, row) pairs; a row that cannot be read at all is a string saying why."""
    first = stream.readline()
    text = first.lstrip("\ufeff")
    if text.lstrip().startswith("{"):
        for number, line in enumerate([text, *stream], start=1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except ValueError:
                yield number, "not a JSON object (a line of the log must be one)"
                continue
            if not isinstance(value, dict):
                yield number, "not a JSON object (a line of the log must be one)"
                continue
            yield number, value
        return
    header = next(csv.reader([text]), [])
    if [name.strip() for name in header] != list(COLUMNS):
        yield 1, f"the header must be {','.join(COLUMNS)}"
        return
    reader = csv.reader(stream)
    for cells in reader:
        number = reader.line_num + 1
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(COLUMNS):
            yield number, f"{len(cells)} cells, the header has {len(COLUMNS)}"
            continue
        yield number, dict(zip(COLUMNS, (cell.strip() for cell in cells), strict=True))


def _entry(line: int, row: dict[str, Any], duties: Mapping[str, Duty], as_of: date,
           ) -> DutyEntry | list[tuple[str | None, str]]:
    problems: list[tuple[str | None, str]] = []
    problems.extend((echo(str(key)), "not a column of the duty log") for key in row
                    if key not in COLUMNS)
    values: dict[str, str] = {}
    for column in COLUMNS:
        value = row.get(column)
        if not isinstance(value, str) or not value:
            problems.append((column, "missing (a text is required)"))
        else:
            values[column] = value
    duty = duties.get(values.get("duty", ""))
    if "duty" in values and duty is None:
        near = difflib.get_close_matches(values["duty"], list(duties), n=1)
        hint = f"; did you mean '{near[0]}'?" if near else ""
        problems.append(("duty", f"'{echo(values['duty'])}' is not a duty of the policy{hint}"))
    if "region" in values and not is_region_code(values["region"]):
        problems.append(("region", "must be a division code of 6 (county), 9 (township) or "
                         "12 (village) digits"))
    period: CalendarPeriod | None = None
    if duty is not None and "period" in values:
        try:
            period = parse_period(values["period"], Frequency(duty.frequency))
        except ValueError as exc:
            problems.append(("period", str(exc)))
    done_on: date | None = None
    if "done_on" in values:
        try:
            done_on = date.fromisoformat(values["done_on"])
        except ValueError:
            problems.append(("done_on", "must be a date written YYYY-MM-DD"))
    if done_on is not None and done_on > as_of:
        problems.append(("done_on", f"after the evaluation date {as_of.isoformat()}"))
    if done_on is not None and period is not None and done_on < period.first_day:
        problems.append(("done_on", f"before the period {period.label} began "
                         f"({period.first_day.isoformat()})"))
    if problems or duty is None or period is None or done_on is None:
        return problems
    return DutyEntry(values["duty"], values["region"], period, done_on, line)


@dataclass
class DutyReport:
    """Per duty, region and period, its status; `counts` by status add up to `periods`."""

    since: date
    as_of: date
    rows: list[dict[str, Any]] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        counts = {"done": 0, "late": 0, "overdue": 0, "open": 0}
        for row in self.rows:
            counts[row["status"]] += 1
        return counts

    def overdue(self) -> list[dict[str, Any]]:
        return [row for row in self.rows if row["status"] == "overdue"]

    def to_json(self) -> dict[str, Any]:
        return {"since": self.since.isoformat(), "as_of": self.as_of.isoformat(),
                "periods": len(self.rows), "counts": self.counts,
                "not_done_in_time": [row for row in self.rows
                                     if row["status"] in ("late", "overdue")]}


def check_duties(duties: Mapping[str, Duty], entries: Iterable[DutyEntry],
                 calendar: WorkingDayCalendar, since: date, as_of: date,
                 regions: Iterable[str] = ()) -> DutyReport:
    """Each duty's status in each region (those logged and those given) and each period that
    `[since, as_of]` touches."""
    done: dict[tuple[str, str, str], date] = {}
    all_regions = set(regions)
    for entry in entries:
        key = (entry.duty, entry.region, entry.period.label)
        all_regions.add(entry.region)
        if key not in done or entry.done_on < done[key]:
            done[key] = entry.done_on  # a duty done twice counts from the first time
    report = DutyReport(since, as_of)
    for duty_id, duty in duties.items():
        frequency = Frequency(duty.frequency)
        periods = [p for p in periods_between(since, as_of, frequency)
                   if frequency is not Frequency.DAILY or calendar.is_working_day(p.first_day)]
        for region in sorted(all_regions):
            for period in periods:
                due = calendar.next_working_day(period.last_day)
                done_on = done.get((duty_id, region, period.label))
                row: dict[str, Any] = {"duty": duty_id, "region": region,
                                       "period": period.label, "due": due.isoformat(),
                                       "done_on": done_on and done_on.isoformat(),
                                       "cite": duty.cite}
                if done_on is None:
                    row["status"] = "overdue" if due < as_of else "open"
                elif done_on > due:
                    row["status"] = "late"
                    row["late_working_days"] = calendar.working_days_between(due, done_on)
                else:
                    row["status"] = "done"
                report.rows.append(row)
    return report
