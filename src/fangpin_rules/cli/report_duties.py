"""`fangpin report duties LOG --since DATE --as-of DATE`: which periodic duties of which region
are overdue or were done late, from a duty log read beside the policy's `duties:`."""

from __future__ import annotations

import argparse
import sys

from fangpin_rules.cli.common import EXIT_OK, EXIT_REJECTED, UsageError, load_or_report, open_input
from fangpin_rules.text import safe_text

NAME = "duties"
DEFAULT_POLICY = "policies/fujian_2021.yaml"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(NAME, help="periodic duties overdue or done late, from a duty log",
                            description="Read a duty log (CSV duty,region,period,done_on or JSON "
                            "lines) and list, for every duty of the policy and every region, the "
                            "periods between --since and --as-of not done in time.")
    parser.add_argument("log", metavar="LOG", help="the duty log (CSV or JSON lines; - for stdin)")
    parser.add_argument("--since", required=True, metavar="DATE",
                        help="first day looked at")
    parser.add_argument("--as-of", required=True, metavar="DATE")
    parser.add_argument("--policy", default=DEFAULT_POLICY, metavar="POLICY",
                        help=f"policy file (default: {DEFAULT_POLICY})")
    parser.add_argument("--region", action="append", default=[], metavar="CODE",
                        help="a region that owes the duties even if the log never names it "
                        "(repeatable)")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from fangpin_rules.calendar import CalendarError
    from fangpin_rules.engine.policy import DateError, parse_date
    from fangpin_rules.engine.serialize import dumps
    from fangpin_rules.population.duty_log import check_duties, read_duty_log
    from fangpin_rules.population.regions import is_region_code

    policy = load_or_report(args.policy)
    try:
        since, as_of = parse_date(args.since), parse_date(args.as_of)
    except DateError as exc:
        raise UsageError(str(exc)) from None
    if since > as_of:
        raise UsageError("--since must not be after --as-of")
    for code in args.region:
        if not is_region_code(code):
            raise UsageError(f"--region {safe_text(code)!r}: a division code has 6, 9 or 12 "
                             "digits")
    duties = policy.checked.document.duties
    with open_input(args.log) as stream:
        entries, rejections = read_duty_log(stream, duties, as_of)
    for rejection in rejections:
        for field, reason in rejection.problems:
            where = f"{field}: " if field else ""
            print(safe_text(f"{args.log}:{rejection.line}: {where}{reason}"), file=sys.stderr)
    try:
        report = check_duties(duties, entries, policy.checked.calendar, since, as_of,
                              args.region)
    except CalendarError as exc:
        raise UsageError(str(exc)) from None
    summary = report.to_json()
    summary["log"] = {"rows": len(entries) + len(rejections), "read": len(entries),
                      "rejected": len(rejections)}
    if args.format == "json":
        print(dumps(summary))
    else:
        counts = summary["counts"]
        print(f"{summary['periods']} duty-periods from {since} to {as_of}: "
              f"{counts['done']} done, {counts['late']} late, {counts['overdue']} overdue, "
              f"{counts['open']} still open")
        for row in summary["not_done_in_time"]:
            late = (f" done {row['done_on']}, {row['late_working_days']} working day(s) late"
                    if row["status"] == "late" else "")
            print(safe_text(f"{row['status']:<8} {row['duty']:<22} {row['region']:<12} "
                            f"{row['period']:<10} due {row['due']}{late} [{row['cite']}]"))
    return EXIT_REJECTED if rejections else EXIT_OK
