"""The loaded policies, routed by id or by a household's `region_code`, and swapped in whole
when their files change.

A request takes `registry.current` once, a `Snapshot` that never changes, and decides on it to
the end: a reload builds a new snapshot and replaces the reference in one assignment, so an
in-flight request finishes on the policy it started with and the next one sees the new one.
A file that fails the check is refused: the snapshot keeps the policy that was loaded from it
before (if any), and the refusal is logged and kept for `/ready` and `/metrics`.

Region tables (`fangpin serve --regions TABLE`) are applied as `fangpin eval --regions` applies
them: each to the policy its `region_table: policy:` names (a table that names none, a CSV
table, to the one policy no other's jurisdiction covers), checked against it at every load of
either file. A household decided by that policy is decided with its region's values, and one
whose region is not in the table is rejected naming `region_code`. A table that no longer fits
is refused and the policy it was built on keeps serving with the table as it was: a policy is
never served without the table it was given.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fangpin_rules.diagnostics import PolicyError, Severity
from fangpin_rules.engine import Policy, load_policy
from fangpin_rules.engine.regions import RegionalPolicy, load_regions
from fangpin_rules.source import LMap, LScalar, load_located

log = logging.getLogger("fangpin.serve")

COUNTY_FOLDER = "counties"  # a folder's county files, which extend the province's


@dataclass(frozen=True)
class Refusal:
    """A policy file that could not be loaded, and why (the first error, file:line:col)."""

    file: str
    errors: int
    message: str

    def to_json(self) -> dict[str, object]:
        return {"file": self.file, "errors": self.errors, "message": self.message}


@dataclass(frozen=True)
class Snapshot:
    """The policies in force for the requests that start now."""

    policies: Mapping[str, Policy]  # by id
    files: Mapping[str, str]  # policy file -> the id loaded from it
    refused: Mapping[str, Refusal] = field(default_factory=dict)  # file -> why
    generation: int = 0
    tables: Mapping[str, RegionalPolicy] = field(default_factory=dict)  # policy id -> table

    def regional(self, policy: Policy, record: Any, line: int | None = None) -> Policy:
        """The policy a record is decided with: its region's, when `policy` has a region
        table (a RecordError naming region_code when the region is not in it)."""
        table = self.tables.get(policy.id)
        return table.policy_for(record, line) if table is not None else policy

    def route(self, region_code: object) -> Policy | None:
        """The most specific policy whose jurisdiction covers `region_code` (None when no
        jurisdiction does). Without a well-formed code, the one policy that no other's
        jurisdiction covers, if there is exactly one (the province's, beside its counties):
        its own check of the record then names a malformed code."""
        # a township's (9 digits) or village's (12) code starts with its county's
        if isinstance(region_code, str) and len(region_code) in (6, 9, 12) and \
                region_code.isdigit():
            best: tuple[int, Policy] | None = None
            for policy in self.policies.values():
                prefix = jurisdiction_prefix(policy)
                if prefix is not None and region_code.startswith(prefix) and \
                        (best is None or len(prefix) > best[0]):
                    best = (len(prefix), policy)
            if best is not None:
                return best[1]
            if any(jurisdiction_prefix(p) is not None for p in self.policies.values()):
                return None
        roots = self.roots()
        return roots[0] if len(roots) == 1 else None

    def roots(self) -> list[Policy]:
        if len(self.policies) == 1:
            return list(self.policies.values())
        prefixes = {pid: jurisdiction_prefix(p) for pid, p in self.policies.items()}
        return [self.policies[pid] for pid, prefix in prefixes.items() if prefix is not None
                and not any(other is not None and other != prefix and prefix.startswith(other)
                            for other in prefixes.values())]


def jurisdiction_prefix(policy: Policy) -> str | None:
    """The region codes a jurisdiction covers start with this: 350000 (a province) covers
    35xxxx, 350500 (a city) 3505xx, 350121 (a county) itself."""
    code = policy.checked.document.policy.jurisdiction
    if code is None or len(code) != 6 or not code.isdigit():
        return None
    while code.endswith("00") and len(code) > 2:
        code = code[:-2]
    return code


def policy_files(sources: Sequence[str]) -> list[str]:
    """The policy files of the sources: a file as given; a folder's policy files (YAML with a
    `policy:` section: not test files or region tables) and those of its `counties/` folder."""
    out: list[str] = []
    for source in sources:
        path = Path(source)
        if not path.is_dir():
            out.append(os.path.normpath(source))
            continue
        for folder in (path, path / COUNTY_FOLDER):
            for candidate in sorted(folder.glob("*.yaml")):
                if _is_policy_file(candidate):
                    out.append(os.path.normpath(str(candidate)))
    return list(dict.fromkeys(out))


_kinds: dict[str, tuple[tuple[int, int] | None, bool]] = {}  # file -> (stamp, a policy?)


def _is_policy_file(path: Path) -> bool:
    """Read again only when the file changed: the watcher asks every interval."""
    key, stamp = str(path), _stamp(str(path))
    known = _kinds.get(key)
    if known is not None and known[0] == stamp:
        return known[1]
    try:
        tree = load_located(path)
        kind = isinstance(tree, LMap) and isinstance(tree.get("policy"), LMap)
    except PolicyError:
        kind = True  # a broken file is refused by name, not silently skipped
    _kinds[key] = (stamp, kind)
    return kind


def _stamp(path: str) -> tuple[int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_mtime_ns, info.st_size


class Registry:
    """Loads the sources, then (with `watch`) polls the files' modification times and reloads
    what changed: a changed file, an added one, and every policy that extends a changed file."""

    def __init__(self, sources: Sequence[str], search_path: Sequence[str] = (), *,
                 regions: Sequence[str] = (),
                 on_reload: Callable[[str, str], None] | None = None,
                 on_swap: Callable[[], None] | None = None) -> None:
        self.sources = tuple(sources)
        self.search_path = tuple(search_path)
        self.regions = tuple(os.path.normpath(path) for path in regions)
        self.on_reload = on_reload  # (policy id or file, "ok" | "refused")
        self.on_swap = on_swap  # called after each new snapshot is in force
        self._stamps: dict[str, tuple[int, int] | None] = {}
        self._lock = threading.Lock()  # one reload at a time
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.current = Snapshot({}, {})

    # -- loading ------------------------------------------------------------------------------
    def load(self) -> Snapshot:
        """The first load; what it refuses stays refused (the caller decides whether to
        start)."""
        self.reload(force=True)
        return self.current

    def reload(self, *, force: bool = False) -> bool:
        """Reload what changed since the last look; True when the snapshot was replaced."""
        swapped = self._reload(force)
        if swapped and self.on_swap is not None:  # the old snapshot is no longer held here
            self.on_swap()
        return swapped

    def _reload(self, force: bool) -> bool:
        with self._lock:
            old = self.current
            files = policy_files(self.sources)
            watched = set(files) | {link for p in old.policies.values() for link in _chain(p)} \
                | set(self.regions)
            stamps = {path: _stamp(path) for path in watched}
            changed = {path for path, stamp in stamps.items()
                       if force or self._stamps.get(path, ()) != stamp}
            if not changed and \
                    set(files) == set(old.files) | (set(old.refused) - set(self.regions)):
                return False
            policies = dict(old.policies)
            owners = dict(old.files)
            refused = {f: r for f, r in old.refused.items() if f in files or f in self.regions}
            for gone in set(owners) - set(files):  # a file removed: its policy withdrawn
                log.warning("policy file %s is gone: policy %s withdrawn", gone, owners[gone])
                policies.pop(owners.pop(gone), None)
            for path in files:
                loaded_id = owners.get(path)
                chain = _chain(policies[loaded_id]) if loaded_id in policies else {path}
                is_new = loaded_id is None and path not in refused
                if not force and not is_new and path not in changed and not (chain & changed):
                    continue
                self._load_one(path, policies, owners, refused)
            tables = self._load_tables(old, policies, refused, changed)
            self._stamps = stamps
            self.current = Snapshot(policies, owners, refused, old.generation + 1, tables)
            return True

    def _load_tables(self, old: Snapshot, policies: dict[str, Policy],
                     refused: dict[str, Refusal], changed: set[str]) -> dict[str, RegionalPolicy]:
        """Each region table applied to its policy, again when either changed; a table that
        fails keeps the policy and table it was built with (`policies` is set back)."""
        tables: dict[str, RegionalPolicy] = {}
        for path in self.regions:
            kept = next((t for t in old.tables.values() if t.path == path), None)
            target, why = _table_target(path, policies)
            if target is not None and target in tables:
                why = f"policy '{target}' has a region table already " \
                    f"({tables[target].path}); give each table its own policy"
                target = None
            if target is not None and kept is not None and kept.base is policies[target] \
                    and path not in changed:
                tables[target] = kept
                continue
            table: RegionalPolicy | None = None
            if target is not None:
                try:
                    table = load_regions(policies[target], path)
                except PolicyError as exc:
                    errors = [d for d in exc.diagnostics if d.severity is Severity.ERROR]
                    first = (errors or exc.diagnostics)[0]
                    refusal = Refusal(path, len(errors), f"{first.location}: {first.message}")
            else:
                refusal = Refusal(path, 1, f"{path}: {why}")
            if table is not None:
                assert target is not None
                tables[target] = table
                refused.pop(path, None)
                log.info("region table %s applied to policy %s (%d regions, sha256 %s)",
                         path, target, len(table.regions), table.sha256)
                self._report(path, "ok")
                continue
            refused[path] = refusal
            if kept is not None:  # the policy and the table as they were keep serving
                tables[kept.base.id] = kept
                policies[kept.base.id] = kept.base
            log.error("region table %s refused (%d error(s)), first: %s%s", path,
                      refusal.errors, refusal.message,
                      "; the policy and table loaded before keep serving" if kept else "")
            self._report(path, "refused")
        return tables

    def _load_one(self, path: str, policies: dict[str, Policy], owners: dict[str, str],
                  refused: dict[str, Refusal]) -> None:
        try:
            policy = load_policy(path, search_path=self.search_path)
        except PolicyError as exc:
            errors = [d for d in exc.diagnostics if d.severity is Severity.ERROR]
            first = (errors or exc.diagnostics)[0]
            refusal = Refusal(path, len(errors), f"{first.location}: {first.message}")
            refused[path] = refusal
            kept = f"; policy {owners[path]} keeps serving" if path in owners else ""
            log.error("policy file %s refused (%d error(s)), first: %s%s", path,
                      len(errors), refusal.message, kept)
            self._report(owners.get(path, path), "refused")
            return
        except OSError as exc:
            refused[path] = Refusal(path, 1, f"{path}: cannot read: {exc.strerror}")
            log.error("policy file %s refused: cannot read: %s", path, exc.strerror)
            self._report(owners.get(path, path), "refused")
            return
        other = next((f for f, pid in owners.items() if pid == policy.id and f != path), None)
        if other is not None:
            refused[path] = Refusal(path, 1, f"{path}: policy id '{policy.id}' is already "
                                             f"loaded from {other}")
            log.error("policy file %s refused: id %s already loaded from %s", path,
                      policy.id, other)
            self._report(path, "refused")
            return
        previous = owners.get(path)
        if previous is not None and previous != policy.id:
            policies.pop(previous, None)
        policies[policy.id] = policy
        owners[path] = policy.id
        refused.pop(path, None)
        log.info("policy %s loaded from %s (sha256 %s)", policy.id, path, policy.sha256)
        self._report(policy.id, "ok")

    def _report(self, name: str, result: str) -> None:
        if self.on_reload is not None:
            self.on_reload(name, result)

    # -- watching -----------------------------------------------------------------------------
    def watch(self, interval: float) -> None:
        """Poll every `interval` seconds in a daemon thread until `stop`."""
        if interval <= 0 or self._thread is not None:
            return

        def loop() -> None:
            while not self._stop.wait(interval):
                try:
                    self.reload()
                except Exception:  # a watcher that dies would stop every later reload
                    log.exception("policy reload failed; the policies in force keep serving")

        self._thread = threading.Thread(target=loop, name="fangpin-policy-watch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)


def _table_target(path: str, policies: Mapping[str, Policy]) -> tuple[str | None, str]:
    """The id of the loaded policy a region table is for, or None and why not."""
    named: str | None = None
    if not path.lower().endswith(".csv"):
        try:
            tree = load_located(path)
        except PolicyError as exc:
            return None, exc.diagnostics[0].message if exc.diagnostics else "cannot be read"
        meta = tree.get("region_table") if isinstance(tree, LMap) else None
        node = meta.get("policy") if isinstance(meta, LMap) else None
        if isinstance(node, LScalar) and isinstance(node.value, str):
            named = node.value
    if named is not None:
        if named in policies:
            return named, ""
        loaded = ", ".join(sorted(policies)) or "none"
        return None, f"the table is for policy '{named}', which is not loaded ({loaded})"
    roots = Snapshot(policies, {}).roots()
    if len(roots) == 1:
        return roots[0].id, ""
    return None, (f"the table names no policy and {len(roots)} policies could take it: "
                  "give it `region_table: policy: ID` (a YAML table)")


def _chain(policy: Policy) -> set[str]:
    """The files a policy is made of (itself and the bases it extends)."""
    inheritance = policy.checked.inheritance
    if inheritance is None:
        return {os.path.normpath(policy.path)}
    return {os.path.normpath(link.path) for link in inheritance.chain}
