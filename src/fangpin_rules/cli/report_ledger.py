"""`fangpin report ledger POLICY HOUSEHOLDS --month YYYY-MM`: the monthly risk-warning ledger
(§5, §7) per region at the level asked (population/ledger.py)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from fangpin_rules.cli.report import add_inputs, add_level

    parser = sub.add_parser("ledger", help="the monthly ledger (§5, §7) per region",
                            description=__doc__)
    add_inputs(parser, quarter=False)
    add_level(parser, "village")
    parser.add_argument("-o", "--output", metavar="OUT", help="the ledger (default stdout)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from fangpin_rules.cli.report import report_run
    from fangpin_rules.population.ledger import monthly_ledger
    from fangpin_rules.population.tables import render

    with report_run(args, "ledger", {"-o": args.output or "-"}) as (report, files):
        table = monthly_ledger(report.policy, report.households(args.households),
                               report.period, args.by)
        files.open(args.output).write(render(table, args.format))
    return report.finish()
