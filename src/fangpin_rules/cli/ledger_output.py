"""`fangpin eval … -o decisions.xlsx|decisions.csv`: the decisions as a spreadsheet ledger.

The decision loop writes JSON lines, a chunk at a time; here each line is turned into a row as
it comes (ledger/write.py), so the decisions are never held twice. The rejects still go where
`--rejects` says (or stderr), as JSON lines, and into the workbook's rejects sheet too. A
workbook carries the monthly ledger summary of the date's month (ledger/summary.py), summed
as the decisions come.
The workbook is a file the run's outputs write atomically, like any other output.
"""

from __future__ import annotations

import argparse
import json
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from datetime import date
from decimal import Decimal
from typing import IO, TYPE_CHECKING, Any

from fangpin_rules.cli.common import UsageError

if TYPE_CHECKING:  # the writer is imported by a run that writes a spreadsheet, not by others
    from fangpin_rules.cli.outputs import Outputs
    from fangpin_rules.engine.stream import Item
    from fangpin_rules.ledger.write import SpreadsheetLedger


def add_spreadsheet_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--lang", choices=("zh", "en"), default=None,
                        help="headers and labels of an .xlsx or .csv output (default zh)")
    parser.add_argument("--mask", action="store_true",
                        help="in an .xlsx or .csv output and its rejects, show household ids "
                        "and quoted cells with only their first 6 and last 4 characters")


def check_spreadsheet_options(args: argparse.Namespace) -> bool:
    """Whether -o names a spreadsheet; --lang and --mask are refused for JSON lines, and a
    spreadsheet for --rejects (a JSON-lines file named .xlsx would mislead)."""
    from fangpin_rules.ledger.write import is_spreadsheet

    spreadsheet = is_spreadsheet(args.output)
    if is_spreadsheet(args.rejects):
        raise UsageError("--rejects writes JSON lines; with -o decisions.xlsx the rejects are "
                         "a sheet of the workbook too")
    if not spreadsheet and (args.lang is not None or args.mask):
        raise UsageError("--lang and --mask are for a spreadsheet output: give -o a file "
                         "ending in .xlsx or .csv")
    return spreadsheet


def _loads(line: str) -> Any:
    return json.loads(line, parse_float=Decimal)  # money stays exact


class SpreadsheetOutput:
    """The run's decisions file as a spreadsheet: `decisions` takes the loop's JSON lines,
    `rejects(stream)` passes the rejections on to `stream` and into the rejects sheet,
    `finish` writes the about sheet and closes the workbook (inside the outputs' block)."""

    def __init__(self, outputs: Outputs, args: argparse.Namespace, policy: Any,
                 as_of: date | None = None) -> None:
        from fangpin_rules.ledger.write import Labeller, XlsxLedger, open_ledger

        base = getattr(policy, "base", policy)
        self.policy = policy
        self.labeller = Labeller(base.checked, args.lang or "zh", mask=args.mask)
        self.mask = args.mask
        self.ledger: SpreadsheetLedger = open_ledger(
            args.output, outputs.open(args.output), self.labeller,
            deadlines=bool(args.cases))
        self.cases: dict[str, list[Any]] = {}
        # A workbook decided on a date carries the monthly ledger summary of its month.
        self.summary = _Summary(policy, as_of) if as_of is not None and isinstance(
            self.ledger, XlsxLedger) else None
        self.decisions = _DecisionSink(self.ledger, self.summary, self.cases)

    def watch(self, items: Iterable[Item]) -> Iterable[Item]:
        """The records going to the decision loop, noted for the summary sheet as they go."""
        return items if self.summary is None else self.summary.watch(items)

    def rejects(self, stream: Any) -> _RejectsTee:
        return _RejectsTee(stream, self.ledger, self.mask)

    def discard(self) -> None:
        self.ledger.discard()

    def finish(self, as_of: object, read: int, decided: int, rejected: int,
               **more: int) -> None:
        """`more`: further counts for the about sheet (a ledger's member rows)."""
        from fangpin_rules import __version__
        from fangpin_rules.ledger.summary import table_sheet
        from fangpin_rules.ledger.write import XlsxLedger

        if self.summary is not None and isinstance(self.ledger, XlsxLedger):
            self.ledger.summary_sheet(*table_sheet(self.summary.sums.table(), self.policy,
                                                   self.labeller.lang))
        self.ledger.close(str(as_of), __version__,
                          {"read": read, "decided": decided, "rejected": rejected, **more})


