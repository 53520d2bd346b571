"""The structure of a region table's YAML form, as pydantic models.

`engine.regions` reads a table into a located tree and merges each region's values into the
policy by the rules of `extends:`; the keys it accepts at each level are these models' fields,
and the JSON Schema editors use (`fangpin schema regions`) is generated from them.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from fangpin_rules.policy.document import DatedValue, LocalizedText, Strict

REGION_CODE = r"^\d{6}$"


class RegionTableMeta(Strict):
    """What the table is: its id, title, the policy whose parameters it gives, its source."""

    id: str | None = None
    title: LocalizedText | None = None
    policy: str | None = None  # the id of the policy the table is for
    source: str | None = None
    note: str | None = None


class RegionEntry(BaseModel):
    """One region: its name and, under a parameter's name, that parameter's dated values."""

    model_config = ConfigDict(extra="allow", frozen=True)
    __pydantic_extra__: dict[str, list[DatedValue]] = Field(init=False)

    name: str | None = None
    note: str | None = None


class RegionTable(Strict):
    """A region table: many counties' dated parameter values in one file."""

    region_table: RegionTableMeta | None = None
    regions: dict[Annotated[str, StringConstraints(pattern=REGION_CODE)], RegionEntry]
