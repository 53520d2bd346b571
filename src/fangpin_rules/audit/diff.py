"""`diff_policies(old, new)`: what changed between two versions of a policy, item by item.

It compares the *checked* policies (what `load_policy` gives, inheritance resolved), never the
YAML text: key order, indentation, comments and the layout of an expression are no change, and
two conditions are the same when their normal forms are (`language.normalize`). Items are
matched by name (parameters, definitions, decisions, rule ids, steps, duties, articles, labels),
so a rule moved in the file is no change, except in a `first_match` decision, whose rule order
decides the result and is compared.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from fangpin_rules.audit.changes import SECTIONS, Change, PolicyDiff, PolicyRef, as_text
from fangpin_rules.checker.checked import (
    CheckedExpr,
    CheckedNode,
    CheckedParameter,
    CheckedPolicy,
    CheckedRule,
    CheckedStep,
)
from fangpin_rules.diagnostics import Location
from fangpin_rules.language import ast
from fangpin_rules.language import types as t
from fangpin_rules.language.normalize import canonical
from fangpin_rules.policy.document import localized
from fangpin_rules.source import LNode, key_location, load_located


def diff_policies(old: Any, new: Any) -> PolicyDiff:
    """The changes from `old` to `new`, each a `Policy` or a `CheckedPolicy`."""
    before, after = _checked(old), _checked(new)
    differ = _Differ(before, after)
    changes = list(differ.run())
    order = {section: i for i, section in enumerate(SECTIONS)}
    changes.sort(key=lambda c: order[c.section])  # stable: file order within a section
    return PolicyDiff(_ref(before), _ref(after), tuple(changes))


def _checked(policy: Any) -> CheckedPolicy:
    checked = getattr(policy, "checked", policy)
    if not isinstance(checked, CheckedPolicy):
        raise TypeError(f"expected a Policy or CheckedPolicy, got {type(policy).__name__}")
    return checked


def _ref(policy: CheckedPolicy) -> PolicyRef:
    meta = policy.document.policy
    return PolicyRef(meta.id, meta.version, localized(meta.title, "zh") or meta.id, policy.path,
                     policy.sha256)


class _Side:
    """One version, with what the comparison asks of it beyond the checked policy."""

    def __init__(self, policy: CheckedPolicy) -> None:
        self.policy = policy
        self._tree: LNode | None = None
        self._tree_read = False
        self.readers = _readers(policy)

    def where(self, *path: str | int) -> Location:
        """The line of a key of the file (for items the checked policy keeps no location of);
        the file alone when it cannot be read back."""
        if not self._tree_read:
            self._tree_read = True
            try:
                self._tree = load_located(self.policy.path)
            except Exception:  # the file moved or changed since: the path is still right
                self._tree = None
        if self._tree is None:
            return Location(self.policy.path, 0, 0)
        return key_location(self._tree, path)

    def canonical(self, expr: CheckedExpr | None) -> str | None:
        return None if expr is None else canonical(expr.tree, self.policy.expr_types)

    def affected(self, name: str) -> tuple[str, ...]:
        """Top-level decisions and procedure steps that read `name`, directly or through other
        definitions."""
        seen: set[str] = set()
        todo = [name]
        while todo:
            for reader in self.readers.get(todo.pop(), ()):
                if reader not in seen:
                    seen.add(reader)
                    todo.append(reader)
        outputs = [n for n in self.policy.outputs if n in seen or n == name]
        steps = [f"procedure.{s.name}" for s in self.policy.steps if f"procedure.{s.name}" in seen]
        return tuple(outputs + steps)


def _readers(policy: CheckedPolicy) -> dict[str, set[str]]:
    """name (node or parameter) -> the nodes and steps that read it."""
    readers: dict[str, set[str]] = {}
    for node in policy.nodes.values():
        for used in node.dependencies | node.parameters:
            readers.setdefault(used, set()).add(node.name)
        if node.parent is not None:  # a field is part of its object
            readers.setdefault(node.name, set()).add(node.parent)
    for step in policy.steps:
        for expr in (step.when, step.due, step.done):
            if expr is None:
                continue
            for sub in ast.walk(expr.tree):
                if isinstance(sub, ast.Name):
                    readers.setdefault(sub.id, set()).add(f"procedure.{step.name}")
                elif isinstance(sub, ast.Attribute) and isinstance(sub.value, ast.Name):
                    dotted = f"{sub.value.id}.{sub.attr}"
                    readers.setdefault(dotted, set()).add(f"procedure.{step.name}")
                    readers.setdefault(sub.value.id, set()).add(f"procedure.{step.name}")
    return readers


class _Differ:
    def __init__(self, old: CheckedPolicy, new: CheckedPolicy) -> None:
        self.old, self.new = _Side(old), _Side(new)

    def run(self) -> Iterator[Change]:
        yield from self.metadata()
        yield from self.articles()
        yield from self.vocabularies()
        yield from self.parameters()
        yield from self.nodes()
        yield from self.steps()
        yield from self.warnings()
        yield from self.duties()
        yield from self.calendar()

    # -- metadata, articles, vocabularies -----------------------------------------------------
    def metadata(self) -> Iterator[Change]:
        old_meta, new_meta = self.old.policy.document.policy, self.new.policy.document.policy
        cite = new_meta.document or old_meta.document  # metadata cites the document itself
        for key in type(old_meta).model_fields:
            before, after = as_text(getattr(old_meta, key)), as_text(getattr(new_meta, key))
            if before != after:
                yield Change("metadata", "changed", "policy", key, before, after, cite, None,
                             self.old.where("policy", key), self.new.where("policy", key))

    def articles(self) -> Iterator[Change]:
        old_arts, new_arts = self.old.policy.document.articles, self.new.policy.document.articles
        for art_id, before, after in _matched(old_arts, new_arts):
            title = localized((after or before).title, "zh") if (after or before) else None
            old_at = self.old.where("articles", art_id) if before else None
            new_at = self.new.where("articles", art_id) if after else None
            if before is None or after is None:
                item = before or after
                yield _whole("article", art_id, as_text(item.text if item else None),
                             before is None, art_id, title, old_at, new_at)
                continue
            for key in type(before).model_fields:
                old_text, new_text = as_text(getattr(before, key)), as_text(getattr(after, key))
                if old_text != new_text:
                    yield Change("article", "changed", art_id, key, old_text, new_text, art_id,
                                 title, old_at, new_at)

    def vocabularies(self) -> Iterator[Change]:
        old_v, new_v = self.old.policy.vocabularies, self.new.policy.vocabularies
        for name, before, after in _matched(old_v, new_v):
            users = self._vocabulary_users(name)
            cite = _join_cites(self.new.policy.nodes[n].cite for n in users
                               if n in self.new.policy.nodes)
            old_at = self.old.where("vocabularies", name) if before else None
            new_at = self.new.where("vocabularies", name) if after else None
            if before is None or after is None:
                labels = (before or after).labels if (before or after) else {}
                yield _whole("vocabulary", name, ", ".join(labels), before is None, cite, None,
                             old_at, new_at, users)
                continue
            for label, old_l, new_l in _matched(before.labels, after.labels):
                where_old = self.old.where("vocabularies", name, label) if old_l else None
                where_new = self.new.where("vocabularies", name, label) if new_l else None
                full = f"{name}.{label}"
                if old_l is None or new_l is None:
                    shown = (old_l or new_l or ("", None))[0]
                    yield _whole("vocabulary", full, shown, old_l is None, cite, shown,
                                 where_old, where_new, users)
                    continue
                for index, key in enumerate(("zh", "en")):
                    if old_l[index] != new_l[index]:
                        yield Change("vocabulary", "changed", full, key, old_l[index],
                                     new_l[index], cite, new_l[0], where_old, where_new, users)

    def _vocabulary_users(self, vocabulary: str) -> tuple[str, ...]:
        users = []
        for side in (self.new, self.old):
            for node in side.policy.nodes.values():
                typ = t.strip(node.type)
                typ = typ.vocabulary if isinstance(typ, t.LabelSet) else typ
                if isinstance(typ, t.Enum) and typ.name == vocabulary and \
                        node.name not in users:
                    users.append(node.name)
        return tuple(users)

    # -- parameters ---------------------------------------------------------------------------
    def parameters(self) -> Iterator[Change]:
        old_p, new_p = self.old.policy.parameters, self.new.policy.parameters
        for name, before, after in _matched(old_p, new_p):
            affects = self.new.affected(name) if after else self.old.affected(name)
            if before is None or after is None:
                item = before or after
                assert item is not None
                shown = "; ".join(_dated_text(v.start, v.until, v.value) for v in item.values)
                yield _whole("parameter", name, shown, before is None, item.cite, item.title_zh,
                             before.location if before else None,
                             after.location if after else None, affects)
                continue
            yield from self._parameter(name, before, after, affects)

    def _parameter(self, name: str, before: CheckedParameter, after: CheckedParameter,
                   affects: tuple[str, ...]) -> Iterator[Change]:
        def change(field: str, old: str | None, new: str | None,
                   old_at: Location | None = None, new_at: Location | None = None) -> Change:
            return Change("parameter", "changed", name, field, old, new, after.cite,
                          after.title_zh, old_at or before.location, new_at or after.location,
                          affects)

        old_doc = self.old.policy.document.parameters.get(name)
        new_doc = self.new.policy.document.parameters.get(name)
        simple = {"type": (str(before.type), str(after.type)),
                  "basis": (before.basis, after.basis), "cite": (before.cite, after.cite),
                  "title": (before.title_zh, after.title_zh),
                  "unit": (old_doc.unit if old_doc else None, new_doc.unit if new_doc else None)}
        for field, (old_text, new_text) in simple.items():
            if old_text != new_text:
                yield change(field, old_text, new_text)
        single = old_doc is not None and new_doc is not None and old_doc.values is None \
            and new_doc.values is None
        if single:  # `value:` holds from the policy's effective date: compare the values only
            old_only, new_only = before.values[0], after.values[0]
            if as_text(old_only.value) != as_text(new_only.value):
                yield change("value", as_text(old_only.value), as_text(new_only.value),
                             old_only.location, new_only.location)
            return
        old_by = {v.start: v for v in before.values}
        new_by = {v.start: v for v in after.values}
        for start in sorted(old_by.keys() | new_by.keys()):
            field = f"values[{start.isoformat()}]"
            old_v, new_v = old_by.get(start), new_by.get(start)
            if old_v is not None and new_v is not None:
                for key in ("value", "until", "source"):
                    old_text = as_text(getattr(old_v, key))
                    new_text = as_text(getattr(new_v, key))
                    if old_text != new_text:
                        yield change(f"{field}.{key}", old_text, new_text, old_v.location,
                                     new_v.location)
                continue
            # A dated value only one version has: the other side is what that version gives
            # on that date, so the change shows the value before and after.
            in_old = old_v if old_v is not None else before.value_on(start)
            in_new = new_v if new_v is not None else after.value_on(start)
            yield Change("parameter", "added" if old_v is None else "removed", name, field,
                         as_text(in_old.value) if in_old else None,
                         as_text(in_new.value) if in_new else None, after.cite, after.title_zh,
                         in_old.location if in_old else None,
                         in_new.location if in_new else None, affects)

    # -- definitions, decisions and their rules -----------------------------------------------
    def nodes(self) -> Iterator[Change]:
        old_n, new_n = self.old.policy.nodes, self.new.policy.nodes
        for name, before, after in _matched(old_n, new_n, self._file_order):
            affects = self.new.affected(name) if after else self.old.affected(name)
            if before is None or after is None:
                item = before or after
                assert item is not None
                yield _whole(_section(item), name, _node_text(item), before is None, item.cite,
                             item.title, before.location if before else None,
                             after.location if after else None, affects)
                continue
            yield from self._node(name, before, after, affects)

    def _file_order(self, names: Iterable[str]) -> list[str]:
        """Nodes as the new file lists them (the checked order is by dependency)."""
        position = {name: i for i, name in enumerate(_declared(self.new.policy))}
        position_old = {name: i for i, name in enumerate(_declared(self.old.policy))}
        return sorted(names, key=lambda n: (position.get(n, len(position)),
                                            position_old.get(n, 0)))

    def _node(self, name: str, before: CheckedNode, after: CheckedNode,
              affects: tuple[str, ...]) -> Iterator[Change]:
        section = _section(after)

        def change(field: str, old: str | None, new: str | None, kind: str = "changed") -> Change:
            return Change(section, kind, name, field, old, new, after.cite, after.title,
                          before.location, after.location, affects)

        old_spec, new_spec = _spec(self.old.policy, name), _spec(self.new.policy, name)
        pairs: dict[str, tuple[str | None, str | None]] = {
            "kind": (before.kind, after.kind),
            "cite": (before.cite, after.cite), "basis": (before.basis, after.basis),
            "title": (before.title, after.title),
            "output": (_output(self.old.policy, name), _output(self.new.policy, name)),
            "emit_label": (as_text(getattr(old_spec, "emit_label", None)),
                           as_text(getattr(new_spec, "emit_label", None))),
            "otherwise": (before.otherwise, after.otherwise),
        }
        if before.kind not in ("definition", "value"):
            pairs["type"] = (str(before.type), str(after.type))  # declared, not inferred
        for field, (old_text, new_text) in pairs.items():
            if old_text != new_text:
                yield change(field, old_text, new_text)
        for field, old_e, new_e in (("expr", before.expr, after.expr),
                                    ("when", before.when, after.when)):
            if self.old.canonical(old_e) != self.new.canonical(new_e):
                yield change(field, _expr_text(old_e), _expr_text(new_e))
        yield from self._rules(name, before, after, affects)

    def _rules(self, name: str, before: CheckedNode, after: CheckedNode,
               affects: tuple[str, ...]) -> Iterator[Change]:
        old_r = {r.id: r for r in before.rules}
        new_r = {r.id: r for r in after.rules}
        for rule_id, old_rule, new_rule in _matched(old_r, new_r):
            if old_rule is None or new_rule is None:
                rule = old_rule or new_rule
                assert rule is not None
                yield _whole("rule", rule_id, _rule_text(rule), old_rule is None, rule.cite,
                             rule.title, old_rule.location if old_rule else None,
                             new_rule.location if new_rule else None, affects)
                continue
            pairs = {
                "when": (_expr_text(old_rule.when), _expr_text(new_rule.when)),
                "then" if after.kind == "first_match" else "add":
                    (_labels(before, old_rule), _labels(after, new_rule)),
                "cite": (old_rule.cite, new_rule.cite), "basis": (old_rule.basis, new_rule.basis),
                "title": (old_rule.title, new_rule.title),
            }
            same_when = self.old.canonical(old_rule.when) == self.new.canonical(new_rule.when)
            for field, (old_text, new_text) in pairs.items():
                if (field == "when" and not same_when) or (field != "when" and
                                                           old_text != new_text):
                    yield Change("rule", "changed", rule_id, field, old_text, new_text,
                                 new_rule.cite, new_rule.title, old_rule.location,
                                 new_rule.location, affects)
        if after.kind == "first_match" and before.kind == "first_match":
            common_old = [r.id for r in before.rules if r.id in new_r]
            common_new = [r.id for r in after.rules if r.id in old_r]
            if common_old != common_new:  # the first rule that holds decides: order matters
                yield Change(_section(after), "reordered", name, "rules", ", ".join(common_old),
                             ", ".join(common_new), after.cite, after.title, before.location,
                             after.location, affects)

    # -- procedure, duties, calendar ----------------------------------------------------------
    def steps(self) -> Iterator[Change]:
        old_s = {s.name: s for s in self.old.policy.steps}
        new_s = {s.name: s for s in self.new.policy.steps}
        for name, before, after in _matched(old_s, new_s):
            if before is None or after is None:
                step = before or after
                assert step is not None
                yield _whole("step", name, _expr_text(step.due), before is None, step.cite,
                             step.title_zh, before.location if before else None,
                             after.location if after else None)
                continue
            yield from self._step(name, before, after)

    def _step(self, name: str, before: CheckedStep, after: CheckedStep) -> Iterator[Change]:
        pairs = {"kind": (before.kind, after.kind), "title": (before.title_zh, after.title_zh),
                 "cite": (before.cite, after.cite), "basis": (before.basis, after.basis)}
        changed: list[tuple[str, str | None, str | None]] = [
            (f, o, n) for f, (o, n) in pairs.items() if o != n]
        for field, old_e, new_e in (("when", before.when, after.when),
                                    ("due", before.due, after.due),
                                    ("done", before.done, after.done)):
            if self.old.canonical(old_e) != self.new.canonical(new_e):
                changed.append((field, _expr_text(old_e), _expr_text(new_e)))
        for field, old_text, new_text in changed:
            yield Change("step", "changed", name, field, old_text, new_text, after.cite,
                         after.title_zh, before.location, after.location)

    def warnings(self) -> Iterator[Change]:
        """Data-consistency rules added, removed or changed (code, condition, field, ...)."""
        old_w = {w.id: w for w in self.old.policy.warnings}
        new_w = {w.id: w for w in self.new.policy.warnings}
        for name, before, after in _matched(old_w, new_w):
            if before is None or after is None:
                rule = before or after
                assert rule is not None
                yield _whole("warning", name, _expr_text(rule.when), before is None, rule.cite,
                             rule.title_zh, before.location if before else None,
                             after.location if after else None)
                continue
            pairs = {"code": (before.code, after.code), "title": (before.title_zh,
                                                                  after.title_zh),
                     "cite": (before.cite, after.cite), "basis": (before.basis, after.basis),
                     "field": (before.field, after.field),
                     "for": (before.var and f"{before.var} in {before.iterable}",
                             after.var and f"{after.var} in {after.iterable}")}
            changed = [(f, o, n) for f, (o, n) in pairs.items() if o != n]
            if self.old.canonical(before.when) != self.new.canonical(after.when):
                changed.append(("when", _expr_text(before.when), _expr_text(after.when)))
            for field, old_text, new_text in changed:
                yield Change("warning", "changed", name, field, old_text, new_text, after.cite,
                             after.title_zh, before.location, after.location)

    def duties(self) -> Iterator[Change]:
        old_d, new_d = self.old.policy.document.duties, self.new.policy.document.duties
        for name, before, after in _matched(old_d, new_d):
            old_at = self.old.where("duties", name) if before else None
            new_at = self.new.where("duties", name) if after else None
            if before is None or after is None:
                duty = before or after
                assert duty is not None
                yield _whole("duty", name, duty.frequency, before is None, duty.cite,
                             localized(duty.title, "zh"), old_at, new_at)
                continue
            for key in type(before).model_fields:
                old_text, new_text = as_text(getattr(before, key)), as_text(getattr(after, key))
                if old_text != new_text:
                    yield Change("duty", "changed", name, key, old_text, new_text, after.cite,
                                 localized(after.title, "zh"), old_at, new_at)

    def calendar(self) -> Iterator[Change]:
        old_y = self.old.policy.document.calendar.years
        new_y = self.new.policy.document.calendar.years
        for year in sorted(old_y.keys() | new_y.keys()):
            before, after = old_y.get(year), new_y.get(year)
            old_at = self.old.where("calendar", "years", year) if before else None
            new_at = self.new.where("calendar", "years", year) if after else None
            for key in ("rest_days", "working_days", "source"):
                old_value = getattr(before, key) if before else None
                new_value = getattr(after, key) if after else None
                if isinstance(old_value, list) or isinstance(new_value, list):
                    old_value = sorted(old_value or [])
                    new_value = sorted(new_value or [])
                old_text, new_text = as_text(old_value), as_text(new_value)
                if old_text != new_text:
                    cite = (after.source if after else None) or (before.source if before else None)
                    yield Change("calendar", "changed", str(year), key, old_text or None,
                                 new_text or None, cite, None, old_at, new_at)


# -- helpers ----------------------------------------------------------------------------------
def _matched(old: Mapping[str, Any], new: Mapping[str, Any],
             order: Callable[[Iterable[str]], list[str]] | None = None,
             ) -> Iterator[tuple[str, Any, Any]]:
    """(key, old item or None, new item or None) for every key of either, new file's order first
    and then what only the old file has."""
    keys = list(new) + [k for k in old if k not in new]
    if order is not None:
        keys = order(keys)
    for key in keys:
        yield key, old.get(key), new.get(key)


def _whole(section: str, name: str, shown: str | None, added: bool, cite: str | None,
           title: str | None, old_at: Location | None, new_at: Location | None,
           affects: tuple[str, ...] = ()) -> Change:
    """An item only one version has: its content on that version's side."""
    if added:
        return Change(section, "added", name, None, None, shown, cite, title, old_at, new_at,
                      affects)
    return Change(section, "removed", name, None, shown, None, cite, title, old_at, new_at,
                  affects)


