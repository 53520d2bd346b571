"""Stage 2: located YAML tree -> policy document (validated structure, expressions still text)."""

from fangpin_rules.policy.document import (
    CollectDecision,
    DecisionSpec,
    Definition,
    FirstMatchDecision,
    Metadata,
    ObjectDecision,
    Parameter,
    PolicyDocument,
    Rule,
    ValueDecision,
)
from fangpin_rules.policy.read import SourcedDocument, read_document

__all__ = [
    "CollectDecision",
    "DecisionSpec",
    "Definition",
    "FirstMatchDecision",
    "Metadata",
    "ObjectDecision",
    "Parameter",
    "PolicyDocument",
    "Rule",
    "SourcedDocument",
    "ValueDecision",
    "read_document",
]
