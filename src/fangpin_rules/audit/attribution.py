"""`attribute(old, new, diff, records, as_of)`: which of a diff's changes moved each household.

The impact run decides every household under both versions; for each household decided
differently (an output that reads household fields changed), the old policy is decided again
with some of the diff's edits applied (`audit.variants`). A set of edits *suffices* for a
household when the variant decides every output that changed for it as the new version does.

1. Each edit alone: the edits that suffice alone are the household's attribution (`alone`).
2. Else the edits cumulatively, in the order of the diff: the shortest prefix that suffices is
   reduced, leaving out each of its edits in turn, in the diff's order, whenever the rest still
   suffices (one pass). What remains suffices, and each edit it keeps was needed when its turn
   came (`minimal`); it is the attribution (`combination` when edits were left out,
   `cumulative` when none could be). When the variant budget runs out during the reduction,
   the set reached so far (which suffices) is reported with `minimal: false`.
3. When not even all edits suffice, the attribution is empty (`none`).

Each variant is built and compiled once and shared by all households; at most
`limits.MAX_ATTRIBUTION_VARIANTS` are built. When each edit alone and the prefixes would already
need more, attribution is left out and the report says why. The report keeps counters (per
edit, per combination, per region) and the first `ATTRIBUTION_ROWS_LISTED` households;
`on_household` sees every one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from fangpin_rules.audit.changes import PolicyDiff, as_text
from fangpin_rules.audit.impact import Decided, ImpactReport, compared_outputs, impact, same_output
from fangpin_rules.audit.variants import Edit, VariantLimitError, Variants, edits_of
from fangpin_rules.diagnostics import PolicyError
from fangpin_rules.engine.policy import parse_date
from fangpin_rules.engine.regions import AnyPolicy, RegionalPolicy, base_of
from fangpin_rules.engine.serialize import dumps
from fangpin_rules.limits import (
    ATTRIBUTION_CHART_POINTS,
    ATTRIBUTION_ROWS_LISTED,
    MAX_ATTRIBUTION_VARIANTS,
)

HOW = ("alone", "combination", "cumulative", "none")


@dataclass(frozen=True, slots=True)
class HouseholdAttribution:
    """Why one household is decided differently: the edits that suffice (numbered from 0 in
    the diff's order) and each changed output before and after."""

    household_id: str
    line: int
    region: str | None
    outputs: tuple[tuple[str, Any, Any], ...]  # (output, old value, new value)
    alone: tuple[int, ...]  # the edits that suffice alone
    cumulative: int | None  # how many edits of the diff's order first suffice together
    sufficient: tuple[int, ...]  # the attribution
    how: str  # one of HOW
    items: tuple[str, ...]  # what the sufficient edits change (`parameters.monitoring_line`)
    articles: tuple[str, ...] = ()  # the articles the sufficient edits cite
    minimal: bool = True  # False: the reduction was cut short (the variant budget ran out)

    def to_json(self, numbered_by: str = "line") -> dict[str, Any]:
        """`numbered_by`: the key of the household's number ("row" for a Parquet file's)."""
        return {"household_id": self.household_id, numbered_by: self.line, "region": self.region,
                "how": self.how, "minimal": self.minimal,
                "edits": [i + 1 for i in self.sufficient],
                "items": list(self.items), "articles": list(self.articles),
                "alone": [i + 1 for i in self.alone], "cumulative": self.cumulative,
                "outputs": [{"output": name, "old": old, "new": new}
                            for name, old, new in self.outputs]}


@dataclass
class RegionFigures:
    """Households of one `region_code` (None: records without one)."""

    compared: int = 0
    changed: int = 0
    by_output: Counter[str] = field(default_factory=Counter)
    transitions: dict[str, Counter[tuple[Any, Any]]] = field(default_factory=dict)


@dataclass
class ChartPoint:
    household_id: str
    value: Decimal
    output: str  # the first output that changed
    old: Any
    new: Any


@dataclass
class Attribution:
    """Counts of which edits moved which households, and by region."""

    diff: PolicyDiff
    edits: tuple[Edit, ...]
    skipped: str | None = None  # why attribution was left out, if it was
    households: int = 0  # households attributed (decided differently)
    moved_alone: Counter[int] = field(default_factory=Counter)
    attributed: Counter[int] = field(default_factory=Counter)
    by_combination: Counter[tuple[int, ...]] = field(default_factory=Counter)
    by_how: Counter[str] = field(default_factory=Counter)
    regions: dict[str | None, RegionFigures] = field(default_factory=dict)
    rows: list[HouseholdAttribution] = field(default_factory=list)
    chart_axis: str | None = None  # the numeric output households are drawn along
    chart_lines: list[tuple[str, Decimal | None, Decimal | None]] = field(default_factory=list)
    chart: list[ChartPoint] = field(default_factory=list)
    variants_built: int = 0
    variants_failed: dict[str, str] = field(default_factory=dict)
    numbered_by: str = "line"  # what a household's number counts (ImpactReport.numbered_by)

    def edit_cites(self, index: int) -> list[str]:
        cites: list[str] = []
        for change_index in self.edits[index].changes:
            cite = self.diff.changes[change_index].cite
            for part in (cite or "").replace("，", ",").split(","):
                if part.strip() and part.strip() not in cites:
                    cites.append(part.strip())
        return cites

    def to_json(self) -> dict[str, Any]:
        return {
            "skipped": self.skipped, "households": self.households,
            "edits": [{"edit": i + 1, "item": edit.label,
                       "changes": [c + 1 for c in edit.changes],
                       "articles": self.edit_cites(i),
                       "moved_alone": self.moved_alone.get(i, 0),
                       "attributed": self.attributed.get(i, 0)}
                      for i, edit in enumerate(self.edits)],
            "by_how": {how: self.by_how.get(how, 0) for how in HOW},
            "by_combination": [{"edits": [i + 1 for i in combo], "households": count}
                               for combo, count in sorted(self.by_combination.items())],
            "regions": [{"region": region, "compared": fig.compared, "changed": fig.changed,
                         "by_output": dict(sorted(fig.by_output.items())),
                         "transitions": {
                             name: [{"old": old, "new": new, "households": count}
                                    for (old, new), count in sorted(
                                        table.items(), key=lambda i: (str(i[0][0]),
                                                                      str(i[0][1])))]
                             for name, table in fig.transitions.items()}}
                        for region, fig in sorted(self.regions.items(),
                                                  key=lambda i: i[0] or "")],
            "listed": [row.to_json(self.numbered_by) for row in self.rows],
            "variants": {"built": self.variants_built,
                         "failed": [{"edits": key, "problem": problem}
                                    for key, problem in sorted(self.variants_failed.items())]},
        }


class _Attributor:
    def __init__(self, old: AnyPolicy, new: AnyPolicy, diff: PolicyDiff, when: date,
                 limit: int, on_household: Callable[[HouseholdAttribution], None] | None
                 ) -> None:
        old_base, new_base = base_of(old), base_of(new)
        assert old_base.sourced is not None and new_base.sourced is not None
        self.when = when
        self.edits = edits_of(diff, old_base.sourced.tree, new_base.sourced.tree)
        self.result = Attribution(diff, self.edits)
        self.variants = Variants(old_base, new_base, self.edits, limit=limit)
        # under a region table, each variant is decided with the same table applied to it
        self.table = old if isinstance(old, RegionalPolicy) else None
        self.regional: dict[frozenset[int], RegionalPolicy | None] = {}
        self.outputs, self.kinds = compared_outputs(old_base, new_base)
        self.on_household = on_household
        self.prepared = False
        needed = max(0, 2 * len(self.edits) - 1)
        if needed > limit:
            self.result.skipped = (
                f"attribution left out: the diff's {len(diff)} changes make {len(self.edits)} "
                f"edits, and trying each alone and cumulatively takes {needed} policy "
                f"variants, more than {limit} (limits.MAX_ATTRIBUTION_VARIANTS); compare two "
                "closer versions")

    def __call__(self, decided: Decided) -> None:
        result = self.result
        region = getattr(decided.household, "region_code", None)
        figures = result.regions.setdefault(region, RegionFigures())
        figures.compared += 1
        for name in self.outputs:
            if self.kinds[name] == "first_match":
                table = figures.transitions.setdefault(name, Counter())
                table[(decided.old.get(name), decided.new.get(name))] += 1
        if not decided.changed:
            return
        figures.changed += 1
        figures.by_output.update(decided.changed)
        self._chart(decided)
        if result.skipped is not None:
            return
        row = self._attribute(decided, region)
        result.households += 1
        result.moved_alone.update(row.alone)
        result.attributed.update(row.sufficient)
        result.by_combination[row.sufficient] += 1
        result.by_how[row.how] += 1
        if len(result.rows) < ATTRIBUTION_ROWS_LISTED:
            result.rows.append(row)
        if self.on_household is not None:
            self.on_household(row)

    def _variant(self, subset: Iterable[int]) -> AnyPolicy | None:
        """The old policy with the edits `subset` applied (under the region table when the
        run has one), None when it does not check."""
        key = frozenset(subset)
        policy = self.variants.build(key)
        if policy is None or self.table is None:
            return policy  # type: ignore[no-any-return]
        if key not in self.regional:
            try:
                self.regional[key] = self.table.applied_to(policy)
            except PolicyError as exc:  # a region's value out of the variant's bounds
                self.variants.failed[key] = str(exc)
                self.regional[key] = None
        return self.regional[key]

    def _attribute(self, decided: Decided, region: str | None) -> HouseholdAttribution:
        targets = [(name, decided.new.get(name)) for name in decided.changed]
        n = len(self.edits)

        def suffices(subset: Iterable[int]) -> bool:
            policy = self._variant(subset)
            if policy is None:
                return False
            decision = decided.decide(policy, self.when)
            if decision is None:
                return False
            return all(same_output(self.kinds[name], decision.get(name), value)
                       for name, value in targets)

        if not self.prepared:  # first, what every household may need: the reduction gets the rest
            self.prepared = True
            for k in range(1, n + 1):
                self.variants.build((k - 1,))
                self.variants.build(range(k))
        alone = tuple(i for i in range(n) if suffices((i,)))
        cumulative = next((k for k in range(1, n + 1) if suffices(range(k))), None)
        how, minimal = "none", True
        sufficient: tuple[int, ...] = ()
        if alone:
            how, sufficient = "alone", alone
        elif cumulative is not None:
            found, minimal = self._reduced(tuple(range(cumulative)), suffices)
            how = "combination" if len(found) < cumulative else "cumulative"
            sufficient = found
        result = self.result
        result.variants_built = len(self.variants.built)
        result.variants_failed = {",".join(str(i + 1) for i in sorted(key)): problem
                                  for key, problem in self.variants.failed.items()}
        outputs = tuple((name, decided.old.get(name), decided.new.get(name))
                        for name in decided.changed)
        return HouseholdAttribution(str(decided.household.household_id), decided.line, region,
                                    outputs, alone, cumulative, sufficient, how,
                                    tuple(self.edits[i].label for i in sufficient),
                                    tuple(dict.fromkeys(cite for i in sufficient
                                                        for cite in result.edit_cites(i))),
                                    minimal)

    @staticmethod
    def _reduced(edits: tuple[int, ...], suffices: Callable[[Iterable[int]], bool]
                 ) -> tuple[tuple[int, ...], bool]:
        """`edits` (which suffice) without each edit the others suffice without, tried once each
        in order; and whether every edit was tried (False when the variant budget ran out)."""
        kept = list(edits)
        for edit in edits:
            if len(kept) == 1:
                break
            rest = [e for e in kept if e != edit]
            try:
                if suffices(rest):
                    kept = rest
            except VariantLimitError:
                return tuple(kept), False
        return tuple(kept), True

    def _chart(self, decided: Decided) -> None:
        """The first numeric output that reads household fields is the chart's axis; the
        numeric outputs the same for every household (a line in force) are its lines."""
        result = self.result
        if result.chart_axis is None and not result.chart_lines:
            for name in self.outputs:
                old_value, new_value = decided.old.get(name), decided.new.get(name)
                if self.kinds[name] != "value" or not _numeric(old_value, new_value):
                    continue
                if name in decided.uniform:
                    result.chart_lines.append((name, _number(old_value), _number(new_value)))
                elif result.chart_axis is None:
                    result.chart_axis = name
        axis = result.chart_axis
        if axis is None or len(result.chart) >= ATTRIBUTION_CHART_POINTS:
            return
        value = _number(decided.old.get(axis))
        if value is None:
            return
        first = decided.changed[0]
        result.chart.append(ChartPoint(str(decided.household.household_id), value, first,
                                       decided.old.get(first), decided.new.get(first)))


def _numeric(*values: Any) -> bool:
    return any(isinstance(v, Decimal | int) and not isinstance(v, bool) for v in values)


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        return None
    return Decimal(value)


def attribute(old: AnyPolicy, new: AnyPolicy, diff: PolicyDiff, records: Iterable[Any],
              as_of: date | str, *, limit: int = MAX_ATTRIBUTION_VARIANTS,
              on_household: Callable[[HouseholdAttribution], None] | None = None,
              **impact_options: Any) -> tuple[ImpactReport, Attribution]:
    """`impact(old, new, records, as_of, **impact_options)` with the attribution of every
    household it finds decided differently. `diff` is `diff_policies(old, new)`; both
    policies come from `load_policy` (their located trees are where the variants are built),
    or both are RegionalPolicy of one table (each variant is decided under that table too)."""
    when = parse_date(as_of)
    attributor = _Attributor(old, new, diff, when, limit, on_household)
    seen = impact_options.pop("on_decided", None)

    def observe(decided: Decided) -> None:
        attributor(decided)
        if seen is not None:
            seen(decided)

    report = impact(old, new, records, when, on_decided=observe, **impact_options)
    attributor.result.variants_built = len(attributor.variants.built)
    attributor.result.numbered_by = report.numbered_by
    return report, attributor.result


def shown(value: Any) -> str:
    """An output's value as the tables show it."""
    if isinstance(value, list | tuple | set | frozenset):
        return ", ".join(sorted(shown(v) if isinstance(v, dict) else str(v)
                                for v in value)) or "—"
    if isinstance(value, dict):
        if is_warning(value):
            return f"{value['code']} ({value['field']})"
        return dumps(value)
    text = as_text(value)
    return "—" if text is None else text




def is_warning(value: Any) -> bool:
    """Whether a value is one of a decision's data-consistency warnings."""
    return isinstance(value, dict) and {"code", "field"} <= value.keys()
