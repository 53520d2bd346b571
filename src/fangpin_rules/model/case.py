"""Case records: one warning and the dates of its procedure (records.md, "Case")."""

from typing import Literal

from pydantic import Field

from fangpin_rules.model.household import ContractModel
from fangpin_rules.model.types import IsoDate

CaseSource = Literal[
    "self_report_online",
    "hotline_12317",
    "department_hotline",
    "routine_visit",
    "sector_screening",
    "media",
    "petition",
]
PublicityPurpose = Literal["identification", "measures", "risk_elimination"]


class Publicity(ContractModel):
    """A public notice (公示) held in the village."""

    purpose: PublicityPurpose
    start: IsoDate
    end: IsoDate | None = None


class Case(ContractModel):
    """A warning about a household and the steps taken on it so far."""

    case_id: str = Field(min_length=1, max_length=64)
    household_id: str = Field(min_length=1, max_length=64)
    source: CaseSource
    received_on: IsoDate
    assigned_on: IsoDate | None = None
    preliminary_review_on: IsoDate | None = None
    verified_on: IsoDate | None = None
    commitment_signed_on: IsoDate | None = None
    publicity: list[Publicity] = Field(default_factory=list)
    confirmed_on: IsoDate | None = None
    visits: list[IsoDate] = Field(default_factory=list)
