"""The `regional_warnings:` section (§3, §16): each rule's names and types, checked like any
other rule and reported at its file:line:column: the label it counts (a label of the policy's
`risk`, `category` or `measure` vocabulary, or an event), the threshold parameters (a ratio for
a share or a comparison with an earlier period, a count for a count) and the article it cites.
A `sum:` names a numeric decision (money, count, number or ratio) and its threshold is of
that type (a ratio for a share or a comparison). The rules come out sorted by id, so that the
warnings of a run do not depend on file order."""

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
    where: tuple[str, str] | None = None
    if rule.where is not None:
        (kind, label), = rule.where.items()
        where = (kind, label)
        ok = _where(checker, kind, label, path) and ok
    elif rule.new:
        checker.err("misplaced-key", "`new: true` needs a `where:`: without it every household "
                    "of the region is counted, and none is new", checker.key_loc((*path, "new")),
                    length=3, hint="add `where:` (or remove `new:`)")
        ok = False
    summed, sum_key = _summed(checker, rule, path)
    if rule.sum is not None and summed is None:
        ok = False
    if rule.as_ == "mean" and rule.sum is None:
        checker.err("misplaced-key", "`as: mean` is a mean of a decided value: name it with "
                    "`sum:`", checker.key_loc((*path, "as")), length=2,
                    hint="add `sum: VALUE` (or use `as: count` / `as: share`)")
        ok = False
    if rule.against is not None and rule.as_ == "share":
        checker.err("misplaced-key", "`as: share` cannot be compared `against:` an earlier "
                    "period: the comparison is of counts, sums or means",
                    checker.key_loc((*path, "as")), length=2,
                    hint="remove `as: share` (or `against:`)")
        ok = False
    if summed is t.RATIO and rule.as_ == "count" and rule.against is None:
        checker.err("type-mismatch", f"a sum of the ratio '{rule.sum}' is no figure to compare",
                    checker.loc((*path, "sum")), length=len(rule.sum or ""),
                    hint="use `as: mean` (the mean of the ratio over the households)")
        ok = False
    if (rule.above is None) == (rule.below is None):
        checker.err("misplaced-key" if rule.above is not None else "missing-key",
                    "give one threshold: `above:` (a warning when the figure exceeds it) or "
                    "`below:` (when it falls short of it)", checker.key_loc(path),
                    length=len(rule_id), hint="keep `above:` or `below:`, not both"
                    if rule.above is not None else "add `above: PARAMETER`")
        ok = False
    wanted, why = _threshold_type(rule, summed)
    for key, name in (("above", rule.above), ("below", rule.below)):
        if name is not None and not (rule.sum is not None and summed is None):
            ok = _parameter(checker, name, wanted, why, (*path, key)) and ok
    if rule.at_least is not None:
        ok = _parameter(checker, rule.at_least, t.COUNT, "a number of households",
                        (*path, "at_least")) and ok
    if not ok:
        return None
    return CheckedRegionalWarning(
        rule_id, localized(rule.title, "zh") or rule_id, localized(rule.title, "en"),
        rule.cite, rule.basis, rule.level, where, rule.new, rule.as_, rule.against,
        rule.above, rule.at_least, rule.events, rule.note, checker.key_loc(path),
        sum_of=sum_key, below=rule.below)


def _where(checker: Any, kind: str, label: str, path: tuple[str | int, ...]) -> bool:
    if kind not in WHERE:
        checker.err("unknown-name", f"`where:` cannot select by '{kind}'",
                    checker.key_loc((*path, "where", kind)), length=len(kind),
                    hint=did_you_mean(kind, WHERE) or f"use one of {', '.join(WHERE)}")
        return False
    vocabulary = WHERE[kind]
    labels: tuple[str, ...] = EVENTS
    if vocabulary is not None:
        known = checker.vocabularies.get(vocabulary)
        labels = tuple(known.labels) if known is not None else ()
    if vocabulary is not None and vocabulary not in checker.vocabularies:
        checker.err("unknown-name", f"the policy has no `{vocabulary}` vocabulary to take "
                    f"'{label}' from", checker.loc((*path, "where", kind)),
                    length=len(label), hint=f"declare `vocabularies: {vocabulary}:`")
        return False
    if label not in labels:
        what = f"a label of the `{vocabulary}` vocabulary" if vocabulary else "an event"
        checker.err("unknown-name", f"'{label}' is not {what}",
                    checker.loc((*path, "where", kind)), length=len(label),
                    hint=did_you_mean(label, labels) or f"use one of {', '.join(labels)}")
        return False
    return True


def _summed(checker: Any, rule: RegionalWarning, path: tuple[str | int, ...],
            ) -> tuple[t.Type | None, str | None]:
    """The type of the decided value `sum:` names (money, count, number or ratio, perhaps
    unknown for a household) and its key in the decision record; (None, None) otherwise."""
    if rule.sum is None:
        return None, None
    numeric = {name: node.type for name, node in checker.nodes.items()
               if name in checker.doc.decisions and _numeric(node.type) is not None}
    name = rule.sum
    if name not in checker.doc.decisions:
        checker.err("unknown-name", f"'{name}' is not a decision: `sum:` adds up a decided "
                    "value of each household", checker.loc((*path, "sum")), length=len(name),
                    hint=did_you_mean(name, numeric) or "name a decision of type money, count, "
                    "number or ratio")
        return None, None
    node = checker.nodes.get(name)
    if node is None:  # its own errors are reported where it is declared
        return None, None
    kind = _numeric(node.type)
    if kind is None:
        checker.err("type-mismatch", f"the decision '{name}' is {node.type}; `sum:` adds up "
                    "money, a count, a number or a ratio", checker.loc((*path, "sum")),
                    length=len(name), hint=did_you_mean(name, numeric)
                    or "name a numeric decision")
        return None, None
    spec = checker.doc.decisions[name]
    return kind, getattr(spec, "output", None) or name


def _numeric(kind: t.Type) -> t.Type | None:
    inner = kind.inner if isinstance(kind, t.Opt) else kind
    return inner if inner in (t.MONEY, t.COUNT, t.NUMBER, t.RATIO) else None


def _threshold_type(rule: RegionalWarning, summed: t.Type | None) -> tuple[t.Type, str]:
    if rule.against is not None:
        return t.RATIO, "a growth factor against the earlier period"
    if rule.as_ == "share":
        return t.RATIO, "a share"
    if summed is None:
        return t.COUNT, "a count of households"
    return summed, f"{'a mean' if rule.as_ == 'mean' else 'a sum'} of {rule.sum}"


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
