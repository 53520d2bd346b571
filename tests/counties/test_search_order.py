"""Where a base named by id is found, and a chain whose files share an id."""

from __future__ import annotations

from pathlib import Path

import pytest

from fangpin_rules import PolicyError, load_policy

from support import FUJIAN

COUNTY = """\
extends: fujian-2021
policy:
  id: {county_id}
  title: 测试县
  effective: 2021-06-04
parameters:
  monitoring_line:
    values:
      - {{from: 2021-01-01, value: 8000}}
"""


def _province_copy(folder: Path) -> Path:
    """A copy of the province's file: which copy a county found is told by its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "fujian_2021.yaml"
    path.write_text(FUJIAN.read_text(encoding="utf-8"), encoding="utf-8")
    return path


def _county(folder: Path, county_id: str = "test-county") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "county.yaml"
    path.write_text(COUNTY.format(county_id=county_id), encoding="utf-8")
    return path


def _base_file(policy_path: Path, **kwargs: object) -> str:
    policy = load_policy(policy_path, **kwargs)  # type: ignore[arg-type]
    assert policy.checked.inheritance is not None
    return policy.checked.inheritance.chain[0].path


def test_the_base_beside_the_file_wins_over_the_environment(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    beside = _province_copy(tmp_path / "project")
    stale = _province_copy(tmp_path / "elsewhere")
    county = _county(tmp_path / "project")
    monkeypatch.setenv("FANGPIN_POLICY_PATH", str(stale.parent))
    assert Path(_base_file(county)).resolve() == beside.resolve()


def test_an_explicit_policy_path_wins_over_the_base_beside_the_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FANGPIN_POLICY_PATH", raising=False)
    _province_copy(tmp_path / "project")
    chosen = _province_copy(tmp_path / "chosen")
    county = _county(tmp_path / "project")
    assert Path(_base_file(county, search_path=[chosen.parent])).resolve() == chosen.resolve()


def test_the_environment_is_used_when_nothing_closer_has_the_base(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    elsewhere = _province_copy(tmp_path / "elsewhere")
    county = _county(tmp_path / "alone")
    monkeypatch.setenv("FANGPIN_POLICY_PATH", str(elsewhere.parent))
    assert Path(_base_file(county)).resolve() == elsewhere.resolve()


def test_two_files_of_one_chain_may_not_share_an_id(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FANGPIN_POLICY_PATH", raising=False)
    _province_copy(tmp_path / "project")
    county = _county(tmp_path / "project", county_id="fujian-2021")
    with pytest.raises(PolicyError) as info:
        load_policy(county)
    first = info.value.diagnostics[0]
    assert first.code == "duplicate-policy-id" and first.location.line == 1
    assert "fujian-2021" in first.message
