"""Region codes below the county: the statistical division code (统计用区划代码).

A code has 6 digits for a county (province 2, city 2, county 2), 9 for a township (3 more)
and 12 for a village (3 more). The 12-digit form is also written for a county or a township
padded with zeros (`350181000000`, `350181101000`): a township's or a village's own 3 digits
are never `000`, so the padding is read as the coarser level it is.
"""

from __future__ import annotations

import re
from typing import Literal

Level = Literal["county", "township", "village"]
LEVELS: tuple[Level, ...] = ("county", "township", "village")
DIGITS: dict[Level, int] = {"county": 6, "township": 9, "village": 12}
LEVEL_LABELS: dict[Level, str] = {"county": "县", "township": "乡镇", "village": "村"}

# A household with no region code is counted in its own row, so that counts still add up.
UNKNOWN_REGION = "unknown"

_CODE = re.compile(r"\d{6}(\d{3}(\d{3})?)?")


class RegionCodeError(ValueError):
    """A region code that is not a 6-, 9- or 12-digit statistical division code."""


def normalize(code: str) -> str:
    """The code without zero padding: `350181101000` -> `350181101`."""
    if not _CODE.fullmatch(code):
        raise RegionCodeError(f"'{code}' is not a region code: 6 digits (county), 9 (township) "
                              "or 12 (village)")
    while len(code) > 6 and code.endswith("000"):
        code = code[:-3]
    return code


def is_region_code(code: str) -> bool:
    return _CODE.fullmatch(code) is not None


def level_of(code: str) -> Level:
    """The level a code names: county, township or village."""
    return {6: "county", 9: "township", 12: "village"}[len(normalize(code))]  # type: ignore[return-value]


def at_level(code: str, level: Level) -> str | None:
    """The code of the region at `level` that holds `code` (its prefix); None when the code is
    coarser than the level asked (a household known only by its county has no village)."""
    plain = normalize(code)
    digits = DIGITS[level]
    return plain[:digits] if len(plain) >= digits else None


def parent(code: str) -> str | None:
    """The region one level up (a village's township, a township's county); None for a
    county."""
    plain = normalize(code)
    return plain[:-3] if len(plain) > 6 else None


def county_of(code: str) -> str:
    return normalize(code)[:6]


def row_region(code: str | None, level: Level) -> str:
    """The row a household is counted in at `level`: its region's code at that level, or, when
    its code is coarser, that code itself (a row of the households not placed further down),
    or `unknown` without a code."""
    if code is None:
        return UNKNOWN_REGION
    return at_level(code, level) or normalize(code)
