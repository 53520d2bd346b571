"""Build the JSON Schemas of the YAML files from their pydantic models.

The files: a policy, a county file (`policy-extension`), a policy test file, a region table and a
ledger format (how `fangpin eval` reads a spreadsheet ledger: the bundled layout or a county's).

Pydantic writes a JSON Schema of each model; what editors need on top of it:

- draft-07 (`definitions`, not `$defs`): the dialect yaml-language-server speaks;
- no pattern using `\\w` or `\\W`: Python reads them as Unicode classes and an editor's
  JavaScript regex as ASCII only, so a Chinese name would be flagged there and accepted by the
  engine (which still checks the pattern itself);
- `anyOf`, not `oneOf`, for the decision kinds: an editor then explains the branch that almost
  fits instead of "matches none or several";
- a mapping whose keys have a pattern (region codes) refuses other keys, as the model does.

The county file's schema (`policy-extension`) is the policy's with what the merge rules of
`extends:` relax (policy/inherit.py): `extends:` is required, no section is, an inherited
parameter may give only `value:`/`values:`/`note:`, an inherited decision only `rules:` (each
rule may say `before:`/`after:`) or `fields:`.

The ledger format's schema (`ledger-format`) serves both kinds of format file: the bundled
national layout, which gives every required key, and a county's that says `extends:` and, as the
merge of ledger/format.py takes the rest from its base, needs none (a draft-07 `if`/`then`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from copy import deepcopy
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from fangpin_rules.ledger.format import _FIELD as FIELD_PATH
from fangpin_rules.ledger.format import FormatDocument
from fangpin_rules.model import Case, Household
from fangpin_rules.policy.document import (
    CollectDecision,
    FirstMatchDecision,
    ObjectDecision,
    Parameter,
    PolicyDocument,
    Rule,
    ValueDecision,
)
from fangpin_rules.policy.region_table import RegionTable
from fangpin_rules.testing.format import TestCase, TestFile

SCHEMA_DIR = Path(__file__).parent  # where the shipped *.schema.json files are
DRAFT_07 = "http://json-schema.org/draft-07/schema#"
_UNICODE_CLASSES = re.compile(r"\\[wW]")

Schema = dict[str, Any]


def _from_model(model: type[BaseModel], title: str, description: str) -> Schema:
    raw = model.model_json_schema(by_alias=True, mode="validation")
    definitions = raw.pop("$defs", {})
    schema: Schema = {"$schema": DRAFT_07, "title": title, "description": description,
                      **{k: v for k, v in raw.items() if k not in ("title", "description")}}
    if definitions:
        schema["definitions"] = definitions
    portable: Schema = _portable(schema)
    return portable


def _portable(node: Any) -> Any:
    if isinstance(node, list):
        return [_portable(item) for item in node]
    if not isinstance(node, dict):
        return node
    out: Schema = {}
    for key, value in node.items():
        if key == "$ref" and isinstance(value, str):
            out[key] = value.replace("#/$defs/", "#/definitions/")
        elif key == "pattern" and isinstance(value, str) and _UNICODE_CLASSES.search(value):
            continue
        elif key == "oneOf":
            out["anyOf"] = _portable(value)
        elif key in ("properties", "patternProperties", "definitions"):
            out[key] = {name: _portable(sub) for name, sub in value.items()}
        else:
            out[key] = _portable(value)
    if "patternProperties" in out and "additionalProperties" not in out:
        out["additionalProperties"] = False
    return out


def policy_schema() -> Schema:
    return _from_model(PolicyDocument, "fangpin-rules policy file",
                       "A policy as data (docs/language.md). A county file that `extends:` "
                       "another uses the policy-extension schema.")


def policy_extension_schema() -> Schema:
    schema = deepcopy(policy_schema())
    schema["title"] = "fangpin-rules county policy file (extends another)"
    schema["description"] = ("A policy that `extends:` another (docs/county-guide.md): its own "
                             "`policy:` section, new entries, and overrides where the base "
                             "allows them.")
    schema["properties"] = {
        "extends": {"type": "string", "minLength": 1,
                    "description": "the base policy: its id (e.g. fujian-2021) or a path "
                                   "relative to this file"},
        **schema["properties"]}
    schema["required"] = ["extends", "policy"]  # the merge takes `policy:` whole
    schema["properties"]["decisions"].pop("minProperties", None)
    definitions = schema["definitions"]
    for model in (Parameter, ValueDecision, FirstMatchDecision, CollectDecision,
                  ObjectDecision):
        definitions[model.__name__].pop("required", None)  # an override gives a part
    rule = definitions[Rule.__name__]["properties"]
    for placement in ("before", "after"):
        rule[placement] = {"type": "string",
                           "description": f"a new rule goes {placement} the base rule with "
                                          "this id"}
    return schema


def policy_test_schema() -> Schema:
    """A test file's schema; its households and case records complete the data contract's
    fields (all optional: the base and a case's fields are merged) but are not refused on
    them, as a policy with its own `schema:` reads another record."""
    schema = _from_model(TestFile, "fangpin-rules policy test file",
                         "Cases for one policy: households, dates and the decision fields "
                         "expected (docs/testing-policies.md).")
    definitions = schema["definitions"]
    for model in (Household, Case):
        record = _from_model(model, model.__name__, model.__doc__ or model.__name__)
        definitions.update(_partial(record.pop("definitions", {})))
        definitions[model.__name__] = _partial(
            {k: v for k, v in record.items() if k != "$schema"})
    record_of = {"household": Household.__name__, "case": Case.__name__}
    case_fields = definitions[TestCase.__name__]["properties"]
    for field, model_name in record_of.items():
        case_fields[field] = _completing(case_fields[field], model_name)
    schema["properties"]["base"] = _completing(schema["properties"]["base"],
                                               Household.__name__)
    return schema


def _partial(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _partial(v) for k, v in node.items()
                if not (k == "required" and isinstance(v, list))}
    if isinstance(node, list):
        return [_partial(item) for item in node]
    return node


def _completing(field: Schema, model_name: str) -> Schema:
    """`field` offering the record's keys to an editor, accepting any mapping."""
    nullable = {"type": "null"} in field.get("anyOf", [])
    return {"anyOf": [{"$ref": f"#/definitions/{model_name}"}, {"type": "object"},
                      *([{"type": "null"}] if nullable else [])],
            **{k: v for k, v in field.items() if k not in ("type", "anyOf",
                                                           "additionalProperties")}}


def regions_schema() -> Schema:
    return _from_model(RegionTable, "fangpin-rules region table",
                       "Many regions' dated parameter values in one file, for "
                       "`fangpin eval --regions` (docs/county-guide.md).")


# What each key of a ledger format is for (an editor shows it on hover).
_LEDGER_KEYS = {
    "extends": "the base format: `national` (bundled) or a file beside this one; this file "
               "then gives only what differs",
    "ledger_format": "the format's id, version and title",
    "sheet": "the sheet to read: its name, or null for the workbook's first sheet",
    "header_search_rows": "the header row is looked for among this many first rows",
    "group_by": "headers that, with household_id, tell households apart (when household "
                "numbers repeat from village to village)",
    "head": "the head of household's row: its relation column holds `value`",
    "person_id": "the ID number column: checked for duplicates and masked, never a field",
    "personal": "personal columns read by no one: never copied, never quoted",
    "date_forms": "the forms a date cell may take (an Excel date cell is always taken)",
    "columns": "by contract field (members.* on each member's row): header, aliases, kind, "
               "labels, required; null removes a base's column",
    "ignore": "headers that are known and not read",
    "labels": "label tables: the text shown in the sheet -> the contract's value",
}


def ledger_format_schema() -> Schema:
    schema = _from_model(FormatDocument, "fangpin-rules ledger format",
                         "How a spreadsheet ledger's sheet, headers and labels map to the "
                         "data contract (docs/ledger-guide.md). A county's format says "
                         "`extends: national` and writes only what differs.")
    schema["properties"] = {"extends": {"type": "string", "minLength": 1},
                            **schema["properties"]}
    for key, text in _LEDGER_KEYS.items():
        prop = schema["properties"][key]
        if "$ref" in prop:  # draft-07 reads nothing beside a $ref
            prop = schema["properties"][key] = {"allOf": [prop]}
        prop["description"] = text
    schema["properties"]["columns"]["propertyNames"] = {"pattern": FIELD_PATH.pattern}
    required = schema.pop("required")
    schema["if"] = {"required": ["extends"]}
    schema["then"] = {}
    schema["else"] = {"required": required}
    return schema


YAML_SCHEMAS: dict[str, Callable[[], Schema]] = {
    "policy": policy_schema,
    "policy-extension": policy_extension_schema,
    "test": policy_test_schema,
    "regions": regions_schema,
    "ledger-format": ledger_format_schema,
}


def yaml_schema(name: str) -> Schema:
    return YAML_SCHEMAS[name]()


def file_name(name: str) -> str:
    return f"{name}.schema.json"


def render(schema: Schema) -> str:
    """The text of a schema file: stable, so a regenerated file differs only where the models
    changed."""
    return json.dumps(schema, ensure_ascii=False, indent=2) + "\n"


def write_schemas(directory: str | Path) -> list[Path]:
    """Write every YAML file's schema into `directory` (created if missing)."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name in YAML_SCHEMAS:
        target = folder / file_name(name)
        target.write_text(render(yaml_schema(name)), encoding="utf-8", newline="\n")
        written.append(target)
    return written
