"""The `warnings:` section: data-consistency rules (§18 规范数据填报), checked like decisions.

Each rule's id, its code, its `for:` form, its condition (a true/false expression over the
record, the definitions and the decisions) and the field it points at are checked here, each
problem reported at its file:line:column. The rules come out sorted by id, so that a decision's
warnings do not depend on the order the file (or a county file) lists them in.
"""

from __future__ import annotations

import re
from typing import Any

from fangpin_rules.checker.checked import CheckedExpr, CheckedWarning
from fangpin_rules.checker.expression_source import ExprSource
from fangpin_rules.checker.infer import ERR, Scope
from fangpin_rules.diagnostics import did_you_mean
from fangpin_rules.language import types as t
from fangpin_rules.language.parser import ExprSyntaxError, parse_expression
from fangpin_rules.policy.document import RULE_ID, WarningRule, localized

_FOR = re.compile(r"^\s*([^\W\d]\w*)\s+in\s+([^\W\d]\w*)\s*$")


def check_warnings(checker: Any) -> list[CheckedWarning]:
    """Type every warning rule of `checker`'s document (a checker.check._Checker)."""
    found: list[CheckedWarning] = []
    for rule_id in sorted(checker.doc.warnings):
        rule: WarningRule = checker.doc.warnings[rule_id]
        checked = _check_rule(checker, rule_id, rule)
        if checked is not None:
            found.append(checked)
    return found


def _check_rule(checker: Any, rule_id: str, rule: WarningRule) -> CheckedWarning | None:
    path: tuple[str | int, ...] = ("warnings", rule_id)
    ok = True
    if re.match(RULE_ID, rule_id) is None or len(rule_id) > 120:
        checker.err("bad-name", f"'{rule_id}' is not a valid warning rule id",
                    checker.key_loc(path), length=len(rule_id),
                    hint="use letters, digits, '_', '.' and '-', starting with a letter")
        ok = False
    code = rule.code or rule_id
    if rule.code is None and re.match(r"^[^\W\d_]\w*$", rule_id) is None:
        checker.err("missing-key", f"warning rule '{rule_id}' needs `code:` (its id is not a "
                    "code a decision can carry)", checker.key_loc(path), length=len(rule_id),
                    hint="add `code:` with a name of letters, digits and '_'")
        ok = False
    var, iterable, element = _for_form(checker, rule, path)
    if rule.for_ is not None and var is None:  # the field and condition would only cascade
        return None
    if not _check_field(checker, rule.field, iterable, element, (*path, "field")):
        ok = False
    when, nodes = _condition(checker, rule, path, var, element)
    if when is None or not ok:
        return None
    return CheckedWarning(rule_id, code, localized(rule.title, "zh") or rule_id,
                          localized(rule.title, "en"), rule.cite, rule.basis, when,
                          rule.field, var, iterable, checker.key_loc(path), frozenset(nodes))


def _for_form(checker: Any, rule: WarningRule, path: tuple[str | int, ...]
              ) -> tuple[str | None, str | None, t.Type | None]:
    """`for: m in members`: the item's name, the list field and the type of an item."""
    if rule.for_ is None:
        return None, None, None
    where = (*path, "for")
    match = _FOR.match(rule.for_)
    if match is None:
        checker.err("syntax", f"`for:` must read `NAME in LIST`, not '{rule.for_}'",
                    checker.loc(where), length=max(1, len(rule.for_)),
                    hint="for example `for: m in members`")
        return None, None, None
    var, iterable = match.groups()
    src = ExprSource(rule.for_, checker.sourced.scalar(where), checker.loc(where), where)
    at = match.start(2)
    kind = checker.inputs.get(iterable)
    element = t.strip(kind.element) if isinstance(kind, t.ListOf) else None
    if kind is None:
        checker.expr_error(src, (at, at + len(iterable)), "unknown-name",
                           f"the record has no field '{iterable}'",
                           did_you_mean(iterable, checker.inputs) or "")
        return None, None, None
    if not isinstance(element, t.Record):
        checker.expr_error(src, (at, at + len(iterable)), "type",
                           f"`for:` walks a list of records, but '{iterable}' is "
                           f"{t.describe(kind)}")
        return None, None, None
    clash = var in checker.inputs or var in checker.specs or var in checker.parameters
    if clash or var == "as_of":
        checker.expr_error(src, (match.start(1), match.end(1)), "name-clash",
                           f"'{var}' already names something else",
                           "choose a name for the item that nothing else has, like `m`")
        return None, None, None
    return var, iterable, element


