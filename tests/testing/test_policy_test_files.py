"""Every case of every policy test file (`policies/tests/**/*.yaml`) is a pytest case, so the
files are part of `make test`; and the Fujian files cover every rule of the policy both ways."""

from __future__ import annotations

from pathlib import Path

import pytest

from fangpin_rules.diagnostics import PolicyError
from fangpin_rules.engine import Policy
from fangpin_rules.testing import coverage, discover, read_test_file, run_tests
from fangpin_rules.testing.format import SourcedTestFile
from fangpin_rules.testing.runner import run_case

from support import ROOT

TEST_ROOT = ROOT / "policies" / "tests"
FILES = discover([TEST_ROOT])
_cache: dict[Path, Policy | PolicyError] = {}
_sourced: dict[Path, SourcedTestFile] = {}


def _cases() -> list[tuple[Path, int, str]]:
    out = []
    for path in FILES:
        sourced = _sourced.setdefault(path, read_test_file(path))
        out.extend((path, index, case.id) for index, case in enumerate(sourced.model.cases))
    return out


CASES = _cases()


def test_there_are_policy_test_files() -> None:
    assert len(FILES) >= 8 and len(CASES) >= 100


@pytest.mark.parametrize(("path", "index"), [(p, i) for p, i, _ in CASES],
                         ids=[f"{p.relative_to(TEST_ROOT)}::{c}" for p, _, c in CASES])
def test_policy_case(path: Path, index: int) -> None:
    result = run_case(_sourced[path], index, _cache)
    if result.status == "xfail":
        pytest.xfail(result.message)
    assert result.ok, result.render()


def test_fujian_files_cover_every_rule_both_ways() -> None:
    run = run_tests([TEST_ROOT / "fujian_2021"])
    assert run.ok
    (report,) = coverage(run)
    missing = [f"{r.id}: {r.why()}" for r in report.rules if not r.covered]
    assert missing == []
    assert report.percent == 100
    assert len(report.rules) == len(run.policies[report.policy].checked.rules()) > 50
