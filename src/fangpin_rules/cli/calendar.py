"""`fangpin calendar add DATE N | between DATE DATE | check DATE`: working-day questions on
mainland China's calendar (weekends, statutory holidays, make-up working days)."""

from __future__ import annotations

import argparse
from datetime import date
from typing import Any

from fangpin_rules.cli.common import EXIT_OK, UsageError, load_or_report


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("calendar", help="working-day questions",
                            description="Answer working-day questions on mainland China's "
                            "calendar; with --policy, the policy's calendar corrections apply.")
    parser.add_argument("--policy", metavar="POLICY",
                        help="apply this policy's `calendar:` corrections")
    verbs = parser.add_subparsers(dest="question", metavar="QUESTION", required=True)
    add = verbs.add_parser("add", help="the Nth working day after DATE")
    add.add_argument("date", metavar="DATE")
    add.add_argument("n", metavar="N", type=int)
    between = verbs.add_parser("between", help="working days after FROM up to and including TO")
    between.add_argument("start", metavar="FROM")
    between.add_argument("end", metavar="TO")
    check = verbs.add_parser("check", help="whether DATE is a working day")
    check.add_argument("date", metavar="DATE")
    parser.set_defaults(run=run)


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"'{text}' is not a date (YYYY-MM-DD)") from None


def run(args: argparse.Namespace) -> int:
    from fangpin_rules.calendar import CalendarError, WorkingDayCalendar

    calendar: Any = load_or_report(args.policy).checked.calendar if args.policy else \
        WorkingDayCalendar()
    try:
        if args.question == "add":
            if args.n < 1:
                raise UsageError("N must be 1 or more")
            print(calendar.add_working_days(_date(args.date), args.n).isoformat())
        elif args.question == "between":
            print(calendar.working_days_between(_date(args.start), _date(args.end)))
        else:
            day = _date(args.date)
            working = calendar.is_working_day(day)
            print(f"{day.isoformat()} {'working day' if working else 'rest day'}")
    except CalendarError as exc:
        raise UsageError(str(exc)) from None
    return EXIT_OK
