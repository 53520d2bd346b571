"""The account as text for an officer: each decision, the rule behind it with the values it
compared, the article cited, and at the end the articles' own words and the unknown inputs."""

from __future__ import annotations

from typing import Any

_HEAD = {
    "zh": {"household": "农户", "as_of": "评估日期", "policy": "政策", "parameters": "适用参数",
           "from": "起", "rule": "规则", "otherwise": "以上规则均不适用", "articles": "条文",
           "unknown": "以下输入未知（请核实）", "interpretation": "本项目解释",
           "law": "法律规定",
           "no_text": "（政策文件未载原文）", "met": "成立", "failed": "不成立",
           "because": "依据", "deadlines": "办理时限", "due": "应于", "done": "完成于",
           "not_done": "尚未完成", "case": "案件",
           "pending": "待办", "overdue": "已逾期", "on_time": "按时", "late": "逾期完成",
           "too_short": "公示时间不足", "too_early": "早于应有日期",
           "not_started": "尚未开始（无时限）", "no_notice": "未经公示即标注",
           "status_unknown": "无法确定",
           "working_days": "个工作日", "warnings": "数据核查提示（不影响认定，请核实所指字段）",
           "field": "字段", "carried": "注意（沿用往年数值）"},
    "en": {"household": "Household", "as_of": "as of", "policy": "policy",
           "parameters": "Parameters in force", "from": "from", "rule": "rule",
           "otherwise": "no rule applies", "articles": "Articles",
           "unknown": "Unknown inputs (please check)", "interpretation": "interpretation",
           "law": "by law",
           "no_text": "(the policy file does not carry its text)", "met": "holds",
           "failed": "fails", "because": "by", "deadlines": "Deadlines", "due": "due",
           "done": "done", "not_done": "not done", "case": "case",
           "pending": "pending", "overdue": "OVERDUE", "on_time": "on time", "late": "LATE",
           "too_short": "TOO SHORT", "too_early": "TOO EARLY",
           "not_started": "not started (no deadline)", "no_notice": "NO NOTICE before marking",
           "status_unknown": "unknown",
           "working_days": "working days",
           "warnings": "Data checks (the decision stands; check the field named)",
           "field": "field", "carried": "WARNING (a figure carried forward)"},
}


def render_text(account: dict[str, Any]) -> str:
    words = _HEAD[account["lang"]]
    policy = account["policy"]
    lines = [f"{words['household']} {account['household_id']} · {words['as_of']} "
             f"{account['as_of']} · {words['policy']} {policy['id']}"
             + (f"（{policy['document']}）" if policy.get("document") else ""),
             ""]
    for notice in account.get("carried_forward", ()):
        lines.append(f"{words['carried']}: {notice['message']}")
    if account.get("carried_forward"):
        lines.append("")
    lines.append(words["parameters"] + ":")
    for param in account["parameters"]:
        basis = _basis(param["basis"], words)
        since = (f"{words['from']} {param['from']}" if account["lang"] == "en"
                 else f"{param['from']} {words['from']}")  # from 2021-06-04 / 2021-06-04 起
        lines.append(f"  {param['title']} {param['display']} ({param['cite']}, {since}{basis})")
    for decision in account["decisions"]:
        lines.append("")
        lines.extend(_decision(decision, words, 0))
    if account.get("deadlines"):
        lines.append("")
        lines.append(words["deadlines"] + ":")
        lines.extend(_deadline(step, words) for step in account["deadlines"])
    if account.get("warnings"):
        lines.append("")
        lines.append(words["warnings"] + ":")
        lines.extend(f"  {w['title']} [{w['cite']}]: {words['field']} {w['field_words']}"
                     for w in account["warnings"])
    if account["unknown_inputs"]:
        lines.append("")
        lines.append(words["unknown"] + ":")
        lines.extend(f"  {u['label']} ({u['input']})" for u in account["unknown_inputs"])
    lines.append("")
    lines.append(words["articles"] + ":")
    for article in account["articles"]:
        title = f" {article['title']}" if article["title"] else ""
        text = (article["text"] or words["no_text"]).replace("\n", "\n      ")
        lines.append(f"  {article['cite']}{title}: {text}")
    return "\n".join(lines) + "\n"


def _deadline(step: dict[str, Any], words: dict[str, str]) -> str:
    due = step["due"].isoformat() if step["due"] else "—"
    done = f"{words['done']} {step['done'].isoformat()}" if step["done"] else words["not_done"]
    status = words.get(step["status"]) if step["status"] != "unknown" else None
    status = status or words["status_unknown"]
    if step["late_working_days"]:
        status += f" ({step['late_working_days']} {words['working_days']})"
    if step.get("reason"):
        status += f" ({step['reason']})"
    case = f"  [{words['case']} {step['case_id']}]" if step["case_id"] else ""
    return f"  {step['title']} [{step['cite']}]: {words['due']} {due} · {done} · {status}{case}"


def _decision(decision: dict[str, Any], words: dict[str, str], depth: int) -> list[str]:
    pad = "  " * depth
    cite = f"  [{decision['cite']}{_basis(decision.get('basis'), words)}]" \
        if decision.get("cite") else ""
    shown = f": {decision['display']}" if decision["display"] else ""
    lines = [f"{pad}■ {decision['title']}{shown}{cite}"]
    rules = decision.get("rules")
    if rules is not None:
        applied = [r for r in rules if r["result"]]
        for rule in applied or rules:
            lines.extend(_rule(rule, words, pad + "  "))
        if decision.get("otherwise"):
            lines.append(f"{pad}  → {words['otherwise']}")
    elif "fields" in decision:
        for term in decision.get("when", []):
            lines.append(f"{pad}  {_mark(term['value'])} {term['text']}")
        for field in decision["fields"]:
            lines.extend(_decision(field, words, depth + 1))
    elif "computed" in decision:
        lines.append(f"{pad}  = {decision['computed']}")
    return lines


def _rule(rule: dict[str, Any], words: dict[str, str], pad: str) -> list[str]:
    basis = _basis(rule["basis"], words)
    verdict = words["met"] if rule["result"] else words["failed"]
    outcome = [o for o in rule.get("outcome", []) if o is not None]
    shown = rule.get("title") or ("、" if words is _HEAD["zh"] else ", ").join(outcome)
    title = f": {shown}" if shown else ""
    lines = [f"{pad}{words['because']} {words['rule']} {rule['id']} ({rule['cite']}{basis}) "
             f"{verdict}{title}"]
    lines.extend(f"{pad}  {_mark(term['value'])} {term['text']}" for term in rule["conditions"])
    return lines


def _basis(basis: str | None, words: dict[str, str]) -> str:
    """The mark of a reading that is not the document's own words."""
    return f", {words[basis]}" if basis in ("interpretation", "law") else ""


def _mark(value: Any) -> str:
    if value is None:
        return "·"
    return "✓" if value else "✗"
