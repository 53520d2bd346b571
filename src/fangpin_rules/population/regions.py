"""Statistical division codes: a county has 6 digits, a township 9, a village 12; the longer
code begins with its parent's."""

from __future__ import annotations

from typing import Literal

Level = Literal["county", "township", "village"]

_LENGTHS: dict[Level, int] = {"county": 6, "township": 9, "village": 12}


def level_of(code: str) -> Level | None:
    """The level a code names, or None for a code that is not 6, 9 or 12 digits."""
    if not (code.isascii() and code.isdigit()):
        return None
    for level, length in _LENGTHS.items():
        if len(code) == length:
            return level
    return None


def at_level(code: str, level: Level) -> str | None:
    """The code of the region at ``level`` that contains ``code`` (itself at its own level);
    None when ``code`` is coarser than ``level`` or not a division code."""
    own = level_of(code)
    if own is None or _LENGTHS[own] < _LENGTHS[level]:
        return None
    return code[:_LENGTHS[level]]


def parent(code: str) -> str | None:
    """The region one level up (a village's township, a township's county); None for a
    county or a code that is not a division code."""
    own = level_of(code)
    if own == "village":
        return code[:9]
    if own == "township":
        return code[:6]
    return None
