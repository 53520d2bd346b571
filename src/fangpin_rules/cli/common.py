"""What the verbs share: exit codes, loading a policy with readable errors, opening files."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING, Protocol, TypeVar

from fangpin_rules.diagnostics import Diagnostic, PolicyError, Severity

if TYPE_CHECKING:
    from fangpin_rules.engine import Policy
    from fangpin_rules.engine.regions import RegionalPolicy


class _HasWarnings(Protocol):
    @property
    def warnings(self) -> list[Diagnostic]: ...


Loaded = TypeVar("Loaded", bound=_HasWarnings)

EXIT_OK = 0
EXIT_REJECTED = 1  # eval: some records rejected; test: some case failed
EXIT_USAGE = 2  # usage, policy or input-file error


class UsageError(Exception):
    """A user error the CLI reports in one line (exit 2), never with a traceback."""


class Reported(Exception):
    """An error already reported on stderr; only the exit code is left to give."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def add_policy_path_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--policy-path", action="append", default=[], metavar="DIR",
                        help="a folder where a base named by id in `extends:` is looked for "
                        "(repeatable; also $FANGPIN_POLICY_PATH)")


def load_or_report(path: str, search_path: Sequence[str] = (), *,
                   strict: bool = False) -> Policy:
    """Load a policy; its errors and warnings go to stderr (errors end the run, exit 2)."""
    from fangpin_rules.engine import load_policy

    return _reported(lambda: load_policy(path, search_path=search_path, strict=strict))


def load_regions_or_report(policy: Policy, path: str) -> RegionalPolicy:
    """Read a region table for `policy`, reporting like `load_or_report`."""
    from fangpin_rules.engine.regions import load_regions

    return _reported(lambda: load_regions(policy, path))


def _reported(load: Callable[[], Loaded]) -> Loaded:
    try:
        loaded = load()
    except PolicyError as exc:
        report_policy_error(exc)
        raise Reported(EXIT_USAGE) from None
    for warning in loaded.warnings:
        print(warning.render(), file=sys.stderr)
    return loaded


def report_policy_error(exc: PolicyError) -> None:
    errors = [d for d in exc.diagnostics if d.severity is Severity.ERROR]
    for diagnostic in exc.diagnostics:
        print(diagnostic.render(), file=sys.stderr)
        print(file=sys.stderr)
    print(f"{len(errors)} error(s); the policy was not used.", file=sys.stderr)


@contextmanager
def open_input(path: str) -> Iterator[IO[str]]:
    """Text input, UTF-8. Bytes that are not UTF-8 are kept as escapes (surrogateescape) so the
    line holding them is rejected on its own (engine.records.parse_json) and the rest goes on."""
    if path == "-":
        if hasattr(sys.stdin, "reconfigure"):
            # only a newline ends a record: a CR inside one must not split it
            sys.stdin.reconfigure(errors="surrogateescape", newline="\n")
        yield sys.stdin
        return
    try:
        stream = open(path, encoding="utf-8", errors="surrogateescape",  # noqa: SIM115
                      newline="\n")  # only a newline ends a record, not a CR inside one
    except OSError as exc:
        raise UsageError(f"cannot read '{path}': {exc.strerror}") from None
    with stream:
        yield stream


@contextmanager
def open_output(path: str | None) -> Iterator[IO[str]]:
    """Text output, UTF-8. A lone surrogate (a record can spell one, "\\ud800", in a JSON
    string, and a rejection names the record by it) is written back as that same escape,
    which in JSON text reads as the same string, instead of stopping the run."""
    if path is None or path == "-":
        if hasattr(sys.stdout, "reconfigure"):
            sys.stdout.reconfigure(errors="backslashreplace")
        yield sys.stdout
        sys.stdout.flush()
        return
    try:
        stream = open(path, "w", encoding="utf-8", errors="backslashreplace",  # noqa: SIM115
                      newline="\n")
    except OSError as exc:
        raise UsageError(f"cannot write '{path}': {exc.strerror}") from None
    with stream:
        yield stream
