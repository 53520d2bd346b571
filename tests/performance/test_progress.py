"""The progress line: on a terminal only, with records, rate and, for a file, the share done
and the time left."""

from __future__ import annotations

import io
import os
import select
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from fangpin_rules.cli.progress import Progress, progress_for, rows_progress_for

from scale_support import AS_OF
from support import FUJIAN


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_line_shows_records_rate_share_and_time_left() -> None:
    out, clock = io.StringIO(), FakeClock()
    position = [0]
    progress = Progress(out, total_bytes=1000, position=lambda: position[0], clock=clock)
    clock.now += 2
    position[0] = 250
    progress.update(5000)
    assert out.getvalue() == "\r5,000 records  2,500/s  0:00:02  25.0%  ETA 0:00:06\x1b[K"
    progress.finish()
    assert out.getvalue().endswith("\n")


def test_a_label_names_what_the_line_counts() -> None:
    out, clock = io.StringIO(), FakeClock()
    progress = Progress(out, clock=clock, label="ids: ")
    clock.now += 1
    progress.update(10)
    assert out.getvalue() == "\rids: 10 records  10/s  0:00:01\x1b[K"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_run_of_known_rows_shows_the_share_of_its_rows() -> None:
    terminal = Terminal()
    progress = rows_progress_for(terminal, 200)
    assert progress is not None
    progress.clock = clock = FakeClock()
    progress.started = progress.last_drawn = clock.now
    clock.now += 2
    progress.update(50)
    assert terminal.getvalue() == "\r50 records  25/s  0:00:02  25.0%  ETA 0:00:06\x1b[K"
    assert rows_progress_for(io.StringIO(), 200) is None  # not a terminal
    assert rows_progress_for(terminal, 200, out=Terminal()) is None  # decisions on one too


def test_it_redraws_at_most_every_interval() -> None:
    out, clock = io.StringIO(), FakeClock()
    progress = Progress(out, clock=clock, interval=1.0)
    clock.now += 0.5
    progress.update(10)
    assert out.getvalue() == ""
    clock.now += 0.6
    progress.update(10)
    assert out.getvalue() == "\r20 records  18/s  0:00:01\x1b[K"  # no size: no share, no ETA


def test_clear_wipes_the_line_before_other_output() -> None:
    out, clock = io.StringIO(), FakeClock()
    progress = Progress(out, clock=clock, interval=0)
    progress.clear()
    assert out.getvalue() == ""
    progress.update(1)
    progress.clear()
    assert out.getvalue().endswith("\r\x1b[K")


def test_the_line_is_wiped_only_before_text_to_its_own_terminal() -> None:
    out = io.StringIO()
    progress = Progress(out, clock=FakeClock(), interval=0)
    progress.update(1)
    drawn = out.getvalue()
    progress.clear_for(io.StringIO())  # a rejects file: the line stays
    assert out.getvalue() == drawn and progress.shown
    progress.clear_for(out)
    assert out.getvalue() == drawn + "\r\x1b[K" and not progress.shown


def test_no_progress_when_stderr_is_not_a_terminal(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text("{}\n", encoding="utf-8")
    with path.open(encoding="utf-8") as source:
        assert progress_for(io.StringIO(), source) is None


def test_progress_on_a_terminal_knows_the_file_size(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text("{}\n" * 10, encoding="utf-8")
    main_fd, terminal_fd = os.openpty()
    try:
        with path.open(encoding="utf-8") as source, \
                os.fdopen(terminal_fd, "w", closefd=False) as terminal:
            progress = progress_for(terminal, source)
            assert progress is not None and progress.total_bytes == 30
            source.read()
            assert progress.position is not None and progress.position() == 30
    finally:
        os.close(main_fd)
        os.close(terminal_fd)


def _on_a_terminal(*args: str | Path) -> tuple[int, str]:
    """`fangpin` with `args`, its stderr a terminal: (its exit code, what the terminal got)."""
    main_fd, terminal_fd = os.openpty()
    try:
        done = subprocess.run([sys.executable, "-m", "fangpin_rules.cli.main",
                               *(str(a) for a in args)],
                              stderr=terminal_fd, stdout=subprocess.DEVNULL, check=False)
        shown = b""
        while select.select([main_fd], [], [], 0.5)[0]:
            chunk = os.read(main_fd, 65536)
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(main_fd)
        os.close(terminal_fd)
    return done.returncode, shown.decode()


@pytest.mark.parametrize("engine", ["record", "columnar"])
def test_eval_draws_progress_on_a_terminal_stderr(input_file: Path, tmp_path: Path,
                                                  engine: str) -> None:
    code, text = _on_a_terminal("eval", FUJIAN, input_file, "--as-of", AS_OF,
                                "-o", tmp_path / "out.jsonl",
                                "--rejects", tmp_path / "rejects.jsonl", "--engine", engine)
    assert code == 1
    assert "\r605 records" in text and "100.0%" in text
    # the first pass over the ids draws a line of its own first, ended before the run's
    assert "\rids: 605 records" in text
    assert text.index("ids: 605 records") < text.index("\r605 records")
    assert text.rstrip().endswith("read 605, decided 603, rejected 2 (see "
                                  f"{tmp_path / 'rejects.jsonl'})")


def test_a_parquet_run_counts_the_rows_of_the_file(
        households: list[dict[str, Any]], tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from fangpin_rules import load_policy
    from fangpin_rules.columnar import records_to_arrow

    rows = records_to_arrow(load_policy(FUJIAN), households).to_pylist()
    rows[7] = {**rows[7], "members": []}  # refused by the contract
    rows.append(dict(rows[3]))  # an id given twice
    path = tmp_path / "households.parquet"
    pq.write_table(pa.Table.from_pylist(rows), path, row_group_size=50)
    # the rejects go to the terminal too, never onto the progress line
    code, text = _on_a_terminal("eval", FUJIAN, path, "--as-of", AS_OF,
                                "-o", tmp_path / "out.parquet")
    assert code == 1
    assert "\r601 records" in text and "100.0%" in text
    shown_rejects = [line for line in text.split("\n") if '"reason"' in line]
    assert len(shown_rejects) == 2 and not any("records" in line for line in shown_rejects)
    assert text.rstrip().endswith("read 601, decided 599, rejected 2")


def test_no_progress_line_when_the_decisions_go_to_the_terminal_too(
        input_file: Path) -> None:
    # One terminal for both: a redrawn progress line would run into the decisions.
    main_fd, terminal_fd = os.openpty()
    shown = b""
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "fangpin_rules.cli.main", "eval", str(FUJIAN),
             str(input_file), "--as-of", AS_OF], stderr=terminal_fd, stdout=terminal_fd)
        os.close(terminal_fd)
        while True:  # read as it comes: a terminal holds little, and a full one blocks
            if not select.select([main_fd], [], [], 60)[0]:
                break
            try:
                chunk = os.read(main_fd, 1 << 20)
            except OSError:  # EIO: the process closed its end
                break
            if not chunk:
                break
            shown += chunk
        code = process.wait(60)
    finally:
        os.close(main_fd)
    assert code == 1
    text = shown.decode()
    assert text.count('"household_id"') >= 603
    assert "records  " not in text and "\x1b[K" not in text
    assert "read 605, decided 603, rejected 2" in text
