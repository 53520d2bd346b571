"""`/openapi.json`: the routes FastAPI knows, with the request and answer bodies the handlers
read and write themselves, whose household, case and decision schemas are the data contract's
own (`fangpin_rules.model`), so that a client generated from it (Java, say) reads what the
engine writes."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from fangpin_rules.model import Case, Decision, Household
from fangpin_rules.service.problems import KINDS, TYPE_BASE

REF = "#/components/schemas/{model}"


def contract_models() -> dict[str, type[BaseModel]]:
    return {"household": Household, "case": Case, "decision": Decision}


def contract_schemas() -> dict[str, Any]:
    """The contract's models (and the models they use) as OpenAPI component schemas."""
    _, top = models_json_schema([(m, "validation") for m in contract_models().values()],
                                ref_template=REF)
    schemas: dict[str, Any] = top["$defs"]
    return schemas


# an Arrow IPC stream is binary: its columns are `input_schema(policy)`'s (docs/columnar.md)
_ARROW_BODY: dict[str, Any] = {"type": "string", "format": "binary"}
_ARROW_REQUEST = ("one Arrow IPC stream of households (`GET /v1/schema/household`'s fields "
                  "as columns; as_of and policy in the query); a `cases` column, a list of "
                  "case structs per row, gives each household its cases (docs/service.md)")


def _ref(name: str) -> dict[str, str]:
    return {"$ref": REF.format(model=name)}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


PROBLEM = {
    "type": "object", "description": "RFC 9457 problem details.",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "enum": [TYPE_BASE + kind for kind in KINDS]},
        "title": {"type": "string"}, "status": {"type": "integer"},
        "detail": {"type": "string"}, "instance": {"type": "string"},
        "field": {"type": "string", "description": "the request's field at fault"},
        "reason": {"type": "string"}, "limit": {"type": "integer"},
        "household_id": {"type": ["string", "null"]}},
}
REJECT = {"type": "object", "required": ["line", "household_id", "field", "reason"],
          "properties": {"line": {"type": "integer"},
                         "household_id": {"type": ["string", "null"]},
                         "field": {"type": ["string", "null"]}, "reason": {"type": "string"}}}
ENVELOPE = {
    "as_of": {"type": "string", "format": "date"},
    "policy": {"type": "string", "description": "a policy id; without it the household's "
                                                "region_code chooses"},
    "cases": {"type": "array", "items": _ref("Case")},
}


def _schemas() -> dict[str, Any]:
    return {
        **contract_schemas(),
        "Problem": PROBLEM,
        "Reject": REJECT,
        "DecideRequest": {"type": "object", "required": ["household", "as_of"],
                          "additionalProperties": False,
                          "properties": {"household": _ref("Household"), **ENVELOPE}},
        "BatchRequest": {"type": "object", "required": ["households", "as_of"],
                         "additionalProperties": False,
                         "properties": {"households": {"type": "array",
                                                       "items": _ref("Household")},
                                        **ENVELOPE}},
        "ExplainRequest": {"type": "object", "required": ["household", "as_of"],
                           "additionalProperties": False,
                           "properties": {"household": _ref("Household"), **ENVELOPE,
                                          "lang": {"type": "string", "enum": ["zh", "en"]}}},
        "DecideResponse": {"type": "object",
                           "required": ["decision", "policy", "decision_id"],
                           "properties": {"decision": _ref("Decision"),
                                          "policy": _ref("PolicyRef"),
                                          "decision_id": {"type": "string"}}},
        "BatchDecision": {"type": "object",
                          "required": ["line", "decision_id", "policy", "decision"],
                          "properties": {"line": {"type": "integer"},
                                         "decision_id": {"type": "string"},
                                         "policy": _ref("PolicyRef"),
                                         "decision": _ref("Decision")}},
        "BatchResponse": {"type": "object", "required": ["decisions", "rejects", "counts"],
                          "properties": {
                              "decisions": {"type": "array", "items": _ref("BatchDecision")},
                              "rejects": {"type": "array", "items": _ref("Reject")},
                              "counts": {"type": "object", "properties": {
                                  "read": {"type": "integer"}, "decided": {"type": "integer"},
                                  "rejected": {"type": "integer"}}}}},
    }


def _problems(*statuses: int) -> dict[str, Any]:
    return {str(status): {"description": "problem details",
                          "content": {"application/problem+json": {"schema": _ref("Problem")}}}
            for status in statuses}


def document(app: FastAPI) -> dict[str, Any]:
    spec = get_openapi(title=app.title, version=app.version, description=app.description,
                       routes=app.routes)
    spec.setdefault("components", {})["schemas"] = _schemas()
    paths = spec["paths"]
    paths["/v1/decide"]["post"].update({
        "summary": "Decide one household, or a batch (a JSON array, NDJSON streamed back, or "
                   "an Arrow IPC stream answered with one)",
        "requestBody": {"required": True, "content": {
            "application/json": {"schema": {"oneOf": [_ref("DecideRequest"),
                                                      _ref("BatchRequest")]}},
            "application/x-ndjson": {"schema": _ref("Household")},
            "application/vnd.apache.arrow.stream": {"schema": {
                **_ARROW_BODY, "description": _ARROW_REQUEST}}}},
        "responses": {"200": {"description": "the decision(s)", "content": {
            "application/json": {"schema": {"oneOf": [_ref("DecideResponse"),
                                                      _ref("BatchResponse")]}},
            "application/x-ndjson": {"schema": {"type": "object"}},
            "application/vnd.apache.arrow.stream": {"schema": _ARROW_BODY}}},
            **_problems(400, 401, 404, 413, 415, 422, 503)},
    })
    paths["/v1/explain"]["post"].update({
        "summary": "Explain one household's decision (zh or en)",
        "requestBody": {"required": True, "content": _json(_ref("ExplainRequest"))},
        "responses": {"200": {"description": "the explanation",
                              "content": _json({"type": "object"})},
                      **_problems(400, 401, 404, 413, 415, 422, 503)},
    })
    return spec
