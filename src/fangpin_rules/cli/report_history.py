"""`fangpin report history MONTH=FILE ... [--decisions MONTH=FILE ...]`: each household's
monitoring history over monthly snapshots, and the findings only a history shows
(population/history.py)."""

from __future__ import annotations

import argparse
import csv
import sys
from typing import IO, Any

from fangpin_rules.cli.common import EXIT_OK, EXIT_REJECTED, open_input

NAME = "history"
CSV_COLUMNS = ("household_id", "code", "cite", "month", "quarter", "reason", "recorded_start")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from fangpin_rules.cli.report import add_months

    parser = sub.add_parser(NAME, help="households' monitoring histories over monthly files",
                            description="Read the household files of several months (each "
                            "sorted by household_id) side by side, decide each month as of its "
                            "last day (or read its earlier decisions), and write per household "
                            "its timeline and findings (§4, §9, §11, §14).")
    add_months(parser, decisions=True)
    parser.add_argument("--cases", metavar="CASES",
                        help="case records: their visits are the cadres' home visits (§11)")
    parser.add_argument("--format", choices=("json", "csv"), default="json",
                        help="json: one history a line; csv: one finding a row")
    parser.add_argument("--engine", choices=("record", "columnar"), default="record",
                        help="decide each month's households one by one (record, the "
                        "default) or in columns, 10,000 households read ahead across the "
                        "months (the same histories; a policy it cannot express is an error "
                        "naming the construct)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from fangpin_rules.cli.eval import read_cases
    from fangpin_rules.cli.report import columnar_months_or_report, month_pairs, months_run
    from fangpin_rules.population.history import HistoryRun, history, visits_by_household

    counts = HistoryRun()
    with months_run(args, {"the cases": [args.cases]}) as months:
        if args.engine == "columnar":
            columnar_months_or_report(months.policy,
                                      [label for label, _ in month_pairs(args.months)])
        visits: dict[str, Any] = {}
        if args.cases:
            with open_input(args.cases) as case_source:
                cases, _, _ = read_cases(case_source, months.rejects)
            visits = visits_by_household(c for own in cases.values() for c in own)
        out = months.outputs.open(args.output)
        _write(history(months.policy, months.months, visits=visits,
                       on_reject=months.on_reject, run=counts, engine=args.engine),
               out, args.format)
    found = ", ".join(f"{code} {n}" for code, n in counts.findings.items() if n)
    decisions = (f"; decisions read {counts.decisions_read}, used {counts.decisions_used}, "
                 f"rejected {counts.decisions_rejected}" if args.decisions else "")
    print(f"households {counts.households}; records read {counts.read}, decided "
          f"{counts.decided}, rejected {counts.rejected}{decisions}; findings: "
          f"{found or 'none'}", file=sys.stderr)
    return EXIT_REJECTED if counts.rejected or counts.decisions_rejected else EXIT_OK


def _write(results: Any, out: IO[str], form: str) -> None:
    from fangpin_rules.engine.serialize import dumps

    if form == "json":
        for result in results:
            out.write(dumps(result) + "\n")
        return
    writer = csv.DictWriter(out, CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for result in results:
        for finding in result["findings"]:
            writer.writerow({"household_id": result["household_id"], **finding})
