"""Read a YAML file into a tree whose every node knows where it stands in the file.

Only YAML's core types are accepted: a tag such as `!!python/object` is an error, never a
constructor call, so a policy file cannot make the engine run code. Duplicate keys are errors
(plain PyYAML keeps the last one silently). Numbers with a fraction are read as exact decimals.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from fangpin_rules.diagnostics import Diagnostic, Location, PolicyError, error, remember_source
from fangpin_rules.limits import MAX_POLICY_FILE_BYTES, MAX_YAML_DEPTH
from fangpin_rules.source.files import FileRefused, read_bounded
from fangpin_rules.source.typography import lookalike_problems

_CORE_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:timestamp",
    "tag:yaml.org,2002:map",
    "tag:yaml.org,2002:seq",
}
_MAX_DEPTH = MAX_YAML_DEPTH
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True, slots=True)
class LScalar:
    value: Any
    loc: Location
    raw: str
    style: str | None  # None for plain, '"', "'", '|', '>'


@dataclass(frozen=True, slots=True)
class LSeq:
    items: list[LNode]
    loc: Location


@dataclass(frozen=True, slots=True)
class LMap:
    entries: dict[str, tuple[Location, LNode]]  # key -> (where the key stands, value)
    loc: Location

    def get(self, key: str) -> LNode | None:
        entry = self.entries.get(key)
        return entry[1] if entry else None

    def key_loc(self, key: str) -> Location:
        entry = self.entries.get(key)
        return entry[0] if entry else self.loc


LNode = LScalar | LSeq | LMap


def _loc(file: str, node: yaml.Node) -> Location:
    mark = node.start_mark
    return Location(file, mark.line + 1, mark.column + 1)


class _Builder:
    def __init__(self, file: str) -> None:
        self.file = file
        self.errors: list[Diagnostic] = []
        self.seen: set[int] = set()

    def build(self, node: yaml.Node, depth: int = 0) -> LNode:
        loc = _loc(self.file, node)
        if id(node) in self.seen:  # an alias (*name): refused, so no file can blow up in size
            self.errors.append(error("yaml-alias", "YAML anchors and aliases (&name, *name) are "
                                     "not allowed in a policy file", loc,
                                     hint="write the value out, or use `extends:` to reuse a "
                                     "policy"))
            return LScalar(None, loc, "", None)
        self.seen.add(id(node))
        if depth > _MAX_DEPTH:
            self.errors.append(error("yaml-depth", f"YAML nested deeper than {_MAX_DEPTH} levels",
                                     loc, hint="flatten the structure"))
            return LScalar(None, loc, "", None)
        if node.tag not in _CORE_TAGS:
            tag = node.tag.replace("tag:yaml.org,2002:", "!!")
            self.errors.append(error(
                "yaml-tag", f"YAML tag '{tag}' is not allowed in a policy file", loc,
                length=len(tag),
                hint="a policy file is data: use plain YAML values (no !!python or custom tags)"))
            return LScalar(None, loc, "", None)
        if isinstance(node, yaml.MappingNode):
            entries: dict[str, tuple[Location, LNode]] = {}
            for key_node, value_node in node.value:
                key_loc = _loc(self.file, key_node)
                if not isinstance(key_node, yaml.ScalarNode) or key_node.tag in (
                        "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"):
                    self.errors.append(error("yaml-key", "a mapping key must be a plain name",
                                             key_loc))
                    continue
                key = str(key_node.value)
                if key == "<<":
                    self.errors.append(error("yaml-merge", "YAML merge keys ('<<') are not "
                                             "allowed", key_loc, hint="write the keys out, or use "
                                             "`extends:` to build on another policy"))
                    continue
                if key in entries:
                    self.errors.append(error(
                        "yaml-duplicate-key", f"key '{key}' appears twice in this mapping",
                        key_loc, length=len(key),
                        related=(("first written", entries[key][0]),),
                        hint="remove one of them: YAML would silently keep only the last"))
                    continue
                entries[key] = (key_loc, self.build(value_node, depth + 1))
            return LMap(entries, loc)
        if isinstance(node, yaml.SequenceNode):
            return LSeq([self.build(item, depth + 1) for item in node.value], loc)
        assert isinstance(node, yaml.ScalarNode)
        return LScalar(self._scalar(node, loc), loc, node.value, node.style)

    def _scalar(self, node: yaml.ScalarNode, loc: Location) -> Any:
        text = node.value
        tag = node.tag
        if tag == "tag:yaml.org,2002:str":
            return text
        if tag == "tag:yaml.org,2002:null":
            return None
        if tag == "tag:yaml.org,2002:bool":
            return text.lower() in ("true", "yes", "on")
        if tag == "tag:yaml.org,2002:int":
            cleaned = text.replace("_", "")
            for base in (10, 0):
                try:
                    return int(cleaned, base)
                except ValueError:
                    continue
            return text
        if tag == "tag:yaml.org,2002:float":
            try:
                value = Decimal(text.replace("_", ""))
            except InvalidOperation:
                value = None
            if value is None or not value.is_finite() or abs(value.adjusted()) > 15:
                self.errors.append(error("yaml-number", f"number '{text}' is not a usable "
                                         "exact decimal", loc, length=len(text),
                                         hint="write a plain decimal such as 7152 or 0.5"))
                return None
            return value
        # timestamp: only plain dates are meaningful in a policy
        if _DATE.match(text):
            try:
                return date.fromisoformat(text)
            except ValueError:
                pass
        self.errors.append(error("yaml-date", f"'{text}' is not a valid date (YYYY-MM-DD)", loc,
                                 length=len(text)))
        return None


def load_located(path: str | Path) -> LNode:
    """Parse a policy YAML file into a located tree; raises PolicyError with positions."""
    return parse_located_bytes(read_policy_bytes(path), str(path))


def read_policy_bytes(path: str | Path) -> bytes:
    """The bytes of a policy file the user named (a regular file, or a pipe read once), at
    most MAX_POLICY_FILE_BYTES; a refusal is a PolicyError at the file."""
    file = str(path)
    try:
        return read_bounded(file, MAX_POLICY_FILE_BYTES, allow_pipe=True)
    except FileRefused as exc:
        message = (f"policy file '{file}' does not exist" if exc.code == "file-not-found" else
                   f"cannot read policy file '{file}': {exc.message}")
        # A file too large is refused at its start; one that cannot be opened has no place.
        where = Location(file, 1, 1) if exc.code == "file-too-large" else Location(file, 0, 0)
        raise PolicyError([error(exc.code, message, where, hint=exc.hint)]) from None


def parse_located_bytes(raw: bytes, file: str) -> LNode:
    """A located tree from the bytes read from `file` (UTF-8 YAML)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PolicyError([error("file-encoding", f"policy file is not UTF-8 ({exc.reason})",
                                 Location(file, 1, 1), hint="save the file as UTF-8")]) from None
    remember_source(file, text)
    return parse_located(text, file)


