"""`fangpin report regional` and `fangpin report history` with `--regions TABLE`: each
household decided with its county's parameters (as `fangpin eval --regions` decides it), by
either engine alike; a household of no county in the table rejected naming `region_code`; a
month the table does not answer for a usage error before any record is read; decisions made
with the table pair with it, those made without it are refused at their line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from fangpin_rules.cli.main import main

from population_support import household
from support import ROOT

FUJIAN = str(ROOT / "policies" / "fujian_2021.yaml")
VILLAGE = "350121101201"  # a village of 闽侯县, the county of the tables below
OTHER_COUNTY = "350182101201"  # a county no table below holds


def write(path: Path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    return str(path)


def table(tmp_path: Path, values: str) -> str:
    """A region table giving 闽侯县 (350121) the dated values `values` (YAML lines)."""
    return write(tmp_path / "regions.yaml", "region_table: {id: t, policy: fujian-2021}\n"
                 "regions:\n  \"350121\":\n    name: 闽侯县\n" + values)


def month_file(folder: Path, month: str, records: list[dict[str, Any]]) -> str:
    path = folder / f"{month}.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return f"{month}={path}"


def run(tmp_path: Path, capsys: pytest.CaptureFixture[str], arguments: list[str],
        engine: str) -> tuple[int, str, list[dict[str, Any]], str]:
    """Exit code, output, rejects and the summary line of one run."""
    rejects = tmp_path / f"rejects-{engine}.jsonl"
    rejects.unlink(missing_ok=True)
    code = main([*arguments, "--engine", engine, "--rejects", str(rejects)])
    captured = capsys.readouterr()
    rejected = [json.loads(line) for line in rejects.read_text(encoding="utf-8").splitlines()]
    return code, captured.out, rejected, captured.err.strip().splitlines()[-1]


def both_engines(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                 arguments: list[str]) -> tuple[int, str, list[dict[str, Any]], str]:
    by_record = run(tmp_path, capsys, arguments, "record")
    assert run(tmp_path, capsys, arguments, "columnar") == by_record
    return by_record


def villager(number: int, income: int, previous: int, code: str = VILLAGE) -> dict[str, Any]:
    return {**household(f"H{number:03d}", status="none"), "region_code": code,
            "net_income": income, "previous_net_income": previous}


def warning_rules(output: str) -> list[tuple[str, str, str]]:
    return [(w["rule"], w["region"], w["period"])
            for w in map(json.loads, output.splitlines())]


def test_a_countys_sharp_drop_line_moves_a_village_into_a_warning(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """闽侯县 counts a 40 % loss as a sharp drop (the province: half): 6 of the village's 20
    households losing 40 % in April is a wave (§3) under the table and none without it."""
    regions = table(tmp_path, "    sharp_drop_ratio:\n      - {from: 2022-01-01, value: 0.3}\n")
    march = [villager(n, 10000, 10000) for n in range(20)]
    april = [villager(n, 6000 if n < 6 else 10000, 10000) for n in range(20)]
    stranger = villager(999, 10000, 10000, OTHER_COUNTY)
    months = [month_file(tmp_path, "2022-03", [*march, stranger]),
              month_file(tmp_path, "2022-04", [*april, stranger])]
    command = ["report", "regional", *months, "--policy", FUJIAN, "--format", "json"]
    code, province, rejected, summary = both_engines(tmp_path, capsys, command)
    assert code == 0 and rejected == []
    assert ("village_income_drop_wave", VILLAGE, "2022-04") not in warning_rules(province)
    code, county, rejected, summary = both_engines(tmp_path, capsys,
                                                   [*command, "--regions", regions])
    assert ("village_income_drop_wave", VILLAGE, "2022-04") in warning_rules(county)
    # the household of a county the table does not hold: rejected each month, counted
    assert code == 1 and [(r["line"], r["field"]) for r in rejected] == [
        (21, "region_code"), (21, "region_code")]
    assert "not in the region table" in rejected[0]["reason"]
    assert "records read 42, decided 40, rejected 2" in summary


def test_a_countys_warning_line_is_the_threshold_of_its_rows(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """5 sharp drops of 60 households (8.3 %) are below the province's 10 % and above
    闽侯县's 5 %: the row of its village is judged with its county's line."""
    regions = table(tmp_path, "    regional_income_drop_share:\n"
                    "      - {from: 2022-01-01, value: 0.05}\n")
    march = [villager(n, 10000, 10000) for n in range(60)]
    april = [villager(n, 4000 if n < 5 else 10000, 10000) for n in range(60)]
    months = [month_file(tmp_path, "2022-03", march), month_file(tmp_path, "2022-04", april)]
    command = ["report", "regional", *months, "--policy", FUJIAN, "--format", "json"]
    wave = ("village_income_drop_wave", VILLAGE, "2022-04")
    assert wave not in warning_rules(both_engines(tmp_path, capsys, command)[1])
    code, out, _, _ = both_engines(tmp_path, capsys, [*command, "--regions", regions])
    assert code == 0 and wave in warning_rules(out)
    assert next(w for w in map(json.loads, out.splitlines())
                if w["rule"] == wave[0])["figures"]["threshold"] == 0.05


MONITORING_LINE = "    monitoring_line:\n      - {from: 2022-01-01, value: 9000}\n" \
    "    dibao_standard:\n      - {from: 2022-01-01, value: 8880}\n"


def history_months(tmp_path: Path) -> list[str]:
    """A household of 闽侯县 at 8500, 9500, 8500: under its county's line of 9000 in range,
    out and in again (§4); under the province's 7152 never in range. And one of a county the
    table does not hold."""
    def one(income: int) -> list[dict[str, Any]]:
        return [villager(1, income, income), villager(2, income, income, OTHER_COUNTY)]
    return [month_file(tmp_path, "2022-01", one(8500)), month_file(tmp_path, "2022-02", one(9500)),
            month_file(tmp_path, "2022-03", one(8500))]


def findings(output: str) -> list[tuple[str, str, Any]]:
    return [(h["household_id"], f["code"], f.get("month"))
            for h in map(json.loads, output.splitlines()) for f in h["findings"]]


def test_history_finds_what_its_countys_line_shows(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    regions = table(tmp_path, MONITORING_LINE)
    command = ["report", "history", *history_months(tmp_path), "--policy", FUJIAN]
    code, province, rejected, _ = both_engines(tmp_path, capsys, command)
    assert code == 0 and rejected == []
    assert ("H001", "left_range_one_month", "2022-02") not in findings(province)
    code, county, rejected, summary = both_engines(tmp_path, capsys,
                                                   [*command, "--regions", regions])
    assert ("H001", "left_range_one_month", "2022-02") in findings(county)
    assert [h["household_id"] for h in map(json.loads, county.splitlines())] == ["H001"]
    assert code == 1 and [(r["household_id"], r["field"]) for r in rejected] == [
        ("H002", "region_code")] * 3
    assert "households 1; records read 6, decided 3, rejected 3" in summary


def test_history_grace_is_judged_against_the_countys_dibao_standard(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A dibao household at 8000 is above the province's standard (7152) and below 闽侯县's
    (8880): the grace period (§14) is the province's finding only."""
    regions = table(tmp_path, MONITORING_LINE)
    record = {**villager(1, 8000, 8000), "dibao": {"enrolled": True}}
    months = [month_file(tmp_path, "2022-01", [record])]
    command = ["report", "history", *months, "--policy", FUJIAN]
    grace = ("H001", "dibao_grace_not_started", "2022-01")
    assert grace in findings(both_engines(tmp_path, capsys, command)[1])
    assert grace not in findings(both_engines(tmp_path, capsys,
                                              [*command, "--regions", regions])[1])


