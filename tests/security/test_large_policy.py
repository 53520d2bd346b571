"""Loading a large policy scales with its size: the cyclic garbage collector, which would walk
every object of its trees again and again, is paused while a policy loads, and resumes after
(also when the policy is refused)."""

from __future__ import annotations

import gc
import importlib
from pathlib import Path
from typing import Any

import pytest

from fangpin_rules import PolicyError, load_policy

from support import FUJIAN


def test_the_collector_is_paused_while_a_policy_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    engine = importlib.import_module("fangpin_rules.engine.policy")
    real = engine.compile_policy
    seen: list[bool] = []

    def compiling(checked: Any) -> Any:
        seen.append(gc.isenabled())
        return real(checked)

    monkeypatch.setattr(engine, "compile_policy", compiling)
    assert gc.isenabled()
    load_policy(FUJIAN)
    assert seen == [False]
    assert gc.isenabled()


def test_the_collector_resumes_when_a_policy_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("policy: {id: x, title: x, effective: 2021-01-01}\ndecisions: {}\n",
                    encoding="utf-8")
    with pytest.raises(PolicyError):
        load_policy(path)
    assert gc.isenabled()
