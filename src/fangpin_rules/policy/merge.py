"""The merge of a base policy's located tree with the tree of a file that extends it.

The rules are those of `policy.inherit` (and docs/county-guide.md); every merged value keeps the
`Location` it was written at, so messages and traces point into the right file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from fangpin_rules.diagnostics import Diagnostic, Location, did_you_mean, error, suggest
from fangpin_rules.source import LMap, LNode, LScalar, LSeq, plain

PARAMETER_OVERRIDE_KEYS = ("value", "values", "note")
_ADD_ONLY_DEPTH = {"calendar": 2, "vocabularies": 2}  # other sections: 1 (whole entries)
_ADD_ONLY_HINTS = {"warnings": "the province's data-consistency checks hold in every county: "
                   "add your own check under a new id"}


@dataclass(frozen=True)
class BaseValue:
    """A dated value of an inherited parameter as the base had it."""

    start: date | None
    value: Any
    location: Location


@dataclass(frozen=True)
class Override:
    """Something an extending file replaced: a parameter's values, a rule or a definition."""

    kind: str  # parameter | rule | definition
    name: str  # parameter or definition name, or rule id
    file: str  # the file that overrides
    location: Location  # where the override is written
    replaces: Location  # what it replaces, in the base
    base_values: tuple[BaseValue, ...] = ()  # parameters: every dated value of the base
    decision: str | None = None  # rules: the decision they belong to

    def base_value_on(self, when: date) -> BaseValue | None:
        """The base's value that would have been in force on `when` without the override."""
        chosen = None
        for value in self.base_values:
            if value.start is not None and value.start <= when:
                chosen = value
        return chosen


@dataclass(frozen=True)
class Addition:
    """A rule an extending file added to an inherited decision."""

    decision: str
    rule_id: str
    location: Location


