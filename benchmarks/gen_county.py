"""A synthetic county over 12 months, for the regional warnings (§3, §16): monthly household
files and the events of the year.

    python benchmarks/gen_county.py OUT_DIR [--quiet] [--county 350181] [--seed 0]

The county has 5 townships of 10 villages (50 villages), 24 households a village, followed over
the 12 months of 2022. Every month a few households anywhere have a small disaster loss, a
sharp income drop or are newly identified as monitored: the background a quiet county shows.
Unless `--quiet` (the control county):

- a typhoon in August hits townships 001 and 002: a third of their households newly carry the
  disaster risk, and their identifications in the third quarter jump;
- the price of a local product falls in April in township 004: 30 % of its households lose more
  than half of their income.

Writes OUT_DIR/2022-MM.jsonl (sorted by household_id) and OUT_DIR/events.csv. The same
arguments give the same files byte for byte.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path
from typing import Any

YEAR = 2022
TOWNSHIPS = 5
VILLAGES = 10
HOUSEHOLDS = 24
TYPHOON = ("2022-08", ("001", "002"))
PRICE_FALL = ("2022-04", ("004",))


def county(seed: int = 0, code: str = "350181", quiet: bool = False,
           ) -> tuple[dict[str, list[dict[str, Any]]], list[tuple[str, str, str]]]:
    """({month: households sorted by id}, [(kind, region, month) events])."""
    rng = random.Random(seed)
    base = []
    for t in range(1, TOWNSHIPS + 1):
        for v in range(1, VILLAGES + 1):
            village = f"{code}{t:03d}{v:03d}"
            for h in range(1, HOUSEHOLDS + 1):
                size = rng.randint(2, 4)
                base.append({"id": f"{village}-{h:03d}", "village": village, "size": size,
                             "income": size * rng.randint(12000, 30000)})
    months: dict[str, list[dict[str, Any]]] = {}
    identified: dict[str, str] = {}  # household id -> month its monitoring began
    for month in range(1, 13):
        label = f"{YEAR}-{month:02d}"
        typhoon = not quiet and label == TYPHOON[0]
        price_fall = not quiet and label == PRICE_FALL[0]
        records = []
        for household in base:
            township = household["village"][6:9]
            income = household["income"]
            previous = income
            disaster = 0
            roll = rng.random()
            if roll < 0.005:
                disaster = rng.randint(2000, 8000)  # a background loss
            if roll > 0.995:
                income = income // 3  # a background sharp drop
            if typhoon and township in TYPHOON[1] and rng.random() < 0.33:
                disaster = rng.randint(20000, 60000)
            if price_fall and township in PRICE_FALL[1] and rng.random() < 0.3:
                income = income * 2 // 5
            hit_by_typhoon = (not quiet and township in TYPHOON[1]
                              and label >= TYPHOON[0] and label <= "2022-09")
            newly = rng.random() < (0.12 if hit_by_typhoon and label == TYPHOON[0] else 0.001)
            if newly and household["id"] not in identified:
                identified[household["id"]] = label
            records.append(_record(household, income, previous, disaster,
                                   identified.get(household["id"])))
        months[label] = sorted(records, key=lambda r: r["household_id"])
    events = [] if quiet else [("typhoon", f"{code}{t}", TYPHOON[0]) for t in TYPHOON[1]] + [
        ("price_fall", f"{code}{t}", PRICE_FALL[0]) for t in PRICE_FALL[1]]
    return months, events


def _record(household: dict[str, Any], income: int, previous: int, disaster: int,
            since: str | None) -> dict[str, Any]:
    members = [{"member_id": str(i), "birth_date": f"{1960 + 7 * i}-05-01",
                "labour_capacity": "normal", "health": "healthy"}
               for i in range(1, household["size"] + 1)]
    return {
        "household_id": household["id"], "region_code": household["village"],
        "formerly_poor": False, "members": members, "net_income": income,
        "previous_net_income": previous,
        "rigid_expenditure": {"medical": 0, "education": 0, "disaster": disaster,
                              "accident": 0},
        "food_clothing_secure": True, "basic_medical_secure": True, "housing_safe": True,
        "drinking_water_safe": True,
        "monitoring": ({"status": "monitored", "category": "sudden_hardship",
                        "since": f"{since}-15"} if since else {"status": "none"}),
    }


def write(folder: Path, seed: int = 0, code: str = "350181", quiet: bool = False) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    months, events = county(seed, code, quiet)
    for label, records in months.items():
        (folder / f"{label}.jsonl").write_text(
            "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    (folder / "events.csv").write_text(
        "kind,region,month\n" + "".join(f"{k},{r},{m}\n" for k, r, m in events),
        encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--quiet", action="store_true", help="the control county: no events")
    parser.add_argument("--county", default="350181")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    write(args.out, args.seed, args.county, args.quiet)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
