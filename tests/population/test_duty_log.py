"""Periodic duties done: a duty log read beside the policy's `duties:` (daily and weekly duties
of §7 as well as monthly, quarterly and half-yearly ones), and which are overdue."""

from __future__ import annotations

import io
from datetime import date

import pytest

from fangpin_rules import Policy
from fangpin_rules.calendar import Frequency, parse_period, period_containing, periods_between
from fangpin_rules.population.duty_log import check_duties, read_duty_log


@pytest.mark.parametrize(("label", "frequency", "first", "last"), [
    ("2021-10-08", Frequency.DAILY, date(2021, 10, 8), date(2021, 10, 8)),
    ("2021-W40", Frequency.WEEKLY, date(2021, 10, 4), date(2021, 10, 10)),
    ("2020-W53", Frequency.WEEKLY, date(2020, 12, 28), date(2021, 1, 3)),
    ("2024-02", Frequency.MONTHLY, date(2024, 2, 1), date(2024, 2, 29)),
    ("2021Q4", Frequency.QUARTERLY, date(2021, 10, 1), date(2021, 12, 31)),
    ("2021H1", Frequency.HALF_YEARLY, date(2021, 1, 1), date(2021, 6, 30)),
])
def test_period_labels_read_back(label: str, frequency: Frequency, first: date,
                                 last: date) -> None:
    period = parse_period(label, frequency)
    assert (period.first_day, period.last_day) == (first, last)
    assert period_containing(last, frequency).label == label


@pytest.mark.parametrize(("label", "frequency"), [
    ("2021-W54", Frequency.WEEKLY), ("2021-13", Frequency.MONTHLY), ("2021Q5", Frequency.QUARTERLY),
    ("2021-10", Frequency.QUARTERLY), ("2021-02-30", Frequency.DAILY)])
def test_bad_period_labels_say_the_form(label: str, frequency: Frequency) -> None:
    with pytest.raises(ValueError, match="written like"):
        parse_period(label, frequency)


def test_periods_between_touch_both_ends() -> None:
    weeks = periods_between(date(2021, 10, 10), date(2021, 10, 11), Frequency.WEEKLY)
    assert [w.label for w in weeks] == ["2021-W40", "2021-W41"]
    assert periods_between(date(2021, 10, 11), date(2021, 10, 10), Frequency.DAILY) == ()


LOG = """duty,region,period,done_on
daily_summary,350181,2021-09-30,2021-09-30
daily_summary,350181,2021-10-08,2021-10-11
weekly_verification,350181,2021-W39,2021-10-03
"""


def report(fujian: Policy, log: str, since: date, as_of: date, regions: tuple[str, ...] = ()):
    duties = {k: v for k, v in fujian.checked.document.duties.items()
              if k in ("daily_summary", "weekly_verification")}
    entries, rejections = read_duty_log(io.StringIO(log), duties, as_of)
    return check_duties(duties, entries, fujian.checked.calendar, since, as_of,
                        regions), rejections


def test_daily_duties_are_owed_on_working_days_and_weekly_by_week(fujian: Policy) -> None:
    result, rejections = report(fujian, LOG, date(2021, 9, 30), date(2021, 10, 12))
    assert rejections == []
    daily = {r["period"]: r for r in result.rows if r["duty"] == "daily_summary"}
    # National Day holidays 10-01..10-07 owe nothing; Saturday 10-09 is a make-up working day
    assert list(daily) == ["2021-09-30", "2021-10-08", "2021-10-09", "2021-10-11",
                           "2021-10-12"]
    assert daily["2021-09-30"]["status"] == "done"
    assert (daily["2021-10-08"]["status"], daily["2021-10-08"]["late_working_days"]) == ("late", 2)
    assert daily["2021-10-09"]["status"] == "overdue"
    assert daily["2021-10-12"]["status"] == "open"  # due today: not yet overdue
    weekly = {r["period"]: r["status"] for r in result.rows if r["duty"] == "weekly_verification"}
    # W39 ends on Sunday 10-03, a holiday: due the next working day 10-08, done before it
    assert weekly == {"2021-W39": "done", "2021-W40": "overdue", "2021-W41": "open"}
    assert sum(result.counts.values()) == len(result.rows) == 8


def test_a_region_that_never_logged_owes_every_period(fujian: Policy) -> None:
    # Monday 10-11 to Tuesday 10-19: 6 days and week 41 overdue; 10-19 and week 42 open
    result, _ = report(fujian, "duty,region,period,done_on\n", date(2021, 10, 11),
                       date(2021, 10, 19), regions=("350181001",))
    assert result.counts == {"done": 0, "late": 0, "overdue": 7, "open": 2}
    assert {r["region"] for r in result.overdue()} == {"350181001"}


def test_every_problem_of_a_bad_row_is_reported(fujian: Policy) -> None:
    log = ("duty,region,period,done_on\n"
           "daily_sumary,3501,2021-10-08,2021-10-08\n"
           "weekly_verification,350181,2021-10,2021-13-01\n"
           "weekly_verification,350181,2021-W41,2021-10-08\n"
           "daily_summary,350181,2021-10-08,2021-10-30\n"
           "daily_summary,350181\n")
    _, rejections = report(fujian, log, date(2021, 10, 1), date(2021, 10, 20))
    assert [(r.line, [f for f, _ in r.problems]) for r in rejections] == [
        (2, ["duty", "region"]), (3, ["period", "done_on"]), (4, ["done_on"]),
        (5, ["done_on"]), (6, [None])]
    assert "did you mean 'daily_summary'" in rejections[0].problems[0][1]
    assert "before the period 2021-W41 began" in rejections[2].problems[0][1]
    assert "after the evaluation date" in rejections[3].problems[0][1]


def test_json_lines_log(fujian: Policy) -> None:
    log = ('{"duty": "weekly_verification", "region": "350181", "period": "2021-W40", '
           '"done_on": "2021-10-09"}\n'
           '{"duty": "weekly_verification", "region": "350181", "period": "2021-W40"}\n'
           '[1]\n')
    result, rejections = report(fujian, log, date(2021, 10, 4), date(2021, 10, 9))
    assert [(r.line, r.problems[0][0]) for r in rejections] == [(2, "done_on"), (3, None)]
    assert [r["status"] for r in result.rows if r["duty"] == "weekly_verification"] == ["done"]
