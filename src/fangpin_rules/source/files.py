"""Opening the files a run reads: only regular files (or, for a file the user named, a pipe),
read once and never past a bound, and - for a file that another file names - only inside the
policy roots.

The checks are made on the open file (fstat), not on the name before opening it, so a FIFO
is never waited on and a name swapped between a check and the read cannot slip past. Every
refusal is a `FileRefused` with a stable code and what to do; the caller positions it (at the
`extends:` value that named the file, or at the file given on the command line).
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable

# Pseudo-file systems: their files claim a size of 0 and may never end, or hold the
# process's own secrets (/proc/self/environ); a policy never lives there.
_PSEUDO_ROOTS = ("/proc", "/sys", "/dev")


class FileRefused(Exception):
    """A file that is not read: `code` is stable, `message` names the reason (never the
    file's content), `hint` says what to do."""

    def __init__(self, code: str, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.hint = hint


def read_bounded(path: str, limit: int, *, allow_pipe: bool = False) -> bytes:
    """The bytes of `path`, at most `limit` of them (more is refused, not cut).

    Only a regular file is read; a pipe too when `allow_pipe` (a policy piped in on the
    command line), read once to its end or the limit. A directory, a device, a socket, a
    FIFO otherwise, a name with NUL or too long, an unreadable file: `FileRefused`.
    """
    _check_nul(path)
    fd = _open_refusing(path, _FLAGS)
    try:
        return _read_open(fd, os.fstat(fd), limit, allow_pipe=allow_pipe)
    finally:
        os.close(fd)


def read_inside(path: str, roots: Iterable[str], limit: int) -> bytes:
    """The bytes of `path` (at most `limit`), a regular file inside one of `roots`.

    The name is resolved and checked first (`check_inside`, for a clear refusal), but what
    counts is the file opened: its resolved name is opened without following a link at its
    last component and without waiting on a FIFO, and the open descriptor is verified before
    a byte is read - a regular file whose own path (from /proc/self/fd, or by device and
    inode against the name resolved again) lies inside the roots. A link swapped in between
    the check and the open is refused, and the file it leads to never read.
    """
    real_roots = _real_roots(roots)
    real = check_inside(path, real_roots)
    fd = _open_refusing(real, _FLAGS | getattr(os, "O_NOFOLLOW", 0))
    try:
        info = os.fstat(fd)
        _verify_opened(fd, info, real, real_roots)
        return _read_open(fd, info, limit, allow_pipe=False)
    finally:
        os.close(fd)


_FLAGS = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)


def _open(path: str, flags: int) -> int:
    """os.open; one place, so a test can change the file system between check and open."""
    return os.open(path, flags)


def _open_refusing(path: str, flags: int) -> int:
    try:
        return _open(path, flags)
    except FileNotFoundError:
        raise FileRefused("file-not-found", "the file does not exist", "check the path") from None
    except IsADirectoryError:
        raise FileRefused("not-a-file", "it is a folder, not a file",
                          "name a policy file inside it") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP and flags & getattr(os, "O_NOFOLLOW", 0):
            raise _changed() from None
        raise _os_refusal(exc) from None


def _verify_opened(fd: int, info: os.stat_result, real: str, real_roots: list[str]) -> None:
    """Refuse an open file that is not the one whose name was checked."""
    if not stat.S_ISREG(info.st_mode):
        return  # _read_open refuses it, with its kind
    opened = _fd_path(fd)
    if opened is not None:
        if _under(opened, _PSEUDO_ROOTS) or not _under(opened, real_roots):
            raise _changed()
        return
    # Without /proc: the checked name, resolved again, must lead inside the roots to this
    # very file (a component swapped and left, or swapped and put back, fails one or other).
    try:
        again = os.path.realpath(real)
        same = os.stat(again)
    except (OSError, ValueError):
        raise _changed() from None
    if again != real or (same.st_dev, same.st_ino) != (info.st_dev, info.st_ino) \
            or not _under(again, real_roots):
        raise _changed()


def _fd_path(fd: int) -> str | None:
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return None


def _changed() -> FileRefused:
    return FileRefused(
        "file-changed", "the file or a folder on its path was replaced (by a symbolic link) "
        "between checking its name and opening it; nothing of it was read",
        "check who else writes to the policy folders, then run again")


def _read_open(fd: int, info: os.stat_result, limit: int, *, allow_pipe: bool) -> bytes:
    try:
        pipe = stat.S_ISFIFO(info.st_mode)
        if stat.S_ISDIR(info.st_mode):
            raise FileRefused("not-a-file", "it is a folder, not a file",
                              "name a policy file inside it")
        if not (stat.S_ISREG(info.st_mode) or (pipe and allow_pipe)):
            raise FileRefused("not-a-file", f"it is a {_kind(info.st_mode)}, not a regular file",
                              "name a regular file")
        if info.st_size > limit:
            raise _too_large(limit)
        if pipe:
            os.set_blocking(fd, True)  # a pipe's writer may be slower than us: wait for it
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        return b"".join(chunks)
    except OSError as exc:
        raise _os_refusal(exc) from None


def check_inside(path: str, roots: Iterable[str]) -> str:
    """The real path of `path` (every symlink followed) if it lies inside one of `roots`
    (their real paths) and not in a pseudo-file system; otherwise `FileRefused`.

    A check of the name only: to read the file, `read_inside` (which checks the file opened).
    """
    _check_nul(path)
    try:
        real = os.path.realpath(path)
    except (OSError, ValueError) as exc:
        raise FileRefused("file-unreadable", f"cannot resolve the name ({exc})") from None
    real_roots = _real_roots(roots)
    if _under(real, _PSEUDO_ROOTS):
        raise FileRefused("outside-roots", "it is a system pseudo-file (/proc, /sys, /dev), "
                          "not a policy", "name a policy file in a policy folder")
    if not _under(real, real_roots):
        raise FileRefused(
            "outside-roots", "it is outside the policy folders (this file's folder, a "
            "`policies/` folder above it, --policy-path, FANGPIN_POLICY_PATH)",
            "put the base in one of those folders, or add its folder with --policy-path")
    return real


def _real_roots(roots: Iterable[str]) -> list[str]:
    try:
        return [os.path.realpath(root) for root in roots]
    except (OSError, ValueError) as exc:
        raise FileRefused("file-unreadable", f"cannot resolve a policy folder ({exc})") from None


def _check_nul(path: str) -> None:
    if "\x00" in path:
        raise FileRefused("file-name", "the file name contains a NUL character",
                          "give the file's real name")


def _under(real: str, roots: Iterable[str]) -> bool:
    return any(real == root or real.startswith(root.rstrip(os.sep) + os.sep) for root in roots)


def _too_large(limit: int) -> FileRefused:
    return FileRefused("file-too-large", f"the file is larger than {limit:,} bytes",
                       "split it, or check that it is the file you meant")


def _os_refusal(exc: OSError) -> FileRefused:
    if exc.errno == errno.ENAMETOOLONG:
        return FileRefused("file-name", "the file name is too long", "give a shorter path")
    if exc.errno == errno.ELOOP:
        return FileRefused("file-unreadable", "its symbolic links go round in a loop",
                           "fix or remove the link")
    return FileRefused("file-unreadable", f"cannot read it: {exc.strerror or exc}")


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    if stat.S_ISSOCK(mode):
        return "socket"
    return "special file"
