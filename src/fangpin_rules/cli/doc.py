"""`fangpin doc POLICY -o DIR`: the policy explorer, a static site of one policy.

Each article's text (Chinese, with an English switch) with the parameters, definitions,
decisions, rules, warnings, procedure steps and duties that encode it beneath; whether each is
the document's, an interpretation or the law's; every parameter's dated values and sources; for
a county file, what it overrides with the province's value beside it; links from each name to
its definition and its uses; a search box that works offline. The folder is replaced only when
the whole site is written (docs/explorer.md).
"""

from __future__ import annotations

import argparse
import os
import sys

from fangpin_rules.cli.common import (
    EXIT_OK,
    UsageError,
    add_policy_path_option,
    load_or_report,
    policy_files,
)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("doc", help="write the policy explorer, a static site of a policy",
                            description=__doc__.split("\n\n", 1)[1] if __doc__ else None)
    parser.add_argument("policy", metavar="POLICY")
    parser.add_argument("-o", "--output", required=True, metavar="DIR",
                        help="the folder to write (created, or an earlier site replaced)")
    add_policy_path_option(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from fangpin_rules.explorer import SiteRefused, collect, write_site
    from fangpin_rules.explorer.render import site_files

    policy = load_or_report(args.policy, args.policy_path)
    target = os.path.realpath(args.output)
    for source in policy_files(policy):
        if os.path.realpath(source).startswith(target + os.sep):
            raise UsageError(f"-o '{args.output}' holds the policy file '{source}'; replacing "
                             "it would destroy it: give another folder")
    try:
        write_site(site_files(collect(policy.checked)), args.output)
    except SiteRefused as exc:
        raise UsageError(f"-o: {exc}") from None
    print(f"fangpin doc: wrote {os.path.join(args.output, 'index.html')}", file=sys.stderr)
    return EXIT_OK
