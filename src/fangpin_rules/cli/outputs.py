"""Opening a verb's outputs safely: the one place every verb that writes files goes through.

- An output is written to a temporary file beside its target and renamed into place only when
  the run ends well: a failed or interrupted run leaves the previous file (or none), never a
  silent partial one. A target that is not a regular file (a device such as /dev/null, a pipe)
  cannot be renamed onto; it is written directly.
- Before anything is written, an output that names one of the run's inputs (the records, the
  policy and every file it extends, a region table, the cases) or another output is refused,
  comparing resolved paths and inodes, so a symlink or a hard link counts as the same file.
- A write that fails (a full disk) ends the run with `OutputFailed`, which names the file and
  the reason (exit 3); stdout that the reader closed (`| head -1`) swallows the rest quietly so
  the run ends with its real exit code.
"""

from __future__ import annotations

import io
import os
import stat
import sys
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer


class OutputFailed(Exception):
    """Writing an output failed (disk full, I/O error): the run ends with exit 3."""


class OutputRefused(Exception):
    """An output names an input or another output, or cannot be created (exit 2, nothing
    written)."""


class _GuardedRaw(io.FileIO):
    """The raw file under an output's buffers: every write, text or bytes, ends here, so one
    place turns an OSError into `OutputFailed` naming the file (never a traceback).
    On a pipe the reader closed, the rest is dropped instead (`discard_broken_pipe`). Once a
    write has failed, the rest is dropped too: the failure ends the run and is reported once,
    and the bytes still buffered must not fail again when the stream is flushed on the way
    out, or at the interpreter's exit (Python 3.13 prints that as a traceback)."""

    label: str = ""
    discard_broken_pipe = False
    broken = False  # the reader closed it, or a write failed: nothing more is written

    def write(self, data: ReadableBuffer, /) -> int:
        if self.broken:
            return memoryview(data).nbytes
        try:
            written = super().write(data)
        except BrokenPipeError:
            self.broken = True
            if not self.discard_broken_pipe:
                raise OutputFailed(f"cannot write {self.label}: the reader closed it") from None
            return memoryview(data).nbytes
        except OSError as exc:
            self.broken = True
            raise OutputFailed(f"cannot write {self.label}: {exc.strerror or exc}") from None
        return memoryview(data).nbytes if written is None else written


def _text(raw: _GuardedRaw, *, line_buffering: bool = False) -> IO[str]:
    # backslashreplace: a lone surrogate (a record can spell one, "\ud800", in a JSON string,
    # and a rejection names the record by it) is written back as that same escape, which in
    # JSON text reads as the same string, instead of stopping the run.
    return io.TextIOWrapper(io.BufferedWriter(raw), encoding="utf-8", errors="backslashreplace",
                            newline="\n", line_buffering=line_buffering)


def guarded_stdout() -> IO[str]:
    """A stdout whose write errors are `OutputFailed` and whose closed pipe is not an error."""
    raw = _GuardedRaw(sys.stdout.fileno(), "w", closefd=False)
    raw.label = "stdout"
    raw.discard_broken_pipe = True
    try:
        terminal = os.isatty(raw.fileno())
    except OSError:
        terminal = False
    return _text(raw, line_buffering=terminal)


_Identity = tuple[str, tuple[int, int] | None] | None


def _identity(path: str) -> _Identity:
    """A file's resolved path and, when it exists, its (device, inode); None for a character
    device (/dev/null, a terminal), which is no file to destroy or interleave."""
    real = os.path.realpath(path)
    try:
        info = os.stat(path)
    except OSError:
        return real, None
    if stat.S_ISCHR(info.st_mode):
        return None
    return real, (info.st_dev, info.st_ino)


def _same(a: _Identity, b: _Identity) -> bool:
    if a is None or b is None:
        return False
    return a[0] == b[0] or (a[1] is not None and a[1] == b[1])


