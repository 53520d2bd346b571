"""Household input records (records.md, "Household")."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from fangpin_rules.model.types import Count, Flag, IsoDate, Money, NonNegativeMoney

LabourCapacity = Literal["normal", "skilled", "weak", "lost", "none"]
Health = Literal["healthy", "chronic", "chronic_heavy", "serious_illness"]
MonitoringState = Literal["none", "monitored", "risk_eliminated"]
CategoryName = Literal["unstable", "marginal", "sudden_hardship"]


class ContractModel(BaseModel):
    """Base of every contract record: unknown fields are an error, never silently dropped."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Member(ContractModel):
    """One member of a household. `null` means unknown, which is not `false`."""

    member_id: str = Field(min_length=1, max_length=64)
    birth_date: IsoDate | None = None
    labour_capacity: LabourCapacity | None = None
    health: Health | None = None
    disability_grade: Count | None = Field(default=None, ge=1, le=4)
    dependent_elderly: Flag | None = None
    orphan: Flag | None = None
    left_behind_child: Flag | None = None
    dropped_out: Flag | None = None


class RigidExpenditure(ContractModel):
    """Out-of-pocket rigid spending of the last 12 months, by kind (yuan)."""

    medical: NonNegativeMoney | None = None
    education: NonNegativeMoney | None = None
    disaster: NonNegativeMoney | None = None
    accident: NonNegativeMoney | None = None


class DibaoStatus(ContractModel):
    """Rural minimum living guarantee (农村低保) enrolment."""

    enrolled: Flag | None = None
    since: IsoDate | None = None
    income_above_standard_on: IsoDate | None = None


class MonitoringStatus(ContractModel):
    """The household's current state in the monitoring system."""

    status: MonitoringState = "none"
    category: CategoryName | None = None
    since: IsoDate | None = None


class Household(ContractModel):
    """A household record: the input the policy decides on."""

    household_id: str = Field(min_length=1, max_length=64)
    # The statistical division code: county (6 digits), township (9) or village (12); the
    # region table and the policy's county parameters use its first 6 (population/regions.py).
    region_code: str | None = Field(default=None, pattern=r"^\d{6}(\d{3}(\d{3})?)?$")
    formerly_poor: Flag
    members: list[Member] = Field(min_length=1, max_length=100)
    net_income: Money
    previous_net_income: Money | None = None
    rigid_expenditure: RigidExpenditure = Field(default_factory=RigidExpenditure)
    food_clothing_secure: Flag | None = None
    basic_medical_secure: Flag | None = None
    housing_safe: Flag | None = None
    drinking_water_safe: Flag | None = None
    dibao: DibaoStatus = Field(default_factory=DibaoStatus)
    tekun: Flag | None = None
    motivation_lacking: Flag | None = None
    monitoring: MonitoringStatus = Field(default_factory=MonitoringStatus)
