"""How fast the working-day calendar answers: 1,000,000 mixed questions.

    PYTHONPATH=src python benchmarks/bench_calendar.py [--questions N]

A third each of ``is_working_day``, ``add_working_days`` (1 to 30 working days) and
``working_days_between`` (spans up to 120 days), on random dates of 2021-2026 drawn beforehand,
so the timing is of the calendar, not of the random generator. Prints the figures; asserts
nothing about time (machines differ), but checks a sample of answers against a day-by-day walk
so a fast wrong calendar cannot pass for a fast one.
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import date, timedelta

from fangpin_rules.calendar import WorkingDayCalendar

FIRST = date(2021, 1, 1).toordinal()
LAST = date(2026, 8, 31).toordinal()  # + 120 days or + 30 working days stays in 2026


def _walk_add(calendar: WorkingDayCalendar, day: date, n: int) -> date:
    while n:
        day += timedelta(days=1)
        n -= calendar.is_working_day(day)
    return day


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=1_000_000)
    args = parser.parse_args()
    count: int = args.questions

    started = time.perf_counter()
    calendar = WorkingDayCalendar()
    build_seconds = time.perf_counter() - started

    rng = random.Random(20210604)
    per_kind = count // 3
    days = [date.fromordinal(rng.randint(FIRST, LAST)) for _ in range(per_kind)]
    steps = [rng.randint(1, 30) for _ in range(per_kind)]
    ends = [day + timedelta(days=rng.randint(0, 120)) for day in days]

    is_working_day = calendar.is_working_day
    add_working_days = calendar.add_working_days
    working_days_between = calendar.working_days_between

    timings: dict[str, float] = {}
    started = time.perf_counter()
    working = sum(map(is_working_day, days))
    timings["is_working_day"] = time.perf_counter() - started
    started = time.perf_counter()
    added = list(map(add_working_days, days, steps))
    timings["add_working_days"] = time.perf_counter() - started
    started = time.perf_counter()
    counted = list(map(working_days_between, days, ends))
    timings["working_days_between"] = time.perf_counter() - started

    for index in range(0, per_kind, max(1, per_kind // 200)):
        assert added[index] == _walk_add(calendar, days[index], steps[index])
        span = (ends[index] - days[index]).days
        walked = sum(
            calendar.is_working_day(days[index] + timedelta(days=k)) for k in range(1, span + 1)
        )
        assert counted[index] == walked

    total_questions = 3 * per_kind
    total_seconds = sum(timings.values())
    years = len(calendar.covered_years)
    print(f"calendar built in {build_seconds * 1000:.1f} ms, covering {years} years")
    for name, seconds in timings.items():
        print(f"{name:>22}: {per_kind:>9,} in {seconds:.3f} s = {per_kind / seconds:>12,.0f} /s")
    print(
        f"{'all':>22}: {total_questions:>9,} in {total_seconds:.3f} s = "
        f"{total_questions / total_seconds:>12,.0f} /s  ({working:,} working days drawn)"
    )


if __name__ == "__main__":
    main()
