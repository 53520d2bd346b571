"""The working-day calendar against the State Council's notices, its coverage and its overrides.

The notices (国务院办公厅关于20XX年部分节假日安排的通知) are written out below from their text, not
taken from the `holidays` package, so a wrong package entry or a wrong use of it fails here.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, datetime, timedelta

import pytest
from holidays.constants import HALF_DAY, PUBLIC
from holidays.countries.china import China as _China
from holidays.countries.china import ChinaStaticHolidays
from holidays.holiday_base import HolidayBase
from holidays.version import __version__ as HOLIDAYS_VERSION

from fangpin_rules.calendar import (
    FIRST_NOTICE_YEAR,
    CalendarCoverageError,
    CalendarError,
    CalendarOverrides,
    WorkingDayCalendar,
    official_schedule_years,
)

D = date.fromisoformat
China: Callable[..., HolidayBase] = _China  # its constructor is untyped

# (holiday, first rest day, last rest day, make-up working days), per the year's notice. A run
# includes the weekend days it joins ("与周末连休"), so each run is bounded by working days.
OFFICIAL_NOTICES: dict[int, list[tuple[str, str, str, tuple[str, ...]]]] = {
    2021: [  # 国办发明电〔2020〕27号
        ("New Year", "2021-01-01", "2021-01-03", ()),
        ("Spring Festival", "2021-02-11", "2021-02-17", ("2021-02-07", "2021-02-20")),
        ("Qingming", "2021-04-03", "2021-04-05", ()),
        ("Labour Day", "2021-05-01", "2021-05-05", ("2021-04-25", "2021-05-08")),
        ("Dragon Boat", "2021-06-12", "2021-06-14", ()),
        ("Mid-Autumn", "2021-09-19", "2021-09-21", ("2021-09-18",)),
        ("National Day", "2021-10-01", "2021-10-07", ("2021-09-26", "2021-10-09")),
    ],
    2022: [  # 国办发明电〔2021〕11号
        ("New Year", "2022-01-01", "2022-01-03", ()),
        ("Spring Festival", "2022-01-31", "2022-02-06", ("2022-01-29", "2022-01-30")),
        ("Qingming", "2022-04-03", "2022-04-05", ("2022-04-02",)),
        ("Labour Day", "2022-04-30", "2022-05-04", ("2022-04-24", "2022-05-07")),
        ("Dragon Boat", "2022-06-03", "2022-06-05", ()),
        ("Mid-Autumn", "2022-09-10", "2022-09-12", ()),
        ("National Day", "2022-10-01", "2022-10-07", ("2022-10-08", "2022-10-09")),
    ],
    2023: [  # 国办发明电〔2022〕16号
        ("New Year", "2022-12-31", "2023-01-02", ()),
        ("Spring Festival", "2023-01-21", "2023-01-27", ("2023-01-28", "2023-01-29")),
        ("Qingming", "2023-04-05", "2023-04-05", ()),
        ("Labour Day", "2023-04-29", "2023-05-03", ("2023-04-23", "2023-05-06")),
        ("Dragon Boat", "2023-06-22", "2023-06-24", ("2023-06-25",)),
        # 中秋节、国庆节: 9月29日至10月6日放假调休，共8天。
        ("Mid-Autumn and National Day", "2023-09-29", "2023-10-06", ("2023-10-07", "2023-10-08")),
    ],
    2024: [  # 国办发明电〔2023〕7号
        ("New Year", "2023-12-30", "2024-01-01", ()),
        # The eve (2月9日) stays a working day: employers are only encouraged to give it off.
        ("Spring Festival", "2024-02-10", "2024-02-17", ("2024-02-04", "2024-02-18")),
        ("Qingming", "2024-04-04", "2024-04-06", ("2024-04-07",)),
        ("Labour Day", "2024-05-01", "2024-05-05", ("2024-04-28", "2024-05-11")),
        ("Dragon Boat", "2024-06-08", "2024-06-10", ()),
        ("Mid-Autumn", "2024-09-15", "2024-09-17", ("2024-09-14",)),
        ("National Day", "2024-10-01", "2024-10-07", ("2024-09-29", "2024-10-12")),
    ],
    2025: [  # 国办发明电〔2024〕12号
        ("New Year", "2025-01-01", "2025-01-01", ()),
        ("Spring Festival", "2025-01-28", "2025-02-04", ("2025-01-26", "2025-02-08")),
        ("Qingming", "2025-04-04", "2025-04-06", ()),
        ("Labour Day", "2025-05-01", "2025-05-05", ("2025-04-27",)),
        ("Dragon Boat", "2025-05-31", "2025-06-02", ()),
        # 国庆节、中秋节: 10月1日至8日放假调休，共8天。
        ("National Day and Mid-Autumn", "2025-10-01", "2025-10-08", ("2025-09-28", "2025-10-11")),
    ],
    2026: [  # 国务院办公厅 2025年11月4日
        ("New Year", "2026-01-01", "2026-01-03", ("2026-01-04",)),
        ("Spring Festival", "2026-02-15", "2026-02-23", ("2026-02-14", "2026-02-28")),
        ("Qingming", "2026-04-04", "2026-04-06", ()),
        ("Labour Day", "2026-05-01", "2026-05-05", ("2026-05-09",)),
        ("Dragon Boat", "2026-06-19", "2026-06-21", ()),
        ("Mid-Autumn", "2026-09-25", "2026-09-27", ()),
        ("National Day", "2026-10-01", "2026-10-07", ("2026-09-20", "2026-10-10")),
    ],
}

PERIODS = [
    pytest.param(first, last, make_up, id=f"{year}-{name}")
    for year, entries in OFFICIAL_NOTICES.items()
    for name, first, last, make_up in entries
]


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=k) for k in range((last - first).days + 1)]


def _is_weekend(day: date) -> bool:
    return day.weekday() >= 5


@pytest.fixture(scope="module")
def cal() -> WorkingDayCalendar:
    return WorkingDayCalendar()


# The official schedules -------------------------------------------------------------------------


@pytest.mark.parametrize(("first", "last", "make_up"), PERIODS)
def test_each_holiday_run_is_rest_and_bounded_by_working_days(
    cal: WorkingDayCalendar, first: str, last: str, make_up: tuple[str, ...]
) -> None:
    run = _days(D(first), D(last))
    assert [day for day in run if cal.is_working_day(day)] == []
    assert cal.is_working_day(D(first) - timedelta(days=1))
    assert cal.is_working_day(D(last) + timedelta(days=1))


@pytest.mark.parametrize(("first", "last", "make_up"), PERIODS)
def test_each_make_up_day_is_a_weekend_day_worked(
    cal: WorkingDayCalendar, first: str, last: str, make_up: tuple[str, ...]
) -> None:
    for day in map(D, make_up):
        assert _is_weekend(day), f"{day} is not a weekend day: not a make-up day"
        assert cal.is_working_day(day), f"{day} is a make-up working day"


@pytest.mark.parametrize("year", sorted(OFFICIAL_NOTICES))
def test_the_notice_is_the_only_departure_from_the_weekly_rhythm(
    cal: WorkingDayCalendar, year: int
) -> None:
    """No day of the year is off on a weekday or worked on a weekend unless the notice says so."""
    expected_weekdays_off = {
        day
        for _, first, last, _ in OFFICIAL_NOTICES[year]
        for day in _days(D(first), D(last))
        if not _is_weekend(day) and day.year == year
    }
    expected_weekends_worked = {
        D(day) for _, _, _, make_up in OFFICIAL_NOTICES[year] for day in make_up
    }
    # A New Year run listed under the next year may start on a weekday of this one.
    expected_weekdays_off |= {
        day
        for _, first, last, _ in OFFICIAL_NOTICES.get(year + 1, [])
        for day in _days(D(first), D(last))
        if not _is_weekend(day) and day.year == year
    }
    year_days = _days(date(year, 1, 1), date(year, 12, 31))
    weekdays_off = {d for d in year_days if not _is_weekend(d) and not cal.is_working_day(d)}
    weekends_worked = {d for d in year_days if _is_weekend(d) and cal.is_working_day(d)}
    assert weekdays_off == expected_weekdays_off
    assert weekends_worked == expected_weekends_worked


def test_the_calendar_agrees_with_the_package_on_every_covered_day(
    cal: WorkingDayCalendar,
) -> None:
    package = China(years=sorted(cal.covered_years), categories=(PUBLIC,), observed=True)
    disagreements = [
        day
        for day in _days(date(FIRST_NOTICE_YEAR, 1, 1), date(max(cal.covered_years), 12, 31))
        if cal.is_working_day(day) != package.is_working_day(day)
    ]
    assert disagreements == []


@pytest.mark.parametrize(
    "day",
    [D("2021-03-08"), D("2023-05-04"), D("2021-06-01"), D("2023-08-01")],
    ids=["womens-day", "youth-day", "childrens-day", "army-day"],
)
def test_half_day_holidays_are_working_days(cal: WorkingDayCalendar, day: date) -> None:
    # The package does list the day as a (half-day) holiday: counting that category would
    # make it a rest day, which this test would catch.
    both = China(years=day.year, categories=(PUBLIC, HALF_DAY))
    assert day in China(years=day.year, categories=(HALF_DAY,))
    assert not both.is_working_day(day)
    assert cal.is_working_day(day)


# Coverage ---------------------------------------------------------------------------------------


def test_covered_years_are_the_years_with_a_notice_in_the_package_data() -> None:
    with_notice = {
        year
        for year, entries in ChinaStaticHolidays.special_public_holidays.items()
        if entries and year >= FIRST_NOTICE_YEAR
    }
    assert official_schedule_years() == with_notice
    assert set(range(2021, 2027)) <= official_schedule_years()
    assert min(official_schedule_years()) == 2001
    assert WorkingDayCalendar().covered_years == official_schedule_years()


def test_the_floor_excludes_years_the_package_has_data_for() -> None:
    # holidays generates years back to 1950 but checks none before 2001 against a notice.
    assert len(China(years=2000)) > 0
    assert 2000 not in official_schedule_years()
    with pytest.raises(CalendarCoverageError) as caught:
        WorkingDayCalendar().is_working_day(date(2000, 6, 1))
    assert caught.value.year == 2000


def test_an_uncovered_year_is_an_error_naming_it() -> None:
    cal = WorkingDayCalendar()
    year = max(official_schedule_years()) + 1
    if HOLIDAYS_VERSION == "0.109":
        assert year == 2027
    with pytest.raises(CalendarCoverageError) as caught:
        cal.is_working_day(date(year, 1, 4))
    assert caught.value.year == year
    message = str(caught.value)
    assert f"no official working-day schedule for {year} in the calendar data" in message
    assert f"(holidays {HOLIDAYS_VERSION} covers 2001–{year - 1})" in message
    assert f"under `calendar: years: {year}:` in the policy file" in message
    assert isinstance(caught.value, CalendarError)
    assert isinstance(caught.value, ValueError)


def test_the_package_would_guess_an_uncovered_year_without_its_make_up_days() -> None:
    """Why coverage matters: `holidays` answers for 2027 anyway, with no 调休 at all."""
    year = max(official_schedule_years()) + 1
    guess = China(years=year)
    assert len(guess) > 0
    assert [day for day in guess.weekend_workdays if day.year == year] == []


Question = Callable[[WorkingDayCalendar, date], object]


@pytest.mark.parametrize(
    ("question", "side"),
    [
        pytest.param(lambda cal, last: cal.add_working_days(last, 1), "after", id="add-past-end"),
        pytest.param(
            lambda cal, last: cal.next_working_day(last + timedelta(days=1)),
            "after",
            id="next-in-uncovered-year",
        ),
        pytest.param(
            lambda cal, last: cal.working_days_between(
                last - timedelta(days=30), last + timedelta(5)
            ),
            "after",
            id="between-into-uncovered-year",
        ),
        pytest.param(
            lambda cal, last: cal.previous_working_day(date(FIRST_NOTICE_YEAR, 1, 1)),
            "before",
            id="previous-before-start",
        ),
        pytest.param(
            lambda cal, last: cal.add_working_days(date(FIRST_NOTICE_YEAR, 1, 4), -5),
            "before",
            id="add-back-before-start",
        ),
    ],
)
def test_an_answer_outside_the_covered_years_is_an_error(question: Question, side: str) -> None:
    cal = WorkingDayCalendar()
    last = date(max(cal.covered_years), 12, 31)
    with pytest.raises(CalendarCoverageError) as caught:
        question(cal, last)
    assert caught.value.year == (last.year + 1 if side == "after" else FIRST_NOTICE_YEAR - 1)


def test_questions_up_to_the_edges_of_the_covered_years_are_answered(
    cal: WorkingDayCalendar,
) -> None:
    # 2026-12-31 is a Thursday, 2001-01-01 New Year's Day and 2001-01-02 a working Tuesday.
    assert cal.next_working_day(D("2026-12-31")) == D("2026-12-31")
    assert cal.add_working_days(D("2026-12-30"), 1) == D("2026-12-31")
    assert cal.previous_working_day(D("2001-01-02")) == D("2001-01-02")
    assert cal.next_working_day(D("2001-01-01")) == D("2001-01-02")
    assert cal.working_days_between(D("2001-01-01"), D("2001-01-05")) == 4


# Query conventions ------------------------------------------------------------------------------


def test_add_working_days_conventions(cal: WorkingDayCalendar) -> None:
    # 2021-10-02 is a rest day inside the National Day holiday; 2021-10-08 a working Friday.
    assert cal.add_working_days(D("2021-09-30"), 1) == D("2021-10-08")
    assert cal.add_working_days(D("2021-10-02"), 1) == D("2021-10-08")
    assert cal.add_working_days(D("2021-10-08"), 1) == D("2021-10-09")  # make-up Saturday
    assert cal.add_working_days(D("2021-10-02"), 0) == D("2021-10-08")
    assert cal.add_working_days(D("2021-10-08"), 0) == D("2021-10-08")
    assert cal.add_working_days(D("2021-10-08"), -1) == D("2021-09-30")
    assert cal.add_working_days(D("2021-10-02"), -1) == D("2021-09-30")
    assert cal.add_working_days(D("2021-10-02"), -2) == D("2021-09-29")


def test_next_and_previous_working_day(cal: WorkingDayCalendar) -> None:
    assert cal.next_working_day(D("2021-10-01")) == D("2021-10-08")
    assert cal.next_working_day(D("2021-09-30")) == D("2021-09-30")
    assert cal.previous_working_day(D("2021-10-07")) == D("2021-09-30")
    assert cal.previous_working_day(D("2021-10-08")) == D("2021-10-08")
    assert cal.previous_working_day(D("2021-10-10")) == D("2021-10-09")


def test_working_days_between_is_half_open_and_signed(cal: WorkingDayCalendar) -> None:
    assert cal.working_days_between(D("2021-09-30"), D("2021-09-30")) == 0
    assert cal.working_days_between(D("2021-09-29"), D("2021-09-30")) == 1
    assert cal.working_days_between(D("2021-09-30"), D("2021-10-07")) == 0
    assert cal.working_days_between(D("2021-09-30"), D("2021-10-11")) == 3
    assert cal.working_days_between(D("2021-10-11"), D("2021-09-30")) == -3
    assert cal.working_days_between(D("2021-01-01"), D("2022-01-01")) == 250


def _walk_add(cal: WorkingDayCalendar, day: date, n: int) -> date:
    step = 1 if n > 0 else -1
    if n == 0:
        while not cal.is_working_day(day):
            day += timedelta(days=1)
        return day
    remaining = abs(n)
    while remaining:
        day += timedelta(days=step)
        remaining -= cal.is_working_day(day)
    return day


def test_fast_answers_equal_a_day_by_day_walk_and_the_packages_own(cal: WorkingDayCalendar) -> None:
    package = China(years=range(2020, 2028), categories=(PUBLIC,), observed=True)
    rng = random.Random(7152)
    for _ in range(400):
        day = date(2021, 1, 1) + timedelta(days=rng.randint(0, 5 * 365))
        n = rng.randint(-25, 25)
        assert (
            cal.add_working_days(day, n)
            == _walk_add(cal, day, n)
            == package.get_nth_working_day(day, n)
        )
        end = day + timedelta(days=rng.randint(-200, 200))
        counted = cal.working_days_between(day, end)
        if end >= day:
            walked = sum(cal.is_working_day(d) for d in _days(day + timedelta(days=1), end))
            assert counted == walked
            if end > day:
                assert counted == package.get_working_days_count(day + timedelta(days=1), end)
        else:
            assert counted == -cal.working_days_between(end, day)
        middle = day + timedelta(days=rng.randint(0, 90))
        far = middle + timedelta(days=rng.randint(0, 90))
        assert cal.working_days_between(day, middle) + cal.working_days_between(middle, far) == (
            cal.working_days_between(day, far)
        )
        if n > 0:
            target = cal.add_working_days(day, n)
            assert cal.working_days_between(day, target) == n


# Overrides --------------------------------------------------------------------------------------


def test_an_added_rest_day_is_a_rest_day() -> None:
    cal = WorkingDayCalendar.with_overrides(rest_days=[D("2021-09-30")])
    assert not cal.is_working_day(D("2021-09-30"))
    assert cal.add_working_days(D("2021-09-29"), 1) == D("2021-10-08")
    assert WorkingDayCalendar().add_working_days(D("2021-09-29"), 1) == D("2021-09-30")


def test_an_added_working_day_is_a_working_day() -> None:
    cal = WorkingDayCalendar.with_overrides(working_days=[D("2021-10-07")])
    assert cal.is_working_day(D("2021-10-07"))
    assert cal.add_working_days(D("2021-09-30"), 1) == D("2021-10-07")
    assert cal.working_days_between(D("2021-09-30"), D("2021-10-08")) == 2


def _first(days: list[date], weekend: bool) -> date:
    return next(day for day in days if _is_weekend(day) == weekend)


def test_a_declared_year_is_covered_from_weekends_and_its_listed_days_only() -> None:
    year = max(official_schedule_years()) + 1
    rest_day = _first(_days(date(year, 1, 1), date(year, 1, 7)), weekend=False)
    make_up = _first(_days(date(year, 10, 8), date(year, 10, 14)), weekend=True)
    national_day_weekday = _first(_days(date(year, 10, 1), date(year, 10, 7)), weekend=False)
    cal = WorkingDayCalendar.with_overrides(
        rest_days=[rest_day], working_days=[make_up], covered_years=[year]
    )
    assert year in cal.covered_years
    assert not cal.is_working_day(rest_day)
    assert cal.is_working_day(make_up)
    # No holiday is guessed for a declared year: a National Day weekday works unless listed.
    assert cal.is_working_day(national_day_weekday)
    assert not cal.is_working_day(_first(_days(date(year, 3, 1), date(year, 3, 7)), weekend=True))
    first_working = _first(
        [d for d in _days(date(year, 1, 1), date(year, 1, 9)) if d != rest_day], weekend=False
    )
    assert cal.add_working_days(date(year - 1, 12, 31), 1) == first_working
    with pytest.raises(CalendarCoverageError) as caught:
        cal.is_working_day(date(year + 1, 1, 5))
    assert caught.value.year == year + 1


def test_from_policy_years_reads_the_policy_section() -> None:
    overrides = CalendarOverrides.from_policy_years(
        {2027: {"rest_days": ["2027-01-01", D("2027-10-04")], "working_days": ["2027-10-09"]}}
    )
    assert overrides == CalendarOverrides(
        frozenset({D("2027-01-01"), D("2027-10-04")}),
        frozenset({D("2027-10-09")}),
        frozenset({2027}),
    )
    cal = WorkingDayCalendar(overrides)
    assert not cal.is_working_day(D("2027-10-04"))  # a Monday
    assert cal.is_working_day(D("2027-10-09"))  # a Saturday


def test_a_gap_between_covered_years_is_never_crossed() -> None:
    last = max(official_schedule_years())
    cal = WorkingDayCalendar.with_overrides(covered_years=[last + 2])
    assert cal.is_working_day(date(last + 2, 3, 1)) == (not _is_weekend(date(last + 2, 3, 1)))
    with pytest.raises(CalendarCoverageError) as caught:
        cal.add_working_days(date(last, 12, 31), 1)
    assert caught.value.year == last + 1
    with pytest.raises(CalendarCoverageError) as caught:
        cal.working_days_between(date(last, 12, 1), date(last + 2, 1, 10))
    assert caught.value.year == last + 1
    with pytest.raises(CalendarCoverageError) as caught:
        cal.previous_working_day(date(last + 2, 1, 1))
    assert caught.value.year == last + 1
    assert f"the policy adds {last + 2}" in str(caught.value)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        pytest.param(
            lambda: CalendarOverrides(frozenset({D("2021-10-08")}), frozenset({D("2021-10-08")})),
            "listed both as a rest day and as a working day: 2021-10-08",
            id="both",
        ),
        pytest.param(
            lambda: WorkingDayCalendar.with_overrides(rest_days=[D("2030-10-08")]),
            "2030-10-08 is in 2030, which the calendar does not cover",
            id="day-in-uncovered-year",
        ),
        pytest.param(
            lambda: CalendarOverrides.from_policy_years({2027: {"rest_days": ["2028-01-01"]}}),
            "calendar year 2027 rest_days: 2028-01-01 is not in 2027",
            id="day-outside-its-year",
        ),
        pytest.param(
            lambda: CalendarOverrides.from_policy_years({2027: {"holidays": []}}),
            "calendar year 2027: unknown key 'holidays'",
            id="unknown-key",
        ),
        pytest.param(
            lambda: CalendarOverrides.from_policy_years({2027: {"rest_days": ["2027-13-01"]}}),
            "'2027-13-01' is not a YYYY-MM-DD date",
            id="bad-date",
        ),
        pytest.param(
            lambda: CalendarOverrides(frozenset({datetime(2021, 10, 8, 9)})),
            "a rest day must be a date",
            id="datetime",
        ),
        pytest.param(
            lambda: CalendarOverrides(covered_years=frozenset({"2027"})),  # type: ignore[arg-type]
            "a covered year must be a year number",
            id="year-not-int",
        ),
    ],
)
def test_invalid_overrides_are_errors(make: Callable[[], object], message: str) -> None:
    with pytest.raises(CalendarError) as caught:
        make()
    assert message in str(caught.value)


# Value semantics --------------------------------------------------------------------------------


def test_calendars_are_immutable_and_equal_by_configuration() -> None:
    cal = WorkingDayCalendar()
    with pytest.raises(AttributeError):
        cal._flags = b""
    with pytest.raises(AttributeError):
        del cal._flags
    same = WorkingDayCalendar(CalendarOverrides())
    other = WorkingDayCalendar.with_overrides(working_days=[D("2021-10-07")])
    assert cal == same and hash(cal) == hash(same)
    assert cal != other
    assert len({cal, same, other}) == 2
    assert other.overrides.working_days == frozenset({D("2021-10-07")})
