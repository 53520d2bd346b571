"""A policy named by its id: the search path first, then the policies the package ships
(in a checkout, the repository's policies/)."""

from __future__ import annotations

from pathlib import Path

import pytest

from fangpin_rules import load_policy
from fangpin_rules.cli.main import main
from fangpin_rules.policy.bundled import bundled_policies, policy_file

from support import FUJIAN, ROOT


def test_the_shipped_folder_is_the_checkouts_policies() -> None:
    assert bundled_policies() == ROOT / "policies"


def test_load_policy_by_id_from_anywhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FANGPIN_POLICY_PATH", raising=False)
    policy = load_policy("fujian-2021")
    assert policy.id == "fujian-2021"
    assert policy.sha256 == load_policy(FUJIAN).sha256
    county = load_policy("minhou-350121")  # a shipped county file, by its id
    assert county.id == "minhou-350121" and county.sourced is not None
    assert Path(county.sourced.path).name == "minhou_350121.yaml"


def test_the_search_path_comes_before_the_shipped_policies(tmp_path: Path) -> None:
    own = tmp_path / "mine.yaml"
    own.write_text(FUJIAN.read_text(encoding="utf-8").replace('version: "2021.1"',
                                                               'version: "local"'), "utf-8")
    assert policy_file("fujian-2021", [tmp_path]) == str(own)
    assert policy_file("fujian-2021") == str(ROOT / "policies" / "fujian_2021.yaml")


@pytest.mark.parametrize("name", ["fujian_2021.yaml", "./fujian-2021", "Fujian-2021", "-"])
def test_a_path_is_never_taken_for_an_id(name: str) -> None:
    assert policy_file(name) == name


def test_cli_check_and_duties_by_id(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FANGPIN_POLICY_PATH", raising=False)
    assert main(["check", "fujian-2021"]) == 0
    assert "fujian-2021: ok" in capsys.readouterr().out
    assert main(["duties", "--as-of", "2021-10-08"]) == 0  # the province's, by default
    assert "ends 2021-10-31" in capsys.readouterr().out


def test_an_unknown_id_names_the_ids_there_are(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FANGPIN_POLICY_PATH", raising=False)
    assert main(["check", "fujian-2099"]) == 2
    err = capsys.readouterr().err
    assert "policy file 'fujian-2099' does not exist, and no policy has that id" in err
    assert "fujian-2021, jinjiang-350582" in err and "minhou-350121" in err
    assert main(["check", "nope.yaml"]) == 2  # a path stays a path
    assert "policy file 'nope.yaml' does not exist\n" in capsys.readouterr().err
