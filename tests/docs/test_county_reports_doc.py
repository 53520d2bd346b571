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
from typing import Any

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


def test_the_columnar_region_table_example(in_copy: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    """The example county moved into the example table's counties in 2022 (one household
    left in its own, not in the table): the ledger in columns is the record engine's."""
    found = re.search(r"<!-- example: columnar-regions -->\n```sh\n(.*?)```", DOC, re.S)
    assert found
    words = shlex.split(found.group(1))
    lines = (ROOT / "examples" / "population" / "households-2021-11.jsonl").read_text(
        encoding="utf-8").splitlines()
    moved = []
    for number, line in enumerate(lines):
        record = json.loads(line)
        if number:
            record["region_code"] = ("350121", "350526", "350582")[number % 3] + \
                record["region_code"][6:]
        moved.append(json.dumps(record, ensure_ascii=False))
    assert words[4] == "households-2022-11.jsonl"  # written here, in the copy
    Path(words[4]).write_text("\n".join(moved) + "\n", encoding="utf-8")
    assert words[0] == "fangpin" and main(words[1:]) == 1  # the household of no region
    err = capsys.readouterr().err
    shown = Path("ledger-2022-11.csv").read_bytes()
    assert '"field":"region_code"' in err and "decided 31, rejected 1" in err
    assert main([w.replace("columnar", "record") for w in words[1:]]) == 1
    assert capsys.readouterr().err == err and Path("ledger-2022-11.csv").read_bytes() == shown
    assert shown.count(b"\n") > 3  # townships and the total


def test_the_parquet_example(in_copy: Path, fujian: Any,
                             capsys: pytest.CaptureFixture[str]) -> None:
    """The example county's November as a data centre's Parquet table: the ledger of the
    JSON lines, on either engine."""
    import pyarrow.parquet as pq

    from fangpin_rules.columnar import records_to_arrow

    found = re.search(r"<!-- example: parquet -->\n```sh\n(.*?)```", DOC, re.S)
    assert found
    words = shlex.split(found.group(1))
    november = ROOT / "examples" / "population" / "households-2021-11.jsonl"
    assert words[4] == "households-2021-11.parquet"  # written here, in the copy
    households = [json.loads(line) for line in november.read_text(encoding="utf-8").splitlines()]
    pq.write_table(records_to_arrow(fujian, households), words[4])
    assert words[0] == "fangpin" and main(words[1:]) == 0
    assert "households read 32, decided 32, rejected 0" in capsys.readouterr().err
    shown = Path("ledger-2021-11.csv").read_bytes()
    assert main([w if w != words[4] else str(november) for w in words[1:]]) == 0
    assert Path("ledger-2021-11.csv").read_bytes() == shown
    assert main([*words[1:], "--engine", "columnar"]) == 0
    assert Path("ledger-2021-11.csv").read_bytes() == shown
    assert shown.count(b"\n") == 6  # the header, 4 regions and the total
