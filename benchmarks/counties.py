"""County policies: what inheritance and region tables cost. Prints figures; asserts nothing.

    python benchmarks/counties.py [--regions 84] [--households 20000]

- loading (read + merge + check + compile) the province's file, and a county chained through
  its city (three files);
- loading a region table of N synthetic counties (each merged and bounds-checked);
- deciding households with the province's parameters and with per-region parameters.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from fangpin_rules import load_policy  # noqa: E402
from fangpin_rules.engine.regions import load_regions  # noqa: E402
from fangpin_rules.model import Household  # noqa: E402


def _best(fn: Any, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def _table(n: int) -> str:
    lines = ["region_table: {id: bench, policy: fujian-2021}", "regions:"]
    for i in range(n):
        dibao = 7200 + 60 * i
        lines += [f'  "35{i:04d}":', f"    name: 县{i}", "    dibao_standard:",
                  f"      - {{from: 2022-01-01, value: {dibao}}}",
                  f"      - {{from: 2023-01-01, value: {dibao + 480}}}", "    monitoring_line:",
                  f"      - {{from: 2022-01-01, value: {dibao + 200}}}",
                  "      - {from: 2023-01-01, formula: dibao_standard + 300}"]
    return "\n".join(lines) + "\n"


def _households(n: int, regions: int, seed: int = 7) -> list[Household]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        size = rng.randint(1, 5)
        members = [{"member_id": str(j + 1), "birth_date": "1980-05-01",
                    "labour_capacity": rng.choice(["normal", "weak", "lost"]),
                    "health": rng.choice(["healthy", "chronic", "serious_illness"])}
                   for j in range(size)]
        out.append(Household.model_validate({
            "household_id": f"B-{i}", "region_code": f"35{rng.randrange(regions):04d}",
            "formerly_poor": rng.random() < 0.3, "members": members,
            "net_income": rng.randint(4000, 14000) * size}))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--regions", type=int, default=84)
    parser.add_argument("--households", type=int, default=20000)
    args = parser.parse_args()
    province_file = ROOT / "policies" / "fujian_2021.yaml"
    county_file = ROOT / "policies" / "counties" / "jinjiang_350582.yaml"
    load_policy(province_file)  # warm the grammar and imports
    print(f"load province (1 file):           {_best(lambda: load_policy(province_file)):.3f} s")
    print(f"load county via its city (3 files): {_best(lambda: load_policy(county_file)):.3f} s")
    province = load_policy(province_file)
    with tempfile.TemporaryDirectory() as tmp:
        table = Path(tmp) / "regions.yaml"
        table.write_text(_table(args.regions), encoding="utf-8")
        seconds = _best(lambda: load_regions(province, table), repeat=1)
        print(f"load region table ({args.regions} regions):   {seconds:.3f} s "
              f"({1000 * seconds / args.regions:.1f} ms a region)")
        regional = load_regions(province, table)
    households = _households(args.households, args.regions)
    day = "2023-03-01"
    fast = province.evaluator(day)
    start = time.perf_counter()
    for record in households:
        fast(record)
    single = time.perf_counter() - start
    regional.check_date(day)  # build every region's evaluator once, as `eval` does
    start = time.perf_counter()
    for record in households:
        regional.policy_for(record).evaluator(day)(record)
    per_region = time.perf_counter() - start
    n = len(households)
    print(f"decide {n} households, one policy:     {n / single:,.0f} /s")
    print(f"decide {n} households, per region:     {n / per_region:,.0f} /s")


if __name__ == "__main__":
    main()
