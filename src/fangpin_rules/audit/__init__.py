"""Audit: what changed between two versions of a policy, and whom it changes."""

from fangpin_rules.audit.changes import Change, PolicyDiff, PolicyRef
from fangpin_rules.audit.diff import diff_policies
from fangpin_rules.audit.impact import ChangedHousehold, ImpactReport, impact

__all__ = ["Change", "ChangedHousehold", "ImpactReport", "PolicyDiff", "PolicyRef",
           "diff_policies", "impact"]
