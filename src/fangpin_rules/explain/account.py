"""One household's decision, told from its trace: each decision, the rule that made it, the
values that rule compared ("人均纯收入 5,800 元 < 监测范围 7,152 元"), the article behind it
with its own words, and the inputs that were unknown.

No decision is recomputed here: every value shown is one the traced evaluator recorded (a
node's value, a parameter in force, a condition part) or an input of the record. Only the
relation between two such values is worked out, to show the one that holds (18,000 元 ≥ 7,152 元).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from fangpin_rules.checker.checked import CheckedPolicy, CheckedRule
from fangpin_rules.engine import Policy
from fangpin_rules.engine.policy import CarriedForward, CaseInput
from fangpin_rules.explain.labels import (
    INPUT_LABELS,
    MONEY_INPUTS,
    duration,
    field_words,
    has_chinese,
    input_label,
    input_value_label,
    null_means_none,
    plain_value,
    short_title,
    title_in,
    vocabulary_labels,
    word,
)
from fangpin_rules.language import ast
from fangpin_rules.language import types as t
from fangpin_rules.language.parser import unparse
from fangpin_rules.language.values import DurationValue
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
    account = _Account(policy.checked, decision, household, lang).build()
    # §2: a figure carried past its year is said once, at the top, not per decision
    account["carried_forward"] = [_carried_account(policy.checked, notice, lang)
                                  for notice in policy.carried_forward(as_of)]
    return account


def _carried_account(checked: CheckedPolicy, notice: CarriedForward, lang: str
                     ) -> dict[str, Any]:
    """A figure carried past its year, in the officer's words: the parameter by its title
    (its name stays in `parameter`), the year, the date asked and the article."""
    param = checked.parameters[notice.parameter]
    english = lang == "en" and param.title_en
    title = short_title((param.title_en if english else param.title_zh) or notice.parameter)
    if lang == "zh":
        message = (f"参数「{title}」在 {notice.as_of.isoformat()} 没有有效值，沿用 "
                   f"{notice.year} 年的值 {notice.value}（有效至 {notice.until.isoformat()}，"
                   f"{notice.cite}）；请补充该日期适用的数值，或以 --strict 拒绝该日期")
    else:
        cite = ", ".join(_english_article(checked, ref) for ref in
                         re.findall(r"§\d+", param.cite) or [param.cite])
        message = (f"parameter “{title}” has no value in force on {notice.as_of.isoformat()}: "
                   f"its {notice.year} value {notice.value} (until "
                   f"{notice.until.isoformat()}) is carried forward ({cite}); add the "
                   "value in force on that date, or --strict refuses it")
    return {"parameter": notice.parameter, "title": title, "value": notice.value,
            "year": notice.year, "until": notice.until, "as_of": notice.as_of,
            "cite": notice.cite, "message": message}


def _english_article(checked: CheckedPolicy, ref: str) -> str:
    article = checked.document.articles.get(ref)
    title = localized(article.title, "en") if article is not None else None
    return f"{ref} {title}" if title else ref


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
        self.compared_field: str | None = None  # the input a literal is compared with

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
                               for name in self.header["unknown_inputs"]
                               if not null_means_none(name, self.household)],
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
            out.extend({"code": rule.code, "title": title, "field": field,
                        "field_words": field_words(field, self.lang), "cite": rule.cite,
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
            "display": (self.object_words(name) if isinstance(entry["value"], dict)
                        else self.show(entry["value"], node.type)), "cite": node.cite,
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
        vocab = self.vocab_labels(t.strip(self.policy.nodes[rule.decision].type))
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
            # a term's mark stands before it: a comparison needs no second one after it
            shown = (self.render_compare(term.op, term.left, term.right, text, mark=False)
                     if isinstance(term, ast.Compare) else self.render(term, text))
            out.append({"expr": unparse(term), "text": shown, "value": value})
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

    def coded_input(self, path: str, value: str) -> str:
        """A coded input value in words: the contract's own labels, else the policy's
        vocabulary label (a recorded category is one of the policy's categories)."""
        shown = input_value_label(path, value, self.lang)
        return self.label_anywhere(value) if shown == value else shown

    def render(self, node: ast.Expr, text: str) -> str:
        """An expression in words with the values substituted: names become 'label value'."""
        match node:
            case ast.Aggregate(func=func, var=var, iterable=ast.Name(id=items), body=body,
                               filter=cond):
                return self.render_aggregate(func, var, items, body, cond, text)
            case ast.Attribute(value=ast.Name(id=base), attr=attr) if base in self.bound:
                self.compared_field = f"{self.bound[base]}[].{attr}"
                return self.item_label(base, input_label(self.compared_field, self.lang))
            case ast.Call(func="age", args=(ast.Attribute(value=ast.Name(id=base),
                                                          attr="birth_date"),)) \
                    if base in self.bound:
                return self.item_label(base, "成员年龄" if self.lang == "zh" else
                                       "a member's age")
            case ast.Name(id=name):
                return self.name_with_value(name)
            case ast.Attribute(value=ast.Name(id=base), attr=attr):
                full = f"{base}.{attr}"
                if full in self.nodes:
                    return self.name_with_value(full)
                if full in INPUT_LABELS:
                    value = _input(self.household, full)
                    money = full in MONEY_INPUTS
                    self.compared_field = full
                    shown = (self.coded_input(full, value) if isinstance(value, str)
                             else self.plain(value, money=money))
                    return f"{input_label(full, self.lang)} {shown}"
                return unparse(node)
            case ast.String(value=value):
                if self.compared_field is not None:
                    shown = input_value_label(self.compared_field, value, self.lang)
                    if shown != value:
                        return shown
                return self.label_anywhere(value)  # a code of the policy's vocabularies
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
                return self.render_compare(op, left, right, text)
            case ast.Call(func="count", args=(ast.Name(id=name),)) if name in self.nodes:
                return self.count_of(name)
            case ast.IfExpr(cond=cond, then=then, orelse=orelse):
                return self.render_if(cond, then, orelse, text)
            case ast.Contains(item=item, container=container, negated=negated):
                sign = "∉" if negated else "∈"
                self.compared_field = None
                shown_item = self.render(item, text)
                shown = f"{shown_item} {sign} {self.render(container, text)}"
                self.compared_field = None
                return shown
            case ast.BinOp(op=op, left=left, right=right):
                return (f"{self.render_operand(left, text)} {_ARITH[op]} "
                        f"{self.render_operand(right, text)}")
            case ast.Coalesce(left=left, right=ast.Number()):
                return self.render(left, text)  # `?? 0`: a missing amount counts as none
            case ast.Coalesce(left=left, right=right):
                if self.value_of(left) is not None:
                    return self.render(left, text)
                fallback = self.render(right, text)
                return (f"{self.render(left, text)}（未填，取 {fallback}）" if self.lang == "zh"
                        else f"{self.render(left, text)} (not given: {fallback})")
            case ast.Duration(amount=amount, unit=unit):
                return duration(DurationValue(amount, unit), self.lang)
            case ast.Not(operand=operand):
                return f"{word('not', self.lang)}（{self.render(operand, text)}）" \
                    if self.lang == "zh" else f"not ({self.render(operand, text)})"
            case ast.BoolOp(op=op, operands=operands):
                joiner = f" {word(op, self.lang)} "
                return joiner.join(self.render_operand(o, text) for o in operands)
        return unparse(node)

    def render_compare(self, op: str, left: ast.Expr, right: ast.Expr, text: str,
                       mark: bool = True) -> str:
        """`a < b` as the relation that holds between the two values, marked with whether the
        test as written holds: 家庭年人均纯收入 18,000 元 ≥ 监测范围 7,152 元 ✗."""
        self.compared_field = None
        shown_left = self.render(left, text)
        shown_right = self.render(right, text)  # a label of the field on the left, if one
        self.compared_field = None
        a, b = self.value_of(left), self.value_of(right)
        if isinstance(right, ast.Null) and op in ("==", "!="):
            held: bool | None = (a is None) == (op == "==")
        else:
            held = _compare(op, a, b)
        if held is None:
            return f"{shown_left} {_OPS[op]} {shown_right}"
        relation = _OPS[op] if held else _OPS[_NEGATED[op]]
        verdict = f" {'✓' if held else '✗'}" if mark else ""
        return f"{shown_left} {relation} {shown_right}{verdict}"

    def count_of(self, name: str) -> str:
        """`count(risks)` -> 风险类型数 2 / number of risks 2."""
        value = self.nodes[name]["value"]
        count = len(value) if isinstance(value, list | tuple | set | frozenset) else None
        shown = str(count) if count is not None else word("unknown", self.lang)
        title = self.node_title(name)
        if self.lang == "zh":
            return f"{title}数 {shown}"
        return f"number of {_lower_first(title)} {shown}"

    def render_if(self, cond: ast.Expr, then: ast.Expr, orelse: ast.Expr, text: str) -> str:
        """`if c then a else b` in words, with the branch taken."""
        held = self.value_of(cond)
        test = self.render(cond, text)
        if self.lang == "zh":
            taken = {True: "（成立）", False: "（不成立）"}.get(held, "") \
                if held is not None else ""
            return (f"若 {test}{taken}，则为 {self.render(then, text)}；"
                    f"否则为 {self.render(orelse, text)}")
        taken = {True: " (holds)", False: " (does not hold)"}.get(held, "") \
            if held is not None else ""
        return (f"when {test}{taken}: {self.render(then, text)}; "
                f"otherwise {self.render(orelse, text)}")

    def value_of(self, node: ast.Expr) -> Any:
        """The value of a simple operand from the recorded values (a name, an input field, a
        literal, a count, arithmetic over them, `a ?? b`); None when not simply known."""
        match node:
            case ast.Number():
                return node.value
            case ast.Bool(value=value):
                return value
            case ast.String(value=value):
                return value
            case ast.Name(id=name):
                if name in self.nodes:
                    return self.nodes[name]["value"]
                if name in self.params:
                    return self.params[name]["value"]
                return getattr(self.household, name, None)
            case ast.Attribute(value=ast.Name(id=base), attr=attr) if base not in self.bound:
                full = f"{base}.{attr}"
                if full in self.nodes:
                    return self.nodes[full]["value"]
                return _input(self.household, full) if full in INPUT_LABELS else None
            case ast.Call(func="count", args=(ast.Name(id=name),)) if name in self.nodes:
                value = self.nodes[name]["value"]
                return len(value) if isinstance(value, list | tuple | set | frozenset) else None
            case ast.Coalesce(left=left, right=right):
                first = self.value_of(left)
                return first if first is not None else self.value_of(right)
            case ast.BinOp(op=op, left=left, right=right) if op in "+-*":
                a, b = self.value_of(left), self.value_of(right)
                if isinstance(a, int | Decimal) and isinstance(b, int | Decimal) \
                        and not isinstance(a, bool) and not isinstance(b, bool):
                    return a + b if op == "+" else a - b if op == "-" else a * b
        return None

    def item_label(self, var: str, label: str) -> str:
        """A field of an aggregate's item; inside an aggregate nested in it, "that" item's
        (`count(n.birth_date == m.birth_date for n in members)` inside the one over `m`)."""
        if var == next(reversed(self.bound)):  # the innermost aggregate's item
            return label
        if self.lang == "zh":
            return "该" + label
        return "that " + label.removeprefix("a ")

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
            title = self.in_sentence(self.param_title(name))
            return f"{title} {self.show(self.params[name]['value'], param.type)}"
        if name in self.nodes:
            node = self.policy.nodes[name]
            title = self.in_sentence(self.node_title(name))
            value = self.nodes[name]["value"]
            if isinstance(value, dict):  # an object decision: its fields in words
                return f"{title}（{self.object_words(name)}）" if self.lang == "zh" \
                    else f"{title} ({self.object_words(name)})"
            return f"{title} {self.show(value, node.type)}"
        if name == "as_of":
            return str(self.decision["as_of"])
        value = getattr(self.household, name, None)
        if isinstance(value, list):
            return input_label(name, self.lang)
        return f"{input_label(name, self.lang)} {self.plain(value, money=name in MONEY_INPUTS)}"

    def in_sentence(self, title: str) -> str:
        return _lower_first(title) if self.lang == "en" else title

    def object_words(self, name: str) -> str:
        """A structured value in words: each field's title and value
        (帮扶干部：副科级以上干部挂钩帮扶；结对帮扶 是)."""
        node = self.policy.nodes[name]
        parts = []
        for field in node.fields:
            value = self.nodes[field]["value"] if field in self.nodes else None
            field_node = self.policy.nodes[field]
            shown = (self.object_words(field) if isinstance(value, dict)
                     else self.show(value, field_node.type))
            parts.append(f"{self.in_sentence(self.node_title(field))} {shown}")
        return ("；" if self.lang == "zh" else "; ").join(parts)

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
        return vocabulary_labels(self.policy.vocabularies, type_, self.lang)

    def label_anywhere(self, value: str) -> str:
        for vocabulary in self.policy.vocabularies.values():
            if value in vocabulary.labels:
                zh, en = vocabulary.labels[value]
                return en if self.lang == "en" and en else zh
        return value

    # -- names and articles -------------------------------------------------------------------
    def node_title(self, name: str) -> str:
        """The title in the language asked; else the other language's; else the name."""
        return title_in(getattr(_spec(self.policy, name), "title", None), self.lang, name)

    def param_title(self, name: str) -> str:
        param = self.policy.parameters[name]
        title = param.title_en if self.lang == "en" and param.title_en else param.title_zh
        return short_title(title)

    def rule_title(self, rule: CheckedRule) -> str | None:
        spec = _spec(self.policy, rule.decision)
        for candidate in getattr(spec, "rules", ()):
            if candidate.id == rule.id:
                title = localized(candidate.title, self.lang)
                if self.lang == "en" and title is not None and has_chinese(title):
                    return None  # a Chinese-only title: the English says the outcome instead
                return title
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


_NEGATED = {"<": ">=", "<=": ">", ">": "<=", ">=": "<", "==": "!=", "!=": "=="}


def _compare(op: str, a: Any, b: Any) -> bool | None:
    """Whether `a op b` holds, for two known values of one kind; None otherwise."""
    if a is None or b is None:
        return None
    numbers = (int, Decimal)
    if isinstance(a, numbers) and isinstance(b, numbers) and not (
            isinstance(a, bool) or isinstance(b, bool)):
        pass
    elif type(a) is not type(b):
        return None
    try:
        return bool({"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b, "==": a == b,
                     "!=": a != b}[op])
    except TypeError:
        return None


def _lower_first(title: str) -> str:
    """'Household size' -> 'household size' inside a sentence; 'CPI' stays."""
    if len(title) > 1 and title[0].isupper() and not title[1].isupper():
        return title[0].lower() + title[1:]
    return title


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
