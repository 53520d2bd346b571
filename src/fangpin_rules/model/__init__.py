"""The data contract (shared/spec/records.md v1) as pydantic v2 models.

These models are the one definition of the record schema: the language's type checker derives
the names and types a policy may read from them, and `fangpin schema` prints their JSON Schema.
"""

from fangpin_rules.model.case import Case, Publicity
from fangpin_rules.model.decision import DeadlineEntry, Decision
from fangpin_rules.model.household import (
    DibaoStatus,
    Household,
    Member,
    MonitoringStatus,
    RigidExpenditure,
)
from fangpin_rules.model.types import Money, Ratio

__all__ = [
    "Case",
    "DeadlineEntry",
    "Decision",
    "DibaoStatus",
    "Household",
    "Member",
    "Money",
    "MonitoringStatus",
    "Publicity",
    "Ratio",
    "RigidExpenditure",
]
