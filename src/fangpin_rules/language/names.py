"""What a name declared by a policy may be.

A policy's names (definitions, decisions, object fields, outputs, parameters, vocabularies and
their labels, record schema fields, procedure steps) are read by expressions, become keys of
the decision record and, for record fields, attribute names in the compiled code. One rule for
all of them: a plain identifier of letters, digits and '_' (Chinese letters are letters), not
starting with '_' or a digit, that is no Python keyword or builtin constant and that Unicode
NFKC normalisation leaves unchanged (Python reads `ﬁeld` as `field`, so such a name would
silently mean another).
"""

from __future__ import annotations

import keyword
import unicodedata

from fangpin_rules.limits import MAX_NAME_LENGTH

# Names Python treats specially even where a keyword is not expected.
_PYTHON_RESERVED = frozenset({*keyword.kwlist, *keyword.softkwlist, "match", "case", "type"})
NAME_HINT = ("use letters, digits and '_', starting with a letter (names starting with '_' "
             "are reserved; Python keywords such as `lambda`, `None`, `match` are not names)")


def name_problem(name: object) -> str | None:
    """Why `name` cannot be a policy name, or None when it can."""
    if not isinstance(name, str) or not name:
        return "a name must be non-empty text"
    if len(name) > MAX_NAME_LENGTH:
        return f"a name is at most {MAX_NAME_LENGTH} characters"
    if not name.isidentifier() or name.startswith("_") or not name[0].isalpha():
        return "a name is letters, digits and '_', starting with a letter"
    if unicodedata.normalize("NFKC", name) != name:
        return "a name must be written in its normal Unicode form (NFKC)"
    if name in _PYTHON_RESERVED:
        return "a name cannot be a reserved word of the language the policy compiles to"
    return None


def is_plain_name(name: object) -> bool:
    return name_problem(name) is None
