"""`fangpin show POLICY`: the effective policy, with where each value and rule comes from.

For a county file that `extends:` others this is the one policy it amounts to: the chain of
files, every parameter's bounds and dated values (file:line, and what an override replaced),
and every rule of every decision with its origin (the base's, added, or replacing a base rule).
"""

from __future__ import annotations

import argparse
import json
from datetime import date
from typing import Any

from fangpin_rules.audit.effective import describe
from fangpin_rules.cli.common import EXIT_OK, add_policy_path_option, load_or_report
from fangpin_rules.text import safe_text


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("show", help="print the effective policy and each value's origin",
                            description=__doc__.split("\n\n", 1)[1] if __doc__ else None)
    parser.add_argument("policy", metavar="POLICY")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    add_policy_path_option(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from fangpin_rules.engine.serialize import dumps

    policy = load_or_report(args.policy, args.policy_path)
    described = describe(policy.checked)
    if args.format == "json":
        print(json.dumps(json.loads(dumps(described)), ensure_ascii=False, indent=2))
    else:
        print("\n".join(safe_text(line) for line in render_text(described)))
    return EXIT_OK


def _text(value: Any) -> str:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict) and "formula" in value:
        return f"= {value['formula']}"
    return str(value)


def render_text(described: dict[str, Any]) -> list[str]:
    meta = described["policy"]
    lines = [f"policy {meta['id']} ({meta['path']}), effective {_text(meta['effective'])}",
             f"sha256 {meta['sha256']}"]
    if described["chain"]:
        lines.append("extends: " + " -> ".join(f"{link['id']} ({link['path']})"
                                                for link in described["chain"]))
    lines += ["", "parameters:"]
    for param in described["parameters"]:
        lines.append(f"  {param['name']} ({param['type']}, {param['cite']}, {param['basis']})"
                     f"  {param['title']}")
        for bound in param["bounds"]:
            lines.append(f"    bound {bound['kind']}: {_text(bound['value'])}  "
                         f"[{bound['file']}:{bound['line']}]")
        for value in param["values"]:
            shown = f"= {value['formula']}" if "formula" in value else _text(value["value"])
            span = _text(value["from"]) + (f" to {_text(value['until'])}" if value["until"]
                                           else "")
            line = f"    from {span}: {shown}  [{value['file']}:{value['line']}]"
            if "overrides" in value:
                over = value["overrides"]
                line += (f"  overrides {_text(over['value'])} "
                         f"[{over['file']}:{over['line']}]")
            lines.append(line)
    lines += ["", "rules:"]
    for decision in described["decisions"]:
        lines.append(f"  {decision['name']} ({decision['kind']})")
        for rule in decision["rules"]:
            note = ""
            if rule["origin"] == "replaces":
                note = f"  REPLACES the base rule [{rule['replaces']['file']}:" \
                       f"{rule['replaces']['line']}]"
            elif rule["origin"] == "added":
                note = "  added"
            lines.append(f"    {rule['id']}  [{rule['file']}:{rule['line']}]{note}")
    if described["replaced_definitions"]:
        lines += ["", "replaced definitions:"]
        for item in described["replaced_definitions"]:
            lines.append(f"  {item['name']}  [{item['file']}:{item['line']}]  REPLACES "
                         f"[{item['replaces']['file']}:{item['replaces']['line']}]")
    return lines


def override_summary(checked: Any) -> list[str]:
    """What `check` says about an inherited policy: its chain and every replacement."""
    inheritance = checked.inheritance
    if inheritance is None:
        return []
    lines = ["  extends: " + " -> ".join(f"{link.id} ({link.path})"
                                         for link in inheritance.chain)]
    for item in inheritance.overrides:
        if item.kind in ("rule", "definition"):
            lines.append(f"  replaces {item.kind} '{item.name}': {item.location} replaces "
                         f"{item.replaces}")
    for addition in inheritance.additions:
        lines.append(f"  adds rule '{addition.rule_id}' to '{addition.decision}' at "
                     f"{addition.location}")
    for item in inheritance.overrides:
        if item.kind == "parameter":
            lines.append(f"  overrides parameter '{item.name}' at {item.location}")
    return lines
