"""The fuzz campaign's harness: run a verb in-process as a user would, and watch what it does.

`guarded_run` calls the command line's `main` with a time limit and records, through a Python
audit hook, every file the run opens, renames, removes or creates. A run passes when it returned
an exit code (no exception escaped: that would have been a traceback), did not hang, and touched
no file outside the folders it was given. The figures of a campaign (inputs tried per kind,
crashes, hangs, losses, files touched outside) are counted here and, when
`FANGPIN_FUZZ_REPORT` names a file, written there as JSON (docs/security.md quotes them).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import signal
import sys
import sysconfig
import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fangpin_rules.cli.main import main

ROOT = Path(__file__).resolve().parents[1]

# A run longer than this is a hang (the inputs are small: a normal run takes well under 2 s).
RUN_TIME_LIMIT_S = 20.0

# How many examples a fuzz test tries: lean by default, a longer profile by hand
# (FANGPIN_FUZZ_EXAMPLES=2000 python -m pytest tests/security).
EXAMPLES = int(os.environ.get("FANGPIN_FUZZ_EXAMPLES", "0")) or None

SUMMARY = re.compile(r"read (\d+), decided (\d+), rejected (\d+)")

# Folders a run may read whatever its inputs: Python's own and the installed packages
# (lazy imports, the holidays data), the project's source and its bundled policies.
_READ_ANYWHERE = tuple(
    str(Path(p).resolve()) for p in {
        sys.prefix, sys.base_prefix, sys.exec_prefix, sysconfig.get_paths()["purelib"],
        sysconfig.get_paths()["platlib"], sysconfig.get_paths()["stdlib"],
        str(ROOT / "src"), str(ROOT / "policies"),
    })
_DEVICES = ("/dev/null", "/dev/urandom", "/dev/stdin", "/dev/stdout", "/dev/stderr")
_WRITE_EVENTS = {"os.rename", "os.replace", "os.remove", "os.unlink", "os.mkdir", "os.rmdir",
                 "os.symlink", "os.link", "os.truncate", "shutil.rmtree", "shutil.move"}


class Hang(Exception):
    """Raised in the run by the alarm: it took longer than RUN_TIME_LIMIT_S."""


@dataclass
class Watch:
    """What one run touched."""

    read: set[str] = field(default_factory=set)
    written: set[str] = field(default_factory=set)


_watch: Watch | None = None
_hook_lock = threading.Lock()
_hook_installed = False


def _audit(event: str, args: tuple[Any, ...]) -> None:
    watch = _watch
    if watch is None or threading.current_thread() is not threading.main_thread():
        return
    if event == "open":
        path, mode = args[0], args[1]
        if isinstance(path, int) or path is None:
            return
        text = os.fsdecode(path)
        if isinstance(mode, str):  # open(): the mode says it
            writing = any(c in mode for c in "wax+")
        else:  # os.open(): the flags say it
            writing = isinstance(args[2], int) and bool(
                args[2] & (os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC))
        (watch.written if writing else watch.read).add(text)
    elif event in _WRITE_EVENTS:
        for arg in args[:2]:
            if isinstance(arg, str | bytes | os.PathLike):
                watch.written.add(os.fsdecode(arg))


def _install_hook() -> None:
    global _hook_installed
    with _hook_lock:
        if not _hook_installed:
            sys.addaudithook(_audit)  # audit hooks cannot be removed: it is gated by _watch
            _hook_installed = True


def _resolved(path: str, cwd: str) -> str:
    return str(Path(cwd, path).resolve()) if not os.path.isabs(path) else str(Path(path).resolve())


def _inside(path: str, roots: Sequence[str]) -> bool:
    return any(path == r or path.startswith(r.rstrip("/") + "/") for r in roots)


@dataclass
class Outcome:
    code: int | None
    stdout: str
    stderr: str
    crash: str | None  # the exception that escaped main(): a traceback a user would have seen
    hang: bool
    outside: list[str]  # files read or written outside the allowed folders

    @property
    def counts(self) -> tuple[int, int, int] | None:
        found = SUMMARY.findall(self.stderr)
        if not found:
            return None
        read, decided, rejected = found[-1]
        return int(read), int(decided), int(rejected)

    def problem(self, codes: set[int]) -> str | None:
        """Why this run breaks the campaign's properties, or None."""
        if self.hang:
            return "hang"
        if self.crash:
            return "crash: " + self.crash
        if self.code not in codes:
            return f"exit code {self.code} not in {sorted(codes)}"
        if "Traceback (most recent call last)" in self.stderr + self.stdout:
            return "a traceback was printed"
        if self.outside:
            return "touched files outside the run's folders: " + ", ".join(sorted(self.outside))
        return None


@contextlib.contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    def alarm(signum: int, frame: Any) -> None:
        raise Hang

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def guarded_run(argv: Sequence[str], folder: Path, *, read_also: Sequence[Path] = ()) -> Outcome:
    """Run `fangpin argv` in-process with `folder` as the working folder. It may write only inside
    `folder` and read only there, in `read_also`, and in Python's and the project's own files."""
    global _watch
    _install_hook()
    cwd = os.getcwd()
    out, err = io.StringIO(), io.StringIO()
    watch = Watch()
    code: int | None = None
    crash: str | None = None
    hang = False
    os.chdir(folder)
    try:
        with _time_limit(RUN_TIME_LIMIT_S), contextlib.redirect_stdout(out), \
                contextlib.redirect_stderr(err):
            _watch = watch
            try:
                code = main(list(argv))
            except SystemExit as exc:  # argparse's own usage errors
                code = exc.code if isinstance(exc.code, int) else 2
            finally:
                _watch = None
    except Hang:
        hang = True
    except Exception as exc:  # any escape is the finding
        crash = f"{type(exc).__name__}: {exc}"[:500]
    finally:
        os.chdir(cwd)
    here = str(folder.resolve())
    readable = (here, *(str(p.resolve()) for p in read_also), *_READ_ANYWHERE)
    outside = [p for p in (_resolved(p, here) for p in watch.read)
               if not _inside(p, readable) and p not in _DEVICES and not p.startswith("/proc/")]
    outside += [p for p in (_resolved(p, here) for p in watch.written)
                if not _inside(p, (here,)) and p not in _DEVICES]
    return Outcome(code, out.getvalue(), err.getvalue(), crash, hang, outside)


class Campaign:
    """Counts what the campaign tried, per kind of input, and what went wrong."""

    def __init__(self) -> None:
        self.tried: Counter[str] = Counter()
        self.found: Counter[str] = Counter()

    def record(self, kind: str, problem: str | None) -> None:
        self.tried[kind] += 1
        if problem is not None:
            self.found[f"{kind}: {problem.split(':', 1)[0]}"] += 1

    def write(self) -> None:
        target = os.environ.get("FANGPIN_FUZZ_REPORT")
        if target:
            Path(target).write_text(json.dumps(
                {"tried": dict(self.tried), "found": dict(self.found)}, indent=2,
                ensure_ascii=False) + "\n", encoding="utf-8")


CAMPAIGN = Campaign()


def lines_of(path: Path) -> list[bytes]:
    return [line for line in path.read_bytes().split(b"\n") if line.strip()] \
        if path.exists() else []
