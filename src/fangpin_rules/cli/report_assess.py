"""`fangpin report assess POLICY HOUSEHOLDS --quarter YYYYQn`: the figures an assessment
counts (§17) per county (or township, village) and period (population/assessment.py)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from fangpin_rules.cli.report import add_inputs, add_level

    parser = sub.add_parser("assess", help="the assessment figures (§17) per county",
                            description=__doc__)
    add_inputs(parser, quarter=True)
    add_level(parser, "county")
    parser.add_argument("-o", "--output", metavar="OUT", help="the figures (default stdout)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from fangpin_rules.cli.report import report_run
    from fangpin_rules.population.assessment import assessment
    from fangpin_rules.population.tables import render

    with report_run(args, "assess", {"-o": args.output or "-"}) as (report, files):
        table = assessment(report.policy, report.households(args.households), report.period,
                           args.by)
        files.open(args.output).write(render(table, args.format))
    return report.finish()
