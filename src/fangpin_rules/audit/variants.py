"""Policy variants: the old version with some of a diff's changes applied, and only those.

A change is applied on the effective located tree (the one `extends:` merges and the diff
reads), never on YAML text: the item a change is in is taken from the new version's tree and put
in place of the old one's (or added, or removed), and the tree is then validated, checked and
compiled like a file. Every node keeps the file:line it was written at, so a variant's
diagnostics and trace point into the old or the new file as the item came from either.

The unit that is applied is an *edit*: the item a change belongs to (a parameter with all its
dated values, a definition, a decision without its rules, one rule, the order of a decision's
rules (the new list as it is), a step, a data-consistency rule, a duty, an article, a
vocabulary, a calendar year, one metadata key). Two
changes of the same item (two dated values of one parameter, say) are one edit: neither can be
applied without the other.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from fangpin_rules.audit.changes import Change, PolicyDiff
from fangpin_rules.diagnostics import PolicyError
from fangpin_rules.limits import MAX_ATTRIBUTION_VARIANTS
from fangpin_rules.source import LMap, LNode, LScalar, LSeq

# A step of a path into a located tree: a mapping key, or ("id", X) for the item of a list of
# mappings whose `id:` is X (a rule).
Step = str | tuple[str, str]
Path = tuple[Step, ...]
_EXCEPT_RULES = "except-rules"  # a decision's own keys, its rules left as they are


@dataclass(frozen=True, slots=True)
class Edit:
    """One item of the new version to put into the old one, and the diff's changes in it."""

    path: Path
    mode: str | None  # _EXCEPT_RULES or None (the whole node)
    changes: tuple[int, ...]  # indices into the diff's changes

    @property
    def label(self) -> str:
        """The item as a path of the file: `parameters.monitoring_line`,
        `decisions.measures.rules[measure.employment]`."""
        out = ""
        for step in self.path:
            out += f"[{step[1]}]" if isinstance(step, tuple) else ("." if out else "") + step
        return out


class VariantLimitError(ValueError):
    """More policy variants than `limits.MAX_ATTRIBUTION_VARIANTS` would be needed."""


def edits_of(diff: PolicyDiff, old_tree: LNode, new_tree: LNode) -> tuple[Edit, ...]:
    """The diff's changes grouped into edits, in the order of their first change."""
    grouped: dict[tuple[Path, str | None], list[int]] = {}
    for index, change in enumerate(diff.changes):
        key = _edit_key(change, old_tree, new_tree)
        grouped.setdefault(key, []).append(index)
    return tuple(Edit(path, mode, tuple(indices)) for (path, mode), indices in grouped.items())


def _edit_key(change: Change, old_tree: LNode, new_tree: LNode) -> tuple[Path, str | None]:
    section, name = change.section, change.name
    if section == "metadata":
        return ("policy", change.field or name), None
    if section == "article":
        return ("articles", name), None
    if section == "vocabulary":
        return ("vocabularies", name.split(".", 1)[0]), None
    if section == "parameter":
        return ("parameters", name), None
    if section == "step":
        return ("procedure", name), None
    if section == "warning":
        return ("warnings", name), None
    if section == "duty":
        return ("duties", name), None
    if section == "calendar":
        return ("calendar", "years", name), None
    if section == "rule":
        found = _rule_path(new_tree, name) or _rule_path(old_tree, name)
        if found is None:
            raise ValueError(f"rule {name} is in neither version's tree")
        return found, None
    if section not in ("definition", "decision"):
        raise ValueError(f"no edit for a change of section {section!r}")
    path = _node_path(name, old_tree, new_tree)
    if change.kind == "reordered":
        return (*path, "rules"), None
    if change.kind in ("added", "removed") or (section == "definition" and path[0] == \
            "definitions"):
        return path, None
    return path, _EXCEPT_RULES


def _node_path(name: str, old_tree: LNode, new_tree: LNode) -> Path:
    """Where a definition or decision (or a field of an object decision) is written."""
    head, _, field = name.partition(".")
    for tree in (new_tree, old_tree):
        if _child(tree, "definitions", name) is not None:
            return ("definitions", name)
    if field:
        return ("decisions", head, "fields", field)
    return ("decisions", name)


def _rule_path(tree: LNode, rule_id: str) -> Path | None:
    decisions = _child(tree, "decisions")
    if not isinstance(decisions, LMap):
        return None
    for name, (_, spec) in decisions.entries.items():
        if _has_rule(_child(spec, "rules"), rule_id):
            return ("decisions", name, "rules", ("id", rule_id))
        fields = _child(spec, "fields")
        if isinstance(fields, LMap):
            for field, (_, field_spec) in fields.entries.items():
                if _has_rule(_child(field_spec, "rules"), rule_id):
                    return ("decisions", name, "fields", field, "rules", ("id", rule_id))
    return None


def _has_rule(rules: LNode | None, rule_id: str) -> bool:
    return isinstance(rules, LSeq) and any(_item_id(item) == rule_id for item in rules.items)


def _item_id(item: LNode) -> str | None:
    node = item.get("id") if isinstance(item, LMap) else None
    return str(node.value) if isinstance(node, LScalar) else None