# libyaml's composer keeps the marks and is an order of magnitude faster; same safe rules.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse_located(text: str, file: str) -> LNode:
    # Before YAML: a full-width colon or a tab makes YAML report something else, elsewhere.
    lookalikes = lookalike_problems(text, file)
    if lookalikes:
        raise PolicyError(lookalikes)
    try:
        node = yaml.compose(text, Loader=_LOADER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        loc = Location(file, mark.line + 1, mark.column + 1) if mark else Location(file, 1, 1)
        raise PolicyError([error("yaml-syntax", f"YAML syntax error: {exc.problem or exc}", loc,
                                 hint="check the indentation and quoting on this line")]) from None
    except yaml.YAMLError as exc:
        raise PolicyError([error("yaml-syntax", f"YAML error: {exc}", Location(file, 1, 1))]
                          ) from None
    if node is None:
        raise PolicyError([error("empty-file", "the policy file is empty", Location(file, 1, 1),
                                 hint="start from policies/fujian_2021.yaml")])
    builder = _Builder(file)
    tree = builder.build(node)
    if builder.errors:
        raise PolicyError(builder.errors)
    return tree


def plain(node: LNode) -> Any:
    """The tree's plain Python value (dicts, lists, scalars) without positions."""
    if isinstance(node, LScalar):
        return node.value
    if isinstance(node, LSeq):
        return [plain(item) for item in node.items]
    return {key: plain(value) for key, (_, value) in node.entries.items()}


def locate(node: LNode, path: tuple[str | int, ...]) -> tuple[Location, LNode | None]:
    """The position of the value at `path` (the deepest existing ancestor if it is missing)."""
    current: LNode = node
    for step in path:
        if isinstance(current, LMap) and isinstance(step, str) and step in current.entries:
            _key_loc, value = current.entries[step]
            current = value
            continue
        if isinstance(current, LSeq) and isinstance(step, int) and 0 <= step < len(current.items):
            current = current.items[step]
            continue
        return (current.loc, None)
    return (current.loc, current)


def key_location(node: LNode, path: tuple[str | int, ...]) -> Location:
    """Where the key that ends `path` is written (for 'unknown key' messages)."""
    if not path:
        return node.loc
    parent_loc, parent = locate(node, path[:-1])
    last = path[-1]
    if isinstance(parent, LMap) and isinstance(last, str) and last in parent.entries:
        return parent.entries[last][0]
    return parent_loc
