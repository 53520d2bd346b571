"""Print pip constraints that pin every dependency pyproject.toml declares for the library and
its extras (`[project] dependencies` and every optional extra but `dev`) at its declared floor:
`make test-oldest` installs the project under them and runs the suite, so that a floor is one
the tests have passed on, not a guess. The dev extra's tools (pytest, mypy, ...) are not pinned:
they check the code, they are not what a user installs with it.

    python .ci/oldest_constraints.py            (the constraints, one `name==floor` a line)

A requirement with no `>=` floor has nothing to pin and is left out; one marked for another
Python or platform is pinned all the same (pip ignores a constraint it does not install).
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROJECT = "fangpin-rules"
REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*(.*)$")


def normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def floors(pyproject: Path = ROOT / "pyproject.toml") -> dict[str, str]:
    """Each declared dependency's floor (`>=X` in its specifier), by normalised name; two
    declarations of one package must give it one floor."""
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    declared = list(project.get("dependencies", []))
    for extra, requirements in project.get("optional-dependencies", {}).items():
        if extra != "dev":
            declared.extend(requirements)
    found: dict[str, str] = {}
    for requirement in declared:
        match = REQUIREMENT.match(requirement.split(";", 1)[0])
        if match is None:
            raise SystemExit(f"pyproject.toml: cannot read the requirement {requirement!r}")
        name, specifier = normalised(match.group(1)), match.group(2)
        if name == PROJECT:  # an extra naming the project's other extras
            continue
        floor = re.search(r">=\s*([^,\s]+)", specifier)
        if floor is None:
            continue
        if found.setdefault(name, floor.group(1)) != floor.group(1):
            raise SystemExit(f"pyproject.toml: {name} is declared with two floors, "
                             f"{found[name]} and {floor.group(1)}: give it one")
    return found


def main() -> int:
    for name, floor in sorted(floors().items()):
        print(f"{name}=={floor}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