def test_history_pairs_decisions_made_with_the_table_and_refuses_the_others(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    regions = table(tmp_path, MONITORING_LINE)
    months = history_months(tmp_path)
    with_table, without = [], []
    for value, last_day in zip(months, ("2022-01-31", "2022-02-28", "2022-03-31"),
                               strict=True):
        month, path = value.split("=")
        for given, extra in ((with_table, ["--regions", regions]), (without, [])):
            out = tmp_path / f"decisions-{month}-{len(extra)}.jsonl"
            assert main(["eval", FUJIAN, path, "--as-of", last_day, "-o", str(out),
                         "--rejects", str(tmp_path / "eval-rejects.jsonl"), *extra]) in (0, 1)
            given += ["--decisions", f"{month}={out}"]
    capsys.readouterr()
    command = ["report", "history", *months, "--policy", FUJIAN, "--regions", regions]
    afresh = both_engines(tmp_path, capsys, command)
    code, out, rejected, summary = both_engines(tmp_path, capsys, [*command, *with_table])
    assert (code, out, rejected) == afresh[:3]
    assert "decisions read 3, used 3, rejected 0" in summary
    code, out, rejected, summary = both_engines(tmp_path, capsys, [*command, *without])
    assert code == 1 and out == ""
    refused = [r for r in rejected if r["field"] == "policy"]
    assert [r["household_id"] for r in refused] == ["H001"] * 3
    assert "not of its region's parameters in the region table" in refused[0]["reason"]
    assert refused[0]["reason"].endswith("decisions-2022-01-0.jsonl:1)")
    # the stranger's decisions (made without the table) are of no household decided
    assert "decisions read 6, used 0, rejected 3" in summary


@pytest.mark.parametrize("report", ["history", "regional"])
def test_a_month_the_table_does_not_answer_for_is_a_usage_error(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], report: str) -> None:
    """Its county's line ended with 2022: with --strict, a month of 2023 is refused before
    any record is read (the file here is not even JSON); 2022 is answered for."""
    regions = table(tmp_path, "".join(
        f"    {name}:\n      - {{from: 2022-01-01, until: 2022-12-31, value: 9000}}\n"
        for name in ("monitoring_line", "dibao_standard")))
    broken = write(tmp_path / "broken.jsonl", "{not json\n")
    command = ["report", report, f"2023-01={broken}", "--policy", FUJIAN, "--regions", regions,
               "--strict"]
    for engine in ("record", "columnar"):
        assert main([*command, "--engine", engine]) == 2
        err = capsys.readouterr().err
        assert "2023-01: parameter '" in err and "no value in force on 2023-01-31" in err
        assert f"its last value ended 2022-12-31 ({regions}:" in err
        assert "not json" not in err and "rejected" not in err and "Traceback" not in err
    assert main([*command[:2], f"2022-12={broken}", *command[3:]]) == 1  # read: rejected
    capsys.readouterr()
    # without the table, 2022 is the province's: its values ended with 2021
    assert main(["report", report, f"2022-12={broken}", "--policy", FUJIAN, "--strict"]) == 2
    err = capsys.readouterr().err
    assert "2022-12: parameter '" in err and "its last value ended 2021-12-31" in err
    assert main(["report", report, f"2022-12={broken}", "--policy", FUJIAN]) == 1


