"""`fangpin schema WHICH`: JSON Schemas of the data contract (household, case, decision) and of
the YAML files (policy, policy-extension, test, regions, ledger-format) for editors; `--write
DIR` writes the YAML files' schemas there."""

from __future__ import annotations

import argparse
import json

from fangpin_rules.cli.common import EXIT_OK, UsageError

CONTRACT = ("household", "case", "decision")
YAML_FILES = ("policy", "policy-extension", "test", "regions", "ledger-format")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "schema", help="print a JSON Schema: of the data contract, or of a YAML file for editors",
        description="household, case, decision: the records' JSON Schemas (all: the three). "
        "policy, policy-extension (a county file that extends another), test (a policy test "
        "file), regions (a region table), ledger-format (a spreadsheet ledger's layout): the "
        "YAML files' schemas, for an editor's "
        "`# yaml-language-server: $schema=...` line (docs/county-guide.md).")
    parser.add_argument("which", nargs="?", choices=(*CONTRACT, "all", *YAML_FILES),
                        default="all")
    parser.add_argument("--write", metavar="DIR",
                        help="write the YAML files' schemas (NAME.schema.json) into DIR")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from pydantic import BaseModel

    from fangpin_rules.model import Case, Decision, Household
    from fangpin_rules.schemas import render, write_schemas, yaml_schema

    if args.write:
        try:
            for path in write_schemas(args.write):
                print(f"wrote {path}")
        except OSError as exc:
            raise UsageError(f"cannot write into '{args.write}': {exc.strerror}") from None
        return EXIT_OK
    if args.which in YAML_FILES:
        print(render(yaml_schema(args.which)), end="")
        return EXIT_OK
    models: dict[str, type[BaseModel]] = {"household": Household, "case": Case,
                                          "decision": Decision}
    if args.which == "all":
        schema = {name: model.model_json_schema() for name, model in models.items()}
    else:
        schema = models[args.which].model_json_schema()
    print(json.dumps(schema, ensure_ascii=False, indent=2))
    return EXIT_OK
