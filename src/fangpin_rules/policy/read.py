"""Read a policy file into a `PolicyDocument`, turning every structural error into a
diagnostic at the YAML line and column it concerns."""

from __future__ import annotations

import types
import typing
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from fangpin_rules.diagnostics import Diagnostic, Location, PolicyError, did_you_mean, error
from fangpin_rules.policy.bundled import policy_file
from fangpin_rules.policy.document import DECISION_KINDS, PolicyDocument
from fangpin_rules.policy.inherit import Inheritance, resolve
from fangpin_rules.source import LMap, LNode, LScalar, key_location, locate, plain


@dataclass(frozen=True)
class SourcedDocument:
    """A validated policy document and the located tree it came from."""

    document: PolicyDocument
    tree: LNode
    path: str
    sha256: str  # of the file; for a file that `extends:` others, a hash over the chain
    inheritance: Inheritance | None = None  # the chain and what it overrides, if it extends

    def location(self, path: tuple[str | int, ...]) -> Location:
        return locate(self.tree, path)[0]

    def scalar(self, path: tuple[str | int, ...]) -> LScalar | None:
        node = locate(self.tree, path)[1]
        return node if isinstance(node, LScalar) else None


def read_document(path: str | Path, search_path: Sequence[str | Path] = (), *,
                  inside: Sequence[str] | None = None) -> SourcedDocument:
    """Load, locate and validate a policy file, the bases it `extends:` merged in (looked up
    by id in `search_path`, then $FANGPIN_POLICY_PATH, then beside the file); raises
    PolicyError with every problem found. `path` may be a policy id instead (`fujian-2021`):
    looked up in the search path, then among the policies the package ships. `inside`: the
    file is one another file named, read only inside these policy roots (`resolve`)."""
    file = policy_file(str(path), search_path) if inside is None else str(path)
    resolved = resolve(file, search_path, inside=inside)
    return validate_tree(resolved.tree, file, resolved.digest, resolved.inheritance)


def validate_tree(tree: LNode, file: str, digest: str,
                  inheritance: Inheritance | None = None) -> SourcedDocument:
    document = validate_located(tree, PolicyDocument, "policy",
                                "a policy file must be a mapping with a `policy:` section",
                                "start from policies/fujian_2021.yaml")
    return SourcedDocument(document, tree, file, digest, inheritance)


Model = TypeVar("Model", bound=BaseModel)


def validate_located(tree: LNode, model: type[Model], kind: str, shape: str,
                     hint: str) -> Model:
    """A located tree validated as `model` (a policy, a test file): every structural problem
    becomes a diagnostic at its file:line:col."""
    if not isinstance(tree, LMap):
        raise PolicyError([error(f"{kind}-shape", shape, tree.loc, hint=hint)])
    try:
        return model.model_validate(plain(tree))
    except ValidationError as exc:
        raise PolicyError(model_diagnostics(exc, tree, model)) from None


def model_diagnostics(exc: ValidationError, tree: LNode,
                      model: type[BaseModel] = PolicyDocument) -> list[Diagnostic]:
    """Pydantic's errors for a located tree validated as `model`, at their file:line:col."""
    out: list[Diagnostic] = []
    seen: set[tuple[Any, ...]] = set()
    for err in exc.errors(include_url=False):
        if _wrong_union_branch(tree, tuple(err["loc"])):
            continue
        path = _tree_path(tree, tuple(err["loc"]))
        kind = err["type"]
        key = (path, kind)
        if key in seen:
            continue
        seen.add(key)
        if kind == "extra_forbidden":
            name = str(path[-1])
            allowed = _allowed_keys(model, path[:-1], tree)
            hint = did_you_mean(name, allowed)
            listing = ", ".join(sorted(allowed))
            if " " in name.strip():
                hint = ("in a {…} mapping a comma separates keys: put the text with the comma "
                        "in quotes.")
            out.append(error(
                "unknown-key", f"unknown key '{name}'", key_location(tree, path),
                length=len(name),
                hint=(hint + " " if hint else "") + f"Keys allowed here: {listing}."))
        elif kind == "missing":
            name = str(path[-1])
            out.append(error("missing-key", f"required key '{name}' is missing",
                             locate(tree, path[:-1])[0], hint=f"add `{name}:` here"))
        elif kind in ("union_tag_invalid", "union_tag_not_found"):
            out.append(error("decision-kind", "unknown decision kind",
                             key_location(tree, (*path, "kind")),
                             hint="kind is one of: " + ", ".join(DECISION_KINDS)))
        else:
            loc, node = locate(tree, path)
            excerpt = node.raw if isinstance(node, LScalar) else ""
            where = ".".join(str(p) for p in path)
            out.append(error("invalid-value", f"{where}: {err['msg']}", loc,
                             excerpt=excerpt, length=max(1, len(excerpt))))
    return out


