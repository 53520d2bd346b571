"""Decisions -> JSON text, with exact decimals written as JSON numbers.

`dumps` writes anything the engine returns (traces, diffs, rejects). The standard library's C
encoder cannot write a Decimal as a number; we let it write a marked string and unwrap it,
which keeps the speed of the C encoder. The marker holds a random token drawn once per process,
so a record's own text cannot forge it (a household id "\x00123" stays a string), and it is
unwrapped with two plain replacements rather than a regular expression.

`DecisionWriter` writes the decisions of one policy, the streaming path's hot spot, with
msgspec: the policy's decision types say which values need turning into JSON first (decimals,
sets, durations), so nothing else is looked at. It writes the same bytes as `dumps`
(tests/engine/test_decision_writer.py holds them equal on the example cases' decisions,
thousands of synthetic households and a policy with every kind of value).
"""

from __future__ import annotations

import json
import json.encoder
import secrets
from collections.abc import Collection
from datetime import date
from decimal import Decimal
from typing import Any

import msgspec

from fangpin_rules.checker.checked import CheckedPolicy
from fangpin_rules.language import types as t
from fangpin_rules.language.values import DurationValue
from fangpin_rules.limits import DECIMAL_CONTEXT

_TOKEN = secrets.token_hex(8)
_OPEN = "\x00" + _TOKEN  # written as `"\u0000<token>` by the encoder
_CLOSE = _TOKEN + "\x00"  # written as `<token>\u0000"`
_OPEN_JSON = '"\\u0000' + _TOKEN
_CLOSE_JSON = _TOKEN + '\\u0000"'


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return _OPEN + _decimal_text(value) + _CLOSE
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, DurationValue):
        return str(value)
    if isinstance(value, set | frozenset | tuple):
        return sorted(value) if isinstance(value, set | frozenset) else list(value)
    if hasattr(value, "to_json"):
        return value.to_json()
    if isinstance(value, msgspec.Raw):  # a number DecisionWriter had prepared
        return _OPEN + bytes(value).decode() + _CLOSE
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def _decimal_text(value: Decimal) -> str:
    text = str(value)  # fast path: plain notation, trailing fraction zeros dropped
    if "E" not in text and "N" not in text and "I" not in text:
        return text.rstrip("0").rstrip(".") if "." in text else text
    if value == value.to_integral_value(context=DECIMAL_CONTEXT):
        return format(value.quantize(Decimal(1), context=DECIMAL_CONTEXT), "f")
    return format(value.normalize(context=DECIMAL_CONTEXT), "f")


_encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=_default,
                            check_circular=False)
# The C encoder, made once: `JSONEncoder.encode` makes a new one for every call.
_c_make_encoder = getattr(json.encoder, "c_make_encoder", None)
_c_encode = _c_make_encoder(None, _default, json.encoder.encode_basestring, None, ":", ",",
                            False, False, True) if _c_make_encoder is not None else None


def dumps(obj: Any) -> str:
    """Compact JSON, Chinese as is, exact decimals as numbers."""
    text = "".join(_c_encode(obj, 0)) if _c_encode is not None else _encoder.encode(obj)
    if _OPEN_JSON in text:
        text = text.replace(_OPEN_JSON, "").replace(_CLOSE_JSON, "")
    return text


decimal_text = _decimal_text  # exact decimal text, as written in JSON (used by columnar/arrow.py)


def _to_json_ready(value: Any) -> Any:
    """`value` for msgspec to write as `dumps` writes it: containers it writes alike are kept
    (their items prepared), anything else is the text `dumps` makes of it."""
    kind = type(value)
    if kind is str or kind is bool or kind is int or value is None or kind is date:
        return value
    if kind is Decimal:
        return msgspec.Raw(_decimal_text(value).encode())
    if kind is dict and all(type(key) is str for key in value):
        return {key: _to_json_ready(item) for key, item in value.items()}
    if kind is list:
        return [_to_json_ready(item) for item in value]
    return msgspec.Raw(dumps(value).encode("utf-8"))


def _plain(kind: t.Type) -> bool:
    """A decision value of this type is written by msgspec as `dumps` writes it."""
    kind = t.strip(kind)
    if isinstance(kind, t.Record):
        return all(_plain(field) for field in kind.fields.values())
    return kind in (t.BOOL, t.STRING, t.DATE, t.NULL) or isinstance(kind, t.Enum)


DECISION_KEYS = ("household_id", "policy", "as_of", "deadlines", "overdue", "violations",
                 "warnings", "trace")


class DecisionWriter:
    """Writes one policy's decisions as JSON bytes: `dumps(decision)`, faster."""

    def __init__(self, output_fields: list[tuple[str, t.Type]],
                 label_lists: Collection[str] = ()) -> None:
        """`label_lists`: keys whose values are lists of labels whatever the record (a
        `collect` decision's), which need nothing done."""
        self.number_keys = tuple(key for key, kind in output_fields
                                 if t.strip(kind) in t.NUMERIC)
        self.other_keys = tuple(key for key, kind in output_fields
                                if not _plain(kind) and t.strip(kind) not in t.NUMERIC
                                and key not in label_lists)
        # what else a decision holds (engine/policy.py, compiler/codegen.py): plain values
        self.known = frozenset((*(key for key, _ in output_fields), *DECISION_KEYS))
        self._encode = msgspec.json.Encoder().encode

    def encode(self, decision: dict[str, Any]) -> bytes:
        """The decision as one line of JSON (no newline). It may alter `decision`'s values in
        place (to their JSON form): pass one that is written and dropped."""
        for key in self.number_keys:
            value = decision[key]
            if type(value) is Decimal:
                decision[key] = msgspec.Raw(_decimal_text(value).encode())
        for key in self.other_keys:
            value = decision[key]
            if type(value) is not list or (value and type(value[0]) is not str):
                decision[key] = _to_json_ready(value)
        if len(decision) != len(self.known) or decision.get("trace"):
            for key in decision.keys() - (self.known - {"trace"}):  # explanations, additions
                decision[key] = _to_json_ready(decision[key])
        try:
            return self._encode(decision)
        except (TypeError, UnicodeEncodeError):  # a value msgspec does not write: as dumps does
            return dumps(decision).encode("utf-8", "surrogateescape")


def decision_writer(checked: CheckedPolicy) -> DecisionWriter:
    """The writer of a checked policy's decisions."""
    collected = {checked.output_name(name) for name in checked.outputs
                 if checked.nodes[name].kind == "collect"}
    return DecisionWriter(checked.output_fields(), collected)
