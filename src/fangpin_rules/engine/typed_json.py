"""A JSON line straight into a typed record in one pass: the streaming path's fast reader
(and Arrow batches' rows, which arrive as Python values).

Reading a household through `json` and then pydantic builds every value twice and costs about
four times the decision itself. Here msgspec decodes the line directly into structs derived
from the same pydantic model (the model stays the one definition of the contract), with numbers
read as the exact decimals their text spells. What msgspec cannot say (decimal bounds and
finiteness, whitespace stripping) is checked by a small function generated from the model.

msgspec is laxer than the contract in two ways, which a count of the line's keys catches
before the line is decoded: it lets a key be given twice (the last wins) and reads a number
given as a string by rules laxer than the contract's (`1_000`). Such a line takes the full
path, which rejects it (engine/records.py) or reads it as the contract says.

The fast reader never decides a verdict. A line it does not take (a syntax error, a string
where a boolean belongs, a value pydantic's lax mode would convert, an out-of-bounds amount)
goes the whole way, `json` then pydantic, which accepts what the contract accepts and words the
rejection. So what it takes, pydantic takes with the same values (tests/engine/
test_typed_json.py checks this on 1,500 synthetic households and on some 150 households altered
in one field the way bad data comes), and the fast path changes the speed of a run, never its
output.
"""

from __future__ import annotations

import dataclasses
import decimal
import keyword
import types
import typing
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Annotated, Any, Literal

import annotated_types
import msgspec
from pydantic import AfterValidator, BaseModel, BeforeValidator, Strict
from pydantic.fields import FieldInfo
from pydantic.types import AllowInfNan

from fangpin_rules.model.types import MIRRORED_BY_MSGSPEC, Quantity

Check = Callable[[Any], bool]


class Unsupported(Exception):
    """A model (or a part of one) this reader cannot mirror exactly: its records take the
    pydantic path."""


class TypedReader:
    """Decodes JSON text into records of one model, or says it cannot (None)."""

    def __init__(self, model: type[BaseModel]) -> None:
        builder = _Builder()
        struct = builder.struct(model)
        self.model = model
        self.struct = struct
        self._decode = msgspec.json.Decoder(struct).decode
        self._check = builder.compile_check(model)
        self.check_source = builder.check_source  # shown by tests and when debugging
        self._count_keys = builder.compile_key_count(model)

    def decode(self, text: str | bytes) -> Any | None:
        """The record the text holds, or None when the text must take the pydantic path."""
        if isinstance(text, bytes | bytearray):
            try:
                text = text.decode("utf-8")
            except UnicodeDecodeError:
                return None
        if _keys_need_full_path(text, self._count_keys):
            return None
        try:
            record = self._decode(text)
        except (msgspec.DecodeError, UnicodeEncodeError):
            return None
        return record if self._check(record) else None

    def convert(self, data: Any) -> Any | None:
        """The record of values already in Python form (a row of an Arrow batch: decimals,
        dates, None for absent), or None when it must take the pydantic path."""
        try:
            record = msgspec.convert(data, self.struct)
        except msgspec.ValidationError:
            return None
        return record if self._check(record) else None


_untyped = msgspec.json.Decoder().decode
KeyCount = Callable[[Any], int]


def _keys_need_full_path(text: str, count_keys: KeyCount) -> bool:
    """True when some object of the text may give a key twice, or a number field is given a
    string: what msgspec would read where the contract does not.

    Keys are counted twice: each key is followed by a colon in the text, and the objects
    msgspec decodes hold each key once (`count_keys` counts them along the model's fields:
    a line with an object anywhere else is one the typed decoder refuses anyway). The colons
    inside strings make the counts differ, as does a colon spelt as an escape: such a line
    takes the full path, which only costs it speed."""
    if "\\u003" in text:
        return True
    try:
        tree = _untyped(text)
    except (msgspec.DecodeError, UnicodeEncodeError):
        return True
    return type(tree) is not dict or count_keys(tree) != text.count(":")


@lru_cache(maxsize=64)  # bounded: a service that reloads policies makes new declared models
def typed_reader(model: type[BaseModel]) -> TypedReader | None:
    """The fast reader of a model, or None when the model has something it cannot mirror
    (a validator, an alias, a union other than `X | None`, ...)."""
    try:
        return TypedReader(model)
    except Unsupported:
        return None


