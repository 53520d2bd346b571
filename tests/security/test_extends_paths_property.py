"""Whatever path `extends:` spells out of `..`, `.`, links and names, the base read is inside the
policy roots, or the refusal does not show the file outside (docs/security.md)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fangpin_rules.diagnostics import PolicyError
from fangpin_rules.policy.inherit import resolve

from support import FUJIAN

CANARY = "CANARY-94b2-outside"
PARTS = ["..", ".", "b", "a", "up", "inner", "secret.yaml", "base.yaml", "link.yaml"]


@pytest.fixture(scope="module")
def land(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tmp/{secret.yaml, a/secret.yaml} outside; tmp/a/b the county's folder with a base,
    a link to tmp (outside) and a link to its own inner folder (inside)."""
    top = tmp_path_factory.mktemp("land")
    (top / "secret.yaml").write_text(f"key: {CANARY}\n", encoding="utf-8")
    project = top / "a" / "b"
    (project / "inner").mkdir(parents=True)
    (top / "a" / "secret.yaml").write_text(f"key: {CANARY}\n", encoding="utf-8")
    shutil.copy(FUJIAN, project / "inner" / "base.yaml")
    shutil.copy(FUJIAN, project / "base.yaml")
    (project / "up").symlink_to(top, target_is_directory=True)
    (project / "link.yaml").symlink_to(project / "inner" / "base.yaml")
    return project


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(parts=st.lists(st.sampled_from(PARTS), min_size=1, max_size=5))
def test_a_base_is_read_only_inside_the_roots(land: Path, parts: list[str],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FANGPIN_POLICY_PATH", raising=False)
    name = "/".join(parts)
    if not name.endswith((".yaml", ".yml")):
        name += "/base.yaml"
    county = land / "county.yaml"
    county.write_text(f"extends: {name}\npolicy:\n  id: c\n  title: t\n"
                      "  effective: 2021-07-01\n", encoding="utf-8")
    try:
        resolved = resolve(county)
    except PolicyError as exc:
        assert CANARY not in exc.render()
        assert all(d.location.file == str(county) for d in exc.diagnostics), exc.render()
        return
    assert resolved.inheritance is not None
    base = os.path.realpath(resolved.inheritance.chain[0].path)
    assert base.startswith(os.path.realpath(land) + os.sep)
