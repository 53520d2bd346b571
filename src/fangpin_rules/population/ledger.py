"""The monthly risk-warning ledger (§5 "每月一汇总", §7): per region at the level asked, the
households screened and monitored, what the engine found for them, and the procedure of the
month from the cases.

Every figure is a count of households (or of cases, or of procedure steps), summed from the
decisions of `decide_households`; a region's row is the sum of its households, so rows at one
level add up to the rows of the level above (a household whose code is coarser than the level
asked keeps a row of its own code, and one without a code the row `unknown`).

The figures (column names, in order):

- `screened`: households decided; `monitored`: recorded `monitoring.status` monitored, and
  `monitored.<category>` by their recorded category (the decided one when none is recorded);
- `risk.<risk>`, `measure.<measure>`: monitored households the engine finds with that risk or
  measure (the policy's vocabularies give the columns);
- `newly_identified`: monitored since a day of the month; `eliminated`: marked
  `risk_eliminated` on a day of the month;
- `should_monitor_not_monitored` (应纳未纳): a category applies, the status is none;
  `dibao_not_enrolled` (应保未保): the engine recommends dibao, the household is not enrolled;
- `cases.received` (and `.source.<source>`), `cases.assigned`, `cases.reviewed`,
  `cases.verified`: cases of the region's households with that date in the month;
- `steps.overdue.<article>`: procedure steps overdue at the month's end; `steps.late.<article>`:
  steps done late in the month;
- `warnings.<code>`: the data-consistency warnings (§18) of the month's decisions.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import get_args

from fangpin_rules.engine.regions import AnyPolicy, base_of
from fangpin_rules.model.case import CaseSource
from fangpin_rules.population.deciding import Decided, Period, as_date
from fangpin_rules.population.regions import (
    DIGITS,
    LEVELS,
    UNKNOWN_REGION,
    Level,
    level_of,
    parent,
    row_region,
)
from fangpin_rules.population.tables import Row, Table, summed

CASE_SOURCES: tuple[str, ...] = get_args(CaseSource)
_CASE_STEPS = (("cases.assigned", "assigned_on"), ("cases.reviewed", "preliminary_review_on"),
               ("cases.verified", "verified_on"))


def ledger_columns(policy: AnyPolicy) -> list[str]:
    """The fixed columns of a ledger under `policy` (articles and warning codes are added as
    they occur)."""
    vocabularies = base_of(policy).checked.vocabularies
    labels = {name: list(v.labels) for name, v in vocabularies.items()}
    return ["screened", "monitored",
            *(f"monitored.{c}" for c in labels.get("category", [])),
            *(f"risk.{r}" for r in labels.get("risk", [])),
            *(f"measure.{m}" for m in labels.get("measure", [])),
            "newly_identified", "eliminated", "should_monitor_not_monitored",
            "dibao_not_enrolled", "cases.received",
            *(f"cases.received.source.{s}" for s in CASE_SOURCES),
            *(name for name, _ in _CASE_STEPS)]


def household_figures(decided: Decided, period: Period) -> dict[str, int]:
    """The ledger's counts of one household in `period` (1 per figure it counts in). The
    ledger is the sum of these; the tests sum the decisions independently."""
    household, decision = decided.household, decided.decision
    status = household.monitoring.status
    figures: dict[str, int] = {"screened": 1}
    if status == "monitored":
        figures["monitored"] = 1
        category = household.monitoring.category or decision.get("category")
        if category:
            figures[f"monitored.{category}"] = 1
        for risk in decision.get("risks") or ():
            figures[f"risk.{risk}"] = 1
        for measure in decision.get("measures") or ():
            figures[f"measure.{measure}"] = 1
        if period.holds(as_date(household.monitoring.since)):
            figures["newly_identified"] = 1
    elif status == "risk_eliminated" and period.holds(as_date(household.monitoring.since)):
        figures["eliminated"] = 1
    if status == "none" and decision.get("category") is not None:
        figures["should_monitor_not_monitored"] = 1
    if (decision.get("dibao") or {}).get("recommend_enrolment") and \
            household.dibao.enrolled is not True:
        figures["dibao_not_enrolled"] = 1
    for case in decided.cases:
        if period.holds(as_date(case.received_on)):
            _add(figures, "cases.received")
            _add(figures, f"cases.received.source.{case.source}")
        for name, attribute in _CASE_STEPS:
            if period.holds(as_date(getattr(case, attribute))):
                _add(figures, name)
    for entry in decision.get("deadlines") or ():
        if entry["status"] == "overdue":
            _add(figures, f"steps.overdue.{entry['cite']}")
        elif entry["status"] == "late" and period.holds(as_date(entry.get("done"))):
            _add(figures, f"steps.late.{entry['cite']}")
    for warning in decision.get("warnings") or ():
        _add(figures, f"warnings.{warning['code']}")
    return figures


def _add(figures: dict[str, int], name: str) -> None:
    figures[name] = figures.get(name, 0) + 1


@dataclass
class _Sums:
    by_region: dict[str, dict[str, int]] = field(default_factory=dict)

    def add(self, region: str, figures: dict[str, int]) -> None:
        row = self.by_region.setdefault(region, {})
        for name, value in figures.items():
            row[name] = row.get(name, 0) + value


def monthly_ledger(policy: AnyPolicy, households: Iterable[Decided], period: Period,
                   level: Level = "village") -> Table:
    """The ledger of `period` at `level`, from households decided on its last day
    (`decide_households`). Beside the households' ids (a second record with an id is
    rejected), memory holds the rows of the regions only, not the households."""
    sums = _Sums()
    for decided in households:
        sums.add(row_region(decided.region_code, level), household_figures(decided, period))
    return ledger_table(policy, sums.by_region, period, level)


def ledger_table(policy: AnyPolicy, by_region: dict[str, dict[str, int]], period: Period,
                 level: Level) -> Table:
    fixed = ledger_columns(policy)
    extra = sorted({name for row in by_region.values() for name in row if name not in fixed})
    columns = [*fixed, *extra]
    rows = [Row(region, _level_name(region),
                {column: figures.get(column, 0) for column in columns})
            for region, figures in sorted(by_region.items())]
    base = base_of(policy)
    return Table(title=f"防返贫监测月度台账 Monthly monitoring ledger {period.label}",
                 columns=columns, rows=rows,
                 meta={"report": "ledger", "period": period.label, "as_of": period.last,
                       "level": level, "policy": base.id, "policy_sha256": base.sha256},
                 total=summed(rows, columns, "total", "total"))


def _level_name(region: str) -> str:
    return "unknown" if region == UNKNOWN_REGION else level_of(region)


def roll_up(table: Table, level: Level) -> dict[str, dict[str, int]]:
    """The counts of a ledger's rows summed to the coarser `level` (rows already at or above it
    keep their code): what the ledger at that level must show."""
    digits = DIGITS[level]
    out: dict[str, dict[str, int]] = {}
    for row in table.rows:
        region = row.region
        while region != UNKNOWN_REGION and len(region) > digits:
            region = parent(region) or region
        target = out.setdefault(region, {})
        for name, value in row.figures.items():
            if isinstance(value, int):
                target[name] = target.get(name, 0) + value
    return out


__all__ = ["LEVELS", "household_figures", "ledger_columns", "ledger_table", "monthly_ledger",
           "roll_up"]
