"""`fangpin report SUBREPORT ...`: the county's reports over its households (docs/
county-reports.md). Each sub-report is a module `cli/report_<name>.py` with `register(sub)`,
listed in `SUBREPORTS`; what they share (the inputs, deciding the households, the rejects and
the summary) is here.

Exit: 0 every record used, 1 some household or case rejected (the report leaves them out and
says how many), 2 usage or policy error, 3 an output could not be written.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import IO, Any

from fangpin_rules.cli import (
    report_assess,
    report_departments,
    report_duties,
    report_history,
    report_ledger,
    report_regional,
)
from fangpin_rules.cli.common import (
    EXIT_OK,
    EXIT_REJECTED,
    UsageError,
    add_policy_path_option,
    add_regions_option,
    check_unchanged,
    household_screen,
    load_or_report,
    load_regions_or_report,
    open_households,
    open_input,
    policy_files,
    warn_carried_forward,
)
from fangpin_rules.text import safe_text

SUBREPORTS = (report_ledger, report_departments, report_assess, report_history,
              report_regional, report_duties)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("report", help="county reports: the monthly ledger, the "
                            "departments' lists, the assessment, histories, regional warnings, "
                            "duties",
                            description=__doc__.split("\n\n", 1)[0] if __doc__ else None)
    reports = parser.add_subparsers(dest="subreport", metavar="SUBREPORT")
    for module in SUBREPORTS:
        module.register(reports)
    parser.set_defaults(run=_no_subreport(parser))


def _no_subreport(parser: argparse.ArgumentParser) -> Any:
    def run(args: argparse.Namespace) -> int:
        raise UsageError("name a sub-report: " + ", ".join(
            m.__name__.rsplit("_", 1)[1] for m in SUBREPORTS))
    return run


def add_inputs(parser: argparse.ArgumentParser, *, quarter: bool) -> None:
    """The options every sub-report takes."""
    parser.add_argument("policy", metavar="POLICY")
    parser.add_argument("households", metavar="HOUSEHOLDS",
                        help="the households of the period (JSONL, a JSON array or one "
                        "object, or a Parquet file); - for stdin")
    period = parser.add_mutually_exclusive_group(required=True)
    period.add_argument("--month", metavar="YYYY-MM",
                        help="the month: households are decided on its last day")
    if quarter:
        period.add_argument("--quarter", metavar="YYYYQn",
                            help="the quarter: households are decided on its last day")
    parser.add_argument("--cases", metavar="FILE", help="case records (JSONL or a JSON array)")
    parser.add_argument("--decisions", metavar="FILE",
                        help="the households' decisions (`fangpin eval --as-of` the period's "
                        "last day) instead of deciding them again")
    add_regions_option(parser)
    parser.add_argument("--format", choices=("json", "csv", "markdown"), default="json")
    parser.add_argument("--rejects", metavar="FILE",
                        help="rejected households and cases as JSONL (default: stderr)")
    parser.add_argument("--strict", action="store_true",
                        help="refuse a date on which a parameter's last value has ended")
    parser.add_argument("--engine", choices=("record", "columnar"), default="record",
                        help="decide the households one by one (record, the default) or in "
                        "columns, 10,000 at a time (columnar: the same report; a policy it "
                        "cannot express is an error naming the construct)")
    add_policy_path_option(parser)


def add_level(parser: argparse.ArgumentParser, default: str) -> None:
    parser.add_argument("--by", choices=("county", "township", "village"), default=default,
                        help=f"the level of the rows (default: {default})")


@dataclass
class ReportRun:
    """One sub-report's run: the policy, the period, the cases; rejects and counts."""

    verb: str
    policy: Any
    period: Any
    cases: dict[str, list[Any]]
    rejects: IO[str]
    counts: Any
    case_counts: tuple[int, int] = (0, 0)  # (read, rejected)
    decisions: dict[str, dict[str, Any]] | None = None
    rejected_inputs: int = 0  # lines of another input (the decisions) rejected
    notes: list[str] = field(default_factory=list)
    engine: str = "record"  # what decides the households (population.deciding.ENGINES)

    def households(self, path: str, *, period: Any = None) -> Iterator[Any]:
        """The households of `path` decided on the last day of `period` (the run's)."""
        from fangpin_rules.engine.records import Rejection
        from fangpin_rules.engine.serialize import dumps
        from fangpin_rules.engine.stream import numbering_of
        from fangpin_rules.population.deciding import decide_households, paired_with_decisions

        when = (period or self.period).last
        # the ids that may repeat, from a first pass: only those are held
        screen = household_screen(path, self.policy)
        with open_households(path, self.policy) as source:
            numbered_by = numbering_of(source)  # a Parquet file's rejects name their row

            def reject(rejection: Rejection) -> None:
                self.rejects.write(dumps(rejection.to_json(numbered_by)) + "\n")

            if period is None and self.decisions is not None:
                yield from paired_with_decisions(self.policy, source, when, self.decisions,
                                                 cases=self.cases, counts=self.counts,
                                                 on_reject=reject, screen=screen)
            else:
                yield from decide_households(
                    self.policy, source, when, cases=self.cases if period is None else None,
                    counts=self.counts if period is None else None, on_reject=reject,
                    engine=self.engine, screen=screen)
        check_unchanged(screen, path)

    def finish(self) -> int:
        counts = self.counts
        case_read, case_rejected = self.case_counts
        # a case of a household not in the file (or rejected) is in no figure: say so
        unused = case_read - case_rejected - counts.cases_used
        print(f"fangpin report {self.verb}: households read {counts.read}, decided "
              f"{counts.decided}, rejected {counts.rejected}; cases read {case_read}, used "
              f"{counts.cases_used}, rejected {case_rejected}"
              + (f", of households not decided {unused}" if unused else "")
              + "".join(f"; {n}" for n in self.notes),
              file=sys.stderr)
        return EXIT_REJECTED if counts.rejected or case_rejected or self.rejected_inputs \
            else EXIT_OK


