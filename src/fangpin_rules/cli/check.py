"""`fangpin check POLICY...`: report every problem of a policy file (0 clean, 2 errors)."""

from __future__ import annotations

import argparse
import json
import sys

from fangpin_rules.cli.common import EXIT_OK, EXIT_USAGE, add_policy_path_option
from fangpin_rules.diagnostics import Diagnostic, PolicyError, Severity
from fangpin_rules.text import safe_block, safe_text


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("check", help="check policy files before use",
                            description="Check policy files: YAML keys, expression syntax, "
                            "names, types, cycles, labels and parameters. Warnings do not fail.")
    parser.add_argument("policies", nargs="+", metavar="POLICY")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("--regions", metavar="TABLE",
                        help="also check a region table against each policy's bounds")
    add_policy_path_option(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from fangpin_rules.cli.show import override_summary
    from fangpin_rules.engine import load_policy

    failed = False
    report: list[dict[str, object]] = []
    for path in args.policies:
        diagnostics: list[Diagnostic]
        inherited: list[str] = []
        try:
            policy = load_policy(path, search_path=args.policy_path)
            diagnostics = policy.warnings
            inherited = override_summary(policy.checked)
            if args.regions:
                from fangpin_rules.engine.regions import load_regions

                regional = load_regions(policy, args.regions)
                diagnostics = diagnostics + regional.warnings
                inherited.append(f"  region table {args.regions}: "
                                 f"{len(regional.regions)} region(s)")
        except PolicyError as exc:
            diagnostics = exc.diagnostics
        errors = sum(d.severity is Severity.ERROR for d in diagnostics)
        warnings = len(diagnostics) - errors
        failed = failed or errors > 0
        if args.format == "json":
            report.append({"policy": path, "errors": errors, "warnings": warnings,
                           "diagnostics": [d.to_json() for d in diagnostics],
                           "inheritance": [line.strip() for line in inherited]})
            continue
        for diagnostic in diagnostics:
            print(diagnostic.render(), file=sys.stderr)
            print(file=sys.stderr)
        status = "ok" if errors == 0 else "FAILED"
        print(safe_text(f"{path}: {status} ({errors} error(s), {warnings} warning(s))"))
        for line in inherited:
            print(safe_block(line))
    if args.format == "json":
        print(json.dumps(report, ensure_ascii=False, indent=2))
    return EXIT_USAGE if failed else EXIT_OK
