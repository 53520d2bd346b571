"""Run policy test files: every case through the traced evaluator, compared with `expect:`.

Comparison is partial: only the fields a case names are compared; a mapping compares only the
keys it names; a list compares as a set; a number compares exactly unless the case (or the file)
states a tolerance. Every case is evaluated with its trace, which rule coverage reads.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from fangpin_rules.diagnostics import Diagnostic, Location, PolicyError, did_you_mean
from fangpin_rules.engine import Policy, RecordError, load_policy
from fangpin_rules.engine.policy import DateError
from fangpin_rules.engine.serialize import dumps
from fangpin_rules.policy.inherit import policy_roots
from fangpin_rules.source import LMap, load_located
from fangpin_rules.source.files import FileRefused, check_inside
from fangpin_rules.testing.format import (
    SourcedTestFile,
    TestCase,
    articles_of,
    read_test_file,
)

TEST_FILE_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class Mismatch:
    """One expected field that the decision does not match."""

    field: str  # dotted path in the decision, e.g. `cadre.rank`
    expected: Any
    actual: Any
    note: str = ""

    def render(self) -> str:
        text = f"{self.field}: expected {show(self.expected)}, got {show(self.actual)}"
        return f"{text} ({self.note})" if self.note else text

    def to_json(self) -> dict[str, Any]:
        return {"field": self.field, "expected": self.expected, "actual": self.actual,
                "note": self.note}


@dataclass
class CaseResult:
    """The outcome of one case: pass, fail, error (could not be decided), xfail or xpass."""

    file: str
    case_id: str
    title: str | None
    articles: list[str]
    location: Location
    status: str
    policy_path: str | None = None
    mismatches: list[Mismatch] = field(default_factory=list)
    message: str = ""  # the error, or the xfail reason
    decision: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return self.status in ("pass", "xfail")

    @property
    def name(self) -> str:
        return f"{Path(self.file).name}::{self.case_id}"

    def render(self) -> str:
        """One line, and for a failure one indented line per mismatched field."""
        cites = f" ({', '.join(self.articles)})" if self.articles else ""
        head = f"{self.status.upper():5} {self.name}{cites}"
        lines = [head]
        if self.status in ("fail", "xpass", "error"):
            lines[0] += f"  [{self.location}]"
        lines.extend("      " + m.render() for m in self.mismatches)
        if self.message:
            lines.append("      " + self.message)
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {"file": self.file, "case": self.case_id, "title": self.title,
                "articles": self.articles, "status": self.status,
                "location": str(self.location), "policy": self.policy_path,
                "mismatches": [m.to_json() for m in self.mismatches],
                "message": self.message}


@dataclass
class TestRun:
    """Every case of every file, and the files that could not be read."""

    __test__ = False

    results: list[CaseResult] = field(default_factory=list)
    file_errors: list[Diagnostic] = field(default_factory=list)
    policies: dict[str, Policy] = field(default_factory=dict)  # resolved path -> policy
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, what it is instead)

    @property
    def ok(self) -> bool:
        return not self.file_errors and all(r.ok for r in self.results)

    def counts(self) -> dict[str, int]:
        out = {"pass": 0, "fail": 0, "error": 0, "xfail": 0, "xpass": 0}
        for result in self.results:
            out[result.status] += 1
        return out


def discover(paths: Iterable[str | Path]) -> list[Path]:
    """The test files named, and every YAML file under the folders named, in a stable order
    (a file reached through a symbolic link that goes outside the folder is not one of them)."""
    return [path for path, _ in _discover(paths) if path is not None]


def _discover(paths: Iterable[str | Path]) -> list[tuple[Path, str | None]]:
    """Each file with what it is when it is not a test file: a folder of policies and their
    tests holds policies and region tables too, which are skipped, not failed. A file named
    on its own is always read as a test file."""
    found: list[tuple[Path, str | None]] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            inside = [str(path)]
            found.extend((p, _not_a_test_file(p)) for p in sorted(path.rglob("*"))
                         if p.suffix in TEST_FILE_SUFFIXES and p.is_file()
                         and _inside(p, inside))
        else:
            found.append((path, None))
    return found


def _inside(path: Path, roots: list[str]) -> bool:
    try:
        check_inside(str(path), roots)
    except FileRefused:
        return False
    return True


def _not_a_test_file(path: Path) -> str | None:
    """'policy' or 'region table' for a YAML file that is one, by its top-level keys; None for
    anything else (a file that does not parse is read as a test file, and its errors shown)."""
    try:
        tree = load_located(path)
    except PolicyError:
        return None
    if not isinstance(tree, LMap):
        return None
    if isinstance(tree.get("policy"), LMap) or "extends" in tree.entries:
        return "policy"
    if "region_table" in tree.entries and "cases" not in tree.entries:
        return "region table"
    return None


def run_tests(paths: Iterable[str | Path]) -> TestRun:
    """Run every case of the test files (or folders of them) given."""
    run = TestRun()
    cache: dict[Path, Policy | PolicyError] = {}
    for path, other in _discover(paths):
        if other is not None:
            run.skipped.append((str(path), other))
            continue
        try:
            sourced = read_test_file(path)
        except PolicyError as exc:
            run.file_errors.extend(exc.diagnostics)
            continue
        run.results.extend(run_file(sourced, cache))
    for target, loaded in cache.items():
        if isinstance(loaded, Policy):
            run.policies[str(target)] = loaded
    return run


def run_file(sourced: SourcedTestFile,
             cache: dict[Path, Policy | PolicyError] | None = None) -> Iterator[CaseResult]:
    cache = {} if cache is None else cache
    for index in range(len(sourced.model.cases)):
        yield run_case(sourced, index, cache)


def run_case(sourced: SourcedTestFile, index: int,
             cache: dict[Path, Policy | PolicyError]) -> CaseResult:
    """Decide one case and compare; never raises for a bad policy, household or date."""
    case = sourced.model.cases[index]
    where = ("cases", index)
    result = CaseResult(sourced.path, case.id, case.title,
                        articles_of(case.articles) or articles_of(sourced.model.articles),
                        sourced.location(where), "pass")
    target = sourced.policy_path(case)
    result.policy_path = str(target)
    policy = cache.get(target)
    if policy is None:
        try:
            # read inside the test file's policy roots, checked on the file opened: the
            # name was checked when the test file was read, and may have changed since
            inside = [str(root) for root in policy_roots(sourced.path)]
            policy = load_policy(target, inside=inside)
        except PolicyError as exc:
            policy = exc
        cache[target] = policy
    if isinstance(policy, PolicyError):
        result.status = "error"
        result.message = f"the policy {target} has errors (run `fangpin check` on it): {policy}"
        return result
    as_of = case.as_of or sourced.model.as_of
    household = build_household(sourced.model.base, case)
    cases = []
    if case.case is not None:
        cases.append({"household_id": household["household_id"], **case.case})
    try:
        decision = policy.evaluate(household, as_of or "", explain=True, cases=cases)
    except RecordError as exc:
        rejection = exc.rejection
        result.status = "error"
        field_path = _split(rejection.field) if rejection.field else ()
        in_case = bool(field_path) and cases and rejection.field not in household and \
            sourced.has((*where, "case", field_path[0]))
        result.location = (sourced.location((*where, "case", *field_path)) if in_case
                           else _household_location(sourced, index, field_path))
        what = "case record" if in_case else "household"
        result.message = f"the {what} is not a valid record: {exc}"
        return result
    except DateError as exc:
        result.status = "error"
        result.message = f"as_of: {exc}"
        return result
    result.decision = decision
    tolerance = case.tolerance if case.tolerance is not None else sourced.model.tolerance
    result.mismatches = compare_expected(case.expect, decision, tolerance)
    for mismatch in result.mismatches:  # point at the first wrong expectation
        result.location = sourced.location((*where, "expect", *_split(mismatch.field)))
        break
    failed = bool(result.mismatches)
    if case.xfail is not None:
        result.status = "xfail" if failed else "xpass"
        result.message = (f"expected to fail: {case.xfail}" if failed else
                          f"marked xfail ({case.xfail}) but passes: remove `xfail:`")
    else:
        result.status = "fail" if failed else "pass"
    return result


def build_household(base: dict[str, Any], case: TestCase) -> dict[str, Any]:
    """The base household with the case's fields merged in (mappings merge, lists replace);
    the household id defaults to the case id."""
    household = merge(base, case.household)
    household.setdefault("household_id", case.id)
    return household


def merge(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _split(dotted: str) -> tuple[str | int, ...]:
    return tuple(int(p) if p.isdigit() else p for p in dotted.split("."))


def _household_location(sourced: SourcedTestFile, index: int,
                        field_path: tuple[str | int, ...]) -> Location:
    """Where the bad household field is written: in the case, else in the base."""
    for depth in range(len(field_path), 0, -1):
        for prefix in (("cases", index, "household"), ("base",)):
            path = (*prefix, *field_path[:depth])
            if sourced.has(path):
                return sourced.location(path)
    return sourced.location(("cases", index))


# -- comparison ---------------------------------------------------------------------------------
def compare_expected(expect: dict[str, Any], decision: dict[str, Any],
                     tolerance: Decimal) -> list[Mismatch]:
    """Every way the decision differs from the expected fields."""
    out: list[Mismatch] = []
    for key, expected in expect.items():
        if key not in decision:
            hint = did_you_mean(key, decision)
            out.append(Mismatch(key, expected, None,
                                "no such field in the decision" + (f"; {hint}" if hint else "")))
            continue
        out.extend(_compare(key, expected, decision[key], tolerance))
    return out


def _compare(path: str, expected: Any, actual: Any, tolerance: Decimal) -> list[Mismatch]:
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [Mismatch(path, expected, actual)]
        out: list[Mismatch] = []
        for key, value in expected.items():
            if key not in actual:
                hint = did_you_mean(str(key), actual)
                out.append(Mismatch(f"{path}.{key}", value, None,
                                    "no such field" + (f"; {hint}" if hint else "")))
            else:
                out.extend(_compare(f"{path}.{key}", value, actual[key], tolerance))
        return out
    if isinstance(expected, list):
        if not isinstance(actual, list | tuple | set | frozenset):
            return [Mismatch(path, expected, actual)]
        if any(isinstance(v, dict) for v in expected):
            return _compare_records(path, expected, list(actual), tolerance)
        want = {_key(v) for v in expected}
        got = {_key(v) for v in actual}
        if want == got:
            return []
        missing = sorted(want - got)
        extra = sorted(got - want)
        note = "; ".join(part for part in (
            f"missing {', '.join(missing)}" if missing else "",
            f"unexpected {', '.join(extra)}" if extra else "") if part)
        return [Mismatch(path, sorted(want), sorted(got), f"compared as sets: {note}")]
    if _is_number(expected) and _is_number(actual):
        difference = abs(Decimal(actual) - Decimal(expected))
        if difference <= tolerance:
            return []
        note = f"differs by {difference}" + (f", tolerance {tolerance}" if tolerance else "")
        return [Mismatch(path, expected, actual, note)]
    if isinstance(expected, date) and isinstance(actual, str | date):
        return [] if _key(actual) == expected.isoformat() else [Mismatch(path, expected, actual)]
    if type(expected) is bool or expected is None or type(actual) is bool:
        return [] if expected is actual else [Mismatch(path, expected, actual)]
    return [] if expected == actual else [Mismatch(path, expected, actual)]


def _compare_records(path: str, expected: list[Any], actual: list[Any],
                     tolerance: Decimal) -> list[Mismatch]:
    """A list of mappings (deadline entries): as many entries as expected, each expected one
    matching (partially) a different actual one, in any order."""
    unused = list(actual)
    unmatched = []
    for want in expected:
        for index, got in enumerate(unused):
            if not _compare(path, want, got, tolerance):
                del unused[index]
                break
        else:
            unmatched.append(want)
    if not unmatched and not unused:
        return []
    notes = [f"no entry matches {show(w)}" for w in unmatched]
    notes += [f"unexpected entry {show(u)}" for u in unused]
    return [Mismatch(path, expected, actual, "; ".join(notes))]


def _is_number(value: Any) -> bool:
    return isinstance(value, int | Decimal) and not isinstance(value, bool)


def _key(value: Any) -> str:
    if isinstance(value, date):
        return value.isoformat()
    return value if isinstance(value, str) else dumps(value)


def show(value: Any) -> str:
    """A value as the test file would write it (JSON, Chinese as is, exact decimals)."""
    if isinstance(value, str):
        return value
    return dumps(value)
