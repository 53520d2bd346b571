"""A chain of `extends:` is bounded as a whole, in files and in bytes, not only file by file:
the base that crosses a bound is refused at the `extends:` that names it, and named
(limits.py MAX_EXTENDS_CHAIN_FILES, MAX_EXTENDS_CHAIN_BYTES; docs/security.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from fangpin_rules import limits
from fangpin_rules.diagnostics import PolicyError
from fangpin_rules.policy.inherit import resolve


def _chain(folder: Path, count: int, padding: int = 0) -> list[Path]:
    """level0.yaml extends level1.yaml ... the last extends nothing; each padded with a
    comment of `padding` bytes."""
    files = [folder / f"level{i}.yaml" for i in range(count)]
    for i, file in enumerate(files):
        extends = f"extends: level{i + 1}.yaml\n" if i + 1 < count else ""
        comment = "#" + "x" * padding + "\n" if padding else ""
        file.write_text(f"{extends}policy:\n  id: level-{i}\n{comment}", encoding="utf-8")
    return files


def test_a_chain_of_the_most_files_resolves(tmp_path: Path) -> None:
    files = _chain(tmp_path, limits.MAX_EXTENDS_CHAIN_FILES)
    resolved = resolve(files[0])
    assert resolved.inheritance is not None
    assert len(resolved.inheritance.chain) == limits.MAX_EXTENDS_CHAIN_FILES


def test_one_file_more_is_refused_at_the_extends_naming_it(tmp_path: Path) -> None:
    count = limits.MAX_EXTENDS_CHAIN_FILES + 1
    files = _chain(tmp_path, count)
    with pytest.raises(PolicyError) as raised:
        resolve(files[0])
    (problem,) = raised.value.diagnostics
    assert problem.code == "extends-chain-too-long"
    # The last file but one names the file too many, on its first line after `extends: `.
    assert problem.location.file == str(files[count - 2])
    assert (problem.location.line, problem.location.column) == (1, 10)
    assert f"level{count - 1}.yaml" in problem.message
    assert "MAX_EXTENDS_CHAIN_FILES" in problem.message


def test_files_each_within_the_file_bound_but_too_large_together(tmp_path: Path) -> None:
    padding = limits.MAX_EXTENDS_CHAIN_BYTES // 2 - 1_000_000  # 4 MB each: 12 MB for three
    files = _chain(tmp_path, 3, padding=padding)
    assert all(f.stat().st_size < limits.MAX_POLICY_FILE_BYTES for f in files)
    with pytest.raises(PolicyError) as raised:
        resolve(files[0])
    (problem,) = raised.value.diagnostics
    assert problem.code == "extends-chain-too-long"
    assert problem.location.file == str(files[1])
    assert "level2.yaml" in problem.message and "bytes" in problem.message
    # Two of them fit.
    assert resolve(files[1]).inheritance is not None


def test_the_chain_bound_is_above_two_files_at_the_file_bound() -> None:
    assert limits.MAX_EXTENDS_CHAIN_BYTES >= 2 * limits.MAX_POLICY_FILE_BYTES
