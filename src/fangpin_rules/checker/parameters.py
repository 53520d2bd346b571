"""Parameters: typed dated values, formulas over other parameters, bounds and gaps.

A bound is declared in the base policy next to its parameter and must hold for every date of
the policy's period, whichever file the value in force came from (the province's, a city's, a
county's or a region table's). A broken bound names the value (file:line), the bound (the other
file:line) and the article the parameter comes from.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from fangpin_rules.checker.checked import Bound, CheckedParameter, ParameterFormula, ParameterValue
from fangpin_rules.checker.resolve import InForce, ParameterDateError, parameters_on
from fangpin_rules.diagnostics import Diagnostic, Location, did_you_mean, error, warning
from fangpin_rules.language import ast
from fangpin_rules.language import types as t
from fangpin_rules.language.parser import ExprSyntaxError, parse_expression
from fangpin_rules.language.values import DurationValue
from fangpin_rules.policy.document import Parameter, localized
from fangpin_rules.policy.read import SourcedDocument
from fangpin_rules.source import key_location

Report = Callable[[Diagnostic], None]
Path_ = tuple[str | int, ...]
_COMPARISON = {"min": "below its minimum", "max": "above its maximum",
               "not_below": "below", "not_above": "above"}


def check_parameters(sourced: SourcedDocument, report: Report) -> dict[str, CheckedParameter]:
    """Type every parameter's values and bounds; report bound violations and gaps."""
    return _Parameters(sourced, report).run()


