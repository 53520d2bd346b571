"""Mainland China working days: weekends, statutory holidays and the State Council's 调休.

A day is a *working day* unless it is a Saturday or Sunday or a statutory holiday (including the
days the State Council's annual notice shifts into a holiday run); a weekend day that the notice
makes a make-up working day (调休上班) is a working day. The schedule comes from
``holidays.China`` (PUBLIC category only: the half-day holidays of some groups, such as Women's
Day on 8 March or Youth Day on 4 May, are working days for the offices this engine concerns).

Only years for which the package carries the State Council's notice are *covered*; any question
about another year raises :class:`CalendarCoverageError`, never a guess. A policy file can add a
newly published year, or correct a day, through :class:`CalendarOverrides`.

Every query is a few lookups in tables precomputed for the covered years (see
:class:`WorkingDayCalendar`): no query walks day by day.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from types import MappingProxyType
from typing import Final

from holidays.constants import PUBLIC
from holidays.countries.china import China
from holidays.holiday_base import HolidayBase
from holidays.version import __version__ as HOLIDAYS_VERSION

__all__ = [
    "FIRST_NOTICE_YEAR",
    "CalendarCoverageError",
    "CalendarError",
    "CalendarOverrides",
    "WorkingDayCalendar",
    "official_schedule_years",
]

#: The first year whose State Council notice ``holidays`` checks its China data against (its
#: ``China`` docstring: "Only checked with the official General Office of the State Council Notice
#: from 2001 onwards"). Earlier years are never taken as covered, whatever the package holds.
FIRST_NOTICE_YEAR: Final = 2001

# Values of the per-day table.
_REST: Final = 0
_WORKING: Final = 1
_UNCOVERED: Final = 2

_SATURDAY: Final = 5

# `China.__init__` takes untyped `*args, **kwargs`; this gives its calls a checked result type.
_china_holidays: Callable[..., HolidayBase] = China


class CalendarError(ValueError):
    """A working-day question or calendar configuration that cannot be answered correctly."""


class CalendarCoverageError(CalendarError):
    """A date falls in a year without an official working-day schedule in the calendar."""

    def __init__(self, year: int, message: str) -> None:
        super().__init__(message)
        self.year = year


def _year_ranges(years: Iterable[int]) -> str:
    """``{2001, ..., 2026, 2028}`` -> ``"2001–2026, 2028"`` (for messages)."""
    ordered = sorted(years)
    if not ordered:
        return "no year"
    parts: list[str] = []
    first = previous = ordered[0]
    for year in [*ordered[1:], None]:
        if year is not None and year == previous + 1:
            previous = year
            continue
        parts.append(str(first) if first == previous else f"{first}–{previous}")
        if year is not None:
            first = previous = year
    return ", ".join(parts)


def _days_in_year(year: int) -> int:
    return date(year + 1, 1, 1).toordinal() - date(year, 1, 1).toordinal()


@cache
def _official_schedules() -> Mapping[int, bytes]:
    """For each year with a State Council notice in ``holidays``: one byte a day, 1 = working.

    A year counts as carrying a notice when ``holidays.China`` lists *special* public holidays
    for it: that table (``ChinaStaticHolidays.special_public_holidays``) is where the package
    records each notice's shifted rest days and the weekend days worked in exchange; the regular
    holiday rules alone would give the statutory days without any 调休, a silent guess. Each of
    the notices for 2001-2026 shifts at least one day, so a year missing from the table is one
    the package has not yet been updated for (a notice that ever shifted nothing would merely be
    reported as uncovered, the safe side, until a policy declares its year).
    """
    probe = _china_holidays(years=(), categories=(PUBLIC,), observed=True)
    special = getattr(probe, "special_public_holidays", None)
    if not isinstance(special, Mapping):
        return MappingProxyType({})
    years = sorted(
        year
        for year, entries in special.items()
        if isinstance(year, int) and year >= FIRST_NOTICE_YEAR and entries
    )
    if not years:
        return MappingProxyType({})
    china = _china_holidays(years=years, categories=(PUBLIC,), observed=True)
    schedules: dict[int, bytes] = {}
    for year in years:
        first = date(year, 1, 1).toordinal()
        schedules[year] = bytes(
            _WORKING if china.is_working_day(date.fromordinal(first + offset)) else _REST
            for offset in range(_days_in_year(year))
        )
    return MappingProxyType(schedules)


def official_schedule_years() -> frozenset[int]:
    """The years whose official schedule the installed ``holidays`` package carries."""
    return frozenset(_official_schedules())


def _weekend_only_schedule(year: int) -> bytes:
    """Baseline for a year the policy declares covered but the package lacks: weekends off.

    The policy then lists every holiday rest day and make-up working day itself; taking the
    package's unofficial holiday guesses for such a year would mix a guess into a declaration.
    """
    first = date(year, 1, 1).toordinal()
    return bytes(
        _REST if date.fromordinal(first + offset).weekday() >= _SATURDAY else _WORKING
        for offset in range(_days_in_year(year))
    )


def _plain_date(value: object, what: str) -> date:
    # A datetime is a date subclass but never equal to one: it would silently miss in sets.
    if isinstance(value, datetime) or not isinstance(value, date):
        raise CalendarError(f"{what} must be a date, not {value!r}")
    return value


@dataclass(frozen=True)
class CalendarOverrides:
    """A policy's corrections and additions to the official calendar (hashable).

    ``rest_days`` become rest days and ``working_days`` working days, whatever the official data
    says; ``covered_years`` are years the calendar answers for. A declared year that the package
    does not carry starts from weekends only: list every holiday rest day and every make-up
    working day of the State Council's notice for it. Every listed day must fall in a covered
    year (official or declared), and no day may be both a rest day and a working day.
    """

    rest_days: frozenset[date] = frozenset()
    working_days: frozenset[date] = frozenset()
    covered_years: frozenset[int] = frozenset()

    def __post_init__(self) -> None:
        for day in self.rest_days:
            _plain_date(day, "a rest day")
        for day in self.working_days:
            _plain_date(day, "a working day")
        for year in self.covered_years:
            if isinstance(year, bool) or not isinstance(year, int) or not 1 <= year <= 9998:
                raise CalendarError(f"a covered year must be a year number, not {year!r}")
        both = sorted(self.rest_days & self.working_days)
        if both:
            listed = ", ".join(day.isoformat() for day in both)
            raise CalendarError(f"listed both as a rest day and as a working day: {listed}")

    @classmethod
    def from_policy_years(
        cls, years: Mapping[int, Mapping[str, Iterable[date | str]]]
    ) -> CalendarOverrides:
        """Read a policy file's ``calendar: years:`` section.

        ``{2027: {"rest_days": [...], "working_days": [...]}}``: every year listed is declared
        covered; its days may be dates or ISO strings and must lie in that year.
        """
        rest: set[date] = set()
        working: set[date] = set()
        for year, section in years.items():
            unknown = sorted(set(section) - {"rest_days", "working_days"})
            if unknown:
                raise CalendarError(
                    f"calendar year {year}: unknown key {unknown[0]!r} "
                    "(expected rest_days or working_days)"
                )
            for key, target in (("rest_days", rest), ("working_days", working)):
                for value in section.get(key, ()):
                    day = _parse_day(value, f"calendar year {year} {key}")
                    if day.year != year:
                        raise CalendarError(
                            f"calendar year {year} {key}: {day.isoformat()} is not in {year}"
                        )
                    target.add(day)
        return cls(frozenset(rest), frozenset(working), frozenset(years))


def _parse_day(value: date | str, what: str) -> date:
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise CalendarError(f"{what}: {value!r} is not a YYYY-MM-DD date") from None
    return _plain_date(value, what)


_NO_OVERRIDES: Final = CalendarOverrides()


@dataclass(frozen=True, slots=True)
class _Segment:
    """A run of consecutive covered years ``first_year..last_year`` whose working days are
    ``working[lo:hi]``: answers must stay inside the run they start in."""

    first_year: int
    last_year: int
    lo: int
    hi: int


class WorkingDayCalendar:
    """Working-day arithmetic on the mainland China calendar; immutable, equal by configuration.

    Conventions (``d``, ``a``, ``b`` dates; ``n`` an int):

    - ``is_working_day(d)``.
    - ``next_working_day(d)``: the first working day on or after ``d``;
      ``previous_working_day(d)``: the last working day on or before ``d``.
    - ``add_working_days(d, n)``: for ``n > 0`` the n-th working day strictly after ``d``
      (``n = 1`` is the next working day after ``d``); for ``n < 0`` the ``|n|``-th working day
      strictly before ``d``; for ``n = 0``, ``next_working_day(d)``.
    - ``working_days_between(a, b)``: the number of working days in the half-open interval
      ``(a, b]``; ``0`` when ``a == b``; ``-working_days_between(b, a)`` when ``b < a``. So it adds
      up (``between(a, b) + between(b, c) == between(a, c)``) and for a working day ``x`` after
      ``d``, ``add_working_days(d, working_days_between(d, x)) == x``.

    Every date a question touches, the answer included, must lie in a covered year, otherwise
    :class:`CalendarCoverageError` names the first uncovered year met.

    How it is fast: the covered years are laid out as one table indexed by ``ordinal - first``
    holding, for each day, whether it is a working day and its *rank* (how many working days
    fall on or before it); the working days themselves form a sorted list indexed by rank. So a
    question is two or three list lookups, whatever the distance: no per-day loop, no search.
    """

    __slots__ = (
        "_covered_years",
        "_first_ordinal",
        "_flags",
        "_overrides",
        "_rank",
        "_segment_by_day",
        "_size",
        "_working",
    )

    _overrides: CalendarOverrides
    _covered_years: frozenset[int]
    _first_ordinal: int
    _size: int
    _flags: bytes
    _rank: list[int]
    _segment_by_day: list[_Segment | None]
    _working: list[date]

    def __init__(self, overrides: CalendarOverrides | None = None) -> None:
        overrides = _NO_OVERRIDES if overrides is None else overrides
        official = _official_schedules()
        covered = frozenset(official) | overrides.covered_years
        for day in sorted(overrides.rest_days | overrides.working_days):
            if day.year not in covered:
                raise CalendarError(
                    f"{day.isoformat()} is in {day.year}, which the calendar does not cover: "
                    f"declare the year under `calendar: years: {day.year}:` with its full "
                    "schedule"
                )

        years = sorted(covered)
        first_ordinal = date(years[0], 1, 1).toordinal() if years else 1
        stop_ordinal = date(years[-1] + 1, 1, 1).toordinal() if years else 1
        flags = bytearray([_UNCOVERED]) * (stop_ordinal - first_ordinal)
        for year in years:
            offset = date(year, 1, 1).toordinal() - first_ordinal
            schedule = official.get(year) or _weekend_only_schedule(year)
            flags[offset : offset + len(schedule)] = schedule
        for day in overrides.rest_days:
            flags[day.toordinal() - first_ordinal] = _REST
        for day in overrides.working_days:
            flags[day.toordinal() - first_ordinal] = _WORKING

        working: list[date] = []
        rank: list[int] = []
        for offset, flag in enumerate(flags):
            if flag == _WORKING:
                working.append(date.fromordinal(first_ordinal + offset))
            rank.append(len(working))

        segment_by_day: list[_Segment | None] = [None] * len(flags)
        run_first: int | None = None
        for index, year in enumerate(years):
            if run_first is None:
                run_first = year
            if index + 1 < len(years) and years[index + 1] == year + 1:
                continue
            start = date(run_first, 1, 1).toordinal() - first_ordinal
            stop = date(year + 1, 1, 1).toordinal() - first_ordinal
            lo = rank[start - 1] if start else 0
            segment = _Segment(run_first, year, lo, rank[stop - 1])
            segment_by_day[start:stop] = [segment] * (stop - start)
            run_first = None

        setter = object.__setattr__
        setter(self, "_overrides", overrides)
        setter(self, "_covered_years", covered)
        setter(self, "_first_ordinal", first_ordinal)
        setter(self, "_size", len(flags))
        setter(self, "_flags", bytes(flags))
        setter(self, "_rank", rank)
        setter(self, "_segment_by_day", segment_by_day)
        setter(self, "_working", working)

    @classmethod
    def with_overrides(
        cls,
        *,
        rest_days: Iterable[date] = (),
        working_days: Iterable[date] = (),
        covered_years: Iterable[int] = (),
    ) -> WorkingDayCalendar:
        """Shorthand for ``WorkingDayCalendar(CalendarOverrides(...))`` from any iterables."""
        overrides = CalendarOverrides(
            frozenset(rest_days), frozenset(working_days), frozenset(covered_years)
        )
        return cls(overrides)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, WorkingDayCalendar):
            return NotImplemented
        return self._overrides == other._overrides

    def __hash__(self) -> int:
        return hash(self._overrides)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._overrides!r})"

    @property
    def overrides(self) -> CalendarOverrides:
        return self._overrides

    @property
    def covered_years(self) -> frozenset[int]:
        """Years this calendar answers for: the package's official ones and the declared ones."""
        return self._covered_years

    # Queries: each checks the day is covered (its segment), then indexes the tables. ----------

    def is_working_day(self, day: date) -> bool:
        offset = day.toordinal() - self._first_ordinal
        if 0 <= offset < self._size:
            flag = self._flags[offset]
            if flag != _UNCOVERED:
                return flag == _WORKING
        raise self._coverage_error(day.year)

    def next_working_day(self, day: date) -> date:
        """The first working day on or after ``day``."""
        return self.add_working_days(day, 0)

    def previous_working_day(self, day: date) -> date:
        """The last working day on or before ``day``."""
        offset = day.toordinal() - self._first_ordinal
        segment = self._segment_at(offset, day)
        index = self._rank[offset] - 1
        if index < segment.lo:
            raise self._coverage_error(segment.first_year - 1)
        return self._working[index]

    def add_working_days(self, day: date, n: int) -> date:
        """The n-th working day strictly after ``day`` (before, for negative ``n``); see class."""
        offset = day.toordinal() - self._first_ordinal
        # The segment check is written out here and below, not called: a call would cost as
        # much as the rest of the question.
        segment = self._segment_by_day[offset] if 0 <= offset < self._size else None
        if segment is None:
            raise self._coverage_error(day.year)
        # rank = working days on or before `day`; minus its own flag = those strictly before.
        if n > 0:
            index = self._rank[offset] + n - 1
        else:
            index = self._rank[offset] - self._flags[offset] + n
        if index >= segment.hi:
            raise self._coverage_error(segment.last_year + 1)
        if index < segment.lo:
            raise self._coverage_error(segment.first_year - 1)
        return self._working[index]

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in ``(start, end]``; negative when ``end < start``; see class."""
        first_ordinal = self._first_ordinal
        size = self._size
        segment_by_day = self._segment_by_day
        start_offset = start.toordinal() - first_ordinal
        end_offset = end.toordinal() - first_ordinal
        start_segment = segment_by_day[start_offset] if 0 <= start_offset < size else None
        if start_segment is None:
            raise self._coverage_error(start.year)
        end_segment = segment_by_day[end_offset] if 0 <= end_offset < size else None
        if end_segment is None:
            raise self._coverage_error(end.year)
        if start_segment is not end_segment:
            earlier = min(start_segment, end_segment, key=lambda segment: segment.first_year)
            raise self._coverage_error(earlier.last_year + 1)
        return self._rank[end_offset] - self._rank[start_offset]

    # Internals -------------------------------------------------------------------------------

    def _segment_at(self, offset: int, day: date) -> _Segment:
        if 0 <= offset < self._size:
            segment = self._segment_by_day[offset]
            if segment is not None:
                return segment
        raise self._coverage_error(day.year)

    def _coverage_error(self, year: int) -> CalendarCoverageError:
        official = official_schedule_years()
        declared = self._overrides.covered_years - official
        source = f"holidays {HOLIDAYS_VERSION} covers {_year_ranges(official)}"
        if declared:
            source += f"; the policy adds {_year_ranges(declared)}"
        return CalendarCoverageError(
            year,
            f"no official working-day schedule for {year} in the calendar data ({source}); "
            f"add the State Council's {year} schedule under `calendar: years: {year}:` in the "
            "policy file, or upgrade the holidays package",
        )
