"""`extends:`: one effective policy from a chain of files (province -> city -> county).

Inheritance is a merge of located trees, between reading the YAML and validating it. Every
value keeps the `Location` of the file it was written in, so the checker's messages and the
trace's parameter entries point into the county file or the province file as the case may be.

The merge rules (docs/county-guide.md says the same for a county officer):

- `policy:` is the extending file's own (id, title, effective, ...); `extends:` is dropped.
- `parameters:` a new name is added whole. For an inherited name the file gives only `value:`
  or `values:` (and `note:`); its dated values replace the base's from its own first `from:`
  date on, and the base's earlier values stay in force. A plain `value:` counts from the file's
  `effective` date. A parameter whose base bounds say `locked: true` cannot be overridden.
- `definitions:` a new name is added; an inherited one may be replaced only where the base
  marks it `overridable: true`.
- `decisions:` a new decision is added. For an inherited `first_match` or `collect` decision
  the file gives only `rules:`: a rule with a new id is added (for `first_match` at the end,
  or where `before: ID` / `after: ID` put it); a rule with a base rule's id replaces it, only
  where that base rule is `overridable: true`.
- `vocabularies:` labels may be added, never redefined; `articles:`, `procedure:`, `duties:`
  and the others take new entries only (`calendar: years:` new years only).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from fangpin_rules.diagnostics import Diagnostic, Location, PolicyError, error
from fangpin_rules.limits import (
    MAX_EXTENDS_CHAIN_BYTES,
    MAX_EXTENDS_CHAIN_FILES,
    MAX_EXTENDS_CHARS,
    MAX_POLICY_FILE_BYTES,
)
from fangpin_rules.policy.merge import Addition, Merger, Override
from fangpin_rules.source import LMap, LNode, LScalar
from fangpin_rules.source.files import FileRefused, read_inside
from fangpin_rules.source.located import parse_located_bytes, read_policy_bytes

SEARCH_PATH_ENV = "FANGPIN_POLICY_PATH"


@dataclass(frozen=True)
class ChainLink:
    """One file of the chain: its path, policy id and the sha256 of its bytes."""

    path: str
    id: str | None
    sha256: str


@dataclass(frozen=True)
class Inheritance:
    chain: tuple[ChainLink, ...]  # the base first, the file itself last
    overrides: tuple[Override, ...] = ()
    additions: tuple[Addition, ...] = ()

    @property
    def sha256(self) -> str:
        """A hash over the chain: any change to any file of it changes the policy's identity."""
        text = "\n".join(f"{link.sha256} {link.id}" for link in self.chain)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def parameter_override(self, name: str, file: str) -> Override | None:
        """How `file` overrode a parameter, if it did."""
        for item in self.overrides:
            if item.kind == "parameter" and item.name == name and item.file == file:
                return item
        return None


@dataclass
class Resolved:
    tree: LNode
    digest: str
    inheritance: Inheritance | None


def search_path(extra: Sequence[str | Path] = ()) -> tuple[list[Path], list[Path]]:
    """Where a base named by id is looked for: the folders given explicitly (looked in before
    the file's own folder), and those of FANGPIN_POLICY_PATH (after it, so that a copy
    elsewhere never shadows the base that sits beside the file)."""
    env = os.environ.get(SEARCH_PATH_ENV, "")
    return [Path(p) for p in extra], [Path(p) for p in env.split(os.pathsep) if p]


def policy_roots(file: str | Path, extra_path: Sequence[str | Path] = ()) -> list[Path]:
    """The folders inside which a file named by `file` (its `extends:`, a test file's
    `policy:`) may be read: its own folder tree, the `policies/` folders above it, and the
    search path's folders (docs/security.md)."""
    return _roots(Path(file).parent, *search_path(extra_path))


def _roots(here: Path, first: list[Path], last: list[Path]) -> list[Path]:
    """In the order a base named by id is looked for (see `search_path`)."""
    return _unique([*first, here, *_policies_ancestors(here), *last])


def resolve(path: str | Path, extra_path: Sequence[str | Path] = (), *,
            inside: Sequence[str] | None = None) -> Resolved:
    """The effective located tree of a policy file, its bases merged in. With `inside` (the
    policy roots of the file that named this one: a test file's `policy:`), the file itself
    is read only inside them, checked on the file opened (`read_inside`)."""
    first, last = search_path(extra_path)
    file = str(path)
    raw = read_policy_bytes(file) if inside is None else _read_named(file, inside)
    return _Resolver(first, last, len(raw)).resolve(file, raw, ())