def check_collisions(inputs: Mapping[str, Iterable[str | None]],
                     outputs: Mapping[str, str | None]) -> None:
    """Refuse an output that is an input or another output. `inputs`: {what: paths}
    (e.g. {"the policy": [file, base...]}); `outputs`: {option: path}; None and "-" (stdin,
    stdout) are skipped: outputs on stdout share one stream, so their lines stay whole."""
    files = [(option, path, _identity(path)) for option, path in outputs.items()
             if path is not None and path != "-"]
    for index, (option, path, ident) in enumerate(files):
        for what, paths in inputs.items():
            for input_path in paths:
                if input_path is None or input_path == "-":
                    continue
                if _same(ident, _identity(input_path)):
                    raise OutputRefused(
                        f"{option} '{path}' is {what} ('{input_path}'); writing it would "
                        "destroy it: give another file")
        for other, other_path, other_ident in files[index + 1:]:
            if _same(ident, other_ident):
                raise OutputRefused(f"{option} '{path}' and {other} '{other_path}' are the "
                                      "same file; give them different files")


@dataclass
class _Pending:
    target: str
    temp: str | None  # None: written in place (stdout, a device, a pipe)
    stream: IO[str]


@dataclass
class Outputs:
    """The outputs of one run. `open(path)` gives a text stream (stdout for None or "-");
    leaving the `with` block normally renames every temporary file onto its target, and
    leaving it by an exception (a failure, an interruption) removes them all."""

    _pending: list[_Pending] = field(default_factory=list)

    def __enter__(self) -> Outputs:
        return self

    def open(self, path: str | None) -> IO[str]:
        if path is None or path == "-":
            if hasattr(sys.stdout, "reconfigure"):
                sys.stdout.reconfigure(errors="backslashreplace")
            return sys.stdout
        # A symlink's target is the file replaced, not the link itself.
        target = os.path.realpath(path)
        try:
            info = os.stat(target)
        except FileNotFoundError:
            info = None
        except OSError as exc:
            raise OutputRefused(f"cannot write '{path}': {exc.strerror}") from None
        temp: str | None = None
        try:
            if (info is not None and not stat.S_ISREG(info.st_mode)) or \
                    target.startswith(("/dev/", "/proc/")):
                # A device, a pipe, /dev/stdout: nothing to rename onto, written as it is.
                raw = _GuardedRaw(path, "w")
            else:
                folder = os.path.dirname(target)
                fd, temp = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(target)
                                            + ".", suffix=".part")
                os.fchmod(fd, stat.S_IMODE(info.st_mode) if info is not None
                          else 0o666 & ~_umask())
                raw = _GuardedRaw(fd, "w", closefd=True)
        except OSError as exc:
            if temp is not None:
                _remove(temp)
            raise OutputRefused(f"cannot write '{path}': {exc.strerror}") from None
        raw.label = f"'{path}'"
        stream = _text(raw)
        self._pending.append(_Pending(target, temp, stream))
        return stream

    def __exit__(self, kind: type[BaseException] | None, *rest: object) -> None:
        if kind is None:
            self._commit()
        else:
            self._discard()

    def _commit(self) -> None:
        try:
            for pending in self._pending:
                pending.stream.flush()
                if pending.temp is not None:
                    os.fsync(pending.stream.fileno())  # on disk before it replaces the old one
        except OSError as exc:
            self._discard()
            raise OutputFailed(f"cannot write: {exc.strerror}") from None
        except BaseException:
            self._discard()
            raise
        for pending in self._pending:
            pending.stream.close()
        for pending in self._pending:
            if pending.temp is not None:
                try:
                    os.replace(pending.temp, pending.target)
                except OSError as exc:
                    self._discard()
                    raise OutputFailed(f"cannot write '{pending.target}': "
                                       f"{exc.strerror}") from None
                pending.temp = None
        self._pending.clear()

    def _discard(self) -> None:
        for pending in self._pending:
            # The run is failing already; its first error is the one reported.
            with suppress(OSError, OutputFailed):
                pending.stream.close()
            if pending.temp is not None:
                _remove(pending.temp)
        self._pending.clear()


def _remove(path: str) -> None:
    with suppress(OSError):
        os.unlink(path)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def open_output(path: str | None) -> Iterator[IO[str]]:
    """One output, opened safely (see the module's doc); stdout for None or "-"."""
    with Outputs() as outputs:
        yield outputs.open(path)
        if path is None or path == "-":
            sys.stdout.flush()
