"""`fangpin diff OLD NEW`: what changed between two versions of a policy, and whom it changes.

The effective policies are compared item by item (docs/audit-guide.md): formatting, comments,
key order and equivalent rewordings of a condition are no change. With `--impact RECORDS
--as-of DATE` every household is decided under both versions (streaming) and the report counts
whom each decision changes for, and which of the changes moved each household (attribution).
`--html FILE` writes the audit report, one self-contained page. Exit: 0; 1 when records were
rejected, or with --exit-code when the policies differ; 2 usage,
policy or input-file error (an output naming an input included); 3 a write failed; 130/143
interrupted. The output files are replaced only when the run finishes (docs/security.md).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from typing import IO, TYPE_CHECKING, Any

from fangpin_rules.cli.common import (
    EXIT_OK,
    EXIT_REJECTED,
    EXIT_USAGE,
    Reported,
    UsageError,
    applied_or_report,
    load_or_report,
    load_regions_or_report,
    open_households,
    open_input,
    policy_files,
    report_policy_error,
    warn_carried_forward,
)
from fangpin_rules.cli.outputs import Outputs, check_collisions
from fangpin_rules.diagnostics import PolicyError
from fangpin_rules.text import safe_text

if TYPE_CHECKING:
    from fangpin_rules.audit import ImpactReport
    from fangpin_rules.audit.attribution import Attribution
    from fangpin_rules.audit.changes import PolicyDiff
    from fangpin_rules.engine import Policy

EXIT_CHANGED = 1


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("diff", help="compare two versions of a policy (and their impact)",
                            description=__doc__.split("\n\n", 1)[1] if __doc__ else None)
    parser.add_argument("old", metavar="OLD", help="the earlier (or the province's) policy file")
    parser.add_argument("new", metavar="NEW", help="the later (or the county's) policy file")
    parser.add_argument("--format", choices=("text", "json", "markdown"), default="text",
                        help="text (Chinese labels), json (schema fangpin-diff/1) or markdown")
    parser.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                        help="colour the text format (auto: only on a terminal, not if NO_COLOR)")
    parser.add_argument("--exit-code", action="store_true",
                        help="exit 1 when the policies differ, like git diff --exit-code")
    parser.add_argument("--impact", metavar="RECORDS",
                        help="households (JSONL or a JSON array; - for stdin; or a Parquet "
                             "file, its households numbered by row) to decide under both "
                             "versions")
    parser.add_argument("--as-of", metavar="DATE", help="evaluation date for --impact")
    parser.add_argument("--cases", metavar="FILE",
                        help="case records (JSONL) for --impact: their deadlines are compared "
                             "too")
    parser.add_argument("--regions", metavar="TABLE",
                        help="--impact: decide each household with its county's parameters "
                        "from this region table under both versions (both must be versions "
                        "of the policy the table names: docs/audit-guide.md)")
    parser.add_argument("--strict", action="store_true",
                        help="--impact: refuse a date on which a parameter's last value has "
                             "ended in either version (by default it is carried forward with "
                             "a warning naming the version)")
    parser.add_argument("--engine", choices=("record", "columnar"), default="record",
                        help="--impact: decide household by household (record, the default) or "
                             "in columns, 10,000 at a time (columnar: the same report; a policy "
                             "it cannot express is an error naming the construct)")
    parser.add_argument("--impact-out", metavar="FILE",
                        help="write every household decided differently, with both decisions, "
                             "as JSONL")
    parser.add_argument("--sample", type=int, default=5, metavar="N",
                        help="household ids shown per kind of change (default 5)")
    parser.add_argument("--html", metavar="FILE",
                        help="also write the audit report: one self-contained HTML page "
                             "(changes, attribution, transitions, chart; zh with an en switch)")
    parser.add_argument("-o", "--output", metavar="OUT", help="report file (default stdout)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from fangpin_rules.audit import diff_policies
    from fangpin_rules.audit.render import Labels, render_json, render_markdown, render_text
    from fangpin_rules.audit.report_html import render_html

    if args.impact is None and (args.as_of or args.impact_out or args.cases or args.regions
                                or args.strict):
        raise UsageError("--as-of, --cases, --regions, --strict and --impact-out go with "
                         "--impact RECORDS")
    if args.impact is not None and not args.as_of:
        raise UsageError("--impact needs --as-of DATE (the date both versions decide on)")
    if args.sample < 0:
        raise UsageError("--sample takes a number of ids, 0 or more")
    old = load_or_report(args.old, strict=args.strict)
    new = load_or_report(args.new, strict=args.strict)
    if args.regions and old.id != new.id:
        raise UsageError(
            f"--regions: a region table gives the county values of one policy, and OLD is "
            f"{safe_text(old.id)} while NEW is {safe_text(new.id)}: the table would decide "
            "one version with its county's values and the other without them, and the "
            "impact would mix the policy's changes with the table's. Compare two versions of "
            "the policy the table names, or give NEW its county's values itself (extends:)")
    check_collisions({"the old policy": policy_files(old), "the new policy": policy_files(new),
                      "the records": [args.impact], "the cases": [args.cases],
                      "the region table": [args.regions]},
                     {"-o": args.output, "--impact-out": args.impact_out, "--html": args.html})
    diff = diff_policies(old, new)
    labels = Labels(old, new)
    report: ImpactReport | None = None
    attribution: Attribution | None = None
    with Outputs() as outputs:  # the reports and the changed households: all or none
        if args.impact is not None:
            report, attribution = _impact(args, old, new, diff, outputs)
        out = outputs.open(args.output)
        if args.format == "json":
            out.write(render_json(diff, report, attribution))
        elif args.format == "markdown":
            out.write(render_markdown(diff, report, labels, attribution))
        else:
            out.write(render_text(diff, report, labels, colour=_colour(args.color, out),
                                  attribution=attribution))
        if args.html:
            outputs.open(args.html).write(render_html(diff, old, new, report, attribution))
    if report is not None:
        print(f"read {report.read}, compared {report.compared}, rejected {report.rejected}, "
              f"changed {report.changed}", file=sys.stderr)
        if attribution is not None and attribution.skipped:
            print(attribution.skipped, file=sys.stderr)
        if report.rejected:
            return EXIT_REJECTED
    return EXIT_CHANGED if args.exit_code and diff else EXIT_OK


def _colour(choice: str, out: IO[str]) -> bool:
    if choice != "auto":
        return choice == "always"
    return out.isatty() and not os.environ.get("NO_COLOR")


def _impact(args: argparse.Namespace, old: Policy, new: Policy, diff: PolicyDiff,
            outputs: Outputs) -> tuple[ImpactReport, Attribution]:
    from fangpin_rules.audit import ChangedHousehold
    from fangpin_rules.audit.attribution import HouseholdAttribution, attribute
    from fangpin_rules.cli.eval import read_cases
    from fangpin_rules.cli.progress import progress_for
    from fangpin_rules.engine.policy import DateError
    from fangpin_rules.engine.serialize import dumps
    from fangpin_rules.engine.stream import NumberedRecords, items_of, numbering_of, quiet_collector

    refused: type[PolicyError] = _NotRaised
    if args.engine == "columnar":  # polars only when asked for
        from fangpin_rules.columnar.engine import ColumnarUnsupported
        refused = ColumnarUnsupported
    old_deciding: Any = old
    new_deciding: Any = new
    if args.regions:  # the same table under both versions (their ids are one: see run)
        old_deciding = load_regions_or_report(old, args.regions)
        new_deciding = applied_or_report(old_deciding, new)
    try:  # once per run, before any record, as `fangpin eval` says it
        for name, version in (("the old policy", old_deciding), ("the new policy", new_deciding)):
            warn_carried_forward(version.carried_forward(args.as_of), name)
    except DateError as exc:  # a bad date, or (--strict) a value that has ended
        raise UsageError(str(exc)) from None
    cases = None
    if args.cases:
        with open_input(args.cases) as case_source:
            cases, case_read, case_rejected = read_cases(case_source, sys.stderr)
        print(f"cases: read {case_read}, rejected {case_rejected}", file=sys.stderr)
    changed_out = outputs.open(args.impact_out) if args.impact_out else None
    pending: list[dict[str, Any]] = []  # the changed household waiting for its attribution
    quiet_collector()  # as `fangpin eval`: the households' objects are short-lived
    with contextlib.ExitStack() as stack:
        source = stack.enter_context(open_households(args.impact, old))
        # a Parquet file's households are numbered by their row (0-based), as `fangpin eval`'s
        # rejects of one: "row" where JSON lines say "line"
        numbered_by = numbering_of(source)
        records = items_of(source)
        progress = None if isinstance(source, NumberedRecords) else \
            progress_for(sys.stderr, source)

        def write_changed(household: ChangedHousehold) -> None:
            if changed_out is not None:
                pending.append(household.to_json(numbered_by))

        def write_attributed(row: HouseholdAttribution) -> None:
            if pending:
                pending[-1]["attribution"] = row.to_json(numbered_by)

        def decided(_: Any) -> None:  # after the household's attribution, if it changed
            if changed_out is not None and pending:
                changed_out.write(dumps(pending.pop()) + "\n")
            if progress is not None:
                progress.update(1)

        def rejected(_: Any) -> None:
            if progress is not None:
                progress.update(1)

        try:
            return attribute(old_deciding, new_deciding, diff, records, args.as_of,
                             numbered=True, numbered_by=numbered_by, sample_size=args.sample,
                             cases=cases,
                             on_change=write_changed, on_household=write_attributed,
                             on_decided=decided, on_reject=rejected, engine=args.engine)
        except DateError as exc:
            raise UsageError(str(exc)) from None
        except refused as exc:
            report_policy_error(exc)
            raise Reported(EXIT_USAGE) from None
        finally:
            if progress is not None:
                progress.finish()


class _NotRaised(PolicyError):
    """Stands for ColumnarUnsupported when the record engine runs (nothing raises it)."""
