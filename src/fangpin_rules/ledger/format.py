"""A ledger format: the declared, versioned mapping from a spreadsheet's sheet, headers and
labels to the data contract's household and member fields.

A format is a YAML file read through the project's `source` layer, so every error names its
file:line:col, and validated like a policy (unknown keys refused with a did-you-mean). A
county's format says `extends: national` (the bundled layout, `formats/national.yaml`) or a
file beside it, and writes only what differs: a column of the same field replaces the base's,
a label table's entries are added to or replace the base's, `ignore:` and `personal:` add to
the base's lists.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from fangpin_rules.diagnostics import Diagnostic, Location, PolicyError, did_you_mean, error
from fangpin_rules.limits import MAX_EXTENDS_CHARS, MAX_POLICY_FILE_BYTES
from fangpin_rules.policy.read import validate_located
from fangpin_rules.source import LMap, LNode, LScalar, LSeq
from fangpin_rules.source.files import FileRefused, read_bounded, read_inside
from fangpin_rules.source.located import parse_located_bytes, read_policy_bytes

BUNDLED = ("national",)
DEFAULT_FORMAT = "national"
DateForm = Literal["YYYYMMDD", "YYYYMM", "YYYY-MM-DD", "YYYY/MM/DD"]
ColumnKind = Literal["text", "money", "date", "region_code"]
LabelValue = str | int | bool | None
_FIELD = re.compile(r"^(members\.)?[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)*$")
_MAX_CHAIN = 8


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class FormatInfo(_Strict):
    id: str = Field(min_length=1, max_length=100)
    version: int = Field(ge=1)
    title: str = ""


class ColumnSpec(_Strict):
    """One column: its header (and other names it goes by), how a cell is read, whether the
    sheet must have it."""

    header: str = Field(min_length=1)
    aliases: list[str] = Field(default_factory=list)
    kind: ColumnKind = "text"
    labels: str | None = None  # a label table of `labels:`; the cell's text is looked up
    required: bool = False

    @property
    def names(self) -> list[str]:
        return [self.header, *self.aliases]


class HeadSpec(_Strict):
    header: str = Field(min_length=1)
    aliases: list[str] = Field(default_factory=list)
    value: str = Field(min_length=1)

    @property
    def names(self) -> list[str]:
        return [self.header, *self.aliases]


class PersonIdSpec(_Strict):
    header: str = Field(min_length=1)
    aliases: list[str] = Field(default_factory=list)

    @property
    def names(self) -> list[str]:
        return [self.header, *self.aliases]


class FormatDocument(_Strict):
    ledger_format: FormatInfo
    sheet: str | None = None
    header_search_rows: int = Field(default=20, ge=1, le=200)
    # Headers that, with the household_id column, tell households apart: for a sheet whose
    # household numbers repeat from village to village. The record's id is then their values
    # and the number, joined by '/'.
    group_by: list[str] = Field(default_factory=list)
    head: HeadSpec
    person_id: PersonIdSpec | None = None
    personal: list[str] = Field(default_factory=list)
    date_forms: list[DateForm] = Field(min_length=1)
    # null removes a base's column (a county sheet without it)
    columns: dict[str, ColumnSpec | None]
    ignore: list[str] = Field(default_factory=list)
    labels: dict[str, dict[str, LabelValue]] = Field(default_factory=dict)


@dataclass(frozen=True)
class LedgerFormat:
    """A checked ledger format, its bases merged in."""

    document: FormatDocument
    path: str
    sha256: str  # over the chain of files: the base's bytes and the county's
    tree: LNode

    @property
    def id(self) -> str:
        return self.document.ledger_format.id

    @property
    def version(self) -> int:
        return self.document.ledger_format.version

    @property
    def columns(self) -> dict[str, ColumnSpec]:
        return {name: spec for name, spec in self.document.columns.items() if spec is not None}

    def column_location(self, field: str) -> Location:
        """Where the column of `field` is declared (for a message about it)."""
        columns = self.tree.get("columns") if isinstance(self.tree, LMap) else None
        if isinstance(columns, LMap) and field in columns.entries:
            return columns.entries[field][0]
        return self.tree.loc

    def location(self, key: str) -> Location:
        if isinstance(self.tree, LMap) and key in self.tree.entries:
            return self.tree.entries[key][0]
        return self.tree.loc


def label_tables(ledger_format: LedgerFormat) -> dict[str, dict[str, LabelValue]]:
    """The format's label tables, {table: {label shown in the sheet: contract value}}: what the
    reader looks cells up in, and what a writer turns values back into words with."""
    return {name: dict(table) for name, table in ledger_format.document.labels.items()}


def bundled_path(name: str) -> Path:
    return Path(str(resources.files("fangpin_rules.ledger") / "formats" / f"{name}.yaml"))


def load_format(path: str | Path | None = None) -> LedgerFormat:
    """Read and check a ledger format file (the bundled national layout when None, or a
    bundled format's id); raises PolicyError with every problem, at its file:line:col."""
    if path is None or str(path) in BUNDLED:
        file = str(bundled_path(str(path or DEFAULT_FORMAT)))
        raw = read_bounded(file, MAX_POLICY_FILE_BYTES)
    else:
        file = str(path)
        raw = read_policy_bytes(file)
    digests: list[str] = []
    tree = _resolve(file, raw, digests, depth=0)
    document = validate_located(tree, FormatDocument, "ledger-format",
                                "a ledger format must be a mapping with a `ledger_format:` "
                                "section", "start from the bundled national.yaml")
    problems = _check(document, tree)
    if problems:
        raise PolicyError(problems)
    sha = hashlib.sha256("\n".join(digests).encode()).hexdigest()
    return LedgerFormat(document, file, sha, tree)


def _resolve(file: str, raw: bytes, digests: list[str], depth: int) -> LNode:
    digests.insert(0, hashlib.sha256(raw).hexdigest())
    tree = parse_located_bytes(raw, file)
    if not isinstance(tree, LMap) or "extends" not in tree.entries:
        return tree
    extends = tree.entries["extends"][1]
    own = LMap({k: v for k, v in tree.entries.items() if k != "extends"}, tree.loc)
    if not isinstance(extends, LScalar) or not isinstance(extends.value, str) \
            or not extends.value.strip():
        raise PolicyError([error("extends-value", "extends: takes the name of a bundled format "
                                 "or a file beside this one", extends.loc,
                                 hint="write `extends: national`")])
    name = extends.value.strip()
    if depth >= _MAX_CHAIN:
        raise PolicyError([error("extends-loop", "formats extend each other too deeply (a loop?)",
                                 extends.loc)])
    if len(name) > MAX_EXTENDS_CHARS or any(ord(ch) < 32 for ch in name):
        raise PolicyError([error("extends-name", "extends: is not a usable name", extends.loc)])
    if name in BUNDLED:
        base_file = str(bundled_path(name))
        base_raw = read_bounded(base_file, MAX_POLICY_FILE_BYTES)
    else:
        # A file named by a format is read only beside it (or below), never elsewhere.
        here = Path(file).parent
        if Path(name).is_absolute() or ".." in Path(name).parts:
            raise PolicyError([error("extends-outside", f"extends: '{name}' leaves this "
                                     "format's folder", extends.loc, length=len(name),
                                     hint="put the base beside this file, or name a bundled "
                                     "format: " + ", ".join(BUNDLED))])
        base_file = str(here / name)
        try:
            base_raw = read_inside(base_file, [str(here)], MAX_POLICY_FILE_BYTES)
        except FileRefused as exc:
            hint = did_you_mean(name, BUNDLED) or exc.hint
            raise PolicyError([error("extends-unreadable", f"extends: '{name}': {exc.message}",
                                     extends.loc, length=len(name), hint=hint)]) from None
    base = _resolve(base_file, base_raw, digests, depth + 1)
    return _merge(base, own)


_ADDED_LISTS = ("ignore", "personal")


def _merge(base: LNode, own: LMap) -> LNode:
    """The county's tree over the base's: see the module's docstring for the rules."""
    if not isinstance(base, LMap):
        return own
    entries = dict(base.entries)
    for key, (key_loc, value) in own.entries.items():
        old = entries.get(key)
        if old is None:
            entries[key] = (key_loc, value)
        elif key in _ADDED_LISTS and isinstance(old[1], LSeq) and isinstance(value, LSeq):
            entries[key] = (key_loc, LSeq(old[1].items + value.items, value.loc))
        elif key in ("columns", "labels") and isinstance(old[1], LMap) \
                and isinstance(value, LMap):
            merged = dict(old[1].entries)
            for name, entry in value.entries.items():
                previous = merged.get(name)
                if key == "labels" and previous is not None and isinstance(previous[1], LMap) \
                        and isinstance(entry[1], LMap):
                    merged[name] = (entry[0], LMap({**previous[1].entries, **entry[1].entries},
                                                   entry[1].loc))
                else:
                    merged[name] = entry
            entries[key] = (key_loc, LMap(merged, value.loc))
        else:
            entries[key] = (key_loc, value)
    return LMap(entries, own.loc)


def _check(document: FormatDocument, tree: LNode) -> list[Diagnostic]:
    """What the structure cannot say: fields well formed, label tables that exist, a header
    not claimed by two columns."""
    problems: list[Diagnostic] = []
    columns = tree.get("columns") if isinstance(tree, LMap) else None
    assert isinstance(columns, LMap)
    claimed: dict[str, str] = {}
    for name in document.head.names:
        claimed[name] = "head"
    for name in document.person_id.names if document.person_id else []:
        claimed[name] = "person_id"
    for field, spec in document.columns.items():
        key_loc, node = columns.entries[field]
        if not _FIELD.match(field):
            problems.append(error("ledger-field", f"'{field}' is not a field path",
                                  key_loc, length=len(field),
                                  hint="write the contract's field, e.g. net_income, "
                                  "dibao.since or members.birth_date"))
        if spec is None:
            continue
        if spec.labels is not None and spec.labels not in document.labels:
            where = node.get("labels") if isinstance(node, LMap) else None
            loc = where.loc if where is not None else key_loc
            hint = did_you_mean(spec.labels, document.labels)
            problems.append(error("ledger-labels", f"no label table '{spec.labels}'", loc,
                                  length=len(spec.labels),
                                  hint=(hint + " " if hint else "") + "Tables: "
                                  + ", ".join(sorted(document.labels)) + "."))
        if spec.labels is not None and spec.kind != "text":
            problems.append(error("ledger-kind", f"column '{field}' has both labels and kind "
                                  f"'{spec.kind}'", key_loc, hint="a labelled column is text: "
                                  "drop `kind:`"))
        for header in spec.names:
            other = claimed.get(header)
            if other is not None and other != field:
                problems.append(error("ledger-header-twice", f"header '{header}' is claimed by "
                                      f"'{other}' and '{field}'", key_loc,
                                      hint="give each column its own header"))
            claimed[header] = field
    if "household_id" not in document.columns or document.columns["household_id"] is None:
        problems.append(error("ledger-key", "the format has no column for household_id (the "
                              "grouping key)", columns.loc, hint="add `household_id: {header: "
                              "户编号, required: true}`"))
    return problems


def value_labels(ledger_format: LedgerFormat) -> dict[str, dict[LabelValue, str]]:
    """The other way round, {table: {contract value: label}}: the first label a table gives
    a value is the one to write (a table may read several labels as one value)."""
    out: dict[str, dict[LabelValue, str]] = {}
    for name, table in ledger_format.document.labels.items():
        words: dict[LabelValue, str] = {}
        for label, value in table.items():
            words.setdefault(value, label)
        out[name] = words
    return out


def label_lookup(ledger_format: LedgerFormat) -> dict[str, dict[str, Any]]:
    """Label tables keyed as the reader matches cells: spaces removed, full-width brackets
    as plain ones (both are typed into the same sheets)."""
    return {name: {squeeze_label(label): value for label, value in table.items()}
            for name, table in ledger_format.document.labels.items()}


_BRACKETS = str.maketrans({"（": "(", "）": ")"})


def squeeze_label(text: str) -> str:
    return "".join(text.split()).translate(_BRACKETS)
