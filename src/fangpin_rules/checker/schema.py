"""The record a policy reads: the household of the data contract, or the schema the policy
declares under `schema:`.

A declared schema becomes a pydantic model (the same kind of model as the contract's), so that
one path serves both: the checker derives the names and types expressions may read from the
model (`language.types.record_type`), and the engine validates records with it, reporting a bad
record with its id and field.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, create_model

from fangpin_rules.language.names import NAME_HINT, name_problem
from fangpin_rules.model import Household
from fangpin_rules.model.types import Count, Flag, IsoDate, Money, Number, Ratio
from fangpin_rules.policy.document import RecordSchema, SchemaField, SchemaFieldSpec
from fangpin_rules.text import safe_text

KINDS: dict[str, Any] = {
    "money": Money,
    "ratio": Ratio,
    "number": Number,
    "count": Count,
    "bool": Flag,
    "string": str,
    "date": IsoDate,
}
ID_KINDS = ("string", "count")
Path = tuple[str | int, ...]
Report = Callable[[str, str, Path, str], None]  # code, message, path, hint


class DeclaredRecord(BaseModel):
    """Base of models made from a policy's schema: unknown fields are an error, as in the
    contract."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


def record_of(schema: RecordSchema | None, report: Report) -> tuple[type[BaseModel], str | None]:
    """The model of the records a policy reads, and the field that names a record."""
    if schema is None:
        return Household, "household_id"
    return declared_record(schema, report)


def declared_record(schema: RecordSchema, report: Report) -> tuple[type[BaseModel], str | None]:
    """The model of a declared schema and its id field; problems go to `report`, each at the
    path of the key it concerns (the model returned then stands in so checking goes on)."""
    root: Path = ("schema",)
    model = _model(schema.name, schema.fields, (*root, "fields"), report)
    id_field = schema.id
    if id_field is not None:
        spec = schema.fields.get(id_field)
        kind = _kind_of(spec) if spec is not None else None
        if spec is None:
            report("schema", f"the id field '{id_field}' is not among the schema's fields",
                   (*root, "id"), "name one of the fields declared under `fields:`")
        elif kind not in ID_KINDS or _is_optional(spec):
            report("schema", f"the id field '{id_field}' must be a string or count that is "
                   "always given", (*root, "id"), "declare it as `string` or `count`")
    return model, id_field


def _model(name: str, fields: Mapping[str, SchemaFieldSpec], path: Path,
           report: Report) -> type[BaseModel]:
    definitions: dict[str, Any] = {}
    for field_name, spec in fields.items():
        here = (*path, field_name)
        problem = name_problem(field_name)
        if problem is not None:
            report("bad-name", f"{safe_text(repr(field_name))} is not a field name: {problem}",
                   here, NAME_HINT)
            continue
        annotation = _annotation(field_name, spec, here, report)
        if annotation is None:  # reported; the field is left out so that checking goes on
            continue
        if _is_optional(spec):
            definitions[field_name] = (annotation | None, None)
        else:
            definitions[field_name] = (annotation, ...)
    model: type[BaseModel] = create_model(name, __base__=DeclaredRecord, **definitions)
    return model


def _annotation(name: str, spec: SchemaFieldSpec, path: Path, report: Report) -> Any:
    if isinstance(spec, str):
        kind = spec.removesuffix("?")
        if kind not in KINDS:
            report("schema", f"field '{name}': unknown type '{spec}'", path,
                   "a type is one of " + ", ".join(KINDS) + " (add '?' when it may be unknown)"
                   ", a list of allowed strings, or a mapping with `list:` or `record:`")
            return None
        return KINDS[kind]
    if isinstance(spec, list):
        return Literal[tuple(spec)]
    forms = [form for form in ("type", "enum", "list_", "record")
             if getattr(spec, form) is not None]
    if len(forms) != 1:
        report("schema", f"field '{name}': give exactly one of `type`, `enum`, `list`, "
               "`record`", path, "e.g. {type: money, optional: true}")
        return None
    if spec.type is not None:
        if spec.type.endswith("?"):
            report("schema", f"field '{name}': write `optional: true` instead of '?' in the "
                   "long form", (*path, "type"), "")
        return _annotation(name, spec.type.removesuffix("?"), (*path, "type"), report)
    if spec.enum is not None:
        return Literal[tuple(spec.enum)]
    if spec.list_ is not None:
        return list[_model(name, spec.list_, (*path, "list"), report)]  # type: ignore[misc]
    assert spec.record is not None
    return _model(name, spec.record, (*path, "record"), report)


def _is_optional(spec: SchemaFieldSpec) -> bool:
    if isinstance(spec, str):
        return spec.endswith("?")
    return isinstance(spec, SchemaField) and spec.optional


def _kind_of(spec: SchemaFieldSpec) -> str | None:
    if isinstance(spec, str):
        return spec.removesuffix("?")
    if isinstance(spec, SchemaField) and spec.type is not None:
        return spec.type.removesuffix("?")
    return None