def _section(node: CheckedNode) -> str:
    return "definition" if node.kind == "definition" else "decision"


def _declared(policy: CheckedPolicy) -> list[str]:
    doc = policy.document
    names = list(doc.definitions)
    for name, spec in doc.decisions.items():
        names.append(name)
        names.extend(f"{name}.{f}" for f in getattr(spec, "fields", {}))
    return names


def _spec(policy: CheckedPolicy, name: str) -> Any:
    head, _, field = name.partition(".")
    spec = policy.document.decisions.get(head)
    if field and spec is not None:
        return getattr(spec, "fields", {}).get(field)
    return spec


def _output(policy: CheckedPolicy, name: str) -> str | None:
    return policy.output_name(name) if name in policy.document.decisions else None


def _expr_text(expr: CheckedExpr | None) -> str | None:
    return None if expr is None else " ".join(expr.text.split())


def _labels(node: CheckedNode, rule: CheckedRule) -> str | None:
    if node.kind == "first_match":
        return rule.label
    return ", ".join(sorted(rule.labels))


def _rule_text(rule: CheckedRule) -> str:
    labels = rule.label if rule.label is not None and len(rule.labels) <= 1 \
        else ", ".join(rule.labels)
    return f"when {_expr_text(rule.when)} → {labels}"


def _node_text(node: CheckedNode) -> str | None:
    if node.expr is not None:
        return _expr_text(node.expr)
    if node.rules:
        return "; ".join(_rule_text(r) for r in node.rules)
    if node.fields:
        return "fields: " + ", ".join(node.fields)
    return None


def _dated_text(start: Any, until: Any, value: Any) -> str:
    span = f"{as_text(start)}…{as_text(until) or ''}"
    return f"{as_text(value)} ({span})"


def _join_cites(cites: Iterable[str | None]) -> str | None:
    seen: list[str] = []
    for cite in cites:
        for part in (cite or "").replace("，", ",").replace("、", ",").split(","):
            part = part.strip()
            if part and part not in seen:
                seen.append(part)
    return ", ".join(seen) or None
