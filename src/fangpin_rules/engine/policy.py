"""`Policy`: a loaded, checked and compiled policy file, ready to decide households."""

from __future__ import annotations

import decimal
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from fangpin_rules.checker import CheckedPolicy, check
from fangpin_rules.checker.resolve import ParameterDateError, parameters_on
from fangpin_rules.compiler import CompiledPolicy, compile_policy
from fangpin_rules.compiler.codegen import collector_paused
from fangpin_rules.compiler.runtime import EvaluationError
from fangpin_rules.diagnostics import Diagnostic, Location
from fangpin_rules.engine.records import (
    RecordError,
    Rejection,
    checked_case,
    household_problems,
    rejection_of,
    validate,
)
from fangpin_rules.engine.trace import Tracer
from fangpin_rules.limits import DECIMAL_CONTEXT
from fangpin_rules.model import Case, Household
from fangpin_rules.policy import SourcedDocument, read_document
from fangpin_rules.policy.document import localized

Evaluator = Callable[..., dict[str, Any]]
RejectHandler = Callable[[Rejection], None]
CaseInput = Case | Mapping[str, Any]
VIOLATIONS = ("late", "too_short", "too_early", "no_notice")


class DateError(ValueError):
    """An evaluation date the policy cannot answer for (before it took effect, a parameter
    without a value on it, a year the calendar does not cover)."""


@dataclass(frozen=True)
class CarriedForward:
    """A parameter whose last value ended before the evaluation date and is carried forward
    (§2: the 2021 figures are the 2021 figures). A run says so once, not per household."""

    parameter: str
    value: Any
    year: int  # the year the value carried forward came from
    until: date
    as_of: date
    cite: str  # the article that sets the parameter, with its title: "§2 监测范围"
    note: str | None
    location: Location

    def message(self) -> str:
        why = f"{self.cite}: {self.note}" if self.note else self.cite
        return (f"parameter '{self.parameter}' has no value in force on "
                f"{self.as_of.isoformat()}: its {self.year} value {self.value} "
                f"({self.location.file}:{self.location.line}, until {self.until.isoformat()}) "
                f"is carried forward ({why}); add the value in force on that date, or "
                "--strict refuses it")


def load_policy(path: str | Path, *, search_path: Sequence[str | Path] = (),
                strict: bool = False, inside: Sequence[str] | None = None) -> Policy:
    """Read, check and compile a policy file (with the bases it `extends:`, looked up by id in
    `search_path` too); `path` may be a policy id (`fujian-2021`, or a shipped county's), found
    in `search_path`, $FANGPIN_POLICY_PATH or the policies the package ships. Raises
    PolicyError with every problem found. `strict` refuses a date on which a parameter's last
    value has ended, instead of carrying it forward. `inside`: the file is one another file
    named (a test file's `policy:`), read only inside these policy roots, on the file opened."""
    with collector_paused():
        sourced = read_document(path, search_path, inside=inside)
        checked = check(sourced)
        policy = Policy(checked, compile_policy(checked), strict=strict)
    policy.sourced = sourced  # what a region table merges its values into
    return policy



