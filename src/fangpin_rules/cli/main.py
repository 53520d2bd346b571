"""Entry point of the `fangpin` command: parse the verb, run it, map errors to exit codes."""

from __future__ import annotations

import argparse
import contextlib
import io
import signal
import sys
from collections.abc import Sequence
from typing import Any

from fangpin_rules import __version__
from fangpin_rules.cli import calendar, check, doc, duties, explain, report, schema, serve, show
from fangpin_rules.cli import diff as diff_verb
from fangpin_rules.cli import eval as eval_verb
from fangpin_rules.cli import test as test_verb
from fangpin_rules.cli.common import (
    EXIT_IO,
    EXIT_SIGINT,
    EXIT_SIGTERM,
    EXIT_USAGE,
    InputChanged,
    Interrupted,
    Reported,
    UsageError,
    report_policy_error,
)
from fangpin_rules.cli.outputs import OutputFailed, OutputRefused, guarded_stdout
from fangpin_rules.diagnostics import PolicyError
from fangpin_rules.engine.parallel import WorkerFailed
from fangpin_rules.text import safe_block

VERBS = (check, eval_verb, show, calendar, duties, schema, test_verb, explain, diff_verb,
         serve, doc, report)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fangpin",
        description="Policy-as-code for the return-to-poverty prevention policy "
                    "(防止返贫动态监测和帮扶机制).")
    parser.add_argument("--version", action="version", version=f"fangpin-rules {__version__}")
    sub = parser.add_subparsers(dest="verb", metavar="VERB")
    for verb in VERBS:
        verb.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    verb = f"fangpin {args.verb}"
    previous_stdout = sys.stdout
    previous_term: Any = None
    with contextlib.suppress(ValueError):  # only the main thread may take signals
        previous_term = signal.signal(signal.SIGTERM, _terminated)
    # Without a real stdout (embedded, a test capturing it) the one given is kept.
    with contextlib.suppress(AttributeError, OSError, ValueError, io.UnsupportedOperation):
        sys.stdout = guarded_stdout()
    try:
        code: int = args.run(args)
        sys.stdout.flush()
        return code
    except UsageError as exc:
        print(safe_block(f"{verb}: {exc}"), file=sys.stderr)
        return EXIT_USAGE
    except OutputRefused as exc:
        print(safe_block(f"{verb}: {exc}; nothing was written"), file=sys.stderr)
        return EXIT_USAGE
    except Reported as exc:
        return exc.code
    except PolicyError as exc:  # a policy refused late, e.g. its traced twin on first use
        report_policy_error(exc)
        return EXIT_USAGE
    except (OutputFailed, WorkerFailed, InputChanged) as exc:
        print(safe_block(f"{verb}: {exc}; no output file was written or replaced"),
              file=sys.stderr)
        return EXIT_IO
    except OSError as exc:  # reading an input failed half-way (an I/O error, a vanished disk)
        where = f" '{exc.filename}'" if exc.filename else ""
        print(f"{verb}: I/O error{where}: {exc.strerror or exc}; no output file was written "
              "or replaced", file=sys.stderr)
        return EXIT_IO
    except KeyboardInterrupt:
        print(f"{verb}: interrupted; no output file was written or replaced", file=sys.stderr)
        return EXIT_SIGINT
    except Interrupted as exc:
        print(f"{verb}: terminated; no output file was written or replaced", file=sys.stderr)
        return exc.code
    finally:
        if previous_term is not None:
            signal.signal(signal.SIGTERM, previous_term)
        if sys.stdout is not previous_stdout:
            try:
                sys.stdout.flush()
            except OutputFailed as exc:
                print(f"{verb}: {exc}", file=sys.stderr)
            sys.stdout = previous_stdout


def _terminated(signum: int, frame: object) -> None:
    raise Interrupted(EXIT_SIGTERM)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