@dataclass
class Merger:
    file: str
    base: LMap | None = None
    errors: list[Diagnostic] = field(default_factory=list)
    overrides: list[Override] = field(default_factory=list)
    additions: list[Addition] = field(default_factory=list)

    def err(self, code: str, message: str, loc: Location, **kw: Any) -> None:
        self.errors.append(error(code, message, loc, **kw))

    def article(self, cite: LNode | None) -> str:
        """`§2 监测范围`: a base item's citation with its article's title."""
        text = cite.value if isinstance(cite, LScalar) and isinstance(cite.value, str) else ""
        articles = self.base.get("articles") if self.base is not None else None
        parts = []
        for ref in re.findall(r"§\d+", text) or ([text] if text else []):
            art = articles.get(ref) if isinstance(articles, LMap) else None
            title = art.get("title") if isinstance(art, LMap) else None
            if isinstance(title, LMap):
                title = title.get("zh")
            parts.append(f"{ref} {title.value}" if isinstance(title, LScalar) else ref)
        return ", ".join(parts) or "no article cited"

    def merge(self, base: LMap, child: LMap) -> LMap:
        self.base = base
        entries: dict[str, tuple[Location, LNode]] = {}
        if "policy" not in child.entries:
            self.err("missing-key", "a policy that extends another needs its own `policy:` "
                     "section (id, title, effective)", child.loc, hint="add `policy:` with "
                     "the county's id, title and effective date")
        base_effective = _effective(base)
        child_effective = _effective(child)
        for key, (key_loc, base_value) in base.entries.items():
            if key == "policy":
                continue
            entries[key] = (key_loc, base_value)
        for key, (key_loc, value) in child.entries.items():
            if key == "extends":
                continue
            if key == "policy" or key not in entries:
                entries[key] = (key_loc, value)
                continue
            base_loc, base_value = entries[key]
            if not isinstance(base_value, LMap) or not isinstance(value, LMap):
                self.err("already-defined", f"`{key}:` is the base policy's", key_loc,
                         related=(("base", base_loc),))
                continue
            if key == "parameters":
                merged = self._parameters(base_value, value, base_effective, child_effective)
            elif key == "definitions":
                merged = self._definitions(base_value, value)
            elif key == "decisions":
                merged = self._decisions(base_value, value)
            else:
                merged = self._add_only(base_value, value, key, _ADD_ONLY_DEPTH.get(key, 1))
            entries[key] = (base_loc, merged)
        if "policy" in child.entries:  # the file's own metadata first, as it reads
            entries = {"policy": child.entries["policy"],
                       **{k: v for k, v in entries.items() if k != "policy"}}
        return LMap(entries, child.loc)

    # -- sections ------------------------------------------------------------------------------
    def _add_only(self, base: LMap, child: LMap, where: str, depth: int) -> LMap:
        entries = dict(base.entries)
        for key, (key_loc, value) in child.entries.items():
            if key not in entries:
                entries[key] = (key_loc, value)
                continue
            base_loc, base_value = entries[key]
            if depth > 1 and isinstance(base_value, LMap) and isinstance(value, LMap):
                entries[key] = (base_loc, self._add_only(base_value, value, f"{where}.{key}",
                                                         depth - 1))
                continue
            self.err("already-defined", f"'{key}' in `{where}:` is defined by the base policy; "
                     "an extending policy may add entries but not redefine them", key_loc,
                     length=len(key), related=(("defined in the base", base_loc),),
                     hint=_ADD_ONLY_HINTS.get(where, "choose a new name"))
        return LMap(entries, base.loc)

    def _parameters(self, base: LMap, child: LMap, base_effective: LScalar | None,
                    child_effective: LScalar | None) -> LMap:
        entries = dict(base.entries)
        for name, (key_loc, value) in child.entries.items():
            if name not in entries:
                if not self._misspelt_parameter(name, value, key_loc, base):
                    entries[name] = (key_loc, value)
                continue
            base_loc, base_param = entries[name]
            if not isinstance(base_param, LMap) or not isinstance(value, LMap):
                self.err("parameter-override", f"parameter '{name}' must be a mapping",
                         key_loc)
                continue
            if self._locked(name, base_param, base_loc, key_loc):
                continue
            extra = [k for k in value.entries if k not in PARAMETER_OVERRIDE_KEYS]
            misspelt = [k for k in extra if suggest(k, PARAMETER_OVERRIDE_KEYS)]
            for key in misspelt:
                right = suggest(key, PARAMETER_OVERRIDE_KEYS)
                self.err("parameter-override", f"参数 '{name}' 没有 `{key}:` 这一项，是否应为 "
                         f"`{right}:`？/ parameter '{name}' has no `{key}:`: did you mean "
                         f"`{right}:`?", value.key_loc(key), length=len(key),
                         related=(("the parameter in the base", base_loc),),
                         hint=f"改为 `{right}:`（县级文件只写 `value:`、`values:` 或 `note:`）/ "
                         f"write `{right}:` (a county file gives only `value:`, `values:` or "
                         "`note:`)")
            if misspelt:
                continue  # the misspelt key is the one problem: not also "needs a value"
            for key in extra:
                self.err("parameter-override", f"`{key}:` of parameter '{name}' is the base "
                         "policy's; an extending policy gives only `value:` or `values:` (and "
                         "`note:`)", value.key_loc(key), length=len(key),
                         related=(("the parameter in the base", base_loc),),
                         hint="remove it, or declare a new parameter with another name")
            if ("value" in value.entries) == ("values" in value.entries):
                self.err("parameter-value", f"parameter '{name}' needs exactly one of "
                         "`value:` or `values:`", key_loc,
                         hint="`value: 7600`, or `values:` with `from:` dates")
                continue
            if extra:
                continue
            own = _dated_items(value, child_effective)
            inherited = _dated_items(base_param, base_effective)
            first = _start(own[0]) if own else None
            kept = [item for item in inherited
                    if first is not None and (_start(item) or date.max) < first]
            param_entries = {k: v for k, v in base_param.entries.items()
                             if k not in ("value", "values")}
            values_key = value.key_loc("values" if "values" in value.entries else "value")
            param_entries["values"] = (values_key, LSeq([*kept, *own], value.loc))
            if "note" in value.entries:
                param_entries["note"] = value.entries["note"]
            entries[name] = (base_loc, LMap(param_entries, base_param.loc))
            self.overrides.append(Override(
                "parameter", name, self.file, key_loc, base_loc,
                tuple(BaseValue(_start(item), _item_value(item), _item_loc(item))
                      for item in inherited)))
        return LMap(entries, base.loc)

    def _misspelt_parameter(self, name: str, value: LNode, key_loc: Location,
                            base: LMap) -> bool:
        """A new name that only gives a value (no `type:`) and is close to a base parameter is
        a misspelling of it, reported as such (rather than asking for a new parameter's
        `type`, `title`, `cite` and `basis`)."""
        if not isinstance(value, LMap) or "type" in value.entries:
            return False
        if not all(key in PARAMETER_OVERRIDE_KEYS or suggest(key, PARAMETER_OVERRIDE_KEYS)
                   for key in value.entries):
            return False  # keys of its own: a new parameter, checked as one
        right = suggest(name, base.entries)
        if right is None:
            return False
        self.err("unknown-parameter", f"基础政策没有参数 '{name}'，是否应为 '{right}'？/ the base "
                 f"policy has no parameter '{name}': did you mean '{right}'?", key_loc,
                 length=len(name), related=(("the parameter in the base",
                                             base.entries[right][0]),),
                 hint=f"改为 '{right}' 以覆盖基础政策的值；新参数须写明 type、title、cite、basis / "
                 f"write '{right}' to override the base's value; a new parameter needs its "
                 "type, title, cite and basis")
        return True

    def _locked(self, name: str, base_param: LMap, base_loc: Location,
                key_loc: Location) -> bool:
        bounds = base_param.get("bounds")
        locked = bounds.get("locked") if isinstance(bounds, LMap) else None
        if not (isinstance(locked, LScalar) and locked.value is True):
            return False
        self.err("locked-parameter", f"parameter '{name}' is locked by the base policy "
                 f"({self.article(base_param.get('cite'))}): an extending policy may not "
                 "change it", key_loc,
                 length=len(name), related=(("locked", locked.loc),
                                            ("the parameter in the base", base_loc)),
                 hint="remove it from this file; the base's value applies")
        return True

    def _definitions(self, base: LMap, child: LMap) -> LMap:
        entries = dict(base.entries)
        for name, (key_loc, value) in child.entries.items():
            if name not in entries:
                entries[name] = (key_loc, value)
                continue
            base_loc, base_def = entries[name]
            if not _overridable(base_def):
                cite = base_def.get("cite") if isinstance(base_def, LMap) else None
                self.err("not-overridable", f"definition '{name}' ({self.article(cite)}) is "
                         "the base policy's and is not marked `overridable: true` there",
                         key_loc, length=len(name),
                         related=(("defined in the base", base_loc),),
                         hint="define a new name, or ask the base's authors to mark it")
                continue
            entries[name] = (key_loc, value)
            self.overrides.append(Override("definition", name, self.file, key_loc, base_loc))
        return LMap(entries, base.loc)

    def _decisions(self, base: LMap, child: LMap, prefix: str = "") -> LMap:
        entries = dict(base.entries)
        for name, (key_loc, value) in child.entries.items():
            if name not in entries:
                entries[name] = (key_loc, value)
                continue
            base_loc, base_decision = entries[name]
            merged = self._decision(prefix + name, base_decision, value, key_loc, base_loc)
            if merged is not None:
                entries[name] = (base_loc, merged)
        return LMap(entries, base.loc)

    def _decision(self, name: str, base: LNode, child: LNode, key_loc: Location,
                  base_loc: Location) -> LMap | None:
        """An inherited decision: `rules:` of a first_match or collect decision, or `fields:`
        of an object decision (each in turn an inherited decision)."""
        kind = base.get("kind") if isinstance(base, LMap) else None
        kind_name = kind.value if isinstance(kind, LScalar) else "value"
        key = "fields" if kind_name == "object" else "rules"
        given = child.get(key) if isinstance(child, LMap) else None
        others = [k for k in child.entries if k != key] if isinstance(child, LMap) else []
        wanted = LMap if key == "fields" else LSeq
        if kind_name not in ("first_match", "collect", "object") or \
                not isinstance(given, wanted) or others:
            self.err("decision-override", f"decision '{name}' is the base policy's: an "
                     "extending policy may only add or replace rules of a first_match or "
                     "collect decision (give `rules:` alone; for an object decision, "
                     "`fields:`)", key_loc, length=len(name.rsplit(".", 1)[-1]),
                     related=(("decided in the base", base_loc),),
                     hint="add a new decision with another name")
            return None
        assert isinstance(base, LMap)
        if isinstance(given, LMap):
            fields = base.get("fields")
            if not isinstance(fields, LMap):
                return None
            for field_name, (field_loc, _) in given.entries.items():
                if field_name not in fields.entries:
                    self.err("decision-override", f"decision '{name}' has no field "
                             f"'{field_name}' to extend", field_loc,
                             related=(("decided in the base", base_loc),),
                             hint="an extending policy cannot add fields to an object "
                             "decision; add a new decision")
            merged_fields = self._decisions(
                fields, LMap({k: v for k, v in given.entries.items() if k in fields.entries},
                             given.loc), f"{name}.")
            entries = dict(base.entries)
            entries["fields"] = (base.key_loc("fields"), merged_fields)
            return LMap(entries, base.loc)
        assert isinstance(given, LSeq)
        return self._rules(name, base, given)

    def _rules(self, decision: str, base: LMap, child: LSeq) -> LMap:
        base_rules = base.get("rules")
        items = list(base_rules.items) if isinstance(base_rules, LSeq) else []
        for rule in child.items:
            if not isinstance(rule, LMap):
                self.err("invalid-value", "a rule is a mapping with `id:`, `when:`, ...",
                         rule.loc)
                continue
            rule_id = _text(rule.get("id"))
            at = next((i for i, item in enumerate(items)
                       if isinstance(item, LMap) and _text(item.get("id")) == rule_id), None)
            placement = [k for k in ("before", "after") if k in rule.entries]
            clean = LMap({k: v for k, v in rule.entries.items()
                          if k not in ("before", "after")}, rule.loc)
            if at is not None:
                replaced = items[at]
                assert isinstance(replaced, LMap)
                if placement:
                    self.err("misplaced-key", f"rule '{rule_id}' replaces a base rule and keeps "
                             f"its place: `{placement[0]}:` does not apply",
                             rule.key_loc(placement[0]))
                if not _overridable(replaced):
                    self.err("not-overridable", f"rule '{rule_id}' of '{decision}' "
                             f"({self.article(replaced.get('cite'))}) is the base policy's and "
                             "is not marked `overridable: true` there",
                             rule.key_loc("id"), length=len(rule_id or ""),
                             related=(("the base rule", replaced.loc),),
                             hint="give your rule a new id to add it beside the base's, or ask "
                             "the base's authors to mark the rule overridable")
                    continue
                items[at] = clean
                self.overrides.append(Override("rule", rule_id or "?", self.file, rule.loc,
                                               replaced.loc, decision=decision))
                continue
            position = len(items)
            if len(placement) > 1:
                self.err("misplaced-key", "give `before:` or `after:`, not both",
                         rule.key_loc("after"))
            elif placement:
                target = _text(rule.get(placement[0]))
                found = next((i for i, item in enumerate(items)
                              if isinstance(item, LMap) and _text(item.get("id")) == target),
                             None)
                if found is None:
                    ids = [_text(item.get("id")) or "" for item in items
                           if isinstance(item, LMap)]
                    self.err("unknown-rule", f"`{placement[0]}: {target}`: no rule of "
                             f"'{decision}' has that id", rule.key_loc(placement[0]),
                             length=len(placement[0]),
                             hint=(did_you_mean(target or "", ids) or "rules:") + " "
                             + ", ".join(ids))
                else:
                    position = found if placement[0] == "before" else found + 1
            items.insert(position, clean)
            self.additions.append(Addition(decision, rule_id or "?", rule.loc))
        entries = dict(base.entries)
        key_loc = base.key_loc("rules")
        entries["rules"] = (key_loc, LSeq(items, base_rules.loc if base_rules else child.loc))
        return LMap(entries, base.loc)


