"""Decision output records (records.md, "Decision" and "Deadlines").

The engine builds decisions as plain dicts for speed; these models document the contract and
give `fangpin schema` its JSON Schema. A test checks every emitted decision against them.
"""

from datetime import date
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

# records.md's statuses; edition 2 adds `not_started` (a notice with no deadline, not recorded),
# `no_notice` (a risk marked eliminated before its notice ended) and `unknown` (a due date in a
# year the working-day calendar does not cover).
DeadlineStatus = Literal["pending", "overdue", "on_time", "late", "too_short", "too_early",
                         "not_started", "no_notice", "unknown"]


class PolicyRef(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    sha256: str


class Cadre(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rank: Literal["deputy_section_or_above", "experienced"]
    pairing: bool


class DibaoDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")
    recommend_enrolment: bool
    grace_until: date | None


class RiskElimination(BaseModel):
    model_config = ConfigDict(extra="forbid")
    eligible: bool
    reason: str | None


class DeadlineEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    step: str
    due: date | None
    done: date | None
    status: DeadlineStatus
    late_working_days: int | None
    cite: str
    case_id: str | None = None  # the case the step belongs to (null: the household's own)
    reason: str | None = None  # why the status is `unknown` (the uncovered year)


class DataWarning(BaseModel):
    """A data-consistency finding (§18): the record is decided, the officer checks `field`."""

    model_config = ConfigDict(extra="forbid")
    code: str
    field: str
    cite: str


class Decision(BaseModel):
    """What the policy decides for one household on one date."""

    model_config = ConfigDict(extra="allow")
    household_id: str
    policy: PolicyRef
    as_of: date
    per_capita_income: Decimal
    per_capita_after_rigid: Decimal
    monitoring_line: Decimal
    in_range: bool
    category: Literal["unstable", "marginal", "sudden_hardship"] | None
    category_label: str | None
    special_groups: list[str]
    risks: list[str]
    measures: list[str]
    assistance_mode: Literal["single", "comprehensive"] | None
    orientation: Literal["development", "safety_net"] | None
    cadre: Cadre | None
    dibao: DibaoDecision
    temporary_assistance: bool
    risk_elimination: RiskElimination
    departments: list[str]
    deadlines: list[DeadlineEntry] = []
    overdue: list[DeadlineEntry] = []
    violations: list[DeadlineEntry] = []
    warnings: list[DataWarning] = []
    trace: list[Any] = []
