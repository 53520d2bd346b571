"""What the explorer shows, as plain data read from a checked policy.

Every parameter, definition, decision, rule, warning, procedure step and duty becomes an `Item`
under each article it cites (one citing no article goes under "other"). The names an item's
expressions read come from the checked expressions' trees, so "used by" is the checker's
knowledge, not a text search. A county policy is read merged (the effective policy), with
`audit.effective.describe` saying what each value overrides and which rules are the county's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from fangpin_rules.audit.effective import describe
from fangpin_rules.checker.checked import CheckedExpr, CheckedPolicy
from fangpin_rules.language import ast
from fangpin_rules.policy.document import LocalizedText

ARTICLE_MARK = re.compile(r"§\s*(\d{1,2})")
OTHER = "other"  # the section of items whose citation names no article


@dataclass(frozen=True)
class Text:
    """A text in Chinese and, when the policy gives it, English."""

    zh: str
    en: str | None = None

    @staticmethod
    def of(text: LocalizedText | None, fallback: str = "") -> Text:
        if text is None:
            return Text(fallback)
        if isinstance(text, str):
            return Text(text)
        return Text(text.zh, text.en)


@dataclass
class Item:
    kind: str  # parameter | definition | decision | field | rule | warning | step | duty
    name: str
    anchor: str
    title: Text
    cite: str | None
    basis: str
    where: str  # file:line
    code: list[tuple[str, str]] = field(default_factory=list)  # (label, expression text)
    reads: set[str] = field(default_factory=set)  # names (keys of Explorer.anchors) it reads
    origin: str | None = None  # county: "added" or "replaces file:line"
    note: str | None = None
    parent: str | None = None  # a rule's decision, a field's object
    values: list[dict[str, Any]] = field(default_factory=list)  # parameters: dated values
    bounds: list[dict[str, Any]] = field(default_factory=list)

    @property
    def articles(self) -> list[str]:
        marks = [f"§{n}" for n in ARTICLE_MARK.findall(self.cite or "")]
        return list(dict.fromkeys(marks)) or [OTHER]


@dataclass(frozen=True)
class Article:
    key: str
    anchor: str
    section: str | None
    title: Text
    text: Text | None


@dataclass
class Explorer:
    """One policy's site: its metadata, articles, items, and who reads what."""

    policy_id: str
    title: Text
    document: str | None
    effective: str
    path: str
    sha256: str
    chain: list[dict[str, Any]]
    articles: list[Article]
    items: list[Item]
    anchors: dict[str, str]  # a name an expression may read -> the anchor of its item
    used_by: dict[str, list[str]]  # name -> anchors of the items that read it

    def items_of(self, article: str) -> list[Item]:
        return [item for item in self.items if article in item.articles]


def anchor(kind: str, name: str) -> str:
    # Anchors are ids in one page: the kind keeps a rule and a decision of one name apart.
    return f"{kind}-{name}"


def expression_names(expr: CheckedExpr | None) -> set[str]:
    """The names an expression reads: plain names, and `a.b` paths (object fields, `steps.x`)."""
    names: set[str] = set()
    if expr is None:
        return names
    pending: list[ast.Expr] = [expr.tree]
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            names.add(f"{node.value.id}.{node.attr}")
        pending.extend(ast.children(node))
    return names


def _where(location: Any) -> str:
    return f"{location.file}:{location.line}"


def _node_spec(checked: CheckedPolicy, name: str) -> Any:
    document = checked.document
    if name in document.definitions:
        return document.definitions[name]
    head, *rest = name.split(".")
    spec: Any = document.decisions.get(head)
    for part in rest:
        spec = getattr(spec, "fields", {}).get(part)
    return spec


