"""Region tables: many counties' lines and dibao standards in one file, as a province
publishes them, used instead of one policy file per county.

    region_table:
      id: fujian-regions-example
      policy: fujian-2021            # the policy whose parameters it gives
    regions:
      "350121":
        name: 闽侯县
        dibao_standard:
          - {from: 2022-01-01, value: 8880, source: ...}
        monitoring_line:
          - {from: 2022-01-01, value: 9000}

Each region's values are merged into the policy by the rules of `extends:` (its values replace
the policy's from their first date on) and checked with the same bounds, each at its own
file:line. A household is decided with its region's parameters, chosen by `region_code`; one
evaluator is compiled per (date, region). A household whose region is not in the table (or
that has no `region_code`) is rejected, naming the field: deciding it with the province's
floor instead could leave out a household its own county's higher line would include.

A table may also be a CSV file (`.csv`, UTF-8), one dated value per row, the way a province's
spreadsheet lists them:

    region_code,name,parameter,from,value,source
    350121,闽侯县,dibao_standard,2022-01-01,8880,闽侯县民政局
    350121,闽侯县,monitoring_line,2022-01-01,9000,
    350526,德化县,monitoring_line,2024-01-01,,        <- with a `formula` column: 2 * dibao_standard

(columns `region_code`, `parameter`, `from` and one of `value`/`formula` are required; `name`,
`until`, `source` and `note` may be given). It is read into the same tree as the YAML form,
every cell at its line and column, and checked the same way.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from fangpin_rules.checker.parameters import check_parameters
from fangpin_rules.diagnostics import (
    Diagnostic,
    Location,
    PolicyError,
    Severity,
    did_you_mean,
    error,
)
from fangpin_rules.engine.policy import (
    CarriedForward,
    CaseInput,
    Policy,
    RejectHandler,
    parse_date,
)
from fangpin_rules.engine.records import RecordError, Rejection, validate
from fangpin_rules.limits import MAX_POLICY_FILE_BYTES, MAX_TABLE_FILE_BYTES
from fangpin_rules.model import Household
from fangpin_rules.policy.inherit import ChainLink, Inheritance
from fangpin_rules.policy.merge import override_parameters
from fangpin_rules.policy.read import validate_tree
from fangpin_rules.policy.region_table import RegionEntry, RegionTable, RegionTableMeta
from fangpin_rules.source import LMap, LNode, LScalar, LSeq
from fangpin_rules.source.csv_rows import read_csv_rows, read_table_bytes
from fangpin_rules.source.located import parse_located_bytes

# The keys allowed at each level are the table models' (one definition with the JSON Schema).
_TABLE_KEYS = tuple(RegionTable.model_fields)
_META_KEYS = tuple(RegionTableMeta.model_fields)
_ENTRY_KEYS = tuple(RegionEntry.model_fields)


# A township's (9 digits) or village's (12) code starts with its county's 6, by which the
# table's regions are read.
COUNTY_DIGITS = 6


@dataclass(frozen=True)
class Region:
    code: str
    name: str
    policy: Policy


class RegionalPolicy:
    """A policy whose parameters are chosen per household by its region."""

    def __init__(self, base: Policy, path: str, sha256: str, regions: dict[str, Region],
                 warnings: list[Diagnostic], raw: bytes = b"") -> None:
        self.base = base
        self.path = path
        self.sha256 = sha256
        self.regions = regions
        self.warnings = warnings
        self.raw = raw  # the table's bytes as read (once: a pipe cannot be read again)

    def applied_to(self, policy: Policy) -> RegionalPolicy:
        """The same table applied to another version of its policy (the other side of a
        `fangpin diff --impact`, a variant of its attribution), from the bytes read once;
        raises PolicyError as `load_regions` does."""
        return load_regions(policy, self.path, raw=self.raw)

    def policy_for(self, household: Household, line: int | None = None) -> Policy:
        code = household.region_code
        region = self.regions.get(code[:COUNTY_DIGITS]) if code else None
        if region is None:
            raise RecordError(Rejection(line, household.household_id, "region_code",
                                        self.unplaced_reason(code)))
        return region.policy

    def unplaced_reason(self, code: str | None) -> str:
        """Why a household of region `code` (or of none) cannot be decided with the table."""
        if not code:
            return f"no region_code: the region table {self.path} needs one"
        before, after = self.around_unplaced_code()
        return before + code + after

    def around_unplaced_code(self) -> tuple[str, str]:
        """The reason for a household whose region is not in the table, before and after its
        code (the columnar engine writes it in columns)."""
        return "region '", f"' is not in the region table {self.path}"

    def check_date(self, as_of: date | str) -> None:
        """Build every region's evaluator for the date; raises DateError if one cannot be."""
        when = parse_date(as_of)
        for region in self.regions.values():
            region.policy.evaluator(when)

    def carried_forward(self, as_of: date | str) -> list[CarriedForward]:
        """The values carried forward on `as_of` in any region, each once (a province's value
        carried forward in several regions is one notice)."""
        seen: dict[str, CarriedForward] = {}
        for region in self.regions.values():
            for notice in region.policy.carried_forward(as_of):
                seen.setdefault(notice.message(), notice)
        return list(seen.values())

    @property
    def run_warnings(self) -> list[CarriedForward]:
        """The values carried forward in the evaluations so far, in any region, each once."""
        seen: dict[str, CarriedForward] = {}
        for region in self.regions.values():
            for notice in region.policy.run_warnings:
                seen.setdefault(notice.message(), notice)
        return list(seen.values())

    def evaluate(self, record: Household | Mapping[str, Any], as_of: date | str, *,
                 explain: bool = False, cases: Iterable[CaseInput] = ()) -> dict[str, Any]:
        household = validate(record)
        return self.policy_for(household).evaluate(household, as_of, explain=explain,
                                                   cases=cases)

    def evaluate_many(self, records: Iterable[Household | Mapping[str, Any]],
                      as_of: date | str, *, explain: bool = False,
                      on_reject: RejectHandler | None = None) -> Iterator[dict[str, Any]]:
        for number, record in enumerate(records, start=1):
            try:
                household = validate(record, number)
                policy = self.policy_for(household, number)
                yield policy.evaluate(household, as_of, explain=explain)
            except RecordError as exc:
                if on_reject is None:
                    raise
                rejection = exc.rejection
                if rejection.line is None:
                    rejection = dataclasses.replace(rejection, line=number)
                on_reject(rejection)


