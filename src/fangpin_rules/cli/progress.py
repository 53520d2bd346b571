"""A progress line on stderr for long runs: records, rate and, when the input's size is
known, how far through it the run is and the time left. Shown only when stderr is a terminal
and the decisions do not go to a terminal, so logs and pipes get nothing extra."""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Callable
from typing import IO


class Progress:
    """Redraws one terminal line at most every `interval` seconds. Its share done is the
    records counted out of `total_records` when the run's size is known in records (a Parquet
    file's rows), else the bytes read (`position()`) out of `total_bytes`."""

    def __init__(self, out: IO[str], *, total_bytes: int | None = None,
                 position: Callable[[], int] | None = None, interval: float = 0.25,
                 clock: Callable[[], float] = time.monotonic, label: str = "",
                 total_records: int | None = None) -> None:
        self.out = out
        self.label = label  # what the line counts, before its figures (a first pass's name)
        self.total_bytes = total_bytes
        self.position = position
        self.total_records = total_records
        self.interval = interval
        self.clock = clock
        self.started = clock()
        self.last_drawn = self.started
        self.records = 0
        self.shown = False

    def update(self, records: int) -> None:
        self.records += records
        now = self.clock()
        if now - self.last_drawn >= self.interval:
            self.last_drawn = now
            self.draw(now)

    def line(self, now: float) -> str:
        elapsed = max(now - self.started, 1e-9)
        rate = self.records / elapsed
        text = f"{self.label}{self.records:,} records  {rate:,.0f}/s  {_clock(elapsed)}"
        done = self._fraction()
        if done is not None:
            text += f"  {done:5.1%}"
            if 0 < done < 1:
                text += f"  ETA {_clock(elapsed * (1 - done) / done)}"
        return text

    def draw(self, now: float | None = None) -> None:
        self.out.write("\r" + self.line(self.clock() if now is None else now) + "\x1b[K")
        self.out.flush()
        self.shown = True

    def clear(self) -> None:
        """Wipe the line (before other text goes to the same terminal)."""
        if self.shown:
            self.out.write("\r\x1b[K")
            self.shown = False

    def clear_for(self, stream: object) -> None:
        """Wipe the line when `stream`, about to be written, is the line's own terminal."""
        if stream is self.out:
            self.clear()

    def finish(self) -> None:
        if self.shown or self.records:
            self.draw()
            self.out.write("\n")
            self.out.flush()

    def _fraction(self) -> float | None:
        if self.total_records:
            return min(1.0, self.records / self.total_records)
        if not self.total_bytes or self.position is None:
            return None
        try:
            return min(1.0, self.position() / self.total_bytes)
        except OSError:
            return None


def _clock(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"


def _drawable(stderr: IO[str], out: IO[str] | None) -> bool:
    """Whether stderr is a terminal and the output `out` is not one too: the decisions are the
    progress there, and a redrawn line would run into them."""
    try:
        return stderr.isatty() and not (out is not None and out.isatty())
    except (AttributeError, ValueError):
        return False


def rows_progress_for(stderr: IO[str], total_rows: int, out: IO[str] | None = None
                      ) -> Progress | None:
    """A progress line for a run of `total_rows` rows known before it starts (a Parquet
    file's), its share the rows counted so far; None as `progress_for`."""
    return Progress(stderr, total_records=total_rows) if _drawable(stderr, out) else None


def progress_for(stderr: IO[str], source: IO[str],
                 out: IO[str] | None = None, label: str = "") -> Progress | None:
    """A progress line for reading `source`, or None when stderr is not a terminal, or when
    the output `out` is a terminal too (`_drawable`)."""
    if not _drawable(stderr, out):
        return None
    total: int | None = None
    position: Callable[[], int] | None = None
    try:
        fd = source.fileno()
        info = os.fstat(fd)
        if stat.S_ISREG(info.st_mode):
            total = info.st_size

            def position() -> int:
                return os.lseek(fd, 0, os.SEEK_CUR)  # bytes read into the buffer so far
    except (AttributeError, OSError, ValueError):
        pass
    return Progress(stderr, total_bytes=total, position=position, label=label)
