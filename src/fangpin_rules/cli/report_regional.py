"""`fangpin report regional MONTH=FILE ... [--events EVENTS.csv]`: the policy's regional
warnings (§3, §16) over monthly household files (population/regional.py)."""

from __future__ import annotations

import argparse
import sys
from contextlib import ExitStack
from typing import TYPE_CHECKING

from fangpin_rules.cli.common import (
    EXIT_OK,
    EXIT_REJECTED,
    UsageError,
    load_or_report,
    open_input,
    policy_files,
)
from fangpin_rules.cli.outputs import Outputs, check_collisions
from fangpin_rules.cli.report_history import DEFAULT_POLICY, _month_files
from fangpin_rules.text import safe_text

if TYPE_CHECKING:
    from fangpin_rules.engine import Policy

NAME = "regional"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(NAME, help="regional warnings (§3, §16) over monthly files",
                            description="Decide the household files of several months and "
                            "evaluate the policy's `regional_warnings:` over each region's "
                            "households: a warning names the region, the period, the figures "
                            "and the article.")
    parser.add_argument("months", nargs="+", metavar="MONTH=FILE",
                        help="a month written YYYY-MM and its household file")
    parser.add_argument("--policy", default=DEFAULT_POLICY, metavar="POLICY",
                        help=f"policy file (default: {DEFAULT_POLICY})")
    parser.add_argument("--events", metavar="CSV",
                        help="region-level events: CSV kind,region,month (a typhoon's "
                        "townships, a price fall's villages)")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("-o", "--output", metavar="FILE", help="output (default: stdout)")
    parser.add_argument("--rejects", metavar="FILE",
                        help="rejected records, JSON lines (default: stderr)")
    parser.add_argument("--engine", choices=("record", "columnar"), default="record",
                        help="decide each month's households one by one (record, the "
                        "default) or in columns, 5,000 at a time (the same warnings)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from fangpin_rules.engine.records import Rejection
    from fangpin_rules.engine.serialize import dumps
    from fangpin_rules.population.history import HistoryInputError, MonthFile
    from fangpin_rules.population.regional import (
        RegionalRun,
        describe,
        read_events,
        regional_warnings,
    )

    pairs = _month_files(args.months)
    policy = load_or_report(args.policy)
    check_collisions({"the policy": policy_files(policy),
                      "a monthly file": [path for _, path in pairs],
                      "the events": [args.events]},
                     {"-o": args.output or "-", "--rejects": args.rejects})
    if args.engine == "columnar":
        _columnar_or_report(policy, [label for label, _ in pairs])
    counts = RegionalRun()
    try:
        events = []
        if args.events:
            with open_input(args.events) as stream:
                events = read_events(stream, args.events)
        with Outputs() as outputs, ExitStack() as inputs:
            rejects = outputs.open(args.rejects) if args.rejects else sys.stderr

            def on_reject(name: str, rejection: Rejection) -> None:
                rejects.write(dumps({"file": name, **rejection.to_json()}) + "\n")

            files = [MonthFile(month, path, inputs.enter_context(open_input(path)))
                     for month, path in pairs]
            warnings = regional_warnings(policy, files, events, on_reject=on_reject,
                                         run=counts, engine=args.engine)
            out = outputs.open(args.output)
            for warning in warnings:
                out.write((dumps(warning) if args.format == "json"
                           else safe_text(describe(warning))) + "\n")
    except HistoryInputError as exc:
        raise UsageError(safe_text(str(exc))) from None
    print(f"records read {counts.read}, decided {counts.decided}, rejected {counts.rejected}"
          f" ({counts.without_region} without a region code); regional warnings "
          f"{len(warnings)}", file=sys.stderr)
    return EXIT_REJECTED if counts.rejected else EXIT_OK


def _columnar_or_report(policy: Policy, months: list[str]) -> None:
    """The policy compiled for columns on each month's last day, or its refusal reported."""
    from fangpin_rules.cli.report import columnar_or_report
    from fangpin_rules.population.history import month_of

    try:
        days = [month_of(label)[1] for label in months]
    except ValueError:
        return  # a bad month: the run reports it as it does with either engine
    columnar_or_report(policy, days)
