"""`fangpin eval POLICY RECORDS --as-of DATE`: decide a file of households.

Decisions go out as JSONL in input order. A record that fails validation (or a line that is not
JSON) goes to the rejects (a file, or stderr) with its line, household id, field and reason, and
the run goes on. The summary on stderr says how many were read, decided and rejected.
Exit: 0 all decided, 1 some rejected, 2 usage or policy error.
"""

from __future__ import annotations

import argparse
import sys
from typing import IO

from fangpin_rules.cli.common import (
    EXIT_OK,
    EXIT_REJECTED,
    UsageError,
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
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from fangpin_rules.engine.policy import DateError, parse_date

    policy = load_or_report(args.policy)
    try:
        as_of = parse_date(args.as_of)
        policy.evaluator(as_of)  # fail on the date before reading any record
    except DateError as exc:
        raise UsageError(str(exc)) from None
    with open_input(args.records) as source, open_output(args.output) as out, \
            open_output(args.rejects) if args.rejects else _stderr() as rejects:
        counts = decide_stream(policy, source, out, rejects, as_of, explain=args.explain)
    read, decided, rejected = counts
    print(f"read {read}, decided {decided}, rejected {rejected}"
          + (f" (see {args.rejects})" if rejected and args.rejects else ""), file=sys.stderr)
    return EXIT_REJECTED if rejected else EXIT_OK


class _stderr:
    def __enter__(self) -> IO[str]:
        return sys.stderr

    def __exit__(self, *exc: object) -> None:
        return None


def decide_stream(policy: object, source: IO[str], out: IO[str], rejects: IO[str],
                  as_of: object, *, explain: bool = False) -> tuple[int, int, int]:
    """The loop between reading a line and writing a decision; returns (read, decided,
    rejected), which always add up."""
    from fangpin_rules.engine import Policy, RecordError
    from fangpin_rules.engine.records import read_records, validate
    from fangpin_rules.engine.serialize import dumps

    assert isinstance(policy, Policy)
    read = decided = rejected = 0
    write = out.write
    for number, item in read_records(source):
        read += 1
        try:
            if isinstance(item, RecordError):
                raise item
            household = validate(item, number)
            decision = policy.evaluate(household, as_of, explain=explain)  # type: ignore[arg-type]
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