AnyPolicy = Policy | RegionalPolicy  # a policy, or one under a region table


def base_of(policy: AnyPolicy) -> Policy:
    """The policy itself, or a region table's policy: its rules, vocabularies, schema, tree
    and id (a region table changes parameters only)."""
    return policy.base if isinstance(policy, RegionalPolicy) else policy


def load_regions(policy: Policy, path: str | Path, *, raw: bytes | None = None
                 ) -> RegionalPolicy:
    """Read a region table for `policy`; raises PolicyError with every problem found (a line
    below its bounds at the table's file:line, an unknown parameter, a locked one...). `raw`:
    the table's bytes read already (`RegionalPolicy.applied_to`)."""
    file = str(path)
    is_csv = file.lower().endswith(".csv")
    if raw is None:
        raw = read_table_bytes(file, MAX_TABLE_FILE_BYTES if is_csv else MAX_POLICY_FILE_BYTES)
    tree = _csv_table(file, raw) if is_csv else parse_located_bytes(raw, file)
    digest = hashlib.sha256(raw).hexdigest()  # of the bytes read once, so a pipe works too
    sourced = policy.sourced
    if sourced is None or not isinstance(sourced.tree, LMap):
        raise PolicyError([error("region-table", "the policy was not loaded from a file",
                                 tree.loc)])
    problems: list[Diagnostic] = []
    regions_node = _table_shape(tree, policy, problems)
    regions: dict[str, Region] = {}
    known = sourced.document.parameters
    for code, (key_loc, entry) in (regions_node.entries.items() if regions_node else []):
        if not (len(code) == 6 and code.isdigit()):
            problems.append(error("region-code", f"'{code}' is not a 6-digit region code",
                                  key_loc, length=len(code), hint='write it quoted: "350121"'))
            continue
        if not isinstance(entry, LMap):
            problems.append(error("region-table", f"region {code}: expected a mapping with "
                                  "`name:` and parameter values", entry.loc))
            continue
        name_node = entry.get("name")
        name = name_node.value if isinstance(name_node, LScalar) else code
        given: dict[str, tuple[Any, LNode]] = {}
        for key, (loc, value) in entry.entries.items():
            if key in _ENTRY_KEYS:
                continue
            if key not in known:
                problems.append(error(
                    "unknown-name", f"region {code}: '{key}' is not a parameter of "
                    f"{policy.id}", loc, length=len(key),
                    hint=did_you_mean(key, known) or "parameters: " + ", ".join(known)))
                continue
            if not isinstance(value, LSeq):
                problems.append(error("region-table", f"region {code}: give '{key}' as a list "
                                      "of dated values ({from: ..., value: ...})", value.loc))
                continue
            given[key] = (loc, LMap({"values": (loc, value)}, value.loc))
        merged, overrides, errors = override_parameters(
            sourced.tree, LMap(given, entry.loc), file)
        problems += errors
        if errors:
            continue
        region_sha = hashlib.sha256(f"{policy.sha256} {digest} {code}".encode()).hexdigest()
        chain = sourced.inheritance.chain if sourced.inheritance else (
            ChainLink(sourced.path, policy.id, sourced.sha256),)
        inheritance = Inheritance(
            (*chain, ChainLink(f"{file}#{code}", f"{policy.id}@{code}", digest)),
            (*(sourced.inheritance.overrides if sourced.inheritance else ()), *overrides),
            sourced.inheritance.additions if sourced.inheritance else ())
        try:
            region_doc = validate_tree(merged, sourced.path, region_sha, inheritance)
        except PolicyError as exc:
            problems += exc.diagnostics
            continue
        found: list[Diagnostic] = []
        params = check_parameters(region_doc, found.append)
        problems += [d for d in found if d.severity is Severity.ERROR or d.location.file == file]
        if any(d.severity is Severity.ERROR for d in found):
            continue
        checked = dataclasses.replace(policy.checked, parameters=params, sha256=region_sha,
                                      inheritance=inheritance)
        regional = Policy(checked, policy.compiled, strict=policy.strict)
        regions[code] = Region(code, str(name), regional)
    if any(d.severity is Severity.ERROR for d in problems):
        raise PolicyError(problems)
    return RegionalPolicy(policy, file, digest, regions, problems, raw)


