"""`fangpin report regional MONTH=FILE ... [--events EVENTS.csv]`: the policy's regional
warnings (§3, §16) over monthly household files (population/regional.py)."""

from __future__ import annotations

import argparse
import sys

from fangpin_rules.cli.common import EXIT_OK, EXIT_REJECTED, open_input
from fangpin_rules.text import safe_text

NAME = "regional"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from fangpin_rules.cli.report import add_months

    parser = sub.add_parser(NAME, help="regional warnings (§3, §16) over monthly files",
                            description="Decide the household files of several months and "
                            "evaluate the policy's `regional_warnings:` over each region's "
                            "households: a warning names the region, the period, the figures "
                            "and the article.")
    add_months(parser)
    parser.add_argument("--events", metavar="CSV",
                        help="region-level events: CSV kind,region,month (a typhoon's "
                        "townships, a price fall's villages)")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("--engine", choices=("record", "columnar"), default="record",
                        help="decide each month's households one by one (record, the "
                        "default) or in columns, 10,000 at a time (the same warnings)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from fangpin_rules.cli.report import columnar_months_or_report, month_pairs, months_run
    from fangpin_rules.engine.serialize import dumps
    from fangpin_rules.population.regional import (
        RegionalRun,
        describe,
        read_events,
        regional_warnings,
    )

    counts = RegionalRun()
    with months_run(args, {"the events": [args.events]}) as months:
        if args.engine == "columnar":
            columnar_months_or_report(months.policy,
                                      [label for label, _ in month_pairs(args.months)])
        events = []
        if args.events:
            with open_input(args.events) as stream:  # a bad row: a usage error
                events = read_events(stream, args.events)
        warnings = regional_warnings(months.policy, months.months, events,
                                     on_reject=months.on_reject, run=counts,
                                     engine=args.engine)
        out = months.outputs.open(args.output)
        for warning in warnings:
            out.write((dumps(warning) if args.format == "json"
                       else safe_text(describe(warning))) + "\n")
    print(f"records read {counts.read}, decided {counts.decided}, rejected {counts.rejected}"
          f" ({counts.without_region} without a region code); regional warnings "
          f"{len(warnings)}", file=sys.stderr)
    return EXIT_REJECTED if counts.rejected else EXIT_OK
