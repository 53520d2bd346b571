"""docs/county-reports.md runs as written: each command of its `sh` blocks (from a folder holding
the repository's policies/ and examples/), and its Python example, print the text shown after
them (the policy's digest aside, which changes with every edit of the policy file)."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import itertools
import json
import os
import re
import shlex
from pathlib import Path

import pytest

from fangpin_rules.cli.main import main

from support import ROOT

DOC = (ROOT / "docs" / "county-reports.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```(\w+)\n(.*?)```", DOC, re.S)
SHA256 = re.compile(r"policy_sha256: [0-9a-f]{64}")


def _examples() -> list[tuple[str, str, str]]:
    return [(kind, text, expected) for (kind, text), (next_kind, expected)
            in itertools.pairwise(BLOCKS)
            if kind in ("sh", "python") and next_kind == "text"]


@pytest.fixture
def in_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("policies", "examples"):
        (tmp_path / name).symlink_to(ROOT / name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _run_sh(text: str, capsys: pytest.CaptureFixture[str]) -> str:
    shown = []
    for line in text.strip().splitlines():
        words = shlex.split(line)
        if words[0] == "cat":
            shown.append(Path(words[1]).read_text(encoding="utf-8"))
            continue
        assert words[0] == "fangpin", line
        assert main(words[1:]) == 0, capsys.readouterr().err
        shown.append(capsys.readouterr().out)
    return "".join(shown)


def test_the_guide_has_its_examples() -> None:
    kinds = [kind for kind, _, _ in _examples()]
    assert kinds.count("sh") == 3 and kinds.count("python") == 1


@pytest.mark.parametrize("index", range(4))
def test_each_example_prints_what_the_guide_shows(index: int, in_copy: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    kind, text, expected = _examples()[index]
    if kind == "sh":
        shown = _run_sh(text, capsys)
    else:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(text, "docs/county-reports.md", "exec"), {})
        shown = out.getvalue()
    assert SHA256.sub("policy_sha256: <sha256>", shown).strip() == expected.strip()
    assert os.getcwd() == str(in_copy)


def test_the_example_files_are_what_the_script_writes() -> None:
    spec = importlib.util.spec_from_file_location(
        "make_example", ROOT / "examples" / "population" / "make_example.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    folder = ROOT / "examples" / "population"
    for name, records in module.files().items():
        written = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
        assert (folder / name).read_text(encoding="utf-8") == written, name
    villages = {r["region_code"] for r in module.households("2021-11")
                if len(r["region_code"]) == 12}
    assert len(villages) == 6