_CSV_REQUIRED = ("region_code", "parameter", "from")
_CSV_COLUMNS = (*_CSV_REQUIRED, "name", "value", "formula", "until", "source", "note")
_CSV_VALUE_KEYS = ("from", "until", "value", "formula", "source", "note")


def _csv_table(file: str, raw: bytes) -> LMap:
    """A CSV region table as the located tree of its YAML form."""
    header, rows = read_csv_rows(file, raw)
    start = Location(file, 1, 1)
    problems = []
    for index, column in enumerate(header):
        if column not in _CSV_COLUMNS:
            problems.append(error("unknown-key", f"unknown column '{column}'",
                                  Location(file, 1, 1 + sum(len(c) + 1 for c in header[:index])),
                                  length=max(1, len(column)),
                                  hint=did_you_mean(column, _CSV_COLUMNS) or
                                  "columns: " + ", ".join(_CSV_COLUMNS)))
    missing = [c for c in _CSV_REQUIRED if c not in header]
    if "value" not in header and "formula" not in header:
        missing.append("value")
    if missing:
        problems.append(error("missing-key", "the table needs the column(s) "
                              + ", ".join(missing), start,
                              hint="header: region_code,name,parameter,from,value,source"))
    if problems:
        raise PolicyError(problems)
    regions: dict[str, tuple[Location, LNode]] = {}
    by_region: dict[str, dict[str, Any]] = {}
    for row in rows:
        code_cell = row.get("region_code")
        param_cell = row.get("parameter")
        if code_cell is None or param_cell is None or code_cell.value is None:
            continue  # a short row: reported below as a missing value
        code = str(code_cell.raw)
        entry = by_region.setdefault(code, {"loc": code_cell.loc, "name": None, "params": {}})
        name = row.get("name")
        if name is not None and name.value is not None and entry["name"] is None:
            entry["name"] = name
        dated: dict[str, tuple[Location, LNode]] = {
            key: (cell.loc, cell) for key in _CSV_VALUE_KEYS
            if (cell := row.get(key)) is not None and cell.value is not None}
        entry["params"].setdefault(str(param_cell.value), (param_cell.loc, [])
                                   )[1].append(LMap(dated, param_cell.loc))
    for code, entry in by_region.items():
        fields: dict[str, tuple[Location, LNode]] = {}
        if entry["name"] is not None:
            fields["name"] = (entry["name"].loc, entry["name"])
        for param, (loc, values) in entry["params"].items():
            fields[param] = (loc, LSeq(values, loc))
        regions[code] = (entry["loc"], LMap(fields, entry["loc"]))
    return LMap({"regions": (start, LMap(regions, start))}, start)


def _table_shape(tree: LNode, policy: Policy, problems: list[Diagnostic]) -> LMap | None:
    if not isinstance(tree, LMap):
        problems.append(error("region-table", "a region table is a mapping with "
                              "`region_table:` and `regions:`", tree.loc))
        return None
    for key, (loc, _) in tree.entries.items():
        if key not in _TABLE_KEYS:
            problems.append(error("unknown-key", f"unknown key '{key}'", loc, length=len(key),
                                  hint=did_you_mean(key, _TABLE_KEYS) or
                                  "keys allowed here: " + ", ".join(_TABLE_KEYS)))
    meta = tree.get("region_table")
    if isinstance(meta, LMap):
        for key, (loc, _) in meta.entries.items():
            if key not in _META_KEYS:
                problems.append(error("unknown-key", f"unknown key '{key}'", loc,
                                      length=len(key), hint="keys allowed here: "
                                      + ", ".join(_META_KEYS)))
        target = meta.get("policy")
        if isinstance(target, LScalar) and target.value != policy.id:
            problems.append(error(
                "region-table", f"this table is for policy '{target.value}', not "
                f"'{policy.id}'", target.loc, hint="use it with the policy it names"))
    regions = tree.get("regions")
    if not isinstance(regions, LMap):
        problems.append(error("missing-key", "a region table needs `regions:` (region code -> "
                              "name and dated values)", tree.loc))
        return None
    return regions
