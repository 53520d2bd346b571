"""Runtime values of the language that Python has no type for."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class DurationValue:
    """`5 working_days`, `1 month`, `12 months`, `1 quarter`, `30 days`, `1 year`."""

    amount: int
    unit: str  # working_days | days | months | quarters | years

    def __str__(self) -> str:
        unit = self.unit[:-1] if self.amount == 1 else self.unit
        return f"{self.amount} {unit}"