def _check_field(checker: Any, field: str, iterable: str | None, element: t.Type | None,
                 where: tuple[str | int, ...]) -> bool:
    """`field` is a path of the record (`monitoring.since`, `members[].birth_date`), or a
    decision's output (`measures`); its `[]` stands for the `for:` item's index, so it comes
    once, on the `for:` list."""
    src = ExprSource(field, checker.sourced.scalar(where), checker.loc(where), where)
    outputs = {spec.output or name for name, spec in checker.doc.decisions.items()}
    if field in outputs and iterable is None:
        return True
    kind: t.Type = t.record_type(checker.record_model)
    offset = 0
    for segment in field.split("."):
        name, indexed = segment.removesuffix("[]"), segment.endswith("[]")
        span = (offset, offset + len(segment))
        offset += len(segment) + 1
        record = t.strip(kind)
        fields = record.fields if isinstance(record, t.Record) else {}
        if name not in fields:
            checker.expr_error(src, span, "unknown-field", f"the record has no field '{name}' "
                               f"here ({field})", did_you_mean(name, fields) or "")
            return False
        kind = fields[name]
        if indexed:
            if iterable is None or span[0] != 0 or name != iterable:
                checker.expr_error(src, span, "unknown-field",
                                   f"'[]' stands for the index of the `for:` item, but '{name}' "
                                   "is not the list the rule walks",
                                   "write `for: m in LIST` and `field: LIST[].FIELD`")
                return False
            kind = element or ERR
        elif isinstance(t.strip(kind), t.ListOf) and segment != field.split(".")[-1]:
            checker.expr_error(src, span, "unknown-field", f"'{name}' is a list: say which "
                               "item with `for:` and `[]`")
            return False
    if iterable is not None and not field.startswith(f"{iterable}[]"):
        checker.expr_error(src, (0, len(field)), "unknown-field",
                           f"a rule with `for:` points at a field of the item: "
                           f"`{iterable}[].FIELD`")
        return False
    return True


def _condition(checker: Any, rule: WarningRule, path: tuple[str | int, ...], var: str | None,
               element: t.Type | None) -> tuple[CheckedExpr | None, set[str]]:
    where = (*path, "when")
    src = ExprSource(rule.when, checker.sourced.scalar(where), checker.loc(where), where)
    try:
        tree = parse_expression(rule.when)
    except ExprSyntaxError as exc:
        length = exc.length if exc.offset < len(rule.when) else 1
        checker.err("syntax", f"syntax error: {exc.message}", src.location(exc.offset),
                    excerpt=rule.when, length=length, hint=exc.hint)
        return None, set()
    scope = Scope(checker, src, f"warnings.{path[-1]}")
    if var is not None and element is not None:
        scope.bound[var] = element
    result = scope.infer(tree)
    checker.used_parameters.update(scope.params)
    checker.used_nodes.update(scope.nodes)
    if result is ERR:
        return None, set()
    if result != t.BOOL:
        hint = ("it may be unknown (null): write `x == true` or `x ?? false`"
                if result == t.Opt(t.BOOL) else "")
        checker.expr_error(src, tree, "type", "a warning's `when:` must be true/false, but "
                           f"this is {t.describe(result)}", hint)
        return None, set()
    return CheckedExpr(tree, result, src), set(scope.nodes)
