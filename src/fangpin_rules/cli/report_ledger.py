"""`fangpin report ledger POLICY HOUSEHOLDS --month YYYY-MM`: the monthly risk-warning ledger
(§5, §7) per region at the level asked (population/ledger.py). With `-o ledger.xlsx` it is an
Excel workbook, its figures headed in Chinese (`--lang en`: English) (ledger/summary.py)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from fangpin_rules.cli.report import add_inputs, add_level

    parser = sub.add_parser("ledger", help="the monthly ledger (§5, §7) per region",
                            description=__doc__)
    add_inputs(parser, quarter=False)
    add_level(parser, "village")
    parser.add_argument("-o", "--output", metavar="OUT",
                        help="the ledger (default stdout); a name ending in .xlsx writes an "
                        "Excel workbook (--format is for the text forms)")
    parser.add_argument("--lang", choices=("zh", "en"), default=None,
                        help="the headers of an .xlsx output (default zh)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from fangpin_rules.cli.common import UsageError
    from fangpin_rules.cli.report import report_run
    from fangpin_rules.population.ledger import monthly_ledger
    from fangpin_rules.population.tables import render

    workbook = bool(args.output) and args.output.lower().endswith(".xlsx")
    if args.lang is not None and not workbook:
        raise UsageError("--lang is for a workbook: give -o a file ending in .xlsx")
    with report_run(args, "ledger", {"-o": args.output or "-"}) as (report, files):
        table = monthly_ledger(report.policy, report.households(args.households),
                               report.period, args.by)
        out = files.open(args.output)
        if workbook:
            from fangpin_rules import __version__
            from fangpin_rules.ledger.summary import write_summary_workbook

            counts = report.counts
            out.flush()
            write_summary_workbook(getattr(out, "buffer"), table, report.policy,  # noqa: B009
                                   args.lang or "zh", report.period.last, __version__,
                                   {"read": counts.read, "decided": counts.decided,
                                    "rejected": counts.rejected})
        else:
            out.write(render(table, args.format))
    return report.finish()