_SCALAR_BRANCHES = {"str", "int", "bool", "date", "decimal", "float", "list[str]"}


def _wrong_union_branch(tree: LNode, loc: tuple[Any, ...]) -> bool:
    """An error from the scalar branch of a `text | mapping` union where the file wrote a
    mapping (or the reverse) is noise: the other branch's error is the one to show."""
    current: LNode | None = tree
    for step in loc:
        if isinstance(current, LMap):
            if isinstance(step, str) and step in current.entries:
                current = current.entries[step][1]
                continue
            return step in _SCALAR_BRANCHES
        if isinstance(current, LScalar):
            return isinstance(step, str) and step[:1].isupper()  # a model branch on a scalar
        if current is not None and hasattr(current, "items") and isinstance(step, int):
            items = current.items
            current = items[step] if isinstance(items, list) and step < len(items) else None
            continue
        return False
    return False


def _tree_path(tree: LNode, loc: tuple[Any, ...]) -> tuple[str | int, ...]:
    """Drop the discriminator tags pydantic puts in error paths, keeping real keys."""
    out: list[str | int] = []
    current: LNode | None = tree
    for step in loc:
        if isinstance(current, LMap):
            if isinstance(step, str) and step in current.entries:
                out.append(step)
                current = current.entries[step][1]
                continue
            if step in DECISION_KINDS or (isinstance(step, str) and step[:1].isupper()):
                continue  # a discriminator tag or a union branch (a model name), not a key
            if step == "from_":
                step = "from"
            out.append(step)
            current = None
        elif current is not None and hasattr(current, "items") and isinstance(step, int):
            out.append(step)
            items = current.items
            current = items[step] if isinstance(items, list) and step < len(items) else None
        else:
            if step in DECISION_KINDS or (isinstance(step, str) and step.startswith(
                    ("function-after", "list["))):
                continue
            out.append(step)
    return tuple(out)


def _allowed_keys(model: Any, path: tuple[str | int, ...], tree: LNode) -> set[str]:
    """The keys the schema allows at `path` (for did-you-mean suggestions)."""
    current: Any = model
    node: LNode | None = tree
    for step in path:
        current = _resolve(current, node)
        if isinstance(current, type) and issubclass(current, BaseModel):
            fields = {f.alias or n: f for n, f in current.model_fields.items()}
            current = fields[step].annotation if step in fields else None
        else:
            origin = typing.get_origin(current)
            args = typing.get_args(current)
            current = args[-1] if origin in (dict, list) and args else None
        node = locate(node, (step,))[1] if node is not None else None
        if current is None:
            return set()
    current = _resolve(current, node)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return {f.alias or n for n, f in current.model_fields.items()}
    return set()


def _resolve(annotation: Any, node: LNode | None) -> Any:
    """Unwrap Annotated/Optional/unions to the model that applies to `node`."""
    for _ in range(10):
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
            continue
        if origin in (typing.Union, types.UnionType):
            members = [a for a in typing.get_args(annotation) if a is not type(None)]
            models = [_resolve(m, node) for m in members]
            models = [m for m in models if isinstance(m, type) and issubclass(m, BaseModel)]
            kind = None
            if isinstance(node, LMap):
                kind_node = node.get("kind")
                kind = kind_node.value if isinstance(kind_node, LScalar) else "value"
            for m in models:
                default = m.model_fields.get("kind")
                if default is not None and kind in typing.get_args(default.annotation):
                    return m
            if models:
                return models[0]
            return members[0] if members else None
        return annotation
    return annotation
