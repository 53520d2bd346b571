"""The policy test file: pydantic models of its YAML, read with positions.

A test file is data, like a policy: it names the policy it tests, a base household merged into
every case, and cases, each a household (as overrides of the base), an evaluation date and the
decision fields it expects. A structural mistake (a misspelt key, a missing `expect:`) is
reported at the file's line and column, as for a policy file.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import Field

from fangpin_rules.diagnostics import Location, PolicyError, error
from fangpin_rules.policy.document import Strict
from fangpin_rules.policy.inherit import policy_roots
from fangpin_rules.policy.read import validate_located
from fangpin_rules.source import LNode, load_located, locate
from fangpin_rules.source.files import FileRefused, check_inside

CASE_ID = r"^[^\s]{1,120}$"


class TestCase(Strict):
    """One household, one date, the decision fields expected."""

    __test__ = False  # not a pytest test class

    id: str = Field(pattern=CASE_ID)
    title: str | None = None
    articles: str | list[str] = Field(default_factory=list)
    policy: str | None = None  # another policy than the file's (path relative to the file)
    as_of: date | None = None
    household: dict[str, Any] = Field(default_factory=dict)
    case: dict[str, Any] | None = None  # a case record (its household_id defaults)
    expect: dict[str, Any] = Field(min_length=1)
    tolerance: Decimal | None = None
    xfail: str | None = None
    note: str | None = None


class TestFile(Strict):
    """A file of cases for one policy."""

    __test__ = False

    policy: str
    title: str | None = None
    articles: str | list[str] = Field(default_factory=list)
    as_of: date | None = None
    tolerance: Decimal = Decimal(0)
    base: dict[str, Any] = Field(default_factory=dict)
    cases: list[TestCase] = Field(min_length=1)
    note: str | None = None


@dataclass(frozen=True)
class SourcedTestFile:
    """A validated test file and the located tree it came from."""

    __test__ = False

    model: TestFile
    tree: LNode
    path: str

    def location(self, path: tuple[str | int, ...]) -> Location:
        return locate(self.tree, path)[0]

    def has(self, path: tuple[str | int, ...]) -> bool:
        return locate(self.tree, path)[1] is not None

    def policy_path(self, case: TestCase) -> Path:
        return (Path(self.path).parent / (case.policy or self.model.policy)).resolve()


def articles_of(value: str | list[str]) -> list[str]:
    """`§1, §2` or [§1, §2] -> ['§1', '§2']."""
    items = [value] if isinstance(value, str) else value
    out: list[str] = []
    for item in items:
        out.extend(part.strip() for part in item.replace("，", ",").replace("、", ",").split(",")
                   if part.strip())
    return out


def read_test_file(path: str | Path) -> SourcedTestFile:
    """Load and validate a test file; raises PolicyError with every problem at file:line:col."""
    file = str(path)
    tree = load_located(file)
    model = validate_located(tree, TestFile, "test",
                             "a test file must be a mapping with `policy:` and `cases:`",
                             "see docs/testing-policies.md")
    sourced = SourcedTestFile(model, tree, file)
    roots = [str(root) for root in policy_roots(file)]  # a test file names its policy there
    problems = []
    seen: dict[str, int] = {}
    missing: set[Path] = set()
    for index, case in enumerate(model.cases):
        if case.id in seen:
            problems.append(error(
                "duplicate-case", f"case id '{case.id}' is used twice in this file",
                sourced.location(("cases", index, "id")), length=len(case.id),
                related=(("first used", sourced.location(("cases", seen[case.id], "id"))),),
                hint="give every case its own id"))
        seen.setdefault(case.id, index)
        if case.as_of is None and model.as_of is None:
            problems.append(error(
                "missing-as-of", f"case '{case.id}' has no evaluation date",
                sourced.location(("cases", index)),
                hint="add `as_of: YYYY-MM-DD` to the case, or once at the top of the file"))
        target = sourced.policy_path(case)
        where = ("cases", index, "policy") if case.policy else ("policy",)
        try:
            check_inside(str(target), roots)
        except FileRefused as exc:
            if target not in missing:
                missing.add(target)
                problems.append(error(
                    "policy-outside", f"policy file '{case.policy or model.policy}' is not "
                    f"read: {exc.message}", sourced.location(where), hint=exc.hint))
            continue
        if not target.is_file() and target not in missing:
            missing.add(target)
            problems.append(error(
                "policy-not-found", f"policy file '{case.policy or model.policy}' does not "
                f"exist (looked for {target})", sourced.location(where),
                hint="the path is relative to the test file"))
    if problems:
        raise PolicyError(problems)
    return sourced
