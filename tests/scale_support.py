"""Data for the performance and scale tests (import as `scale_support`): a deterministic mix
of households, with a few records that must be rejected, as JSONL text."""

from __future__ import annotations

import json
import random
from typing import Any

AS_OF = "2021-09-01"
LABOUR = ["normal", "skilled", "weak", "lost", "none", None]
HEALTH = ["healthy", "chronic", "chronic_heavy", "serious_illness", None]


def varied_households(n: int, seed: int = 7) -> list[dict[str, Any]]:
    """Households that reach every category, group, risk and measure between them."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        members = [{
            "member_id": str(k + 1),
            "birth_date": f"{rng.randint(1935, 2019)}-{rng.randint(1, 12):02d}-"
                          f"{rng.randint(1, 28):02d}",
            "labour_capacity": rng.choice(LABOUR),
            "health": rng.choice(HEALTH),
            "disability_grade": rng.choice([None, None, None, 1, 2, 3, 4]),
            "dependent_elderly": rng.random() < 0.15,
            "left_behind_child": rng.random() < 0.05,
            "dropped_out": rng.random() < 0.05,
        } for k in range(rng.randint(1, 6))]
        out.append({
            "household_id": f"H{i:06d}",
            "formerly_poor": rng.random() < 0.3,
            "members": members,
            "net_income": round(rng.uniform(1000, 80000), 2),
            "previous_net_income": rng.choice([None, round(rng.uniform(1000, 90000), 2)]),
            "rigid_expenditure": {"medical": round(rng.uniform(0, 30000), 2),
                                  "disaster": rng.choice([0, 0, 5000])},
            "food_clothing_secure": rng.random() > 0.03,
            "basic_medical_secure": rng.random() > 0.05,
            "housing_safe": rng.choice([True, True, True, False, None]),
            "drinking_water_safe": rng.random() > 0.05,
            "dibao": {"enrolled": rng.random() < 0.2, "since": "2019-03-01",
                      "income_above_standard_on": rng.choice([None, "2021-03-15"])},
            "tekun": rng.random() < 0.03,
            "motivation_lacking": rng.random() < 0.1,
        })
    return out


def jsonl_with_rejects(households: list[dict[str, Any]]) -> str:
    """JSONL of `households` with a bad record, a line that is not JSON and a blank line mixed
    in, so that rejects, line numbers and counts are compared too; and, at the end, three
    records the contract accepts in a lax form (a boolean as text, an id with spaces, a boolean
    as 0), which the streaming path's typed reader leaves to pydantic."""
    lines = [json.dumps(h, ensure_ascii=False) for h in households]
    bad = dict(households[0], household_id="BAD-1", net_income="lots")
    lines.insert(3, json.dumps(bad))
    lines.insert(10, "{not json")
    lines.insert(20, "")
    lines.append(json.dumps(dict(households[1], household_id="LAX-1", net_income="12345.5")))
    lines.append(json.dumps(dict(households[2], household_id=" LAX-2 ")))
    lines.append(json.dumps(dict(households[3], household_id="LAX-3", region_code=" 350181 ")))
    return "\n".join(lines) + "\n"
