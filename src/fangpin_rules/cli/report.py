"""`fangpin report SUBREPORT ...`: reports across months and regions (the sub-reports are
registered by their own modules)."""

from __future__ import annotations

import argparse

from fangpin_rules.cli import report_duties, report_history, report_regional

SUBREPORTS = (report_history, report_regional, report_duties)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("report", help="reports across months and regions",
                            description="Reports across months and regions: "
                            + ", ".join(m.NAME for m in SUBREPORTS) + ".")
    reports = parser.add_subparsers(dest="report", metavar="REPORT")
    for module in SUBREPORTS:
        module.register(reports)