def test_a_reports_decisions_must_be_of_the_table_too(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`fangpin report ledger --regions --decisions`: decisions made with the table pair,
    those made without it are refused at their line, as a decision of another policy is."""
    regions = table(tmp_path, MONITORING_LINE)
    path = tmp_path / "households.jsonl"
    path.write_text(json.dumps(villager(1, 8500, 8500)) + "\n", encoding="utf-8")
    made = {}
    for name, extra in (("with", ["--regions", regions]), ("without", [])):
        made[name] = tmp_path / f"decisions-{name}.jsonl"
        assert main(["eval", FUJIAN, str(path), "--as-of", "2022-03-31", "-o",
                     str(made[name]), *extra]) == 0
    command = ["report", "ledger", FUJIAN, str(path), "--month", "2022-03", "--regions",
               regions, "--format", "csv"]
    assert main(command) == 0
    afresh = capsys.readouterr().out
    assert main([*command, "--decisions", str(made["with"])]) == 0
    assert capsys.readouterr().out == afresh
    assert main([*command, "--decisions", str(made["without"])]) == 1
    rejection = json.loads(capsys.readouterr().err.splitlines()[0])
    assert (rejection["line"], rejection["field"]) == (1, "policy")
    assert "not of its region's parameters in the region table" in rejection["reason"]