@contextmanager
def report_run(args: argparse.Namespace, verb: str, outputs: dict[str, str | None],
               extra_inputs: tuple[str | None, ...] = ()) -> Iterator[tuple[ReportRun, Any]]:
    """Load the policy, check the period and the outputs, read the cases; yields the run and
    the `Outputs` to open the report's files with (replaced only when the run ends well)."""
    from fangpin_rules.cli.eval import read_cases
    from fangpin_rules.cli.outputs import Outputs, check_collisions
    from fangpin_rules.engine.policy import DateError
    from fangpin_rules.engine.records import Rejection
    from fangpin_rules.engine.serialize import dumps
    from fangpin_rules.engine.stream import quiet_collector
    from fangpin_rules.population.deciding import (
        Counts,
        PeriodError,
        month,
        quarter,
        read_decisions,
    )

    try:
        period = quarter(args.quarter) if getattr(args, "quarter", None) else month(args.month)
    except PeriodError as exc:
        raise UsageError(str(exc)) from None
    policy: Any = load_or_report(args.policy, args.policy_path, strict=args.strict)
    engine = getattr(args, "engine", "record")
    if args.regions:
        policy = load_regions_or_report(policy, args.regions)
    try:
        policy.check_date(period.last)
        carried = policy.carried_forward(period.last)
    except DateError as exc:
        raise UsageError(str(exc)) from None
    if engine == "columnar":  # the period's last day, and the month before's (--previous)
        columnar_or_report(policy, (period.last, period.first - timedelta(days=1)))
    warn_carried_forward(carried)
    check_collisions({"the policy": policy_files(policy), "the households": [args.households],
                      "the cases": [args.cases], "the decisions": [args.decisions],
                      "an input": list(extra_inputs)},
                     {**outputs, "--rejects": args.rejects})
    quiet_collector()  # as `fangpin eval`: the households' objects are short-lived
    with Outputs() as files:
        rejects = files.open(args.rejects) if args.rejects else sys.stderr
        cases: dict[str, list[Any]] = {}
        case_counts = (0, 0)
        if args.cases:
            with open_input(args.cases) as source:
                cases, case_read, case_rejected = read_cases(source, rejects)
            case_counts = (case_read, case_rejected)
        decisions = None
        bad_decisions: list[Rejection] = []
        if args.decisions:
            with open_input(args.decisions) as source:
                decisions = read_decisions(source, bad_decisions.append)
            for rejection in bad_decisions:
                rejects.write(dumps({"record": "decision", **rejection.to_json()}) + "\n")
        run = ReportRun(verb, policy, period, cases, rejects, Counts(), case_counts,
                        decisions=decisions, engine=engine)
        if args.decisions:
            run.notes.append(f"decisions read {len(decisions or {}) + len(bad_decisions)}, "
                             f"rejected {len(bad_decisions)}")
            run.rejected_inputs += len(bad_decisions)
        yield run, files


DEFAULT_POLICY = "policies/fujian_2021.yaml"


def add_months(parser: argparse.ArgumentParser, *, decisions: bool = False) -> None:
    """The arguments of a sub-report over several months: MONTH=FILE household files, the
    policy, with `decisions` the months' earlier decision files, -o and --rejects."""
    parser.add_argument("months", nargs="+", metavar="MONTH=FILE",
                        help="a month written YYYY-MM and its household file (JSON lines or "
                        "Parquet)")
    parser.add_argument("--policy", default=DEFAULT_POLICY, metavar="POLICY",
                        help=f"policy file (default: {DEFAULT_POLICY})")
    if decisions:
        parser.add_argument("--decisions", action="append", default=[], metavar="MONTH=FILE",
                            help="a month's earlier decisions (`fangpin eval --as-of` the "
                            "month's last day, of that month's household file), read instead "
                            "of deciding again (repeatable)")
    add_regions_option(parser)
    parser.add_argument("--strict", action="store_true",
                        help="refuse a month on whose last day a parameter's last value has "
                        "ended")
    parser.add_argument("-o", "--output", metavar="FILE", help="output (default: stdout)")
    parser.add_argument("--rejects", metavar="FILE",
                        help="rejected records, JSON lines (default: stderr)")