def parse_date(value: date | str) -> date:
    """The evaluation date: a date, its ISO text, or a datetime (taken as its date)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise DateError(f"'{value}' is not a date (YYYY-MM-DD)") from None


class Policy:
    """A policy ready to evaluate household records."""

    def __init__(self, checked: CheckedPolicy, compiled: CompiledPolicy, *,
                 strict: bool = False) -> None:
        self.checked = checked
        self.compiled = compiled
        self.strict = strict
        self.sourced: SourcedDocument | None = None
        self.ref = {"id": checked.id, "sha256": checked.sha256}
        self._evaluator = lru_cache(maxsize=64)(self._build_evaluator)
        self._carried: dict[tuple[str, date], CarriedForward] = {}

    # -- identity -----------------------------------------------------------------------------
    @property
    def id(self) -> str:
        return self.checked.id

    @property
    def sha256(self) -> str:
        return self.checked.sha256

    @property
    def path(self) -> str:
        return self.checked.path

    @property
    def warnings(self) -> list[Diagnostic]:
        return list(self.checked.diagnostics)

    # -- parameters on a date -----------------------------------------------------------------
    def parameters_on(self, as_of: date | str) -> dict[str, Any]:
        """Each parameter's value in force on `as_of`."""
        when = parse_date(as_of)
        return {name: value for name, (value, _) in self._resolve(when).items()}

    def carried_forward(self, as_of: date | str) -> list[CarriedForward]:
        """The parameters whose last value has ended before `as_of` and is carried forward
        (empty on a date every value covers; with `strict` the date is refused instead)."""
        when = parse_date(as_of)
        self._resolve(when)
        return [notice for (_, day), notice in self._carried.items() if day == when]

    @property
    def run_warnings(self) -> list[CarriedForward]:
        """Every carried-forward value met so far, for each date evaluated: what a caller of
        `evaluate_many` reports once after the run."""
        return list(self._carried.values())

    def _resolve(self, when: date) -> dict[str, tuple[Any, dict[str, Any]]]:
        meta = self.checked.document.policy
        if when < meta.effective:
            raise DateError(f"policy {meta.id} takes effect on {meta.effective.isoformat()}; "
                            f"it does not apply on {when.isoformat()}")
        try:
            in_force = parameters_on(self.checked.parameters, when, strict=self.strict)
        except ParameterDateError as exc:
            raise DateError(str(exc)) from None
        inheritance = self.checked.inheritance
        resolved: dict[str, tuple[Any, dict[str, Any]]] = {}
        for name, found in in_force.items():
            param, chosen = self.checked.parameters[name], found.chosen
            info: dict[str, Any] = {
                "value": found.value, "from": chosen.start.isoformat(),
                "until": chosen.until.isoformat() if chosen.until else None,
                "file": chosen.location.file, "line": chosen.location.line,
                "cite": param.cite, "basis": param.basis, "title": param.title_zh}
            if chosen.formula is not None:
                info["formula"] = chosen.formula.text
            if chosen.source:
                info["source"] = chosen.source
            if found.carried_forward:
                assert chosen.until is not None
                info["carried_forward"] = True
                info["note"] = (f"no value in force on {when.isoformat()}: the value that ended "
                                f"{chosen.until.isoformat()} is carried forward")
                if (name, when) not in self._carried:
                    self._carried[(name, when)] = self._carried_notice(name, found.value,
                                                                       chosen, when)
            override = inheritance.parameter_override(name, chosen.location.file) \
                if inheritance else None
            if override is not None:
                base = override.base_value_on(when)
                if base is not None:
                    info["overrides"] = {"file": base.location.file, "line": base.location.line,
                                         "value": base.value}
            resolved[name] = (found.value, info)
        return resolved

    def _carried_notice(self, name: str, value: Any, chosen: Any, when: date) -> CarriedForward:
        param = self.checked.parameters[name]
        declared = self.checked.document.parameters.get(name)
        note = " ".join(declared.note.split()) if declared and declared.note else None
        assert chosen.until is not None
        return CarriedForward(name, value, chosen.start.year, chosen.until, when,
                              self._article(param.cite), note, chosen.location)

    def _article(self, cite: str) -> str:
        parts = []
        for ref in re.findall(r"§\d+", cite) or [cite]:
            article = self.checked.document.articles.get(ref)
            title = localized(article.title, "zh") if article is not None else None
            parts.append(f"{ref} {title}" if title else ref)
        return ", ".join(parts)

    def _build_evaluator(self, when: date) -> Evaluator:
        params = tuple(value for value, _ in self._resolve(when).values())
        return self.compiled.build(params, when, self.ref, self._calendar())

    def _calendar(self) -> Any:
        return self.checked.calendar

    def check_date(self, as_of: date | str) -> None:
        """Raise DateError if the policy cannot decide on `as_of` (as a region table's
        `check_date` does for each of its regions)."""
        self.evaluator(as_of)

    def evaluator(self, as_of: date | str) -> Evaluator:
        """The compiled decision function for one date (cached): record -> decision dict.

        It takes a validated `Household`; use `evaluate` for dicts and explanations.
        """
        return self._evaluator(parse_date(as_of))

    # -- periodic duties ------------------------------------------------------------------------
    def duties_on(self, as_of: date | str) -> list[dict[str, Any]]:
        """Each periodic duty's current period on `as_of` and the day it ends (also its last
        working day, since offices close on rest days)."""
        from fangpin_rules.calendar import Frequency, period_containing

        when = parse_date(as_of)
        calendar = self._calendar()
        out = []
        for duty_id, duty in self.checked.document.duties.items():
            period = period_containing(when, Frequency(duty.frequency))
            out.append({
                "duty": duty_id, "title": localized(duty.title, "zh"),
                "title_en": localized(duty.title, "en"), "frequency": duty.frequency,
                "period": period.label, "starts": period.first_day, "ends": period.last_day,
                "last_working_day": calendar.previous_working_day(period.last_day),
                "cite": duty.cite, "text": duty.text})
        return out

    # -- evaluation ---------------------------------------------------------------------------
    def validate(self, record: Any, line: int | None = None) -> Any:
        """The record as the policy reads it (a `Household`, or a model of the policy's
        declared schema); RecordError names its id and the first bad field."""
        return validate(record, line, self.checked.record_model, self.checked.record_id)

    def evaluate(self, record: Household | Mapping[str, Any], as_of: date | str, *,
                 explain: bool = False, cases: Iterable[CaseInput] = (),
                 on_case_reject: RejectHandler | None = None) -> dict[str, Any]:
        """Decide one household (and the deadlines of its cases, if given).
        Raises RecordError for a record outside the contract. A case outside the contract or
        the procedure's order, or naming another household, raises RecordError too; with
        `on_case_reject` it is handed to it and the household is decided without it."""
        household = self.validate(record)
        when = parse_date(as_of)
        case_list = self._own_cases(household, cases, on_case_reject)
        if explain:
            return self._explained(household, when, case_list)
        return self.decide_record(self._evaluator(when), household, when, None, case_list)

    def evaluate_many(self, records: Iterable[Household | Mapping[str, Any]],
                      as_of: date | str, *, explain: bool = False,
                      on_reject: RejectHandler | None = None,
                      cases: Mapping[str, list[Case]] | None = None,
                      ) -> Iterator[dict[str, Any]]:
        """Decide records lazily, in input order. A bad record (or one whose id an earlier
        record has) raises RecordError, or, when `on_reject` is given, is handed to it and
        skipped. `cases` maps household ids to their
        (validated) case records."""
        from fangpin_rules.engine.stream import OneDecisionPerId

        when = parse_date(as_of)
        fast = self._evaluator(when)
        id_field = self.checked.record_id
        one_per_id = OneDecisionPerId(id_field)
        for number, record in enumerate(records, start=1):
            try:
                household = self.validate(record, number)
                record_id = getattr(household, id_field) if id_field else None
                duplicate = one_per_id.duplicate_of(record_id, number)
                if duplicate is not None:
                    raise RecordError(duplicate)
                own = self._own_cases(household, cases.get(household.household_id, []),
                                      on_reject, number) if cases else []
                if explain:
                    decision = self._explained(household, when, own)
                else:
                    decision = self.decide_record(fast, household, when, number, own)
                one_per_id.note(record_id, number)
            except RecordError as exc:
                if on_reject is None:
                    raise
                on_reject(exc.rejection)
                continue
            yield decision

    def _own_cases(self, household: Any, cases: Iterable[CaseInput],
                   on_reject: RejectHandler | None, line: int | None = None) -> list[Any]:
        """The household's cases that pass `checked_case`; a bad one raises RecordError, or
        goes to `on_reject` and is left out."""
        record_id = getattr(household, self.checked.record_id or "", None)
        own = []
        for case in cases:
            try:
                own.append(checked_case(case, line, None if record_id is None
                                        else str(record_id)))
            except RecordError as exc:
                if on_reject is None:
                    raise
                on_reject(exc.rejection)
        return own

    def decide_record(self, fast: Evaluator, household: Any, when: date,
                      line: int | None = None, cases: Sequence[Any] | None = None
                      ) -> dict[str, Any]:
        """Decide a record already validated (a `Household`, or the typed record of the fast
        reader) with `fast = self.evaluator(when)`; `cases` are checked cases (`checked_case`:
        a `Case` or the typed reader's record of one). The loop
        of the record API, the streaming run and Arrow batches; RecordError names a record
        the policy cannot decide (a division by zero, say) and the definition that failed,
        or a household with the same member twice. The arithmetic runs in
        `limits.DECIMAL_CONTEXT`, precise enough that no comparison of allowed amounts is
        decided by rounding."""
        _refuse_inconsistent(household, line, self.checked.record_id)
        try:
            with decimal.localcontext(DECIMAL_CONTEXT):
                decision = self._decide_exactly(fast, household, cases)
        except (ArithmeticError, EvaluationError, TypeError, ValueError) as exc:
            raise RecordError(self._failure(household, when, line, exc)) from None
        _summarise_deadlines(decision)
        decision["trace"] = []
        return decision

    @staticmethod
    def _decide_exactly(fast: Evaluator, household: Any,
                        cases: Sequence[Any] | None) -> dict[str, Any]:
        if cases:
            decision = fast(household, cases[0])
            for case in cases[1:]:
                more = fast(household, case)["deadlines"]
                decision["deadlines"].extend(e for e in more if e["case_id"] == case.case_id)
            return decision
        return fast(household)

    def _explained(self, household: Household, when: date,
                   cases: list[Case] | None = None) -> dict[str, Any]:
        _refuse_inconsistent(household, None, self.checked.record_id)
        resolved = self._resolve(when)
        tracer = Tracer(self.checked, self.compiled.parts)
        traced = self.compiled.build_traced(tuple(v for v, _ in resolved.values()), when,
                                            self.ref, self._calendar())
        try:
            with decimal.localcontext(DECIMAL_CONTEXT):
                decision = traced(household, cases[0] if cases else None, tracer)
                for case in (cases or [])[1:]:
                    more = traced(household, case, Tracer(self.checked, self.compiled.parts))
                    decision["deadlines"].extend(e for e in more["deadlines"]
                                                 if e["case_id"] == case.case_id)
        except (ArithmeticError, EvaluationError, TypeError, ValueError) as exc:
            raise RecordError(self._failure(household, when, None, exc)) from None
        _summarise_deadlines(decision)
        header = {"policy": dict(self.ref), "as_of": when.isoformat()}
        decision["trace"] = tracer.export(header, {n: info for n, (_, info) in resolved.items()})
        decision["trace"].extend(tracer.step_entries(decision["deadlines"]))
        return decision

    def _failure(self, household: Any, when: date, line: int | None,
                 exc: Exception) -> Rejection:
        """Name the definition that could not be computed, by replaying with the tracer."""
        tracer = Tracer(self.checked, self.compiled.parts)
        resolved = self._resolve(when)
        traced = self.compiled.build_traced(tuple(v for v, _ in resolved.values()), when,
                                            self.ref, self._calendar())
        where = ""
        try:
            with decimal.localcontext(DECIMAL_CONTEXT):
                traced(household, None, tracer)
        except Exception:
            name = self.checked.order[tracer.current] if tracer.current >= 0 else None
            if name is not None:
                node = self.checked.nodes[name]
                where = f" while computing '{name}' ({node.location})"
        reason = _arithmetic_reason(exc)
        record_id = getattr(household, self.checked.record_id or "", None)
        return Rejection(line, None if record_id is None else str(record_id), None,
                         f"{reason}{where}")


def _refuse_inconsistent(household: Any, line: int | None, id_field: str | None) -> None:
    """RecordError for a household its fields' types admit but the contract does not: the
    same member twice (records.md)."""
    problems = household_problems(household)
    if problems:
        record_id = getattr(household, id_field or "", None)
        raise RecordError(rejection_of(line, None if record_id is None else str(record_id),
                                       problems))


def _summarise_deadlines(decision: dict[str, Any]) -> None:
    """`overdue` and `violations` repeat the deadline entries that are so (records.md)."""
    deadlines = decision["deadlines"]
    if not deadlines:  # most households: no case, no grace period
        decision["overdue"], decision["violations"] = [], []
        return
    decision["overdue"] = [e for e in deadlines if e["status"] == "overdue"]
    decision["violations"] = [e for e in deadlines if e["status"] in VIOLATIONS]


def _arithmetic_reason(exc: Exception) -> str:
    if isinstance(exc, decimal.DivisionByZero | ZeroDivisionError):
        return "division by zero"
    if isinstance(exc, decimal.InvalidOperation):
        return "invalid arithmetic (0/0 or a value out of range)"
    if isinstance(exc, decimal.Overflow):
        return "a number too large"
    return str(exc) or type(exc).__name__
