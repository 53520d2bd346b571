"""Every example of docs/testing-policies.md runs: the test file passes, the failing one prints
what the doc shows, and the explanation excerpt is what `fangpin explain` prints."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from fangpin_rules.cli.main import main

from support import FUJIAN, RECORDS_MD_HOUSEHOLD, ROOT

DOC = (ROOT / "docs" / "testing-policies.md").read_text(encoding="utf-8")


def _block(tag: str) -> str:
    (block,) = re.findall(rf"```{tag}\n(.*?)```", DOC, flags=re.S)
    return str(block)


def _in_policies_tests(tmp_path: Path, name: str, text: str) -> Path:
    """Lay the file out as the doc does: policies/tests/<county>/, beside fujian_2021.yaml."""
    policies = tmp_path / "policies"  # a policy root: ../../fujian_2021.yaml stays inside
    folder = policies / "tests" / "county"
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(FUJIAN, policies / "fujian_2021.yaml")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_example_test_file_passes(tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    path = _in_policies_tests(tmp_path, "s02_line.yaml", _block("yaml test-file"))
    assert main(["test", str(path), "--coverage"]) == 0
    assert "2 pass, 0 fail (2 cases)" in capsys.readouterr().out


def test_the_failing_example_prints_what_the_doc_shows(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _in_policies_tests(tmp_path, "wrong.yaml", _block("yaml failing-test-file"))
    assert main(["test", str(path)]) == 1
    out = capsys.readouterr().out
    out = re.sub(r"  \[[^\]]*\]", "", out)  # the file:line:col depends on where it runs
    assert out == _block("text failing-output")


def test_the_explanation_excerpt(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    record = tmp_path / "h.json"
    record.write_text(json.dumps(RECORDS_MD_HOUSEHOLD), encoding="utf-8")
    assert main(["explain", str(FUJIAN), str(record), "--as-of", "2021-09-01"]) == 0
    assert _block("text explain-output") in capsys.readouterr().out


def test_a_folder_of_policies_and_tests_skips_what_the_doc_shows(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # the doc shows paths relative to the repository
    assert main(["test", "policies"]) == 0
    out = capsys.readouterr().out
    skipped = [line for line in out.splitlines() if line.startswith("skipped ")]
    assert "\n".join(skipped) + "\n" == _block("text skipped-output")
