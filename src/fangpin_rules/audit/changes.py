"""What a semantic diff is made of: one `Change` per thing that differs, and the `PolicyDiff`.

Every value is carried as text (`old`, `new`), so that a change reads the same in every output
format and a tool reading the JSON needs no knowledge of the policy's types.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from fangpin_rules.diagnostics import Location

SECTIONS = ("metadata", "article", "vocabulary", "parameter", "definition", "decision", "rule",
            "step", "warning", "duty", "calendar")
KINDS = ("added", "removed", "changed", "reordered")


@dataclass(frozen=True, slots=True)
class Change:
    """One difference between two versions of a policy.

    `old`/`new` are the texts before and after (None where the item does not exist). For a dated
    parameter value that only one version has, the other side is the value that version gives on
    that date, so every changed value shows what it was and what it becomes.
    """

    section: str  # one of SECTIONS
    kind: str  # one of KINDS
    name: str  # parameter, definition or decision name, rule id, article, vocabulary.label
    field: str | None  # what changed in it (None when the whole item is added or removed)
    old: str | None
    new: str | None
    cite: str | None = None
    title: str | None = None  # the item's Chinese title, when it has one
    old_location: Location | None = None
    new_location: Location | None = None
    affects: tuple[str, ...] = ()  # top-level decisions (and procedure steps) that read it

    def to_json(self) -> dict[str, Any]:
        return {
            "section": self.section, "kind": self.kind, "name": self.name, "field": self.field,
            "old": self.old, "new": self.new, "cite": self.cite, "title": self.title,
            "old_location": _location_json(self.old_location),
            "new_location": _location_json(self.new_location),
            "affects": list(self.affects),
        }


@dataclass(frozen=True, slots=True)
class PolicyRef:
    """Which version: the policy's id, version, file and the file's digest."""

    id: str
    version: str | None
    title: str
    path: str
    sha256: str

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "version": self.version, "title": self.title, "path": self.path,
                "sha256": self.sha256}


@dataclass(frozen=True)
class PolicyDiff:
    """The changes from `old` to `new`, in the order of SECTIONS and then of the files."""

    old: PolicyRef
    new: PolicyRef
    changes: tuple[Change, ...] = field(default_factory=tuple)

    def __bool__(self) -> bool:
        return bool(self.changes)

    def __len__(self) -> int:
        return len(self.changes)

    def counts(self) -> dict[str, dict[str, int]]:
        """Number of changes by section and kind (only the sections that changed)."""
        out: dict[str, dict[str, int]] = {}
        for change in self.changes:
            by_kind = out.setdefault(change.section, {})
            by_kind[change.kind] = by_kind.get(change.kind, 0) + 1
        return out


def as_text(value: Any) -> str | None:
    """A value as an auditor reads it: exact decimals, ISO dates, `zh / en` texts."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        if value == value.to_integral_value():
            return format(value.quantize(Decimal(1)), "f")
        return format(value.normalize(), "f")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return ", ".join(as_text(v) or "null" for v in value)
    if isinstance(value, BaseModel):
        zh, en = getattr(value, "zh", None), getattr(value, "en", None)
        if isinstance(zh, str):
            return zh + (f" / {en}" if en else "")
        return value.model_dump_json()
    return " ".join(str(value).split())


def _location_json(location: Location | None) -> dict[str, Any] | None:
    if location is None:
        return None
    return {"file": location.file, "line": location.line or None,
            "column": location.column or None}
