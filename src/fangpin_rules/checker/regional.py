"""The `regional_warnings:` section (§3, §16): each rule's names and types, checked like any
other rule and reported at its file:line:column: the label it counts (a label of the policy's
`risk`, `category` or `measure` vocabulary, or an event), the threshold parameters (a ratio for
a share or a comparison with an earlier period, a count for a count) and the article it cites.
The rules come out sorted by id, so that the warnings of a run do not depend on file order."""

from __future__ import annotations

import re
from typing import Any

from fangpin_rules.checker.checked import CheckedRegionalWarning
from fangpin_rules.diagnostics import did_you_mean
from fangpin_rules.language import types as t
from fangpin_rules.policy.document import IDENTIFIER, RegionalWarning, localized

# what `where:` may select, and the vocabulary its label comes from (None: a fixed set)
WHERE = {"risk": "risk", "category": "category", "measure": "measure", "event": None}
EVENTS = ("identified", "eliminated")


def check_regional_warnings(checker: Any) -> list[CheckedRegionalWarning]:
    """Type every regional warning of `checker`'s document (a checker.check._Checker)."""
    found = []
    for rule_id in sorted(checker.doc.regional_warnings):
        checked = _check_rule(checker, rule_id, checker.doc.regional_warnings[rule_id])
        if checked is not None:
            found.append(checked)
    return found


def _check_rule(checker: Any, rule_id: str, rule: RegionalWarning,
                ) -> CheckedRegionalWarning | None:
    path: tuple[str | int, ...] = ("regional_warnings", rule_id)
    ok = True
    if re.match(IDENTIFIER, rule_id) is None or len(rule_id) > 120:
        checker.err("bad-name", f"'{rule_id}' is not a valid regional warning id",
                    checker.key_loc(path), length=len(rule_id),
                    hint="use letters, digits and '_', starting with a letter")
        ok = False
    (kind, label), = rule.where.items()
    if kind not in WHERE:
        checker.err("unknown-name", f"`where:` cannot select by '{kind}'",
                    checker.key_loc((*path, "where", kind)), length=len(kind),
                    hint=did_you_mean(kind, WHERE) or f"use one of {', '.join(WHERE)}")
        ok = False
    else:
        vocabulary = WHERE[kind]
        labels: tuple[str, ...] = EVENTS
        if vocabulary is not None:
            known = checker.vocabularies.get(vocabulary)
            labels = tuple(known.labels) if known is not None else ()
        if vocabulary is not None and vocabulary not in checker.vocabularies:
            checker.err("unknown-name", f"the policy has no `{vocabulary}` vocabulary to take "
                        f"'{label}' from", checker.loc((*path, "where", kind)),
                        length=len(label), hint=f"declare `vocabularies: {vocabulary}:`")
            ok = False
        elif label not in labels:
            what = f"a label of the `{vocabulary}` vocabulary" if vocabulary else "an event"
            checker.err("unknown-name", f"'{label}' is not {what}",
                        checker.loc((*path, "where", kind)), length=len(label),
                        hint=did_you_mean(label, labels) or f"use one of {', '.join(labels)}")
            ok = False
    if rule.against is not None and rule.as_ == "share":
        checker.err("misplaced-key", "`as: share` cannot be compared `against:` an earlier "
                    "period: the comparison is of counts", checker.key_loc((*path, "as")),
                    length=2, hint="remove `as: share` (or `against:`)")
        ok = False
    wanted = t.COUNT if rule.as_ == "count" and rule.against is None else t.RATIO
    why = ("a count of households" if wanted is t.COUNT else
           "a share" if rule.against is None else "a growth factor against the earlier period")
    ok = _parameter(checker, rule.above, wanted, why, (*path, "above")) and ok
    if rule.at_least is not None:
        ok = _parameter(checker, rule.at_least, t.COUNT, "a number of households",
                        (*path, "at_least")) and ok
    if not ok:
        return None
    return CheckedRegionalWarning(
        rule_id, localized(rule.title, "zh") or rule_id, localized(rule.title, "en"),
        rule.cite, rule.basis, rule.level, (kind, label), rule.new, rule.as_, rule.against,
        rule.above, rule.at_least, rule.events, rule.note, checker.key_loc(path))


def _parameter(checker: Any, name: str, wanted: t.Type, why: str,
               path: tuple[str | int, ...]) -> bool:
    param = checker.parameters.get(name)
    if param is None:
        checker.err("unknown-name", f"unknown parameter '{name}'", checker.loc(path),
                    length=len(name), hint=did_you_mean(name, checker.parameters)
                    or "declare it under `parameters:`")
        return False
    checker.used_parameters.add(name)
    if param.type != wanted:
        checker.err("type-mismatch", f"parameter '{name}' is {param.type}; this threshold is "
                    f"{why}, a {wanted}", checker.loc(path), length=len(name),
                    hint=f"give a parameter of type {wanted}")
        return False
    return True