class _Resolver:
    def __init__(self, first: list[Path], last: list[Path], read: int) -> None:
        self.first = first
        self.last = last
        self.chain_bytes = read  # bytes of the chain's files read so far (MAX_EXTENDS_CHAIN_*)

    def resolve(self, file: str, raw: bytes,
                stack: tuple[tuple[str, Location | None], ...]) -> Resolved:
        tree = parse_located_bytes(raw, file)
        digest = hashlib.sha256(raw).hexdigest()
        if not isinstance(tree, LMap) or "extends" not in tree.entries:
            if stack:
                link = ChainLink(file, _policy_id(tree), digest)
                return Resolved(tree, digest, Inheritance((link,)))
            return Resolved(tree, digest, None)
        extends = tree.entries["extends"][1]
        if not isinstance(extends, LScalar) or not isinstance(extends.value, str) or \
                not extends.value.strip():
            raise PolicyError([error("extends", "`extends:` names the base policy: a path "
                                     "relative to this file, or a policy id", extends.loc,
                                     hint="e.g. `extends: fujian-2021` or "
                                     "`extends: ../fujian_2021.yaml`")])
        base_file, base_raw = self._find(extends, file)
        here = os.path.realpath(file)
        chain = [*stack, (here, extends.loc)]
        real_base = os.path.realpath(base_file)
        seen = [p for p, _ in chain]
        if real_base in seen:
            names = [*(os.path.relpath(p) for p in seen[seen.index(real_base):]),
                     os.path.relpath(real_base)]
            raise PolicyError([error(
                "extends-cycle", "`extends:` goes round in a cycle: " + " -> ".join(names),
                extends.loc, length=len(extends.raw),
                related=tuple(("extends written", loc) for _, loc in chain[:-1] if loc),
                hint="a policy cannot extend itself, directly or through others")])
        self._bound_chain(extends, base_file, len(chain) + 1, len(base_raw))
        base = self.resolve(base_file, base_raw, tuple(chain))
        if not isinstance(base.tree, LMap):
            raise PolicyError([error("policy-shape", "the base policy is not a mapping",
                                     base.tree.loc)])
        own_id = _policy_id(tree)
        for link in (base.inheritance.chain if base.inheritance else ()):
            if own_id is not None and link.id == own_id:
                raise PolicyError([error(
                    "duplicate-policy-id", f"this file and its base {os.path.relpath(link.path)} "
                    f"have the same policy id '{own_id}'", extends.loc,
                    hint="each policy in a chain needs its own `policy: id:` (e.g. the "
                    "county's code), so decisions and diffs say which one decided")])
        merger = Merger(file)
        merged = merger.merge(base.tree, tree)
        if merger.errors:
            raise PolicyError(merger.errors)
        previous = base.inheritance or Inheritance(())
        link = ChainLink(file, _policy_id(tree), digest)
        inheritance = Inheritance((*previous.chain, link),
                                  (*previous.overrides, *merger.overrides),
                                  (*previous.additions, *merger.additions))
        return Resolved(merged, inheritance.sha256, inheritance)

    def _bound_chain(self, extends: LScalar, base_file: str, files: int, size: int) -> None:
        """Refuse the base that makes the chain longer or larger than its bounds, at the
        `extends:` that names it."""
        self.chain_bytes += size
        name = os.path.relpath(base_file)
        problem = ""
        if files > MAX_EXTENDS_CHAIN_FILES:
            problem = (f"with {name} the `extends:` chain has {files} files, more than "
                       f"MAX_EXTENDS_CHAIN_FILES ({MAX_EXTENDS_CHAIN_FILES})")
        elif self.chain_bytes > MAX_EXTENDS_CHAIN_BYTES:
            problem = (f"with {name} the files of the `extends:` chain come to "
                       f"{self.chain_bytes:,} bytes, more than MAX_EXTENDS_CHAIN_BYTES "
                       f"({MAX_EXTENDS_CHAIN_BYTES:,})")
        if problem:
            raise PolicyError([error(
                "extends-chain-too-long", problem, extends.loc,
                length=max(1, len(extends.raw)),
                hint="a chain is the province, perhaps a city, and the county: extend the "
                "province (or the city) directly rather than through more files")])

    def _find(self, extends: LScalar, file: str) -> tuple[str, bytes]:
        """The base `extends:` names and its bytes, read only inside the policy roots."""
        name = str(extends.value).strip()
        loc = extends.loc
        length = max(1, len(extends.raw))
        _check_name(name, loc, length)
        here = Path(file).parent
        dirs = _roots(here, self.first, self.last)
        roots = [str(d) for d in dirs]
        if name.endswith((".yaml", ".yml")) or "/" in name or os.sep in name:
            candidate = os.path.normpath(here / name)
            try:
                return candidate, read_inside(candidate, roots, MAX_POLICY_FILE_BYTES)
            except FileRefused as exc:
                if exc.code == "file-not-found":
                    raise PolicyError([error(
                        "extends-missing", f"base policy file '{name}' not found (looked for "
                        f"{candidate})", loc, length=length, hint="give the path relative to "
                        "this file, or the base's policy id")]) from None
                raise PolicyError([_refusal(exc, f"base policy file '{name}'", loc, length)]
                                  ) from None
        unreadable: list[str] = []
        for directory in dirs:
            found = _find_by_id(name, directory, roots, unreadable)
            if found is not None:
                return found
        looked = ", ".join(str(d) for d in dirs)
        skipped = (f"; skipped, as they could not be read as policies: "
                   f"{', '.join(unreadable[:5])}{' ...' if len(unreadable) > 5 else ''} "
                   "(`fangpin check` says why)" if unreadable else "")
        raise PolicyError([error(
            "extends-missing", f"no policy with id '{name}' found", loc, length=length,
            hint=f"looked in: {looked}. Put the base there, add its folder with --policy-path "
            f"or {SEARCH_PATH_ENV}, or give a path relative to this file{skipped}")])


