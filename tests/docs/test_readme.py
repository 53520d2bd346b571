"""The README's commands run, and where a comment gives the answer, they give it."""

from __future__ import annotations

import os
import re
import shlex

import pytest

from fangpin_rules.cli.main import main

from support import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
USE = README.split("## Use", 1)[1].split("```sh", 1)[1].split("```", 1)[0]


def _commands() -> list[tuple[str, str]]:
    joined = USE.replace("\\\n", " ")
    commands = []
    for line in joined.splitlines():
        line = line.strip()
        if not line.startswith("fangpin "):
            continue
        command, _, comment = line.partition("#")
        commands.append((command.strip(), comment.strip()))
    return commands


COMMANDS = _commands()


def test_readme_opens_with_the_two_setup_commands() -> None:
    first_block = README.split("```sh", 1)[1].split("```", 1)[0]
    assert first_block.strip().splitlines()[0].startswith("make run")
    assert first_block.strip().splitlines()[1].startswith("make test")


@pytest.mark.parametrize(("command", "comment"), COMMANDS, ids=[c for c, _ in COMMANDS])
def test_readme_command(command: str, comment: str, tmp_path: object,
                        capsys: pytest.CaptureFixture[str],
                        monkeypatch: pytest.MonkeyPatch) -> None:
    args = shlex.split(command)[1:]
    if "<" in args:  # the shell's redirection: feed that file as standard input
        import io
        import sys

        source = args[args.index("<") + 1]
        args = args[:args.index("<")]
        monkeypatch.setattr(sys, "stdin", io.StringIO((ROOT / source).read_text("utf-8")))
    monkeypatch.chdir(tmp_path)  # outputs (-o, --rejects) land in a scratch folder
    args = [str(ROOT / a) if (ROOT / a).exists() and "/" in a else a for a in args]
    if args[0] == "duties":
        args += ["--policy", str(ROOT / "policies" / "fujian_2021.yaml")]
    code = main(args)
    assert code == 0, capsys.readouterr().err
    answer = re.match(r"^([\d-]+)(?=[:\s])", comment + " ")
    if answer and args[0] == "calendar":
        assert capsys.readouterr().out.strip() == answer.group(1)


def test_commands_were_found() -> None:
    assert len(COMMANDS) >= 6
    assert os.path.exists(ROOT / "examples" / "households.jsonl")


def test_the_error_shown_is_the_checkers_real_output() -> None:
    shown = README.split("says what to\ndo:\n\n```\n", 1)[1].split("```", 1)[0]
    expected = (ROOT / "tests" / "checker" / "bad" / "unknown_name.expected").read_text("utf-8")
    assert expected.startswith(shown)


def test_the_example_parquet_file_holds_the_example_households() -> None:
    """examples/households.parquet (the README's Parquet run) is examples/households.jsonl's
    households in the engine's input schema (regenerate it with records_to_arrow when the
    JSON lines change)."""
    import json

    import pyarrow.parquet as pq

    from fangpin_rules import load_policy
    from fangpin_rules.columnar import records_to_arrow

    policy = load_policy(ROOT / "policies" / "fujian_2021.yaml")
    lines = (ROOT / "examples" / "households.jsonl").read_text(encoding="utf-8").splitlines()
    expected = records_to_arrow(policy, [json.loads(line) for line in lines])
    assert pq.read_table(ROOT / "examples" / "households.parquet").equals(expected)
