"""Boundary-dense synthetic households: those of gen_households.py, most of them moved onto a
boundary of the Fujian decisions, for the columnar engine's equality tests and benchmark.

A household's net income is set so that its per-capita income is a line of the spec (7152, the
dibao standard 7152, 7867.2 = 7152 x 1.1, the counties' 8400 / 8600 / 9000 ...) exactly, or
one fen (0.01 yuan) of the household total above or below it; the previous year's income so
that the drop is exactly half or a fen either side; the rigid spending so that the income after
it sits on a line too. Deterministic: record i depends only on (seed, i).
"""

from __future__ import annotations

import random
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gen_households import generate

LINES = (Decimal("7152"), Decimal("7867.2"), Decimal("8400"), Decimal("8600"), Decimal("8880"),
         Decimal("9000"), Decimal("9460"), Decimal("10000"), Decimal("3576"))
FEN = Decimal("0.01")


def _money(value: Decimal) -> Decimal:
    return value.quantize(FEN)


def boundary_households(n: int, seed: int = 0) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed)
    for household in generate(n, seed):
        size = len(household["members"])
        if rng.random() < 0.85 and size:
            line = rng.choice(LINES)
            shift = FEN * rng.choice((-1, 0, 0, 1))
            net = _money(line * size + shift)
            household["net_income"] = net
            pick = rng.random()
            if pick < 0.4:  # a drop of exactly half, or a fen either side
                household["previous_net_income"] = net * 2 + FEN * rng.choice((-1, 0, 1))
            elif pick < 0.5:
                household["previous_net_income"] = None
            if rng.random() < 0.4:  # the income after rigid spending on a line too
                after = rng.choice(LINES) * size + FEN * rng.choice((-1, 0, 1))
                spend = net - after
                if spend > 0:
                    rigid = dict(household.get("rigid_expenditure") or {})
                    rigid["medical"] = _money(spend)
                    rigid.pop("education", None)
                    rigid.pop("disaster", None)
                    rigid.pop("accident", None)
                    household["rigid_expenditure"] = rigid
        if size and rng.random() < 0.03:  # data the warnings are about
            member = rng.choice(household["members"])
            member["birth_date"] = rng.choice(("2009-09-01", "2009-09-02", "2030-01-01",
                                               "2015-09-01", "2003-09-02"))
            member["labour_capacity"] = rng.choice(("normal", "weak", member.get(
                "labour_capacity")))
            member["dropped_out"] = rng.random() < 0.5
        yield _decimals(household)


def _decimals(value: Any) -> Any:
    """Floats (the generator's money) as the Decimal their JSON text reads back as."""
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, dict):
        return {k: _decimals(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decimals(v) for v in value]
    return value


def boundary_lines(n: int, seed: int = 0) -> Iterator[str]:
    """The same households as JSON lines, money written as exact JSON numbers."""
    import msgspec

    encoder = msgspec.json.Encoder(decimal_format="number")
    for household in boundary_households(n, seed):
        yield encoder.encode(household).decode("utf-8")


# Days around the rest days and make-up working days of the covered years (National Day,
# Spring Festival, a weekend), a day in a year the calendar does not cover, and ordinary ones
CASE_DAYS = ("2021-09-30", "2021-10-01", "2021-10-07", "2021-10-08", "2021-10-09", "2021-10-11",
             "2021-12-31", "2022-01-28", "2022-01-29", "2022-01-30", "2022-02-07", "2022-03-31",
             "2022-04-01", "2022-06-30", "2022-07-01", "2022-09-30", "2023-03-17", "2023-03-20",
             "2021-03-05", "2021-06-11", "2021-08-31", "2021-09-01", "2027-03-01")
SOURCES = ("self_report_online", "hotline_12317", "department_hotline", "routine_visit",
           "sector_screening", "media", "petition")


def boundary_cases(households: list[dict[str, Any]], seed: int = 0, share: float = 0.6
                   ) -> dict[str, list[dict[str, Any]]]:
    """Cases for about `share` of `households` (one to three each), in the contract's
    procedure order, with every step's day near a rest day or a period's end: done on its due
    date, a working day either side, not yet, or after the evaluation date; notices of each
    purpose cut short, exactly long enough or without an end; visits in some quarters and not
    others. Deterministic in (seed, households)."""
    from datetime import date, timedelta

    rng = random.Random(seed)
    cases: dict[str, list[dict[str, Any]]] = {}

    def later(day: date, most: int) -> date:
        return day + timedelta(days=rng.choice((0, 0, 1, 2, 3, 5, 6, 7, 8, most)))

    for household in households:
        if rng.random() >= share:
            continue
        listed = []
        for number in range(rng.choice((1, 1, 1, 2, 3))):
            received = date.fromisoformat(rng.choice(CASE_DAYS))
            case: dict[str, Any] = {"case_id": f"{household['household_id']}-C{number}",
                                    "household_id": household["household_id"],
                                    "source": rng.choice(SOURCES),
                                    "received_on": received.isoformat()}
            day = received
            for field, most in (("assigned_on", 4), ("preliminary_review_on", 12),
                                ("verified_on", 40)):
                if rng.random() < 0.25:
                    break  # not done yet: the later steps neither
                day = later(day, most)
                case[field] = day.isoformat()
            notices = []
            for purpose in ("identification", "measures", "risk_elimination"):
                if rng.random() < 0.5:
                    start = later(received, 30)
                    notice = {"purpose": purpose, "start": start.isoformat()}
                    if rng.random() < 0.8:  # 5 working days are 5 to 9 days or more
                        notice["end"] = (start + timedelta(days=rng.randint(2, 12))).isoformat()
                    notices.append(notice)
            if notices:
                case["publicity"] = notices
            starts = [date.fromisoformat(n["start"]) for n in notices
                      if n["purpose"] == "identification"]
            if rng.random() < 0.6:
                first = min(starts) if starts else received
                case["commitment_signed_on"] = (first + timedelta(
                    days=rng.choice((-3, -1, 0, 1)))).isoformat()
            if rng.random() < 0.6:
                case["confirmed_on"] = later(min(starts) if starts else received, 14).isoformat()
            if rng.random() < 0.7:
                case["visits"] = sorted({(received + timedelta(days=rng.randint(0, 400)))
                                         .isoformat() for _ in range(rng.randint(0, 5))})
            listed.append(case)
        cases[household["household_id"]] = listed
    return cases
