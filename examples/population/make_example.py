"""Writes the example county of docs/county-reports.md: 福清市 (350181), three townships of
two villages each (12-digit codes), the households of October and November 2021 and the cases.

Run from the repository: `python examples/population/make_example.py`. The data is made from
a fixed list of household profiles (no randomness), so the files and the reports shown in the
guide stay the same; a test checks the files are what this script writes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
COUNTY = "350181"
TOWNSHIPS = ("101", "102", "103")
VILLAGES = ("201", "202")

# (profile, monitoring in October, monitoring in November); a monitoring is
# (status, category, since).
NONE = ("none", None, None)
PROFILES: list[tuple[str, tuple[Any, ...], tuple[Any, ...]]] = [
    ("stable", NONE, NONE),
    ("illness", ("monitored", "unstable", "2021-03-15"), ("monitored", "unstable", "2021-03-15")),
    ("low_income", NONE, ("monitored", "marginal", "2021-11-19")),
    ("disaster", NONE, ("monitored", "sudden_hardship", "2021-11-08")),
    ("recovered", ("monitored", "marginal", "2021-02-01"),
     ("risk_eliminated", "marginal", "2021-11-25")),
    ("no_labour_eliminated", ("monitored", "unstable", "2021-01-10"),
     ("risk_eliminated", "unstable", "2021-11-12")),
    ("low_income_unrecorded", NONE, NONE),
    ("dibao_needed", ("monitored", "unstable", "2021-05-06"),
     ("monitored", "unstable", "2021-05-06")),
]


def member(number: int, birth: str, labour: str, health: str = "healthy") -> dict[str, Any]:
    return {"member_id": str(number), "birth_date": birth, "labour_capacity": labour,
            "health": health}


def household(household_id: str, region: str, profile: str,
              monitoring: tuple[Any, ...], month: str) -> dict[str, Any]:
    members = [member(1, "1975-04-02", "normal"), member(2, "1978-09-12", "normal"),
               member(3, "2010-06-01", "none")]
    record: dict[str, Any] = {
        "household_id": household_id, "region_code": region, "formerly_poor": True,
        "members": members, "net_income": 45000, "previous_net_income": 44000,
        "rigid_expenditure": {"medical": 0, "education": 0, "disaster": 0, "accident": 0},
        "food_clothing_secure": True, "basic_medical_secure": True, "housing_safe": True,
        "drinking_water_safe": True, "dibao": {"enrolled": False}, "tekun": False,
        "motivation_lacking": False,
    }
    if profile == "illness":
        members[0]["health"] = "serious_illness"
        record["rigid_expenditure"]["medical"] = 30000
        record["housing_safe"] = month != "2021-11"  # the typhoon: a change in a remit
    elif profile in ("low_income", "low_income_unrecorded"):
        record["net_income"] = 15000
        record["formerly_poor"] = profile == "low_income_unrecorded"
    elif profile == "disaster":
        record["formerly_poor"] = False
        record["rigid_expenditure"]["disaster"] = 40000
        record["housing_safe"] = month != "2021-11"  # the typhoon damaged it in November
    elif profile == "recovered":
        record["formerly_poor"] = False
        record["net_income"] = 60000
    elif profile == "no_labour_eliminated":
        record["members"] = [member(1, "1940-01-05", "lost", "chronic"),
                             member(2, "1943-07-20", "lost")]
        record["net_income"] = 20000
    elif profile == "dibao_needed":
        record["members"] = [member(1, "1950-02-11", "lost", "chronic_heavy"),
                             member(2, "1952-08-30", "weak")]
        record["net_income"] = 7000
        record["rigid_expenditure"]["medical"] = 4000
    status, category, since = monitoring
    record["monitoring"] = {"status": status, "category": category, "since": since}
    return record


def households(month: str) -> list[dict[str, Any]]:
    rows = []
    number = 0
    for t_index, township in enumerate(TOWNSHIPS):
        for v_index, village in enumerate(VILLAGES):
            region = COUNTY + township + village
            # each village has the profiles from its own starting point, so villages differ
            start = (2 * t_index + v_index) % len(PROFILES)
            for offset in range(5):
                profile, october, november = PROFILES[(start + offset) % len(PROFILES)]
                number += 1
                rows.append(household(f"FQ-{number:03d}-{profile}", region, profile,
                                      october if month == "2021-10" else november, month))
    # one household known only by its township, one only by its county
    rows.append(household("FQ-901-stable", COUNTY + "103", "stable", NONE, month))
    rows.append(household("FQ-902-illness", COUNTY, "illness",
                          ("monitored", "unstable", "2021-03-15"), month))
    return rows


def cases(november: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for record in november:
        monitoring = record["monitoring"]
        if monitoring["status"] != "monitored" or not (monitoring["since"] or "").startswith(
                "2021-11"):
            continue
        number = len(out) + 1
        late = number % 3 == 0  # every third case's preliminary review is late
        out.append({
            "case_id": f"W-2021-11-{number:02d}", "household_id": record["household_id"],
            "source": ("routine_visit", "hotline_12317", "sector_screening")[number % 3],
            "received_on": "2021-10-29", "assigned_on": "2021-11-01",
            "preliminary_review_on": "2021-11-12" if late else "2021-11-05",
            "verified_on": "2021-11-26",
            "publicity": [{"purpose": "identification", "start": "2021-11-29",
                           "end": "2021-12-03" if number % 2 else None}],
            "visits": ["2021-11-30"] if number % 2 else []})
    # a case received in November whose review is still to come (overdue at the month's end)
    out.append({"case_id": "W-2021-11-90", "household_id": "FQ-015-low_income_unrecorded",
                "source": "self_report_online", "received_on": "2021-11-15",
                "assigned_on": "2021-11-16"})
    return out


def write(path: Path, records: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records),
                    encoding="utf-8")


def files() -> dict[str, list[dict[str, Any]]]:
    november = households("2021-11")
    return {"households-2021-10.jsonl": households("2021-10"),
            "households-2021-11.jsonl": november, "cases.jsonl": cases(november)}


def main() -> None:
    for name, records in files().items():
        write(HERE / name, records)


if __name__ == "__main__":
    main()