def _read_named(file: str, roots: Sequence[str]) -> bytes:
    """A policy file another file named, read inside `roots`; a refusal at the file."""
    try:
        return read_inside(file, roots, MAX_POLICY_FILE_BYTES)
    except FileRefused as exc:
        code = "policy-outside" if exc.code in ("outside-roots", "file-changed") else exc.code
        raise PolicyError([error(code, f"policy file '{file}' is not read: {exc.message}",
                                 Location(file, 0, 0), hint=exc.hint)]) from None


def _check_name(name: str, loc: Location, length: int) -> None:
    """Refuse an `extends:` text no file or id can have (before any file is looked at)."""
    problem = ""
    if len(name) > MAX_EXTENDS_CHARS:
        problem = f"is {len(name)} characters long, more than {MAX_EXTENDS_CHARS}"
    elif any(ord(char) < 32 or ord(char) == 127 for char in name):
        problem = "contains a control character (NUL, newline, ...)"
    if problem:
        raise PolicyError([error(
            "extends-name", f"the `extends:` value {problem}", loc, length=length,
            hint="give the base's policy id (e.g. fujian-2021) or a short path relative to "
            "this file")])


def _refusal(exc: FileRefused, what: str, loc: Location, length: int) -> Diagnostic:
    code = {"outside-roots": "extends-outside", "file-too-large": "file-too-large"}.get(
        exc.code, "extends-unreadable")
    return error(code, f"{what} is not read: {exc.message}", loc, length=length,
                 hint=exc.hint or "name a policy file inside the policy folders")


def _policies_ancestors(directory: Path) -> list[Path]:
    """`policies/` folders at or above the file's folder (a county file in policies/counties/
    finds the province in policies/)."""
    out = []
    for parent in [directory, *directory.parents]:
        if parent.name == "policies":
            out.append(parent)
        elif (parent / "policies").is_dir():
            out.append(parent / "policies")
    return out


def _unique(paths: Iterable[Path]) -> list[Path]:
    seen: set[str] = set()
    out = []
    for p in paths:
        key = os.path.realpath(p)
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out


def find_by_id(policy_id: str, directory: Path) -> str | None:
    """The file in `directory` whose `policy: id:` is `policy_id`, if there is one."""
    found = _find_by_id(policy_id, directory, [str(directory)], [])
    return found[0] if found is not None else None


def policy_ids(directory: Path) -> list[str]:
    """The ids of the policies in `directory` (files that cannot be read are left out)."""
    ids = []
    for candidate in sorted(directory.glob("*.y*ml")) if directory.is_dir() else []:
        try:
            raw = read_inside(str(candidate), [str(directory)], MAX_POLICY_FILE_BYTES)
            found = _policy_id(parse_located_bytes(raw, str(candidate)))
        except (FileRefused, PolicyError, OSError):
            continue
        if found is not None:
            ids.append(found)
    return ids


def _find_by_id(policy_id: str, directory: Path, roots: list[str],
                unreadable: list[str]) -> tuple[str, bytes] | None:
    """The file in `directory` whose `policy: id:` is `policy_id` and its bytes (ID.yaml and
    ID with '_' for '-' are tried first). A file there that cannot be read or parsed is
    skipped and its name added to `unreadable`: a broken neighbour must not stop the search."""
    try:
        if not directory.is_dir():
            return None
        guesses = [directory / f"{policy_id}.yaml",
                   directory / f"{policy_id.replace('-', '_')}.yaml"]
        others = sorted(p for p in directory.glob("*.y*ml") if p not in guesses)
    except OSError:
        return None
    for candidate in [*guesses, *others]:
        name = os.path.normpath(str(candidate))
        try:
            if not candidate.exists():
                continue
            raw = read_inside(name, roots, MAX_POLICY_FILE_BYTES)
            found = _policy_id(parse_located_bytes(raw, name))
        except (FileRefused, PolicyError, OSError):
            unreadable.append(name)
            continue
        if found == policy_id:
            return name, raw
    return None


def _policy_id(tree: LNode) -> str | None:
    if isinstance(tree, LMap):
        meta = tree.get("policy")
        if isinstance(meta, LMap):
            node = meta.get("id")
            if isinstance(node, LScalar) and isinstance(node.value, str):
                return node.value
    return None


