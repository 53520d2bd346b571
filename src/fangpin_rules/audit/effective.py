"""The effective policy as plain data: the chain of files, every parameter's bounds and dated
values (file:line, and what an override replaced), and every rule with its origin (the base's,
added, or replacing a base rule). `fangpin show` prints it; the decision service answers
`GET /v1/policies/{id}` with it.
"""

from __future__ import annotations

from typing import Any


def _where(loc: Any) -> dict[str, Any]:
    return {"file": loc.file, "line": loc.line}


def describe(checked: Any) -> dict[str, Any]:
    """The effective policy as plain data (what `show --format json` prints)."""
    inheritance = checked.inheritance
    meta = checked.document.policy
    chain = [{"path": link.path, "id": link.id, "sha256": link.sha256}
             for link in (inheritance.chain if inheritance else ())]
    parameters = []
    for name, param in checked.parameters.items():
        values = []
        for value in param.values:
            override = inheritance.parameter_override(name, value.location.file) \
                if inheritance else None
            item: dict[str, Any] = {"from": value.start, "until": value.until,
                                    **_where(value.location)}
            if value.formula is not None:
                item["formula"] = value.formula.text
            else:
                item["value"] = value.value
            if value.source:
                item["source"] = value.source
            if override is not None:
                base = override.base_value_on(value.start)
                if base is not None:
                    item["overrides"] = {"value": base.value, **_where(base.location)}
            values.append(item)
        parameters.append({
            "name": name, "type": str(param.type), "title": param.title_zh, "cite": param.cite,
            "basis": param.basis, **_where(param.location),
            "bounds": [{"kind": b.kind, "value": b.value, **_where(b.location)}
                       for b in param.bounds],
            "values": values})
    replaced = {o.name: o for o in (inheritance.overrides if inheritance else ())
                if o.kind == "rule"}
    added = {a.rule_id for a in (inheritance.additions if inheritance else ())}
    decisions = []
    for name in checked.order:
        node = checked.nodes[name]
        if not node.rules:
            continue
        rules = []
        for rule in node.rules:
            entry: dict[str, Any] = {"id": rule.id, **_where(rule.location), "origin": "base"}
            if rule.id in replaced:
                entry["origin"] = "replaces"
                entry["replaces"] = _where(replaced[rule.id].replaces)
            elif rule.id in added:
                entry["origin"] = "added"
            rules.append(entry)
        decisions.append({"name": name, "kind": node.kind, "rules": rules})
    definitions = [{"name": o.name, **_where(o.location), "replaces": _where(o.replaces)}
                   for o in (inheritance.overrides if inheritance else ())
                   if o.kind == "definition"]
    return {"policy": {"id": meta.id, "effective": meta.effective, "path": checked.path,
                       "sha256": checked.sha256},
            "chain": chain, "parameters": parameters, "replaced_definitions": definitions,
            "decisions": decisions}
