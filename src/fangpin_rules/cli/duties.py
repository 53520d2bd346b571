"""`fangpin duties --as-of DATE`: each periodic duty's current period and the day it ends."""

from __future__ import annotations

import argparse

from fangpin_rules.cli.common import EXIT_OK, UsageError, load_or_report
from fangpin_rules.text import safe_text

DEFAULT_POLICY = "fujian-2021"  # the province's policy, which the package ships


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("duties", help="periodic duties and the day each period ends",
                            description="For a date, each duty of the policy's `duties:` "
                            "(monthly, quarterly, half-yearly) with its current period, the "
                            "day it ends and the last working day before that.")
    parser.add_argument("--as-of", required=True, metavar="DATE")
    parser.add_argument("--policy", default=DEFAULT_POLICY, metavar="POLICY",
                        help=f"policy file or id (default: {DEFAULT_POLICY})")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from fangpin_rules.calendar import CalendarError
    from fangpin_rules.engine.policy import DateError
    from fangpin_rules.engine.serialize import dumps

    policy = load_or_report(args.policy)
    try:
        duties = policy.duties_on(args.as_of)
    except (DateError, CalendarError) as exc:
        raise UsageError(str(exc)) from None
    if args.format == "json":
        print(dumps(duties))
        return EXIT_OK
    width = max((len(duty["period"]) for duty in duties), default=8)  # a day is 10 wide
    for duty in duties:
        print(safe_text(f"{duty['period']:<{width}} {duty['frequency']:<12} ends "
                        f"{duty['ends'].isoformat()} (last working day "
                        f"{duty['last_working_day'].isoformat()})  {duty['title']} "
                        f"[{duty['cite']}]"))
    return EXIT_OK
