"""fangpin-rules: policy-as-code for China's rural return-to-poverty prevention policy.

    >>> from fangpin_rules import load_policy
    >>> policy = load_policy("policies/fujian_2021.yaml")
    >>> decision = policy.evaluate(household, as_of="2021-09-01")
"""

__version__ = "0.1.0"

from fangpin_rules.diagnostics import Diagnostic, PolicyError
from fangpin_rules.engine import Policy, RecordError, Rejection, load_policy
from fangpin_rules.engine.policy import DateError

__all__ = [
    "DateError",
    "Diagnostic",
    "Policy",
    "PolicyError",
    "RecordError",
    "Rejection",
    "__version__",
    "load_policy",
]
