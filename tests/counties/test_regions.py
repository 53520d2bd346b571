"""Region tables: one file of many counties' values, checked with the same bounds."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from fangpin_rules import Policy, load_policy
from fangpin_rules.cli.main import main
from fangpin_rules.diagnostics import PolicyError
from fangpin_rules.engine import RecordError
from fangpin_rules.engine.regions import load_regions

from support import FUJIAN, household

ROOT = Path(__file__).resolve().parents[2]
TABLE = ROOT / "policies" / "regions" / "fujian_example_regions.yaml"


def test_each_household_gets_its_region_values(fujian: Policy,
                                               county: dict[str, Policy]) -> None:
    regional = load_regions(fujian, TABLE)
    assert sorted(regional.regions) == ["350121", "350526", "350582"]
    record = household(net_income=8500, region_code="350121")
    assert regional.evaluate(record, "2022-03-01")["in_range"] is True  # 闽侯: 9000
    record["region_code"] = "350526"
    assert regional.evaluate(record, "2022-03-01")["in_range"] is False  # 德化: 8160
    dehua = regional.regions["350526"].policy
    assert dehua.parameters_on("2024-03-01")["monitoring_line"] == Decimal(19560)
    # the table's 闽侯 values are the county file's for 2022: the same decision
    same = household(net_income=8950, region_code="350121")
    table_decision = regional.evaluate(same, "2022-03-01")
    file_decision = county["minhou"].evaluate(same, "2022-03-01")
    for key in ("in_range", "category", "measures", "risks"):
        assert table_decision[key] == file_decision[key]


def test_trace_names_the_table_line(fujian: Policy) -> None:
    regional = load_regions(fujian, TABLE)
    decision = regional.evaluate(household(region_code="350582"), "2023-03-01", explain=True)
    entry = next(e for e in decision["trace"] if e.get("name") == "monitoring_line")
    assert entry["file"] == str(TABLE) and entry["line"] == 35
    assert entry["overrides"]["file"].endswith("fujian_2021.yaml")


def test_unknown_region_is_rejected_with_the_field(fujian: Policy) -> None:
    regional = load_regions(fujian, TABLE)
    with pytest.raises(RecordError) as caught:
        regional.evaluate(household(region_code="350999"), "2022-03-01")
    assert caught.value.rejection.field == "region_code"
    assert "350999" in caught.value.rejection.reason
    rejected: list[object] = []
    decided = list(regional.evaluate_many(
        [household(household_id="A", region_code="350121"), household(household_id="B")],
        "2022-03-01", on_reject=rejected.append))
    assert [d["household_id"] for d in decided] == ["A"]
    assert len(rejected) == 1


def test_a_table_entry_is_checked_with_the_bounds(fujian: Policy, tmp_path: Path) -> None:
    table = tmp_path / "regions.yaml"
    table.write_text("""region_table: {id: t, policy: fujian-2021}
regions:
  "350121":
    name: 闽侯县
    monitoring_line:
      - {from: 2022-01-01, value: 7000}
  "350526":
    name: 德化县
    dibao_standard:
      - {from: 2022-01-01, value: 9000}
    monitoring_line:
      - {from: 2022-01-01, value: 8500}
  "350582":
    name: 晋江市
    dibao_grace_period:
      - {from: 2022-01-01, value: 6 months}
    monitoring_lin:
      - {from: 2022-01-01, value: 9000}
""", encoding="utf-8")
    with pytest.raises(PolicyError) as caught:
        load_regions(fujian, table)
    found = {(d.code, d.location.line) for d in caught.value.diagnostics}
    assert found == {("parameter-bound", 6), ("parameter-bound", 12),
                     ("locked-parameter", 15), ("unknown-name", 17)}
    assert all(d.location.file == str(table) for d in caught.value.diagnostics)
    messages = " ".join(d.message for d in caught.value.diagnostics)
    assert "below its minimum 7152" in messages and "below 'dibao_standard' (9000)" in messages


def test_a_table_for_another_policy_is_refused(fujian: Policy, tmp_path: Path) -> None:
    table = tmp_path / "regions.yaml"
    table.write_text('region_table: {id: t, policy: zhejiang-2021}\nregions: {}\n',
                     encoding="utf-8")
    with pytest.raises(PolicyError, match="for policy 'zhejiang-2021'"):
        load_regions(fujian, table)


def test_eval_with_regions(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    records = tmp_path / "households.jsonl"
    records.write_text("\n".join(json.dumps(household(household_id=h, region_code=code,
                                                      net_income=8500))
                                 for h, code in (("A", "350121"), ("B", "350526"),
                                                 ("C", "350999"))) + "\n", encoding="utf-8")
    code = main(["eval", str(ROOT / "policies" / "fujian_2021.yaml"), str(records),
                 "--as-of", "2022-03-01", "--regions", str(TABLE)])
    captured = capsys.readouterr()
    decisions = [json.loads(line) for line in captured.out.splitlines()]
    assert code == 1
    assert [(d["household_id"], d["in_range"]) for d in decisions] == [("A", True),
                                                                        ("B", False)]
    assert '"field":"region_code"' in captured.err.replace(" ", "")
    assert "read 3, decided 2, rejected 1" in captured.err


def test_check_a_region_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    policy = str(ROOT / "policies" / "fujian_2021.yaml")
    assert main(["check", policy, "--regions", str(TABLE)]) == 0
    assert "3 region(s)" in capsys.readouterr().out
    bad = tmp_path / "regions.yaml"
    bad.write_text(TABLE.read_text(encoding="utf-8").replace("value: 9500", "value: 9000"),
                   encoding="utf-8")
    assert main(["check", policy, "--regions", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:20:" in err and "below 'dibao_standard' (9360)" in err and "§2" in err


def test_a_dibao_standard_below_the_province_minimum_is_refused_at_its_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # [E2] §2: 7152 is the province's minimum rural dibao standard, the floor of a county's own.
    policy = str(ROOT / "policies" / "fujian_2021.yaml")
    table = tmp_path / "regions.yaml"
    table.write_text("""region_table: {id: t, policy: fujian-2021}
