"""Deterministic synthetic household records (records.md v1) for tests and benchmarks.

    python benchmarks/gen_households.py N OUT.jsonl [--seed S] [--as-of YYYY-MM-DD] [--jobs J]

or, imported: `generate(n, seed)` yields one JSON-ready dict per household, `generate_lines`
the same as compact JSON text. Record i depends only on `(seed, as_of, i)`: the same arguments
give the same file byte for byte, whatever N (a prefix) or J (worker processes), on the same
Python minor version (`random.Random` streams are only promised stable within one). Records are
built in chunks of `CHUNK`, each from its own generator, so that `--jobs` can build them in
parallel; 1,000,000 records take about 50 s of CPU on a slow shared 2-core box.

The records are fictitious but shaped like a Fujian village's: household sizes 1-8, members
whose labour capacity follows their age, illness and disability, about 25 % formerly poor
households, per-capita incomes log-normal around the 7152-yuan line (about a quarter below it),
previous-year incomes with some sharp drops, rigid-spending shocks (medical, education, disaster,
accident), some dibao and 特困 households, and a few percent of unknown (`null` or absent)
values, so that every category, special group, risk and measure of the Fujian 2021 policy occurs.

Money is written as an integer, or as a number with at most two decimals: the dicts hold `int`
yuan or `float(cents) / 100`, whose shortest repr (what `json.dumps` writes) is the two-decimal
text. Read the lines back with `json.loads(line, parse_float=decimal.Decimal)`.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import sys
import time
from bisect import bisect_right
from collections.abc import Iterator
from datetime import date
from math import exp, log
from typing import Any

# Fujian county-level codes (a sample): 福清, 闽侯, 连江, 德化, 安溪, 永春, 长汀, 上杭, 寿宁, 屏南.
REGIONS = ("350181", "350121", "350122", "350526", "350524", "350525", "350821", "350823",
           "350924", "350923")
LINE_CENTS = 715_200
# Household size 1..8.
SIZE_WEIGHTS = (0.13, 0.22, 0.21, 0.19, 0.12, 0.07, 0.04, 0.02)
_SIZE_CUM = tuple(sum(SIZE_WEIGHTS[: i + 1]) for i in range(len(SIZE_WEIGHTS)))
CHUNK = 10_000  # records per independently seeded chunk


def _money(cents: int) -> int | float:
    """Cents as JSON-ready yuan: an int when whole, else a float with at most 2 decimals."""
    if cents % 100 == 0:
        return cents // 100
    return cents / 100


def is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _chunk(seed: int, chunk: int, count: int, as_of: date) -> list[dict[str, Any]]:
    """Records `chunk * CHUNK ... + count - 1` of the stream of `seed`.

    Each chunk has its own generator, seeded from `(seed, chunk)` through a string (hashed with
    SHA-512 by `random`, so stable), which makes chunks independent: the first k records of
    `generate(n, seed)` are those of `generate(k, seed)`, and chunks may be built in parallel.
    """
    rng = random.Random(f"fangpin-households:{seed}:{chunk}")
    rnd = rng.random
    gauss = rng.gauss
    ref_year = as_of.year
    ref_iso = as_of.isoformat()
    as_of_md = (as_of.month, as_of.day)
    # Month-day suffixes (days 1-28) and whether they fall after as_of in the year.
    mds = [(f"-{m:02d}-{d:02d}", (m, d) > as_of_md) for m in range(1, 13) for d in range(1, 29)]
    leap_ok = as_of_md >= (2, 29)
    ln_line = log(LINE_CENTS)
    ln_medical_ill = log(1_500_000)
    ln_medical_shock = log(4_000_000)
    size_cum = _SIZE_CUM
    regions = REGIONS
    n_regions = len(regions)
    money = _money
    first = chunk * CHUNK

    def some_date(years_back: int) -> str:
        md, _ = mds[int(rnd() * 336)]
        iso = f"{ref_year - int(rnd() * (years_back + 1))}{md}"
        return iso if iso <= ref_iso else ref_iso

    def flag(p_true: float, p_null: float) -> bool | None:
        u = rnd()
        if u < p_null:
            return None
        return u < p_null + p_true

    def state(p_false: float, p_null: float) -> bool | None:
        """A guarantee state: True (secure), False (a problem) or None (unknown)."""
        u = rnd()
        if u < p_null:
            return None
        return u >= p_null + p_false

    out: list[dict[str, Any]] = []
    append = out.append
    for i in range(first, first + count):
        region = regions[int(rnd() * n_regions)]
        formerly_poor = rnd() < 0.25
        size = min(8, bisect_right(size_cum, rnd()) + 1)

        # Ages: a head, perhaps a spouse, then children or grandchildren and the head's parents.
        head_age = 22 + int(rnd() * 67)
        ages = [head_age]
        for k in range(1, size):
            u = rnd()
            if k == 1 and u < 0.8:
                ages.append(max(18, head_age - 6 + int(rnd() * 13)))  # a spouse
            elif head_age < 62 and u < 0.2:
                ages.append(min(99, head_age + 22 + int(rnd() * 11)))  # a parent of the head
            else:
                ages.append(max(0, head_age - 20 - int(rnd() * 19)))  # a child or grandchild

        members: list[dict[str, Any]] = []
        ill = False
        has_labour = False
        has_student = False
        for k, age in enumerate(ages):
            u = rnd()
            if u < 0.025 + age * 0.0004:
                health: str | None = "serious_illness"
                ill = True
            elif u < 0.06 + age * 0.0008:
                health = "chronic_heavy"
                ill = True
            elif u < 0.14 + age * 0.002:
                health = "chronic"
            else:
                health = "healthy"
            v = rnd()
            if age < 16:
                labour: str | None = "none"
            elif age < 60:
                labour = ("normal" if v < 0.62 else "skilled" if v < 0.82 else "weak" if v < 0.93
                          else "lost")
            elif age < 70:
                labour = "normal" if v < 0.25 else "weak" if v < 0.7 else "lost"
            else:
                labour = "weak" if v < 0.3 else "lost"
            d = rnd()
            grade = None if d >= 0.07 else 1 + int(d / 0.0175)  # grades 1-4, 3.5 % severe
            if labour != "none" and (
                (health == "serious_illness" and v < 0.6) or (grade is not None and grade <= 2)
            ):
                labour = "lost"
            w = rnd()
            if w < 0.015:
                labour = None
            elif w < 0.03:
                health = None
            if labour == "normal" or labour == "skilled" or labour == "weak":
                has_labour = True
            if 6 <= age <= 22:
                has_student = True

            if rnd() < 0.01:
                birth: str | None = None
            else:
                md, later = mds[int(rnd() * 336)]
                year = ref_year - age - later
                if md == "-02-28" and leap_ok and is_leap(year) and rnd() < 0.25:
                    md = "-02-29"  # a few leap-day birthdays
                birth = f"{year}{md}"
            member: dict[str, Any] = {
                "member_id": str(k + 1),
                "birth_date": birth,
                "labour_capacity": labour,
                "health": health,
                "disability_grade": grade,
            }
            u = rnd()
            if u < 0.04:
                # Records from older systems leave the flags out (absent = unknown).
                pass
            elif u < 0.07:
                member["dependent_elderly"] = None
                member["orphan"] = None
                member["left_behind_child"] = None
                member["dropped_out"] = None
            else:
                member["dependent_elderly"] = (
                    rnd() < 0.12 if age >= 60 else rnd() < 0.03 if age >= 50 else False
                )
                if age < 18:
                    member["orphan"] = rnd() < 0.02
                    member["left_behind_child"] = rnd() < 0.12
                    member["dropped_out"] = (
                        rnd() < 0.04 if 6 <= age <= 15 else rnd() < 0.03 if age >= 16 else False
                    )
                else:
                    member["orphan"] = False
                    member["left_behind_child"] = False
                    member["dropped_out"] = False
            members.append(member)

        # Per-capita income: log-normal, median 1.5 (formerly poor 1.25) times the line.
        mu = ln_line + (0.22 if formerly_poor else 0.42)
        net_cents = int(exp(mu + 0.55 * gauss(0.0, 1.0)) * size)
        v = rnd()
        if v < 0.003:
            net_cents = -int(rnd() * 500_000)  # a loss-making year
        elif v < 0.006:
            net_cents = 0
        elif v < 0.5:
            net_cents = net_cents // 100 * 100  # whole yuan

        # Previous year's income: mostly a small change, sometimes a sharp drop.
        v = rnd()
        previous: int | float | None
        if v < 0.25:
            previous = None
        elif v < 0.27:
            previous = 0
        else:
            # lost 30-90 % (a sharp drop), or a small change
            ratio = 1.0 / (0.7 - 0.6 * rnd()) if v < 0.37 else exp(0.15 * gauss(0.0, 1.0))
            prev_cents = int(max(net_cents, 100_000) * ratio)
            previous = money(prev_cents // 100 * 100 if v < 0.6 else prev_cents)

        # Rigid expenditure of the last 12 months (out of pocket).
        rigid: dict[str, Any] = {}
        v = rnd()
        if ill and v < 0.7:
            rigid["medical"] = money(int(exp(ln_medical_ill + 0.8 * gauss(0.0, 1.0))))
        elif v < 0.04:
            rigid["medical"] = money(int(exp(ln_medical_shock + 0.7 * gauss(0.0, 1.0))))
        elif v < 0.35:
            rigid["medical"] = money(int(rnd() * 300_000)) if v < 0.2 else 0
        else:
            rigid["medical"] = 0 if v < 0.94 else None
        v = rnd()
        if has_student and v < 0.5:
            rigid["education"] = money(50_000 + int(rnd() * 2_500_000))
        else:
            rigid["education"] = 0 if v < 0.94 else None
        v = rnd()
        rigid["disaster"] = money(100_000 + int(rnd() * 6_000_000)) if v < 0.03 else 0
        v = rnd()
        if v < 0.02:
            rigid["accident"] = money(100_000 + int(rnd() * 5_000_000))
        elif v < 0.97:
            rigid["accident"] = 0
        # else: absent = unknown
        if rnd() < 0.01:
            rigid = {}

        # Dibao and 特困.
        below_dibao = net_cents < LINE_CENTS * size
        enrolled = flag(0.45 if below_dibao else 0.06, 0.02)
        dibao: dict[str, Any] = {
            "enrolled": enrolled,
            "since": some_date(8) if enrolled else None,
            "income_above_standard_on": (
                some_date(2) if enrolled and not below_dibao and rnd() < 0.7 else None
            ),
        }
        tekun = flag(0.3 if (not has_labour and size <= 2) else 0.002, 0.02)

        # Monitoring state as recorded.
        v = rnd()
        if v < 0.1:
            category = ("unstable" if formerly_poor
                        else "marginal" if rnd() < 0.7 else "sudden_hardship")
            monitoring: dict[str, Any] = {
                "status": "monitored", "category": category, "since": some_date(3)}
        elif v < 0.15:
            monitoring = {"status": "risk_eliminated",
                          "category": "unstable" if formerly_poor else "marginal",
                          "since": some_date(3)}
        else:
            monitoring = {"status": "none", "category": None, "since": None}

        record: dict[str, Any] = {
            "household_id": f"G{seed}-{region}-{i + 1:07d}",
            "region_code": region,
            "formerly_poor": formerly_poor,
            "members": members,
            "net_income": money(net_cents),
            "previous_net_income": previous,
            "rigid_expenditure": rigid,
            "food_clothing_secure": state(0.015, 0.02),
            "basic_medical_secure": state(0.02, 0.02),
            "housing_safe": state(0.03, 0.03),
            "drinking_water_safe": state(0.02, 0.03),
            "dibao": dibao,
            "tekun": tekun,
            "motivation_lacking": flag(0.05, 0.03),
            "monitoring": monitoring,
        }
        if rnd() < 0.02:
            del record["region_code"]
        append(record)
    return out


def generate(n: int, seed: int = 0, as_of: date = date(2021, 9, 1)) -> Iterator[dict[str, Any]]:
    """Yield `n` contract-valid household records, deterministic in `(seed, as_of)`.

    Ages are exact on `as_of` (the date the records are meant to be decided on); every date in a
    record is on or before it.
    """
    chunk = 0
    while n > 0:
        count = min(n, CHUNK)
        yield from _chunk(seed, chunk, count, as_of)
        n -= count
        chunk += 1


def generate_lines(n: int, seed: int = 0, as_of: date = date(2021, 9, 1)) -> Iterator[str]:
    """The records of `generate` as compact JSON lines (no trailing newline)."""
    dumps = _ENCODER.encode
    for record in generate(n, seed, as_of):
        yield dumps(record)


_ENCODER = json.JSONEncoder(separators=(",", ":"))  # ASCII output: the fast C path


def _chunk_text(job: tuple[int, int, int, date]) -> str:
    """One chunk as JSONL text (a worker's task)."""
    seed, chunk, count, as_of = job
    gc.disable()  # only acyclic dicts are built: the cycle collector would just rescan them
    try:
        dumps = _ENCODER.encode
        return "".join([dumps(record) + "\n" for record in _chunk(seed, chunk, count, as_of)])
    finally:
        gc.enable()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Write N deterministic synthetic household records (JSONL).")
    parser.add_argument("n", type=int, help="number of households")
    parser.add_argument("out", help="output JSONL file ('-' for stdout)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--as-of", type=date.fromisoformat, default=date(2021, 9, 1),
                        help="date on which the ages are exact (default 2021-09-01)")
    parser.add_argument("--jobs", type=int, default=min(4, os.cpu_count() or 1),
                        help="worker processes (the output does not depend on it)")
    args = parser.parse_args(argv)
    if args.n < 0:
        parser.error("N must be >= 0")
    started = time.perf_counter()
    jobs = [(args.seed, c, min(CHUNK, args.n - c * CHUNK), args.as_of)
            for c in range((args.n + CHUNK - 1) // CHUNK)]
    out = sys.stdout if args.out == "-" else open(args.out, "w", encoding="utf-8")  # noqa: SIM115
    try:
        if args.jobs > 1 and len(jobs) > 1:
            from multiprocessing import Pool

            with Pool(args.jobs) as pool:
                for text in pool.imap(_chunk_text, jobs):
                    out.write(text)
        else:
            for job in jobs:
                out.write(_chunk_text(job))
    finally:
        if out is not sys.stdout:
            out.close()
    elapsed = time.perf_counter() - started
    print(f"wrote {args.n} households to {args.out} in {elapsed:.1f}s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
