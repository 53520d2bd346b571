"""Stage 3: policy document -> checked, typed policy."""

from fangpin_rules.checker.check import check, free_names
from fangpin_rules.checker.checked import (
    CheckedExpr,
    CheckedNode,
    CheckedParameter,
    CheckedPolicy,
    CheckedRule,
    ParameterValue,
    Vocabulary,
)

__all__ = [
    "CheckedExpr",
    "CheckedNode",
    "CheckedParameter",
    "CheckedPolicy",
    "CheckedRule",
    "ParameterValue",
    "Vocabulary",
    "check",
    "free_names",
]