regions:
  "350121":
    name: 闽侯县
    dibao_standard:
      - {from: 2022-01-01, value: 7151.99}
    monitoring_line:
      - {from: 2022-01-01, value: 9000}
""", encoding="utf-8")
    assert main(["check", policy, "--regions", str(table)]) == 2
    err = capsys.readouterr().err
    assert f"{table}:6:35: error[parameter-bound]: 'dibao_standard' is 7151.99" in err
    assert "below its minimum 7152" in err and "§2 监测范围" in err
    table.write_text(table.read_text(encoding="utf-8").replace("7151.99", "7152"),
                     encoding="utf-8")
    assert main(["check", policy, "--regions", str(table)]) == 0


def test_a_region_value_carried_forward_warns_once_per_run(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # [E2] §2: a value that ended is carried forward with one warning per run, however many
    # households of the region are decided; --strict refuses the date, naming the parameter.
    policy = str(ROOT / "policies" / "fujian_2021.yaml")
    table = tmp_path / "regions.yaml"
    table.write_text("""region_table: {id: t, policy: fujian-2021}
regions:
  "350121":
    name: 闽侯县
    dibao_standard:
      - {from: 2022-01-01, until: 2022-12-31, value: 8880}
    monitoring_line:
      - {from: 2022-01-01, until: 2022-12-31, value: 9000}
""", encoding="utf-8")
    records = tmp_path / "households.jsonl"
    records.write_text("\n".join(json.dumps(household(household_id=h, region_code="350121"))
                                 for h in ("A", "B", "C")) + "\n", encoding="utf-8")
    args = ["eval", policy, str(records), "--as-of", "2023-03-01", "--regions", str(table)]
    assert main(args) == 0
    captured = capsys.readouterr()
    warnings = [line for line in captured.err.splitlines() if "carried-forward" in line]
    assert len(warnings) == 2
    assert "parameter 'dibao_standard' has no value in force on 2023-03-01: its 2022 value " \
           f"8880 ({table}:6, until 2022-12-31)" in warnings[1]
    assert [json.loads(line)["monitoring_line"] for line in captured.out.splitlines()] == [
        9000] * 3
    assert main([*args, "--strict"]) == 2
    assert "parameter 'monitoring_line' has no value in force on 2023-03-01" in \
        capsys.readouterr().err
    regional = load_regions(load_policy(FUJIAN), table)
    list(regional.evaluate_many([household(region_code="350121")] * 2, "2023-03-01"))
    assert [n.parameter for n in regional.run_warnings] == ["monitoring_line", "dibao_standard"]


@pytest.mark.parametrize("strict", [False, True])
def test_under_a_table_that_covers_the_date_the_base_values_end_is_no_matter(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], strict: bool) -> None:
    """The example table gives 闽侯县 values in force on 2025-06-30, where the province's own
    2021 values have ended: under the table the base decides no household, so every entry
    point decides (with --strict too, as `check_date` says), the same as without it, and
    none refuses the date or falls over on the base's values (eval with --strict did)."""
    import pyarrow.parquet as pq

    from fangpin_rules.columnar import decide_batch, records_to_arrow

    base = load_policy(FUJIAN, strict=strict)
    regional = load_regions(base, TABLE)
    records = [household(household_id=h, region_code="350121") for h in ("A", "B")]
    path = tmp_path / "minhou.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    flag = ["--strict"] if strict else []
    runs = {}
    for engine in ("record", "columnar"):
        out = tmp_path / f"{engine}.jsonl"
        assert main(["eval", str(FUJIAN), str(path), "--as-of", "2025-06-30", "--regions",
                     str(TABLE), "--engine", engine, "-o", str(out), *flag]) == 0
        runs[engine] = out.read_bytes()
        table = records_to_arrow(base, records)
        batch = decide_batch(regional, table, "2025-06-30", engine=engine)
        assert batch.rejects.num_rows == 0
        assert batch.decisions.column("monitoring_line").to_pylist() == ["9500"] * 2
    assert runs["record"] == runs["columnar"]
    assert [json.loads(line)["monitoring_line"] for line in runs["record"].splitlines()] == \
        [9500, 9500]
    pq.write_table(records_to_arrow(base, records), tmp_path / "minhou.parquet")
    assert main(["eval", str(FUJIAN), str(tmp_path / "minhou.parquet"), "--as-of",
                 "2025-06-30", "--regions", str(TABLE), "--engine", "columnar", "-o",
                 str(tmp_path / "out.parquet"), *flag]) == 0
    for engine in ("record", "columnar"):
        assert main(["report", "ledger", str(FUJIAN), str(path), "--month", "2025-06",
                     "--regions", str(TABLE), "--engine", engine, "--format", "csv",
                     "-o", str(tmp_path / f"ledger-{engine}.csv"), *flag]) == 0
    for engine in ("record", "columnar"):
        assert main(["diff", str(FUJIAN), str(FUJIAN), "--impact", str(path), "--as-of",
                     "2025-06-30", "--regions", str(TABLE), "--engine", engine, *flag]) == 0
    err = capsys.readouterr().err
    assert "Traceback" not in err and "carried-forward" not in err
