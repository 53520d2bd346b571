"""What the verbs share: exit codes, loading a policy with readable errors, opening files."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING, Any, Protocol, TypeVar

from fangpin_rules.cli.outputs import open_output as open_output
from fangpin_rules.diagnostics import Diagnostic, PolicyError, Severity

if TYPE_CHECKING:
    from fangpin_rules.engine import Policy
    from fangpin_rules.engine.policy import CarriedForward
    from fangpin_rules.engine.regions import RegionalPolicy
    from fangpin_rules.engine.repeats import FileStamp, RepeatScreen
    from fangpin_rules.engine.stream import NumberedRecords


class Stamped(Protocol):
    """A screen of a file's ids (`engine.repeats`, `columnar.ids`), with the file's stamp."""

    @property
    def stamp(self) -> FileStamp | None: ...


class _HasWarnings(Protocol):
    @property
    def warnings(self) -> list[Diagnostic]: ...


Loaded = TypeVar("Loaded", bound=_HasWarnings)

EXIT_OK = 0
EXIT_REJECTED = 1  # eval: some records rejected; test: some case failed
EXIT_USAGE = 2  # usage, policy or input-file error
EXIT_IO = 3  # the run could not finish: an output failed (disk full), a worker process died
EXIT_SIGINT = 130  # interrupted (Ctrl-C): 128 + the signal's number, as shells report it
EXIT_SIGTERM = 143


class UsageError(Exception):
    """A user error the CLI reports in one line (exit 2), never with a traceback."""


class Interrupted(BaseException):
    """A signal ended the run (SIGTERM); a BaseException, like KeyboardInterrupt, so that no
    `except Exception` on the way (a record's own error, say) can swallow it."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


class InputChanged(Exception):
    """A file read twice (its ids first, `engine.repeats`) changed during the run (exit 3)."""


class Reported(Exception):
    """An error already reported on stderr; only the exit code is left to give."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def add_policy_path_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--policy-path", action="append", default=[], metavar="DIR",
                        help="a folder where a base named by id in `extends:` is looked for, "
                        "and one `extends:` may read from (repeatable; also "
                        "$FANGPIN_POLICY_PATH)")


def add_regions_option(parser: argparse.ArgumentParser) -> None:
    """`--regions TABLE` of the commands that decide households (eval and the reports)."""
    parser.add_argument("--regions", metavar="TABLE",
                        help="a region table: each household is decided with its county's "
                        "parameters, by region_code; a household of no county in it is "
                        "rejected (docs/county-guide.md)")


def load_or_report(path: str, search_path: Sequence[str] = (), *,
                   strict: bool = False) -> Policy:
    """Load a policy; its errors and warnings go to stderr (errors end the run, exit 2)."""
    from fangpin_rules.engine import load_policy

    return _reported(lambda: load_policy(path, search_path=search_path, strict=strict))


def load_regions_or_report(policy: Policy, path: str) -> RegionalPolicy:
    """Read a region table for `policy`, reporting like `load_or_report`."""
    from fangpin_rules.engine.regions import load_regions

    return _reported(lambda: load_regions(policy, path))


def applied_or_report(regional: RegionalPolicy, policy: Policy) -> RegionalPolicy:
    """The region table read already applied to another version of its policy (the table's
    bytes are not read again: it may have been a pipe), reporting like `load_or_report`."""
    return _reported(lambda: regional.applied_to(policy))


def _reported(load: Callable[[], Loaded]) -> Loaded:
    try:
        loaded = load()
    except PolicyError as exc:
        report_policy_error(exc)
        raise Reported(EXIT_USAGE) from None
    for warning in loaded.warnings:
        print(warning.render(), file=sys.stderr)
    return loaded


def warn_carried_forward(notices: Iterable[CarriedForward], version: str | None = None
                         ) -> None:
    """Say on stderr, once per run and before any record, each value carried forward to the
    run's date (`version`: which of two policies carries it, for diff)."""
    for notice in notices:
        which = f"{version}: " if version else ""
        print(f"warning[carried-forward]: {which}{notice.message()}", file=sys.stderr)


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
    if _starts_as_parquet(path):  # each "line" of it would be rejected as not JSON
        raise UsageError(f"'{path}' is a Parquet file, and JSON lines are read here: "
                         "`fangpin eval` (into a Parquet -o), `diff --impact` and the "
                         "households of `fangpin report` read Parquet")
    try:
        stream = open(path, encoding="utf-8", errors="surrogateescape",  # noqa: SIM115
                      newline="\n")  # only a newline ends a record, not a CR inside one
    except OSError as exc:
        raise UsageError(f"cannot read '{path}': {exc.strerror}") from None
    with stream:
        yield stream


def repeat_screen(path: str, id_field: str | None, out: IO[str] | None = None
                  ) -> RepeatScreen | None:
    """The screen of the ids that may repeat in the JSON-lines file at `path`, from a first
    pass over it (`engine.repeats`), so that the run holds only those ids; None for stdin or a
    pipe, which cannot be read twice (every id is held then). On a terminal the pass draws
    its progress line (`first_pass_items`); `out`, the decisions' file, as `progress_for`."""
    from fangpin_rules.engine.repeats import FileStamp, rereadable, screen_items

    if id_field is None or not rereadable(path):
        return None
    stamp = FileStamp.of(path)
    with open_input(path) as source:
        return screen_items(first_pass_items(source, out), id_field, stamp)


def first_pass_items(source: IO[str], out: IO[str] | None = None) -> Iterator[tuple[int, Any]]:
    """The numbered items of `source` for a first pass over its ids, counted on a progress
    line of their own on a terminal ("ids: ..."), which ends when the pass does."""
    from fangpin_rules.cli.progress import progress_for
    from fangpin_rules.engine.stream import numbered_items

    progress = progress_for(sys.stderr, source, out, label="ids: ")
    items = numbered_items(source)
    if progress is None:
        yield from items
        return
    for item in items:
        yield item
        progress.update(1)
    progress.finish()


def check_unchanged(screen: Stamped | None, path: str) -> None:
    """Raise InputChanged when the file the screen was made of is no longer that file."""
    if screen is not None and screen.stamp is not None and not screen.stamp.still(path):
        raise InputChanged(f"'{path}' changed while it was read (it is read twice: once for "
                           "the ids that repeat, once to decide); run it again on a file no "
                           "one writes to")


ARROW_NEEDED = ("the columnar engine and Parquet files need pyarrow and polars: "
                "pip install 'fangpin-rules[columnar]'")


@contextmanager
def open_households(path: str, policy: Policy | RegionalPolicy
                    ) -> Iterator[IO[str] | NumberedRecords]:
    """The households at `path`: a Parquet file's rows read as the record path reads them
    (`NumberedRecords`, numbered by row from 0), or else its text as `open_input` opens it."""
    if not is_parquet(path):
        with open_input(path) as stream:
            yield stream
        return
    try:
        from fangpin_rules.columnar.parquet import parquet_households
        with parquet_read_errors(path):
            households = parquet_households(policy, path)
    except ImportError:
        raise UsageError(ARROW_NEEDED) from None
    yield households


def household_screen(path: str, policy: Policy | RegionalPolicy) -> RepeatScreen | None:
    """`repeat_screen` of the households at `path` as `open_households` reads them: a Parquet
    file's id column read alone, or a JSON-lines file's first pass."""
    from fangpin_rules.engine.regions import base_of

    id_field = base_of(policy).checked.record_id
    if not is_parquet(path):
        return repeat_screen(path, id_field)
    from fangpin_rules.columnar.ids import parquet_repeat_screen
    with parquet_read_errors(path):
        return parquet_repeat_screen(path, id_field)


@contextmanager
def parquet_read_errors(path: str) -> Iterator[None]:
    """pyarrow's refusal of a file that is not Parquet (OSError, ValueError) as a usage error
    naming the file."""
    try:
        yield
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read the Parquet file '{path}': {exc}") from None


def is_parquet(path: str) -> bool:
    """Whether the records at `path` are a Parquet file: by its name (.parquet) or, whatever
    its name, by the magic bytes it starts with (a file that cannot be read is not: its
    reader says why)."""
    return path != "-" and (path.lower().endswith(".parquet") or _starts_as_parquet(path))


def _starts_as_parquet(path: str) -> bool:
    try:
        with open(path, "rb") as source:
            return source.read(len(PARQUET_MAGIC)) == PARQUET_MAGIC
    except OSError:
        return False


PARQUET_MAGIC = b"PAR1"  # the first (and last) four bytes of a Parquet file


def policy_files(policy: Policy | RegionalPolicy) -> list[str]:
    """Every file a loaded policy was read from: the file itself, each base it extends and,
    for a regional one, its region table (an output must be none of them)."""
    from fangpin_rules.engine.regions import RegionalPolicy

    base = policy.base if isinstance(policy, RegionalPolicy) else policy
    chain = base.sourced.inheritance.chain if base.sourced and base.sourced.inheritance else ()
    files = [link.path for link in chain if "#" not in link.path] or [base.path]
    if base.path not in files:
        files.append(base.path)
    if isinstance(policy, RegionalPolicy):
        files.append(policy.path)
    return files


def worker_count(jobs: int, verb: str) -> int:
    """`--jobs N` as worker processes: 0 is one per core; more than the cores is capped at
    them, with a warning (each worker costs a process and a loaded policy)."""
    from fangpin_rules.engine.parallel import usable_cores

    if jobs < 0:
        raise UsageError("--jobs takes a number of processes, 0 for one per core")
    cores = usable_cores()
    if jobs > cores:
        print(f"fangpin {verb}: warning: --jobs {jobs} is more than the {cores} core(s) "
              f"available; using {cores}", file=sys.stderr)
    return min(jobs, cores) if jobs else cores
