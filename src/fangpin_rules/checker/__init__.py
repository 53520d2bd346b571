"""Stage 3: policy document -> checked, typed policy."""

from fangpin_rules.checker.check import check
from fangpin_rules.checker.checked import (
    CheckedExpr,
    CheckedNode,
    CheckedParameter,
    CheckedPolicy,
    CheckedRule,
    ParameterValue,
    Vocabulary,
)
from fangpin_rules.checker.infer import free_names

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
