"""The figures an assessment of a county counts (§17), per region and period (a month or a
quarter), each from the engine's decisions on the period's last day:

- `preliminary_review.done` / `.on_time` / `.share`: preliminary reviews done in the period,
  and those within 5 working days (the policy's `preliminary_review` step, §7);
- `verification.done` / `.on_time` / `.share`: verifications done in the period within 1
  month (§7);
- `notice.held` / `.long_enough` / `.share`: public notices ended in the period, and those of
  at least 5 working days (§8);
- `visit.household_quarters` / `.visited` / `.share`: quarters ending in the period owed a visit
  by a monitored household's cadre (from its cases: the policy's `visit` step, §11), and those
  with one;
- `inclusion.monitored` / `.gap` / `.share`: monitored households and those a category applies
  to that are not monitored (应纳尽纳); the share is of all the households that should be;
- `dibao.recommended` / `.gap` / `.share`: households the engine recommends for dibao and those
  not enrolled (应保尽保);
- `elimination.marked` / `.not_eligible` / `.no_labour`: households marked eliminated in the
  period, those the engine would not have let be marked (decided as if still monitored, §9),
  and of these the ones without labour.

A share is the exact quotient of two counts rounded to 4 decimal places (half even), or null
when there is nothing to divide; the counts it comes from are beside it.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from fangpin_rules.engine.regions import AnyPolicy, base_of
from fangpin_rules.population.deciding import Decided, Period, as_date, decided_as_monitored
from fangpin_rules.population.regions import UNKNOWN_REGION, Level, level_of, row_region
from fangpin_rules.population.tables import Figure, Row, Table

_SHARE_PLACES = Decimal("0.0001")

# (share, numerator, denominator)
SHARES = (
    ("preliminary_review.share", "preliminary_review.on_time", "preliminary_review.done"),
    ("verification.share", "verification.on_time", "verification.done"),
    ("notice.share", "notice.long_enough", "notice.held"),
    ("visit.share", "visit.visited", "visit.household_quarters"),
    ("inclusion.share", "inclusion.gap", "inclusion.should_be_monitored"),
    ("dibao.share", "dibao.gap", "dibao.recommended"),
)
COLUMNS = (
    "preliminary_review.done", "preliminary_review.on_time", "preliminary_review.share",
    "verification.done", "verification.on_time", "verification.share",
    "notice.held", "notice.long_enough", "notice.share",
    "visit.household_quarters", "visit.visited", "visit.share",
    "inclusion.monitored", "inclusion.gap", "inclusion.should_be_monitored", "inclusion.share",
    "dibao.recommended", "dibao.gap", "dibao.share",
    "elimination.marked", "elimination.not_eligible", "elimination.no_labour",
)
_COUNTS = tuple(c for c in COLUMNS if not c.endswith(".share"))


def household_assessment(policy: AnyPolicy, decided: Decided, period: Period) -> dict[str, int]:
    """One household's part of the assessment counts."""
    household, decision = decided.household, decided.decision
    status = household.monitoring.status
    out: dict[str, int] = {}

    def add(name: str) -> None:
        out[name] = out.get(name, 0) + 1

    for entry in decision.get("deadlines") or ():
        step, state, done = entry["step"], entry["status"], as_date(entry.get("done"))
        if step in ("preliminary_review", "verification") and period.holds(done):
            add(f"{step}.done")
            if state == "on_time":
                add(f"{step}.on_time")
        elif step.startswith("publicity_") and period.holds(done) and \
                state in ("on_time", "too_short"):
            add("notice.held")
            if state == "on_time":
                add("notice.long_enough")
        elif step.startswith("visit_") and status == "monitored" and \
                period.holds(as_date(entry.get("due"))):
            add("visit.household_quarters")
            if done is not None:
                add("visit.visited")
    if status == "monitored":
        add("inclusion.monitored")
        add("inclusion.should_be_monitored")
    elif status == "none" and decision.get("category") is not None:
        add("inclusion.gap")
        add("inclusion.should_be_monitored")
    if (decision.get("dibao") or {}).get("recommend_enrolment"):
        add("dibao.recommended")
        if household.dibao.enrolled is not True:
            add("dibao.gap")
    if status == "risk_eliminated" and period.holds(as_date(household.monitoring.since)):
        add("elimination.marked")
        elimination = decided_as_monitored(policy, decided, period.last)["risk_elimination"]
        if not elimination["eligible"]:
            add("elimination.not_eligible")
            if elimination["reason"] == "no_labour":
                add("elimination.no_labour")
    return out


def share(numerator: int, denominator: int) -> Decimal | None:
    if denominator == 0:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(_SHARE_PLACES, ROUND_HALF_EVEN)


def _with_shares(counts: dict[str, int]) -> dict[str, Figure]:
    figures: dict[str, Figure] = {name: counts.get(name, 0) for name in _COUNTS}
    for name, numerator, denominator in SHARES:
        figures[name] = share(counts.get(numerator, 0), counts.get(denominator, 0))
    return {name: figures[name] for name in COLUMNS}


def assessment(policy: AnyPolicy, households: Iterable[Decided], period: Period,
               level: Level = "county") -> Table:
    """The assessment of `period` per region at `level` (the county by default)."""
    by_region: dict[str, dict[str, int]] = {}
    total: dict[str, int] = {}
    for decided in households:
        row = by_region.setdefault(row_region(decided.region_code, level), {})
        for name, value in household_assessment(policy, decided, period).items():
            row[name] = row.get(name, 0) + value
            total[name] = total.get(name, 0) + value
    rows = [Row(region, "unknown" if region == UNKNOWN_REGION else level_of(region),
                _with_shares(counts)) for region, counts in sorted(by_region.items())]
    base: Any = base_of(policy)
    return Table(title=f"防返贫监测考核指标 Assessment figures {period.label}", columns=COLUMNS,
                 rows=rows, meta={"report": "assess", "period": period.label,
                                  "as_of": period.last, "level": level, "policy": base.id,
                                  "policy_sha256": base.sha256},
                 total=Row("total", "total", _with_shares(total)))