class _Builder:
    """Derives the msgspec structs of a model and the source of its check function."""

    def __init__(self) -> None:
        self.structs: dict[type[BaseModel], type[msgspec.Struct]] = {}
        self.constants: list[Any] = []
        self.check_source = ""
        self._temp = 0

    # -- structs ------------------------------------------------------------------------------
    def struct(self, model: type[BaseModel]) -> type[msgspec.Struct]:
        if model in self.structs:
            return self.structs[model]
        config = model.model_config
        if config.get("extra") != "forbid":
            raise Unsupported(f"{model.__name__}: only models that forbid unknown fields")
        decorators = model.__pydantic_decorators__
        if any((decorators.validators, decorators.field_validators, decorators.root_validators,
                decorators.model_validators)):
            raise Unsupported(f"{model.__name__} has validators")
        fields: list[tuple[str, Any, Any]] = []
        for name, info in model.model_fields.items():
            _require_plain_name(name, info)
            annotation = self.field_type(info.annotation, info.metadata)
            if info.default_factory is not None:
                factory = info.default_factory
                if isinstance(factory, type) and issubclass(factory, BaseModel):
                    factory = self.struct(factory)
                elif factory is not list:
                    raise Unsupported(f"{model.__name__}.{name}: default factory {factory}")
                fields.append((name, annotation, msgspec.field(default_factory=factory)))
            elif info.is_required():
                fields.append((name, annotation, msgspec.NODEFAULT))
            else:
                if not isinstance(info.default, str | int | bool | None):
                    raise Unsupported(f"{model.__name__}.{name}: default {info.default!r}")
                fields.append((name, annotation, info.default))
        struct = msgspec.defstruct(
            model.__name__, [(n, a) if d is msgspec.NODEFAULT else (n, a, d)
                             for n, a, d in fields],
            forbid_unknown_fields=True, frozen=True, kw_only=True,
            gc=False)  # records hold no reference cycles: keep them out of the collector's way
        self.structs[model] = struct
        return struct

    def field_type(self, annotation: Any, metadata: list[Any]) -> Any:
        """The msgspec type of a pydantic annotation with its constraints."""
        origin = typing.get_origin(annotation)
        if origin is Annotated:
            inner, *extra = typing.get_args(annotation)
            return self.field_type(inner, [*metadata, *_flatten(extra)])
        if origin in (typing.Union, types.UnionType):
            args = typing.get_args(annotation)
            rest = [a for a in args if a is not type(None)]
            if len(rest) != 1 or len(args) != 2:
                raise Unsupported(f"union {annotation}")
            return self.field_type(rest[0], metadata) | None
        constraints = _constraints(metadata)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            _no_constraints(annotation, constraints)
            return self.struct(annotation)
        if origin is list:
            (item,) = typing.get_args(annotation)
            sizes = {k: v for k, v in constraints.items() if k in ("min_length", "max_length")}
            _no_constraints(annotation, {k: v for k, v in constraints.items() if k not in sizes})
            return Annotated[list[self.field_type(item, [])], msgspec.Meta(**sizes)]  # type: ignore[misc]
        if origin is Literal:
            values = typing.get_args(annotation)
            if not all(type(v) is str for v in values):
                raise Unsupported(f"literal {annotation}")
            _no_constraints(annotation, constraints)
            return annotation
        if annotation is str:
            allowed = {k: v for k, v in constraints.items()
                       if k in ("min_length", "max_length", "pattern")}
            _no_constraints(annotation, {k: v for k, v in constraints.items() if k not in allowed})
            return Annotated[str, msgspec.Meta(**allowed)] if allowed else str
        if annotation is int:
            allowed = {k: v for k, v in constraints.items() if k in ("ge", "le", "gt", "lt")}
            _no_constraints(annotation, {k: v for k, v in constraints.items()
                                         if k not in allowed and k != "strict"})
            if not all(type(v) is int for v in allowed.values()):
                raise Unsupported(f"int bounds {allowed}")
            return Annotated[int, msgspec.Meta(**allowed)] if allowed else int
        if annotation is Decimal:
            # Bounds and finiteness are checked after decoding (msgspec has no decimal bounds).
            unknown = set(constraints) - {"ge", "le", "gt", "lt", "allow_inf_nan", "limits"}
            if unknown:
                raise Unsupported(f"decimal constraints {sorted(unknown)}")
            return Decimal
        if annotation in (bool, date):
            _no_constraints(annotation, {k: v for k, v in constraints.items() if k != "strict"})
            return annotation
        raise Unsupported(f"type {annotation}")

    # -- the check ----------------------------------------------------------------------------
    def compile_check(self, model: type[BaseModel]) -> Check:
        lines = self.model_lines(model, "r", "    ")
        body = lines or ["    pass"]
        source = "\n".join(["def check(r):", "  try:", *body, "  except ArithmeticError:",
                            "    return False", "  return True", ""])
        self.check_source = source
        namespace: dict[str, Any] = {f"K{i}": value for i, value in enumerate(self.constants)}
        namespace["__builtins__"] = {"ArithmeticError": ArithmeticError, "type": type, "str": str}
        exec(compile(source, f"<check {model.__name__}>", "exec"), namespace)
        check: Check = namespace["check"]
        return check

    def compile_key_count(self, model: type[BaseModel]) -> KeyCount:
        """The function that counts the keys of a decoded JSON object (dicts and lists) and of
        the objects at the model's nested fields, or gives -1 when a number field of the model
        holds a string."""
        body = self.key_count_lines(model, "d", "  ")
        source = "\n".join(["def count_keys(d):", "  n = len(d)", *body, "  return n", ""])
        namespace: dict[str, Any] = {"__builtins__": {"type": type, "dict": dict, "str": str,
                                                      "list": list, "len": len}}
        exec(compile(source, f"<key count {model.__name__}>", "exec"), namespace)
        count: KeyCount = namespace["count_keys"]
        return count

    def key_count_lines(self, model: type[BaseModel], var: str, indent: str) -> list[str]:
        lines: list[str] = []
        for name, info in model.model_fields.items():
            kind = _shape(info.annotation)
            if kind == "decimal":
                lines.append(f"{indent}if type({var}.get({name!r})) is str: return -1")
            elif isinstance(kind, tuple):
                shape, inner = kind
                item = self.temp()
                body = [f"{indent}  n += len({item})",
                        *self.key_count_lines(inner, item, indent + "  ")]
                if shape == "model":
                    lines += [f"{indent}{item} = {var}.get({name!r})",
                              f"{indent}if type({item}) is dict:", *body]
                else:
                    items = self.temp()
                    lines += [f"{indent}{items} = {var}.get({name!r})",
                              f"{indent}for {item} in ({items} if type({items}) is list "
                              "else ()):",
                              f"{indent} if type({item}) is dict:",
                              *[" " + line for line in body]]
        return lines

    def model_lines(self, model: type[BaseModel], value: str, indent: str) -> list[str]:
        strip = bool(model.model_config.get("str_strip_whitespace"))
        lines: list[str] = []
        for name, info in model.model_fields.items():
            lines += self.value_lines(info.annotation, info.metadata, f"{value}.{name}", indent,
                                      strip)
        return lines

    def value_lines(self, annotation: Any, metadata: list[Any], value: str, indent: str,
                    strip: bool) -> list[str]:
        """Lines that `return False` when the value at `value` is not as pydantic reads it."""
        origin = typing.get_origin(annotation)
        if origin is Annotated:
            inner, *extra = typing.get_args(annotation)
            return self.value_lines(inner, [*metadata, *_flatten(extra)], value, indent, strip)
        if origin in (typing.Union, types.UnionType):
            (inner,) = [a for a in typing.get_args(annotation) if a is not type(None)]
            var, bind = self.bind(value, indent)
            body = self.value_lines(inner, metadata, var, indent + "  ", strip)
            return [*bind, f"{indent}if {var} is not None:", *body] if body else []
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            var, bind = self.bind(value, indent)
            body = self.model_lines(annotation, var, indent)
            return [*bind, *body] if body else []
        if origin is list:
            (item,) = typing.get_args(annotation)
            var = self.temp()
            body = self.value_lines(item, [], var, indent + "  ", strip)
            return [f"{indent}for {var} in {value}:", *body] if body else []
        if annotation is str:
            # msgspec keeps a str subclass given by a caller (pydantic makes it a str); and
            # pydantic strips: a value with whitespace to strip takes its path
            var, bind = self.bind(value, indent)
            stripped = f" or {var}.strip() != {var}" if strip else ""
            return [*bind, f"{indent}if type({var}) is not str{stripped}: return False"]
        if annotation is Decimal:
            return self.decimal_lines(_constraints(metadata), value, indent)
        return []

    def decimal_lines(self, constraints: dict[str, Any], value: str, indent: str) -> list[str]:
        var, bind = self.bind(value, indent)
        low = [f"{self.const(Decimal(constraints[key]))} {op} "
               for key, op in (("ge", "<="), ("gt", "<")) if key in constraints]
        high = [f" {op} {self.const(Decimal(constraints[key]))}"
                for key, op in (("le", "<="), ("lt", "<")) if key in constraints]
        lines: list[str] = []
        if low or high:  # a bound fails for infinities; comparing NaN raises (ArithmeticError)
            test = f"{low[0] if low else ''}{var}{high[0] if high else ''}"
            lines.append(f"{indent}if not {test}: return False")
        elif constraints.get("allow_inf_nan") is False and "limits" not in constraints:
            lines.append(f"{indent}if not {var}.is_finite(): return False")
        if "limits" in constraints:
            # limits.decimal_problem's verdict at the cost of two comparisons and a remainder:
            # within the bounds (which NaN and the infinities are not) and a multiple of the
            # smallest place allowed (which a zero is, whatever its exponent)
            max_abs, places = constraints["limits"]
            low_bound, high_bound = self.const(-max_abs), self.const(max_abs)
            tick = self.const(Decimal(1).scaleb(-places))
            lines.append(f"{indent}if not ({low_bound} <= {var} <= {high_bound}) or "
                         f"{self.const(_REMAINDER)}({var}, {tick}): return False")
        return [*bind, *lines] if lines else []

    def bind(self, value: str, indent: str) -> tuple[str, list[str]]:
        """A local name for the value at `value` (an attribute path is read once)."""
        if value.isidentifier():
            return value, []
        var = self.temp()
        return var, [f"{indent}{var} = {value}"]

    def const(self, value: Any) -> str:
        self.constants.append(value)
        return f"K{len(self.constants) - 1}"

    def temp(self) -> str:
        self._temp += 1
        return f"v{self._temp}"


