"""`--jobs N` decides exactly as `--jobs 1` when the policy is a county file found through a
search path, and when a region table chooses each household's parameters: workers load the
policy the way the parent did."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fangpin_rules.cli.main import main

from support import ROOT

REGIONS = ROOT / "policies" / "regions" / "fujian_example_regions.yaml"
JINJIANG = ROOT / "policies" / "counties" / "jinjiang_350582.yaml"


def _households(path: Path) -> Path:
    lines = []
    for i, (region, income) in enumerate([("350121", 27000), ("350526", 24000),
                                          ("350582", 30000), ("350121", 28600),
                                          ("999999", 20000), ("350526", 29340)] * 40):
        lines.append(json.dumps({
            "household_id": f"R-{i}", "region_code": region, "formerly_poor": False,
            "members": [{"member_id": str(k)} for k in range(3)], "net_income": income}))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _run(args: list[str], tmp_path: Path, name: str) -> tuple[int, str, str]:
    out, rejects = tmp_path / f"{name}.jsonl", tmp_path / f"{name}.rejects"
    code = main([*args, "-o", str(out), "--rejects", str(rejects)])
    return code, out.read_text(encoding="utf-8"), rejects.read_text(encoding="utf-8")


@pytest.mark.parametrize("as_of", ["2023-06-30", "2024-06-30"])
def test_region_table_in_workers_equals_one_process(tmp_path: Path, as_of: str) -> None:
    records = _households(tmp_path / "in.jsonl")
    base = ["eval", str(ROOT / "policies" / "fujian_2021.yaml"), str(records),
            "--as-of", as_of, "--regions", str(REGIONS)]
    one = _run([*base, "--jobs", "1"], tmp_path, "one")
    two = _run([*base, "--jobs", "2"], tmp_path, "two")
    assert one == two
    assert one[0] == 1  # the household of region 999999 is rejected, naming region_code
    assert '"field":"region_code"' in one[2]
    lines = {json.loads(line)["monitoring_line"] for line in one[1].splitlines()}
    assert len(lines) > 1  # the regions' different lines were applied


def test_county_by_search_path_in_workers_equals_one_process(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch
                                                             ) -> None:
    monkeypatch.delenv("FANGPIN_POLICY_PATH", raising=False)
    records = _households(tmp_path / "in.jsonl")
    base = ["eval", str(JINJIANG), str(records), "--as-of", "2023-06-30",
            "--policy-path", str(ROOT / "policies"), "--strict"]
    assert _run([*base, "--jobs", "1"], tmp_path, "one") == \
        _run([*base, "--jobs", "2"], tmp_path, "two")
