"""`fangpin eval POLICY RECORDS --as-of DATE`: decide a file of households.

Decisions go out as JSONL in input order. A record that fails validation (or a line that is not
JSON) goes to the rejects (a file, or stderr) with its line, household id, field and reason, and
the run goes on. The summary on stderr says how many were read, decided and rejected.
Exit: 0 all decided, 1 some rejected, 2 usage or policy error (an output naming an input
included), 3 the run could not finish (a write failed, a worker died), 130/143 interrupted by
SIGINT/SIGTERM. The output files are replaced only when the run finishes (docs/security.md).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date
from typing import IO, TYPE_CHECKING, Any, Protocol

from fangpin_rules.cli.common import (
    ARROW_NEEDED,
    EXIT_OK,
    EXIT_REJECTED,
    UsageError,
    add_policy_path_option,
    add_regions_option,
    check_unchanged,
    is_parquet,
    load_or_report,
    load_regions_or_report,
    open_input,
    policy_files,
    repeat_screen,
    warn_carried_forward,
    worker_count,
)
from fangpin_rules.cli.ledger_output import (
    SpreadsheetOutput,
    add_spreadsheet_options,
    check_spreadsheet_options,
)
from fangpin_rules.cli.outputs import Outputs, check_collisions
from fangpin_rules.cli.progress import Progress, progress_for

if TYPE_CHECKING:
    from fangpin_rules.engine.repeats import RepeatScreen


class TextSink(Protocol):
    """Where decisions or rejects are written: a text file, or a writer that places them (a
    ledger's, a spreadsheet's)."""

    def write(self, text: str, /) -> int: ...

    def flush(self) -> None: ...


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("eval", help="decide household records under a policy",
                            description=__doc__.split("\n\n", 1)[1] if __doc__ else None)
    parser.add_argument("policy", metavar="POLICY")
    parser.add_argument("records", metavar="RECORDS",
                        help="JSONL, a JSON array, or one JSON object (one household, "
                        "formatted any way); - for stdin; a ledger, .xlsx or .csv "
                        "(docs/ledger-guide.md); or a Parquet file (docs/columnar.md)")
    parser.add_argument("--as-of", required=True, metavar="DATE",
                        help="evaluation date, YYYY-MM-DD")
    parser.add_argument("--explain", action="store_true",
                        help="add the trace (rules, conditions, parameters, articles)")
    parser.add_argument("-o", "--output", metavar="OUT",
                        help="decisions file (default stdout): JSON lines, or a spreadsheet "
                        "ledger by its extension, .xlsx or .csv (docs/ledger-guide.md)")
    parser.add_argument("--rejects", metavar="FILE",
                        help="write rejected records here as JSONL (default: stderr)")
    parser.add_argument("--cases", metavar="FILE",
                        help="case records (JSONL or JSON array): fills deadlines, overdue and "
                        "violations for their households")
    add_regions_option(parser)
    parser.add_argument("--strict", action="store_true",
                        help="refuse a date on which a parameter's last value has ended "
                        "(by default it is carried forward with a warning, and the trace "
                        "says so)")
    parser.add_argument("--ledger-format", metavar="FILE",
                        help="how an .xlsx or .csv ledger's sheet, headers and labels map onto "
                        "the records (default: the national platform's export layout)")
    add_spreadsheet_options(parser)
    add_policy_path_option(parser)
    parser.add_argument("-j", "--jobs", type=int, default=1, metavar="N",
                        help="decide in N worker processes (0: one per core); the output is "
                        "the same as with one, in input order")
    parser.add_argument("--engine", choices=("record", "columnar"), default="record",
                        help="columnar: decide in columns (docs/columnar.md), for JSONL or "
                        "a Parquet file; the same decisions, without --explain (--jobs in "
                        "spawned workers). A Parquet file (.parquet, or one starting PAR1) is "
                        "read as Parquet on either engine, its decisions into a Parquet -o, "
                        "its row groups in --jobs spawned workers")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from fangpin_rules.engine.parallel import PolicySource
    from fangpin_rules.engine.policy import DateError, parse_date

    policy: Any = load_or_report(args.policy, args.policy_path, strict=args.strict)
    if args.engine == "columnar" or is_parquet(args.records):  # a Parquet file: either engine
        try:
            from fangpin_rules.cli.columnar_eval import run_columnar
        except ImportError:
            raise UsageError(ARROW_NEEDED) from None
        return run_columnar(args, policy)
    if args.regions:
        policy = load_regions_or_report(policy, args.regions)
    try:
        as_of = parse_date(args.as_of)
        policy.check_date(as_of)  # fail on the date before reading any record
        carried = policy.carried_forward(as_of)
    except DateError as exc:
        raise UsageError(str(exc)) from None
    warn_carried_forward(carried)  # once per run, before any record: not once per household
    jobs = worker_count(args.jobs, "eval")
    check_spreadsheet_options(args)
    check_collisions({"the policy": policy_files(policy), "the records": [args.records],
                      "the cases": [args.cases], "the ledger format": [args.ledger_format]},
                     {"-o": args.output or "-", "--rejects": args.rejects})
    if args.records.lower().endswith((".xlsx", ".csv")):
        from fangpin_rules.cli.ledger_input import run_ledger

        return run_ledger(args, policy, as_of, jobs)
    if args.ledger_format:
        raise UsageError("--ledger-format is for a ledger (.xlsx or .csv) given as RECORDS")

    def decide(run: DecisionRun) -> tuple[tuple[int, int, int], dict[str, int]]:
        # the ids that may repeat, from a first pass: only those are held by the run
        from fangpin_rules.engine.regions import base_of
        screen = repeat_screen(args.records, base_of(policy).checked.record_id, run.plain)
        with open_input(args.records) as source:
            counts = decide_stream(policy, source, run.out, run.rejects, as_of,
                                   explain=args.explain, cases=run.cases, jobs=jobs,
                                   progress=progress_for(sys.stderr, source, run.plain),
                                   policy_source=PolicySource.of(policy,
                                                                 args.policy_path or ()),
                                   cases_used=run.cases_used, watch=run.watch,
                                   screen=screen)
        check_unchanged(screen, args.records)
        return counts, {}

    done = run_decisions(args, policy, as_of, decide)
    read, decided, rejected = done.counts
    print(f"read {read}, decided {decided}, rejected {rejected}{done.case_note()}"
          + (f" (see {args.rejects})" if rejected and args.rejects else ""), file=sys.stderr)
    return EXIT_REJECTED if rejected or done.case_rejected else EXIT_OK


@dataclass
class DecisionRun:
    """One run of the decision loop as `run_decisions` sets it up: where decisions and
    rejects go, the cases, and (after) the counts."""

    out: TextSink
    plain: IO[str] | None  # the decisions file when it is JSON lines (for the progress)
    rejects: TextSink
    cases: dict[str, list[Any]] | None
    case_read: int = 0
    case_rejected: int = 0
    cases_used: list[int] = field(default_factory=list)
    counts: tuple[int, int, int] = (0, 0, 0)
    # what the records pass through on their way to the loop (a workbook's summary notes them)
    watch: Callable[[Iterable[Any]], Iterable[Any]] = lambda items: items

    def case_note(self) -> str:
        if self.cases is None:
            return ""
        used = self.cases_used[0] if self.cases_used else 0
        return f"; cases: read {self.case_read}, used {used}, rejected {self.case_rejected}"


def run_decisions(args: argparse.Namespace, policy: Any, as_of: date,
                  decide: Callable[[DecisionRun], tuple[tuple[int, int, int], dict[str, int]]]
                  ) -> DecisionRun:
    """What every `fangpin eval` run of the decision loop does around it, whatever it reads
    (JSON lines, a ledger): the outputs opened (replaced only when the run ends well), the
    rejects to their file or stderr (and the workbook's rejects sheet), a spreadsheet output
    by -o's extension, the cases read; `decide(run)` writes the decisions and returns the
    counts (read, decided, rejected) and further counts for the about sheet; the workbook is
    finished with them."""
    from fangpin_rules.ledger.write import is_spreadsheet

    with Outputs() as outputs, ExitStack() as cleanup:
        rejects: TextSink = outputs.open(args.rejects) if args.rejects else sys.stderr
        sheet = SpreadsheetOutput(outputs, args, policy, as_of) \
            if is_spreadsheet(args.output) else None
        if sheet is not None:
            cleanup.callback(sheet.discard)  # a workbook the run did not finish
            rejects = sheet.rejects(rejects)
        cases: dict[str, list[Any]] | None = None
        case_read = case_rejected = 0
        if args.cases:
            with open_input(args.cases) as case_source:
                cases, case_read, case_rejected = read_cases(case_source, rejects)
        plain: IO[str] | None = None
        out: TextSink
        if sheet is None:
            out = plain = outputs.open(args.output)
        else:
            out = sheet.decisions
        run = DecisionRun(out, plain, rejects, cases, case_read, case_rejected)
        if sheet is not None:
            sheet.cases.update(cases or {})
            run.watch = sheet.watch
        run.counts, more = decide(run)
        if sheet is not None:
            sheet.finish(as_of, *run.counts, **more)
    return run


def read_cases(source: IO[str], rejects: TextSink) -> tuple[dict[str, list[Any]], int, int]:
    """All case records by household id (held in memory: cases are few beside households).
    A bad case (outside the contract or the procedure's order) goes to the rejects with
    `"record": "case"`, its case id and every problem; its household is decided without it."""
    from fangpin_rules.engine import RecordError
    from fangpin_rules.engine.records import checked_case, read_records
    from fangpin_rules.engine.serialize import dumps

    by_household: dict[str, list[Any]] = {}
    read = rejected = 0
    for number, item in read_records(source):
        read += 1
        try:
            if isinstance(item, RecordError):
                raise item
            case = checked_case(item, number)
        except RecordError as exc:
            rejects.write(dumps({"record": "case", **exc.rejection.to_json()}) + "\n")
            rejected += 1
            continue
        by_household.setdefault(case.household_id, []).append(case)
    return by_household, read, rejected


def decide_stream(policy: object, source: IO[str], out: TextSink, rejects: TextSink,
                  as_of: object, *, explain: bool = False,
                  cases: dict[str, list[Any]] | None = None, jobs: int = 1,
                  progress: Progress | None = None,
                  chunk_lines: int | None = None,
                  policy_source: Any = None,
                  cases_used: list[int] | None = None,
                  watch: Callable[[Iterable[Any]], Iterable[Any]] | None = None,
                  screen: RepeatScreen | None = None) -> tuple[int, int, int]:
    """The loop between reading a line and writing a decision; returns (read, decided,
    rejected), which always add up. With `jobs` > 1 the chunks are decided in that many worker
    processes; the output is the same, in the same order. `cases_used`, when given, receives
    the number of case records attached to the households decided; `watch`, when given, is
    what the numbered lines pass through on their way to the loop; `screen`, the ids of the
    input that may repeat (`engine.repeats`), the only ones the run then holds."""
    from fangpin_rules.engine import Policy
    from fangpin_rules.engine.regions import RegionalPolicy
    from fangpin_rules.engine.stream import numbered_items

    assert isinstance(policy, Policy | RegionalPolicy) and isinstance(as_of, date)
    items = numbered_items(source)
    return decide_items(policy, watch(items) if watch else items, out, rejects, as_of,
                        explain=explain,
                        cases=cases, jobs=jobs, progress=progress, chunk_lines=chunk_lines,
                        policy_source=policy_source, cases_used=cases_used, screen=screen)


def decide_items(policy: object, items: Iterable[tuple[int, Any]], out: TextSink,
                 rejects: TextSink, as_of: object, *, explain: bool = False,
                 cases: dict[str, list[Any]] | None = None, jobs: int = 1,
                 progress: Progress | None = None, chunk_lines: int | None = None,
                 policy_source: Any = None,
                 cases_used: list[int] | None = None,
                 screen: RepeatScreen | None = None) -> tuple[int, int, int]:
    """`decide_stream` for records already numbered: (number, JSONL text, value or
    RecordError), as a JSONL file or a ledger gives them."""
    from fangpin_rules.engine import Policy
    from fangpin_rules.engine.parallel import PolicySource, decide_in_workers
    from fangpin_rules.engine.regions import RegionalPolicy
    from fangpin_rules.engine.stream import (
        CHUNK_LINES,
        ChunkDecider,
        OneDecisionPerId,
        chunks,
        quiet_collector,
    )

    assert isinstance(policy, Policy | RegionalPolicy) and isinstance(as_of, date)
    parts = chunks(items, chunk_lines or CHUNK_LINES)
    results: Iterator[Any]
    if jobs > 1:
        results = decide_in_workers(policy_source or PolicySource.of(policy), as_of, parts,
                                    jobs, explain=explain, cases=cases, policy=policy)
    else:
        decider = ChunkDecider(policy, as_of, explain=explain, cases=cases)
        results = map(decider.decide, parts)
    base = policy.base if isinstance(policy, RegionalPolicy) else policy
    quiet_collector()  # here too the lines read make many short-lived containers
    binary_out: IO[bytes] | None = getattr(out, "buffer", None)
    try:
        read, decided, rejected, used = write_results(
            map(OneDecisionPerId(base.checked.record_id, screen=screen).filter, results), out,
            binary_out, rejects, progress)
    finally:
        close = getattr(results, "close", None)
        if close is not None:
            close()  # workers are ended now, on a failure or an interruption too
    if cases_used is not None:
        cases_used.append(used)
    return read, decided, rejected


def write_results(results: Iterator[Any], out: TextSink, binary_out: IO[bytes] | None,
                  rejects: TextSink, progress: Progress | None) -> tuple[int, int, int, int]:
    """(read, decided, rejected, cases used) of the chunks' results, written in order, the
    progress line (when drawn) counting them and cleared before rejects written to it; the
    record and the columnar engines' runs of JSON lines both write through it."""
    read = decided = rejected = used = 0
    for result in results:
        if binary_out is None:
            out.write(result.decisions.decode("utf-8"))
        elif result.decisions:
            out.flush()  # what was written as text goes first
            binary_out.write(result.decisions)
        if result.rejects:
            if progress is not None:
                progress.clear_for(rejects)
            rejects.write(result.rejects)
        read += result.read
        decided += result.decided
        rejected += result.rejected
        used += result.cases_used
        if progress is not None:
            progress.update(result.read)
    if progress is not None:
        progress.finish()
    return read, decided, rejected, used
