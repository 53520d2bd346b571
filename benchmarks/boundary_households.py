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
