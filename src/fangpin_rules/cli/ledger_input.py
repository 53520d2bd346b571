"""`fangpin eval POLICY ledger.xlsx|ledger.csv`: a spreadsheet ledger in, through the same
decision loop as JSON lines.

The ledger is read before any output is opened (its rows streamed into household records,
never held as rows), so that a ledger that cannot be read at all stops the run first. Its
rejected households go to the rejects with their sheet, row and column; a household the
engine rejects is placed on its row and column too. Around the decision loop the run is
`fangpin eval`'s own (cli/eval.py's `run_decisions`). The summary says how the ledger was
read (sheet, header row, the CSV's encoding) and that the counts add up.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from typing import Any

from fangpin_rules.cli.common import EXIT_OK, EXIT_REJECTED, EXIT_USAGE, Reported
from fangpin_rules.diagnostics import PolicyError, Severity
from fangpin_rules.engine.records import parse_json
from fangpin_rules.engine.serialize import dumps
from fangpin_rules.ledger.format import LedgerFormat, load_format
from fangpin_rules.ledger.read import LedgerError, LedgerRead, read_ledger

_NOTES_SHOWN = 5


def run_ledger(args: argparse.Namespace, policy: Any, as_of: date, jobs: int) -> int:
    from fangpin_rules.cli.eval import DecisionRun, decide_items, run_decisions
    from fangpin_rules.engine.parallel import PolicySource

    ledger_format = _format_or_report(args.ledger_format)
    base = getattr(policy, "base", policy)
    try:
        ledger = read_ledger(args.records, ledger_format, base.checked.record_model)
    except LedgerError as exc:
        print(exc.render(), file=sys.stderr)
        print(f"\n{len(exc.diagnostics)} error(s); the ledger was not read.", file=sys.stderr)
        raise Reported(EXIT_USAGE) from None

    def decide(run: DecisionRun) -> tuple[tuple[int, int, int], dict[str, int]]:
        for rejection in ledger.rejections:
            run.rejects.write(dumps(rejection.to_json()) + "\n")
        _read, decided, engine_rejected = decide_items(
            policy, run.watch(ledger.households), run.out, PlacedRejects(run.rejects, ledger),
            as_of,
            explain=args.explain, cases=run.cases, jobs=jobs,
            policy_source=PolicySource.of(policy, args.policy_path or ()),
            cases_used=run.cases_used)
        read = ledger.households_read
        assert read - decided == engine_rejected + sum(
            1 for r in ledger.rejections if r.household_id)
        return (read, decided, read - decided), {
            "rows_read": ledger.rows_read, "rows_used": ledger.rows_used,
            "rows_rejected": ledger.rows_rejected}

    done = run_decisions(args, policy, as_of, decide)
    print(summary(ledger), file=sys.stderr)
    read, decided, rejected = done.counts
    print(f"read {read}, decided {decided}, rejected {rejected}{done.case_note()}"
          + (f" (see {args.rejects})" if (rejected or ledger.rows_rejected) and args.rejects
             else ""), file=sys.stderr)
    return EXIT_REJECTED if ledger.rows_rejected or rejected or done.case_rejected \
        else EXIT_OK


def summary(ledger: LedgerRead) -> str:
    """How the ledger was read, its member-row counts, its notes and the columns not read."""
    how = f"header on row {ledger.header_row}"
    if ledger.encoding != "xlsx":
        how += f", encoding {ledger.encoding}"
    lines = [f"ledger {ledger.path}: sheet '{ledger.sheet}' ({how}); member rows: read "
             f"{ledger.rows_read}, used {ledger.rows_used}, rejected {ledger.rows_rejected}"]
    if ledger.notes:
        shown = "; ".join(f"{n.sheet}!{n.column}{n.row} {n.reason}"
                          for n in ledger.notes[:_NOTES_SHOWN])
        more = f" and {len(ledger.notes) - _NOTES_SHOWN} more" \
            if len(ledger.notes) > _NOTES_SHOWN else ""
        lines.append(f"notes: {len(ledger.notes)} money cell(s) with a binary-float tail: "
                     f"{shown}{more}")
    if ledger.unread_columns:
        lines.append("columns not read: " + ", ".join(ledger.unread_columns))
    return "\n".join(lines)


class PlacedRejects:
    """The engine's rejections (JSON lines numbered by a household's first row) written with
    the sheet, row, column and header of the field they name."""

    def __init__(self, out: Any, ledger: LedgerRead) -> None:  # a TextSink
        self.out = out
        self.ledger = ledger

    def write(self, text: str) -> int:
        for line in text.splitlines():
            if not line.strip():
                continue
            rejection = parse_json(line)
            first_row = rejection.pop("line", None)
            place = self.ledger.place(first_row, rejection.get("field")) \
                if isinstance(first_row, int) else {"sheet": self.ledger.sheet}
            problem = {**place, "value": None, "field": rejection.get("field"),
                       "reason": rejection.get("reason")}
            self.out.write(dumps({"record": "household",
                                  "household_id": rejection.get("household_id"), **place,
                                  "field": rejection.get("field"),
                                  "reason": rejection.get("reason"),
                                  "rows": self._rows(first_row), "problems": [problem]})
                           + "\n")
        return len(text)

    def _rows(self, first_row: Any) -> list[int]:
        cells = self.ledger.cells.get(first_row) if isinstance(first_row, int) else None
        return list(cells.rows) if cells else []

    def flush(self) -> None:
        self.out.flush()


def _format_or_report(path: str | None) -> LedgerFormat:
    try:
        return load_format(path)
    except PolicyError as exc:
        errors = [d for d in exc.diagnostics if d.severity is Severity.ERROR]
        for diagnostic in exc.diagnostics:
            print(diagnostic.render(), file=sys.stderr)
            print(file=sys.stderr)
        print(f"{len(errors)} error(s) in the ledger format; the ledger was not read.",
              file=sys.stderr)
        raise Reported(EXIT_USAGE) from None
