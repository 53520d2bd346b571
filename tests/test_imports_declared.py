"""Every module the package imports is the standard library's, its own, or a declared
dependency's (pyproject.toml, core or an extra): a module installed here by chance (numpy was,
by a benchmark) would pass every test on this machine and fail on a clean install."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# import name -> the declared distribution that provides it (directly or as its own
# dependency: pydantic brings annotated_types, fastapi brings starlette and anyio)
PROVIDED_BY = {
    "yaml": "pyyaml", "pydantic": "pydantic", "annotated_types": "pydantic", "lark": "lark",
    "dateutil": "python-dateutil", "holidays": "holidays", "msgspec": "msgspec",
    "pyarrow": "pyarrow", "polars": "polars", "fastapi": "fastapi", "starlette": "fastapi",
    "anyio": "fastapi", "uvicorn": "uvicorn", "python_calamine": "python-calamine",
    "xlsxwriter": "xlsxwriter",
}


def imported_modules() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in sorted((ROOT / "src" / "fangpin_rules").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top not in ("fangpin_rules",
                                                                        "_typeshed"):
                    found.setdefault(top, []).append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def declared() -> set[str]:
    import tomllib
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = list(project["dependencies"])
    for extra, listed in project["optional-dependencies"].items():
        if extra != "dev":  # the tests' tools are not the package's
            requirements.extend(listed)
    names = set()
    for requirement in requirements:
        name = requirement.split(";")[0].strip()
        for stop in "<>=![ ":
            name = name.split(stop)[0]
        names.add(name.lower())
    return names


def test_every_import_of_the_package_is_declared() -> None:
    distributions = declared()
    undeclared = {module: where for module, where in imported_modules().items()
                  if PROVIDED_BY.get(module) not in distributions}
    assert not undeclared, f"imports of undeclared modules: {undeclared}"


def test_the_check_sees_an_undeclared_import() -> None:
    # the scan itself: the package's own imports are found (polars, in the columnar engine)
    assert "src/fangpin_rules/columnar/engine.py" in " ".join(imported_modules()["polars"])
    assert "numpy" not in PROVIDED_BY


def test_every_extra_a_message_or_page_tells_to_install_is_declared() -> None:
    # `pip install 'fangpin-rules[columnar]'` of an extra pyproject.toml lacks installs nothing
    # more, with a warning only (the service once told users to install one that was not)
    import re
    import tomllib
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = set(project["optional-dependencies"])
    named: dict[str, list[str]] = {}
    paths = [*(ROOT / "src" / "fangpin_rules").rglob("*.py"), *(ROOT / "docs").glob("*.md"),
             ROOT / "README.md"]
    for path in paths:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for listed in re.findall(r"fangpin-rules\[([^\]]*)\]", line):
                for extra in listed.split(","):
                    named.setdefault(extra.strip(), []).append(
                        f"{path.relative_to(ROOT)}:{number}")
    assert "columnar" in named and "server" in named  # the scan sees the messages
    assert not {extra: where for extra, where in named.items() if extra not in extras}
