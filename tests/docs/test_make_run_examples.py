"""`make run` shows the example set's edition-2 outcomes: its two `fangpin eval` commands (read
from the Makefile, dates included) write decisions with every data warning, the procedure's
statuses `no_notice` and `unknown`, and a household recorded risk-eliminated monitored again."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest

from fangpin_rules.cli.main import main

from support import ROOT

MAKEFILE = (ROOT / "Makefile").read_text(encoding="utf-8")


def _run_commands() -> list[list[str]]:
    """The `fangpin eval` commands of the `run` target, with $(AS_OF) and $(CASES_AS_OF)."""
    values = dict(re.findall(r"^(\w+) \?= (\S+)$", MAKEFILE, flags=re.M))
    body = MAKEFILE.split("\nrun:", 1)[1].split("\n\n", 1)[0].replace("\\\n", " ")
    commands = []
    for line in body.splitlines():
        line = line.strip()
        if "fangpin eval" not in line:
            continue
        line = re.sub(r"\$\((\w+)\)", lambda m: values.get(m.group(1), m.group(0)), line)
        commands.append(shlex.split(line.split("fangpin ", 1)[1]))
    return commands


COMMANDS = _run_commands()


@pytest.fixture(scope="module")
def decisions(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    folder = tmp_path_factory.mktemp("make-run")
    out: list[dict[str, Any]] = []
    for args in COMMANDS:
        args = [str(ROOT / a) if (ROOT / a).exists() else
                str(folder / Path(a).name) if a.startswith("out/") else a for a in args]
        assert main(args) in (0, 1)
        target = Path(args[args.index("-o") + 1])
        out += [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    return out


def test_the_run_target_has_its_two_evaluations() -> None:
    assert len(COMMANDS) == 2 and "--cases" in COMMANDS[1]


@pytest.mark.parametrize("code", ["future_date", "eliminated_without_labour", "no_measure",
                                  "dibao_dates_inconsistent", "minor_with_labour",
                                  "welfare_trap", "grace_start_unknown", "category_mismatch",
                                  "monitored_without_category", "dropout_outside_school_age"])
def test_every_warning_is_shown(decisions: list[dict[str, Any]], code: str) -> None:
    assert any(code in {w["code"] for w in d["warnings"]} for d in decisions)


@pytest.mark.parametrize("status", ["no_notice", "unknown", "too_early", "too_short",
                                    "not_started", "late", "overdue", "on_time", "pending"])
def test_every_procedure_status_is_shown(decisions: list[dict[str, Any]], status: str) -> None:
    assert any(status in {x["status"] for x in d["deadlines"]} for d in decisions)


def test_a_household_returned_to_monitoring_is_shown(decisions: list[dict[str, Any]]) -> None:
    records = {r["household_id"]: r for r in map(json.loads, (
        ROOT / "examples" / "households.jsonl").read_text(encoding="utf-8").splitlines())}
    returned = [d for d in decisions if d["category"] is not None and
                records[d["household_id"]]["monitoring"]["status"] == "risk_eliminated"]
    assert returned and all(d["measures"] for d in returned)
