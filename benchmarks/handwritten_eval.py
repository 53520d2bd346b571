"""The whole of `fangpin eval` written by hand: the floor the engine's end-to-end speed is
measured against (bench_end_to_end.py runs both on the same file).

What a careful engineer writes without a policy engine, using the fastest well-kept JSON
library for Python: msgspec decodes each line straight into structs declared here by hand
(exact decimals, unknown fields refused), `handwritten_fujian.decide` decides, msgspec writes the
decision. It validates less than the engine (no bounds on amounts, no whitespace rules, and a
bad line stops the run), so it is a floor for the engine, not an equal.

    python benchmarks/handwritten_eval.py IN.jsonl OUT.jsonl [--decide no]

With `--decide no` it only reads and writes (the decision is the household echoed back): the
cost of JSON in and out on this machine, which no engine in Python goes below.
"""

from __future__ import annotations

import sys
from datetime import date
from decimal import Decimal
from typing import Literal

import msgspec

from handwritten_fujian import decide

AS_OF = date(2021, 9, 1)
STRUCT = {"forbid_unknown_fields": True, "frozen": True, "kw_only": True, "gc": False}


class Member(msgspec.Struct, **STRUCT):  # type: ignore[call-arg]
    member_id: str
    birth_date: date | None = None
    labour_capacity: Literal["normal", "skilled", "weak", "lost", "none"] | None = None
    health: Literal["healthy", "chronic", "chronic_heavy", "serious_illness"] | None = None
    disability_grade: int | None = None
    dependent_elderly: bool | None = None
    orphan: bool | None = None
    left_behind_child: bool | None = None
    dropped_out: bool | None = None


class Rigid(msgspec.Struct, **STRUCT):  # type: ignore[call-arg]
    medical: Decimal | None = None
    education: Decimal | None = None
    disaster: Decimal | None = None
    accident: Decimal | None = None


class Dibao(msgspec.Struct, **STRUCT):  # type: ignore[call-arg]
    enrolled: bool | None = None
    since: date | None = None
    income_above_standard_on: date | None = None


class Monitoring(msgspec.Struct, **STRUCT):  # type: ignore[call-arg]
    status: Literal["none", "monitored", "risk_eliminated"] = "none"
    category: Literal["unstable", "marginal", "sudden_hardship"] | None = None
    since: date | None = None


class Household(msgspec.Struct, **STRUCT):  # type: ignore[call-arg]
    household_id: str
    region_code: str | None = None
    formerly_poor: bool
    members: list[Member]
    net_income: Decimal
    previous_net_income: Decimal | None = None
    rigid_expenditure: Rigid = msgspec.field(default_factory=Rigid)
    food_clothing_secure: bool | None = None
    basic_medical_secure: bool | None = None
    housing_safe: bool | None = None
    drinking_water_safe: bool | None = None
    dibao: Dibao = msgspec.field(default_factory=Dibao)
    tekun: bool | None = None
    motivation_lacking: bool | None = None
    monitoring: Monitoring = msgspec.field(default_factory=Monitoring)


def main(source: str, target: str, with_decisions: bool = True) -> None:
    read = msgspec.json.Decoder(Household).decode
    write = msgspec.json.Encoder(decimal_format="number").encode
    head = {"policy": {"id": "fujian-2021"}, "as_of": AS_OF.isoformat()}
    with open(source, "rb") as lines, open(target, "wb") as out:
        for line in lines:
            household = read(line)
            if with_decisions:
                decision = {"household_id": household.household_id, **head,
                            **decide(household, AS_OF)}  # type: ignore[arg-type]
                out.write(write(decision))
            else:
                out.write(write(household))
            out.write(b"\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], with_decisions=sys.argv[3:] != ["--decide", "no"])