def month_pairs(values: list[str], option: str = "MONTH=FILE") -> list[tuple[str, str]]:
    """(month, path) of each MONTH=FILE value (the month is checked where it is read)."""
    pairs = []
    for value in values:
        month_label, sep, path = value.partition("=")
        if not sep or not path:
            raise UsageError(f"{safe_text(value)!r}: give {option} as a month and its file, "
                             "as 2022-01=households-2022-01.jsonl")
        pairs.append((month_label, path))
    return pairs


@dataclass
class MonthsRun:
    """A sub-report's run over several months: the policy, the files, where rejects go."""

    policy: Any
    months: list[Any]  # population.history.MonthFile, in the order given
    outputs: Any  # cli.outputs.Outputs
    rejects: IO[str]

    def on_reject(self, name: str, rejection: Any) -> None:
        from fangpin_rules.engine.serialize import dumps
        from fangpin_rules.engine.stream import numbering_of

        numbered_by = next((numbering_of(m.stream) for m in self.months if m.name == name),
                           "line")  # a Parquet file's rejects name their row
        self.rejects.write(dumps({"file": name, **rejection.to_json(numbered_by)}) + "\n")


@contextmanager
def months_run(args: argparse.Namespace,
               inputs: dict[str, list[str | None]]) -> Iterator[MonthsRun]:
    """Load the policy, refuse outputs that name an input, open the monthly files (each with
    its decisions when `args.decisions` pairs them); a bad input is a usage error."""
    from fangpin_rules.cli.outputs import Outputs, check_collisions
    from fangpin_rules.engine.stream import quiet_collector
    from fangpin_rules.population.history import HistoryInputError, MonthFile

    pairs = month_pairs(args.months)
    decided: dict[str, str] = {}
    for month_label, path in month_pairs(getattr(args, "decisions", None) or [],
                                         "--decisions"):
        if month_label in decided:
            raise UsageError(f"--decisions {safe_text(month_label)}: the month is given twice")
        decided[month_label] = path
    months = {month_label for month_label, _ in pairs}
    for month_label in decided:
        if month_label not in months:
            raise UsageError(f"--decisions {safe_text(month_label)}: no household file of that "
                             "month is given (the decisions are read beside it)")
    policy: Any = load_or_report(args.policy, strict=args.strict)
    if args.regions:
        policy = load_regions_or_report(policy, args.regions)
    _check_months(policy, [month_label for month_label, _ in pairs])
    check_collisions({"the policy": policy_files(policy),
                      "a monthly file": [path for _, path in pairs],
                      "a decisions file": list(decided.values()), **inputs},
                     {"-o": args.output or "-", "--rejects": args.rejects})
    quiet_collector()  # as `fangpin eval`: the households' objects are short-lived
    try:
        with Outputs() as outputs, ExitStack() as opened:
            rejects = outputs.open(args.rejects) if args.rejects else sys.stderr
            files = []
            for month_label, path in pairs:
                decisions = decided.get(month_label)
                files.append(MonthFile(
                    month_label, path, opened.enter_context(open_households(path, policy)),
                    None if decisions is None else opened.enter_context(open_input(decisions)),
                    decisions))
            yield MonthsRun(policy, files, outputs, rejects)
    except HistoryInputError as exc:
        raise UsageError(safe_text(str(exc))) from None


def _check_months(policy: Any, months: list[str]) -> None:
    """Every month's last day answered for by the policy (by each region of a region table),
    or a usage error before any record is read (with --strict, a value carried forward is
    one)."""
    from fangpin_rules.engine.policy import DateError
    from fangpin_rules.population.history import month_of

    for label in months:
        try:
            _, last_day = month_of(label)
        except ValueError:
            continue  # a bad month: the run reports it as it does with either engine
        try:
            policy.check_date(last_day)
        except DateError as exc:
            raise UsageError(f"{safe_text(label)}: {exc}") from None


def columnar_or_report(policy: Any, days: Iterable[date]) -> None:
    """The policy compiled for columns on each day (`--engine columnar`), or its refusal
    reported at the construct's file:line:col (exit 2)."""
    from fangpin_rules.cli.common import EXIT_USAGE, Reported, report_policy_error
    from fangpin_rules.columnar.engine import ColumnarUnsupported, columnar_plan
    from fangpin_rules.engine.policy import DateError

    try:
        for day in days:
            try:
                columnar_plan(policy, day)
            except DateError:  # a day the policy does not answer for: the run says so itself
                continue
    except ColumnarUnsupported as exc:
        report_policy_error(exc)
        raise Reported(EXIT_USAGE) from None


def columnar_months_or_report(policy: Any, months: list[str]) -> None:
    """`columnar_or_report` on each month's last day (months written YYYY-MM)."""
    from fangpin_rules.population.history import month_of

    try:
        days = [month_of(label)[1] for label in months]
    except ValueError:
        return  # a bad month: the run reports it as it does with either engine
    columnar_or_report(policy, days)