class _Parameters:
    def __init__(self, sourced: SourcedDocument, report: Report) -> None:
        self.sourced = sourced
        self.doc = sourced.document
        self.report = report
        self.failed = False

    def err(self, code: str, message: str, loc: Location, **kw: Any) -> None:
        self.failed = True
        self.report(error(code, message, loc, **kw))

    def loc(self, path: Path_) -> Location:
        return self.sourced.location(path)

    def run(self) -> dict[str, CheckedParameter]:
        params: dict[str, CheckedParameter] = {}
        for name, param in self.doc.parameters.items():
            checked = self._parameter(name, param)
            if checked is not None:
                params[name] = checked
        self._formulas(params)
        if not self.failed:
            self._bounds(params)
            self._gaps(params)
        return params

    # -- values -------------------------------------------------------------------------------
    def _parameter(self, name: str, param: Parameter) -> CheckedParameter | None:
        path: Path_ = ("parameters", name)
        ptype = t.BY_NAME[param.type]
        values: list[ParameterValue] = []
        if (param.value is None) == (param.values is None):
            self.err("parameter-value", f"parameter '{name}' needs exactly one of `value:` "
                     "or `values:`", key_location(self.sourced.tree, path),
                     hint="`value: 7152`, or `values:` with `from:` dates")
            return None
        if param.values is None:
            converted = self.convert(param.value, ptype, (*path, "value"))
            values.append(ParameterValue(self.doc.policy.effective, None, converted,
                                         self.loc((*path, "value")), None))
        else:
            for i, dated in enumerate(param.values):
                ipath = (*path, "values", i)
                formula = None
                if (dated.value is None) == (dated.formula is None):
                    self.err("parameter-value", f"value {i + 1} of '{name}' needs exactly one "
                             "of `value:` or `formula:`", self.loc(ipath))
                    continue
                if dated.formula is not None:
                    formula = self._parse_formula(dated.formula, (*ipath, "formula"))
                    vpath = (*ipath, "formula")
                    converted = None
                else:
                    vpath = (*ipath, "value")
                    converted = self.convert(dated.value, ptype, vpath)
                if dated.until is not None and dated.until < dated.from_:
                    self.err("parameter-dates", f"value {i + 1} of '{name}' ends before "
                             "it starts", self.loc(ipath))
                values.append(ParameterValue(dated.from_, dated.until, converted,
                                             self.loc(vpath), dated.source, formula))
            starts = [v.start for v in values]
            if starts != sorted(starts) or len(set(starts)) != len(starts):
                self.err("parameter-dates", f"the dated values of '{name}' must be in "
                         "order of their `from:` dates, each date once",
                         self.loc((*path, "values")))
        return CheckedParameter(
            name, ptype, tuple(values), param.cite, param.basis,
            localized(param.title, "zh") or name, localized(param.title, "en"),
            key_location(self.sourced.tree, path), self._declared_bounds(name, param, ptype))

    def convert(self, value: Any, ptype: t.Type, path: Path_) -> Any:
        loc = self.loc(path)
        if ptype in (t.MONEY, t.RATIO, t.NUMBER):
            if isinstance(value, bool) or not isinstance(value, int | Decimal):
                self.err("parameter-type", f"expected a number for a {ptype} parameter, got "
                         f"{value!r}", loc, hint="write a plain decimal such as 7152 or 0.5")
                return None
            return Decimal(value)
        if ptype == t.COUNT:
            if isinstance(value, bool) or not isinstance(value, int):
                self.err("parameter-type", f"expected a whole number, got {value!r}", loc)
                return None
            return value
        if ptype == t.DATE:
            if not isinstance(value, date):
                self.err("parameter-type", f"expected a date (YYYY-MM-DD), got {value!r}", loc)
                return None
            return value
        if ptype == t.BOOL:
            if not isinstance(value, bool):
                self.err("parameter-type", f"expected true or false, got {value!r}", loc)
                return None
            return value
        if ptype == t.DURATION:
            parsed: ast.Expr | None = None
            if isinstance(value, str):
                try:
                    parsed = parse_expression(value)
                except ExprSyntaxError:
                    parsed = None
            if not isinstance(parsed, ast.Duration):
                self.err("parameter-type", f"expected a duration such as '5 working_days' or "
                         f"'12 months', got {value!r}", loc)
                return None
            return DurationValue(parsed.amount, parsed.unit)
        if not isinstance(value, str):
            self.err("parameter-type", f"expected text, got {value!r}", loc)
            return None
        return value

    # -- formulas -----------------------------------------------------------------------------
    def _parse_formula(self, text: str, path: Path_) -> ParameterFormula | None:
        try:
            tree = parse_expression(text)
        except ExprSyntaxError as exc:
            self.err("syntax", f"syntax error in formula: {exc.message}", self.loc(path),
                     excerpt=text, hint=exc.hint)
            return None
        names = frozenset(n.id for n in ast.walk(tree) if isinstance(n, ast.Name))
        return ParameterFormula(text, tree, names)

    def _formulas(self, params: dict[str, CheckedParameter]) -> None:
        """A formula reads parameters and numbers only, with + - * /, and gives a value of its
        parameter's type; formulas may not refer to each other in a cycle."""
        for name, param in params.items():
            for value in param.values:
                if value.formula is None:
                    continue
                kind = self._formula_type(value.formula.tree, params, value.location, name)
                if kind is not None and kind not in (param.type, t.NUMBER):
                    self.err("type", f"the formula of '{name}' gives {t.describe(kind)}, but "
                             f"'{name}' is {t.describe(param.type)}", value.location,
                             excerpt=value.formula.text)
        graph = {name: {n for v in p.values if v.formula for n in v.formula.names}
                 for name, p in params.items()}
        for start in graph:
            path = [start]
            seen = {start}
            stack = [iter(sorted(graph[start]))]
            while stack:
                nxt = next(stack[-1], None)
                if nxt is None:
                    stack.pop()
                    path.pop()
                    continue
                if nxt == start:
                    self.err("cycle", "parameter formulas refer to each other in a cycle: "
                             + " -> ".join([*path, start]), params[start].location)
                    return
                if nxt in seen or nxt not in graph:
                    continue
                seen.add(nxt)
                path.append(nxt)
                stack.append(iter(sorted(graph[nxt])))

    def _formula_type(self, tree: ast.Expr, params: dict[str, CheckedParameter],
                      loc: Location, owner: str) -> t.Type | None:
        match tree:
            case ast.Number():
                return t.NUMBER
            case ast.Name(id=name):
                if name not in params:
                    self.err("unknown-name", f"formula of '{owner}': unknown parameter "
                             f"'{name}'", loc, hint=did_you_mean(name, params) or
                             "a formula reads parameters and numbers only")
                    return None
                kind = params[name].type
                if kind not in t.NUMERIC:
                    self.err("type", f"formula of '{owner}': '{name}' is "
                             f"{t.describe(kind)}, not a number", loc)
                    return None
                return kind
            case ast.Neg(operand=operand):
                return self._formula_type(operand, params, loc, owner)
            case ast.BinOp(op=op, left=left, right=right):
                a = self._formula_type(left, params, loc, owner)
                b = self._formula_type(right, params, loc, owner)
                if a is None or b is None:
                    return None
                combined = t.add_kind(a, b) if op in "+-" else (
                    t.multiply_kind(a, b) if op == "*" else t.divide_kind(a, b))
                if combined is None:
                    self.err("type", f"formula of '{owner}': cannot apply '{op}' to {a} and "
                             f"{b}", loc)
                return combined
        self.err("formula", f"formula of '{owner}': only parameters, numbers and + - * / "
                 "are allowed", loc, hint="e.g. `formula: 2 * dibao_standard`")
        return None

    # -- bounds -------------------------------------------------------------------------------
    def _declared_bounds(self, name: str, param: Parameter, ptype: t.Type) -> tuple[Bound, ...]:
        if param.bounds is None:
            return ()
        path: Path_ = ("parameters", name, "bounds")
        out: list[Bound] = []
        spec = param.bounds
        for kind in ("min", "max"):
            raw = getattr(spec, kind)
            if raw is not None:
                value = self.convert(raw, ptype, (*path, kind))
                if value is not None and not _orderable(ptype):
                    self.err("bounds", f"`{kind}:` needs a parameter that can be ordered, "
                             f"not {t.describe(ptype)}", self.loc((*path, kind)))
                elif value is not None:
                    out.append(Bound(kind, value, self.loc((*path, kind))))
        for kind in ("not_below", "not_above"):
            other = getattr(spec, kind)
            if other is None:
                continue
            other_param = self.doc.parameters.get(other)
            if other_param is None or other == name:
                self.err("unknown-name", f"`{kind}: {other}` names no other parameter",
                         self.loc((*path, kind)),
                         hint=did_you_mean(other, self.doc.parameters) or "")
            elif t.BY_NAME[other_param.type] != ptype or not _orderable(ptype):
                self.err("bounds", f"`{kind}: {other}`: '{other}' is {other_param.type}, "
                         f"'{name}' is {param.type}; only values of one kind compare",
                         self.loc((*path, kind)))
            else:
                out.append(Bound(kind, other, self.loc((*path, kind))))
        if spec.locked:
            out.append(Bound("locked", True, self.loc((*path, "locked"))))
        return tuple(out)

    def _bounds(self, params: dict[str, CheckedParameter]) -> None:
        bounded = {n: p for n, p in params.items() if any(b.kind != "locked" for b in p.bounds)}
        if not bounded:
            return
        effective = self.doc.policy.effective
        dates = sorted({effective, *(v.start for p in params.values() for v in p.values
                                     if v.start > effective)})
        reported: set[tuple[Location, Location]] = set()
        for when in dates:
            try:
                in_force = parameters_on(params, when)
            except ParameterDateError:
                continue  # a missing value is reported by _gaps / on evaluation
            for name, param in bounded.items():
                mine = in_force[name]
                for bound in param.bounds:
                    if bound.kind == "locked" or (mine.chosen.location, bound.location) in \
                            reported:
                        continue
                    limit, related = self._limit(bound, in_force, when)
                    if limit is None or mine.value is None or not _breaks(bound.kind,
                                                                          mine.value, limit):
                        continue
                    reported.add((mine.chosen.location, bound.location))
                    self._violation(param, mine, bound, limit, when, related)

    def _limit(self, bound: Bound, in_force: dict[str, InForce],
               when: date) -> tuple[Any, tuple[tuple[str, Location], ...]]:
        if bound.kind in ("min", "max"):
            return bound.value, ()
        other = in_force[bound.value]
        return other.value, ((f"'{bound.value}' in force on {when.isoformat()} "
                              f"({_show(other.value)})", other.chosen.location),)

    def _violation(self, param: CheckedParameter, mine: InForce, bound: Bound, limit: Any,
                   when: date, related: tuple[tuple[str, Location], ...]) -> None:
        if isinstance(mine.value, DurationValue) and isinstance(limit, DurationValue) and \
                mine.value.unit != limit.unit:
            self.err("parameter-bound",
                     f"'{param.name}' is {mine.value} from {when.isoformat()}, but the bound "
                     f"`{bound.kind}: {limit}` of {self.article(param.cite)} counts "
                     f"{limit.unit}: periods in different units cannot be compared",
                     mine.chosen.location, related=(("bound declared", bound.location),),
                     hint=f"write the period in {limit.unit}")
            return
        what = _COMPARISON[bound.kind]
        target = _show(limit) if bound.kind in ("min", "max") else \
            f"'{bound.value}' ({_show(limit)})"
        article = self.article(param.cite)
        formula = f" (= {mine.chosen.formula.text})" if mine.chosen.formula else ""
        self.err("parameter-bound",
                 f"'{param.name}' is {_show(mine.value)}{formula} from {when.isoformat()}, "
                 f"{what} {target}: the bound `{bound.kind}` of {article}",
                 mine.chosen.location,
                 related=(("bound declared", bound.location), *related),
                 hint=_bound_hint(bound.kind))

    def article(self, cite: str) -> str:
        """`§2 监测范围` for a citation, with the article's title when the policy has it."""
        parts = []
        for ref in re.findall(r"§\d+", cite) or [cite]:
            art = self.doc.articles.get(ref)
            title = localized(art.title, "zh") if art is not None else None
            parts.append(f"{ref} {title}" if title else ref)
        return ", ".join(parts)

    # -- gaps ---------------------------------------------------------------------------------
    def _gaps(self, params: dict[str, CheckedParameter]) -> None:
        effective = self.doc.policy.effective
        for name, param in params.items():
            values = param.values
            if values and values[0].start > effective:
                self.report(warning(
                    "parameter-gap", f"parameter '{name}' has no value from the policy's "
                    f"effective date {effective.isoformat()} until "
                    f"{values[0].start.isoformat()}", values[0].location,
                    hint="give a value from the effective date, or evaluation before "
                    f"{values[0].start.isoformat()} is refused"))
            for value, following in zip(values, [*values[1:], None], strict=True):
                if value.until is None or value.until < effective:
                    continue
                # A last value that ends (the province's 2021 figures) is not a gap in the
                # file: a run on a later date carries it forward and warns once, naming the
                # date asked (engine.Policy.carried_forward); --strict refuses the date.
                if following is not None and following.start > value.until + timedelta(days=1):
                    self.report(warning(
                        "parameter-gap", f"parameter '{name}' has no value from "
                        f"{(value.until + timedelta(days=1)).isoformat()} to "
                        f"{(following.start - timedelta(days=1)).isoformat()}", value.location,
                        hint="close the gap; in it evaluation carries this value forward and "
                        "--strict refuses the date"))


def _orderable(ptype: t.Type) -> bool:
    return ptype in t.NUMERIC or ptype in (t.DATE, t.DURATION)


def _breaks(kind: str, value: Any, limit: Any) -> bool:
    if isinstance(value, DurationValue) and isinstance(limit, DurationValue):
        if value.unit != limit.unit:
            return True  # a period in other units cannot be shown to keep the bound
        value, limit = value.amount, limit.amount
    if kind in ("min", "not_below"):
        return bool(value < limit)
    return bool(value > limit)


def _show(value: Any) -> str:
    return str(value) if not isinstance(value, date) else value.isoformat()


def _bound_hint(kind: str) -> str:
    if kind in ("min", "not_below"):
        return "raise the value: the base policy allows it to be higher, never lower"
    return "lower the value: the base policy allows it to be lower, never higher"
