"""`fangpin explain POLICY RECORD --as-of DATE [--lang zh|en] [--format text|json]`.

For one household: each decision, the rule that made it with the values it compared, the article
behind it and the article's own words, and the inputs that were unknown. RECORD is a JSON file
holding one household (or a JSONL/array file holding exactly one); - reads stdin.
Exit: 0 explained, 1 the record is not a valid household, 2 usage or policy error.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from fangpin_rules.cli.common import (
    EXIT_OK,
    EXIT_REJECTED,
    UsageError,
    load_or_report,
    open_input,
)
from fangpin_rules.text import safe_block


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("explain", help="explain one household's decision, for people",
                            description=__doc__.split("\n\n", 1)[1] if __doc__ else None)
    parser.add_argument("policy", metavar="POLICY")
    parser.add_argument("record", metavar="RECORD", help="one household as JSON; - for stdin")
    parser.add_argument("--as-of", required=True, metavar="DATE",
                        help="evaluation date, YYYY-MM-DD")
    parser.add_argument("--cases", metavar="FILE",
                        help="case records (JSONL or a JSON array): explain the deadlines of "
                        "this household's cases too")
    parser.add_argument("--lang", choices=("zh", "en"), default="zh")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("--strict", action="store_true",
                        help="refuse a date on which a parameter's last value has ended "
                        "(by default it is carried forward, said once at the top)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from fangpin_rules.engine import RecordError
    from fangpin_rules.engine.policy import DateError, parse_date
    from fangpin_rules.engine.serialize import dumps
    from fangpin_rules.explain import explain, render_text

    policy = load_or_report(args.policy, strict=args.strict)
    try:
        as_of = parse_date(args.as_of)
        policy.evaluator(as_of)
    except DateError as exc:
        raise UsageError(str(exc)) from None
    with open_input(args.record) as source:
        text = source.read()
    item = _one_record(text, args.record)
    cases: list[Any] = []
    if args.cases:
        from fangpin_rules.cli.eval import read_cases

        with open_input(args.cases) as case_source:
            by_household, _, rejected = read_cases(case_source, sys.stderr)
        if rejected:
            return EXIT_REJECTED
        household_id = item.get("household_id") if isinstance(item, dict) else None
        cases = by_household.get(str(household_id), [])
    try:
        if isinstance(item, RecordError):
            raise item
        account = explain(policy, item, as_of, lang=args.lang, cases=cases)
    except RecordError as exc:
        print(safe_block(f"fangpin explain: {exc}"), file=sys.stderr)
        return EXIT_REJECTED
    if args.format == "json":
        print(dumps(account))
    else:
        sys.stdout.write(safe_block(render_text(account)))
    return EXIT_OK


def _one_record(text: str, name: str) -> Any:
    """One household: a JSON object (formatted any way), or a JSONL/array file of exactly one."""
    import io

    from fangpin_rules.engine.records import parse_json, read_records

    try:
        whole = parse_json(text)
    except ValueError:
        whole = None
    if isinstance(whole, dict):
        return whole
    items = list(read_records(io.StringIO(text)))
    if len(items) != 1:
        raise UsageError(f"'{name}' holds {len(items)} records; explain takes one")
    return items[0][1]
