"""Spreadsheet ledgers: read, decide and write times and peak memory for member rows in the
national layout, as `fangpin eval LEDGER -o decisions.xlsx|.csv` runs them.

    python benchmarks/bench_ledger.py [ROWS]          (default 100000)

The ledgers (xlsx, and its GB18030 CSV twin) are written once by the synthetic generator
(src/fangpin_rules/ledger/synthetic.py) into benchmarks/data/ (git-ignored). Each ledger is run
in a process of its own (bench_support.run_measured), in three timed stages: read (the ledger
into household records), decide (the records through eval's decision loop into JSON lines),
write (those decisions fed to the spreadsheet writer of the same kind, in chunks, as eval
feeds them). The times are CPU seconds (on a shared machine a process waits for a core, and
the wait is not the code's cost); the peak resident memory is taken after each stage (it
only grows).

The last line is xlsxwriter alone writing the same decisions' rows, already turned into
cells and held in memory (constant-memory mode, write_string/write_number): the ceiling the
xlsx write stage is measured against, in the same run.
"""

from __future__ import annotations

import argparse
import io
import json
import resource
import sys
import time
from pathlib import Path

from bench_support import AS_OF, DATA, FUJIAN, machine, run_measured

MEAN_MEMBERS = 3.27  # of the generator's households: sizes 1-5 in turn, every 11th 6
CHUNK_LINES = 4096


def ledger_files(rows: int) -> dict[str, Path]:
    from fangpin_rules.ledger.synthetic import synthetic_ledger, write_csv, write_xlsx

    DATA.mkdir(exist_ok=True)
    files = {"xlsx": DATA / f"ledger-{rows}.xlsx", "csv": DATA / f"ledger-{rows}.csv"}
    if not all(path.exists() for path in files.values()):
        ledger = synthetic_ledger(round(rows / MEAN_MEMBERS), seed=1)
        write_xlsx(ledger, files["xlsx"])
        write_csv(ledger, files["csv"], "gb18030")
    return files


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def stages(path: str, target: str) -> dict[str, object]:
    """Read, decide and write one ledger in this process: seconds and peak MB of each."""
    from fangpin_rules.cli.eval import decide_items
    from fangpin_rules.cli.ledger_output import SpreadsheetOutput
    from fangpin_rules.cli.outputs import Outputs
    from fangpin_rules.engine.policy import load_policy, parse_date
    from fangpin_rules.ledger.format import load_format
    from fangpin_rules.ledger.read import read_ledger

    policy = load_policy(FUJIAN)
    ledger_format = load_format()
    figures: dict[str, object] = {}
    started = time.process_time()
    ledger = read_ledger(path, ledger_format, policy.checked.record_model)
    figures["read"] = time.process_time() - started
    figures["read_peak"] = _peak_mb()
    assert ledger.rows_read == ledger.rows_used and not ledger.rejections
    figures.update(rows=ledger.rows_read, households=len(ledger.households),
                   encoding=ledger.encoding)
    decisions, rejects = io.StringIO(), io.StringIO()
    started = time.process_time()
    _, decided, rejected = decide_items(policy, ledger.households, decisions, rejects,
                                        parse_date(AS_OF))
    figures["decide"] = time.process_time() - started
    figures["decide_peak"] = _peak_mb()
    assert decided == len(ledger.households) and not rejected
    lines = decisions.getvalue().splitlines(keepends=True)
    del ledger, decisions
    args = argparse.Namespace(output=target, lang="zh", mask=False, cases=None)
    started = time.process_time()
    with Outputs() as outputs:
        sheet = SpreadsheetOutput(outputs, args, policy)
        for offset in range(0, len(lines), CHUNK_LINES):
            sheet.decisions.write("".join(lines[offset:offset + CHUNK_LINES]))
        sheet.finish(AS_OF, len(lines), len(lines), 0)
    figures["write"] = time.process_time() - started
    figures["write_peak"] = _peak_mb()
    return figures


def ceiling(path: str, target: str) -> dict[str, object]:
    """xlsxwriter alone writing the decisions' rows of the ledger at `path` (cells prepared
    and held first, not timed): seconds and rows."""
    import xlsxwriter

    from fangpin_rules.cli.eval import decide_items
    from fangpin_rules.cli.ledger_output import _loads
    from fangpin_rules.engine.policy import load_policy, parse_date
    from fangpin_rules.ledger.format import load_format
    from fangpin_rules.ledger.read import read_ledger
    from fangpin_rules.ledger.write import Labeller, exact_number, plain_decimal

    policy = load_policy(FUJIAN)
    ledger = read_ledger(path, load_format(), policy.checked.record_model)
    decisions = io.StringIO()
    decide_items(policy, ledger.households, decisions, io.StringIO(), parse_date(AS_OF))
    labeller = Labeller(policy.checked, "zh")
    rows = []
    for line in decisions.getvalue().splitlines():
        cells = []
        for value in labeller.decision_row(_loads(line)):
            if value is not None and not isinstance(value, str | int):
                number = exact_number(value)
                value = plain_decimal(value) if number is None else number
            cells.append(value)
        rows.append(cells)
    started = time.process_time()
    book = xlsxwriter.Workbook(target, {"constant_memory": True, "strings_to_numbers": False,
                                        "strings_to_formulas": False,
                                        "strings_to_urls": False})
    sheet = book.add_worksheet("decisions")
    for number, cells in enumerate(rows, start=1):
        for column, value in enumerate(cells):
            if value is None:
                continue
            if isinstance(value, str):
                sheet.write_string(number, column, value)
            else:
                sheet.write_number(number, column, value)
    book.close()
    return {"write": time.process_time() - started, "rows": len(rows)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("rows", nargs="?", type=int, default=100_000)
    parser.add_argument("--stages", nargs=2, metavar=("LEDGER", "TARGET"),
                        help=argparse.SUPPRESS)
    parser.add_argument("--ceiling", nargs=2, metavar=("LEDGER", "TARGET"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stages:
        print(json.dumps(stages(*args.stages)))
        return
    if args.ceiling:
        print(json.dumps(ceiling(*args.ceiling)))
        return
    print(machine())
    files = ledger_files(args.rows)
    print("CPU seconds of each stage; peak resident memory after it")
    print(f"{'ledger':<12} {'rows':>8} {'households':>10} {'read s':>7} {'decide s':>8} "
          f"{'write s':>7} {'read rows/s':>11} {'write rows/s':>12}  peak MB read/decide/write")
    for kind, path in files.items():
        figures = run_measured(Path(__file__), ["--stages", str(path),
                                                str(DATA / f"decisions-ledger.{kind}")])
        read, decide, write = (float(str(figures[k])) for k in ("read", "decide", "write"))
        rows, households = int(str(figures["rows"])), int(str(figures["households"]))
        label = kind if kind == "xlsx" else f"csv {figures['encoding']}"
        peaks = "/".join(f"{float(str(figures[k + '_peak'])):.0f}"
                         for k in ("read", "decide", "write"))
        print(f"{label:<12} {rows:>8,} {households:>10,} {read:>7.2f} {decide:>8.2f} "
              f"{write:>7.2f} {rows / read:>11,.0f} {households / write:>12,.0f}  {peaks}")
    figures = run_measured(Path(__file__), ["--ceiling", str(files["xlsx"]),
                                            str(DATA / "decisions-ceiling.xlsx")])
    write, rows = float(str(figures["write"])), int(str(figures["rows"]))
    print(f"{'xlsxwriter alone, the same rows':<44} {write:>7.2f} {'':>11} {rows / write:>12,.0f}")


if __name__ == "__main__":
    sys.exit(main())
