"""One household's decision, told from its trace: each decision, the rule that made it, the
values that rule compared ("人均纯收入 5,800 元 < 监测范围 7,152 元"), the article behind it
with its own words, and the inputs that were unknown.

Nothing is recomputed here: every value shown is one the traced evaluator recorded (a node's
value, a parameter in force, a condition part) or an input of the record.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from fangpin_rules.checker.checked import CheckedPolicy, CheckedRule
from fangpin_rules.engine import Policy
from fangpin_rules.engine.policy import CaseInput
from fangpin_rules.explain.labels import (
    INPUT_LABELS,
    MONEY_INPUTS,
    input_label,
    plain_value,
    short_title,
    word,
)
from fangpin_rules.language import ast
from fangpin_rules.language import types as t
from fangpin_rules.language.parser import unparse
from fangpin_rules.model import Household
from fangpin_rules.policy.document import localized

LANGS = ("zh", "en")
_OPS = {"==": "=", "!=": "≠", "<=": "≤", ">=": "≥", "<": "<", ">": ">"}
_ARITH = {"*": "×", "/": "÷", "+": "+", "-": "−"}


def explain(policy: Policy, record: Household | Mapping[str, Any], as_of: date | str, *,
            lang: str = "zh", cases: Iterable[CaseInput] = ()) -> dict[str, Any]:
    """The account of one household's decision (and of its cases' deadlines, when given), as a
    JSON-ready structure.

    Raises RecordError for a record outside the contract and DateError for a date the policy
    does not cover, as `Policy.evaluate` does.
    """
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {', '.join(LANGS)}, not '{lang}'")
    decision = policy.evaluate(record, as_of, explain=True, cases=cases)
    household = record if isinstance(record, Household) else Household.model_validate(record)
    return _Account(policy.checked, decision, household, lang).build()


@dataclass
class _Account:
    policy: CheckedPolicy
    decision: dict[str, Any]
    household: Household
    lang: str

    def __post_init__(self) -> None:
        trace = self.decision["trace"]
        self.header = trace[0]
        self.params = {e["name"]: e for e in trace if e["kind"] == "parameter"}
        self.nodes = {e["name"]: e for e in trace if e["kind"] in ("definition", "decision")}
        self.cited: list[str] = []
        self.bound: dict[str, str] = {}  # inside an aggregate: bound name -> the list it walks

    # -- the account --------------------------------------------------------------------------
    def build(self) -> dict[str, Any]:
        meta = self.policy.document.policy
        decisions = [self.decision_account(name) for name in self.policy.outputs]
        return {
            "household_id": self.decision["household_id"],
            "as_of": self.decision["as_of"],
            "lang": self.lang,
            "policy": {"id": meta.id, "title": localized(meta.title, self.lang),
                       "document": meta.document, "sha256": self.policy.sha256},
            "parameters": [self.parameter_account(name) for name in self.params],
            "decisions": decisions,
            "deadlines": [self.step_account(entry) for entry in self.decision["trace"]
                          if entry["kind"] == "step"],
            "warnings": self.warning_accounts(),
            "unknown_inputs": [{"input": name, "label": input_label(name, self.lang)}
                               for name in self.header["unknown_inputs"]],
            "articles": [self.article(cite) for cite in sorted(self.cited, key=_article_order)],
        }

    def step_account(self, entry: dict[str, Any]) -> dict[str, Any]:
        """A deadline: the step, its article, when it was due and done, and its status."""
        self.note_cites(entry["cite"])
        step = next(s for s in self.policy.steps
                    if entry["name"] == s.name or entry["name"].startswith(s.name + "_"))
        title = step.title_en if self.lang == "en" and step.title_en else step.title_zh
        if entry["name"] != step.name:  # visit_2021Q4: the period it is owed in
            title += " " + entry["name"][len(step.name) + 1:]
        return {"step": entry["name"], "title": title, "cite": entry["cite"],
                "basis": entry["basis"], "due": entry["due"], "done": entry["done"],
                "status": entry["status"], "late_working_days": entry["late_working_days"],
                "case_id": entry["case_id"], "due_expr": entry["due_expr"],
                "reason": entry.get("reason")}

    def warning_accounts(self) -> list[dict[str, Any]]:
        """Each data-consistency warning that holds: its rule's title, the field to check and
        the article (§18), in the order of the decision's `warnings`."""
        rules = {e["name"]: e for e in self.decision["trace"] if e["kind"] == "warning"}
        out: list[dict[str, Any]] = []
        for rule in self.policy.warnings:
            entry = rules.get(rule.id)
            if entry is None or not entry["value"]:
                continue
            self.note_cites(rule.cite)
            title = rule.title_en if self.lang == "en" and rule.title_en else rule.title_zh
            out.extend({"code": rule.code, "title": title, "field": field, "cite": rule.cite,
                        "basis": rule.basis} for field in entry["fields"])
        return out

    def parameter_account(self, name: str) -> dict[str, Any]:
        entry = self.params[name]
        param = self.policy.parameters[name]
        return {"name": name, "title": self.param_title(name), "value": entry["value"],
                "display": self.show(entry["value"], param.type), "from": entry["from"],
                "cite": entry["cite"], "basis": entry["basis"]}

    def decision_account(self, name: str) -> dict[str, Any]:
        node = self.policy.nodes[name]
        entry = self.nodes[name]
        account: dict[str, Any] = {
            "name": self.policy.output_name(name) if node.parent is None else name,
            "node": name, "title": self.node_title(name), "value": entry["value"],
            "display": self.show(entry["value"], node.type), "cite": node.cite,
            "basis": node.basis}
        self.note_cites(node.cite)
        if node.rules:
            account["rules"] = [self.rule_account(rule, item) for rule, item
                                in zip(node.rules, entry["rules"], strict=True)
                                if item["reached"]]
            if node.kind == "first_match" and entry.get("otherwise"):
                account["otherwise"] = True
        elif node.kind == "object":
            if node.when is not None:
                account["when"] = self.condition_account(node.when.tree, node.when.text,
                                                         entry.get("conditions", []))
            account["fields"] = [self.decision_account(f) for f in node.fields]
        elif node.expr is not None:
            account["computed"] = self.render(node.expr.tree, node.expr.text)
            if entry.get("conditions"):
                account["conditions"] = self.condition_account(
                    node.expr.tree, node.expr.text, entry["conditions"])
        return account

    def rule_account(self, rule: CheckedRule, item: dict[str, Any]) -> dict[str, Any]:
        self.note_cites(rule.cite)
        vocab = self.vocab_labels(self.policy.nodes[rule.decision].type)
        outcome = [rule.label] if rule.label is not None else list(rule.labels)
        return {"id": rule.id, "title": self.rule_title(rule), "cite": rule.cite,
                "basis": rule.basis, "result": bool(item["value"]),
                "outcome": [vocab.get(o, o) if o is not None else None for o in outcome],
                "conditions": self.condition_account(rule.when.tree, rule.when.text,
                                                     item.get("conditions", []))}

    def condition_account(self, tree: ast.Expr, text: str,
                          parts: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The condition as its top-level terms (the operands of its outermost and/or), each
        with its value: a negative decision shows which term failed."""
        recorded: dict[str, Any] = {}
        for part in parts:
            recorded.setdefault(part["expr"], part["value"])
        terms = tree.operands if isinstance(tree, ast.BoolOp) else (tree,)
        out = []
        for term in terms:
            source = text[term.span[0]:term.span[1]]
            value = recorded.get(source, self.known_value(term))
            out.append({"expr": unparse(term), "text": self.render(term, text),
                        "value": value})
        return out

    # -- values -------------------------------------------------------------------------------
    def known_value(self, node: ast.Expr) -> Any:
        """The value of a bare name the trace knows (a definition, decision or input)."""
        if isinstance(node, ast.Name):
            if node.id in self.nodes:
                return self.nodes[node.id]["value"]
            if node.id in self.params:
                return self.params[node.id]["value"]
            return getattr(self.household, node.id, None)
        if isinstance(node, ast.Not):
            inner = self.known_value(node.operand)
            return None if inner is None else not inner
        return None

    def render(self, node: ast.Expr, text: str) -> str:
        """An expression in words with the values substituted: names become 'label value'."""
        match node:
            case ast.Aggregate(func=func, var=var, iterable=ast.Name(id=items), body=body,
                               filter=cond):
                return self.render_aggregate(func, var, items, body, cond, text)
            case ast.Attribute(value=ast.Name(id=base), attr=attr) if base in self.bound:
                return input_label(f"{self.bound[base]}[].{attr}", self.lang)
            case ast.Call(func="age", args=(ast.Attribute(value=ast.Name(id=base),
                                                          attr="birth_date"),)) \
                    if base in self.bound:
                return "成员年龄" if self.lang == "zh" else "a member's age"
            case ast.Name(id=name):
                return self.name_with_value(name)
            case ast.Attribute(value=ast.Name(id=base), attr=attr):
                full = f"{base}.{attr}"
                if full in self.nodes:
                    return self.name_with_value(full)
                if full in INPUT_LABELS:
                    value = _input(self.household, full)
                    money = full in MONEY_INPUTS
                    return f"{input_label(full, self.lang)} {self.plain(value, money=money)}"
                return unparse(node)
            case ast.String(value=value):
                return self.label_anywhere(value)
            case ast.Bool(value=value):
                return word("yes" if value else "no", self.lang)
            case ast.Null():
                return word("none", self.lang)
            case ast.ListLit(items=items):
                sep = ", " if self.lang == "en" else "、"
                return "[" + sep.join(self.render(i, text) for i in items) + "]"
            case ast.Number():
                return self.plain(node.value)
            case ast.Compare(op=op, left=left, right=right):
                return f"{self.render(left, text)} {_OPS[op]} {self.render(right, text)}"
            case ast.Contains(item=item, container=container, negated=negated):
                sign = "∉" if negated else "∈"
                return f"{self.render(item, text)} {sign} {self.render(container, text)}"
            case ast.BinOp(op=op, left=left, right=right):
                return (f"{self.render_operand(left, text)} {_ARITH[op]} "
                        f"{self.render_operand(right, text)}")
            case ast.Coalesce(left=left):
                return self.render(left, text)
            case ast.Not(operand=operand):
                return f"{word('not', self.lang)}（{self.render(operand, text)}）" \
                    if self.lang == "zh" else f"not ({self.render(operand, text)})"
            case ast.BoolOp(op=op, operands=operands):
                joiner = f" {word(op, self.lang)} "
                return joiner.join(self.render_operand(o, text) for o in operands)
        return unparse(node)

    def render_aggregate(self, func: str, var: str, items: str, body: ast.Expr,
                         cond: ast.Expr | None, text: str) -> str:
        """`any(m.health == "serious_illness" for m in members)` -> 有家庭成员满足：成员健康状况
        = 大病重病患者 / some of members: a member's health = serious illness."""
        self.bound[var] = items
        try:
            what = self.render(body, text)
            where = self.render(cond, text) if cond is not None else None
        finally:
            del self.bound[var]
        group = input_label(items, self.lang)
        if self.lang == "zh":
            among = f"{group}中（{where}）" if where else group
            phrases = {"any": f"有{among}满足：{what}", "all": f"{among}均满足：{what}",
                       "count": f"{among}中满足「{what}」的人数", "sum": f"{among}的{what}之和",
                       "min": f"{among}的{what}最小值", "max": f"{among}的{what}最大值"}
        else:
            among = f"{group} where {where}" if where else group
            phrases = {"any": f"some of {among}: {what}", "all": f"all of {among}: {what}",
                       "count": f"how many of {among}: {what}",
                       "sum": f"sum over {among} of {what}",
                       "min": f"least over {among} of {what}",
                       "max": f"greatest over {among} of {what}"}
        return phrases[func]

    def render_operand(self, node: ast.Expr, text: str) -> str:
        inner = self.render(node, text)
        if isinstance(node, ast.BinOp | ast.BoolOp | ast.IfExpr):
            return f"({inner})"
        return inner

    def name_with_value(self, name: str) -> str:
        if name in self.params:
            param = self.policy.parameters[name]
            return f"{self.param_title(name)} {self.show(self.params[name]['value'], param.type)}"
        if name in self.nodes:
            node = self.policy.nodes[name]
            return f"{self.node_title(name)} {self.show(self.nodes[name]['value'], node.type)}"
        if name == "as_of":
            return str(self.decision["as_of"])
        value = getattr(self.household, name, None)
        if isinstance(value, list):
            return input_label(name, self.lang)
        return f"{input_label(name, self.lang)} {self.plain(value, money=name in MONEY_INPUTS)}"

    def show(self, value: Any, type_: t.Type) -> str:
        """A computed value: null is 'none' (no category), not 'unknown' as for an input."""
        base = t.strip(type_)
        if value is None:
            return word("none", self.lang)
        if isinstance(value, dict):
            return ""  # an object decision: its fields follow
        return plain_value(value, self.lang, self.vocab_labels(base), money=base == t.MONEY)

    def plain(self, value: Any, money: bool = False) -> str:
        return plain_value(value, self.lang, {}, money=money)

    def vocab_labels(self, type_: t.Type) -> dict[str, str]:
        if isinstance(type_, t.LabelSet):
            type_ = type_.vocabulary
        if isinstance(type_, t.Enum) and type_.name in self.policy.vocabularies:
            labels = self.policy.vocabularies[type_.name].labels
            return {k: (en if self.lang == "en" and en else zh) for k, (zh, en) in labels.items()}
        return {}

    def label_anywhere(self, value: str) -> str:
        for vocabulary in self.policy.vocabularies.values():
            if value in vocabulary.labels:
                zh, en = vocabulary.labels[value]
                return en if self.lang == "en" and en else zh
        return value

    # -- names and articles -------------------------------------------------------------------
    def node_title(self, name: str) -> str:
        spec = _spec(self.policy, name)
        title = localized(getattr(spec, "title", None), self.lang)
        return title or name.rpartition(".")[2]

    def param_title(self, name: str) -> str:
        param = self.policy.parameters[name]
        title = param.title_en if self.lang == "en" and param.title_en else param.title_zh
        return short_title(title)

    def rule_title(self, rule: CheckedRule) -> str | None:
        spec = _spec(self.policy, rule.decision)
        for candidate in getattr(spec, "rules", ()):
            if candidate.id == rule.id:
                return localized(candidate.title, self.lang)
        return None  # pragma: no cover - every rule is in its decision

    def note_cites(self, cite: str | None) -> None:
        for part in _cites(cite):
            if part not in self.cited:
                self.cited.append(part)

    def article(self, cite: str) -> dict[str, Any]:
        article = self.policy.document.articles.get(cite)
        if article is None:
            return {"cite": cite, "title": None, "section": None, "text": None}
        text = article.text_en if self.lang == "en" else article.text
        return {"cite": cite, "title": localized(article.title, self.lang),
                "section": article.section, "text": text}


def _article_order(cite: str) -> tuple[int, str]:
    digits = "".join(ch for ch in cite if ch.isdigit())
    return (int(digits) if digits else 0, cite)


def _cites(cite: str | None) -> list[str]:
    if not cite:
        return []
    return [c.strip() for c in cite.replace("，", ",").replace("、", ",").split(",")
            if c.strip().startswith("§")]


def _spec(policy: CheckedPolicy, name: str) -> Any:
    doc = policy.document
    if name in doc.definitions:
        return doc.definitions[name]
    head, _, field = name.partition(".")
    spec: Any = doc.decisions.get(head)
    if field and spec is not None:
        spec = spec.fields.get(field)
    return spec


def _input(household: Household, path: str) -> Any:
    value: Any = household
    for step in path.split("."):
        value = getattr(value, step, None)
    return value
