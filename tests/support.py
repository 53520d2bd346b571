"""Builders and constants shared by the tests (import as `support`)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
FUJIAN = ROOT / "policies" / "fujian_2021.yaml"


def policy_from_text(folder: Path, text: str) -> Any:
    """Load a policy written out in a test (into `folder`, a temporary directory)."""
    from fangpin_rules import load_policy

    path = folder / "policy.yaml"
    path.write_text(text, encoding="utf-8")
    return load_policy(path)


def province_with_steps(folder: Path, steps: str, tail: str = "") -> Any:
    """The province's policy with procedure `steps` (YAML indented as its steps are) put at the
    head of its procedure and `tail` (more top-level YAML) after it, loaded from `folder`."""
    text = FUJIAN.read_text(encoding="utf-8")
    assert "\nprocedure:\n" in text
    return policy_from_text(folder, text.replace(
        "\nprocedure:\n", "\nprocedure:\n" + steps.lstrip("\n"), 1) + tail)


def benchmark_module(name: str) -> ModuleType:
    """Import benchmarks/<name>.py once (the benchmarks folder is not a package): the
    synthetic household generator and the hand-written reference function."""
    key = f"benchmarks_{name}"
    if key in sys.modules:
        return sys.modules[key]
    spec = importlib.util.spec_from_file_location(key, ROOT / "benchmarks" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[key] = module
    spec.loader.exec_module(module)
    return module

# The household of shared/spec/records.md, verbatim.
RECORDS_MD_HOUSEHOLD: dict[str, Any] = {
    "household_id": "350181-0001",
    "region_code": "350181",
    "formerly_poor": True,
    "members": [
        {"member_id": "1", "birth_date": "1956-03-01", "labour_capacity": "lost",
         "health": "serious_illness", "disability_grade": None, "dependent_elderly": False,
         "orphan": False, "left_behind_child": False, "dropped_out": False}
    ],
    "net_income": 18000,
    "previous_net_income": 26000,
    "rigid_expenditure": {"medical": 12000, "education": 0, "disaster": 0, "accident": 0},
    "food_clothing_secure": True,
    "basic_medical_secure": True,
    "housing_safe": True,
    "drinking_water_safe": True,
    "dibao": {"enrolled": False, "since": None, "income_above_standard_on": None},
    "tekun": False,
    "motivation_lacking": False,
    "monitoring": {"status": "none", "category": None, "since": None},
}


def household(**overrides: Any) -> dict[str, Any]:
    """A plain working-age household (not poor, no problems) with fields replaced."""
    base: dict[str, Any] = {
        "household_id": "T-1",
        "formerly_poor": False,
        "members": [{"member_id": "1", "birth_date": "1980-05-01", "labour_capacity": "normal",
                     "health": "healthy"}],
        "net_income": 30000,
        "food_clothing_secure": True,
        "basic_medical_secure": True,
        "housing_safe": True,
        "drinking_water_safe": True,
    }
    base.update(overrides)
    return base


def members(n: int, **fields: Any) -> list[dict[str, Any]]:
    return [{"member_id": str(i + 1), "birth_date": "1980-05-01", "labour_capacity": "normal",
             "health": "healthy", **fields} for i in range(n)]
