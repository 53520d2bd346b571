"""Putting the explorer's folder in place atomically: the files are written into a new folder
beside the target and renamed onto it when all are written, so a failed run leaves the previous
site (or none), never half of one. A folder that is not an explorer site (it holds other files,
perhaps the policy itself) is never replaced."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping

MARKER = ".fangpin-explorer"  # names a folder this writer made, which it may replace


class SiteRefused(Exception):
    """The output folder cannot be used (it holds other files, or cannot be created)."""


def write_site(files: Mapping[str, str], target: str) -> None:
    """Write `files` ({name: text}) as the folder `target`, replacing an earlier site there."""
    target = os.path.realpath(target)
    parent = os.path.dirname(target)
    if os.path.lexists(target):
        if not os.path.isdir(target):
            raise SiteRefused(f"'{target}' exists and is not a folder; give a folder")
        entries = os.listdir(target)
        if entries and MARKER not in entries:
            raise SiteRefused(f"'{target}' holds files that are not an explorer site; give an "
                              "empty or new folder")
    try:
        os.makedirs(parent, exist_ok=True)
        staging = tempfile.mkdtemp(dir=parent, prefix="." + os.path.basename(target) + ".")
    except OSError as exc:
        raise SiteRefused(f"cannot create '{target}': {exc.strerror}") from None
    old: str | None = None
    try:
        for name, text in {**files, MARKER: "written by fangpin doc\n"}.items():
            with open(os.path.join(staging, name), "w", encoding="utf-8", newline="\n") as out:
                out.write(text)
                out.flush()
                os.fsync(out.fileno())
        os.chmod(staging, 0o777 & ~_umask())
        if os.path.isdir(target):
            old = tempfile.mkdtemp(dir=parent, prefix="." + os.path.basename(target) + ".old.")
            os.rmdir(old)
            os.rename(target, old)
        os.rename(staging, target)
    except BaseException:
        if old is not None and not os.path.exists(target):
            os.rename(old, target)
            old = None
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
