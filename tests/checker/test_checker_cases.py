"""Checker cases as data: each `bad/NAME.yaml` sits beside `bad/NAME.expected`, the exact
diagnostics `fangpin check` prints for it. Regenerate on purpose with
`FANGPIN_REGENERATE=1 pytest tests/checker` and review the diff."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fangpin_rules.cli.main import main

HERE = Path(__file__).parent
ROOT = HERE.parents[1]
BAD = sorted((HERE / "bad").glob("*.yaml"))
GOOD = sorted((HERE / "good").glob("*.yaml"))


def _run_check(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    cwd = os.getcwd()
    os.chdir(ROOT)  # messages show paths relative to the repository
    try:
        code = main(["check", str(path.relative_to(ROOT))])
    finally:
        os.chdir(cwd)
    captured = capsys.readouterr()
    return code, captured.err + captured.out


@pytest.mark.parametrize("path", BAD, ids=[p.stem for p in BAD])
def test_bad_policy_fails_with_exact_diagnostics(path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    code, output = _run_check(path, capsys)
    expected_file = path.with_suffix(".expected")
    if os.environ.get("FANGPIN_REGENERATE"):
        expected_file.write_text(output, encoding="utf-8")
    assert code == 2
    assert output == expected_file.read_text(encoding="utf-8")


@pytest.mark.parametrize("path", GOOD, ids=[p.stem for p in GOOD])
def test_good_policy_passes(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, output = _run_check(path, capsys)
    assert code == 0, output
    assert "ok (0 error(s)" in output


def test_every_bad_case_has_its_expectation() -> None:
    missing = [p.name for p in BAD if not p.with_suffix(".expected").exists()]
    assert not missing
