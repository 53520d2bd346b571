"""The explanation of one decision: a deterministic, versioned export.

Each entry says what was decided and why, and cites the article behind it: every rule that was
evaluated with its value and the value of each part of its condition (so a negative decision
says which condition failed), the rules never reached, every parameter read with the value in
force, the date it took effect and the file and line it came from, and the inputs that were
unknown.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fangpin_rules import __version__

if TYPE_CHECKING:
    from fangpin_rules.checker.checked import CheckedPolicy
    from fangpin_rules.compiler.codegen import Part

TRACE_SCHEMA = "fangpin.trace"
TRACE_VERSION = 1


class Tracer:
    """Receives the calls of a traced evaluator and builds the trace entries."""

    def __init__(self, policy: CheckedPolicy, parts: list[Part]) -> None:
        self.policy = policy
        self.parts = parts
        self.order = policy.order
        self.pending: list[tuple[int, Any]] = []
        self.rule_results: dict[str, tuple[bool, list[tuple[int, Any]]]] = {}
        self.node_parts: dict[int, list[tuple[int, Any]]] = {}
        self.values: dict[str, Any] = {}
        self.unknown: list[str] = []
        self.current = -1
        # warning rule number -> (item index or None, condition parts) of each time it held,
        # and of the last evaluation
        self.warning_hits: dict[int, list[tuple[int | None, list[tuple[int, Any]]]]] = {}
        self.warning_last: dict[int, list[tuple[int, Any]]] = {}

    # -- calls from generated code ------------------------------------------------------------
    def begin(self, index: int) -> None:
        self.current = index
        self.pending = []

    def part(self, part_id: int, value: Any) -> Any:
        self.pending.append((part_id, value))
        return value

    def rule(self, rule_id: str, value: Any) -> Any:
        self.rule_results[rule_id] = (bool(value), self.pending)
        self.pending = []
        return value

    def warning(self, number: int, item: int | None, value: Any) -> Any:
        if value:
            self.warning_hits.setdefault(number, []).append((item, self.pending))
        self.warning_last[number] = self.pending
        self.pending = []
        return value

    def node(self, index: int, value: Any) -> None:
        self.values[self.order[index]] = value
        if self.pending:
            self.node_parts[index] = self.pending
        self.pending = []

    def read(self, name: str, value: Any) -> Any:
        if value is None and name not in self.unknown:
            self.unknown.append(name)
        return value

    # -- export -------------------------------------------------------------------------------
    def _conditions(self, recorded: list[tuple[int, Any]]) -> list[dict[str, Any]]:
        # Innermost parts are recorded first; list them outermost first, as the text reads.
        ordered = sorted(recorded, key=lambda item: (self.parts[item[0]].offset,
                                                     -len(self.parts[item[0]].text)))
        return [{"expr": self.parts[pid].text, "value": value} for pid, value in ordered]

    def step_entries(self, deadlines: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Each deadline with the rule that set it: the due and done expressions, the kind
        of step and its article."""
        steps = {step.name: step for step in self.policy.steps}
        entries = []
        for deadline in deadlines:
            name = deadline["step"]
            step = steps.get(name) or steps.get(name.rsplit("_", 1)[0])  # visit_2021Q4
            if step is None:  # pragma: no cover - every entry comes from a step
                continue
            entries.append({
                "kind": "step", "name": name, "step_kind": step.kind, "title": step.title_zh,
                "due_expr": step.due.text, "done_expr": step.done.text if step.done else None,
                "due": deadline["due"], "done": deadline["done"], "status": deadline["status"],
                "late_working_days": deadline["late_working_days"],
                "case_id": deadline["case_id"], "cite": step.cite, "basis": step.basis,
                **({"reason": deadline["reason"]} if "reason" in deadline else {})})
        return entries

    def export(self, header: dict[str, Any], parameters: dict[str, Any]) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = [{
            "kind": "header", "schema": TRACE_SCHEMA, "version": TRACE_VERSION,
            "engine": __version__, **header, "unknown_inputs": sorted(self.unknown)}]
        for name in sorted(parameters):  # by name: the file's mapping order means nothing
            entries.append({"kind": "parameter", "name": name, **parameters[name]})
        for index, name in enumerate(self.order):
            node = self.policy.nodes[name]
            entry: dict[str, Any] = {
                "kind": "definition" if node.kind == "definition" else "decision",
                "name": name, "value": self.values.get(name), "cite": node.cite,
                "basis": node.basis}
            if node.title:
                entry["title"] = node.title
            if node.parameters:
                entry["parameters"] = sorted(node.parameters)
            if node.rules:
                rules = []
                matched = False
                for rule in node.rules:
                    result = self.rule_results.get(rule.id)
                    item: dict[str, Any] = {"id": rule.id, "cite": rule.cite,
                                            "basis": rule.basis}
                    if node.kind == "first_match":
                        item["then"] = rule.label
                    else:
                        item["add"] = list(rule.labels)
                    if result is None or (node.kind == "first_match" and matched):
                        item["value"] = None
                        item["reached"] = False
                    else:
                        item["value"] = result[0]
                        item["reached"] = True
                        item["conditions"] = self._conditions(result[1])
                        matched = matched or result[0]
                    rules.append(item)
                entry["rules"] = rules
                if node.kind == "first_match" and not matched:
                    entry["otherwise"] = True
            elif index in self.node_parts:
                entry["conditions"] = self._conditions(self.node_parts[index])
            entries.append(entry)
        entries.extend(self.warning_entries())
        return entries

    def warning_entries(self) -> list[dict[str, Any]]:
        """One entry per warning rule: whether it held, the fields it points at, and the
        parts of its condition (where it held first, else its last evaluation)."""
        entries = []
        for number, rule in enumerate(self.policy.warnings):
            hits = self.warning_hits.get(number, [])
            fields = [rule.field if item is None else rule.field.replace("[]", f"[{item}]", 1)
                      for item, _ in hits]
            parts = hits[0][1] if hits else self.warning_last.get(number, [])
            entries.append({
                "kind": "warning", "name": rule.id, "code": rule.code, "title": rule.title_zh,
                "title_en": rule.title_en, "value": bool(hits), "fields": fields,
                "field": rule.field, "cite": rule.cite, "basis": rule.basis,
                "conditions": self._conditions(parts)})
        return entries