def collect(checked: CheckedPolicy) -> Explorer:
    """The explorer's content for a checked policy (a county's: its effective policy)."""
    described = describe(checked)
    document = checked.document
    items: list[Item] = []
    anchors: dict[str, str] = {}

    values_of = {p["name"]: p for p in described["parameters"]}
    for name, param in checked.parameters.items():
        item = Item("parameter", name, anchor("parameter", name),
                    Text(param.title_zh, param.title_en), param.cite, param.basis,
                    _where(param.location),
                    note=getattr(document.parameters.get(name), "note", None))
        item.values = values_of[name]["values"]
        item.bounds = values_of[name]["bounds"]
        for value in param.values:
            if value.formula is not None:
                item.reads |= set(value.formula.names)
        items.append(item)
        anchors[name] = item.anchor

    rule_origin = {rule["id"]: rule for decision in described["decisions"]
                   for rule in decision["rules"]}
    replaced_definitions = {d["name"]: d for d in described["replaced_definitions"]}
    for name in checked.order:
        node = checked.nodes[name]
        spec = _node_spec(checked, name)
        kind = "definition" if node.kind == "definition" else \
            "field" if node.parent else "decision"
        item = Item(kind, name, anchor("name", name),
                    Text.of(getattr(spec, "title", None), node.title or name),
                    node.cite, node.basis, _where(node.location),
                    note=getattr(spec, "note", None), parent=node.parent)
        if node.expr is not None:
            item.code.append(("=", node.expr.text))
            item.reads |= expression_names(node.expr)
        if node.when is not None:
            item.code.append(("when", node.when.text))
            item.reads |= expression_names(node.when)
        if node.otherwise:
            item.code.append(("otherwise", node.otherwise))
        if name in replaced_definitions:
            replaced = replaced_definitions[name]["replaces"]
            item.origin = f"replaces {replaced['file']}:{replaced['line']}"
        items.append(item)
        anchors[name] = item.anchor
        rule_specs = {rule.id: rule for rule in getattr(spec, "rules", None) or ()}
        for rule in node.rules:
            rule_spec = rule_specs.get(rule.id)
            entry = Item("rule", rule.id, anchor("rule", rule.id),
                         Text.of(getattr(rule_spec, "title", None), rule.title or rule.id),
                         rule.cite, rule.basis, _where(rule.location),
                         note=getattr(rule_spec, "note", None), parent=name)
            entry.code.append(("when", rule.when.text))
            if rule.labels:
                entry.code.append(("then" if node.kind == "first_match" else "add",
                                   ", ".join(rule.labels)))
            entry.reads = expression_names(rule.when)
            origin = rule_origin.get(rule.id, {})
            if origin.get("origin") == "added":
                entry.origin = "added"
            elif origin.get("origin") == "replaces":
                entry.origin = f"replaces {origin['replaces']['file']}:" \
                               f"{origin['replaces']['line']}"
            items.append(entry)
            anchors[rule.id] = entry.anchor

    for warning in checked.warnings:
        item = Item("warning", warning.id, anchor("warning", warning.id),
                    Text(warning.title_zh, warning.title_en), warning.cite, warning.basis,
                    _where(warning.location))
        item.code = [("code", warning.code), ("field", warning.field)]
        if warning.var:
            item.code.append(("for", f"{warning.var} in {warning.iterable}"))
        item.code.append(("when", warning.when.text))
        item.reads = expression_names(warning.when)
        items.append(item)

    for step in checked.steps:
        step_spec = document.procedure.get(step.name)
        item = Item("step", step.name, anchor("step", step.name),
                    Text(step.title_zh, step.title_en), step.cite, step.basis,
                    _where(step.location), note=getattr(step_spec, "note", None))
        for label, expr in (("when", step.when), ("due", step.due), ("done", step.done)):
            if expr is not None:
                item.code.append((label, expr.text))
                item.reads |= expression_names(expr)
        items.append(item)
        anchors[f"steps.{step.name}"] = item.anchor

    for name, duty in document.duties.items():
        item = Item("duty", name, anchor("duty", name), Text.of(duty.title), duty.cite,
                    duty.basis, checked.path, note=duty.text)
        item.code.append(("frequency", duty.frequency))
        items.append(item)

    used_by: dict[str, list[str]] = {}
    for item in items:
        for name in sorted(item.reads):
            if name in anchors and anchors[name] != item.anchor:
                used_by.setdefault(name, []).append(item.anchor)

    articles = [Article(key, "article-" + key.lstrip("§"), article.section,
                        Text.of(article.title, key),
                        Text(article.text, article.text_en) if article.text else None)
                for key, article in document.articles.items()]
    known = {article.key for article in articles}
    cited = {mark for item in items for mark in item.articles}
    for key in sorted(cited - known - {OTHER}, key=_article_order):
        articles.append(Article(key, "article-" + key.lstrip("§"), None, Text(key), None))
    if OTHER in cited:
        articles.append(Article(OTHER, "article-other", None,
                                Text("未注明条款", "Not tied to an article"), None))

    meta = document.policy
    return Explorer(
        policy_id=meta.id, title=Text.of(meta.title), document=meta.document,
        effective=meta.effective.isoformat(), path=checked.path, sha256=checked.sha256,
        chain=described["chain"], articles=articles, items=items, anchors=anchors,
        used_by=used_by)


def _article_order(key: str) -> int:
    match = ARTICLE_MARK.search(key)
    return int(match.group(1)) if match else 0