class _Summary:
    """The monthly ledger of the decisions' month, summed as they come: each decision is
    paired with its record (the records are noted as the loop takes them; the decisions come
    in their order, the rejected ones left out), so that neither is held beyond the loop's
    chunks in flight."""

    def __init__(self, policy: Any, as_of: date) -> None:
        from fangpin_rules.engine.typed_json import typed_reader
        from fangpin_rules.ledger.summary import SummarySums, month_to

        self.base = getattr(policy, "base", policy)
        self.reader = typed_reader(self.base.checked.record_model)
        self.record_id = self.base.checked.record_id or "household_id"
        self.sums = SummarySums(policy, month_to(as_of))
        self.pending: deque[Item] = deque()

    def watch(self, items: Iterable[Item]) -> Iterator[Item]:
        for item in items:
            self.pending.append(item)
            yield item

    def add(self, decision: Mapping[str, Any], cases: Mapping[str, list[Any]]) -> None:
        from fangpin_rules.engine.records import RecordError
        from fangpin_rules.engine.stream import read_item

        wanted = decision.get(self.record_id)
        while self.pending:
            number, item = self.pending.popleft()
            try:
                household = read_item(self.base, self.reader, number, item)
            except RecordError:
                continue  # rejected: no decision of it comes
            key = getattr(household, self.record_id, None)
            if key == wanted:
                self.sums.add(household, dict(decision), cases.get(str(key), []))
                return
        raise AssertionError("a decision whose record was not read")  # pragma: no cover


class _DecisionSink:
    """Takes the decision loop's JSON lines (whole lines: the loop writes whole chunks)."""

    def __init__(self, ledger: SpreadsheetLedger, summary: _Summary | None,
                 cases: Mapping[str, list[Any]]) -> None:
        self.ledger = ledger
        self.summary = summary
        self.cases = cases

    def write(self, text: str, /) -> int:
        for line in text.splitlines():
            if line.strip():
                decision = _loads(line)
                self.ledger.decision(decision)
                if self.summary is not None:
                    self.summary.add(decision, self.cases)
        return len(text)

    def flush(self) -> None:
        """Rows are written as they come."""

    def isatty(self) -> bool:
        return False


class _RejectsTee:
    """Rejections to their stream (masked with --mask) and to the workbook's rejects sheet."""

    def __init__(self, out: Any, ledger: SpreadsheetLedger, mask: bool) -> None:
        self.out: IO[str] = out
        self.ledger = ledger
        self.mask = mask

    def write(self, text: str, /) -> int:
        from fangpin_rules.engine.serialize import dumps

        for line in text.splitlines():
            if not line.strip():
                continue
            rejection = _loads(line)
            if not isinstance(rejection, dict):
                continue
            self.ledger.rejection(rejection)
            self.out.write((dumps(masked(rejection)) if self.mask else line) + "\n")
        return len(text)

    def flush(self) -> None:
        self.out.flush()


def masked(rejection: Mapping[str, Any]) -> dict[str, Any]:
    """A rejection with its household id and the cell values it quotes masked, and the id
    masked wherever its reason repeats it."""
    from fangpin_rules.ledger.ids import mask_id

    household = rejection.get("household_id")

    def hide(value: Any, key: str) -> Any:
        if isinstance(value, dict):
            return {k: hide(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [hide(v, key) for v in value]
        if key in ("household_id", "value") and isinstance(value, str) and value:
            return mask_id(value)
        if key == "reason" and isinstance(value, str) and isinstance(household, str) \
                and household:
            return value.replace(household, mask_id(household))
        return value

    return {key: hide(value, key) for key, value in rejection.items()}
