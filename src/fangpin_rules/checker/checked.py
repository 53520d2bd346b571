"""The checked policy: every name resolved, every expression typed, definitions in dependency
order. This is what the compiler translates and what explanations and diffs read."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pydantic import BaseModel

from fangpin_rules.checker.expression_source import ExprSource
from fangpin_rules.diagnostics import Diagnostic, Location
from fangpin_rules.language import ast
from fangpin_rules.language import types as t
from fangpin_rules.model import Household
from fangpin_rules.policy.document import PolicyDocument


@dataclass(frozen=True)
class Vocabulary:
    name: str
    type: t.Enum
    labels: dict[str, tuple[str, str | None]]  # value -> (zh, en)


@dataclass(frozen=True)
class ParameterFormula:
    """A dated value computed from other parameters (`2 * dibao_standard`)."""

    text: str
    tree: ast.Expr
    names: frozenset[str]


@dataclass(frozen=True)
class ParameterValue:
    start: date
    until: date | None
    value: Any  # None when `formula` gives it
    location: Location
    source: str | None
    formula: ParameterFormula | None = None


@dataclass(frozen=True)
class Bound:
    """One bound a parameter's values must keep: `min`, `max` (a value of the parameter's
    type), `not_below`, `not_above` (another parameter's name) or `locked`."""

    kind: str
    value: Any
    location: Location


@dataclass(frozen=True)
class CheckedParameter:
    name: str
    type: t.Type
    values: tuple[ParameterValue, ...]  # sorted by start
    cite: str
    basis: str
    title_zh: str
    title_en: str | None
    location: Location
    bounds: tuple[Bound, ...] = ()

    def value_on(self, when: date) -> ParameterValue | None:
        """The value in force on `when`: the latest one that started on or before it (it may
        have ended: `checker.resolve` says whether it is carried forward)."""
        chosen: ParameterValue | None = None
        for value in self.values:
            if value.start <= when:
                chosen = value
        return chosen


@dataclass(frozen=True)
class CheckedExpr:
    tree: ast.Expr
    type: t.Type
    source: ExprSource

    @property
    def text(self) -> str:
        return self.source.text


@dataclass(frozen=True)
class CheckedRule:
    id: str
    decision: str
    index: int
    when: CheckedExpr
    label: str | None  # `then` (first_match) or one `add` label (collect)
    labels: tuple[str, ...]
    cite: str
    basis: str
    title: str | None
    location: Location


@dataclass
class CheckedNode:
    """A definition, a decision, or one field of an object decision."""

    name: str
    kind: str  # definition | value | first_match | collect | object
    type: t.Type
    location: Location
    cite: str | None
    basis: str
    title: str | None
    output: bool
    expr: CheckedExpr | None = None
    rules: tuple[CheckedRule, ...] = ()
    otherwise: str | None = None
    when: CheckedExpr | None = None
    fields: tuple[str, ...] = ()  # object decisions: names of the field nodes
    parent: str | None = None
    dependencies: frozenset[str] = frozenset()
    parameters: frozenset[str] = frozenset()
    inputs: frozenset[str] = frozenset()


@dataclass(frozen=True)
class CheckedStep:
    """A step of the procedure with its typed due/done expressions."""

    name: str
    index: int
    kind: str
    title_zh: str
    title_en: str | None
    cite: str
    basis: str
    when: CheckedExpr | None
    due: CheckedExpr
    done: CheckedExpr | None
    needs_case: bool
    location: Location
    until: CheckedExpr | None = None  # quarterly: the last date it is owed
    required_by: CheckedExpr | None = None  # notice: the date it must have ended by


@dataclass(frozen=True)
class CheckedWarning:
    """A data-consistency rule (`warnings:`) with its typed condition. With `var`, the rule is
    checked for every item of the record's list `iterable`, and `field`'s `[]` takes the item's
    index."""

    id: str
    code: str
    title_zh: str
    title_en: str | None
    cite: str
    basis: str
    when: CheckedExpr
    field: str
    var: str | None
    iterable: str | None
    location: Location
    nodes: frozenset[str] = frozenset()  # the definitions and decisions the condition reads


@dataclass
class CheckedPolicy:
    document: PolicyDocument
    path: str
    sha256: str
    vocabularies: dict[str, Vocabulary]
    parameters: dict[str, CheckedParameter]
    nodes: dict[str, CheckedNode]
    order: list[str]  # nodes in dependency order
    outputs: list[str]  # top-level decisions, in file order
    expr_types: dict[int, t.Type]  # id(ast node) -> type
    diagnostics: list[Diagnostic] = field(default_factory=list)
    steps: list[CheckedStep] = field(default_factory=list)
    warnings: list[CheckedWarning] = field(default_factory=list)  # sorted by id
    calendar: Any = None  # the WorkingDayCalendar of the policy (with its corrections)
    inheritance: Any = None  # policy.inherit.Inheritance of a policy that `extends:` others
    record_model: type[BaseModel] = Household  # the records it reads (checker/schema.py)
    record_id: str | None = "household_id"  # the field naming a record, if any
    regional_warnings: list[CheckedRegionalWarning] = field(default_factory=list)

    @property
    def id(self) -> str:
        return self.document.policy.id

    def output_name(self, name: str) -> str:
        """The key of a top-level decision in the decision record."""
        spec = self.document.decisions[name]
        return spec.output or name

    def output_fields(self) -> list[tuple[str, t.Type]]:
        """(key, type) of each decision a decision record holds, labels included, in order."""
        fields: list[tuple[str, t.Type]] = []
        for name in self.outputs:
            key = self.output_name(name)
            fields.append((key, self.nodes[name].type))
            if getattr(self.document.decisions[name], "emit_label", False):
                fields.append((f"{key}_label", t.Opt(t.STRING)))
        return fields

    def rules(self) -> list[CheckedRule]:
        return [rule for name in self.order for rule in self.nodes[name].rules]


@dataclass(frozen=True)
class CheckedRegionalWarning:
    """A regional warning rule whose names and types the checker accepted
    (policy.document.RegionalWarning says what each part means)."""

    rule_id: str
    title_zh: str
    title_en: str | None
    cite: str
    basis: str
    level: str
    where: tuple[str, str] | None  # (risk | category | measure | event, label); None: all
    new: bool
    as_: str
    against: str | None
    above: str | None  # the threshold parameter the figure must exceed (or `below`)
    at_least: str | None  # a count parameter
    events: str | None
    note: str | None
    location: Location
    sum_of: str | None = None  # the decided value summed: its key in the decision record
    below: str | None = None  # the threshold parameter the figure must fall short of

    @property
    def threshold(self) -> str:
        """The threshold parameter's name (`above:` or `below:`)."""
        name = self.above if self.above is not None else self.below
        assert name is not None
        return name
