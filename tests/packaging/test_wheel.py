"""`pip install fangpin-rules` with no checkout: the wheel carries the province's policy, its
policy test files and the JSON Schemas, and the commands run from a folder outside the
checkout.

The wheel is built from a copy of the sources (the checkout stays clean) with the running
interpreter's setuptools when it is recent enough (`--no-build-isolation`, offline: the dev
extra brings setuptools>=77), else in pip's build isolation. It is installed into a fresh
virtual environment whose dependencies are this interpreter's (a .pth file names its
site-packages folders, not the checkout's src/), so nothing is downloaded to install it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from importlib.metadata import version
from pathlib import Path

import pytest

from fangpin_rules.schemas import YAML_SCHEMAS, file_name, render, yaml_schema

from support import ROOT

pytestmark = pytest.mark.slow
SOURCES = ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "src", "policies")


def _run(*command: str | Path, cwd: Path, env: dict[str, str] | None = None
         ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(c) for c in command], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=600, check=False)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            source.mkdir(exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    offline = int(version("setuptools").split(".")[0]) >= 77  # what pyproject.toml requires
    isolation = ["--no-build-isolation"] if offline else []
    built = _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-v", *isolation,
                 "-w", work / "dist", source, cwd=work)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    wheel = next((work / "dist").glob("fangpin_rules-*.whl"))
    venv = work / "venv"
    made = _run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=work)
    assert made.returncode == 0, made.stderr
    python = venv / "bin" / "python"
    purelib = _run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])",
                   cwd=work).stdout.strip()
    dependencies = [p for p in sys.path if Path(p).name in ("site-packages", "dist-packages")]
    (Path(purelib) / "shared_dependencies.pth").write_text(
        "\n".join(dependencies) + "\n", encoding="utf-8")
    # -I: a fangpin-rules the shared site-packages may hold is neither used nor uninstalled
    install = _run(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps",
                   "--no-index", "-I", wheel, cwd=work)
    assert install.returncode == 0, install.stdout[-3000:] + install.stderr[-3000:]
    return wheel, venv, built.stdout + built.stderr + install.stdout + install.stderr


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items()
            if k not in ("PYTHONPATH", "FANGPIN_POLICY_PATH", "VIRTUAL_ENV")}


def test_the_wheel_carries_the_policy_its_tests_and_the_schemas(
        installed: tuple[Path, Path, str]) -> None:
    wheel, _, log = installed
    names = set(zipfile.ZipFile(wheel).namelist())
    for path in (ROOT / "policies").rglob("*.yaml"):
        assert f"fangpin_rules/policies/{path.relative_to(ROOT / 'policies')}" in names
    assert "fangpin_rules/policies/tests/fujian_2021/s02_monitoring_line.yaml" in names
    for name in YAML_SCHEMAS:
        assert f"fangpin_rules/schemas/{file_name(name)}" in names
    assert "fangpin_rules/language/grammar.lark" in names
    # the bundled ledger layout's modeline names a schema the wheel carries
    national = zipfile.ZipFile(wheel).read("fangpin_rules/ledger/formats/national.yaml").decode()
    modeline = national.splitlines()[0].removeprefix("# yaml-language-server: $schema=")
    assert os.path.normpath(f"fangpin_rules/ledger/formats/{modeline}") in names, modeline
    assert not [n for n in names if n.startswith(("tests/", "policies/"))]
    metadata = zipfile.ZipFile(wheel).read(
        next(n for n in names if n.endswith("METADATA"))).decode()
    assert "License-Expression: Apache-2.0" in metadata
    assert "SetuptoolsDeprecationWarning" not in log and "is deprecated" not in log


def test_the_installed_package_runs_outside_the_checkout(
        installed: tuple[Path, Path, str], tmp_path: Path) -> None:
    _, venv, _ = installed
    python, fangpin = venv / "bin" / "python", venv / "bin" / "fangpin"
    script = (
        "import json, fangpin_rules\n"
        "from fangpin_rules import load_policy\n"
        "from fangpin_rules.policy.bundled import bundled_policies\n"
        "policy = load_policy('fujian-2021')\n"
        "household = {'household_id': 'h1', 'formerly_poor': False, 'net_income': 21000,\n"
        "             'members': [{'member_id': str(i)} for i in range(3)]}\n"
        "decision = policy.evaluate(household, as_of='2021-09-01')\n"
        "print(json.dumps({'package': fangpin_rules.__file__,\n"
        "                  'policies': str(bundled_policies()),\n"
        "                  'id': policy.id, 'in_range': decision['in_range']}))\n")
    run = _run(python, "-c", script, cwd=tmp_path, env=_env())
    assert run.returncode == 0, run.stderr
    answer = json.loads(run.stdout)
    assert answer["package"].startswith(str(venv)) and answer["policies"].startswith(str(venv))
    assert answer["id"] == "fujian-2021" and answer["in_range"] is True  # 7000 < 7152
    check = _run(fangpin, "check", "fujian-2021", cwd=tmp_path, env=_env())
    assert check.returncode == 0 and "fujian-2021: ok" in check.stdout, check.stderr
    duties = _run(fangpin, "duties", "--as-of", "2021-10-08", cwd=tmp_path, env=_env())
    assert duties.returncode == 0 and "ends 2021-10-31" in duties.stdout, duties.stderr
    tests = _run(fangpin, "test", Path(answer["policies"]) / "tests", cwd=tmp_path, env=_env())
    assert tests.returncode == 0, tests.stdout[-2000:] + tests.stderr[-2000:]
    for name in ("policy", "ledger-format"):
        schema = _run(fangpin, "schema", name, cwd=tmp_path, env=_env())
        assert schema.returncode == 0 and schema.stdout == render(yaml_schema(name))
