"""Decisions -> JSON text, with exact decimals written as JSON numbers.

The standard library's C encoder cannot write a Decimal as a number; we let it write a marked
string and unwrap it, which keeps the speed of the C encoder. Contract strings cannot carry the
marker (control characters are refused at validation).
"""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal
from typing import Any

from fangpin_rules.language.values import DurationValue

_MARK = "\x00"
_UNWRAP = re.compile(r'"\\u0000([-+0-9.eE]+)"')


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return _MARK + _decimal_text(value)
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
    if value == value.to_integral_value():
        return format(value.quantize(Decimal(1)), "f")
    return format(value.normalize(), "f")


_encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=_default)


def dumps(obj: Any) -> str:
    """Compact JSON, Chinese as is, exact decimals as numbers."""
    text = _encoder.encode(obj)
    if "\\u0000" in text:
        text = _UNWRAP.sub(r"\1", text)
    return text


def to_plain(obj: Any) -> Any:
    """The JSON-ready structure (dates as text, decimals kept) for APIs that want objects."""
    return json.loads(dumps(obj), parse_float=Decimal)
