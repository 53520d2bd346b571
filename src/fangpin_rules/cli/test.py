"""`fangpin test PATH... [--coverage] [--threshold N]`: run policy test files.

Prints one line per case (PASS, FAIL, ERROR, XFAIL, XPASS) and, for a failure, the field, the
expected and the actual value. With --coverage, reports for each rule whether some case found it
true and some false, and why not where not. Exit: 0 all passed (and coverage at or above the
threshold), 1 a case failed or coverage is under the threshold, 2 a test file or policy error.
In a folder, the policies and region tables beside the test files are skipped and named.
"""

from __future__ import annotations

import argparse
import sys
from decimal import Decimal, InvalidOperation

from fangpin_rules.cli.common import EXIT_OK, EXIT_REJECTED, EXIT_USAGE, UsageError
from fangpin_rules.text import safe_block


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("test", help="run policy test files (cases as data)",
                            description=__doc__.split("\n\n", 1)[1] if __doc__ else None)
    parser.add_argument("paths", nargs="+", metavar="PATH",
                        help="test files, or folders searched for *.yaml test files")
    parser.add_argument("--coverage", action="store_true",
                        help="report rule coverage of each policy tested")
    parser.add_argument("--threshold", metavar="N",
                        help="fail when rule coverage is under N %% (implies --coverage)")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from fangpin_rules.engine.serialize import dumps
    from fangpin_rules.testing import coverage, run_tests

    threshold = _threshold(args.threshold)
    outcome = run_tests(args.paths)
    if not outcome.results and not outcome.file_errors:
        # A run that tests nothing must not pass: a wrong path would otherwise look green.
        skipped = (f" ({len(outcome.skipped)} file(s) skipped: policies or region tables)"
                   if outcome.skipped else "")
        raise UsageError("no test cases found in " + ", ".join(args.paths) + skipped
                         + " (test files are .yaml/.yml files with `policy:` and `cases:`)")
    reports = coverage(outcome) if args.coverage or threshold is not None else []
    under = [r for r in reports if threshold is not None and r.percent < threshold]
    if args.format == "json":
        print(dumps({
            "counts": outcome.counts(),
            "errors": [d.to_json() for d in outcome.file_errors],
            "cases": [r.to_json() for r in outcome.results],
            "coverage": [r.to_json() for r in reports],
            "skipped": [{"file": file, "kind": kind} for file, kind in outcome.skipped],
            "threshold": threshold}))
    else:
        for diagnostic in outcome.file_errors:
            print(diagnostic.render(), file=sys.stderr)
            print(file=sys.stderr)
        for result in outcome.results:
            print(safe_block(result.render()))
        counts = outcome.counts()
        print(", ".join(f"{n} {status}" for status, n in counts.items() if n or status in
                        ("pass", "fail")) + f" ({len(outcome.results)} cases)")
        for file, kind in outcome.skipped:
            print(f"skipped {file}: a {kind}, not a test file")
        for report in reports:
            print()
            print(safe_block(report.render()))
        for report in under:
            print(f"coverage {report.percent} % of {report.policy} is under the threshold "
                  f"{threshold} %")
    if outcome.file_errors:
        return EXIT_USAGE
    if not outcome.ok or under:
        return EXIT_REJECTED
    return EXIT_OK


def _threshold(text: str | None) -> Decimal | None:
    if text is None:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise UsageError(f"--threshold: '{text}' is not a number (a percentage, 0-100)") from None
    if not value.is_finite() or not 0 <= value <= 100:
        raise UsageError(f"--threshold: {text} is not a percentage between 0 and 100")
    return value
