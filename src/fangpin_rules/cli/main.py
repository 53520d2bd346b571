"""Entry point of the `fangpin` command: parse the verb, run it, map errors to exit codes."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from fangpin_rules import __version__
from fangpin_rules.cli import calendar, check, duties, explain, schema, show
from fangpin_rules.cli import diff as diff_verb
from fangpin_rules.cli import eval as eval_verb
from fangpin_rules.cli import test as test_verb
from fangpin_rules.cli.common import EXIT_USAGE, Reported, UsageError, report_policy_error
from fangpin_rules.diagnostics import PolicyError
from fangpin_rules.text import safe_block

VERBS = (check, eval_verb, show, calendar, duties, schema, test_verb, explain, diff_verb)


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
    try:
        code: int = args.run(args)
        return code
    except UsageError as exc:
        print(safe_block(f"fangpin {args.verb}: {exc}"), file=sys.stderr)
        return EXIT_USAGE
    except Reported as exc:
        return exc.code
    except PolicyError as exc:  # a policy refused late, e.g. its traced twin on first use
        report_policy_error(exc)
        return EXIT_USAGE
    except BrokenPipeError:
        sys.stderr.close()  # the reader went away (e.g. `| head`): not an error of ours
        return 0
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
