"""`fangpin eval POLICY RECORDS --as-of DATE`: decide a file of households.

Decisions go out as JSONL in input order. A record that fails validation (or a line that is not
JSON) goes to the rejects (a file, or stderr) with its line, household id, field and reason, and
the run goes on. The summary on stderr says how many were read, decided and rejected.
Exit: 0 all decided, 1 some rejected, 2 usage or policy error.
"""

from __future__ import annotations

import argparse
import sys
from typing import IO, Any

from fangpin_rules.cli.common import (
    EXIT_OK,
    EXIT_REJECTED,
    UsageError,
    add_policy_path_option,
    load_or_report,
    open_input,
    open_output,
)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("eval", help="decide household records under a policy",
                            description=__doc__.split("\n\n", 1)[1] if __doc__ else None)
    parser.add_argument("policy", metavar="POLICY")
    parser.add_argument("records", metavar="RECORDS", help="JSONL or a JSON array; - for stdin")
    parser.add_argument("--as-of", required=True, metavar="DATE",
                        help="evaluation date, YYYY-MM-DD")
    parser.add_argument("--explain", action="store_true",
                        help="add the trace (rules, conditions, parameters, articles)")
    parser.add_argument("-o", "--output", metavar="OUT", help="decisions file (default stdout)")
    parser.add_argument("--rejects", metavar="FILE",
                        help="write rejected records here as JSONL (default: stderr)")
    parser.add_argument("--cases", metavar="FILE",
                        help="case records (JSONL or JSON array): fills deadlines, overdue and "
                        "violations for their households")
    parser.add_argument("--regions", metavar="TABLE",
                        help="a region table: each household is decided with its region's "
                        "parameters, by region_code (docs/county-guide.md)")
    parser.add_argument("--strict", action="store_true",
                        help="refuse a date on which a parameter's last value has ended "
                        "(by default it is carried forward and the trace says so)")
    add_policy_path_option(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from fangpin_rules.engine.policy import DateError, parse_date

    policy: Any = load_or_report(args.policy, args.policy_path, strict=args.strict)
    if args.regions:
        policy = load_regions_or_report(policy, args.regions)
    try:
        as_of = parse_date(args.as_of)
        if args.regions:  # fail on the date before reading any record
            policy.check_date(as_of)
        else:
            policy.evaluator(as_of)
    except DateError as exc:
        raise UsageError(str(exc)) from None
    with open_output(args.rejects) if args.rejects else _stderr() as rejects:
        cases: dict[str, list[Any]] | None = None
        case_note = ""
        case_rejected = 0
        if args.cases:
            with open_input(args.cases) as case_source:
                cases, case_read, case_rejected = read_cases(case_source, rejects)
            case_note = f"; cases: read {case_read}, rejected {case_rejected}"
        with open_input(args.records) as source, open_output(args.output) as out:
            counts = decide_stream(policy, source, out, rejects, as_of, explain=args.explain,
                                   cases=cases)
    read, decided, rejected = counts
    print(f"read {read}, decided {decided}, rejected {rejected}{case_note}"
          + (f" (see {args.rejects})" if rejected and args.rejects else ""), file=sys.stderr)
    return EXIT_REJECTED if rejected or case_rejected else EXIT_OK


def load_regions_or_report(policy: Any, path: str) -> Any:
    from fangpin_rules.cli.common import EXIT_USAGE, Reported, report_policy_error
    from fangpin_rules.diagnostics import PolicyError
    from fangpin_rules.engine.regions import load_regions

    try:
        regional = load_regions(policy, path)
    except PolicyError as exc:
        report_policy_error(exc)
        raise Reported(EXIT_USAGE) from None
    for warning in regional.warnings:
        print(warning.render(), file=sys.stderr)
    return regional


def read_cases(source: IO[str], rejects: IO[str]) -> tuple[dict[str, list[Any]], int, int]:
    """All case records by household id (held in memory: cases are few beside households).
    A bad case goes to the rejects with `"record": "case"`."""
    from fangpin_rules.engine import RecordError
    from fangpin_rules.engine.records import read_records, validate
    from fangpin_rules.engine.serialize import dumps
    from fangpin_rules.model import Case

    by_household: dict[str, list[Any]] = {}
    read = rejected = 0
    for number, item in read_records(source):
        read += 1
        try:
            if isinstance(item, RecordError):
                raise item
            case = validate(item, number, model=Case)
        except RecordError as exc:
            rejects.write(dumps({"record": "case", **exc.rejection.to_json()}) + "\n")
            rejected += 1
            continue
        by_household.setdefault(case.household_id, []).append(case)
    return by_household, read, rejected


class _stderr:
    def __enter__(self) -> IO[str]:
        return sys.stderr

    def __exit__(self, *exc: object) -> None:
        return None


def decide_stream(policy: object, source: IO[str], out: IO[str], rejects: IO[str],
                  as_of: object, *, explain: bool = False,
                  cases: dict[str, list[Any]] | None = None) -> tuple[int, int, int]:
    """The loop between reading a line and writing a decision; returns (read, decided,
    rejected), which always add up."""
    from fangpin_rules.engine import Policy, RecordError
    from fangpin_rules.engine.records import read_records, validate
    from fangpin_rules.engine.regions import RegionalPolicy
    from fangpin_rules.engine.serialize import dumps

    assert isinstance(policy, Policy | RegionalPolicy)
    read = decided = rejected = 0
    write = out.write
    for number, item in read_records(source):
        read += 1
        try:
            if isinstance(item, RecordError):
                raise item
            household = validate(item, number)
            own = cases.get(household.household_id, ()) if cases else ()
            decision = policy.evaluate(household, as_of, explain=explain,  # type: ignore[arg-type]
                                       cases=own)
        except RecordError as exc:
            rejection = exc.rejection
            if rejection.line is None:
                rejection = type(rejection)(number, rejection.household_id, rejection.field,
                                            rejection.reason)
            rejects.write(dumps(rejection.to_json()) + "\n")
            rejected += 1
            continue
        write(dumps(decision) + "\n")
        decided += 1
    return read, decided, rejected
