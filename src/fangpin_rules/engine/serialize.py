"""Decisions -> JSON text, with exact decimals written as JSON numbers.

The standard library's C encoder cannot write a Decimal as a number; we let it write a marked
string and unwrap it, which keeps the speed of the C encoder. The marker holds a random token
drawn once per process, so a record's own text cannot forge it (a household id "\x00123" stays
a string), and it is unwrapped with two plain replacements rather than a regular expression.
"""

from __future__ import annotations

import json
import json.encoder
import secrets
from datetime import date
from decimal import Decimal
from typing import Any

from fangpin_rules.language.values import DurationValue

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
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def _decimal_text(value: Decimal) -> str:
    text = str(value)  # fast path: plain notation, trailing fraction zeros dropped
    if "E" not in text and "N" not in text and "I" not in text:
        return text.rstrip("0").rstrip(".") if "." in text else text
    if value == value.to_integral_value():
        return format(value.quantize(Decimal(1)), "f")
    return format(value.normalize(), "f")


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


decimal_text = _decimal_text  # exact decimal text, as written in JSON (used by columnar.py)
