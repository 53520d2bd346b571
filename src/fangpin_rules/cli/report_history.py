"""`fangpin report history MONTH=FILE ...`: each household's monitoring history over monthly
snapshots, and the findings only a history shows (population/history.py)."""

from __future__ import annotations

import argparse
import csv
import sys
from contextlib import ExitStack
from typing import IO, Any

from fangpin_rules.cli.common import (
    EXIT_OK,
    EXIT_REJECTED,
    UsageError,
    load_or_report,
    open_input,
    policy_files,
)
from fangpin_rules.cli.outputs import Outputs, check_collisions
from fangpin_rules.text import safe_text

NAME = "history"
DEFAULT_POLICY = "policies/fujian_2021.yaml"
CSV_COLUMNS = ("household_id", "code", "cite", "month", "quarter", "reason", "recorded_start")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(NAME, help="households' monitoring histories over monthly files",
                            description="Read the household files of several months (each "
                            "sorted by household_id) side by side, decide each month as of its "
                            "last day, and write per household its timeline and findings "
                            "(§4, §9, §11, §14).")
    parser.add_argument("months", nargs="+", metavar="MONTH=FILE",
                        help="a month written YYYY-MM and its household file")
    parser.add_argument("--policy", default=DEFAULT_POLICY, metavar="POLICY",
                        help=f"policy file (default: {DEFAULT_POLICY})")
    parser.add_argument("--cases", metavar="CASES",
                        help="case records: their visits are the cadres' home visits (§11)")
    parser.add_argument("--format", choices=("json", "csv"), default="json",
                        help="json: one history a line; csv: one finding a row")
    parser.add_argument("-o", "--output", metavar="FILE", help="output (default: stdout)")
    parser.add_argument("--rejects", metavar="FILE",
                        help="rejected records, JSON lines (default: stderr)")
    parser.set_defaults(run=run)


def _month_files(values: list[str]) -> list[tuple[str, str]]:
    pairs = []
    for value in values:
        month, sep, path = value.partition("=")
        if not sep or not path:
            raise UsageError(f"{safe_text(value)!r}: give a month and its file, as "
                             "2022-01=households-2022-01.jsonl")
        pairs.append((month, path))
    return pairs


def run(args: argparse.Namespace) -> int:
    from fangpin_rules.cli.eval import read_cases
    from fangpin_rules.engine.records import Rejection
    from fangpin_rules.engine.serialize import dumps
    from fangpin_rules.population.history import (
        HistoryInputError,
        HistoryRun,
        MonthFile,
        history,
        visits_by_household,
    )

    pairs = _month_files(args.months)
    policy = load_or_report(args.policy)
    check_collisions({"the policy": policy_files(policy),
                      "a monthly file": [path for _, path in pairs],
                      "the cases": [args.cases]},
                     {"-o": args.output or "-", "--rejects": args.rejects})
    counts = HistoryRun()
    with Outputs() as outputs, ExitStack() as inputs:
        rejects = outputs.open(args.rejects) if args.rejects else sys.stderr

        def on_reject(name: str, rejection: Rejection) -> None:
            rejects.write(dumps({"file": name, **rejection.to_json()}) + "\n")

        visits: dict[str, Any] = {}
        if args.cases:
            with open_input(args.cases) as case_source:
                cases, _, _ = read_cases(case_source, rejects)
            visits = visits_by_household(c for own in cases.values() for c in own)
        files = [MonthFile(month, path, inputs.enter_context(open_input(path)))
                 for month, path in pairs]
        out = outputs.open(args.output)
        try:
            results = history(policy, files, visits=visits, on_reject=on_reject, run=counts)
            _write(results, out, args.format)
        except HistoryInputError as exc:
            raise UsageError(safe_text(str(exc))) from None
    found = ", ".join(f"{code} {n}" for code, n in counts.findings.items() if n)
    print(f"households {counts.households}; records read {counts.read}, decided "
          f"{counts.decided}, rejected {counts.rejected}; findings: {found or 'none'}",
          file=sys.stderr)
    return EXIT_REJECTED if counts.rejected else EXIT_OK


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
