"""The constraints `make test-oldest` installs under (.ci/oldest_constraints.py): every floor
the library and its extras declare, pinned, and nothing of the dev extra's tools."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import tomllib
from pathlib import Path
from types import ModuleType

import pytest

from support import ROOT

SCRIPT = ROOT / ".ci" / "oldest_constraints.py"


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("oldest_constraints", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _pyproject(tmp_path: Path, dependencies: list[str], extras: dict[str, list[str]]) -> Path:
    def listed(items: list[str]) -> str:
        return "[" + ", ".join(f'"{item}"' for item in items) + "]"

    text = (f'[project]\nname = "fangpin-rules"\ndependencies = {listed(dependencies)}\n'
            "[project.optional-dependencies]\n"
            + "".join(f"{name} = {listed(items)}\n" for name, items in extras.items()))
    path = tmp_path / "pyproject.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_every_floor_of_the_library_and_its_extras_is_pinned() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    printed = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True,
                             check=True).stdout.split()
    pins = dict(line.split("==") for line in printed)
    runtime = list(project["dependencies"])
    for extra, requirements in project["optional-dependencies"].items():
        if extra != "dev":
            runtime += [r for r in requirements if not r.startswith("fangpin-rules")]
    for requirement in runtime:
        name, floor = requirement.split(">=")
        assert pins[name.lower()] == floor.split(",")[0], requirement
    assert len(pins) == len({r.split(">=")[0].lower() for r in runtime})
    # the engine's columnar floors are the ones measured (pyproject.toml says why)
    assert pins["polars"] == "2.1" and pins["pyarrow"] == "21"
    assert "pytest" not in pins and "mypy" not in pins  # the dev extra's tools float


def test_names_are_normalised_and_an_extra_naming_the_project_is_followed_not_pinned(
        tmp_path: Path) -> None:
    path = _pyproject(tmp_path, ["PyYAML>=6.0.1", "python_dateutil >= 2.8", "lark"],
                      {"arrow": ["pyarrow>=21,<30", "polars[pyarrow]>=2.1"],
                       "dask": ["dask>=2024.1", "fangpin-rules[arrow]"],
                       "dev": ["pytest>=8"]})
    assert _script().floors(path) == {"pyyaml": "6.0.1", "python-dateutil": "2.8",
                                      "pyarrow": "21", "polars": "2.1", "dask": "2024.1"}


def test_one_package_with_two_floors_is_refused(tmp_path: Path) -> None:
    path = _pyproject(tmp_path, ["polars>=2.1"], {"dask": ["polars>=1.20"]})
    with pytest.raises(SystemExit, match=r"polars is declared with two floors, 2\.1 and 1\.20"):
        _script().floors(path)
