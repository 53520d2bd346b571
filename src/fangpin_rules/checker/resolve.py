"""The parameters in force on a date: the one place that picks dated values, carries an
expired value forward (or refuses to, when strict) and computes formula values.

The engine uses it to build evaluators; the checker uses it to test bounds on every date."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from fangpin_rules.checker.checked import CheckedParameter, ParameterValue
from fangpin_rules.language import ast


class ParameterDateError(ValueError):
    """A parameter has no value on the date asked for (or, strict, its value has expired)."""


@dataclass(frozen=True)
class InForce:
    value: Any
    chosen: ParameterValue
    carried_forward: bool  # the chosen value ended (`until`) before the date


def parameters_on(parameters: Mapping[str, CheckedParameter], when: date, *,
                  strict: bool = False) -> dict[str, InForce]:
    """Every parameter's value in force on `when`, in declaration order."""
    return _Resolution(parameters, when, strict).all()


class _Resolution:
    def __init__(self, parameters: Mapping[str, CheckedParameter], when: date,
                 strict: bool) -> None:
        self.parameters = parameters
        self.when = when
        self.strict = strict
        self.done: dict[str, InForce] = {}
        self.active: list[str] = []

    def all(self) -> dict[str, InForce]:
        return {name: self.one(name) for name in self.parameters}

    def one(self, name: str) -> InForce:
        if name in self.done:
            return self.done[name]
        param = self.parameters[name]
        chosen = param.value_on(self.when)
        day = self.when.isoformat()
        if chosen is None:
            first = param.values[0].start.isoformat() if param.values else "never"
            raise ParameterDateError(f"parameter '{name}' has no value on {day} (its first "
                                     f"value starts {first}; {param.location})")
        expired = chosen.until is not None and chosen.until < self.when
        if expired and self.strict:
            assert chosen.until is not None
            raise ParameterDateError(
                f"parameter '{name}' has no value in force on {day}: its last value ended "
                f"{chosen.until.isoformat()} ({chosen.location}); without --strict it would be "
                f"carried forward ({param.cite})")
        value = chosen.value
        if chosen.formula is not None:
            if name in self.active:  # the checker refuses cycles; never loop regardless
                raise ParameterDateError("parameter formulas refer to each other in a cycle: "
                                         + " -> ".join([*self.active, name]))
            self.active.append(name)
            try:
                value = self.compute(chosen.formula.tree)
            finally:
                self.active.pop()
        result = InForce(value, chosen, expired)
        self.done[name] = result
        return result

    def compute(self, tree: ast.Expr) -> Any:
        match tree:
            case ast.Number(value=number):
                return number
            case ast.Name(id=name):
                return self.one(name).value
            case ast.Neg(operand=operand):
                return -self.compute(operand)
            case ast.BinOp(op=op, left=left, right=right):
                a, b = self.compute(left), self.compute(right)
                if op == "+":
                    return a + b
                if op == "-":
                    return a - b
                if op == "*":
                    return a * b
                return Decimal(a) / Decimal(b)
        raise ParameterDateError(f"unsupported formula: {tree}")  # the checker refuses these
