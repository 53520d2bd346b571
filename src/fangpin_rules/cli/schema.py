"""`fangpin schema [household|case|decision]`: the data contract as JSON Schema."""

from __future__ import annotations

import argparse
import json

from fangpin_rules.cli.common import EXIT_OK


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("schema", help="print the JSON Schema of the data contract")
    parser.add_argument("which", nargs="?", choices=("household", "case", "decision", "all"),
                        default="all")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from pydantic import BaseModel

    from fangpin_rules.model import Case, Decision, Household

    models: dict[str, type[BaseModel]] = {"household": Household, "case": Case,
                                          "decision": Decision}
    if args.which == "all":
        schema = {name: model.model_json_schema() for name, model in models.items()}
    else:
        schema = models[args.which].model_json_schema()
    print(json.dumps(schema, ensure_ascii=False, indent=2))
    return EXIT_OK
