"""Every size limit on a policy file, in one place (docs/security.md, "Limits").

Each is enforced where the policy is read, with a positioned error naming the limit, so that a
file too big for the machine is refused in seconds instead of exhausting memory or time.
"""

from __future__ import annotations

MAX_POLICY_BYTES = 5_000_000
"""A policy file, in bytes (the province's is about 36 KB)."""

MAX_YAML_DEPTH = 40
"""Nesting of YAML mappings and lists."""

MAX_RULES = 50_000
"""Rules in all first_match and collect decisions of one policy, bases included."""

MAX_EXPRESSION_LENGTH = 4000
"""Characters of one expression."""

MAX_EXPRESSION_DEPTH = 48
"""Nesting of one expression (brackets, operators, calls)."""

MAX_NAME_LENGTH = 128
"""Characters of one declared name."""
