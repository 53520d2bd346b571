"""Every example of docs/calendar.md holds: each line of a `calendar` block is
`function(arguments) ⇒ result`, run on the official calendar (`calendar-with-overrides` blocks on
the calendar of the page's YAML example), and the quoted coverage message is the real one."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from holidays.version import __version__ as HOLIDAYS_VERSION

from fangpin_rules.calendar import (
    CalendarCoverageError,
    CalendarOverrides,
    WorkingDayCalendar,
    add_months,
    assignment_due,
    due_within_months,
    due_within_working_days,
    grace_period_last_day,
    notice_earliest_end,
    official_schedule_years,
    quarter_of,
    quarters_between,
    working_days_late,
)

DOC = Path(__file__).resolve().parents[2] / "docs" / "calendar.md"
TEXT = DOC.read_text(encoding="utf-8")
ISO = re.compile(r"\d{4}-\d{2}-\d{2}")


def _block_lines(kind: str) -> list[str]:
    return [
        line.strip()
        for block in re.findall(rf"```{kind}\n(.*?)```", TEXT, flags=re.S)
        for line in block.strip().splitlines()
    ]


def _functions(cal: WorkingDayCalendar) -> dict[str, Callable[..., Any]]:
    return {
        "is_working_day": cal.is_working_day,
        "next_working_day": cal.next_working_day,
        "previous_working_day": cal.previous_working_day,
        "add_working_days": cal.add_working_days,
        "working_days_between": cal.working_days_between,
        "add_months": add_months,
        "assignment_due": lambda d: assignment_due(cal, d),
        "due_within_working_days": lambda d, n: due_within_working_days(cal, d, n),
        "due_within_months": lambda d, n: due_within_months(cal, d, n),
        "notice_earliest_end": lambda d, n: notice_earliest_end(cal, d, n),
        "grace_period_last_day": grace_period_last_day,
        "working_days_late": lambda a, b: working_days_late(cal, a, b),
        "quarter_of": quarter_of,
        "quarters_between": lambda a, b: " ".join(q.label for q in quarters_between(a, b)),
    }


def _value(text: str) -> Any:
    if ISO.fullmatch(text):
        return date.fromisoformat(text)
    if text in ("true", "false"):
        return text == "true"
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    return text


def _check(line: str, cal: WorkingDayCalendar) -> None:
    match = re.fullmatch(r"(\w+)\((.*)\) ⇒ (.+)", line)
    assert match, f"docs/calendar.md: cannot read example {line!r}"
    name, arguments, expected = match.groups()
    function = _functions(cal)[name]
    args = [_value(a.strip()) for a in arguments.split(",")]
    error = re.fullmatch(r"CalendarCoverageError\((\d{4})\)", expected)
    if error:
        with pytest.raises(CalendarCoverageError) as caught:
            function(*args)
        assert caught.value.year == int(error.group(1)), line
    else:
        assert function(*args) == _value(expected), line


CALENDAR_EXAMPLES = _block_lines("calendar")
OVERRIDE_EXAMPLES = _block_lines("calendar-with-overrides")


def test_the_page_has_its_examples() -> None:
    assert len(CALENDAR_EXAMPLES) >= 40
    assert len(OVERRIDE_EXAMPLES) >= 5


@pytest.mark.parametrize("line", CALENDAR_EXAMPLES)
def test_example(line: str) -> None:
    _check(line, WorkingDayCalendar())


@pytest.mark.parametrize("line", OVERRIDE_EXAMPLES)
def test_example_with_the_pages_overrides(line: str) -> None:
    (policy_yaml,) = re.findall(r"```yaml\n(.*?)```", TEXT, flags=re.S)
    years = yaml.safe_load(policy_yaml)["calendar"]["years"]
    if set(years) & official_schedule_years():
        pytest.fail("docs/calendar.md: the package now covers the example's year; pick a later one")
    _check(line, WorkingDayCalendar(CalendarOverrides.from_policy_years(years)))


def test_the_quoted_coverage_message_is_the_real_one() -> None:
    # the page quotes one release of holidays; any release from the declared floor up that
    # covers the same years gives that message with its own version in it (`make test-oldest`
    # runs this on the floor), and a release covering 2027 makes the page's example untrue
    (quoted,) = _block_lines("coverage-error")
    assert "With holidays 0.109, `is_working_day(2027-01-04)` fails with this message" in TEXT
    assert "With holidays 0.109 the covered years are\n2001–2026" in TEXT
    if official_schedule_years() != frozenset(range(2001, 2027)):
        pytest.fail(f"holidays {HOLIDAYS_VERSION} covers other years than docs/calendar.md "
                    "says (2001–2026): update the page")
    with pytest.raises(CalendarCoverageError) as caught:
        WorkingDayCalendar().is_working_day(date(2027, 1, 4))
    assert str(caught.value) == quoted.replace("holidays 0.109", f"holidays {HOLIDAYS_VERSION}")
