"""docs/explorer.md: its commands run and write the folder the page describes."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from fangpin_rules.cli.main import main

from support import ROOT

PAGE = (ROOT / "docs" / "explorer.md").read_text(encoding="utf-8")
COMMANDS = [line for block in re.findall(r"```sh\n(.*?)```", PAGE, re.S)
            for line in block.splitlines() if line.startswith("fangpin ")]


def test_the_page_has_its_examples() -> None:
    assert len(COMMANDS) == 2


@pytest.mark.parametrize("command", COMMANDS)
def test_explorer_doc_command(command: str, tmp_path: Path) -> None:
    args = shlex.split(command)[1:]
    args[1] = str(ROOT / args[1])
    out = tmp_path / args[args.index("-o") + 1]
    args[args.index("-o") + 1] = str(out)
    assert main(args) == 0
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == [
        "explorer.css", "explorer.js", "index.html"]
    assert "http://" not in (out / "index.html").read_text(encoding="utf-8").split(
        "<main>")[0] and "https://" not in (out / "explorer.js").read_text(encoding="utf-8")