def _child(node: LNode | None, *path: Step) -> LNode | None:
    for step in path:
        if isinstance(step, tuple):
            if not isinstance(node, LSeq):
                return None
            node = next((i for i in node.items if _item_id(i) == step[1]), None)
        elif isinstance(node, LMap):
            node = node.get(step)
        else:
            return None
    return node


def apply_edits(old_tree: LNode, new_tree: LNode, edits: Iterable[Edit]) -> LNode:
    """The old tree with each edit's item taken from the new tree (the trees are not changed:
    the nodes on the way are copied)."""
    tree = old_tree
    for edit in edits:
        tree = _graft(tree, new_tree, edit.path, edit.mode)
    return tree


def _graft(old: LNode, new: LNode, path: Path, mode: str | None) -> LNode:
    """`old` with the node at `path` taken from `new` (removed when `new` has none)."""
    step, rest = path[0], path[1:]
    if isinstance(step, tuple):
        return _graft_item(old, new, step[1], rest, mode)
    if not isinstance(old, LMap):
        return old
    old_child, new_child = old.get(step), new.get(step) if isinstance(new, LMap) else None
    entries = dict(old.entries)
    if rest and old_child is not None and new_child is not None:
        entries[step] = (old.key_loc(step), _graft(old_child, new_child, rest, mode))
    elif new_child is None:
        entries.pop(step, None)
    else:  # the item itself, or the new item a deeper change is in
        assert isinstance(new, LMap)
        if mode == _EXCEPT_RULES and not rest and isinstance(new_child, LMap) and \
                isinstance(old_child, LMap):
            new_child = _with_rules_of(new_child, old_child)
        entries[step] = (new.key_loc(step), new_child)
    return LMap(entries, old.loc)


def _with_rules_of(decision: LMap, rules_from: LMap) -> LMap:
    entries = {k: v for k, v in decision.entries.items() if k not in ("rules", "fields")}
    for key in ("rules", "fields"):
        if key in rules_from.entries:
            entries[key] = rules_from.entries[key]
    return LMap(entries, decision.loc)


def _graft_item(old: LNode, new: LNode, item_id: str, rest: Path, mode: str | None) -> LNode:
    if not isinstance(old, LSeq):
        return old
    items = list(old.items)
    at = next((i for i, item in enumerate(items) if _item_id(item) == item_id), None)
    new_items = new.items if isinstance(new, LSeq) else []
    new_at = next((i for i, item in enumerate(new_items) if _item_id(item) == item_id), None)
    if new_at is None:
        if at is not None:
            del items[at]
    elif at is not None:
        items[at] = _graft(items[at], new_items[new_at], rest, mode) if rest \
            else new_items[new_at]
    else:  # an added rule goes after the rule that precedes it in the new version
        before = {_item_id(item) for item in new_items[:new_at]}
        position = max((i + 1 for i, item in enumerate(items) if _item_id(item) in before),
                       default=0)
        items.insert(position, new_items[new_at])
    return LSeq(items, old.loc)


class Variants:
    """The old policy with subsets of the edits applied, each built and compiled once.

    At most `limit` variants are built; `build` raises VariantLimitError beyond it. A subset
    whose policy does not check (a rule that reads a definition another edit adds) is
    recorded with its first problem and builds as None."""

    def __init__(self, old: Any, new: Any, edits: Sequence[Edit], *,
                 limit: int = MAX_ATTRIBUTION_VARIANTS) -> None:
        if old.sourced is None or new.sourced is None:
            raise ValueError("attribution needs policies read by load_policy (with their tree)")
        self.old, self.new, self.edits, self.limit = old, new, tuple(edits), limit
        self.built: dict[frozenset[int], Any] = {}
        self.failed: dict[frozenset[int], str] = {}

    def remaining(self) -> int:
        return self.limit - len(self.built)

    def build(self, subset: Iterable[int]) -> Any:
        """The policy with the edits numbered `subset` applied (None when it does not check)."""
        from fangpin_rules.checker import check
        from fangpin_rules.compiler import compile_policy
        from fangpin_rules.engine.policy import Policy
        from fangpin_rules.policy.read import validate_tree

        key = frozenset(subset)
        if key in self.built:
            return self.built[key]
        if len(self.built) >= self.limit:
            raise VariantLimitError(
                f"attribution needs more than {self.limit} policy variants "
                "(limits.MAX_ATTRIBUTION_VARIANTS): compare two closer versions")
        old_sourced, new_sourced = self.old.sourced, self.new.sourced
        chosen = [self.edits[i] for i in sorted(key)]
        tree = apply_edits(old_sourced.tree, new_sourced.tree, chosen)
        digest = hashlib.sha256(
            (old_sourced.sha256 + " " + ",".join(map(str, sorted(key)))).encode()).hexdigest()
        policy: Any = None
        try:
            sourced = validate_tree(tree, old_sourced.path, digest, old_sourced.inheritance)
            checked = check(sourced)
            policy = Policy(checked, compile_policy(checked), strict=self.old.strict)
            policy.sourced = sourced
        except PolicyError as exc:
            self.failed[key] = str(exc)
        self.built[key] = policy
        return policy
