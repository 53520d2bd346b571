"""Audit: what changed between two versions of a policy, and whom it changes."""

from fangpin_rules.audit.changes import Change, PolicyDiff, PolicyRef
from fangpin_rules.audit.diff import diff_policies

__all__ = ["Change", "PolicyDiff", "PolicyRef", "diff_policies"]
