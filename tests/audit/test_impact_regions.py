"""`fangpin diff --impact --regions TABLE`: both versions decide each household with its
county's parameters from the table, by either engine alike; a household of no county in the
table is rejected naming `region_code`; a table cannot stand between two different policies."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from fangpin_rules.cli.main import main

from population_support import household
from support import FUJIAN, ROOT

QUANZHOU = ROOT / "policies" / "counties" / "quanzhou_350500.yaml"
STRICT = "    expr: per_capita_income < monitoring_line\n"


def inclusive(tmp_path: Path) -> str:
    """The Fujian policy revised: a household exactly on the line is in range."""
    text = FUJIAN.read_text(encoding="utf-8")
    assert text.count(STRICT) == 1
    path = tmp_path / "fujian_inclusive.yaml"
    path.write_text(text.replace(STRICT, STRICT.replace("<", "<=")), encoding="utf-8")
    return str(path)


def table(tmp_path: Path) -> str:
    path = tmp_path / "regions.yaml"
    path.write_text("region_table: {id: t, policy: fujian-2021}\nregions:\n  \"350121\":\n"
                    "    name: 闽侯县\n    monitoring_line:\n"
                    "      - {from: 2022-01-01, value: 9000}\n", encoding="utf-8")
    return str(path)


def households(tmp_path: Path) -> str:
    """H1 on 闽侯县's line (9000), H2 far above it, H3 of a county the table does not hold."""
    def at(household_id: str, income: int, code: str) -> dict[str, Any]:
        return {**household(household_id, income=income, status="none"), "region_code": code}
    path = tmp_path / "households.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in (
        at("H1", 9000, "350121101201"), at("H2", 20000, "350121101202"),
        at("H3", 9000, "350182101201"))), encoding="utf-8")
    return str(path)


def run(tmp_path: Path, capsys: pytest.CaptureFixture[str], arguments: list[str]
        ) -> tuple[int, dict[str, Any], list[str], str]:
    """Exit code, the JSON report and the changed households' ids, by both engines alike."""
    results = []
    for engine in ("record", "columnar"):
        changed = tmp_path / f"changed-{engine}.jsonl"
        code = main([*arguments, "--format", "json", "--impact-out", str(changed),
                     "--engine", engine])
        err = capsys.readouterr().err
        results.append((code, json.loads((tmp_path / "report.json").read_text()),
                        [json.loads(line)["household_id"]
                         for line in changed.read_text().splitlines()],
                        err.strip().splitlines()[-1]))
    assert results[0] == results[1]
    return results[0]


def test_the_countys_line_moves_a_household_the_provinces_does_not(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    command = ["diff", str(FUJIAN), inclusive(tmp_path), "--impact", households(tmp_path),
               "--as-of", "2022-03-31", "-o", str(tmp_path / "report.json")]
    code, _, changed, summary = run(tmp_path, capsys, command)
    assert code == 0 and changed == [] and summary.startswith("read 3, compared 3, rejected 0")
    code, county, changed, summary = run(tmp_path, capsys, [*command, "--regions",
                                                            table(tmp_path)])
    assert changed == ["H1"]  # on its county's line: in range now; H3 is of no county held
    assert code == 1 and summary == "read 3, compared 2, rejected 1, changed 1"
    rejection, = county["impact"]["rejections"]
    assert (rejection["household_id"], rejection["field"]) == ("H3", "region_code")
    row, = county["attribution"]["listed"]
    assert (row["household_id"], row["how"], row["items"]) == (
        "H1", "alone", ["decisions.in_range"])


def test_a_table_between_two_policies_is_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    command = ["diff", str(FUJIAN), str(QUANZHOU), "--impact", households(tmp_path),
               "--as-of", "2022-03-31", "--regions", table(tmp_path)]
    assert main(command) == 2
    err = capsys.readouterr().err
    assert "--regions: a region table gives the county values of one policy" in err
    assert "fujian-2021 while NEW is quanzhou-350500" in err and "Traceback" not in err
    assert main(["diff", str(FUJIAN), str(FUJIAN), "--regions", table(tmp_path)]) == 2
    assert "go with --impact RECORDS" in capsys.readouterr().err


def test_a_date_a_version_does_not_answer_for_is_refused_before_any_record(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "broken.jsonl"
    broken.write_text("{not json\n", encoding="utf-8")
    for engine in ("record", "columnar"):
        assert main(["diff", str(FUJIAN), inclusive(tmp_path), "--impact", str(broken),
                     "--as-of", "2021-05-01", "--regions", table(tmp_path),
                     "--engine", engine]) == 2
        err = capsys.readouterr().err
        assert "does not apply on 2021-05-01" in err and "read " not in err


def test_a_table_given_through_a_pipe_is_read_once_for_both_versions(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The table's bytes, read once, are applied to the new version and to each variant of
    attribution (a pipe cannot be read again)."""
    import os
    import threading

    text = Path(table(tmp_path)).read_bytes()
    read_end, write_end = os.pipe()

    def feed() -> None:
        with os.fdopen(write_end, "wb") as pipe:
            pipe.write(text)

    writer = threading.Thread(target=feed)
    writer.start()
    try:
        code = main(["diff", str(FUJIAN), inclusive(tmp_path), "--impact", households(tmp_path),
                     "--as-of", "2022-03-31", "--regions", f"/dev/fd/{read_end}",
                     "--format", "json", "-o", str(tmp_path / "report.json")])
    finally:
        writer.join()
        os.close(read_end)
    assert code == 1 and "changed 1" in capsys.readouterr().err
    row, = json.loads((tmp_path / "report.json").read_text())["attribution"]["listed"]
    assert (row["household_id"], row["how"]) == ("H1", "alone")
