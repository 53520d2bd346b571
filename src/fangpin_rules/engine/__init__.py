"""Stage 5: compiled policy -> decisions for household records."""

from fangpin_rules.engine.policy import Policy, load_policy
from fangpin_rules.engine.records import RecordError, Rejection, read_records

__all__ = ["Policy", "RecordError", "Rejection", "load_policy", "read_records"]