def _text(node: LNode | None) -> str | None:
    return node.value if isinstance(node, LScalar) and isinstance(node.value, str) else None


def _overridable(node: LNode) -> bool:
    flag = node.get("overridable") if isinstance(node, LMap) else None
    return isinstance(flag, LScalar) and flag.value is True


def _effective(tree: LMap) -> LScalar | None:
    meta = tree.get("policy")
    node = meta.get("effective") if isinstance(meta, LMap) else None
    return node if isinstance(node, LScalar) else None


def _dated_items(param: LMap, effective: LScalar | None) -> list[LNode]:
    """A parameter's values as a list of dated items; a plain `value:` counts from the
    policy's effective date."""
    values = param.get("values")
    if isinstance(values, LSeq):
        return list(values.items)
    value = param.get("value")
    if value is None:
        return []
    start = LScalar(effective.value if effective else None, value.loc,
                    effective.raw if effective else "", None)
    return [LMap({"from": (value.loc, start), "value": (param.key_loc("value"), value)},
                 value.loc)]


def _start(item: LNode) -> date | None:
    node = item.get("from") if isinstance(item, LMap) else None
    return node.value if isinstance(node, LScalar) and isinstance(node.value, date) else None


def _item_value(item: LNode) -> Any:
    if isinstance(item, LMap):
        if "formula" in item.entries:
            return {"formula": plain(item.entries["formula"][1])}
        node = item.get("value")
        return plain(node) if node is not None else None
    return None


def _item_loc(item: LNode) -> Location:
    if isinstance(item, LMap):
        node = item.get("value") or item.get("formula")
        if node is not None:
            return node.loc
    return item.loc


def override_parameters(base: LMap, overrides: LMap, file: str
                        ) -> tuple[LMap, list[Override], list[Diagnostic]]:
    """`base` (an effective policy tree) with parameter values given in `file` merged in by
    the rules of `extends:` (a region table's entry for one region)."""
    merger = Merger(file)
    params = base.get("parameters")
    if not isinstance(params, LMap):
        params = LMap({}, base.loc)
    effective = _effective(base)
    merged = merger._parameters(params, overrides, effective, effective)
    entries = dict(base.entries)
    entries["parameters"] = (base.key_loc("parameters"), merged)
    return LMap(entries, base.loc), merger.overrides, merger.errors
