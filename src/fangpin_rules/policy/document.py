"""The structure of a policy file, as pydantic models.

Every mapping forbids unknown keys: a misspelt key is an error with a suggestion, never dropped
(other engines silently ignored years of updates written under a wrong key).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, field_validator

IDENTIFIER = r"^[^\W\d_][\w]*$"
RULE_ID = r"^[^\W\d_][\w.\-]*$"
CITATION = r"^(§\d{1,2}(\s*[,，、]\s*§\d{1,2})*|.{1,80})$"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Text(Strict):
    """A text in Chinese with its English translation."""

    zh: str
    en: str | None = None


LocalizedText = str | Text


class Metadata(Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.\-]*$", max_length=80)
    title: LocalizedText
    document: str | None = None
    issuer: str | None = None
    issued: date | None = None
    effective: date
    supersedes: list[str] = []
    calendar: str = "cn-mainland"
    jurisdiction: str | None = None
    version: str | None = None
    source: str | None = None


class Article(Strict):
    section: str | None = None
    title: LocalizedText | None = None
    text: str | None = None
    text_en: str | None = None


class VocabularyEntry(Strict):
    zh: str
    en: str | None = None


ParameterType = Literal["money", "ratio", "count", "number", "date", "duration", "bool", "string"]
Basis = Literal["document", "interpretation", "law"]


class DatedValue(Strict):
    """A value in force from a date (until the next one starts, or `until`, inclusive).

    `formula:` instead of `value:` computes it from other parameters on the date it applies
    (a county's line as `2 * dibao_standard`)."""

    from_: date = Field(alias="from")
    until: date | None = None
    value: Any = None
    formula: str | None = None
    source: str | None = None
    note: str | None = None


class Bounds(Strict):
    """What a policy that extends this one may not do to a parameter (docs/county-guide.md).

    `min`/`max` are values of the parameter's type; `not_below`/`not_above` name another
    parameter, compared on every date either changes; `locked` forbids any override."""

    min: Any = None
    max: Any = None
    not_below: str | None = None
    not_above: str | None = None
    locked: bool = False
    note: str | None = None


class Parameter(Strict):
    type: ParameterType
    title: LocalizedText
    cite: str = Field(pattern=CITATION)
    basis: Basis
    value: Any = None
    values: list[DatedValue] | None = None
    unit: str | None = None
    note: str | None = None
    bounds: Bounds | None = None

    @field_validator("values")
    @classmethod
    def _values_not_empty(cls, v: list[DatedValue] | None) -> list[DatedValue] | None:
        if v is not None and not v:
            raise ValueError("give at least one dated value")
        return v


class Definition(Strict):
    expr: str
    type: str | None = None
    title: LocalizedText | None = None
    cite: str | None = Field(default=None, pattern=CITATION)
    basis: Basis = "document"
    note: str | None = None
    overridable: bool = False  # a policy that extends this one may replace it


class Rule(Strict):
    id: str = Field(pattern=RULE_ID, max_length=120)
    when: str
    then: str | None = None
    add: str | list[str] | None = None
    cite: str = Field(pattern=CITATION)
    basis: Basis = "document"
    title: LocalizedText | None = None
    note: str | None = None
    overridable: bool = False  # a policy that extends this one may replace it


class _DecisionBase(Strict):
    output: str | None = Field(default=None, pattern=IDENTIFIER)  # name in the decision record
    title: LocalizedText | None = None
    cite: str | None = Field(default=None, pattern=CITATION)
    basis: Basis = "document"
    note: str | None = None


class ValueDecision(_DecisionBase):
    kind: Literal["value"] = "value"
    expr: str
    type: str | None = None


class FirstMatchDecision(_DecisionBase):
    """A category chosen by the first rule whose condition holds."""

    kind: Literal["first_match"]
    type: str
    rules: list[Rule] = Field(min_length=1)
    otherwise: str | None = None
    emit_label: bool = False  # also output `<name>_label`, the chosen label in Chinese


class CollectDecision(_DecisionBase):
    """A set of labels, one from every rule whose condition holds."""

    kind: Literal["collect"]
    type: str
    rules: list[Rule] = Field(min_length=1)


class ObjectDecision(_DecisionBase):
    """A record of named fields (each itself a decision); null unless `when` holds."""

    kind: Literal["object"]
    when: str | None = None
    fields: dict[str, DecisionSpec] = Field(min_length=1)


def _decision_kind(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("kind", "value"))
    return str(getattr(value, "kind", "value"))


DecisionSpec = Annotated[
    Annotated[ValueDecision, Tag("value")]
    | Annotated[FirstMatchDecision, Tag("first_match")]
    | Annotated[CollectDecision, Tag("collect")]
    | Annotated[ObjectDecision, Tag("object")],
    Discriminator(_decision_kind),
]
DECISION_KINDS = ("value", "first_match", "collect", "object")
ObjectDecision.model_rebuild()


SchemaKind = Literal["money", "ratio", "number", "count", "bool", "string", "date"]


class SchemaField(Strict):
    """One field of a declared record schema, in its long form. The short forms are a kind
    name (`money`, or `money?` when the value may be unknown) and a list of allowed strings."""

    type: str | None = None
    enum: list[str] | None = Field(default=None, min_length=1)
    list_: dict[str, SchemaFieldSpec] | None = Field(default=None, alias="list", min_length=1)
    record: dict[str, SchemaFieldSpec] | None = Field(default=None, min_length=1)
    optional: bool = False
    title: LocalizedText | None = None


SchemaFieldSpec = str | list[str] | SchemaField
SchemaField.model_rebuild()


class RecordSchema(Strict):
    """The record a policy reads, when it is not the household of the data contract."""

    name: str = Field(pattern=IDENTIFIER)
    id: str | None = None  # the field naming a record in decisions and rejects
    title: LocalizedText | None = None
    fields: dict[str, SchemaFieldSpec] = Field(min_length=1)


StepKind = Literal["deadline", "minimum_period", "notice", "not_before", "quarterly"]


class Step(Strict):
    """One step of the procedure (§7, §8, §11, §14) and the date it is due.

    `due` and `done` are expressions giving dates. In them, `case` is the case record (a step
    that reads it is decided only when a case is given) and `steps.NAME` is another step's
    date, written above or below it: the day it was done, or its due date while it is not done.

    - `deadline`: due by `due`; not done and past due is overdue, done after it is late.
    - `minimum_period`: a public notice; `due` is the earliest day it may end, `done` its end;
      an end before `due` is too short.
    - `notice`: a public notice the document sets no deadline for: checked for its minimum
      length like `minimum_period` when recorded, `not_started` (no due date, never overdue)
      when not; with `required_by`, one that had not ended by that date is `no_notice`.
    - `not_before`: may not be done before `due` (a confirmation after its notice).
    - `quarterly`: once in every calendar quarter from `due` to the evaluation date, or to
      `until` when that is earlier; `done` is the list of dates it was done (entries are named
      `<step>_<year>Q<n>`).

    A due date in a year the working-day calendar does not cover makes that entry `unknown`
    (its `reason` names the year), and the steps counted from it too; the household stands.
    """

    kind: StepKind = "deadline"
    title: LocalizedText
    cite: str = Field(pattern=CITATION)
    basis: Basis = "document"
    when: str | None = None
    due: str
    done: str | None = None
    until: str | None = None  # quarterly: the date the duty ends with
    required_by: str | None = None  # notice: the date it must have ended by
    note: str | None = None


class Duty(Strict):
    """A duty owed once every day, ISO week, calendar month, quarter or half-year (§5, §6, §7,
    §11, §16). A daily duty is owed on working days only: the offices are closed on rest days."""

    title: LocalizedText
    frequency: Literal["daily", "weekly", "monthly", "quarterly", "half_yearly"]
    cite: str = Field(pattern=CITATION)
    basis: Basis = "document"
    text: str | None = None  # the document's own words


class RegionalWarning(Strict):
    """A regional warning (§3 区域性、规模性返贫风险, §16 每季度集中研判): an indicator over a
    region's decided households each month, compared with a threshold parameter.

    `where:` picks the households counted (one of `risk`, `category`, `measure` naming a label
    of that vocabulary, or `event`: `identified` / `eliminated`, the households whose status
    started that month; without it, all of the region's households); `new: true` counts only
    those that did not match the month before. The indicator is the count of those households,
    or with `sum:` (a numeric decided value: money, count, number or ratio) the sum of that
    value over them. `as: share` divides it by the region's (households, or the value's sum over
    all of them); `as: mean` (with `sum:`) by the households summed; `against:` compares it with
    the previous month's or quarter's (a count as `current / max(previous, 1)`, a sum or mean as
    `current / previous`). The warning is raised when the figure is above the parameter `above:`
    (or below `below:`) and at least `at_least:` households match; with `events: KIND`, only in
    the regions an event input of that kind names that month."""

    title: LocalizedText
    cite: str = Field(pattern=CITATION)
    basis: Basis = "interpretation"
    level: Literal["county", "township", "village"]
    where: dict[str, str] | None = Field(default=None, min_length=1, max_length=1)
    new: bool = False
    sum: str | None = None
    as_: Literal["count", "share", "mean"] = Field(default="count", alias="as")
    against: Literal["previous_month", "previous_quarter"] | None = None
    above: str | None = None
    below: str | None = None
    at_least: str | None = None
    events: str | None = Field(default=None, pattern=IDENTIFIER)
    note: str | None = None


class WarningRule(Strict):
    """A data-consistency check (§18 规范数据填报): when `when` holds, the decision carries the
    warning `{code, field, cite}`; the household is still decided.

    `for: m in members` checks every item of a list: `m` is the item in `when`, and the `[]`
    of `field` (`members[].labour_capacity`) becomes the item's index (`members[2]...`)."""

    code: str | None = Field(default=None, pattern=IDENTIFIER)  # default: the rule's id
    title: LocalizedText
    cite: str = Field(pattern=CITATION)
    basis: Basis = "document"
    for_: str | None = Field(default=None, alias="for")
    when: str
    field: str = Field(pattern=r"^[A-Za-z][\w]*(\[\])?(\.[A-Za-z][\w]*(\[\])?)*$")
    note: str | None = None


class CalendarYear(Strict):
    """Days a policy adds or corrects for one year (a newly published State Council schedule)."""

    rest_days: list[date] = []
    working_days: list[date] = []
    source: str | None = None


class CalendarSection(Strict):
    years: dict[int, CalendarYear] = {}


class PolicyDocument(Strict):
    policy: Metadata
    schema_: RecordSchema | None = Field(default=None, alias="schema")
    articles: dict[str, Article] = {}
    vocabularies: dict[str, dict[str, VocabularyEntry]] = {}
    parameters: dict[str, Parameter] = {}
    definitions: dict[str, Definition] = {}
    decisions: dict[str, DecisionSpec] = Field(min_length=1)
    procedure: dict[str, Step] = {}
    warnings: dict[str, WarningRule] = {}
    duties: dict[str, Duty] = {}
    regional_warnings: dict[str, RegionalWarning] = {}
    calendar: CalendarSection = CalendarSection()


def localized(text: LocalizedText | None, lang: str = "zh") -> str | None:
    if text is None or isinstance(text, str):
        return text
    if lang == "en" and text.en:
        return text.en
    return text.zh