# The remainder of an amount by its smallest place, exact for any exponent a decimal can have:
# anything inexact or out of range raises (ArithmeticError), and the line takes the full path.
_REMAINDER = decimal.Context(
    prec=40, Emin=decimal.MIN_EMIN, Emax=decimal.MAX_EMAX,
    traps=[decimal.InvalidOperation, decimal.Inexact, decimal.Underflow, decimal.Subnormal,
           decimal.Overflow]).remainder


def _require_plain_name(name: str, info: FieldInfo) -> None:
    if not name.isidentifier() or keyword.iskeyword(name) or name.startswith("_"):
        raise Unsupported(f"field name {name!r}")
    if info.alias or info.validation_alias:
        raise Unsupported(f"field {name} has an alias")


def _flatten(items: list[Any]) -> list[Any]:
    """Annotated metadata with pydantic's FieldInfo opened into its own metadata."""
    out: list[Any] = []
    for item in items:
        out.extend(item.metadata if isinstance(item, FieldInfo) else [item])
    return out


def _constraints(metadata: list[Any]) -> dict[str, Any]:
    """{name: value} of the constraints in a field's metadata (markers such as Quantity, which
    only the type checker reads, are skipped)."""
    out: dict[str, Any] = {}
    for item in metadata:
        if isinstance(item, Strict):  # msgspec converts nothing: it is strict already
            out["strict"] = item.strict
        elif isinstance(item, BeforeValidator) and item.func in MIRRORED_BY_MSGSPEC:
            continue
        elif isinstance(item, AfterValidator) and hasattr(item.func, "decimal_limits"):
            out["limits"] = item.func.decimal_limits
        elif isinstance(item, annotated_types.BaseMetadata | AllowInfNan) or \
                type(item).__name__ == "_PydanticGeneralMetadata":
            values = {f.name: getattr(item, f.name) for f in dataclasses.fields(item)} \
                if dataclasses.is_dataclass(item) else vars(item)
            out.update({key: value for key, value in values.items() if value is not None})
        elif not isinstance(item, Quantity):  # a marker only the type checker reads
            raise Unsupported(f"constraint {item!r}")
    return out


def _no_constraints(annotation: Any, constraints: dict[str, Any]) -> None:
    if constraints:
        raise Unsupported(f"{annotation} with {sorted(constraints)}")


def _shape(annotation: Any) -> Any:
    """'decimal' for a decimal field (optional or not), ('model', M) for a nested model,
    ('list', M) for a list of them, None for anything else."""
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return _shape(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        shapes = [_shape(a) for a in typing.get_args(annotation) if a is not type(None)]
        return shapes[0] if len(shapes) == 1 else None
    if origin is list:
        inner = _shape(typing.get_args(annotation)[0])
        return ("list", inner[1]) if isinstance(inner, tuple) and inner[0] == "model" else None
    if annotation is Decimal:
        return "decimal"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return ("model", annotation)
    return None
